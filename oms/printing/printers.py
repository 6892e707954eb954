"""Send documents to printers: PDF through CUPS (`lp`), raw ZPL to a CUPS raw queue or TCP port 9100.

A print that fails is never lost: the document is kept in a spool folder with a
JSON note (printer, title, error, attempts) until it is retried or discarded.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from oms.core.errors import NotFound, OmsError
from oms.core.i18n import _

__all__ = [
    "FailedJob",
    "PrintError",
    "PrintFailed",
    "Printer",
    "discard",
    "failed_jobs",
    "keep",
    "list_printers",
    "print_document",
    "print_pdf",
    "print_raw",
    "printer_status",
    "retry",
    "spool_dir",
]

DocFormat = Literal["pdf", "zpl", "raw"]
LP_TIMEOUT_S = 20
TCP_TIMEOUT_S = 8.0


class PrintError(OmsError):
    """A document could not be printed; str(e) tells the person what to do."""


class PrintFailed(PrintError):
    """Printing failed and the document was kept in the failed-prints spool as `job_id`."""

    def __init__(self, message: str, job_id: str):
        super().__init__(message)
        self.job_id = job_id


@dataclass(frozen=True)
class Printer:
    name: str
    enabled: bool  # False: paused ("disabled" in CUPS words)
    accepting: bool
    state: str  # idle, printing, disabled
    reason: str = ""  # why it was paused, as CUPS reports it
    is_default: bool = False


@dataclass(frozen=True)
class FailedJob:
    id: str
    printer: str
    title: str
    format: str
    error: str
    attempts: int
    created_at: str
    last_attempt_at: str
    media: str | None = None
    path: str = ""
    reference: str = ""  # what the print is for, e.g. "carrier-label:42": its printing may confirm a shipment


# -- CUPS ------------------------------------------------------------------------------------------------


def _run(args: list[str], data: bytes | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, LC_ALL="C", LANG="C")
    try:
        return subprocess.run(args, input=data, capture_output=True, timeout=LP_TIMEOUT_S, env=env)
    except FileNotFoundError:
        raise PrintError(_("Printing is not set up on this computer: the CUPS command “{cmd}” is missing. "
                           "Install CUPS (cups-client) and add the printer.").format(cmd=args[0])) from None
    except subprocess.TimeoutExpired:
        raise PrintError(_("The print system (CUPS) did not answer within {s} seconds. Is the CUPS service running?")
                         .format(s=LP_TIMEOUT_S)) from None


def _cups_failure(proc: subprocess.CompletedProcess) -> str:
    text = (proc.stderr or proc.stdout or b"").decode("utf-8", "replace").strip()
    text = re.sub(r"^(lp|lpstat): ", "", text.splitlines()[-1] if text else "")
    if "scheduler is not running" in text.lower() or "connection refused" in text.lower():
        return _("The print system (CUPS) is not running on this computer. Start it and try again.")
    return text or _("CUPS gave no reason")


def list_printers() -> list[Printer]:
    """The CUPS print queues, with whether each is paused or refusing jobs. Empty when CUPS has none."""
    proc = _run(["lpstat", "-p", "-a", "-d"])
    out = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0 and "No destinations added" not in out + proc.stderr.decode("utf-8", "replace"):
        if b"scheduler is not running" in proc.stderr:
            raise PrintError(_cups_failure(proc))
    return _parse_lpstat(out)


def _parse_lpstat(out: str) -> list[Printer]:
    states: dict[str, tuple[bool, str, str]] = {}
    accepting: dict[str, bool] = {}
    default = ""
    lines = out.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"printer (\S+) (?:is (idle|printing)|now printing \S+|(disabled))", line)
        if m:
            name = m.group(1)
            state = m.group(2) or ("printing" if "now printing" in line else "disabled")
            reason = ""
            if state == "disabled" and i + 1 < len(lines) and lines[i + 1].startswith(("\t", " ")):
                reason = lines[i + 1].strip()
            states[name] = (state != "disabled", state, reason)
            continue
        m = re.match(r"(\S+) (not )?accepting requests", line)
        if m:
            accepting[m.group(1)] = m.group(2) is None
            continue
        m = re.match(r"system default destination: (\S+)", line)
        if m:
            default = m.group(1)
    return [Printer(name, enabled, accepting.get(name, True), state, reason, name == default)
            for name, (enabled, state, reason) in sorted(states.items())]


def printer_status(name: str) -> Printer:
    """One CUPS queue's state; NotFound-like PrintError when there is no such queue."""
    proc = _run(["lpstat", "-p", name, "-a", name])
    printers = {p.name: p for p in _parse_lpstat(proc.stdout.decode("utf-8", "replace"))}
    if name not in printers:
        err = _cups_failure(proc) if proc.returncode else ""
        if "not running" in err:
            raise PrintError(err)
        raise PrintError(_("There is no printer “{name}” on this computer. Choose one of the installed printers "
                           "in the settings.").format(name=name))
    return printers[name]


