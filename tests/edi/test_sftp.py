"""EDI over SFTP against a real OpenSSH server on loopback: files in and out, a refused login, a cut connection."""

from __future__ import annotations

import getpass
import io
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

import main
from oms.core.models import OutboxMessage
from oms.integration import sync_store
from oms.integration.models import ConnectorState
from oms.orders.models import SalesOrder
from oms.partners.models import EdiDocument
from sync import credentials
from sync.base import Offline
from sync.channels.edi_x12.service import InboundReport
from sync.channels.edi_x12.sftp import EdiSftpChannel, LoginRefused
from sync.channels.edi_x12.x12 import parse_interchanges
from sync.connectors import build_connectors
from sync.engine import Engine
from tests.edi.test_edi_flow import an_850, northwind

SSHD = shutil.which("sshd", path=os.pathsep.join(["/usr/sbin", "/usr/local/sbin", os.environ.get("PATH", "")]))
USER = getpass.getuser()
# A PO of 100 lines: its 850 and 855 are several kilobytes, so a cut lands in the middle of their data.
BIG_LINES = [(str(i), 1, "UP", "036000291452", "19.50") for i in range(1, 101)]


@dataclass
class Sshd:
    port: int
    client_key: Path
    authorized_keys: Path
    root: Path


def keygen(path: Path, passphrase: str = "") -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "quayside-test", "-f", str(path)], check=True)
    return path


