"""The SFTP transport: the partner's server holds an inbox we collect from and an outbox we deliver to.

A lost connection loses nothing and sends nothing twice. Inbound, a file leaves the remote
inbox only after its import committed; if the move to archive/ is what the network cut, the
file is fetched again next time and its interchange is recognised as already imported.
Outbound, a document is uploaded under a temporary name and renamed into the outbox, so the
partner never sees half a file, and a resend first looks whether the whole file is already there.

The password, or the passphrase of the private key, is kept with the other secrets
(``sync.credentials``) under ``credentials.sftp_secret_name``, never in the database. The server's
host key is trusted on first connection and checked ever after, in ``edi_known_hosts`` in the
settings folder.
"""

from __future__ import annotations

import io
import logging
import posixpath
import socket
import stat
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import paramiko

from oms.core import validate
from oms.core.db import Database
from oms.core.errors import InvalidInput, OmsError
from oms.core.i18n import _
from oms.core.settings import config_dir
from oms.core.types import LINE, NAME, SHORT
from oms.partners import edi

from ... import credentials
from ...base import Offline, PullPage, RemoteError
from .transport import EdiTransportChannel

log = logging.getLogger("quayside.sync.sftp")

CONNECT_TIMEOUT_S = 15.0
OPERATION_TIMEOUT_S = 60.0
REUSE_IDLE_S = 30.0  # an older idle connection may have been dropped by a firewall: open a fresh one


def known_hosts_path() -> Path:
    return config_dir() / "edi_known_hosts"


def _exists(sftp: paramiko.SFTPClient, path: str) -> bool:
    try:
        sftp.stat(path)
    except FileNotFoundError:
        return False
    return True


