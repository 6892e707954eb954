"""An ERP's webhook receiver on loopback: checks each POST's HMAC-SHA256 signature, keeps each record once by its
Idempotency-Key, and serves what it got back on GET (for tests and for watching the demo).

POST <any path>: the body must be signed (``X-Quayside-Signature: sha256=<hex>`` over the exact body bytes with
the shared secret); a bad or missing signature is 401, a body that is not a JSON record 400. A new key is stored
and answered 201 ``{"status": "stored"}``; a key it has seen is answered 200 ``{"status": "duplicate"}`` and not
stored again. A signed ``{"ping": true}`` (the connection test) is answered 200 and stored nowhere.
GET <any path>: ``{"records": [...], "posts": n, "duplicates": n, "refused": n}``.

Faults: ``--faults`` adds the shared chaos (5xx, dropped and slow calls); ``fail_after_store`` (a test switch)
stores the next N records and then answers 503, as a receiver whose gateway timed out after its work was done.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac

from ._server import EmulatorServer, Faults, HttpError, Request, Response

SIGNATURE_HEADER = "X-Quayside-Signature"


class ErpWebhookEmulator(EmulatorServer):
    name = "erp-webhook"

    def __init__(self, *, secret: str, **kw):
        super().__init__(**kw)
        self.secret = secret
        self.records: list[dict] = []
        self.keys: set[str] = set()
        self.posts = self.duplicates = self.refused = 0
        self.fail_after_store = 0
        self.route("POST", r"/[A-Za-z0-9/_.-]*", self._post)
        self.route("GET", r"/[A-Za-z0-9/_.-]*", self._get, faults=False)

    def state(self) -> dict:
        return {"records": self.records}

    def restore(self, state: dict) -> None:
        self.records = list(state["records"])
        self.keys = {r["idempotency_key"] for r in self.records}

    def error_body(self, status: int, message: str):
        return {"error": message}

    def _post(self, req: Request) -> Response:
        given = req.headers.get(SIGNATURE_HEADER) or ""
        expected = "sha256=" + hmac.new(self.secret.encode("utf-8"), req.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            with self.lock:
                self.refused += 1
            raise HttpError(401, {"error": "signature does not match the body"})
        body = req.json()
        if body == {"ping": True}:
            return Response(200, {"status": "pong"})
        key = req.headers.get("Idempotency-Key") or ""
        if not key or not isinstance(body, dict) or not {"id", "topic", "data"} <= set(body) or body["id"] != key:
            raise HttpError(400, {"error": "a record is {id, topic, data} with its id as the Idempotency-Key"})
        with self.lock:
            self.posts += 1
            if key in self.keys:
                self.duplicates += 1
                return Response(200, {"status": "duplicate", "id": key})
            self.keys.add(key)
            self.records.append({"idempotency_key": key, "topic": body["topic"], "data": body["data"],
                                 "received_at": self.now().isoformat()})
            fail = self.fail_after_store > 0
            if fail:
                self.fail_after_store -= 1
        self.save()
        if fail:
            return Response(503, "<html><body>503 gateway timeout</body></html>", content_type="text/html")
        return Response(201, {"status": "stored", "id": key})

    def _get(self, _req: Request) -> Response:
        with self.lock:
            return Response(200, {"records": list(self.records), "posts": self.posts, "duplicates": self.duplicates,
                                  "refused": self.refused})


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sync.emulators.erp_webhook",
                                description="An ERP's webhook receiver on loopback: checks signatures, dedupes by key.")
    p.add_argument("--port", type=int, default=8805)
    p.add_argument("--secret", default="erp-shared-secret", help="the shared signing secret")
    p.add_argument("--faults", action="store_true", help="misbehave: 5xx, slow and dropped calls")
    p.add_argument("--state", metavar="FILE", help="keep the records in FILE across restarts")
    args = p.parse_args(argv)
    faults = Faults(rate_5xx=0.1, rate_slow=0.02, slow_seconds=1.0, rate_drop=0.05) if args.faults else None
    emu = ErpWebhookEmulator(port=args.port, secret=args.secret, faults=faults, state_file=args.state)
    emu.load()
    print(f"endpoint: http://127.0.0.1:{args.port}/hooks/quayside  (records: GET the same URL)", flush=True)
    emu.serve_forever()


if __name__ == "__main__":
    main()
