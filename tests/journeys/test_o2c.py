"""Month end — the controller checks that everything shipped is billed and the money is coming in.

Keyboard only: Ctrl+Shift+R opens Reports; the arrow keys on the tabs bring the "Order to cash" tab. One shipment
of the demo data has no invoice (it shipped before invoicing was switched on: the scene removes its invoice); the
tab lists it under "Shipped but not invoiced", with the captures and the EDI invoices as the domain counts them.
Enter on the shipment opens its order; Escape brings her back to Reports.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from oms import reports
from oms.invoicing.models import Invoice, InvoiceLine
from oms.orders.models import SalesOrder
from oms.shipping.models import Shipment


def test_the_shipment_without_an_invoice_is_found_and_opened(station):
    s = station
    with s.db.write() as session:  # the scene: one web order's invoice was never issued
        inv = session.scalars(select(Invoice).join(SalesOrder, SalesOrder.id == Invoice.order_id)
                              .where(SalesOrder.order_type == "dtc").order_by(Invoice.id.desc())).first()
        assert inv is not None, "the demo data ships orders, and every shipment is invoiced"
        order_id, shipment_id = inv.order_id, inv.shipment_id
        number = session.get(SalesOrder, order_id).number
        assert session.get(Shipment, shipment_id).status == "shipped"
        session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == inv.id))
        session.execute(delete(Invoice).where(Invoice.id == inv.id))
    screen = s.window.reports
    s.key("Ctrl+Shift+R")
    s.wait_for(lambda: s.window.pages.currentWidget() is screen and screen.tables and not screen.is_loading,
               "the reports to be read")
    tabs = screen.tabs
    s.tab_to(lambda w: w is tabs.tabBar(), "the report tabs")
    for _ in range(tabs.count()):
        if tabs.currentWidget() is screen.o2c:
            break
        s.key("Right")
    assert tabs.currentWidget() is screen.o2c, "the arrow keys reach the Order to cash tab"
    page = screen.o2c
    s.wait_for(lambda: page.view is not None and [r.shipment_id for r in page.view.not_invoiced] == [shipment_id],
               "the shipment without an invoice listed")
    assert s.sees("Shipped but not invoiced: 1") and s.sees(number)
    with s.db.read() as session:
        view = reports.order_to_cash(session)
    assert [(r.order_number, r.units) for r in page.view.not_invoiced] == [(r.order_number, r.units) for r in view.not_invoiced]
    # The shops keep capturing while she reads (sync runs): the counts on screen are those of the view it read.
    assert sum(c.captured + c.pending + c.failed for c in page.view.captures) > 0, "the demo's shipments asked for payment"
    assert s.sees(f"Captures that failed: {len(page.view.failed_captures)}")
    assert s.sees(f"Invoices to EDI partners (810): {len(page.view.edi_invoices)}")
    s.shot("reports-order-to-cash")

    table = page.tables["not_invoiced"]
    s.tab_to(lambda w: w is table, "the list of shipments not invoiced")
    if table.currentRow() < 0:
        s.key("Down")
    s.key("Return")
    s.wait_for(lambda: s.window.detail.order is not None and s.window.detail.order.id == order_id, "the order opened")
    assert s.window.detail.back_button.text().endswith("Back to reports")
    s.key("Escape")
    s.wait_for(lambda: s.window.pages.currentWidget() is screen, "Reports again")
