"""What every EDI transport does alike, whatever carries the files: take a file in, send a document out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oms import purchasing, threepl
from oms.core.audit import Actor
from oms.core.db import Database
from oms.core.errors import OmsError
from oms.core.i18n import _
from oms.integration import sync_store
from oms.partners import edi
from oms.partners.models import EdiDocument

from ...base import OutboundMessage, PermanentError, PullPage
from .service import document_for_message, flag_unacknowledged, import_interchanges

# Outbox topics a web shop would act on; for a trading partner the 856 and 810 say it all.
SKIPPED_TOPICS = ("fulfillment.create", "fulfillment.cancel", "payment.capture", "order.cancelled", "inventory.set")


@dataclass(frozen=True)
class OutboundFile:
    """An outbound document as the partner will find it: its file name and its text."""

    document_id: int
    name: str
    text: str


class EdiTransportChannel:
    """A trading partner as a sync channel. Subclasses carry the files: ``pull_orders`` fetches inbound
    files and gives each to ``take_in``; ``deliver`` puts one outbound file where the partner collects it."""

    def __init__(self, code: str, db: Database):
        self.code = code
        self.db = db

    # -- inbound ----------------------------------------------------------------------------------

    def take_in(self, name: str, data: bytes) -> bool:
        """Import one file in one transaction. A file the domain refuses is quarantined whole and False is
        returned: the transport then files it under error/ instead of archive/."""
        try:
            with self.db.write() as s:
                import_interchanges(s, data, filename=name, partner_code=self.code)
        except OmsError as exc:
            with self.db.write() as s:
                sync_store.quarantine(s, self.code, "edi", name, data.decode("utf-8", errors="replace"), str(exc))
            return False
        return True

    def parse_raw(self, raw: str) -> PullPage:
        """Retry from the Sync screen: an X12 transaction is not read again here. Our 997 already told the partner
        it was rejected, and what counts is the corrected one they send."""
        raise OmsError(_("{p} was told by our 997 that this was rejected; the corrected document they send is read like "
                         "any other. Ask them to resend it, then dismiss this one.").format(p=self.code))

    def pull_done(self, cursor: str | None) -> PullPage:
        """After the files: what we sent and nobody acknowledged in time becomes an exception."""
        with self.db.write() as s:
            partner = edi.partner(s, self.code)
            if partner.location_code:  # a 3PL warehouse: a 940 for each order newly routed to its location
                threepl.queue_new_work(s, Actor(f"3pl:{self.code}"[:64], "edi"), self.code, partner.location_code)
            flag_unacknowledged(s, partner)
        return PullPage([], next_cursor=cursor, done=True)

    # -- outbound ---------------------------------------------------------------------------------

    def push(self, message: OutboundMessage) -> dict[str, Any]:
        if message.topic in SKIPPED_TOPICS:
            return {"skipped": _("{t} has no EDI document here; the 856 and 810 tell the partner.").format(t=message.topic)}
        out = self.outbound_file(message)
        where = self.deliver(out.name, out.text)
        with self.db.write() as s:
            doc = s.get(EdiDocument, out.document_id)
            if doc.status == "queued":  # a 997 may have come back before we heard the delivery succeed
                doc.status = "sent"
        return {"file": where}

    def outbound_file(self, message: OutboundMessage) -> OutboundFile:
        """The document an outbox message stands for, committed before it travels: its control numbers are
        taken once and remembered, so a resend after a lost answer is the same file under the same name."""
        with self.db.write() as s:
            partner = edi.partner(s, self.code)
            if message.topic == "edi.send":
                doc = s.get(EdiDocument, message.payload["document_id"])
                return OutboundFile(doc.id, message.payload["filename"], doc.raw)
            if message.topic in ("asn.create", "invoice.create", threepl.ORDER_TOPIC, threepl.TRANSFER_TOPIC,
                                 purchasing.PO_TOPIC):
                row = sync_store.OutboxRow(message.id, self.code, message.topic, message.idempotency_key, dict(message.payload), 0)
                doc_type, text, doc_id = document_for_message(s, partner, row)
                isa = int(s.get(EdiDocument, doc_id).isa_control)
                return OutboundFile(doc_id, f"{partner.code}_{doc_type}_{isa:09d}.x12", text)
        raise PermanentError(_("{t} cannot be sent to a trading partner.").format(t=message.topic))

    def close(self) -> None:
        """Let go of any connection; the next pull or push opens what it needs."""

    def deliver(self, name: str, text: str) -> str:
        """Put the file where the partner collects it, whole or not at all, once: a file already there is left
        alone. Returns where it went (for the log)."""
        raise NotImplementedError