def wait_for_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited with {proc.returncode}: {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on {port}: {log.read_text()}")


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """An OpenSSH server on 127.0.0.1 for this module: throwaway keys, key logins only, internal-sftp."""
    if SSHD is None:
        if os.environ.get("OMS_TEST_REQUIRE_SSHD") == "1":
            pytest.fail("OMS_TEST_REQUIRE_SSHD=1 but there is no sshd; install openssh-server (scripts/system-deps.sh)")
        pytest.skip("no sshd: install openssh-server to test the SFTP transport (OMS_TEST_REQUIRE_SSHD=1 makes this fail)")
    root = tmp_path_factory.mktemp("sshd")
    keygen(root / "host_key")
    client_key = keygen(root / "client_key")
    authorized = root / "authorized_keys"
    authorized.write_text((root / "client_key.pub").read_text())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = root / "sshd_config"
    config.write_text("\n".join([
        "ListenAddress 127.0.0.1", f"Port {port}", f"HostKey {root / 'host_key'}", f"AuthorizedKeysFile {authorized}",
        "StrictModes no", "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "PubkeyAuthentication yes", "PermitRootLogin prohibit-password", "UseDNS no", "MaxStartups 50",
        "Subsystem sftp internal-sftp", f"PidFile {root / 'sshd.pid'}", ""]))
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", exist_ok=True)  # privilege separation directory
    log = root / "sshd.log"
    with log.open("wb") as err:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=err, stderr=err)
    try:
        wait_for_port(port, proc, log)
        yield Sshd(port, client_key, authorized, root)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class CuttingProxy:
    """A TCP relay on loopback in front of sshd that loses the connection on cue: halfway through the first
    chunk of at least ``over`` bytes going ``down`` (server to us) or ``up``, or at once with cut_now()."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.armed: tuple[str, int] | None = None
        self.cuts = 0
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, direction: str, over: int) -> None:
        self.armed = (direction, over)

    def _accept(self) -> None:
        while True:
            try:
                client, _addr = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            upstream.settimeout(None)
            with self._lock:
                self._open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, "up"), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, "down"), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, direction: str) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                armed = self.armed
                if armed and armed[0] == direction and len(data) >= armed[1]:
                    self.armed = None
                    dst.sendall(data[: len(data) // 2])
                    self.cuts += 1
                    break
                dst.sendall(data)
        except OSError:
            pass
        self._shut(src, dst)

    def _shut(self, *socks: socket.socket) -> None:
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def cut_now(self) -> None:
        with self._lock:
            socks, self._open = self._open, []
        self.cuts += 1
        self._shut(*socks)

    def close(self) -> None:
        self.server.close()
        self.cut_now()


@pytest.fixture(autouse=True)
def secret_store(tmp_path, monkeypatch):
    """Secrets in an encrypted file, and known host keys, in this test's own config folder."""
    monkeypatch.setenv("OMS_SECRET_STORE", "file")
    monkeypatch.setenv("OMS_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


@dataclass
class Remote:
    inbox: Path
    outbox: Path

    @property
    def archive(self) -> Path:
        return self.inbox / "archive"

    @property
    def error(self) -> Path:
        return self.inbox / "error"

    def files(self, folder: Path) -> list[str]:
        return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.exists() else []


@pytest.fixture
def remote(tmp_path) -> Remote:
    r = Remote(tmp_path / "remote" / "in", tmp_path / "remote" / "out")
    r.inbox.mkdir(parents=True)
    r.outbox.mkdir(parents=True)
    return r


def transport(sshd: Sshd, remote: Remote, **extra) -> dict:
    return {"kind": "sftp", "host": "127.0.0.1", "port": sshd.port, "user": USER, "inbox": str(remote.inbox),
            "outbox": str(remote.outbox), "key_file": str(sshd.client_key), **extra}


@pytest.fixture
def sftp_db(db, sshd, remote):
    with db.write() as s:
        northwind(s, transport(sshd, remote))
    return db


def channel(db, sshd: Sshd, remote: Remote, *, port: int | None = None, key: Path | None = None) -> EdiSftpChannel:
    return EdiSftpChannel("northwind", db, host="127.0.0.1", port=port or sshd.port, user=USER, inbox=str(remote.inbox),
                          outbox=str(remote.outbox), key_file=key or sshd.client_key, timeout=(3, 5))


@pytest.fixture
def proxy(sshd):
    p = CuttingProxy(sshd.port)
    yield p
    p.close()


def sent_documents(remote: Remote) -> dict[str, list[str]]:
    """Set id -> the outbox files holding it; each file must parse as one whole interchange."""
    out: dict[str, list[str]] = {}
    for name in remote.files(remote.outbox):
        assert not name.startswith("."), f"a temporary file was left behind: {name}"
        [ic] = parse_interchanges((remote.outbox / name).read_text())
        out.setdefault(ic.groups[0].transactions[0].set_id, []).append(name)
    return out


def count(db, model, *where) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_850_in_from_the_remote_inbox_then_997_and_855_into_the_remote_outbox(sftp_db, sshd, remote):
    (remote.inbox / "po1.x12").write_text(an_850())
    ch = channel(sftp_db, sshd, remote)
    engine = Engine(sftp_db, {"northwind": ch})
    (report,) = engine.run_once()
    assert not report.errors and report.pushed == 2
    assert remote.files(remote.inbox) == [] and remote.files(remote.archive) == ["po1.x12"] and remote.files(remote.error) == []
    with sftp_db.read() as s:
        o = s.scalars(select(SalesOrder)).one()
        assert (o.number, o.order_type, o.ship_city) == ("PO4500123", "wholesale", "Sparks")
    docs = sent_documents(remote)
    assert {k: len(v) for k, v in docs.items()} == {"997": 1, "855": 1}
    with sftp_db.read() as s:  # byte for byte the stored document, and marked sent
        for doc in s.scalars(select(EdiDocument).where(EdiDocument.direction == "out")):
            assert doc.status == "sent"
            [name] = [n for n in docs[doc.doc_type]]
            assert (remote.outbox / name).read_text() == doc.raw
    # Sending again after a lost answer finds the files there and sends nothing twice.
    stamps = {n: (remote.outbox / n).stat().st_mtime_ns for n in remote.files(remote.outbox)}
    with sftp_db.write() as s:
        s.execute(OutboxMessage.__table__.update().values(status="pending"))
    (again,) = engine.run_once()
    assert again.pushed == 2 and {n: (remote.outbox / n).stat().st_mtime_ns for n in remote.files(remote.outbox)} == stamps
    ch.close()


def test_garbage_goes_to_the_remote_error_folder_and_quarantine(sftp_db, sshd, remote):
    (remote.inbox / "bad.x12").write_text("this is not EDI at all")
    (remote.inbox / ".partial.tmp").write_text("ISA*00*")  # a hidden file the partner is still writing: left alone
    ch = channel(sftp_db, sshd, remote)
    (report,) = Engine(sftp_db, {"northwind": ch}).run_once()
    ch.close()
    assert not report.errors
    assert remote.files(remote.error) == ["bad.x12"] and remote.files(remote.inbox) == [".partial.tmp"]
    with sftp_db.read() as s:
        (q,) = sync_store.quarantined(s)
        assert "not an X12 file" in q.error and q.raw == "this is not EDI at all"
    assert count(sftp_db, SalesOrder) == 0


def test_a_download_cut_midway_imports_nothing_and_the_next_pull_takes_it_once(sftp_db, sshd, remote, proxy):
    (remote.inbox / "big.x12").write_text(an_850(lines=BIG_LINES, control=60))
    proxy.arm("down", 4000)
    cut = channel(sftp_db, sshd, remote, port=proxy.port)
    (report,) = Engine(sftp_db, {"northwind": cut}).run_once()
    assert proxy.cuts == 1 and report.offline and "was lost while downloading" in report.errors[0]
    assert count(sftp_db, SalesOrder) == 0 and remote.files(remote.inbox) == ["big.x12"]
    with sftp_db.read() as s:
        assert not s.get(ConnectorState, "northwind").online
    (report,) = Engine(sftp_db, {"northwind": cut}).run_once()  # the network is back
    assert not report.errors and not report.offline
    assert count(sftp_db, SalesOrder) == 1 and remote.files(remote.archive) == ["big.x12"]
    assert {k: len(v) for k, v in sent_documents(remote).items()} == {"997": 1, "855": 1}
    cut.close()


def test_an_upload_cut_midway_leaves_no_half_file_and_the_resend_delivers_it_once(sftp_db, sshd, remote, proxy):
    (remote.inbox / "big.x12").write_text(an_850(lines=BIG_LINES, control=61))
    proxy.arm("up", 4000)  # only the 855 of 100 lines is that big going up
    cut = channel(sftp_db, sshd, remote, port=proxy.port)
    engine = Engine(sftp_db, {"northwind": cut})
    (report,) = engine.run_once()
    assert proxy.cuts == 1 and report.offline and "was lost while uploading" in report.errors[0]
    assert count(sftp_db, SalesOrder) == 1
    assert {k: len(v) for k, v in sent_documents_ignoring_tmp(remote).items()} == {"997": 1}  # the 855 is not there, not half
    with sftp_db.read() as s:
        assert s.scalar(select(OutboxMessage.status).where(OutboxMessage.idempotency_key.like("%:855:%"))) == "pending"
    (report,) = engine.run_once()
    assert not report.errors and report.pushed == 1
    docs = sent_documents(remote)
    assert {k: len(v) for k, v in docs.items()} == {"997": 1, "855": 1}
    with sftp_db.read() as s:
        raw = s.scalar(select(EdiDocument.raw).where(EdiDocument.doc_type == "855"))
    assert (remote.outbox / docs["855"][0]).read_text() == raw  # complete
    cut.close()


def sent_documents_ignoring_tmp(remote: Remote) -> dict[str, list[str]]:
    partial = [n for n in remote.files(remote.outbox) if n.startswith(".")]
    for name in partial:  # an upload cut short stays under its temporary name, which the partner does not take
        assert name.endswith(".tmp")
        (remote.outbox / name).unlink()
    return sent_documents(remote)


@pytest.mark.skipif(not hasattr(InboundReport(), "duplicates"),
                    reason="needs duplicate-interchange detection in import_interchanges (InboundReport.duplicates)")
def test_a_file_imported_whose_move_to_archive_was_cut_is_not_imported_twice(sftp_db, sshd, remote, proxy):
    (remote.inbox / "po.x12").write_text(an_850(control=62))
    cut = channel(sftp_db, sshd, remote, port=proxy.port)

    def lose_the_network(*_args):  # right after the import commits, before the file is moved
        if not proxy.cuts:
            proxy.cut_now()

    event.listen(sftp_db.engine, "commit", lose_the_network)
    with pytest.raises(Offline, match="was lost while moving"):
        cut.pull_orders(None)
    event.remove(sftp_db.engine, "commit", lose_the_network)
    assert count(sftp_db, SalesOrder) == 1 and remote.files(remote.inbox) == ["po.x12"]
    (report,) = Engine(sftp_db, {"northwind": cut}).run_once()
    assert not report.errors
    assert remote.files(remote.inbox) == [] and remote.files(remote.archive) == ["po.x12"]
    assert count(sftp_db, SalesOrder) == 1
    assert count(sftp_db, EdiDocument, EdiDocument.direction == "in", EdiDocument.doc_type == "850") == 1
    assert {k: len(v) for k, v in sent_documents(remote).items()} == {"997": 1, "855": 1}
    cut.close()


def test_a_wrong_key_is_a_refused_login_and_the_documents_wait(sftp_db, sshd, remote, tmp_path):
    (remote.inbox / "po.x12").write_text(an_850(control=63))
    wrong = channel(sftp_db, sshd, remote, key=keygen(tmp_path / "not_authorized"))
    assert wrong.take_in("po.x12", (remote.inbox / "po.x12").read_bytes())  # as if taken in before the key changed
    (report,) = Engine(sftp_db, {"northwind": wrong}).run_once()
    message = f"SFTP login to 127.0.0.1:{sshd.port} as {USER} was refused: check the key or password in Settings."
    assert report.errors[0] == message and report.failed == 0
    with sftp_db.read() as s:
        assert s.get(ConnectorState, "northwind").last_error == message
        assert set(s.scalars(select(OutboxMessage.status))) == {"pending"}  # not failed: they go once the key is fixed
    assert remote.files(remote.outbox) == []


def test_no_server_is_offline(sftp_db, sshd, remote):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    (report,) = Engine(sftp_db, {"northwind": channel(sftp_db, sshd, remote, port=closed_port)}).run_once()
    assert report.offline and "cannot be reached" in report.errors[0]


def test_a_changed_host_key_is_refused(sftp_db, sshd, remote, secret_store):
    ch = channel(sftp_db, sshd, remote)
    ch.pull_orders(None)  # first contact: the host key is written down
    ch.close()
    known = secret_store / "edi_known_hosts"
    assert f"[127.0.0.1]:{sshd.port}" in known.read_text()
    other = keygen(secret_store / "other_host")
    known.write_text(f"[127.0.0.1]:{sshd.port} " + " ".join((other.with_suffix(".pub")).read_text().split()[:2]) + "\n")
    with pytest.raises(LoginRefused, match="different host key"):
        ch.pull_orders(None)


def run_cli(monkeypatch, capsys, *args, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    try:
        code = main.main(list(args))
    except SystemExit as exc:  # argparse
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_adds_an_sftp_partner_whose_passphrase_stays_out_of_the_database(sqlite_db, sshd, remote, tmp_path, secret_store,
                                                                              monkeypatch, capsys, caplog):
    caplog.set_level("DEBUG")
    passphrase = "harbour-crane-7731"
    key = keygen(tmp_path / "locked_key", passphrase)
    with sshd.authorized_keys.open("a") as f:
        f.write(key.with_suffix(".pub").read_text())
    url = str(sqlite_db.engine.url)
    base = ["edi", "partner-add", "northwind", "--name", "Northwind Retail", "--our-id", "QUAYSIDE", "--their-id", "NORTHWIND",
            "--db", url]
    sftp = ["--sftp", f"127.0.0.1:{sshd.port}", "--sftp-user", USER]
    boxes = ["--remote-inbox", str(remote.inbox), "--remote-outbox", str(remote.outbox)]
    # Exactly one of --folder and --sftp, and what SFTP needs.
    code, _out, err = run_cli(monkeypatch, capsys, *base)
    assert code == 2 and "one of the arguments --folder --sftp is required" in err
    code, _out, err = run_cli(monkeypatch, capsys, *base, "--folder", str(tmp_path / "f"), *sftp)
    assert code == 2 and "not allowed with argument" in err
    code, _out, err = run_cli(monkeypatch, capsys, *base, "--folder", str(tmp_path / "f"), "--sftp-user", USER)
    assert code == 2 and "--sftp-user only go with --sftp" in err
    code, _out, err = run_cli(monkeypatch, capsys, *base, *sftp, "--remote-inbox", "/in")
    assert code == 2 and "also needs --remote-outbox" in err
    code, _out, err = run_cli(monkeypatch, capsys, *base, *sftp, *boxes)
    assert code == 2 and "Give the SFTP password with --password-stdin" in err
    code, _out, err = run_cli(monkeypatch, capsys, *base, *sftp, *boxes, "--sftp-key", str(key))
    assert code == 2 and "protected by a passphrase" in err
    code, _out, err = run_cli(monkeypatch, capsys, *base, *sftp, *boxes, "--sftp-key", str(key), "--password-stdin",
                              stdin="not-it\n")
    assert code == 2 and "cannot be read" in err
    code, out, err = run_cli(monkeypatch, capsys, *base, *sftp, *boxes, "--sftp-key", str(key), "--password-stdin",
                             stdin=passphrase + "\n")
    assert code == 0, err
    assert credentials.get_secret(credentials.sftp_secret_name("northwind")) == passphrase
    code, out, _err = run_cli(monkeypatch, capsys, "edi", "partners", "--db", url)
    assert f"sftp: {USER}@127.0.0.1:{sshd.port} in {remote.inbox}, out {remote.outbox}, key {key}" in out
    # The sync reads the passphrase from the secret store and logs in with the locked key.
    (remote.inbox / "po.x12").write_text(an_850(control=64))
    channels, _carriers, _intervals, problems = build_connectors(sqlite_db, ["northwind"])
    assert problems == [] and isinstance(channels["northwind"], EdiSftpChannel)
    (report,) = Engine(sqlite_db, channels).run_once()
    channels["northwind"].close()
    assert not report.errors and remote.files(remote.archive) == ["po.x12"]
    assert {k: len(v) for k, v in sent_documents(remote).items()} == {"997": 1, "855": 1}
    # By hand: a new passphrase, then the remote inbox taken in at once.
    code, out, err = run_cli(monkeypatch, capsys, "edi", "partner-password", "northwind", "--password-stdin", "--db", url,
                             stdin=passphrase + "\n")
    assert code == 0 and "Stored the SFTP password of northwind" in out, err
    (remote.inbox / "po2.x12").write_text(an_850(po="PO4500124", control=65))
    code, out, err = run_cli(monkeypatch, capsys, "edi", "import", "--partner", "northwind", "--db", url)
    assert code == 0 and "pulled" in out and remote.files(remote.archive) == ["po.x12", "po2.x12"], out + err
    sqlite_db.dispose()
    secret = passphrase.encode()
    for path in [*tmp_path.glob("oms.sqlite3*"), *secret_store.rglob("*")]:
        if path.is_file():
            assert secret not in path.read_bytes(), path
    assert passphrase not in caplog.text and passphrase not in repr(channels["northwind"])


def test_a_password_partner_without_a_stored_password_is_a_problem_not_a_crash(db):
    with db.write() as s:
        northwind(s, {"kind": "sftp", "host": "sftp.northwind.example", "user": "quayside", "inbox": "/in", "outbox": "/out"})
    channels, _carriers, _intervals, problems = build_connectors(db)
    assert channels == {} and problems == ["northwind: no SFTP password stored; store it with: "
                                           "edi partner-password northwind --password-stdin"]
    credentials.set_secret(credentials.sftp_secret_name("northwind"), "s3cret")
    channels, _carriers, _intervals, problems = build_connectors(db, timeout=(1, 3))
    assert problems == [] and channels["northwind"].connect_timeout == 1
