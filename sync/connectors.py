"""The connectors of this database's enabled connections, built and ready for the engine: shops, carriers and
trading partners. Used by ``sync --once``/``sync`` and by the desktop's sync worker alike."""

from __future__ import annotations

from oms import sync_store
from oms.errors import NotFound, OmsError
from oms.i18n import _

from . import credentials


def build_connectors(db, codes: list[str] | None = None, **http_options) -> tuple[dict, dict, dict[str, int], list[str]]:
    """Connectors for the enabled channels and carriers (and the problems that kept any out).

    ``http_options`` (sleep=, max_attempts=, timeout=...) go to every connector's HTTP client."""
    from .carriers.easypost import EasyPostCarrier
    from .channels.shopify import ShopifyChannel

    with db.read() as s:
        configs = [c for c in sync_store.connectors(s, enabled_only=True) if not codes or c.code in codes]
    channels, carriers, intervals, problems = {}, {}, {}, []
    for c in configs:
        token = credentials.get_secret(c.code)
        if not token:
            problems.append(_("{code}: no API token stored; add the connection again with its token.").format(code=c.code))
            continue
        if c.kind == "shopify":
            extra = {k: c.options[k] for k in ("api_version", "location_map") if c.options.get(k)}
            if http_options:
                extra["client"] = ShopifyChannel.make_client(c.base_url, token, **(
                    {"api_version": c.options["api_version"]} if c.options.get("api_version") else {}), **http_options)
            channels[c.code] = ShopifyChannel(c.code, c.base_url, token, **extra)
        elif c.kind == "easypost":
            client = EasyPostCarrier.make_client(c.base_url, token, **http_options) if http_options else None
            carriers[c.code] = EasyPostCarrier(c.code, token, base_url=c.base_url, client=client,
                                               label_format=c.options.get("label_format", "PDF"))
        intervals[c.code] = c.interval_s
    # Trading partners sync like channels: their inbox (a folder or on an SFTP server) in, their outbox out.
    from oms import edi

    from .channels.edi_x12.transports import partner_channel

    with db.read() as s:
        partners = [p for p in edi.partners(s) if p.transport.get("kind") in ("folder", "sftp")
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
