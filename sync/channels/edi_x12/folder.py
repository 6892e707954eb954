"""The folder transport: a partner drops files in an inbox folder and picks ours up from an outbox folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from oms import edi, sync_store
from oms.db import Database
from oms.errors import OmsError
from oms.i18n import _
from oms.models import EdiDocument

from ...base import OutboundMessage, PermanentError, PullPage
from .service import document_for_message, flag_unacknowledged, import_interchanges

SKIPPED_TOPICS = ("fulfillment.create", "fulfillment.cancel", "payment.capture", "order.cancelled", "inventory.set")


class EdiFolderChannel:
    """A trading partner reached through folders: inbox/ (with archive/ and error/ beside it) and outbox/."""

    def __init__(self, code: str, db: Database, root: str | Path):
        self.code = code
        self.db = db
        self.root = Path(root)
        self.inbox, self.outbox = self.root / "inbox", self.root / "outbox"
        self.archive, self.error = self.root / "archive", self.root / "error"
        for folder in (self.inbox, self.outbox, self.archive, self.error):
            folder.mkdir(parents=True, exist_ok=True)

    def pull_orders(self, cursor: str | None) -> PullPage:
        """Take in every file waiting in the inbox, oldest first; each file is one transaction."""
        for path in sorted(self.inbox.iterdir(), key=lambda p: (p.stat().st_mtime, p.name)):
            if not path.is_file() or path.name.startswith("."):
                continue
            data = path.read_bytes()
            try:
                with self.db.write() as s:
                    import_interchanges(s, data, filename=path.name, partner_code=self.code)
            except OmsError as exc:
                with self.db.write() as s:
                    sync_store.quarantine(s, self.code, "edi", path.name, data.decode("utf-8", errors="replace"), str(exc))
                shutil.move(str(path), self.error / path.name)
                continue
            shutil.move(str(path), self.archive / path.name)
        with self.db.write() as s:
            flag_unacknowledged(s, edi.partner(s, self.code))
        return PullPage([], next_cursor=cursor, done=True)

    def push(self, message: OutboundMessage) -> dict[str, Any]:
        if message.topic in SKIPPED_TOPICS:
            return {"skipped": _("{t} has no EDI document here; the 856 and 810 tell the partner.").format(t=message.topic)}
        with self.db.write() as s:
            partner = edi.partner(s, self.code)
            if message.topic == "edi.send":
                doc = s.get(EdiDocument, message.payload["document_id"])
                text, name = doc.raw, message.payload["filename"]
            elif message.topic in ("asn.create", "invoice.create"):
                row = sync_store.OutboxRow(message.id, self.code, message.topic, message.idempotency_key, dict(message.payload), 0)
                doc_type, text, doc_id = document_for_message(s, partner, row)
                doc = s.get(EdiDocument, doc_id)
                name = f"{partner.code}_{doc_type}_{int(doc.isa_control):09d}.x12"
            else:
                raise PermanentError(_("{t} cannot be sent to a trading partner.").format(t=message.topic))
            target = self.outbox / name
            if not target.exists():  # a resend after a crash finds the file already there
                tmp = self.outbox / f".{name}.tmp"
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, target)
            doc.status = "sent"
        return {"file": str(target)}