def _check_queue(name: str) -> None:
    p = printer_status(name)
    if not p.enabled:
        why = f" ({p.reason})" if p.reason and p.reason.lower() not in ("paused", "") else ""
        raise PrintError(_("The printer “{name}” is paused{why}. Resume it in the printer settings "
                           "(cupsenable {name}) and retry.").format(name=name, why=why))
    if not p.accepting:
        raise PrintError(_("The printer “{name}” is not accepting jobs. Let it accept jobs again "
                           "(cupsaccept {name}) and retry.").format(name=name))


def _lp(data: bytes, queue: str, title: str, options: list[str]) -> str:
    _check_queue(queue)
    args = ["lp", "-d", queue, "-t", title[:120] or "Quayside"]
    for opt in options:
        args += ["-o", opt]
    proc = _run(args + ["-"], data)
    if proc.returncode != 0:
        raise PrintError(_("The printer “{name}” did not take the job: {reason}").format(name=queue, reason=_cups_failure(proc)))
    m = re.search(r"request id is (\S+)", proc.stdout.decode("utf-8", "replace"))
    return m.group(1) if m else ""


# -- raw TCP (port 9100) ----------------------------------------------------------------------------------


def _tcp_target(target: str) -> tuple[str, int] | None:
    m = re.fullmatch(r"(?:socket|tcp)://\[?([^\]/]+?)\]?(?::(\d+))?/?", target.strip())
    if not m:
        return None
    return m.group(1), int(m.group(2) or 9100)


def _send_tcp(data: bytes, host: str, port: int, timeout: float) -> str:
    where = f"{host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
    except ConnectionRefusedError:
        raise PrintError(_("The label printer at {where} refused the connection. Is it switched on, and is the "
                           "address right?").format(where=where)) from None
    except socket.gaierror:
        raise PrintError(_("The printer address {host} cannot be found on the network.").format(host=host)) from None
    except (socket.timeout, TimeoutError):
        raise PrintError(_("The label printer at {where} did not answer within {s:.0f} seconds. Is it on the "
                           "network?").format(where=where, s=timeout)) from None
    except OSError as exc:
        raise PrintError(_("The label printer at {where} cannot be reached: {reason}.").format(
            where=where, reason=exc.strerror or exc)) from None
    return where


# -- sending --------------------------------------------------------------------------------------------


def _send(data: bytes, printer: str, fmt: str, title: str, media: str | None, timeout: float) -> str:
    if not printer or not printer.strip():
        raise PrintError(_("No printer is chosen. Choose a printer in the settings."))
    tcp = _tcp_target(printer)
    if fmt == "pdf":
        if tcp:
            raise PrintError(_("A PDF cannot be sent straight to a label printer's network port ({target}). "
                               "Print labels as ZPL, or choose a CUPS printer.").format(target=printer))
        return _lp(data, printer, title, [f"media={media}"] if media else [])
    if tcp:
        return _send_tcp(data, tcp[0], tcp[1], timeout)
    return _lp(data, printer, title, ["raw"])


def print_pdf(data: bytes, printer: str, *, title: str, media: str | None = None, spool: bool = True,
              reference: str = "") -> str:
    """Print a PDF on a CUPS queue; `media` e.g. "Custom.4x6in" or "Letter". Returns the CUPS job id.

    On failure raises PrintFailed and keeps the document in the failed-prints spool (unless `spool` is False).
    """
    return _attempt(data, printer, "pdf", title, media, TCP_TIMEOUT_S, spool, reference)


def print_raw(data: bytes, target: str, *, title: str = "Label", timeout: float = TCP_TIMEOUT_S, spool: bool = True,
              reference: str = "") -> str:
    """Send raw printer language (ZPL) to a CUPS raw queue, or to socket://host:port or tcp://host:port directly."""
    return _attempt(data, target, "zpl", title, None, timeout, spool, reference)


