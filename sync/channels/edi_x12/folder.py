"""The folder transport: a partner drops files in an inbox folder and picks ours up from an outbox folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from oms.db import Database

from ...base import PullPage
from .transport import EdiTransportChannel


class EdiFolderChannel(EdiTransportChannel):
    """A trading partner reached through folders: inbox/ (with archive/ and error/ beside it) and outbox/."""

    def __init__(self, code: str, db: Database, root: str | Path):
        super().__init__(code, db)
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
            taken = self.take_in(path.name, path.read_bytes())
            shutil.move(str(path), (self.archive if taken else self.error) / path.name)
        return self.pull_done(cursor)

    def deliver(self, name: str, text: str) -> str:
        target = self.outbox / name
        if not target.exists():  # a resend after a crash finds the file already there
            tmp = self.outbox / f".{name}.tmp"
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, target)
        return str(target)
