"""What a station is for (asked by the first-run wizard, changed in Settings), and the screen it opens on.

A station's window opens where its worker left it; the role decides only the very first screen, before anyone has
used the station: a packing bench opens on Packing, a receiving dock on Receiving, an office desk on the Orders queue.
"""

from __future__ import annotations

from desktop.qt import QCoreApplication

# key: (title, the screen a new station opens on). The first is the default of a fresh install.
ROLES: dict[str, tuple[str, str]] = {
    "office": ("Office", "orders"),
    "packing": ("Packing", "packing"),
    "picking": ("Picking", "picking"),
    "receiving": ("Receiving", "receiving"),
}


def role_title(key: str) -> str:
    title = ROLES.get(key, (key, ""))[0]
    return QCoreApplication.translate("StationRole", title)


def first_screen(key: str) -> str:
    """The screen a station of this role opens on before it has been used."""
    return ROLES.get(key, ("", "orders"))[1]


def fill(combo, current: str) -> None:
    """A combo box of the roles, ``current`` chosen."""
    for key in ROLES:
        combo.addItem(role_title(key), key)
    combo.setCurrentIndex(max(0, combo.findData(current)))
