"""A trading partner's transport, by kind: the map from a partner's configured kind to the channel that serves it.

The base class (``transport.py``) knows none of its kinds; each kind is one entry here, so a new
transport is a module and a line, and nothing imports in a circle.
"""

from __future__ import annotations

from typing import Callable

from oms.core.db import Database
from oms.core.errors import OmsError
from oms.core.i18n import _
from oms.partners import edi

from .folder import EdiFolderChannel
from .sftp import EdiSftpChannel
from .transport import EdiTransportChannel


def _folder(db: Database, partner: edi.PartnerInfo) -> EdiFolderChannel:
    if not partner.transport.get("path"):
        raise OmsError(_("Partner {code} has no folder configured.").format(code=partner.code))
    return EdiFolderChannel(partner.code, db, partner.transport["path"])


# kind -> builder(db, partner, **options); options (timeout=...) go to network transports only.
TRANSPORTS: dict[str, Callable[..., EdiTransportChannel]] = {
    "folder": _folder,
    "sftp": EdiSftpChannel.for_partner,
}


# How a partner's connection is called on screen, by its transport kind.
TITLES = {"folder": _("X12 over folders"), "sftp": _("X12 over SFTP")}


def partner_channel(db: Database, partner: edi.PartnerInfo, **options) -> EdiTransportChannel:
    """The channel for a partner's configured transport. Raises OmsError when the transport cannot be used as
    configured (no folder, no stored password) or is of a kind Quayside does not know."""
    kind = partner.transport.get("kind", "folder")
    build = TRANSPORTS.get(kind)
    if build is None:
        raise OmsError(_("Partner {code} has a transport Quayside does not know: {kind}.").format(
            code=partner.code, kind=kind))
    return build(db, partner, **options)
