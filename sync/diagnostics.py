"""The secrets of this station's connections, so the diagnostics can be sure to leave every one of them out."""

from __future__ import annotations

from typing import Iterable

from oms.core.errors import OmsError
from oms.integration.sync_store import ConnectorStatus

from . import credentials


def connection_secrets(connectors: Iterable[ConnectorStatus]) -> list[str]:
    """Every token and password the credential store holds for these connections (never shown; only redacted)."""
    found = []
    for c in connectors:
        names = [credentials.sftp_secret_name(c.code)] if c.role == "partner" else [c.code]
        for name in names:
            try:
                secret = credentials.get_secret(name)
            except OmsError:
                continue  # an unreadable store holds nothing this process can leak
            if secret:
                found.append(secret)
    return found
