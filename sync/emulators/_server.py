"""A loopback HTTP server for emulators: routing, JSON in and out, switches that make it misbehave, and a state file.

A remote shop or carrier remembers its orders and labels; an emulator given a
``state_file`` does too, so the demo shop keeps its orders and its numbering across
restarts of the app. The file is rewritten whole after every change, through a
temporary file in the same folder and ``os.replace``: a crash leaves the old file or
the new one, never half of one. (The standard library's ``tempfile`` and
``os.replace`` are all that takes; the state is a few hundred KB at demo scale.)
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import socket
import threading
import tempfile
import time
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)


@dataclass
class Faults:
    """How badly the emulator behaves. Rates are probabilities per call (0..1)."""

    burst_429: int = 0  # the next N calls are answered 429
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_slow: float = 0.0
    slow_seconds: float = 2.0
    rate_drop: float = 0.0  # close the socket without an answer (before or after doing the work)
    rate_malformed: float = 0.0  # a truncated JSON body with status 200
    rate_duplicate_page: float = 0.0  # pagination serves the same page twice
    retry_after: str = "1"

    @classmethod
    def chaos(cls) -> "Faults":
        """The mix behind ``--faults``: a bad day, but one a careful client survives."""
        return cls(rate_429=0.05, rate_5xx=0.05, rate_slow=0.02, slow_seconds=1.0, rate_drop=0.03,
                   rate_malformed=0.03, rate_duplicate_page=0.1)

    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self) if f.name not in ("slow_seconds", "retry_after"))


class HttpError(Exception):
    """Raised by a route to answer with an error status and a JSON body in the API's own shape."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Any  # email.message.Message: case-insensitive get()
    body: bytes
    match: re.Match | None = None

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise HttpError(400, {"errors": "The request body is not valid JSON"}) from None


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str sent as they are
    headers: dict[str, str] | None = None
    content_type: str = "application/json; charset=utf-8"
    faultable: bool = True  # False for file downloads the malformed-body fault must not touch


Route = Callable[[Request], Response | Any]


