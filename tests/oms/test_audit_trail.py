"""The audit trail cannot be rewritten: the database refuses UPDATE and DELETE on it (SQLite and PostgreSQL), and
the hash chain lets ``check`` find an event edited, removed or slipped in by someone who went around the triggers."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DatabaseError

from oms import check, inventory
from oms.core import audit
from oms.core.audit import Actor
from oms.core.models import AuditChain, AuditEvent
from oms.core.types import at_time


REFUSED = "append-only"


def _events(db, n=5):
    with db.write() as s:
        for i in range(n):
            audit.record(s, Actor(f"user{i % 2}", "st-1"), "test.done", "thing", i, summary=f"event {i} ✓",
                         before={"n": i}, after={"n": i + 1, "note": "é"}, order_id=i)


def test_the_database_refuses_to_change_or_delete_an_event(db):
    _events(db)
    for statement in (update(AuditEvent).values(summary="nothing happened"), delete(AuditEvent),
                      update(AuditEvent).values(user="someone else")):
        with pytest.raises(DatabaseError, match=REFUSED):
            with db.write() as s:
                s.execute(statement)
    with db.write() as s:
        assert audit.seal(s) == 5
    with pytest.raises(DatabaseError, match=REFUSED):  # a sealed event cannot be sealed again either
        with db.write() as s:
            s.execute(update(AuditEvent).values(hash="0" * 64))
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 5
        assert set(s.scalars(select(AuditEvent.summary))) == {f"event {i} ✓" for i in range(5)}


@pytest.mark.postgres
def test_postgres_refuses_truncate_and_a_plain_role_cannot_go_around_it(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    _events(db)
    with pytest.raises(DatabaseError, match=REFUSED):
        with db.write() as s:
            s.execute(text("TRUNCATE audit_event"))
    role = f"qs_app_{uuid.uuid4().hex[:8]}"
    with db.engine.begin() as conn:
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        conn.execute(text(f'CREATE ROLE "{role}" NOLOGIN'))
        current = conn.execute(text("SELECT current_schema()")).scalar()
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{current}" TO "{role}"'))
        conn.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON audit_event TO "{role}"'))
    try:
        with db.engine.connect() as conn:
            conn.execute(text(f'SET ROLE "{role}"'))
            # The application's role cannot switch the trigger off: only a superuser may.
            with pytest.raises(DatabaseError):
                conn.execute(text("SET session_replication_role = replica"))
            conn.rollback()
            conn.execute(text(f'SET ROLE "{role}"'))
            with pytest.raises(DatabaseError, match=REFUSED):
                conn.execute(text("DELETE FROM audit_event"))
            conn.rollback()
    finally:
        with db.engine.begin() as conn:
            conn.execute(text(f'REVOKE ALL ON audit_event FROM "{role}"'))
            conn.execute(text(f'REVOKE ALL ON SCHEMA "{current}" FROM "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))


def _around_the_triggers(db, statement):
    """What someone with the database file (or a superuser) could do: the triggers set aside."""
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(statement)
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_event_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
            conn.execute(statement)


def _sealed(db):
    with db.write() as s:
        audit.seal(s)
    with db.read() as s:
        return check.run(s)


def test_the_chain_is_whole_and_grows(db):
    _events(db, 3)
    assert _sealed(db) == []
    _events(db, 4)
    assert _sealed(db) == []
    with db.read() as s:
        rows = s.execute(select(AuditEvent.chain_seq, AuditEvent.prev_hash, AuditEvent.hash).order_by(AuditEvent.chain_seq)).all()
        head = s.get(AuditChain, 1)
    assert [r.chain_seq for r in rows] == list(range(1, 8))
    assert all(r.prev_hash == p.hash for p, r in zip(rows, rows[1:])) and rows[0].prev_hash == ""
    assert (head.last_seq, head.last_hash) == (7, rows[-1].hash)


@pytest.mark.parametrize("tamper, finding", [
    (lambda: update(AuditEvent).where(AuditEvent.id == 3).values(summary="event 3 never happened"),
     "event 3 (test.done by user0) was changed after it was written"),
    (lambda: update(AuditEvent).where(AuditEvent.id == 2).values(after={"n": 99}), "event 2 (test.done by user1) was changed"),
    (lambda: delete(AuditEvent).where(AuditEvent.id == 3), "1 event(s) missing before event 4"),
    (lambda: delete(AuditEvent).where(AuditEvent.id == 5), "the last 1 event(s) of the chain are missing"),
])
def test_check_finds_a_tampered_trail(db, tamper, finding):
    _events(db, 5)
    assert _sealed(db) == []
    _around_the_triggers(db, tamper())
    findings = _sealed(db)
    assert [f.kind for f in findings] == ["audit"]
    assert finding in findings[0].message


def test_an_event_slipped_into_the_chain_is_found(db):
    _events(db, 3)
    assert _sealed(db) == []
    _around_the_triggers(db, update(AuditEvent).where(AuditEvent.id == 2).values(prev_hash="f" * 64))
    assert "event 2 does not follow the event before it" in _sealed(db)[0].message


def test_trail_filters_by_user_action_order_and_time(db):
    base = datetime(2026, 11, 1, 9, tzinfo=timezone.utc)
    with db.write() as s:
        for i, (who, action) in enumerate([("maria", "order.held"), ("tom", "stock.adjust"), ("maria", "order.cancelled"),
                                           ("maria", "orderly.thing")]):
            with at_time(base + timedelta(days=i)):
                audit.record(s, Actor(who, "st"), action, "order", i, order_id=100 + i, summary=f"#{i}")
    with db.read() as s:
        assert [e.summary for e in audit.trail(s, user="Maria")] == ["#3", "#2", "#0"]
        assert [e.summary for e in audit.trail(s, action="order")] == ["#2", "#0"]  # the family, not "orderly"
        assert [e.summary for e in audit.trail(s, action="stock.adjust")] == ["#1"]
        assert [e.summary for e in audit.trail(s, since=base + timedelta(days=1), until=base + timedelta(days=3))] == ["#2", "#1"]
        assert [e.summary for e in audit.trail(s, order_id=102)] == ["#2"]
        assert audit.trail(s, action="%") == []


def test_stock_adjust_says_who(world):
    with world.write() as s:
        inventory.adjust(s, Actor("tom", "rno-1", "supervisor", "Tom"), "MUG-RED", "RNO", 4, "found on the floor")
    with world.read() as s:
        (e,) = audit.trail(s, action="stock.adjust")
    assert (e.user, e.station, e.after) == ("tom", "rno-1", {"on_hand": 4, "reason": "found on the floor"})


def test_stations_writing_and_sealing_at_once_keep_one_whole_chain(db):
    """Four stations each write events and seal, at the same moment: every event is chained once, in one chain."""
    import threading

    from oms.core.db import Database

    url = db.engine.url.render_as_string(hide_password=False)
    schema = getattr(db, "schema", None)
    errors: list[str] = []
    start = threading.Barrier(4)

    def station(n: int) -> None:
        own = Database(url, schema=schema) if schema else Database(url)
        try:
            start.wait()
            for i in range(15):
                with own.write() as s:
                    audit.record(s, Actor(f"worker{n}", f"st-{n}"), "test.done", "thing", i, summary=f"{n}/{i}")
                if i % 4 == 0:
                    with own.write() as s:
                        audit.seal(s)
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(repr(exc))
        finally:
            own.dispose()

    threads = [threading.Thread(target=station, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert _sealed(db) == []
    with db.read() as s:
        seqs = sorted(s.scalars(select(AuditEvent.chain_seq)))
    assert seqs == list(range(1, 61))