def _said(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class LoginRefused(RemoteError):
    """The server turned us away (credentials, host key): only a person can fix it. Not a PermanentError,
    so the documents waiting for this partner stay queued instead of failing one by one."""

    def __init__(self, message: str):
        super().__init__(message, retryable=False)


class PassphraseNeeded(OmsError):
    """The key file is encrypted and no passphrase was given."""


def load_key(path: str | Path, passphrase: str | None = None) -> paramiko.PKey:
    """The private key in ``path`` (OpenSSH or PEM; Ed25519, ECDSA or RSA), decrypted with ``passphrase``."""
    try:
        return paramiko.PKey.from_path(str(path), passphrase.encode() if passphrase else None)
    except (paramiko.PasswordRequiredException, TypeError) as exc:  # cryptography says TypeError for OpenSSH-format keys
        if passphrase:
            raise OmsError(_("The key file {path} cannot be read: {error}").format(path=path, error=exc)) from exc
        raise PassphraseNeeded(_("The key file {path} is protected by a passphrase; give it with --password-stdin.").format(path=path)) from exc
    except FileNotFoundError as exc:
        raise OmsError(_("There is no key file {path}.").format(path=path)) from exc
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise OmsError(_("The key file {path} cannot be read (wrong passphrase, or not a private key): {error}").format(
            path=path, error=exc)) from exc


class _TrustOnFirstUse(paramiko.MissingHostKeyPolicy):
    """A server seen for the first time is written down; a changed key later is refused (BadHostKeyException)."""

    def missing_host_key(self, client, hostname, key):
        client.get_host_keys().add(hostname, key.get_name(), key)
        path = known_hosts_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        client.save_host_keys(str(path))
        log.warning("trusting the %s host key of %s on first connection (%s)", key.get_name(), hostname, key.fingerprint)


class EdiSftpChannel(EdiTransportChannel):
    """A trading partner reached over SFTP: a remote inbox (with archive/ and error/) and a remote outbox."""

    def __init__(self, code: str, db: Database, *, host: str, user: str, inbox: str, outbox: str, port: int = 22,
                 archive: str | None = None, error: str | None = None, key_file: str | Path | None = None,
                 secret: str | None = None, timeout: float | tuple[float, float] | None = None):
        super().__init__(code, db)
        self.host, self.port, self.user = host, int(port), user
        self.inbox, self.outbox = inbox, outbox
        self.archive = archive or posixpath.join(inbox, "archive")
        self.error = error or posixpath.join(inbox, "error")
        self.key_file = key_file
        self._secret = secret  # the password, or the key's passphrase; never logged, never stored here
        if timeout is None:
            timeout = (CONNECT_TIMEOUT_S, OPERATION_TIMEOUT_S)
        self.connect_timeout, self.operation_timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self._lock = threading.RLock()  # pull runs on the engine's fetcher thread, push on its caller's
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._used_at = 0.0

    @staticmethod
    def check_settings(transport: dict) -> dict:
        """An SFTP transport's settings, checked: host, port, user, remote inbox and outbox (the password is kept in
        the token store, never here)."""
        transport = dict(transport)
        transport["host"] = validate.text(transport.get("host"), _("SFTP host"), NAME, required=True)
        if any(c.isspace() or c in "/@" for c in transport["host"]):
            raise InvalidInput(_("The SFTP host is a name or address such as sftp.partner.com, not {h!r}.").format(h=transport["host"]))
        port = transport.get("port", 22)
        if isinstance(port, str) and port.strip().isdigit():
            port = int(port)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise InvalidInput(_("The SFTP port is a number from 1 to 65535, not {p!r}.").format(p=port))
        transport["port"] = port
        transport["user"] = validate.text(transport.get("user"), _("SFTP user"), SHORT, required=True)
        transport["inbox"] = validate.text(transport.get("inbox"), _("remote inbox"), LINE, required=True)
        transport["outbox"] = validate.text(transport.get("outbox"), _("remote outbox"), LINE, required=True)
        return transport

    @classmethod
    def for_partner(cls, db: Database, partner: edi.PartnerInfo, *, timeout=None) -> EdiSftpChannel:
        t = partner.transport
        missing = [k for k in ("host", "user", "inbox", "outbox") if not t.get(k)]
        if missing:
            raise OmsError(_("{code}: the SFTP settings lack {fields}.").format(code=partner.code, fields=", ".join(missing)))
        secret = credentials.get_secret(credentials.sftp_secret_name(partner.code))
        if not t.get("key_file") and not secret:
            raise OmsError(_("{code}: no SFTP password stored; store it with: edi partner-password {code} --password-stdin").format(
                code=partner.code))
        return cls(partner.code, db, host=t["host"], port=t.get("port", 22), user=t["user"], inbox=t["inbox"],
                   outbox=t["outbox"], archive=t.get("archive"), error=t.get("error"), key_file=t.get("key_file"),
                   secret=secret, timeout=timeout)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def __repr__(self) -> str:  # no secret in a traceback or a log line
        return f"EdiSftpChannel({self.code!r}, sftp://{self.user}@{self.where})"

    # -- the connection -------------------------------------------------------------------------

    def _connected(self) -> paramiko.SFTPClient:
        """The open SFTP session, or a new one. Call with the lock held."""
        alive = self._client is not None and (tr := self._client.get_transport()) is not None and tr.is_active()
        if alive and time.monotonic() - self._used_at < REUSE_IDLE_S:
            return self._sftp
        self.close()
        refused = _("SFTP login to {where} as {user} was refused: check the key or password in Settings.").format(
            where=self.where, user=self.user)
        pkey = None
        if self.key_file:
            try:
                pkey = load_key(self.key_file, self._secret)
            except OmsError as exc:
                raise LoginRefused(f"{refused} {exc}") from exc
        client = paramiko.SSHClient()
        known = known_hosts_path()
        if known.exists():
            client.load_host_keys(str(known))
        client.set_missing_host_key_policy(_TrustOnFirstUse())
        try:
            client.connect(self.host, self.port, username=self.user, pkey=pkey, password=None if pkey else self._secret,
                           timeout=self.connect_timeout, banner_timeout=self.connect_timeout,
                           auth_timeout=self.connect_timeout, channel_timeout=self.connect_timeout,
                           allow_agent=False, look_for_keys=False)
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(self.operation_timeout)
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise LoginRefused(_("The SFTP server {where} showed a different host key than before ({got}); if {code} really moved "
                                 "its server, remove its line from {known}.").format(
                where=self.where, got=f"{exc.key.get_name()} {exc.key.fingerprint}", code=self.code, known=known)) from exc
        except paramiko.AuthenticationException as exc:
            client.close()
            raise LoginRefused(refused) from exc
        except (OSError, EOFError, paramiko.SSHException) as exc:
            client.close()
            raise Offline(_("The SFTP server {where} cannot be reached: {error}").format(
                where=self.where, error=_said(exc))) from exc
        self._client, self._sftp, self._used_at = client, sftp, time.monotonic()
        return sftp

    def close(self) -> None:
        with self._lock:
            client, self._client, self._sftp = self._client, None, None
            if client is not None:
                client.close()

    @contextmanager
    def _calls(self, doing: str):
        """SFTP calls: a lost connection becomes Offline; anything the server refuses, a RemoteError saying what."""
        try:
            yield
            self._used_at = time.monotonic()
        except RemoteError:
            raise
        except (EOFError, paramiko.SSHException, ConnectionError, socket.timeout) as exc:
            self.close()
            raise Offline(_("The connection to {where} was lost while {doing}: {error}").format(
                where=self.where, doing=doing, error=_said(exc))) from exc
        except paramiko.SFTPError as exc:  # the server broke the SFTP protocol
            self.close()
            raise RemoteError(_("The SFTP server {where} answered nonsense while {doing}: {error}").format(
                where=self.where, doing=doing, error=_said(exc))) from exc
        except OSError as exc:
            lost = not self._alive()
            self.close()
            if lost:
                raise Offline(_("The connection to {where} was lost while {doing}.").format(where=self.where, doing=doing)) from exc
            raise RemoteError(_("The SFTP server {where} refused {doing}: {error}").format(
                where=self.where, doing=doing, error=exc.strerror or exc)) from exc

    def _alive(self) -> bool:
        tr = self._client.get_transport() if self._client is not None else None
        return tr is not None and tr.is_active()

    def _replace(self, sftp: paramiko.SFTPClient, src: str, dst: str) -> None:
        """Rename ``src`` to ``dst``, replacing it, in one step where the server can (OpenSSH's posix-rename)."""
        try:
            sftp.posix_rename(src, dst)
        except OSError as exc:
            if type(exc) is not OSError or not self._alive():  # missing file, no permission, lost connection
                raise
            try:  # a server without posix-rename: plain SFTP rename will not overwrite
                sftp.remove(dst)
            except FileNotFoundError:
                pass
            sftp.rename(src, dst)

    # -- inbound --------------------------------------------------------------------------------

    def pull_orders(self, cursor: str | None) -> PullPage:
        """Take in every file waiting in the remote inbox, oldest first; each file is one transaction."""
        with self._lock:
            sftp = self._connected()
            with self._calls(_("listing {path}").format(path=self.inbox)):
                entries = [e for e in sftp.listdir_attr(self.inbox)
                           if stat.S_ISREG(e.st_mode or 0) and not e.filename.startswith(".")]
            entries.sort(key=lambda e: (e.st_mtime or 0, e.filename))
            if entries:
                with self._calls(_("making {a} and {e}").format(a=self.archive, e=self.error)):
                    for folder in (self.archive, self.error):
                        if not _exists(sftp, folder):
                            sftp.mkdir(folder)
            for entry in entries:
                path = posixpath.join(self.inbox, entry.filename)
                buffer = io.BytesIO()
                with self._calls(_("downloading {path}").format(path=path)):
                    try:
                        sftp.getfo(path, buffer)
                    except FileNotFoundError:
                        continue  # taken away since the listing (by the partner, or another station)
                data = buffer.getvalue()
                if entry.st_size is not None and len(data) != entry.st_size:
                    continue  # the partner is still writing it; it is taken whole on a later pull
                taken = self.take_in(entry.filename, data)
                target = posixpath.join(self.archive if taken else self.error, entry.filename)
                with self._calls(_("moving {path} to {target}").format(path=path, target=target)):
                    try:
                        self._replace(sftp, path, target)
                    except FileNotFoundError:
                        if _exists(sftp, path):
                            raise  # the file is there: it is the target folder that is missing
                        # else another station moved it first; its interchanges are known as already received
        return self.pull_done(cursor)

    # -- outbound -------------------------------------------------------------------------------

    def deliver(self, name: str, text: str) -> str:
        """Upload under a temporary name, then rename into the outbox. A file of that name and size already
        there is the same document from an attempt whose answer was lost: it is not sent again. (Names carry
        our interchange control number, which is never reused; one of another size is replaced by ours.)"""
        data = text.encode("utf-8")
        target = posixpath.join(self.outbox, name)
        tmp = posixpath.join(self.outbox, f".{name}.tmp")
        with self._lock:
            sftp = self._connected()
            with self._calls(_("uploading {path}").format(path=target)):
                try:
                    there = sftp.stat(target).st_size
                except FileNotFoundError:
                    there = None
                if there != len(data):
                    if there is not None:
                        log.warning("%s: %s is in the outbox with %s bytes instead of %s; replacing it", self.code, target,
                                    there, len(data))
                    sftp.putfo(io.BytesIO(data), tmp, file_size=len(data), confirm=True)
                    self._replace(sftp, tmp, target)
        return f"sftp://{self.user}@{self.where}{target if target.startswith('/') else '/' + target}"
