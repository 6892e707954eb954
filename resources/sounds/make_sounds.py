"""Writes the scan feedback sounds: success.wav (a two-note chime) and error.wav (a harsh buzz).

Run `python resources/sounds/make_sounds.py`; the output is deterministic, so the
committed files change only when this script does.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path
from typing import Callable

RATE = 44_100
HERE = Path(__file__).resolve().parent


def _envelope(t: float, length: float, attack: float, release: float) -> float:
    # Short linear ramps at both ends avoid clicks when playback starts and stops.
    return min(1.0, t / attack, (length - t) / release) if 0.0 <= t <= length else 0.0


def _bell(freq: float, start: float, length: float) -> Callable[[float], float]:
    def voice(t: float) -> float:
        t -= start
        if t < 0.0 or t > length:
            return 0.0
        decay = math.exp(-t * 9.0)
        tone = math.sin(2 * math.pi * freq * t) + 0.25 * math.sin(2 * math.pi * 2 * freq * t)
        return tone * decay * _envelope(t, length, 0.004, 0.02)

    return voice


def chime(t: float) -> float:
    # A rising major third (C6 to E6): reads as "done" without being shrill.
    return 0.45 * (_bell(1046.5, 0.0, 0.30)(t) + _bell(1318.5, 0.08, 0.22)(t))


def buzz(t: float) -> float:
    # Two detuned low square waves beat against each other: unmistakably "wrong".
    length = 0.36
    square = sum(1.0 if math.sin(2 * math.pi * f * t) >= 0 else -1.0 for f in (146.0, 155.0)) / 2
    gate = 1.0 if (t % 0.12) < 0.09 else 0.25  # three pulses
    return 0.55 * square * gate * _envelope(t, length, 0.005, 0.02)


def write(path: Path, signal: Callable[[float], float], seconds: float) -> None:
    frames = bytearray()
    for i in range(int(RATE * seconds)):
        sample = max(-1.0, min(1.0, signal(i / RATE)))
        frames += struct.pack("<h", int(sample * 32767))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))


def main() -> None:
    write(HERE / "success.wav", chime, 0.30)
    write(HERE / "error.wav", buzz, 0.36)


if __name__ == "__main__":
    main()
