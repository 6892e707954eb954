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
