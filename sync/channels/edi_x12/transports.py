"""A trading partner's transport, by kind: what each kind is called, what its settings must hold, and the channel
that serves it.

The base class (``transport.py``) knows none of its kinds, and neither does the domain, which keeps a partner's
transport as plain settings; each kind is one entry here, so a new transport is a module and a line, and nothing
imports in a circle. The CLI, the Settings dialog and the demo save partners through ``add_partner`` and
``update_partner`` below, which check the transport before the domain stores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy.orm import Session

from oms.core.audit import Actor
from oms.core.db import Database
from oms.core.errors import InvalidInput, OmsError
from oms.core.i18n import _
from oms.partners import edi

from .folder import EdiFolderChannel
from .sftp import EdiSftpChannel
from .transport import EdiTransportChannel


def _folder(db: Database, partner: edi.PartnerInfo) -> EdiFolderChannel:
    if not partner.transport.get("path"):
        raise OmsError(_("Partner {code} has no folder configured.").format(code=partner.code))
    return EdiFolderChannel(partner.code, db, partner.transport["path"])


@dataclass(frozen=True)
class TransportSpec:
    kind: str
    title: str  # how a partner's connection over it is called on screen
    check: Callable[[dict], dict]  # the settings, checked and tidied; InvalidInput says what is wrong
    build: Callable[..., EdiTransportChannel]  # (db, partner, **options); options (timeout=...) for network kinds


TRANSPORTS: dict[str, TransportSpec] = {spec.kind: spec for spec in (
    TransportSpec("folder", _("X12 over folders"), EdiFolderChannel.check_settings, _folder),
    TransportSpec("sftp", _("X12 over SFTP"), EdiSftpChannel.check_settings, EdiSftpChannel.for_partner),
)}

# How a partner's connection is called on screen, by its transport kind.
TITLES = {kind: spec.title for kind, spec in TRANSPORTS.items()}


def check_transport(transport: dict | None) -> dict[str, Any]:
    """A transport's settings as the partner's kind needs them; a pair of folders when none is given."""
    transport = dict(transport or {"kind": "folder"})
    spec = TRANSPORTS.get(transport.get("kind"))
    if spec is None:
        raise InvalidInput(_("The transport is one of: {kinds}; not {kind!r}.").format(
            kinds=", ".join(s.title for s in TRANSPORTS.values()), kind=transport.get("kind")))
    return spec.check(transport)


def add_partner(session: Session, actor: Actor, *, transport: dict | None = None, **fields: Any) -> int:
    """``oms.partners.edi.add_partner`` with its transport checked for its kind first."""
    return edi.add_partner(session, actor, transport=check_transport(transport), **fields)


def update_partner(session: Session, actor: Actor, partner_id: int, **fields: Any) -> edi.PartnerInfo:
    """``oms.partners.edi.update_partner``; a transport among the changes is checked for its kind first."""
    if "transport" in fields:
        fields["transport"] = check_transport(fields["transport"])
    return edi.update_partner(session, actor, partner_id, **fields)


def partner_channel(db: Database, partner: edi.PartnerInfo, **options) -> EdiTransportChannel:
    """The channel for a partner's configured transport. Raises OmsError when the transport cannot be used as
    configured (no folder, no stored password) or is of a kind Quayside does not know."""
    kind = partner.transport.get("kind", "folder")
    spec = TRANSPORTS.get(kind)
    if spec is None:
        raise OmsError(_("Partner {code} has a transport Quayside does not know: {kind}.").format(
            code=partner.code, kind=kind))
    return spec.build(db, partner, **options)
