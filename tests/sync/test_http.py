"""The HTTP client over real loopback HTTP: retries, backoff, 429/Retry-After, timeouts, drops, bad bodies."""

import logging
import random
import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from sync.base import Offline, PermanentError, RemoteError
from sync.emulators._server import EmulatorServer, FakeClock, HttpError, Response
from sync.http import HttpClient, parse_link_header, parse_retry_after, remote_message


class TinyApi(EmulatorServer):
    """A handful of endpoints whose misbehaviour the test scripts."""

    name = "tiny"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.fail_next = 0
        self.fail_status = 503
        self.retry_after: str | None = None
        self.seen_auth: list[str | None] = []
        self.route("GET", r"/ok", lambda q: {"ok": True})
        self.route("POST", r"/ok", lambda q: Response(201, {"ok": True, "got": q.json()}))
        self.route("GET", r"/flaky", self._flaky)
        self.route("GET", r"/shopify-404", lambda q: Response(404, {"errors": "Not Found"}))
        self.route("POST", r"/shopify-422", lambda q: Response(422, {"errors": {"base": ["Cannot cancel"], "reason": ["is invalid"]}}))
        self.route("POST", r"/easypost-422", lambda q: Response(422, {"error": {"code": "ADDRESS.VERIFY.FAILURE", "message": "Unable to verify address.",
                                                                               "errors": [{"field": "zip", "message": "is not valid"}]}}))
        self.route("GET", r"/html-400", lambda q: Response(400, "<html>nope</html>", content_type="text/html"))
        self.route("GET", r"/bucket", lambda q: Response(200, {"ok": True}, {"X-Shopify-Shop-Api-Call-Limit": "39/40"}))
        self.route("GET", r"/whoami", self._whoami)

    def _flaky(self, req):
        if self.fail_next > 0:
            self.fail_next -= 1
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            raise HttpError(self.fail_status, {"errors": "try again"}, headers)
        return {"ok": True}

    def _whoami(self, req):
        self.seen_auth.append(req.headers.get("Authorization") or req.headers.get("X-Shopify-Access-Token"))
        return {"ok": True}


@pytest.fixture
def api():
    with TinyApi(seed=7) as server:
        yield server


@pytest.fixture
def clock():
    return FakeClock()


def client_for(server, clock, **kw):
    kw.setdefault("timeout", (1.0, 2.0))
    return HttpClient(server.url, headers={"X-Shopify-Access-Token": "shpat_SECRET"}, sleep=clock.sleep, rng=random.Random(1), **kw)


def test_plain_get_and_post(api, clock):
    c = client_for(api, clock)
    assert c.get("ok").data == {"ok": True}
    assert c.post("/ok", json_body={"a": "12.30"}).data == {"ok": True, "got": {"a": "12.30"}}
    assert clock.sleeps == []


def test_5xx_is_retried_with_full_jitter_then_succeeds(api, clock):
    api.fail_next = 3
    c = client_for(api, clock, backoff_base=0.5, backoff_max=30)
    assert c.get("flaky").data == {"ok": True}
    assert len(clock.sleeps) == 3
    for attempt, slept in enumerate(clock.sleeps, 1):
        assert 0 <= slept <= 0.5 * 2 ** (attempt - 1)
    assert [s for _, p, s in api.calls if p == "/flaky"] == [503, 503, 503, 200]


def test_5xx_that_persists_becomes_a_retryable_remote_error(api, clock):
    api.fail_next = 99
    api.fail_status = 502
    with pytest.raises(RemoteError) as err:
        client_for(api, clock, max_attempts=4).get("flaky")
    assert err.value.retryable and err.value.status == 502
    assert "try again" in str(err.value)
    assert len([1 for _, p, _ in api.calls if p == "/flaky"]) == 4


def test_408_is_retried(api, clock):
    api.fail_next, api.fail_status = 1, 408
    assert client_for(api, clock).get("flaky").data == {"ok": True}


def test_429_honours_retry_after_seconds(api, clock):
    api.fail_next, api.fail_status, api.retry_after = 2, 429, "7"
    assert client_for(api, clock).get("flaky").data == {"ok": True}
    assert clock.sleeps == [7.0, 7.0]


def test_429_honours_retry_after_as_http_date(api, clock):
    when = datetime.now(timezone.utc) + timedelta(seconds=20)
    api.fail_next, api.fail_status, api.retry_after = 1, 429, format_datetime(when, usegmt=True)
    assert client_for(api, clock).get("flaky").data == {"ok": True}
    assert len(clock.sleeps) == 1 and 17 <= clock.sleeps[0] <= 20


def test_a_long_retry_after_is_handed_to_the_outbox_not_slept(api, clock):
    api.fail_next, api.fail_status, api.retry_after = 5, 429, "3600"
    with pytest.raises(RemoteError) as err:
        client_for(api, clock, backoff_max=30).get("flaky")
    assert err.value.status == 429 and err.value.retry_after == 3600 and err.value.retryable
    assert clock.sleeps == []


