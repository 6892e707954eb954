"""ERP webhook: each invoice, credit note and shipment POSTed as JSON to the ERP's HTTPS endpoint, signed.

The body is ``{"id", "topic", "data"}`` in compact, key-sorted JSON, sent as the exact bytes that were
signed. Headers: ``X-Quayside-Signature: sha256=<hex HMAC-SHA256 of the body under the shared secret>``
(the secret is kept in the secret store, never in the database), ``Idempotency-Key`` (the outbox row's key,
the same on every try), and ``X-Quayside-Topic``. The receiver answers 2xx once it has the record (again
2xx for a key it already has); 401/403 means it refused the signature (the secret is wrong: nothing is
sent until it is replaced); 5xx and timeouts are tried again later, with the same key, so a record the
receiver stored before it failed to answer is not stored twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlsplit

from oms.core.errors import InvalidInput
from oms.core.i18n import _

from ..base import OutboundMessage, PermanentError
from ..emulators.erp_webhook import ErpWebhookEmulator
from ..http import HttpClient
from ..registry import ConnectorSpec
from .records import TOPICS, record

SIGNATURE_HEADER = "X-Quayside-Signature"
TOPIC_HEADER = "X-Quayside-Topic"


def body_of(message: OutboundMessage) -> bytes:
    return json.dumps(record(message), separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class Webhook:
    def __init__(self, code: str, url: str, secret: str, *, client: HttpClient | None = None, **http_options):
        self.code = code
        self.url = url
        self._secret = secret
        self.client = client or HttpClient(url, **http_options)

    def push(self, message: OutboundMessage) -> dict[str, Any]:
        if message.topic not in TOPICS:
            raise PermanentError(_("The ERP hand-off does not send {topic}.").format(topic=message.topic))
        body = body_of(message)
        reply = self.client.request("POST", self.url, content=body, idempotent=True, headers={
            "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.idempotency_key,
            SIGNATURE_HEADER: signature(self._secret, body), TOPIC_HEADER: message.topic})
        return reply.data if isinstance(reply.data, dict) else {"status": reply.status}

    def check_connection(self) -> str:
        """A signed ping: the receiver checks the signature and stores nothing."""
        body = json.dumps({"ping": True}, separators=(",", ":")).encode()
        reply = self.client.request("POST", self.url, content=body, idempotent=True, headers={
            "Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: signature(self._secret, body),
            TOPIC_HEADER: "ping"})
        return _("The ERP endpoint accepted a signed test call ({status}).").format(status=reply.status)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def parse_endpoint(text: str) -> str:
    """The ERP's endpoint: HTTPS (invoices are not sent in clear), or plain HTTP to this machine (a test receiver)."""
    text = (text or "").strip()
    parts = urlsplit(text)
    if parts.scheme == "https" and parts.hostname:
        return text
    if parts.scheme == "http" and parts.hostname in LOOPBACK:
        return text
    raise InvalidInput(_("The ERP endpoint must be an https:// address (http:// only to this computer), not {url!r}.")
                       .format(url=text))


def _build(code: str, base_url: str, secret: str, options: dict, **http_options) -> Webhook:
    return Webhook(code, base_url, secret, **http_options)


SPEC = ConnectorSpec(
    kind="webhook", role="erp", title=_("ERP webhook"), build=_build,
    address_title=_("Endpoint"), address_hint="https://erp.example.com/hooks/quayside",
    secret_title=_("Shared signing secret"), secret_hint=_("the secret the ERP checks signatures with"),
    default_interval_s=30, subscribes=TOPICS,
    test=lambda connector: connector.check_connection(),
    parse_address=parse_endpoint,
    emulator=lambda secret, port=0, state_file=None, **kw: ErpWebhookEmulator(secret=secret, port=port,
                                                                             state_file=state_file, **kw),
)
