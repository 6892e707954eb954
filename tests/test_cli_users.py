"""`user` and `audit` on the command line, as real processes on a real SQLite file: the first admin, people with
roles and badges, the permission checks a named user gets, lockout undone, and the audit trail read and checked."""

from __future__ import annotations

import json
import sqlite3

import pypdfium2
import pytest
import zxingcpp

from tests.test_cli import run


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'people.sqlite3'}"


def _pw(out: str) -> str:
    return out.strip().rsplit(": ", 1)[1]


def test_people_on_the_command_line(url, tmp_path):
    first = run("user", "add", "ada", "--name", "Ada Admin", "--role", "admin", "--db", url)
    once = _pw(first.stdout)
    assert "One-time password" in first.stdout and len(once) >= 8
    # From now on commands run as a named Quayside user, checked like the screens.
    refused = run("user", "add", "maria", "--name", "Maria", "--role", "packer", "--db", url, "--user", "nobody",
                  check=False)
    assert refused.returncode == 2 and "'nobody' is not an active Quayside user" in refused.stderr
    proc = run_stdin(["user", "add", "maria", "--name", "Maria Lopez", "--role", "packer", "--pin-stdin",
                      "--password-stdin", "--db", url, "--user", "ada"], "maria's password\n2468\n")
    assert "Added maria (packer)." in proc.stdout and "One-time" not in proc.stdout
    run("user", "add", "rita", "--name", "Rita", "--role", "supervisor", "--location", "EWR", "--db", url, "--user", "ada")
    no = run("user", "lock", "rita", "--db", url, "--user", "maria", check=False)
    assert no.returncode == 2 and "Maria Lopez (packer) may not manage users; an admin can (users.manage)." in no.stderr
    run("user", "grant", "maria", "customer_service", "--db", url, "--user", "ada")
    run("user", "lock", "rita", "--db", url, "--user", "ada")
    listed = {u["username"]: u for u in json.loads(run("user", "list", "--json", "--db", url, "--user", "ada").stdout)}
    assert listed["maria"]["role"] == "customer_service" and listed["maria"]["pin"] and listed["maria"]["password"]
    assert listed["rita"]["locked"] and listed["rita"]["locations"] == ["EWR"]
    assert listed["ada"]["must_change_password"] and listed["maria"]["badge"].startswith("QB")
    run("user", "unlock", "rita", "--db", url, "--user", "ada")
    again = run("user", "passwd", "rita", "--db", url, "--user", "ada")
    assert "One-time password" in again.stdout

    # Badge labels: the Code 128 a scanner reads is the user's badge code.
    out = tmp_path / "badges.pdf"
    run("user", "badge", "maria", "rita", "--out", str(out), "--db", url, "--user", "ada")
    pdf = pypdfium2.PdfDocument(str(out))
    assert len(pdf) == 2
    image = pdf[0].render(scale=4).to_pil()
    codes = [r.text for r in zxingcpp.read_barcodes(image)]
    assert codes == [listed["maria"]["badge"]]
    assert "Maria Lopez" in pdf[0].get_textpage().get_text_range()

    # Nothing secret is kept in clear.
    path = url.removeprefix("sqlite:///")
    with open(path, "rb") as f:
        raw = f.read()
    for secret in (b"maria's password", b"2468", once.encode()):
        assert secret not in raw

    # The trail: who did what, filtered, as JSON; and check finds it whole, then finds the edit.
    trail = json.loads(run("audit", "list", "--user", "ada", "--action", "user", "--json", "--db", url, "--as", "ada").stdout)
    assert {e["action"] for e in trail} >= {"user.added", "user.locked", "user.unlocked", "user.role_changed"}
    assert all(e["user"] == "ada" and e["station"] == "cli" for e in trail)
    text = run("audit", "list", "--action", "user.locked", "--db", url, "--as", "ada").stdout
    assert "ada@cli" in text and "user.locked" in text and "rita" in text
    bad = run("audit", "list", "--from", "yesterday", "--db", url, check=False)
    assert bad.returncode == 2 and "a date is YYYY-MM-DD" in bad.stderr
    assert "No problems found" in run("check", "--db", url).stdout
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER audit_event_no_update")
        conn.execute("UPDATE audit_event SET user = 'maria' WHERE action = 'user.locked'")
    found = run("check", "--db", url, check=False)
    assert found.returncode == 1 and "[audit]" in found.stdout and "was changed after it was written" in found.stdout


def run_stdin(args, stdin: str):
    import os
    import subprocess
    import sys

    from tests.test_cli import ROOT

    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ}, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc
