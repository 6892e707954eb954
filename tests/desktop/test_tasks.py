"""The database worker as the screens use it: answers arrive on the GUI thread, stale ones are dropped."""

import threading

from desktop.qt import QObject
from desktop.tasks import Tasks


def test_only_the_newest_answer_of_a_named_read_is_used(qtbot, demo_db):
    tasks = Tasks(demo_db)
    owner, other = QObject(), QObject()
    gate = threading.Event()
    got = []
    try:
        def slow(_session):
            gate.wait(5)
            return "old"

        tasks.read(slow, got.append, owner=owner, latest="counts")
        tasks.read(lambda _s: "new", got.append, owner=owner, latest="counts")
        tasks.read(lambda _s: "another screen's", got.append, owner=other, latest="counts")  # its own name space
        tasks.read(lambda _s: "unnamed", got.append, owner=owner)
        gate.set()
        qtbot.waitUntil(lambda: len(got) == 3, timeout=5000)
        qtbot.wait(50)
        assert got == ["new", "another screen's", "unnamed"]
    finally:
        tasks.shutdown()