def print_document(data: bytes, printer: str, *, title: str, media: str | None = None, reference: str = "") -> str:
    """Print PDF or ZPL bytes, telling them apart by their first bytes."""
    if _format_of(data) == "pdf":
        return print_pdf(data, printer, title=title, media=media, reference=reference)
    return print_raw(data, printer, title=title, reference=reference)


def _format_of(data: bytes) -> str:
    head = data.lstrip()[:8]
    return "pdf" if head.startswith(b"%PDF") else "zpl"


def keep(data: bytes, printer: str, *, title: str, error: str, media: str | None = None, reference: str = "") -> FailedJob:
    """Keep a document that cannot go to its printer as it is under Failed prints, with the reason."""
    return _spool(data, printer, _format_of(data), title, media, error, reference)


def _attempt(data: bytes, printer: str, fmt: str, title: str, media: str | None, timeout: float, spool: bool,
             reference: str = "") -> str:
    if not data:
        raise PrintError(_("There is nothing to print."))
    try:
        return _send(data, printer, fmt, title, media, timeout)
    except PrintError as exc:
        if not spool:
            raise
        job = _spool(data, printer, fmt, title, media, str(exc), reference)
        raise PrintFailed(_("{error} The print is kept under Failed prints; retry it when the printer is ready.")
                          .format(error=str(exc)), job.id) from None


# -- the failed-prints spool ----------------------------------------------------------------------------


def spool_dir() -> Path:
    override = os.environ.get("OMS_SPOOL_DIR")
    if override:
        path = Path(override)
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir("Quayside", "Quayside")) / "print-spool"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def _spool(data: bytes, printer: str, fmt: str, title: str, media: str | None, error: str, reference: str = "") -> FailedJob:
    folder = spool_dir()
    job_id = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8]
    doc = folder / f"{job_id}.{fmt}"
    _write_atomic(doc, data)  # the document first: a note never points at a missing file
    now = _now()
    job = FailedJob(job_id, printer, title, fmt, error, 1, now, now, media, str(doc), reference)
    _write_note(job)
    return job


def _write_note(job: FailedJob) -> None:
    note = {k: v for k, v in asdict(job).items() if k not in ("id", "path")}
    _write_atomic(spool_dir() / f"{job.id}.json", json.dumps(note, indent=2).encode("utf-8"))


def _load(note: Path) -> FailedJob | None:
    try:
        meta = json.loads(note.read_text(encoding="utf-8"))
        doc = note.with_suffix("." + meta["format"])
        return FailedJob(note.stem, meta["printer"], meta["title"], meta["format"], meta.get("error", ""),
                         int(meta.get("attempts", 1)), meta.get("created_at", ""), meta.get("last_attempt_at", ""),
                         meta.get("media"), str(doc), str(meta.get("reference") or ""))
    except (OSError, ValueError, KeyError):
        return None  # a half-written or foreign file: leave it alone


def failed_jobs() -> list[FailedJob]:
    """Prints that failed and wait for a retry, oldest first."""
    jobs = [_load(p) for p in sorted(spool_dir().glob("*.json"))]
    return [j for j in jobs if j is not None and Path(j.path).exists()]


def _job(job_id: str) -> FailedJob:
    if not re.fullmatch(r"[0-9A-Za-z-]+", job_id or ""):
        raise NotFound(_("There is no failed print {id}.").format(id=job_id))
    job = _load(spool_dir() / f"{job_id}.json")
    if job is None or not Path(job.path).exists():
        raise NotFound(_("There is no failed print {id}; it may have been printed or discarded already.").format(id=job_id))
    return job


def retry(job_id: str, printer: str | None = None) -> str:
    """Send a failed print again (to `printer` when given, else where it was meant to go).

    On success the job leaves the spool; on failure it stays, with the new error and one more attempt.
    """
    job = _job(job_id)
    target = printer or job.printer
    data = Path(job.path).read_bytes()
    try:
        result = _send(data, target, job.format, job.title, job.media, TCP_TIMEOUT_S)
    except PrintError as exc:
        _write_note(FailedJob(job.id, target, job.title, job.format, str(exc), job.attempts + 1, job.created_at, _now(),
                              job.media, job.path, job.reference))
        raise PrintFailed(_("{error} The print is still kept under Failed prints.").format(error=str(exc)), job.id) from None
    discard(job_id)
    return result


def discard(job_id: str) -> None:
    """Forget a failed print for good."""
    job = _job(job_id)
    (spool_dir() / f"{job.id}.json").unlink(missing_ok=True)  # the note first: no note, no job
    Path(job.path).unlink(missing_ok=True)
