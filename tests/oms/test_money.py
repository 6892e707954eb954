"""Money from text: exact minor units, and refusal rather than rounding."""

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from oms.core import money
from oms.core.errors import InvalidInput

CURRENCIES = ["USD", "EUR", "JPY", "KWD", "GBP"]


@given(st.decimals(min_value=-10**9, max_value=10**9, allow_nan=False, allow_infinity=False, places=3),
       st.sampled_from(CURRENCIES), st.sampled_from(["{}", " {} ", "{:,}"]))
def test_text_amounts_are_exact_or_refused(value, currency, shape):
    text = shape.format(value)
    exp = money.exponent(currency)
    scaled = value * Decimal(10) ** exp
    if scaled == scaled.to_integral_value():
        assert money.to_minor(text, currency) == int(scaled)
    else:
        with pytest.raises(InvalidInput, match="more decimal places"):
            money.to_minor(text, currency)


@pytest.mark.parametrize("text, currency, minor", [
    ("12.30", "USD", 1230), ("12.3", "USD", 1230), ("12.", "USD", 1200), ("0.05", "USD", 5), ("-4.10", "USD", -410),
    ("1500", "JPY", 1500), ("1.250", "KWD", 1250), ("12.300", "USD", 1230), ("1,234.50", "USD", 123450), ("1e2", "USD", 10000),
])
def test_examples(text, currency, minor):
    assert money.to_minor(text, currency) == minor


@pytest.mark.parametrize("text, message", [
    ("12.345", "more decimal places"), ("abc", "not an amount"), ("", "not an amount"), ("NaN", "not an amount"),
    ("12.30.1", "not an amount"), ("--5", "not an amount"),
])
def test_refusals(text, message):
    with pytest.raises(InvalidInput, match=message):
        money.to_minor(text, "USD")


def test_an_amount_as_the_apis_write_it():
    from oms.core import money

    assert (money.to_text(1230, "USD"), money.to_text(5, "EUR"), money.to_text(1500, "JPY"), money.to_text(-1, "USD")) == \
        ("12.30", "0.05", "1500", "-0.01")
