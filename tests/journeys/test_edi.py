"""11:00 — a wholesale purchase order arrives by EDI (JOURNEYS.md).

An 850 from a retail chain lands in the demo trading partner's folder (ACME, on default settings:
``inbox/`` and ``outbox/`` under the application's config folder). Quayside imports it without
anyone touching it, acknowledges it with a 997, routes it and sends an 855 that says which lines
ship now and which are backordered. The Documents screen shows all three, reached by keyboard, in
a person's words; the order is in the Orders queue.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from oms.catalog.models import Product
from oms.core.models import OutboxMessage
from oms.inventory.models import StockLevel
from oms.orders.models import SalesOrder
from oms.partners import edi

FIXTURE = Path(__file__).resolve().parents[1] / "edi" / "fixtures" / "quayside_850_two_groups.x12"
PO = "HM-4471"


def acme_850(in_stock: tuple[str, str], none_left: str) -> str:
    """The fixture's first purchase order (HARBORMART's HM-4471: three lines, a ship-to, dates and a note) as ACME
    sends it: ACME's sender id, its DC 14, and items of this warehouse (two in stock, one with none left)."""
    segments = [s.strip() for s in FIXTURE.read_text().split("~") if s.strip()]
    first = segments[: next(i for i, s in enumerate(segments) if s.startswith("SE*")) + 1]
    items = iter([*in_stock, none_left])
    out = []
    for seg in first:
        if seg.startswith(("ISA*", "GS*")):
            seg = seg.replace("HARBORMART     ", "ACMESTORES     ").replace("*HARBORMART*", "*ACMESTORES*")
        elif seg.startswith("N1*ST*"):
            seg = "N1*ST*ACME Stores DC 14*92*0014"
        elif seg.startswith("PO1*"):
            e = seg.split("*")  # PO1*line*qty*unit*price*PE*...: keep line, quantity and price, name our item
            seg = "*".join([e[0], e[1], e[2], "EA", e[4], "PE", "VN", next(items)])
        out.append(seg)
    isa_control = out[0].split("*")[13]
    gs_control = out[1].split("*")[6]
    return "~\n".join([*out, f"GE*1*{gs_control}", f"IEA*1*{isa_control}"]) + "~\n"


