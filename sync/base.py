"""What every connector is: plain dataclasses in and out, remote errors that say what happened."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from oms.orders.contract import NormalizedOrder
from oms.returns.channel import ChannelReturn


class RemoteError(Exception):
    """A remote API refused or failed a call. ``retryable`` says whether trying later may help."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class Offline(RemoteError):
    """The remote could not be reached at all (no network, DNS, refused, timed out)."""


class PermanentError(RemoteError):
    """The remote says the request itself is wrong (4xx other than 408/409/429); retrying will not help."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message, status=status, retryable=False)


class CredentialsRefused(PermanentError):
    """The remote refused our token or password (401/403): nothing works until a person replaces it.
    Not the request's fault: what waits to be sent stays queued for when the token is right."""


@dataclass(frozen=True)
class Quarantine:
    """A remote payload we could not understand: kept whole, with a plain-language reason."""

    external_ref: str
    raw: str
    error: str


@dataclass(frozen=True)
class Cancellation:
    external_id: str
    reason: str
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class PullPage:
    """One page of a channel's orders: the orders it could read, what it could not, and where to go on."""

    orders: list[NormalizedOrder]
    cancellations: list[Cancellation] = field(default_factory=list)
    quarantined: list[Quarantine] = field(default_factory=list)
    next_cursor: str | None = None  # opaque; stored with the page's rows in one transaction
    done: bool = True  # no further page right now
    returns: list[ChannelReturn] = field(default_factory=list)  # items customers send back, to become RMAs


@dataclass(frozen=True)
class OutboundMessage:
    """An outbox row as a connector sees it."""

    id: int
    topic: str
    idempotency_key: str
    payload: dict[str, Any]


# A payload key a connector sets (through ``remember``) while the remote holds a message under a reference the
# connector will come back for (an Amazon feed being processed): such a message is never superseded by a newer
# one for the same thing, since its outcome is still to be read; the newer one goes after it.
IN_FLIGHT = "in_flight"


@dataclass(frozen=True)
class Outcome:
    """What became of one message of a batch (``push_batch``).

    ``sent``: delivered (or nothing to deliver, said in ``detail``); ``failed``: the remote refused it for good, a
    person must look (``detail`` says why); ``retry``: not delivered, try again after ``retry_after`` seconds or
    the outbox's back-off; ``waiting``: the remote has it and has not said yet (``detail`` says what it waits
    for); it is asked again after ``retry_after`` seconds, and is no error; ``superseded``: a newer message of the
    batch makes this one pointless (as the engine's coalescing would have, had it not been in flight); ``later``:
    not in this batch, handed over again with the next.
    """

    state: str
    detail: str = ""
    retry_after: float | None = None

    @classmethod
    def sent(cls, detail: str = "") -> "Outcome":
        return cls("sent", detail)

    @classmethod
    def failed(cls, detail: str) -> "Outcome":
        return cls("failed", detail)

    @classmethod
    def retry(cls, detail: str, retry_after: float | None = None) -> "Outcome":
        return cls("retry", detail, retry_after)

    @classmethod
    def waiting(cls, detail: str, retry_after: float) -> "Outcome":
        return cls("waiting", detail, retry_after)

    @classmethod
    def superseded(cls, detail: str = "") -> "Outcome":
        return cls("superseded", detail)

    @classmethod
    def later(cls) -> "Outcome":
        """Not taken into this batch (the connector finishes an earlier batch first): left as it is, no attempt
        counted, and handed over again with the next batch."""
        return cls("later")


class ChannelConnector(Protocol):
    code: str

    def pull_orders(self, cursor: str | None) -> PullPage:
        """Fetch the next page of orders created or updated since ``cursor``."""

    def push(self, message: OutboundMessage) -> dict[str, Any]:
        """Deliver one outbox message idempotently; return what the remote answered (for the log)."""

    # Optional: ``progress() -> str``, what a pass in hand waits for in words ("next request in 12 s, 34 orders
    # to go"), empty between passes; read from another thread, so it only looks at plain numbers.
    #
    # Optional, for APIs that take many messages in one call: ``batch_topics`` (the topics it takes so),
    # ``batch_limit`` (the most messages one call takes) and
    # ``push_batch(messages, remember) -> dict[message id, Outcome]``. The engine hands it every due message of
    # one of those topics at once, in outbox order after coalescing, and records each outcome on its own.
    # ``remember({message id: payload})`` writes new payloads at once, in one transaction (a step the connector
    # must find again after a crash, such as the id of a feed it submitted). Raising Offline or
    # CredentialsRefused leaves the whole batch waiting, as for one message; any other RemoteError retries it.


