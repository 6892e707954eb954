"""An invariant of the change log, whatever the mix of writes: a station reads exactly the tables that others
committed, never one of a rolled-back write, never its own ``Database.run`` writes (its screens had those)."""

from __future__ import annotations

import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from oms.catalog.models import Product
from oms.core.changes import changes_after, newest_logged
from oms.core.db import Database
from oms.inventory.models import Location
from oms.orders.models import Channel

TABLES = {"channel": Channel, "location": Location, "product": Product}

writes = st.lists(st.tuples(st.sampled_from(["run", "write", "rolled back"]),
                            st.sets(st.sampled_from(sorted(TABLES)), min_size=1)), max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes)
def test_a_station_reads_what_others_committed_and_nothing_else(tmp_path, _sqlite_template, steps):
    path = tmp_path / "prop.sqlite3"
    shutil.copy(_sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    try:
        with db.engine.connect() as conn:
            start = newest_logged(conn)
        expected: set[str] = set()

        def touch(session, tables):
            for t in tables:  # an UPDATE of no row still writes the table, as the engine sees it
                session.execute(update(TABLES[t]).where(TABLES[t].id == -1).values(id=-1))

        for how, tables in steps:
            if how == "run":
                db.run(lambda s: touch(s, tables))
            elif how == "write":
                with db.write() as s:
                    touch(s, tables)
                expected |= tables
            else:
                session = db.session()
                touch(session, tables)
                session.rollback()
                session.close()
        with db.engine.connect() as conn:
            found = changes_after(conn, start, skip_origin=db.origin)
        assert set(found.changes.tables) == expected
    finally:
        db.dispose()