def test_an_850_arrives_and_its_997_and_855_go_out(station):
    s = station
    with s.db.read() as session:
        acme = next(p for p in edi.partners(session) if p.code == "ACME")
        folder = Path(acme.transport["path"])
        free = func.sum(StockLevel.on_hand - StockLevel.allocated)
        plenty = list(session.scalars(select(Product.sku).join(StockLevel, StockLevel.product_id == Product.id)
                                      .where(Product.active.is_(True)).group_by(Product.id, Product.sku)
                                      .having(free >= 100).order_by(free.desc(), Product.sku).limit(2)))
        stocked = select(StockLevel.product_id).where(StockLevel.on_hand - StockLevel.allocated > 0)
        none_left = session.scalar(select(Product.sku).where(Product.active.is_(True), Product.id.not_in(stocked))
                                   .order_by(Product.sku).limit(1))
    assert folder.is_relative_to(s.machine.config_dir), "the demo partner's folder is under the config folder"
    assert len(plenty) == 2 and none_left
    # The station's sync makes the partner's folders when it starts; the partner finds them there.
    s.wait_for(lambda: (folder / "inbox").is_dir() and (folder / "outbox").is_dir(), "ACME's inbox/ and outbox/", 60)

    (folder / "inbox" / "HARBORMART_PO_HM-4471.x12").write_text(acme_850(tuple(plenty), none_left))

    # Nobody touches anything: within the partner's sync interval the order is in and the answers are out.
    def order_in() -> bool:
        with s.db.read() as session:
            return session.scalar(select(func.count()).select_from(SalesOrder).where(SalesOrder.number == PO)) == 1

    s.wait_for(order_in, "the purchase order imported as an order", timeout=150)

    def answers() -> dict[str, str]:
        out = {}
        for path in (folder / "outbox").glob("*"):
            text = path.read_text()
            if re.search(r"AK1\*PO\*7001[*~]", text):
                out["997"] = text
            elif "ST*855*" in text and f"*{PO}*" in text:
                out["855"] = text
        return out

    try:
        s.wait_for(lambda: len(answers()) == 2, "the 997 and the 855 for HM-4471 in outbox/", 150)
    except AssertionError as exc:  # say what was there instead, and what the outbox table holds for ACME
        files = {p.name: p.read_text()[-160:] for p in sorted((folder / "outbox").glob("*"))}
        with s.db.read() as session:
            queued = [(m.id, m.topic, m.status, m.attempts, m.last_error) for m in session.scalars(
                select(OutboxMessage).where(OutboxMessage.destination == "ACME").order_by(OutboxMessage.id))]
        raise AssertionError(f"{exc}\noutbox/ holds {files}\nthe outbox table for ACME: {queued}") from None
    sent = answers()
    assert "AK5*A~" in sent["997"], "the 997 accepts the purchase order"
    # The 855 echoes each line with its status: the two in stock ship (IA), the one with none left is
    # backordered (IB) with the date it is expected.
    acks = dict(re.findall(r"PO1\*\d+\*\d+\*EA\*[\d.]+\*PE\*VN\*([^*~]+)~\s*ACK\*(I[ABR])\*", sent["855"]))
    assert acks == {plenty[0]: "IA", plenty[1]: "IA", none_left: "IB"}, sent["855"]
    assert re.search(r"ACK\*IB\*6\*EA\*068\*\d{8}~", sent["855"]), "a backordered line says when it ships"

    # At the office, the Documents screen by keyboard: the three documents at the top, newest first.
    s.key("Ctrl+8")
    s.wait_text("Documents")
    s.wait_for(lambda: s.sees("for 850 group 7001") and s.sees("HM-4471"), "the 850, its 997 and 855 in the list")
    s.tab_to(lambda w: w.objectName() == "documentsTable", "the list of documents")
    screen = s.window.documents
    seen: dict[str, str] = {}
    for _ in range(6):
        s.wait_for(lambda: screen.pane.detail is not None and screen.pane.detail.row.id == screen.selected_id(),
                   "the chosen document beside the list")
        row = screen.pane.detail.row
        if row.order_number == PO or row.doc_type == "997" and _acknowledged_group(screen) == "7001":
            seen[row.doc_type] = pane_words(screen.pane)
        if len(seen) == 3:
            break
        s.key("Down")
    assert set(seen) == {"850", "997", "855"}, f"the list shows {sorted(seen)} of HM-4471's documents"
    assert "Line status: accepted" in seen["855"] and "Line status: backordered" in seen["855"]
    assert "HM-4471" in seen["850"] and "HARBORMART_PO_HM-4471.x12" in seen["850"]
    assert "Transaction result: accepted" in seen["997"]
    for kind, words in seen.items():
        raw = sorted(set(re.findall(r"\b[A-Z0-9]{2,3}\b", words)) & X12_CODES)
        assert not raw, f"the {kind}'s words for a person show X12 codes {raw}: {words}"

    # Enter on the 850 opens its order: the purchase order is in as a wholesale order, one line backordered.
    def on_the_850() -> bool:
        d = screen.pane.detail
        return d is not None and d.row.id == screen.selected_id() and d.row.doc_type == "850" and d.row.order_number == PO

    for _ in range(6):
        if on_the_850():
            break
        s.key("Up")
        s.pause(300)
    assert on_the_850()
    s.key("Return")
    s.wait_text("Back to documents")
    s.wait_for(lambda: s.sees("HM-4471") and s.sees("Wholesale") and s.sees(none_left), "the order HM-4471 opened")
    assert s.sees("Part allocated")
    with s.db.read() as session:
        order = session.scalar(select(SalesOrder).where(SalesOrder.number == PO))
        lines = {line.sku: (line.quantity, line.backordered) for line in order.lines}
    assert lines == {plenty[0]: (24, 0), plenty[1]: (12, 0), none_left: (6, 6)}


# Codes of the X12 standard that mean nothing to a person: line statuses, acknowledgement types, id and unit
# qualifiers, entity codes, functional groups. The screen may show them in the segments as they are in the
# file, never in its own words beside them.
X12_CODES = {"IA", "IB", "IR", "IQ", "AC", "AD", "AE", "RJ", "ZZ", "VN", "BP", "UP", "PE", "EA", "CA", "BY", "SA",
             "ST", "BT", "DP", "FA", "PR", "SH", "IN", "AK1", "AK2", "AK5", "AK9", "BAK", "BEG", "ACK", "PO1", "N1",
             "DTM", "REF", "TD5", "CTT"}


def _acknowledged_group(screen) -> str:
    """The purchase-order group a 997 on screen answers (the list reads "for 850 group 7001")."""
    m = re.search(r"AK1\*PO\*(\d+)", screen.pane.detail.raw if screen.pane.detail else "")
    return m.group(1) if m else ""


def pane_words(pane) -> str:
    """What the document pane says in its own words: its facts, its problem, and the explanation beside each
    segment (the segments themselves are the file as it is)."""
    from PySide6.QtWidgets import QLabel

    words = [w.text() for w in pane.findChildren(QLabel) if w.isVisible() and w.text()
             and w is not pane.legend]
    for line in pane.viewer.toPlainText().splitlines():
        tail = line.rsplit("│", 1)[-1]
        m = re.match(r"\s*\S.*?\s{3,}(\S.*)$", tail)
        if m:
            words.append(m.group(1))
    return "\n".join(words)
