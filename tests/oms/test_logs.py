"""The station's log file: rotation, the tail support reads, and secrets taken out before anything is written."""

from __future__ import annotations

import logging

import pytest

from oms.core import logs


@pytest.fixture
def log_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("OMS_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(logs, "_known", set())
    path = logs.setup()
    yield path
    for h in list(logging.getLogger().handlers):
        if isinstance(h, logs._StationLog):
            logging.getLogger().removeHandler(h)
            h.close()


@pytest.mark.parametrize("line, secret", [
    ("GET /admin/api/2024-10/orders.json headers={'X-Shopify-Access-Token': 'shpat_0123456789abcdef0123456789abcdef'}",
     "shpat_0123456789abcdef0123456789abcdef"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9.payload.sig"),
    ("authorization=Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ("connecting to postgresql+psycopg://quayside:hunter2@db.example/oms", "hunter2"),
    ('{"api_key": "EZTK1234567890abcdefGHIJ", "mode": "test"}', "EZTK1234567890abcdefGHIJ"),
    ("sftp login user=acme password=s3cr3t-pw host=edi.example", "s3cr3t-pw"),
    ("retrying with access_token=abc123def456&page=2", "abc123def456"),
])
def test_secrets_of_every_shape_are_taken_out(line, secret):
    cleaned = logs.redact(line)
    assert secret not in cleaned and logs.REDACTED in cleaned


def test_ordinary_warehouse_words_are_left_alone():
    line = "Picked 3 of MUG-RED-12OZ from bin A-01-1 for order #1042, tracking 9400111899223100012345, shipping 2 boxes"
    assert logs.redact(line) == line


def test_a_remembered_secret_is_taken_out_whatever_surrounds_it(log_dir):
    token = "demo_Zq8-unusual-shape-no-pattern-knows"
    assert token in logs.redact(f"pulled with {token}")  # no pattern knows this shape …
    logs.remember_secret(token)  # … until the credential store hands it out
    logging.getLogger("quayside.test").warning("pulled with %s then %s", token, token.upper())
    try:
        raise RuntimeError(f"refused {token}")
    except RuntimeError:
        logging.getLogger("quayside.test").exception("sync failed")
    for h in logging.getLogger().handlers:
        h.flush()
    written = log_dir.read_text()
    assert "pulled with [redacted]" in written and "sync failed" in written and "RuntimeError: refused [redacted]" in written
    assert token not in written


def test_the_log_rotates_and_the_tail_reaches_into_the_older_file(log_dir, monkeypatch):
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logs._StationLog))
    monkeypatch.setattr(handler, "maxBytes", 4000)
    log = logging.getLogger("quayside.test")
    for i in range(400):
        log.info("line %04d %s", i, "x" * 40)
    handler.flush()
    rotated = sorted(p.name for p in log_dir.parent.iterdir())
    assert rotated == ["quayside.log", *(f"quayside.log.{i}" for i in range(1, logs.BACKUPS + 1))]
    tail = logs.tail(120)
    assert len(tail) == 120 and tail[-1].split(" line ")[1].startswith("0399")
    assert [int(t.split(" line ")[1][:4]) for t in tail] == list(range(280, 400))


def test_setup_twice_keeps_one_handler_and_a_new_folder_replaces_the_old(log_dir, tmp_path, monkeypatch):
    logs.setup()
    assert sum(isinstance(h, logs._StationLog) for h in logging.getLogger().handlers) == 1
    monkeypatch.setenv("OMS_LOG_DIR", str(tmp_path / "other"))
    path = logs.setup()
    ours = [h for h in logging.getLogger().handlers if isinstance(h, logs._StationLog)]
    assert len(ours) == 1 and ours[0].baseFilename == str(path)


def test_an_unwritable_log_folder_leaves_quayside_running_without_a_log(tmp_path, monkeypatch, capsys):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("a file where the log folder should be")
    monkeypatch.setenv("OMS_LOG_DIR", str(blocked / "logs"))
    assert logs.setup() is None
    assert "Quayside keeps no log file" in capsys.readouterr().err
    assert not any(isinstance(h, logs._StationLog) for h in logging.getLogger().handlers)
    logging.getLogger("quayside.test").warning("still fine")  # nothing breaks


from hypothesis import assume, given, settings as hsettings, strategies as st  # noqa: E402

# What tokens, keys and passwords are made of (the marker's brackets are not among them, so a secret cannot be put
# back together across "[redacted]"; a "secret" that is part of the word "redacted" is not one anybody holds).
_token = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/=:@!$%"),
                 min_size=logs.MIN_SECRET_LENGTH, max_size=60)


@given(secret=_token, before=st.text(max_size=40), after=st.text(max_size=40))
@hsettings(max_examples=300, deadline=None)
def test_a_known_secret_never_survives_redaction_wherever_it_sits(secret, before, after):
    assume(secret not in logs.REDACTED)
    cleaned = logs.redact(f"{before}{secret}{after}", [secret])
    assert secret not in cleaned
