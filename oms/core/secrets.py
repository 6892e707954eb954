"""Secrets (API tokens, SFTP and database passwords): in the operating system's keyring, or where there is none, in an encrypted file.

Never in the database, the settings file or a log. The encrypted file is for headless
Linux stations without a keyring service; its key is derived from this machine's id and
the user, so a copy of the file is useless elsewhere. It is not a defence against
someone who already runs code as this user on this machine; the Settings screen says
which store is in use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from oms.core import logs
from oms.core.errors import OmsError
from oms.core.i18n import _
from oms.core.settings import config_dir

SERVICE = "Quayside"


def sftp_secret_name(code: str) -> str:
    """Where a trading partner's SFTP password, or its key's passphrase, is kept."""
    return f"edi-sftp:{code}"


def _keyring():
    """The OS keyring if a real one is available, else None."""
    if os.environ.get("OMS_SECRET_STORE") == "file":
        return None
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return keyring


def uses_keyring() -> bool:
    """True when tokens go to the operating system's keyring, False for the encrypted-file fallback."""
    return _keyring() is not None


def store_name() -> str:
    kr = _keyring()
    if kr is not None:
        return _("the system keyring ({name})").format(name=type(kr.get_keyring()).__name__)
    return _("an encrypted file ({path}), because this machine has no keyring service").format(path=_file_path())


def _file_path() -> Path:
    return config_dir() / "secrets.enc"


def _fernet():
    from cryptography.fernet import Fernet

    machine = ""
    for candidate in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            machine = Path(candidate).read_text().strip()
            break
        except OSError:
            continue
    salt_path = config_dir() / "secrets.salt"
    if not salt_path.exists():
        salt_path.parent.mkdir(parents=True, exist_ok=True)
        salt_path.write_bytes(os.urandom(16))
        os.chmod(salt_path, 0o600)
    material = f"{machine}:{os.getuid() if hasattr(os, 'getuid') else 0}".encode()
    key = hashlib.pbkdf2_hmac("sha256", material, salt_path.read_bytes(), 200_000, dklen=32)
    return Fernet(base64.urlsafe_b64encode(key))


def _read_file() -> dict[str, str]:
    path = _file_path()
    if not path.exists():
        return {}
    from cryptography.fernet import InvalidToken

    try:
        return json.loads(_fernet().decrypt(path.read_bytes()))
    except (InvalidToken, ValueError) as exc:
        raise OmsError(_("The secrets file {path} cannot be read on this machine; enter the tokens again.").format(path=path)) from exc


def _write_file(data: dict[str, str]) -> None:
    path = _file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(_fernet().encrypt(json.dumps(data).encode()))
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def set_secret(name: str, secret: str) -> None:
    if not secret or not secret.strip():
        raise OmsError(_("The token for {name} is empty.").format(name=name))
    logs.remember_secret(secret)
    kr = _keyring()
    if kr is not None:
        kr.set_password(SERVICE, name, secret.strip())
        return
    data = _read_file()
    data[name] = secret.strip()
    _write_file(data)


def get_secret(name: str) -> str | None:
    kr = _keyring()
    secret = kr.get_password(SERVICE, name) if kr is not None else _read_file().get(name)
    logs.remember_secret(secret)  # whatever this process holds is kept out of its log
    return secret


def delete_secret(name: str) -> None:
    kr = _keyring()
    if kr is not None:
        try:
            kr.delete_password(SERVICE, name)
        except Exception:  # noqa: BLE001 - not there is fine
            pass
        return
    data = _read_file()
    if data.pop(name, None) is not None:
        _write_file(data)


# -- the station's database password ---------------------------------------------------------------------


def database_secret_name(url: str) -> str:
    """Where the password of a shared database is kept: by user, server and database, so two stations'
    settings files name the same server without either holding its password."""
    u = make_url(url)
    return f"database:{u.username or ''}@{u.host or 'localhost'}:{u.port or 5432}/{u.database or ''}"


def store_database_password(url: str) -> str:
    """The address to write in the settings file: a password in it goes to the secret store instead."""
    if not url:
        return url  # the database on this computer
    u = make_url(url)
    if u.get_backend_name() == "sqlite" or not u.password:
        return url
    set_secret(database_secret_name(url), str(u.password))
    return u._replace(password=None).render_as_string(hide_password=False)


def with_database_password(url: str) -> str:
    """The address to connect with: the settings file's, with the password from the secret store, if one is kept."""
    if not url:
        return url
    u = make_url(url)
    if u.get_backend_name() == "sqlite" or u.password:
        return url
    password = get_secret(database_secret_name(url))
    return u.set(password=password).render_as_string(hide_password=False) if password else url


def without_password(url: str) -> str:
    """The address as the settings file keeps it (to compare a typed address with the saved one)."""
    try:
        u = make_url(url)
    except ArgumentError:
        return url  # half typed, or no address at all: nothing to take out
    return url if u.get_backend_name() == "sqlite" or not u.password else u._replace(password=None).render_as_string(
        hide_password=False)
