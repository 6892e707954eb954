"""“Test connection” for a database address: connects, reads the schema version, and says in plain words what is
wrong (wrong password, server unreachable, database missing, written by a newer Quayside) or what will happen."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from .i18n import _

CONNECT_TIMEOUT_S = 5


@dataclass(frozen=True)
class Probe:
    ok: bool
    message: str
    revision: str | None = None  # the schema found; None for an empty database


def _where(u: URL) -> str:
    return f"{u.host or 'localhost'}:{u.port or 5432}"


def explain(error: str, u: URL) -> str:
    """A PostgreSQL connection error (libpq's words) in a supervisor's words."""
    e = error.lower()
    if "password authentication failed" in e or "no password supplied" in e or "authentication failed" in e:
        return _("The server {where} refused the password for the user {user}. Check the password (and the user name).") \
            .format(where=_where(u), user=u.username or "")
    if re.search(r'role ".*" does not exist', e):
        return _("The server {where} has no user named {user}. Check the user name, or ask the server's administrator "
                 "to create it.").format(where=_where(u), user=u.username or "")
    if re.search(r'database ".*" does not exist', e):
        return _("The server {where} answers, but it has no database named {db}. Check the name, or ask the server's "
                 "administrator to create it (createdb {db}).").format(where=_where(u), db=u.database or "")
    if "could not translate host name" in e or "name or service not known" in e or "nodename nor servname" in e \
            or "temporary failure in name resolution" in e:
        return _("No computer named {host} is known on this network. Check the server's name.").format(host=u.host or "")
    if "connection refused" in e:
        return _("Nothing answers at {where}: the PostgreSQL server is not running there, or a firewall blocks the port. "
                 "Check the server and the port.").format(where=_where(u))
    if "timeout expired" in e or "timed out" in e:
        return _("The server {where} did not answer within {s} seconds. Is that computer on, and on this network?") \
            .format(where=_where(u), s=CONNECT_TIMEOUT_S)
    if "no pg_hba.conf entry" in e:
        return _("The server {where} does not accept connections from this computer (pg_hba.conf). Ask its "
                 "administrator to allow this station.").format(where=_where(u))
    first = error.strip().splitlines()[0] if error.strip() else _("no reason given")
    return _("Cannot connect to {where}: {error}").format(where=_where(u), error=first)


def probe(url: str) -> Probe:
    """Connect to ``url`` and say whether Quayside can use it; never changes anything."""
    from .db import describe_url

    try:
        u = make_url(url.strip())
    except ArgumentError:
        return Probe(False, _("{url!r} is not a database address. A PostgreSQL address looks like "
                              "postgresql://user:password@server/database.").format(url=url))
    backend = u.get_backend_name()
    if backend == "postgresql":
        if u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
        if not u.host:
            return Probe(False, _("The address names no server: postgresql://user:password@SERVER/database."))
        if not u.database:
            return Probe(False, _("The address names no database: postgresql://user:password@server/DATABASE."))
        args = {"connect_timeout": CONNECT_TIMEOUT_S}
    elif backend == "sqlite":
        args = {}
        if not u.database or u.database == ":memory:":
            return Probe(False, _("A database in memory is lost when Quayside closes: name a file."))
        from pathlib import Path

        if not Path(u.database).exists():  # connecting would create it: say what the first start will do instead
            return Probe(True, _("A new database file is made at {path} at the first start.").format(path=u.database))
    else:
        return Probe(False, _("Quayside works with SQLite or PostgreSQL, not {kind}.").format(kind=backend))
    try:
        engine = create_engine(u, connect_args=args)
    except (NoSuchModuleError, ArgumentError) as exc:
        return Probe(False, _("{url!r} is not a database address Quayside can use: {error}").format(url=url, error=exc))
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                tables = inspect(conn).get_table_names()
                if tables:
                    return Probe(False, _("{where} holds other tables ({names}) but no Quayside data: use an empty "
                                          "database or one Quayside created.").format(
                        where=describe_url(url), names=", ".join(sorted(tables)[:3])))
                return Probe(True, _("Connected to {where}. The database is empty: Quayside creates its tables at the "
                                     "first start.").format(where=describe_url(url)))
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as exc:
        return Probe(False, explain(str(exc.orig), u))
    finally:
        engine.dispose()
    return _judge_revision(url, revision)


def _judge_revision(url: str, revision: str | None) -> Probe:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from .db import MIGRATIONS_DIR, describe_url

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    if revision == head:
        return Probe(True, _("Connected to {where}: a Quayside database, up to date.").format(where=describe_url(url)),
                     revision)
    try:
        script.get_revision(revision)
    except Exception:
        return Probe(False, _("{where} was written by a newer version of Quayside (schema {rev}). Install that version "
                              "on this station to use it.").format(where=describe_url(url), rev=revision), revision)
    return Probe(True, _("Connected to {where}: a Quayside database of an older version (schema {rev}); it is upgraded at "
                         "the first start.").format(where=describe_url(url), rev=revision), revision)
