"""A station that runs one sync pass of an ERP connection and is killed (SIGKILL) right after the connector
delivered, before the outbox rows are marked sent: ``python -m tests.sync.erp_station URL SCHEMA CODE KIND ADDRESS``
(the secret on standard input). Used by tests/sync/test_erp.py."""

from __future__ import annotations

import os
import signal
import sys


def main(argv: list[str]) -> None:
    url, schema, code, kind, address = argv
    from oms.core.db import Database
    from sync import registry
    from sync.engine import Engine

    secret = sys.stdin.readline().strip()
    connector = registry.spec(kind, "erp").build(code, address, secret, {}, max_attempts=1)

    def die_after(fn):
        def call(*args, **kw):
            fn(*args, **kw)
            os.kill(os.getpid(), signal.SIGKILL)  # delivered; the mark never happens
        return call

    if hasattr(connector, "push_batch"):
        connector.push_batch = die_after(connector.push_batch)
    else:
        connector.push = die_after(connector.push)
    db = Database(url, schema=schema or None)
    Engine(db, {code: connector}).run_once()
    sys.exit("the pass ended without delivering anything")


if __name__ == "__main__":
    main(sys.argv[1:])
