"""The first-run scanner test: what each way a keyboard layout garbles the test barcode is called."""

import pytest

from desktop.first_run import SCAN_TEST, garbled


@pytest.mark.parametrize("typed, said", [
    (SCAN_TEST, ""),
    ("QYz-7aW4", "German (QWERTZ)"),  # Y and Z swapped
    (SCAN_TEST.swapcase(), "Caps Lock is on"),
    ("AWy-7qZ4", "French (AZERTY)"),  # A/Q and W/Z swapped
    ("QZy-èaW4", "French (AZERTY)"),  # a digit typed without Shift on AZERTY
    ("QZY-7AW4", "wrong case"),
    ("]C0QZy-7aW4", "prefix and suffix"),  # a symbology identifier the scanner adds
])
def test_each_garbling_is_named(typed, said):
    result = garbled(SCAN_TEST, typed)
    assert (said in result) if said else result == ""


def test_no_two_things_on_a_wizard_page_answer_to_the_same_alt_key(qtbot):
    import re

    from PySide6.QtWidgets import QAbstractButton, QLabel, QWizard

    from desktop.first_run import FirstRunWizard
    from desktop.tasks import Tasks

    tasks = Tasks(None, immediate=True)
    wizard = FirstRunWizard(tasks)
    qtbot.addWidget(wizard)
    nav = [wizard.buttonText(b) for b in (QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton,
                                          QWizard.WizardButton.FinishButton)]
    for page_id in wizard.pageIds():
        page = wizard.page(page_id)
        texts = nav + [w.text() for kind in (QAbstractButton, QLabel) for w in page.findChildren(kind)]
        keys = [m.group(1).lower() for t in texts for m in [re.search(r"&([^&\s])", t.replace("&&", ""))] if m]
        assert len(keys) == len(set(keys)), (page.objectName(), sorted(keys))
