"""A 3PL's webhooks: a small loopback-or-LAN HTTP listener that applies a shipment as soon as the 3PL tells of it.

Webhooks are a shortcut, never the truth: one may be lost, repeated or arrive out of order, and the connection's
pull (``ThreePLRestConnector.pull_orders``) reads every shipment again from its cursor. Both go through the same
domain call, which applies a shipment once by the 3PL's own id, so whichever comes first wins and the other
changes nothing. A request is taken only with a valid signature (HMAC-SHA256 of the body under the connection's
token, hex, in ``X-Signature``); anything else is refused and written nowhere.

The standard library's ``http.server`` is enough here: one short POST per shipment, answered at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from oms.core.db import Database

from .rest import apply_shipment_payload

log = logging.getLogger("quayside.threepl")

MAX_BODY = 1_000_000


class WebhookReceiver:
    """Listens on ``host:port`` (0: a free port) for ``POST /threepl/{code}``; ``secrets`` maps each connection's
    code to the token its signatures are made with."""

    def __init__(self, db: Database, secrets: dict[str, str], *, host: str = "127.0.0.1", port: int = 0):
        self.db = db
        self.secrets = dict(secrets)
        self.host, self.port = host, port
        self.received: list[tuple[str, str]] = []  # (code, outcome) for the log and the tests
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, code: str) -> str:
        return f"http://{self.host}:{self.port}/threepl/{code}"

    def start(self) -> "WebhookReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server name
                status, text = receiver.handle(self.path, self.headers.get("X-Signature") or "",
                                               self.rfile.read(min(int(self.headers.get("Content-Length") or 0), MAX_BODY)))
                body = json.dumps({"result": text}).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):
                log.debug("webhook: " + format, *args)

        self._httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.1,), name="threepl-webhooks", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def handle(self, path: str, signature: str, body: bytes) -> tuple[int, str]:
        """(HTTP status, what was done) for one webhook request."""
        prefix = "/threepl/"
        code = path[len(prefix):].strip("/") if path.startswith(prefix) else ""
        secret = self.secrets.get(code)
        if secret is None:
            return 404, "no such connection"
        expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.strip().lower()):
            log.warning("%s: a webhook with a wrong signature was refused", code)
            return 401, "bad signature"
        try:
            event = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 400, "not JSON"
        if not isinstance(event, dict) or event.get("type") != "shipment.created":
            return 202, "ignored"  # other events: the pull reads them
        outcome = apply_shipment_payload(self.db, code, event.get("shipment"))
        self.received.append((code, outcome))
        return 200, outcome
