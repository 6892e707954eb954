"""Users, roles and permissions: sign-in by password and by badge and PIN, lockout, rehashing, and the services
refusing what a role may not do, with a message naming the permission and who may (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from oms import fulfilment, inventory, orders, routing, users
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotPermitted
from oms.core.models import AuditEvent
from oms.core.types import at_time, utcnow
from oms.integration import sync_store
from oms.routing import restock
from oms.shipping.shipments import PackageSpec
from oms.users import passwords
from oms.users.models import User
from oms.users.permissions import PERMISSIONS, ROLES
from tests.conftest import ACTOR
from tests.oms.test_fulfilment import floor, pick_all, place  # noqa: F401 - the fixture

ADMIN_PW = "correct horse battery"


@pytest.fixture(autouse=True)
def quick_hashes():
    """Real argon2id, with small parameters so each hash takes milliseconds (the default takes ~0.2 s)."""
    before = passwords.parameters()
    passwords.use_parameters(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords.use_parameters(**before)


def _people(db):
    with db.write() as s:
        users.add_user(s, ACTOR, "ada", "Ada Admin", "admin", password=ADMIN_PW)
        users.add_user(s, ACTOR, "maria", "Maria", "packer", password="packer pass 1", pin="4321")
        users.add_user(s, ACTOR, "tom", "Tom", "supervisor", pin="1234", password="supervisor pw")
        users.add_user(s, ACTOR, "rita", "Rita", "supervisor", pin="5555", locations=["EWR"])
        users.add_user(s, ACTOR, "priya", "Priya", "customer_service", password="service pass")
    with db.read() as s:
        return {u.username: u for u in users.list_users(s)}


def _signed_in(db, username, password):
    with db.write() as s:
        result = users.sign_in(s, username, password, "pack-1")
    assert result.ok, result.message
    return result.actor


def test_password_and_badge_sign_in(db):
    people = _people(db)
    maria = _signed_in(db, "Maria", "packer pass 1")
    assert (maria.user, maria.role, maria.station, maria.label) == ("maria", "packer", "pack-1", "Maria (packer)")
    with db.write() as s:
        badge = users.sign_in_badge(s, people["maria"].badge_code, "4321", "pack-2")
        assert badge.ok and badge.actor.user == "maria" and badge.actor.station == "pack-2"
        assert users.identify_badge(s, people["maria"].badge_code.lower()) == "Maria"
        wrong = users.sign_in_badge(s, people["maria"].badge_code, "9999", "pack-2")
        assert not wrong.ok and wrong.message == "The badge or PIN is not right."
        assert users.sign_in(s, "nobody", "x", "pack-2").message == "The user name or password is not right."
    with db.read() as s:
        stored = s.scalar(select(User).where(User.username == "maria"))
        assert stored.password_hash.startswith("$argon2id$v=19$m=1024,t=1,p=1$")  # the parameters beside the hash
        assert "packer pass 1" not in stored.password_hash and "4321" not in stored.pin_hash
        events = s.execute(select(AuditEvent.user, AuditEvent.station, AuditEvent.action)
                           .where(AuditEvent.action.like("user.sign%")).order_by(AuditEvent.id)).all()
    assert ("maria", "pack-1", "user.signed_in") in events and ("maria", "pack-2", "user.sign_in_failed") in events


def test_lockout_grows_and_an_admin_unlocks(db):
    _people(db)
    start = utcnow()
    with db.write() as s, at_time(start):
        messages = [users.sign_in(s, "maria", "wrong", "pack-1").message for _i in range(users.directory.FREE_FAILURES)]
    assert messages[-1] == "Too many wrong attempts: Maria can try again in 30 seconds."
    with db.write() as s, at_time(start + timedelta(seconds=10)):
        refused = users.sign_in(s, "maria", "packer pass 1", "pack-1")  # the right password, too early
        assert not refused.ok and "can try again in 20 seconds" in refused.message
    with db.write() as s, at_time(start + timedelta(seconds=31)):
        again = users.sign_in(s, "maria", "wrong", "pack-1")
        assert again.message == "Too many wrong attempts: Maria can try again in 60 seconds."  # the delay doubles
    assert [users.lockout_delay(n) for n in (1, 4, 5, 6, 7, 30)] == [0, 0, 30, 60, 120, 3600]
    admin = _signed_in(db, "ada", ADMIN_PW)
    with db.write() as s:
        users.unlock_user(s, admin, "maria")
    assert _signed_in(db, "maria", "packer pass 1").user == "maria"
    with db.write() as s:
        users.lock_user(s, admin, "maria")
    with db.write() as s:
        assert users.sign_in(s, "maria", "packer pass 1").message == "Maria's account is locked; ask an admin to unlock it."


def test_hashes_made_with_lower_parameters_are_remade_at_sign_in(db):
    _people(db)
    passwords.use_parameters(time_cost=2, memory_cost=2048, parallelism=1)
    _signed_in(db, "maria", "packer pass 1")
    with db.write() as s:
        users.sign_in_badge(s, s.scalar(select(User.badge_code).where(User.username == "maria")), "4321")
    with db.read() as s:
        stored = s.scalar(select(User).where(User.username == "maria"))
    assert stored.password_hash.startswith("$argon2id$v=19$m=2048,t=2,p=1$")
    assert stored.pin_hash.startswith("$argon2id$v=19$m=2048,t=2,p=1$")
    assert _signed_in(db, "maria", "packer pass 1").user == "maria"


def test_first_admin_must_change_the_password(db):
    with db.write() as s:
        assert not users.has_real_users(s)
        users.add_user(s, ACTOR, "demo-maria", "Maria", "packer", demo=True)
        once = users.first_admin(s, "office-1")
    assert once
    with db.write() as s:
        assert users.has_real_users(s) and users.first_admin(s) is None
        first = users.sign_in(s, "admin", once)
    assert first.ok and first.must_change_password and first.actor.role == "admin"
    with db.write() as s:
        with pytest.raises(InvalidInput, match="at least 8"):
            users.change_own_password(s, first.actor, once, "short")
        users.change_own_password(s, first.actor, once, "a much better one")
    with db.write() as s:
        assert not users.sign_in(s, "admin", once).ok
        assert not users.sign_in(s, "admin", "a much better one").must_change_password


def test_the_last_admin_stays(db):
    _people(db)
    admin = _signed_in(db, "ada", ADMIN_PW)
    with db.write() as s, pytest.raises(Conflict, match="only admin"):
        users.set_role(s, admin, "ada", "packer")
    with db.write() as s:
        users.set_role(s, admin, "tom", "admin")
        users.set_role(s, admin, "ada", "read_only")
        assert {u.username: u.role for u in users.list_users(s)}["ada"] == "read_only"


def test_a_packer_may_not_cancel_and_is_told_who_may(world):
    _people(world)
    order_id = place(world, "5001", [("MUG-RED", 1)])
    maria = _signed_in(world, "maria", "packer pass 1")
    with world.write() as s, pytest.raises(NotPermitted) as refused:
        orders.cancel_order(s, maria, order_id, reason="Customer asked")
    assert str(refused.value) == "Maria (packer) may not cancel orders; customer service can (orders.cancel)."
    with world.write() as s, pytest.raises(NotPermitted, match="may not put orders on hold"):
        orders.hold(s, maria, order_id, "check")
    priya = _signed_in(world, "priya", "service pass")
    with world.write() as s:
        orders.cancel_order(s, priya, order_id, reason="Customer asked")
    with world.read() as s:
        who = s.scalar(select(AuditEvent.user).where(AuditEvent.action == "order.cancelled", AuditEvent.order_id == order_id))
    assert who == "priya"


def test_services_refuse_each_guarded_action(world):
    _people(world)
    maria = _signed_in(world, "maria", "packer pass 1")
    with world.write() as s:
        with pytest.raises(NotPermitted, match=r"may not change routing rules; a supervisor can \(routing.edit\)"):
            routing.save_rule(s, maria, "Heavy from Reno", {}, {"preferred_locations": ["RNO"]})
        with pytest.raises(NotPermitted, match=r"may not adjust stock; a supervisor can \(stock.adjust\)"):
            restock.adjust(s, maria, "MUG-RED", "RNO", 3, "found")
        with pytest.raises(NotPermitted, match=r"settings.connections"):
            sync_store.add_connector(s, maria, code="shop2", role="channel", kind="shopify", name="Shop",
                                     base_url="https://shop.example")
        with pytest.raises(NotPermitted, match=r"may not manage users; an admin can \(users.manage\)"):
            users.add_user(s, maria, "eve", "Eve", "admin", password="12345678")
    tom = _signed_in(world, "tom", "supervisor pw")
    with world.write() as s:
        routing.save_rule(s, tom, "Heavy from Reno", {}, {"preferred_locations": ["RNO"]})
        restock.adjust(s, tom, "MUG-RED", "RNO", 3, "found")
        with pytest.raises(NotPermitted, match="an admin can"):
            users.add_user(s, tom, "eve", "Eve", "admin", password="12345678")


def test_a_role_limited_to_some_locations(world):
    _people(world)
    with world.write() as s:
        rita = users.sign_in_badge(s, s.scalar(select(User.badge_code).where(User.username == "rita")), "5555", "ewr-1").actor
    assert rita.locations == ("EWR",)
    with world.write() as s:
        restock.adjust(s, rita, "MUG-RED", "EWR", 2, "found")
        with pytest.raises(NotPermitted, match="Rita \\(supervisor\\) may not adjust stock at RNO; only at EWR"):
            restock.adjust(s, rita, "MUG-RED", "RNO", 2, "found")


def test_a_supervisor_badges_in_to_let_a_packer_pack_without_a_scan(floor):
    world = floor
    people = _people(world)
    order_id = place(world, "5002", [("MUG-RED", 1)])
    with world.write() as s:
        wave = fulfilment.build_wave(s, ACTOR, "RNO")
    pick_all(world, wave.wave_id)
    with world.read() as s:
        view = fulfilment.packing_view(s, order_id)
    line = view.lines[0].line_id
    box = fulfilment.PackedBox(PackageSpec("S", 500), {line: 1})
    maria = _signed_in(world, "maria", "packer pass 1")
    with world.write() as s, pytest.raises(NotPermitted, match="may not pack an item without its scan; a supervisor can"):
        fulfilment.complete_packing(s, maria, order_id, [box], unverified={line: 1})
    with world.write() as s:
        refused = users.confirm_override(s, maria, "pack.override", people["tom"].badge_code, "0000")
        assert not refused.ok
        packer = users.confirm_override(s, maria, "pack.override", people["maria"].badge_code, "4321")
        assert not packer.ok and "a supervisor can" in packer.message  # a packer cannot allow herself
        tom = users.confirm_override(s, maria, "pack.override", people["tom"].badge_code, "1234")
        assert tom.ok
        result = fulfilment.complete_packing(s, maria, order_id, [box], unverified={line: 1}, override=tom.actor)
    with world.read() as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "pack.override")).scalar_one()
        granted = s.execute(select(AuditEvent).where(AuditEvent.action == "override.granted")).scalar_one()
    assert (event.user, event.entity_id) == ("maria", str(result.shipment_id))
    assert event.after["allowed_by"] == "tom" and "allowed by Tom (supervisor)" in event.summary
    assert granted.user == "tom" and "Tom (supervisor) allowed Maria (packer)" in granted.summary


def test_bad_user_input_is_refused_in_words(db):
    _people(db)
    admin = _signed_in(db, "ada", ADMIN_PW)
    for username, role, password, pin, message in [
        ("Bad Name", "packer", None, None, "A user name is 2 to 64"),
        ("x", "packer", None, None, "A user name is 2 to 64"),
        ("newbie", "wizard", None, None, "There is no role 'wizard'"),
        ("newbie", "packer", "short", None, "at least 8"),
        ("newbie", "packer", None, "12", "A PIN is 4 to 6 digits"),
        ("newbie", "packer", None, "1234567", "A PIN is 4 to 6 digits"),
        ("newbie", "packer", "with\x00nul!", None, "NUL"),
        ("maria", "packer", None, None, "already exists"),
    ]:
        with db.write() as s, pytest.raises((InvalidInput, Conflict), match=message):
            users.add_user(s, admin, username, "Newbie", role, password=password, pin=pin)


# -- the role table, as a property --------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(role=st.sampled_from(sorted(ROLES)), permission=st.sampled_from(sorted(PERMISSIONS)),
       locations=st.lists(st.sampled_from(["RNO", "EWR", "3PL"]), max_size=2, unique=True),
       at=st.one_of(st.none(), st.sampled_from(["RNO", "EWR", "3PL"])))
def test_a_permission_is_granted_iff_the_role_table_says_so(role, permission, locations, at):
    actor = Actor("someone", "st-1", role, "Someone", tuple(locations))
    granted = permission in ROLES[role].permissions and (not locations or at is None or at in locations)
    assert users.may(actor, permission, at) is granted
    if not granted:
        with pytest.raises(NotPermitted) as refused:
            users.require(actor, permission, at)
        assert permission in str(refused.value) and "Someone" in str(refused.value)


def test_the_role_table_reads_as_the_warehouse_expects():
    assert ROLES["admin"].permissions == frozenset(PERMISSIONS)
    assert "users.manage" not in ROLES["supervisor"].permissions
    assert not ({"orders.cancel", "stock.adjust", "routing.edit", "pack.override"} & ROLES["packer"].permissions)
    assert users.who_may("orders.cancel") == "customer service" and users.who_may("users.manage") == "an admin"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
       | st.sampled_from(["'; DROP TABLE app_user; --", "\u202eevil", "e\u0301\u0301", "x" * 5000, "a\x00b"]))
def test_user_text_is_stored_exactly_or_refused_in_words(sqlite_db, text):
    with sqlite_db.write() as s:
        s.execute(User.__table__.delete())
    try:
        with sqlite_db.write() as s:
            users.add_user(s, ACTOR, "fuzz", text, "packer")
    except InvalidInput as e:
        assert str(e)
        return
    with sqlite_db.read() as s:
        assert s.scalar(select(User.display_name).where(User.username == "fuzz")) == text.strip()
    with sqlite_db.write() as s:
        assert not users.sign_in(s, text[:100], text).ok
