"""What every command shares: the database option, in either position, and opening the database it names."""

from __future__ import annotations

import argparse

from oms.core.db import Database
from oms.core.i18n import _


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """``--db`` after a subcommand; ``main.py`` also takes it before one. Not given here, it leaves alone the
    value given before the subcommand (argparse would otherwise put this parser's default over it)."""
    parser.add_argument("--db", metavar="URL", default=argparse.SUPPRESS,
                        help=_("database URL (default: OMS_DATABASE_URL, then the local SQLite file)"))


def open_db(args) -> Database:
    db = Database(getattr(args, "db", None))
    db.migrate()
    return db
