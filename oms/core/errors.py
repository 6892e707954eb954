"""Errors the domain raises, each carrying a message a warehouse worker can read."""


class OmsError(Exception):
    """Base for every error the services raise on purpose; str(e) is for people."""


class InvalidInput(OmsError):
    """What was asked is malformed: a bad quantity, money, text or date."""


class SeveralMatches(InvalidInput):
    """A scanned or typed reference names several records; ``matches`` describes each, for the person to choose."""

    def __init__(self, message: str, matches=()) -> None:
        super().__init__(message)
        self.matches = tuple(matches)


class NotFound(OmsError):
    """A product, location, order or other record named in a request does not exist."""


class InsufficientStock(OmsError):
    """Not enough available stock for a reservation, shipment or transfer."""


class Conflict(OmsError):
    """The request contradicts the record's state (e.g. cancelling a shipped line)."""


class DatabaseVersionError(OmsError):
    """The database was written by a newer Quayside, or cannot be migrated."""


class NotPermitted(OmsError):
    """The person signed in may not do this: the message names what, the permission and who may."""

    def __init__(self, message: str, permission: str = "") -> None:
        super().__init__(message)
        self.permission = permission


class SignInRefused(OmsError):
    """A sign-in that did not succeed: wrong password or PIN, unknown badge, locked or disabled account."""
