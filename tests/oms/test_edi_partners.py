"""Trading partners: validation, control numbers that never repeat, item and ship-to cross-references."""

import threading

import pytest
from sqlalchemy import select

from oms.core.errors import Conflict, InvalidInput
from oms.orders.models import Channel
from oms.partners import edi
from sync.channels.edi_x12 import transports
from tests.conftest import ACTOR


@pytest.fixture
def partner(world):
    with world.write() as s:
        pid = edi.add_partner(s, ACTOR, code="northwind", name="Northwind Retail", our_id="QUAYSIDE", their_id="NORTHWIND",
                              their_qualifier="08", delimiters="*~>^")
    return world, pid


def test_partner_gets_a_wholesale_channel_and_is_found_by_sender(partner):
    db, pid = partner
    with db.read() as s:
        assert s.scalar(select(Channel.default_order_type).where(Channel.code == "northwind")) == "wholesale"
        info = edi.partner_for_sender(s, "08", "NORTHWIND      ")
        assert info is not None and info.id == pid and info.element_sep == "*" and info.documents[0] == "850"
        assert edi.partner_for_sender(s, "ZZ", "NORTHWIND") is None


@pytest.mark.parametrize("kw, message", [
    (dict(delimiters="**>^"), "four different delimiters"),
    (dict(delimiters="*A>^"), "four different delimiters"),
    (dict(version="003020"), "not supported"),
    (dict(their_qualifier="ZZZ"), "two characters"),
    (dict(their_id="X" * 16), "at most 15"),
    (dict(their_id="NORTH*WIND"), "separator"),
    (dict(transport={"kind": "carrier pigeon"}), "one of: X12 over folders, X12 over SFTP"),
    (dict(transport={"kind": "folder"}), "partner folder"),
])
def test_bad_partner_settings_are_refused(world, kw, message):
    """As the CLI, the Settings dialog and the demo save a partner: its transport checked for its kind, then the rest."""
    args = dict(code="p2", name="P2", our_id="US", their_id="THEM", transport={"kind": "folder", "path": "/srv/edi/p2"})
    args.update(kw)
    with pytest.raises(InvalidInput, match=message):
        with world.write() as s:
            transports.add_partner(s, ACTOR, **args)


def test_the_domain_keeps_a_transport_as_plain_settings_of_any_kind_but_never_a_secret(world):
    """Which kinds exist is the transports' business (sync), not the domain's: it stores what they checked."""
    with world.write() as s:
        pid = edi.add_partner(s, ACTOR, code="p3", name="P3", our_id="US", their_id="THEM3",
                              transport={"kind": "as2", "url": "https://as2.example"})
        assert edi.partner(s, pid).transport == {"kind": "as2", "url": "https://as2.example"}
    for transport, message in [({"path": "/x"}, "names its kind"), ({"kind": "as2", "password": "x"}, "not kept"),
                               ({"kind": "as2", "nested": {"a": 1}}, "text or a number")]:
        with pytest.raises(InvalidInput, match=message):
            with world.write() as s:
                edi.update_partner(s, ACTOR, pid, transport=transport)


def test_control_numbers_strictly_increase_across_stations(partner):
    db, pid = partner
    got, errors = [], []

    def station():
        try:
            for _ in range(20):
                with db.write() as s:
                    got.append(edi.next_control(s, pid, "isa"))
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=station) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and sorted(got) == list(range(1, 61))
    with db.write() as s:
        assert edi.next_control(s, pid, "gs") == 1 and edi.next_control(s, pid, "isa") == 61
    with pytest.raises(InvalidInput):
        with db.write() as s:
            edi.next_control(s, pid, "iea")


def test_items_resolve_by_xref_gtin_or_vendor_part(partner):
    db, pid = partner
    with db.write() as s:
        edi.add_item_xref(s, pid, "BP", "NW-778", "LANTERN")
        edi.add_ship_to(s, pid, "0014", "Northwind DC 14", address1="1 Dock Rd", city="Sparks", region="NV", postal_code="89431")
    with db.read() as s:
        assert edi.resolve_item(s, pid, {"BP": "NW-778"}) == "LANTERN"
        assert edi.resolve_item(s, pid, {"UP": "036000291452"}) == "MUG-BLU"  # UPC-A of the blue mug
        assert edi.resolve_item(s, pid, {"EN": "04006381333931"}) == "MUG-RED"  # as a GTIN-14
        assert edi.resolve_item(s, pid, {"VN": "MUG-RED"}) == "MUG-RED"
        assert edi.resolve_item(s, pid, {"BP": "UNKNOWN", "UP": "012345678905"}) is None
        st = edi.resolve_ship_to(s, pid, "0014")
        assert st.city == "Sparks" and edi.resolve_ship_to(s, pid, "9999") is None
    with pytest.raises(Conflict, match="already exists"):
        with db.write() as s:
            edi.add_partner(s, ACTOR, code="northwind", name="Again", our_id="A", their_id="B")


