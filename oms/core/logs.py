"""The station's log: rotating files in the user's log folder, with secrets taken out before a line is written.

Decisions worth knowing:

- The standard library's ``RotatingFileHandler`` (1 MB a file, 5 old files kept) in platformdirs' user log folder;
  no logging library beyond it, since nothing here needs more than a file that does not grow without end.
- Secrets are removed twice over: by shape (an ``Authorization`` header, ``token=…``, a password in a URL, the
  prefixes of the tokens our connectors use) and by value (every token the credential store hands out in this
  process is remembered, so a token logged by accident in a form no pattern knows is still taken out). The
  formatter redacts the whole formatted record, traceback included, so nothing reaches the file first.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Iterable

LOG_NAME = "quayside.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
REDACTED = "[redacted]"
# The loggers of our own code; third-party libraries reach the file from WARNING up, through the root logger.
OUR_LOGGERS = ("quayside", "oms", "sync", "desktop")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer abc / Basic abc / Token abc
    (re.compile(r"(?i)(\bauthorization\b[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token)?\s*)([^\s\"',;]+)"), r"\1" + REDACTED),
    # token=…, "password": "…", X-Shopify-Access-Token: …, api_key=…, pin=…
    (re.compile(r"(?i)(\b[\w-]*(?:token|secret|password|passwd|passphrase|api[_-]?key|apikey|pin)\b[\"']?\s*[:=]\s*[\"']?)"
                r"([^\s\"',;&}]+)"), r"\1" + REDACTED),
    # scheme://user:password@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)([^@\s/]+)(@)"), r"\1" + REDACTED + r"\3"),
    # token shapes of the services we talk to: Shopify (shpat_/shpca_/shppa_/shpss_), EasyPost (EZAK/EZTK), Stripe-like
    (re.compile(r"\b(?:shp(?:at|ca|pa|ss)_[0-9A-Za-z]{8,}|EZ[AT]K[0-9A-Za-z]{16,}|[sr]k_(?:live|test)_[0-9A-Za-z]{8,})\b"),
     REDACTED),
)

_known: set[str] = set()
_known_lock = threading.Lock()
MIN_SECRET_LENGTH = 4  # shorter values would take out ordinary words; no token or password we accept is that short


def remember_secret(value: str | None) -> None:
    """A secret this process holds: taken out of every log line and of the diagnostics from now on."""
    if value and len(value.strip()) >= MIN_SECRET_LENGTH:
        with _known_lock:
            _known.add(value.strip())


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret taken out: the ones given, the ones remembered, and anything shaped like one."""
    with _known_lock:
        values = set(_known)
    values.update(s.strip() for s in secrets if s and len(s.strip()) >= MIN_SECRET_LENGTH)
    for value in sorted(values, key=len, reverse=True):  # a longer secret first, in case one contains another
        text = text.replace(value, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def log_dir() -> Path:
    override = os.environ.get("OMS_LOG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_log_dir

    return Path(user_log_dir("Quayside", "Quayside"))


def log_path() -> Path:
    return log_dir() / LOG_NAME


class _StationLog(RotatingFileHandler):
    """Marks our handler, so a second ``setup`` (a journey's next start, another folder) replaces it."""


def setup(level: int = logging.INFO) -> Path | None:
    """Send our loggers' records, and every warning, to the rotating log file; returns its path, or None when the
    log folder cannot be written (Quayside runs on without a log file rather than not at all)."""
    path = log_path()
    root = logging.getLogger()
    for h in list(root.handlers):
        if isinstance(h, _StationLog):  # a new handler each time: the file may have been moved away meanwhile
            root.removeHandler(h)
            h.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(path.parent, os.W_OK):
            raise PermissionError(f"{path.parent} is not writable")
    except OSError as exc:
        import sys

        print(f"Quayside keeps no log file: {exc}", file=sys.stderr)
        return None
    handler = _StationLog(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True)
    handler.setLevel(level)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
    root.addHandler(handler)
    for name in OUR_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(level)
    return path


def tail(lines: int = 200, path: Path | None = None) -> list[str]:
    """The last ``lines`` lines of the log, reaching into the rotated files when the current one is short."""
    path = path or log_path()
    files = [path] + [path.with_name(f"{path.name}.{i}") for i in range(1, BACKUPS + 1)]
    out: list[str] = []
    for f in files:
        if len(out) >= lines:
            break
        try:
            text = f.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        out = text.splitlines()[-(lines - len(out)):] + out
    return out[-lines:]
