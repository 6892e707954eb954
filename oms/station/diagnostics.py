"""The diagnostics a station hands to support: what it runs, where its data is, how its connections fare, and the
end of its log, every secret taken out (oms.logs.redact).

Read in two steps so the caller can keep database work on its database worker: ``database_facts`` in a session,
then ``report`` anywhere (it asks CUPS for the printers and reads the log file).
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from oms.core import backup, logs
from oms.core.i18n import _
from oms.core.settings import Settings
from oms.integration import sync_store
from oms.integration.sync_store import ConnectorStatus
from oms.station import about

LOG_LINES = 200


@dataclass(frozen=True)
class DatabaseFacts:
    dialect: str
    description: str
    revision: str | None
    head: str
    connectors: tuple[ConnectorStatus, ...]
    sqlite_file: str | None = None  # the database file, for the backups beside it


def database_facts(session: Session, *, description: str, head: str) -> DatabaseFacts:
    revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    bind = session.get_bind()
    sqlite_file = bind.url.database if bind.dialect.name == "sqlite" else None
    return DatabaseFacts(bind.dialect.name, description, revision, head, tuple(sync_store.statuses(session)),
                         sqlite_file)


def _backups(facts: DatabaseFacts, settings: Settings) -> list[str]:
    if not facts.sqlite_file or facts.sqlite_file == ":memory:":
        return [_("A shared PostgreSQL database is backed up where its server runs (README, Backups).")]
    url = f"sqlite:///{facts.sqlite_file}"
    folder = backup.backup_folder(url, settings.backup_folder)
    found = backup.list_backups(url, folder)
    if not found:
        return [f"{_('Folder')}: {folder}", _("No backup yet.")]
    return [f"{_('Folder')}: {folder}",
            f"{_('Newest')}: {found[-1].taken_at:%Y-%m-%d %H:%M} ({found[-1].size / 1_048_576:.1f} MB); "
            f"{_('kept')}: {len(found)}"]


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _printers() -> list[str]:
    from oms.printing import PrintError, list_printers

    try:
        printers = list_printers()
    except PrintError as exc:
        return [str(exc)]
    if not printers:
        return [_("CUPS has no printers.")]
    return [f"{p.name}: {p.state}{', accepting jobs' if p.accepting else ', refusing jobs'}"
            f"{' (default)' if p.is_default else ''}{f' - {p.reason}' if p.reason else ''}" for p in printers]


def report(facts: DatabaseFacts, settings: Settings, *, secrets: Iterable[str] = (), extra: dict[str, str] | None = None,
           log_lines: int = LOG_LINES) -> str:
    """The diagnostics as plain text, ready to paste into a message to support."""
    lines = [
        f"Quayside {about.version()}",
        f"{_('Taken')}: {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC",
        f"{_('Operating system')}: {platform.platform()} ({platform.machine()})",
        f"Python {platform.python_version()} ({sys.executable})",
    ]
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    up_to_date = facts.revision == facts.head
    lines += [
        "",
        f"== {_('Database')}",
        f"{_('Kind')}: {'SQLite' if facts.dialect == 'sqlite' else 'PostgreSQL' if facts.dialect == 'postgresql' else facts.dialect}",
        f"{_('Where')}: {facts.description}",
        f"{_('Schema')}: {facts.revision or _('empty')}" + ("" if up_to_date else f" ({_('this version expects')} {facts.head})"),
        "",
        f"== {_('Station')}",
        f"{_('Name')}: {settings.station_name} ({settings.station_role})",
        f"{_('Document printer')}: {settings.document_printer or '-'}",
        f"{_('Label printer')}: {settings.label_printer or '-'} ({settings.label_format}, {settings.label_dpi} dpi)",
        "",
        f"== {_('Backups')}",
        *_backups(facts, settings),
        "",
        f"== {_('Printers (CUPS)')}",
        *_printers(),
        "",
        f"== {_('Connections')}",
    ]
    if not facts.connectors:
        lines.append(_("No shop, carrier or trading partner is connected."))
    for c in facts.connectors:
        state = _("online") if c.online else _("offline since {when}").format(when=_when(c.offline_since))
        lines.append(f"{c.code} ({c.role}, {c.kind}{'' if c.enabled else ', paused'}): {state}; "
                     f"{_('last success')} {_when(c.last_success_at)}; {_('pulled')} {c.pulled}, {_('pushed')} {c.pushed}, "
                     f"{_('waiting')} {c.waiting}, {_('failed')} {c.failed}"
                     + (f"; {_('last error')}: {c.last_error}" if c.last_error else ""))
    lines += ["", f"== {_('Folders')}"]
    lines += [f"{name}: {path}" for name, path in about.folders().items()]
    tail = logs.tail(log_lines)
    lines += ["", f"== {_('Log')} ({logs.log_path()}, {_('last {n} lines').format(n=len(tail))})", *tail]
    return logs.redact("\n".join(lines) + "\n", secrets)