def test_4xx_is_permanent_with_the_remote_words(api, clock):
    c = client_for(api, clock)
    with pytest.raises(PermanentError) as err:
        c.get("shopify-404")
    assert err.value.status == 404 and "Not Found" in str(err.value) and not err.value.retryable
    with pytest.raises(PermanentError) as err:
        c.post("shopify-422", json_body={})
    assert "Cannot cancel" in str(err.value) and "reason: is invalid" in str(err.value)
    with pytest.raises(PermanentError) as err:
        c.post("easypost-422", json_body={})
    assert "Unable to verify address." in str(err.value) and "zip: is not valid" in str(err.value)
    with pytest.raises(PermanentError) as err:
        c.get("html-400")
    assert "400" in str(err.value)
    assert clock.sleeps == []


def test_malformed_json_is_retried_then_a_plain_error(api, clock):
    api.set_faults(rate_malformed=1.0)
    with pytest.raises(RemoteError) as err:
        client_for(api, clock, max_attempts=3).get("ok")
    assert "not valid JSON" in str(err.value) and err.value.retryable
    assert len(clock.sleeps) == 2


def test_dropped_connections_are_retried_for_get_and_end_offline(api, clock):
    api.set_faults(rate_drop=1.0)
    with pytest.raises(Offline):
        client_for(api, clock, max_attempts=3).get("ok")
    assert len(clock.sleeps) == 2
    api.clear_faults()
    assert client_for(api, clock).get("ok").data == {"ok": True}


def test_a_post_whose_answer_was_lost_is_not_repeated(api, clock):
    api.set_faults(rate_drop=1.0)
    with pytest.raises(Offline):
        client_for(api, clock).post("ok", json_body={})
    assert len([1 for m, p, _ in api.calls if m == "POST"]) == 1  # the outbox retries it, reading first
    assert clock.sleeps == []


def test_slow_answers_time_out_and_end_offline(api, clock):
    api.set_faults(rate_slow=1.0, slow_seconds=0.6)
    with pytest.raises(Offline) as err:
        client_for(api, clock, timeout=(0.5, 0.2), max_attempts=2).get("ok")
    assert "timed out" in str(err.value)


def test_nobody_listening_is_offline(clock):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = HttpClient(f"http://127.0.0.1:{port}", sleep=clock.sleep, max_attempts=3)
    with pytest.raises(Offline):
        c.post("anything", json_body={})  # never sent, so even a POST may be tried again
    assert len(clock.sleeps) == 2


def test_near_the_call_limit_the_client_slows_down(api, clock):
    c = client_for(api, clock, bucket_leak_per_second=2.0, bucket_headroom=4)
    c.get("bucket")
    assert clock.sleeps and clock.sleeps[0] == pytest.approx(2.0)  # 39/40: wait for 4 calls to leak out


def test_credentials_go_only_to_the_api_host(api, clock):
    with TinyApi() as other:
        c = client_for(api, clock)
        c.get("whoami")
        c.get(f"{other.url}/whoami")  # e.g. a label file on a CDN
    assert api.seen_auth == ["shpat_SECRET"]
    assert other.seen_auth == [None]


def test_nothing_secret_is_logged(api, clock, caplog):
    caplog.set_level(logging.DEBUG)
    api.fail_next = 1
    c = HttpClient(api.url, headers={"X-Shopify-Access-Token": "shpat_SECRET"}, auth=("EZAK_SECRET", ""), sleep=clock.sleep)
    c.get("flaky", params={"page_info": "abc"})
    assert "SECRET" not in caplog.text and "flaky" in caplog.text


def test_header_parsers():
    assert parse_retry_after("2.0") == 2.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    links = parse_link_header('<https://s/o.json?page_info=p1&limit=3>; rel="previous", <https://s/o.json?page_info=n2&limit=3>; rel="next"')
    assert links == {"previous": "https://s/o.json?page_info=p1&limit=3", "next": "https://s/o.json?page_info=n2&limit=3"}
    assert remote_message({"errors": ["a", "b"]}) == "a; b"
    assert remote_message({"error": "invalid_request", "error_description": "bad"}) == "invalid_request: bad"
    assert remote_message("oops") == ""


def test_an_error_on_screen_reads_without_its_request_line():
    from sync.http import plain_error

    assert plain_error("GET /admin/api/2024-10/orders.json: could not connect (ConnectionError)") == "could not connect"
    assert plain_error("POST /v2/shipments/shp_1/buy: 422 Address invalid") == "422 Address invalid"
    assert plain_error("token refused by the shop: update it in Settings") == "token refused by the shop: update it in Settings"
    assert plain_error("") == ""