class EmulatorServer:
    """ThreadingHTTPServer on 127.0.0.1; port 0 picks a free port. ``start()``/``stop()`` or ``with``."""

    name = "emulator"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, seed: int | None = None,
                 clock: Callable[[], float] | None = None, faults: Faults | None = None,
                 state_file: str | Path | None = None):
        self.host, self.port = host, port
        self.state_file = Path(state_file) if state_file else None
        self.rng = random.Random(seed)
        self.clock = clock or time.monotonic  # for rate limits; tests pass a fake one
        self.faults = faults or Faults()
        self.lock = threading.RLock()
        self.time_offset = timedelta(0)
        self.calls: list[tuple[str, str, int]] = []  # (method, path, status) for tests
        self._routes: list[tuple[str, re.Pattern, Route, bool]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._live: set[socket.socket] = set()
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> "EmulatorServer":
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator
        self._httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name=f"{self.name}-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop as a network outage would: no new connections, and the kept-alive ones cut."""
        if self._httpd:
            self._httpd.shutdown()
            with self.lock:
                live, self._live = list(self._live), set()
            for conn in live:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._httpd.server_close()
            self._httpd = None
        if self._thread:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """For the command line: start and block until Ctrl+C."""
        self.start()
        print(f"{self.name} emulator listening on {self.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- state kept across restarts ------------------------------------------------------------------

    def state(self) -> dict:
        """What this emulator must remember across a restart, as JSON-ready data; subclasses fill it."""
        return {}

    def restore(self, state: dict) -> None:
        """Take back what ``state()`` returned."""

    def load(self) -> bool:
        """Read the state file, when there is one; False when there is nothing to read (a new emulator).

        An unreadable file is set aside (renamed ``.unreadable``) rather than served half-way.
        """
        if self.state_file is None or not self.state_file.exists():
            return False
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            with self.lock:
                self.restore(data)
            return True
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("%s: state file %s unreadable (%s); starting empty", self.name, self.state_file, exc)
            try:
                os.replace(self.state_file, self.state_file.with_suffix(".unreadable"))
            except OSError:
                pass
            return False

    def save(self) -> None:
        """Write the state file whole and atomically (no-op without a state file)."""
        if self.state_file is None:
            return
        with self.lock:
            payload = json.dumps(self.state(), separators=(",", ":"))
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=self.state_file.name + ".", suffix=".tmp", dir=self.state_file.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(payload)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.state_file)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise

    # -- test switches --------------------------------------------------------------------------

    def set_faults(self, **switches) -> None:
        with self.lock:
            for key, value in switches.items():
                if not hasattr(self.faults, key):
                    raise AttributeError(f"no fault switch {key!r}")
                setattr(self.faults, key, value)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults = Faults()

    def now(self) -> datetime:
        """The emulator's wall clock (UTC, whole seconds as the APIs print them), movable by ``advance``."""
        return (datetime.now(timezone.utc) + self.time_offset).replace(microsecond=0)

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.time_offset += timedelta(seconds=seconds)

    # -- routing ------------------------------------------------------------------------------

    def route(self, method: str, pattern: str, fn: Route, *, faults: bool = True) -> None:
        self._routes.append((method.upper(), re.compile(pattern + r"\Z"), fn, faults))

    def check(self, req: Request) -> Response | None:
        """Hook before a route runs (auth, rate limits); return a Response to answer instead."""
        return None

    def decorate(self, req: Request, resp: Response) -> None:
        """Hook to add headers to every answer."""

    def error_body(self, status: int, message: str) -> Any:
        return {"errors": message}

    def roll(self, rate: float) -> bool:
        with self.lock:
            return rate > 0 and self.rng.random() < rate

    # -- dispatch -------------------------------------------------------------------------------

    def _dispatch(self, h: "_Handler") -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        req = Request(h.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)), h.headers, body)
        found = None
        allowed = False
        for method, pattern, fn, faultable in self._routes:
            m = pattern.match(parts.path)
            if m:
                allowed = True
                if method == req.method:
                    found = (fn, faultable)
                    req.match = m
                    break
        if found is None:
            status = 405 if allowed else 404
            return self._write(h, req, Response(status, self.error_body(status, "Not Found" if status == 404 else "Method Not Allowed")))
        fn, faultable = found
        f = self.faults
        drop_after = False
        if faultable:
            with self.lock:
                if f.burst_429 > 0:
                    f.burst_429 -= 1
                    return self._write(h, req, Response(429, self.error_body(429, "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."),
                                                        {"Retry-After": f.retry_after}))
            if self.roll(f.rate_429):
                return self._write(h, req, Response(429, self.error_body(429, "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."),
                                                    {"Retry-After": f.retry_after}))
            if self.roll(f.rate_5xx):
                status = self.rng.choice([500, 502, 503, 504])
                return self._write(h, req, Response(status, f"<html><body><h1>{status}</h1>upstream trouble</body></html>",
                                                    content_type="text/html"))
            if self.roll(f.rate_slow):
                time.sleep(f.slow_seconds)
            if self.roll(f.rate_drop):
                if self.rng.random() < 0.5:
                    return self._drop(h, req)
                drop_after = True
        pre = self.check(req)
        if pre is not None:
            return self._write(h, req, pre)
        try:
            with self.lock:
                result = fn(req)
                resp = result if isinstance(result, Response) else Response(200, result)
                if not isinstance(resp.body, (bytes, str, type(None))):
                    resp.body = _encode(resp)[0]  # serialise under the lock: the store may change next
                if req.method not in ("GET", "HEAD") and resp.status < 400:
                    self.save()  # before the answer: what the client was told is on disk
        except HttpError as exc:
            resp = Response(exc.status, exc.body, exc.headers)
        except Exception:  # an emulator bug must show up as a 500, not a hung client
            log.exception("%s emulator failed on %s %s", self.name, req.method, req.path)
            resp = Response(500, self.error_body(500, "Internal Server Error"))
        if drop_after:
            return self._drop(h, req)
        if faultable and resp.faultable and resp.status < 300 and self.roll(f.rate_malformed):
            raw = _encode(resp)[0]
            resp = Response(resp.status, raw[: max(1, len(raw) // 2)], resp.headers, resp.content_type)
        self._write(h, req, resp)

    def _drop(self, h: "_Handler", req: Request) -> None:
        with self.lock:
            self.calls.append((req.method, req.path, 0))
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _write(self, h: "_Handler", req: Request, resp: Response) -> None:
        self.decorate(req, resp)
        payload, ctype = _encode(resp)
        with self.lock:
            self.calls.append((req.method, req.path, resp.status))
        h.send_response(resp.status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(payload)))
        for key, value in (resp.headers or {}).items():
            h.send_header(key, value)
        h.end_headers()
        if req.method != "HEAD":
            h.wfile.write(payload)


def _encode(resp: Response) -> tuple[bytes, str]:
    body = resp.body
    if isinstance(body, bytes):
        return body, resp.content_type
    if isinstance(body, str):
        return body.encode("utf-8"), resp.content_type
    if body is None:
        return b"", resp.content_type
    return json.dumps(body).encode("utf-8"), resp.content_type


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emulator: EmulatorServer

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without this, Nagle plus delayed ACK adds ~40 ms a call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.emulator.lock:
            self.emulator._live.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            with self.emulator.lock:
                self.emulator._live.discard(self.connection)

    def _any(self):
        try:
            self.emulator._dispatch(self)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test); nothing to answer
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any

    def log_message(self, format, *args):  # keep test output clean; requests are in emulator.calls
        log.debug("%s: " + format, self.emulator.name, *args)


def parse_time(value: str) -> datetime:
    """ISO 8601 with offset or Z, as the APIs print it."""
    dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeClock:
    """Shared pretend time for tests: the client's ``sleep`` moves the emulator's rate-limit clock."""

    def __init__(self, start: float = 1_000.0):
        self.t = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.t += max(0.0, seconds)
