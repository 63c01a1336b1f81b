"""Fixtures of the bad-input tables: `check_bad_input(case)` runs a `bad_input_harness.BadInput` in a fresh tree."""

import pytest

from bad_input_harness import run_case


@pytest.fixture
def check_bad_input(tmp_path):
    """Runs one `BadInput` case in its own temporary tree and asserts the one-line-error contract."""

    def check(case):
        run_case(case, tmp_path / "case")

    return check
