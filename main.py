"""Quayside: the desktop order management system. GUI by default; subcommands for headless work."""

from __future__ import annotations

import argparse
import os
import sys


def build_parser() -> argparse.ArgumentParser:
    from oms.cli import (
        commands as oms_cli,
        counting as counting_cli,
        documents as doc_cli,
        invoicing as invoice_cli,
        purchasing as purchasing_cli,
        reports as report_cli,
        returns as returns_cli,
        transfers as transfer_cli,
        users as users_cli,
    )
    from sync import cli as sync_cli
    from sync.channels.edi_x12 import cli as edi_cli

    parser = argparse.ArgumentParser(prog="quayside", description="Quayside order management")
    from oms.station.about import version

    parser.add_argument("--version", action="version", version=f"Quayside {version()}")
    parser.add_argument("--db", metavar="URL", help="database URL (default: OMS_DATABASE_URL, then the local SQLite file)")
    parser.add_argument("--smoke", action="store_true", help="start the GUI, check it, and exit (for CI and installers)")
    parser.add_argument("--no-seed", action="store_true", help="do not add demo data to an empty database")
    parser.add_argument("--demo", action="store_true",
                        help="run the built-in shop and carrier emulators so sync can be tried without any account")
    sub = parser.add_subparsers(dest="command")
    oms_cli.register(sub)
    doc_cli.register(sub)
    report_cli.register(sub)
    purchasing_cli.register(sub)
    returns_cli.register(sub)
    invoice_cli.register(sub)
    counting_cli.register(sub)
    transfer_cli.register(sub)
    users_cli.register(sub)
    sync_cli.register(sub)
    edi_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from oms.core.errors import OmsError

    parser = build_parser()
    args = parser.parse_args(argv)
    from oms.core import logs

    logs.setup()
    try:
        if args.command is None:
            from desktop.app import run

            return run(args)
        code = args.func(args)
        sys.stdout.flush()  # here, where a reader gone away is caught, not at exit
        return code
    except BrokenPipeError:
        # `quayside orders list | head`: the reader has what it wanted. Stop quietly, and point stdout at nothing so
        # the interpreter's own flush at exit does not fail again (the Python documentation's recipe, for SIGPIPE).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OmsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
