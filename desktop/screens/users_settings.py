"""Settings → People (admins only): who may sign in, their roles, PINs and locks.

Each change goes through ``oms.users``, which checks ``users.manage`` itself: the tab is only shown to an admin,
and a refusal (the last admin, a PIN that is not 4 to 6 digits) is shown as the domain words it.
"""

from __future__ import annotations

from desktop.qt import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.tables import cell, fill_table, read_only_table, selected_key
from desktop.tasks import Tasks
from oms import users
from oms.core.audit import Actor


class UsersPanel(QWidget):
    message = Signal(str)
    loaded = Signal()

    def __init__(self, tasks: Tasks, actor: Actor, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("usersPanel")
        self.tasks = tasks
        self.actor = actor
        self.rows: list[users.UserRow] = []
        self.table = read_only_table("usersTable", [self.tr("User"), self.tr("Name"), self.tr("Role"),
                                                    self.tr("Locations"), self.tr("Badge"), self.tr("State")], 1)
        self.username = QLineEdit()
        self.username.setObjectName("newUsername")
        self.username.setPlaceholderText(self.tr("user name, e.g. maria.l"))
        self.display_name = QLineEdit()
        self.display_name.setObjectName("newUserName")
        self.display_name.setPlaceholderText(self.tr("name on screen and badge"))
        self.role = QComboBox()
        self.role.setObjectName("userRole")
        for code, role in users.ROLES.items():
            self.role.addItem(role.label, code)
        self.pin = QLineEdit()
        self.pin.setObjectName("userPin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText(self.tr("PIN, 4 to 6 digits"))
        self.add_button = QPushButton(self.tr("Add person"))
        self.add_button.setObjectName("addUser")
        self.pin_button = QPushButton(self.tr("Set PIN of selected"))
        self.pin_button.setObjectName("resetPin")
        self.role_button = QPushButton(self.tr("Give selected this role"))
        self.role_button.setObjectName("setRole")
        self.lock_button = QPushButton(self.tr("Lock"))
        self.lock_button.setObjectName("lockUser")
        form = QGridLayout()
        form.addWidget(QLabel(self.tr("User name")), 0, 0)
        form.addWidget(self.username, 0, 1)
        form.addWidget(QLabel(self.tr("Name")), 0, 2)
        form.addWidget(self.display_name, 0, 3)
        form.addWidget(QLabel(self.tr("Role")), 1, 0)
        form.addWidget(self.role, 1, 1)
        form.addWidget(QLabel(self.tr("PIN")), 1, 2)
        form.addWidget(self.pin, 1, 3)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.pin_button, self.role_button, self.lock_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.add)
        self.pin.returnPressed.connect(self.add)
        self.pin_button.clicked.connect(self.set_pin)
        self.role_button.clicked.connect(self.set_role)
        self.lock_button.clicked.connect(self.toggle_lock)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def refresh(self) -> None:
        self.tasks.read(users.list_users, self._loaded, self.message.emit, owner=self, latest="users")

    def _loaded(self, rows) -> None:
        self.rows = rows
        fill_table(self.table, [[cell(r.username), cell(r.display_name), cell(r.role_label), cell(", ".join(r.locations)),
                                 cell(r.badge_code or ""), cell(self._state(r))] for r in rows], [r.username for r in rows])
        self._update_buttons()
        self.loaded.emit()

    def _state(self, r: users.UserRow) -> str:
        if not r.active:
            return self.tr("disabled")
        if r.locked:
            return self.tr("locked")
        if r.demo:
            return self.tr("demo")
        return self.tr("active")

    def selected(self) -> users.UserRow | None:
        key = selected_key(self.table)
        return next((r for r in self.rows if r.username == key), None)

    def _update_buttons(self) -> None:
        r = self.selected()
        for b in (self.pin_button, self.role_button, self.lock_button):
            b.setEnabled(r is not None)
        self.lock_button.setText(self.tr("Unlock") if r is not None and r.locked else self.tr("Lock"))

    def _write(self, job, done_text: str) -> None:
        def done(_r) -> None:
            self.message.emit(done_text)
            self.refresh()

        self.tasks.write(job, done, self.message.emit, owner=self)

    def add(self) -> None:
        actor, name, shown, role = self.actor, self.username.text(), self.display_name.text(), self.role.currentData()
        pin = self.pin.text() or None

        def job(s):
            users.add_user(s, actor, name, shown, role, pin=pin)

        self.pin.clear()
        self._write(job, self.tr("{name} can sign in with the badge and PIN.").format(name=shown.strip()))
        self.username.clear()
        self.display_name.clear()

    def set_pin(self) -> None:
        r, actor, pin = self.selected(), self.actor, self.pin.text()
        if r is None:
            return
        self.pin.clear()
        self._write(lambda s: users.set_pin(s, actor, r.username, pin), self.tr("New PIN for {name}.").format(name=r.display_name))

    def set_role(self) -> None:
        r, actor, role = self.selected(), self.actor, self.role.currentData()
        if r is None:
            return
        self._write(lambda s: users.set_role(s, actor, r.username, role, list(r.locations)),
                    self.tr("{name} is now {role}.").format(name=r.display_name, role=users.role_label(role)))

    def toggle_lock(self) -> None:
        r, actor = self.selected(), self.actor
        if r is None:
            return
        if r.locked:
            self._write(lambda s: users.unlock_user(s, actor, r.username), self.tr("{name} is unlocked.").format(name=r.display_name))
        else:
            self._write(lambda s: users.lock_user(s, actor, r.username), self.tr("{name} is locked.").format(name=r.display_name))