def test_update_partner_checks_like_add_partner_and_is_audited(partner):
    from oms.core.models import AuditEvent

    db, pid = partner
    with db.write() as s:
        info = transports.update_partner(s, ACTOR, pid, name="Northwind Retail West", ack_timeout_h=48, documents="850,997",
                                  transport={"kind": "sftp", "host": "sftp.northwind.example", "port": "2222", "user": "qs",
                                             "inbox": "/out", "outbox": "/in"})
    assert (info.name, info.ack_timeout_h, info.documents) == ("Northwind Retail West", 48, ("850", "997"))
    assert info.transport == {"kind": "sftp", "host": "sftp.northwind.example", "port": 2222, "user": "qs", "inbox": "/out",
                              "outbox": "/in"}
    with db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "edi.partner_changed")).one()
        assert event.before["ack_timeout_h"] == 24 and event.after["ack_timeout_h"] == 48
        assert "name" in event.summary and "transport" in event.summary
    for kw, message in [(dict(their_qualifier="Z"), "two characters"), (dict(delimiters="**>^"), "four different"),
                        (dict(version="003020"), "not supported"), (dict(code="other"), "cannot change"),
                        (dict(documents="850,999"), "not 999"), (dict(ack_timeout_h=0), "more than zero"),
                        (dict(transport={"kind": "sftp", "host": "h", "user": "u", "inbox": "/i", "outbox": "/o",
                                         "password": "x"}), "not kept in the database"),
                        (dict(transport={"kind": "sftp", "host": "h"}), "SFTP user"), (dict(colour="red"), "no setting")]:
        with pytest.raises(InvalidInput, match=message):
            with db.write() as s:
                transports.update_partner(s, ACTOR, pid, **kw)
    with db.read() as s:
        assert edi.partner(s, pid).name == "Northwind Retail West"  # nothing of the refused changes stayed


def test_two_partners_cannot_share_an_isa_sender_id(partner):
    db, pid = partner
    with pytest.raises(Conflict, match="already sends as 08/NORTHWIND"):
        with db.write() as s:
            edi.add_partner(s, ACTOR, code="nw2", name="Copy", our_id="QUAYSIDE", their_id="NORTHWIND", their_qualifier="08")
    with db.write() as s:
        other = edi.add_partner(s, ACTOR, code="acme", name="ACME", our_id="QUAYSIDE", their_id="ACME")
    with pytest.raises(Conflict, match="northwind already sends"):
        with db.write() as s:
            edi.update_partner(s, ACTOR, other, their_id="NORTHWIND", their_qualifier="08")


def test_item_and_ship_to_codes_are_added_once_removed_and_audited(partner):
    from oms.core.errors import NotFound
    from oms.core.models import AuditEvent

    db, pid = partner
    with db.write() as s:
        edi.add_item_xref(s, pid, "bp", "NW-1", "LANTERN", actor=ACTOR)
        edi.add_ship_to(s, pid, "0014", "DC 14", city="Sparks", actor=ACTOR)
    with pytest.raises(Conflict, match="already stands for LANTERN"):
        with db.write() as s:
            edi.add_item_xref(s, pid, "BP", "NW-1", "MUG-RED")
    with pytest.raises(Conflict, match="already set up"):
        with db.write() as s:
            edi.add_ship_to(s, pid, "0014", "Again")
    with db.read() as s:
        assert edi.item_xrefs(s, pid) == [edi.ItemXrefInfo("BP", "NW-1", "LANTERN")]
        assert [st.code for st in edi.ship_tos(s, pid)] == ["0014"]
        assert edi.resolve_item(s, pid, {"BP": "NW-1"}) == "LANTERN"
    with db.write() as s:
        assert edi.resolve_item(s, pid, {"BP": "NW-1"}) == "LANTERN"
        edi.remove_item_xref(s, ACTOR, pid, "BP", "NW-1")
        assert edi.resolve_item(s, pid, {"BP": "NW-1"}) is None  # not the answer remembered before the removal
        edi.remove_ship_to(s, ACTOR, pid, "0014")
    with pytest.raises(NotFound):
        with db.write() as s:
            edi.remove_ship_to(s, ACTOR, pid, "0014")
    with db.read() as s:
        actions = [a for a, in s.execute(select(AuditEvent.action).where(AuditEvent.action.like("edi.%")).order_by(AuditEvent.id))]
        assert not edi.item_xrefs(s, pid) and not edi.ship_tos(s, pid)
    assert actions == ["edi.partner_added", "edi.item_xref_added", "edi.ship_to_added", "edi.item_xref_removed",
                       "edi.ship_to_removed"]
