"""Every kind of connection can be tried before it is trusted: one cheap call with its address and secret, answered
in words, a refused secret said as such. And a kind's own settings are set when it is added, checked as typed.

Real processes and the emulators on loopback; the kinds come from the registry, so a new connector is tried too."""

import pytest

from oms.core.db import Database
from oms.core.errors import InvalidInput
from oms.integration import sync_store
from sync import registry
from sync.base import CredentialsRefused
from tests.sync.test_channels_cli import env, run  # noqa: F401 - the fixture and the runner of the CLI tests

KINDS = [s.kind for s in registry.specs() if s.emulator is not None]


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_answers_its_test_in_words_and_refuses_a_wrong_secret_as_such(kind):
    spec = registry.spec(kind)
    secret = spec.demo_secret("tryme")
    assert spec.test is not None, f"{spec.title} has no connection test"
    with spec.emulator(secret) as emu:
        answer = registry.try_connection(spec, "try", emu.url, secret, registry.options(spec), max_attempts=1, timeout=10)
        assert answer and "accepted" in answer or "answered" in answer, answer
        wrong = spec.demo_secret("wrong")
        with pytest.raises(CredentialsRefused):
            registry.try_connection(spec, "try", emu.url, wrong, registry.options(spec), max_attempts=1, timeout=10)


def test_the_command_line_tries_a_connection_and_says_why_it_failed(env):  # noqa: F811 - the fixture
    spec = registry.spec("woocommerce")
    with spec.emulator("ck_cli:cs_cli") as emu:
        emu.seed_orders(3, ["MUG-RED"])
        assert run(env, "channel", "add", "woocommerce", "--name", "Harbor", "--url", emu.url, "--token-stdin",
                   stdin="ck_cli:cs_cli\n").returncode == 0
        out = run(env, "channel", "test", "harbor")
        assert out.returncode == 0, out.stderr
        assert "The shop answered: 3 orders." in out.stdout
        assert run(env, "channel", "add", "woocommerce", "--name", "Other", "--url", emu.url, "--token-stdin",
                   stdin="ck_cli:cs_wrong\n").returncode == 0
        out = run(env, "channel", "test", "other")
        assert out.returncode == 1
        assert "other did not connect" in out.stderr and "refused" in out.stderr.lower()
    out = run(env, "channel", "test", "nowhere")
    assert out.returncode != 0 and "no channel connection nowhere" in out.stderr


def test_a_kinds_settings_are_set_when_it_is_added_and_checked_as_typed(env):  # noqa: F811 - the fixture
    keys = "amzn1.application-oa2-client.a amzn1.oa2-cs.v1.a Atzr|a\n"
    out = run(env, "channel", "add", "amazon", "--name", "EU store", "--url", "https://sellingpartnerapi-eu.amazon.com",
              "--set", "marketplace_ids=A1F83G8C2ARO7P, A1PA6795UKMFR9", "--set", "stock_buffer=2", "--token-stdin", stdin=keys)
    assert out.returncode == 0, out.stderr
    db = Database(env["OMS_DATABASE_URL"])
    with db.read() as s:
        (conn,) = [c for c in sync_store.connectors(s) if c.code == "eu-store"]
    assert conn.options["marketplace_ids"] == ["A1F83G8C2ARO7P", "A1PA6795UKMFR9"] and conn.options["stock_buffer"] == 2
    kinds = run(env, "channel", "kinds")
    assert "--set marketplace_ids=" in kinds.stdout and "Marketplaces" in kinds.stdout

    for bad, says in [("colour=red", "takes no setting 'colour'"), ("stock_buffer=-1", "Stock buffer: A whole number"),
                      ("stock_buffer", "SETTING=VALUE")]:
        out = run(env, "channel", "add", "amazon", "--name", "Bad", "--set", bad, "--token-stdin", stdin=keys)
        assert out.returncode != 0 and says in out.stderr, out.stderr
    with db.read() as s:
        assert [c.code for c in sync_store.connectors(s)] == ["eu-store"]  # nothing of the refused ones written
    db.dispose()


def test_settings_parse_what_people_type():
    assert registry.location_map("rno=655441491, EWR=2") == {"RNO": "655441491", "EWR": "2"}
    with pytest.raises(InvalidInput, match="our code=their id"):
        registry.location_map("RNO")
    assert registry.words_list(" a, b  c,") == ["a", "b", "c"]
