"""Helpers shared by test packages (importable as `tests.support.*`)."""
