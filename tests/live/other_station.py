"""Another station, as a process of its own: one change through the domain services, then it exits.

    python tests/live/other_station.py URL SCHEMA ACTION ORDER_ID REASON

SCHEMA is "-" for none; ACTION is hold, cancel or reroute. It prints the time of its commit (time.time()). The tests of the change feed run it while a
station (a feed, or the real window) watches the same database.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from oms import fulfilment, orders  # noqa: E402
from oms.core.audit import Actor  # noqa: E402
from oms.core.db import Database  # noqa: E402

CUSTOMER_SERVICE = Actor("cs-agent", "desk-2")


def main(url: str, schema: str, action: str, order_id: str, reason: str) -> int:
    db = Database(url, schema=None if schema == "-" else schema)
    oid = int(order_id)
    with db.write() as s:
        if action == "hold":
            orders.hold(s, CUSTOMER_SERVICE, oid, reason)
        elif action == "cancel":
            orders.cancel_order(s, CUSTOMER_SERVICE, oid, reason=reason)
        elif action == "reroute":
            fulfilment.reroute_order(s, CUSTOMER_SERVICE, oid, reason=reason)
        else:
            raise SystemExit(f"unknown action {action}")
    print(time.time(), flush=True)  # committed: the watching station measures from here
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
