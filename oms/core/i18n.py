"""Translation hook for user-facing text written by the domain."""

import gettext as _gettext

_translation = _gettext.translation("quayside", fallback=True)


def _(message: str) -> str:
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)
