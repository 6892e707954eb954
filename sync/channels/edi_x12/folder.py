"""The folder transport: a partner drops files in an inbox folder and picks ours up from an outbox folder."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
import uuid
from pathlib import Path

from oms.core import validate
from oms.core.db import Database
from oms.core.i18n import _
from oms.core.types import LINE

from ...base import PullPage, process_alive
from .transport import EdiTransportChannel

CLAIM, SEP = ".taking", "~"  # a claimed inbox file: .taking~host~pid~nonce~name
STALE_CLAIM_S = 15 * 60

log = logging.getLogger("quayside.edi")


class EdiFolderChannel(EdiTransportChannel):
    """A trading partner reached through folders: inbox/ (with archive/ and error/ beside it) and outbox/."""

    def __init__(self, code: str, db: Database, root: str | Path):
        super().__init__(code, db)
        self.root = Path(root)
        self.inbox, self.outbox = self.root / "inbox", self.root / "outbox"
        self.archive, self.error = self.root / "archive", self.root / "error"
        for folder in (self.inbox, self.outbox, self.archive, self.error):
            folder.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def check_settings(transport: dict) -> dict:
        """A folder transport's settings, checked: the folder that holds inbox/ and outbox/."""
        transport = dict(transport)
        transport["path"] = validate.text(transport.get("path"), _("partner folder"), LINE, required=True)
        return transport

    def pull_orders(self, cursor: str | None) -> PullPage:
        """Take in every file waiting in the inbox, oldest first; each file is one transaction.

        Stations sharing the folder (a network drive, PostgreSQL behind them) claim a file by renaming it before
        reading it; the rename is atomic, so one station imports it and the others pass it by. A claim left by a
        station that stopped half-way (its process gone, or the claim older than STALE_CLAIM_S) is taken over.
        """
        for path in sorted(self.inbox.glob(f"{CLAIM}*")):
            if self._stale(path):
                self._claim_and_take(path, path.name.split(SEP, 4)[-1])
        for path in self._waiting():
            self._claim_and_take(path, path.name)
        return self.pull_done(cursor)

    def _claim_and_take(self, path: Path, name: str) -> None:
        claimed = self.inbox / SEP.join((CLAIM, socket.gethostname(), str(os.getpid()), uuid.uuid4().hex[:8], name))
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            return  # another station took it first
        os.utime(claimed)  # the claim's age, for the takeover of abandoned claims
        taken = self.take_in(name, claimed.read_bytes())
        shutil.move(str(claimed), (self.archive if taken else self.error) / name)

    @staticmethod
    def _stale(path: Path) -> bool:
        parts = path.name.split(SEP, 4)
        if len(parts) < 5:
            return True  # not a claim of ours: take it in
        _claim, host, pid, _nonce, _name = parts
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return False
        if host == socket.gethostname() and pid.isdigit() and not process_alive(int(pid)):
            return True
        return age > STALE_CLAIM_S

    def _waiting(self) -> list[Path]:
        found = []
        for path in self.inbox.iterdir():
            if path.name.startswith("."):
                continue
            try:
                if path.is_file():
                    found.append((path.stat().st_mtime, path.name, path))
            except FileNotFoundError:
                continue  # moved away by another station while we looked
        return [path for _mtime, _name, path in sorted(found)]

    def deliver(self, name: str, text: str) -> str:
        """Write under a hidden temporary name, then rename into the outbox. The same file already there is the
        same document from an attempt whose answer was lost: it is not written again. A different file under our
        name (names carry our interchange control number, which is never reused) is a remnant, of a copy of this
        folder or of an attempt cut short: ours replaces it, and the log says so, so the partner gets what we sent."""
        target = self.outbox / name
        data = text.encode("utf-8")
        try:
            there = target.read_bytes()
        except FileNotFoundError:
            there = None
        if there != data:
            if there is not None:
                log.warning("%s: %s was in the outbox with other content (%d bytes, ours %d); replacing it", self.code,
                            target, len(there), len(data))
            tmp = self.outbox / f".{name}.{uuid.uuid4().hex[:8]}.tmp"  # two stations may send the same document at once
            tmp.write_bytes(data)
            os.replace(tmp, target)
        return str(target)
