"""The connectors of this database's enabled connections, built and ready for the engine: shops, carriers, ERP
hand-offs and trading partners. Used by ``sync --once``/``sync`` and by the desktop's sync worker alike."""

from __future__ import annotations

from oms.core.errors import NotFound, OmsError
from oms.core.i18n import _
from oms.integration import sync_store
from oms.partners import edi

from . import credentials, registry
from .channels.edi_x12.transports import TRANSPORTS, partner_channel


def build_connectors(db, codes: list[str] | None = None, **http_options) -> tuple[dict, dict, dict[str, int], list[str]]:
    """Connectors for the enabled channels and carriers (and the problems that kept any out).

    ``http_options`` (sleep=, max_attempts=, timeout=...) go to every connector's HTTP client."""
    with db.read() as s:
        configs = [c for c in sync_store.connectors(s, enabled_only=True) if not codes or c.code in codes]
    channels, carriers, intervals, problems = {}, {}, {}, []
    for c in configs:
        try:
            spec = registry.spec(c.kind, c.role)
        except OmsError as exc:  # a connector this version does not have: the rest still sync
            problems.append(f"{c.code}: {exc}")
            continue
        token = credentials.get_secret(c.code) if spec.needs_secret else ""
        if spec.needs_secret and not token:
            problems.append(_("{code}: no API token stored; add the connection again with its token.").format(code=c.code))
            continue
        # A connection that writes what it reads itself (a 3PL's shipments and stock) is given the database.
        extra = {"db": db} if spec.needs_db else {}
        built = spec.build(c.code, c.base_url, token, c.options, **extra, **http_options)
        # An ERP hand-off runs as a channel that only sends (it has no pull_orders): the engine pushes its outbox.
        (carriers if c.role == "carrier" else channels)[c.code] = built
        intervals[c.code] = c.interval_s
    # Trading partners sync like channels: their inbox (a folder or on an SFTP server) in, their outbox out.
    with db.read() as s:
        partners = [p for p in edi.partners(s) if p.transport.get("kind") in TRANSPORTS
                    and (p.transport.get("path") or p.transport.get("kind") == "sftp") and (not codes or p.code in codes)]
    timeout = http_options.get("timeout")
    for p in partners:
        try:
            channels[p.code] = partner_channel(db, p, **({"timeout": timeout} if timeout and p.transport["kind"] == "sftp" else {}))
        except OmsError as exc:
            problems.append(str(exc))
            continue
        intervals[p.code] = 60
    if codes:
        missing = set(codes) - set(channels) - set(carriers) - {c.code for c in configs}
        if missing:
            raise NotFound(_("There is no enabled connection {codes}.").format(codes=", ".join(sorted(missing))))
    return channels, carriers, intervals, problems