@dataclass(frozen=True)
class Parcel:
    weight_g: int
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0


@dataclass(frozen=True)
class AddressData:
    name: str
    company: str
    street1: str
    street2: str
    city: str
    state: str
    zip: str
    country: str
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class RateQuote:
    rate_id: str
    carrier: str
    service: str
    amount_minor: int
    currency: str
    delivery_days: int | None


@dataclass(frozen=True)
class LabelPurchase:
    remote_shipment_id: str
    tracking_number: str
    carrier: str
    service: str
    amount_minor: int
    currency: str
    label_pdf: bytes | None
    label_zpl: bytes | None
    tracker_id: str | None
    label_png: bytes | None = None  # a carrier that only had an image (converted for the printer when printed)

    def labels(self) -> dict[str, bytes]:
        """The label files by our format names, as shipments.attach_label keeps them."""
        return {k: v for k, v in (("pdf", self.label_pdf), ("zpl", self.label_zpl), ("png", self.label_png)) if v}


@dataclass(frozen=True)
class TrackingUpdate:
    tracking_number: str
    status: str  # pre_transit, in_transit, out_for_delivery, delivered, return_to_sender, failure, unknown
    occurred_at: datetime
    description: str = ""
    city: str = ""


class CarrierConnector(Protocol):
    code: str

    def rates(self, ship_from: AddressData, ship_to: AddressData, parcels: list[Parcel], *, reference: str,
              label_format: str | None = None, is_return: bool = False) -> tuple[str, list[RateQuote]]:
        """Create the remote shipment and return (remote shipment id, its rates); ``label_format`` (PDF, ZPL, PNG)
        is what the station's printer takes, None for the connection's default. With ``is_return`` it is a return
        label: the addresses are the outbound shipment's (to the customer, from us) and the carrier swaps them."""

    def buy(self, remote_shipment_id: str, rate_id: str, *, idempotency_key: str,
            label_format: str | None = None) -> LabelPurchase: ...

    def refund(self, remote_shipment_id: str) -> str:
        """Ask for the label to be voided; returns the refund status."""

    def track(self, tracker_or_tracking: str) -> list[TrackingUpdate]: ...


RATE_POLICIES = ("cheapest", "fastest", "cheapest_on_time")


def choose_rate(quotes: list[RateQuote], policy: str, promise_days: int | None = None) -> RateQuote:
    """``cheapest``; ``fastest``; or ``cheapest_on_time``: the cheapest that arrives within
    ``promise_days``, else the fastest (late is bad, later is worse). Ties go to the other criterion.
    A quote without delivery days never counts as on time and sorts as slowest."""
    if not quotes:
        raise ValueError("there are no rates to choose from")
    if policy not in RATE_POLICIES:
        raise ValueError(f"unknown rate policy {policy!r}; use one of {', '.join(RATE_POLICIES)}")
    slow = 10**6
    by_price = sorted(quotes, key=lambda q: (q.amount_minor, q.delivery_days if q.delivery_days is not None else slow))
    by_speed = sorted(quotes, key=lambda q: (q.delivery_days if q.delivery_days is not None else slow, q.amount_minor))
    if policy == "cheapest":
        return by_price[0]
    if policy == "fastest":
        return by_speed[0]
    if promise_days is None:
        return by_price[0]
    on_time = [q for q in by_price if q.delivery_days is not None and q.delivery_days <= promise_days]
    return on_time[0] if on_time else by_speed[0]


def process_alive(pid: int) -> bool:
    """Whether a process of this machine still runs (a lease or a claim it left may be taken over when not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it runs, as another user
    return True
