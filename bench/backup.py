"""Backup, check and restore speed of a SQLite station: `python -m bench backup --orders 2000`.

Seeds a demo database (products, stock, orders in every state), then times the online backup (SQLite's backup API,
then `PRAGMA integrity_check` of the copy, then the rename), the start-up `quick_check`, and a checked restore; the
baseline in the same run is a plain file copy of the same database (which would not be safe while it is written).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench backup")
    ap.add_argument("--orders", type=int, default=2000, help="demo orders in the database (default 2000)")
    ap.add_argument("--products", type=int, default=500)
    args = ap.parse_args(argv)

    from oms import seed
    from oms.core import backup
    from oms.core.db import Database

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "station.sqlite3"
        url = f"sqlite:///{path}"
        db = Database(url)
        db.migrate()
        t = time.perf_counter()
        seed.master_data(db, products=args.products)
        seed.demo_orders(db, args.orders)
        print(f"seeded {args.orders} orders over {args.products} products in {time.perf_counter() - t:.1f} s")
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.dispose()
        size = path.stat().st_size / 1_048_576

        t = time.perf_counter()
        shutil.copyfile(path, Path(tmp) / "plain-copy.sqlite3")
        copy = time.perf_counter() - t

        folder = Path(tmp) / "backups"
        t = time.perf_counter()
        report = backup.backup(url, folder)
        made = time.perf_counter() - t

        t = time.perf_counter()
        conn = sqlite3.connect(report.path)
        conn.execute("PRAGMA integrity_check").fetchall()
        conn.close()
        check = time.perf_counter() - t

        t = time.perf_counter()
        assert backup.check_database(url) == []
        quick = time.perf_counter() - t

        t = time.perf_counter()
        backup.restore(url, report.path)
        restored = time.perf_counter() - t

    print(f"database: {size:.1f} MB")
    print(f"backup (backup API + integrity_check of the copy + rename): {_ms(made)}")
    print(f"  of which integrity_check of the copy:                    {_ms(check)}")
    print(f"start-up quick_check:                                      {_ms(quick)}")
    print(f"restore (checks, copy of the current one, backup API in):  {_ms(restored)}")
    print(f"baseline, plain file copy (unsafe while written):          {_ms(copy)}")
    return 0
