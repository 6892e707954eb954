"""The warehouse emulator as a person starts it: ``python -m sync.emulators.threepl --port P --time-scale N``; it
takes an order, and ships it by itself after its (scaled) delay, with a carton SSCC and a tracking number."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_emulator_started_from_the_command_line_ships_what_it_is_sent(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sync.emulators.threepl", "--port", str(port), "--token", "tpl_x",
                             "--ack-delay", "60", "--ship-delay", "120", "--time-scale", "120", "--stock", "MUG-RED=5",
                             "--state", str(tmp_path / "wh.json")], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base, auth = f"http://127.0.0.1:{port}", {"Authorization": "Bearer tpl_x"}
        for _ in range(100):
            try:
                requests.get(f"{base}/v1/account", headers=auth, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert requests.get(f"{base}/v1/account", timeout=2).status_code == 401  # no token, no warehouse
        order = {"reference": "#1", "ship_to": {"name": "Ada", "country": "US"},
                 "lines": [{"line_ref": "7", "sku": "MUG-RED", "quantity": 2}]}
        first = requests.post(f"{base}/v1/orders", json=order, headers={**auth, "Idempotency-Key": "k1"}, timeout=2)
        again = requests.post(f"{base}/v1/orders", json=order, headers={**auth, "Idempotency-Key": "k1"}, timeout=2)
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        assert again.headers.get("Idempotent-Replayed") == "true"
        deadline = time.monotonic() + 10
        shipments = []
        while time.monotonic() < deadline and not shipments:  # 120 s of warehouse time is 1 s here
            shipments = requests.get(f"{base}/v1/shipments", headers=auth, timeout=2).json()["shipments"]
            time.sleep(0.2)
        (shp,) = shipments
        assert shp["reference"] == "#1" and shp["tracking_number"] and shp["cartons"][0]["items"][0]["quantity"] == 2
        assert len(shp["cartons"][0]["sscc"]) == 18 and shp["shorts"] == []
        stock = requests.get(f"{base}/v1/inventory", headers=auth, timeout=2).json()["snapshots"]
        assert stock[-1]["sku"] == "MUG-RED" and stock[-1]["on_hand"] == 3
    finally:
        proc.terminate()
        proc.wait(10)
