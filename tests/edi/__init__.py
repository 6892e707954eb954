"""EDI X12 tests."""
