"""ERP file drop: each batch of invoices, credit notes and shipments as a JSON file and a CSV file in a folder.

Files are named by the batch (``quayside-<connection>-<first message>.json`` and ``.csv``) and written
atomically: into a hidden temporary file in the same folder, flushed to disk, then renamed over the final name
(``os.replace``), so the ERP's importer never sees half a file. A batch whose files are already there is not
written again: a pass killed after writing and before the outbox rows were marked sent sends the same batch
(the engine keeps its name on its rows) and finds it delivered. Every record carries its idempotency key too,
for an importer that checks.

The standard library's ``csv``, ``json``, ``tempfile`` and ``os.replace`` are all this takes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

from oms.core.errors import InvalidInput
from oms.core.i18n import _

from ..base import OutboundMessage, Outcome, RemoteError
from ..registry import ConnectorSpec, Setting
from .records import CSV_COLUMNS, TOPICS, csv_rows, record

# A message carries the name of the batch it was first given to, under this key (see FolderDrop.push_batch).
BATCH_KEY = "_batch"
BATCH_SIZE = 100


def folder_of(address: str) -> Path:
    """The folder a file:// address names."""
    parts = urlsplit(address)
    if parts.scheme != "file":
        raise InvalidInput(_("A file drop's address is a folder, not {address!r}.").format(address=address))
    return Path(unquote(parts.path))


def parse_folder(text: str) -> str:
    """A folder typed as a path (or file:// URL) -> the file:// URL kept; it must exist and take files."""
    text = (text or "").strip()
    path = folder_of(text) if text.startswith("file://") else Path(text).expanduser()
    if not text:
        raise InvalidInput(_("Give the folder the ERP reads its files from."))
    path = path.resolve()
    if not path.is_dir():
        raise InvalidInput(_("There is no folder {path}; create it first (or mount the share).").format(path=path))
    if not os.access(path, os.W_OK):
        raise InvalidInput(_("Quayside cannot write into {path}.").format(path=path))
    return path.as_uri()


class FolderDrop:
    """Writes batches into a folder; ``push_batch`` is what the engine calls."""

    def __init__(self, code: str, folder: Path, *, prefix: str = "quayside"):
        self.code = code
        self.folder = folder
        self.prefix = prefix

    def names(self, batch_id: str) -> tuple[Path, Path]:
        stem = f"{self.prefix}-{batch_id}"
        return self.folder / f"{stem}.json", self.folder / f"{stem}.csv"

    batch_topics = TOPICS  # every record it carries goes in batches, invoices, credit notes and shipments together
    batch_limit = BATCH_SIZE

    def push_batch(self, messages: list[OutboundMessage], remember: Callable[[dict[int, dict]], None]) -> dict[int, Outcome]:
        """Write the messages as one batch. The batch is named by its first message's id, and the name is kept on
        every message in it (``remember``) before anything is written: a pass killed after the files were written
        but before the messages were marked sends the same messages under the same name again, and finds them
        there. Messages of another batch wait for the next call."""
        first = messages[0].payload.get(BATCH_KEY)
        if first:
            members = [m for m in messages if m.payload.get(BATCH_KEY) == first]
            batch_id = first
        else:
            members = [m for m in messages if not m.payload.get(BATCH_KEY)][:BATCH_SIZE]
            batch_id = f"{self.code}-{members[0].id:010d}"
            remember({m.id: {**m.payload, BATCH_KEY: batch_id} for m in members})
        self.write_batch(batch_id, [OutboundMessage(m.id, m.topic, m.idempotency_key,
                                                    {k: v for k, v in m.payload.items() if k != BATCH_KEY})
                                    for m in members])
        taken = {m.id for m in members}
        return {m.id: Outcome.sent() if m.id in taken else Outcome.later() for m in messages}

    def write_batch(self, batch_id: str, messages: list[OutboundMessage]) -> None:
        """The batch's JSON and CSV files, each written once, atomically."""
        json_path, csv_path = self.names(batch_id)
        try:
            if not self.folder.is_dir():
                raise RemoteError(_("The ERP folder {path} is not there (a share not mounted?).").format(path=self.folder))
            if not json_path.exists():
                body = {"batch_id": batch_id, "source": "Quayside", "connection": self.code,
                        "records": [record(m) for m in messages]}
                self._write(json_path, json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8"))
            if not csv_path.exists():
                out = io.StringIO()
                writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
                writer.writeheader()
                for m in messages:
                    writer.writerows(csv_rows(batch_id, m))
                self._write(csv_path, out.getvalue().encode("utf-8"))
        except OSError as exc:
            raise RemoteError(_("Could not write into the ERP folder {path}: {error}").format(
                path=self.folder, error=exc.strerror or exc)) from exc

    def _write(self, path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        try:  # the rename itself kept: the folder's entry flushed too, where the system allows it
            dir_fd = os.open(path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)

    def check_connection(self) -> str:
        if not self.folder.is_dir():
            raise RemoteError(_("The ERP folder {path} is not there.").format(path=self.folder))
        if not os.access(self.folder, os.W_OK):
            raise RemoteError(_("Quayside cannot write into {path}.").format(path=self.folder))
        return _("The folder {path} takes files.").format(path=self.folder)


def file_prefix(text: str) -> str:
    text = text.strip()
    if not text or not all(c.isalnum() or c in "-_" for c in text):
        raise InvalidInput(_("A file name prefix of letters, digits, - and _, not {text!r}.").format(text=text))
    return text


def _build(code: str, base_url: str, _secret: str, options: dict, **_http_options) -> FolderDrop:
    return FolderDrop(code, folder_of(base_url), prefix=options.get("prefix") or "quayside")


SPEC = ConnectorSpec(
    kind="file-drop", role="erp", title=_("ERP file drop"), build=_build,
    address_title=_("Folder"), address_hint="/srv/erp/inbox",
    default_interval_s=60, subscribes=TOPICS, needs_secret=False, parse_address=parse_folder,
    test=lambda connector: connector.check_connection(),
    settings=(Setting("prefix", _("File name prefix"), "quayside", parse=file_prefix),),
)
