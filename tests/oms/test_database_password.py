"""A shared database's password lives in the secret store; the settings file names the server without it."""

from __future__ import annotations

from oms.core import secrets
from oms.core.db import resolve_url
from oms.core.settings import Settings


def test_the_password_goes_to_the_secret_store_and_comes_back_to_connect(tmp_path, monkeypatch):
    monkeypatch.setenv("OMS_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("OMS_SECRET_STORE", "file")
    monkeypatch.delenv("OMS_DATABASE_URL", raising=False)
    typed = "postgresql://packer:S3cret%2Fpw@db.warehouse:5433/quayside"
    settings = Settings()
    settings.database_url = secrets.store_database_password(typed)
    settings.save()
    written = Settings.path().read_text()
    assert "S3cret" not in written and "postgresql://packer@db.warehouse:5433/quayside" in written
    assert "S3cret" not in (tmp_path / "secrets.enc").read_bytes().decode("latin-1"), "kept encrypted"
    assert resolve_url() == typed
    # Another server, or none kept: the address is used as it is, and libpq asks the server as usual.
    assert secrets.with_database_password("postgresql://packer@other:5432/quayside") == "postgresql://packer@other:5432/quayside"


def test_addresses_without_a_password_are_left_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("OMS_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("OMS_SECRET_STORE", "file")
    for url in ("", "sqlite:////data/quayside.sqlite3", "postgresql://packer@db/quayside"):
        assert secrets.store_database_password(url) == url
        assert secrets.without_password(url) == url
    assert secrets.without_password("postgresql://pac") == "postgresql://pac"  # half typed
    assert not (tmp_path / "secrets.enc").exists()
