"""Bad arguments of `python3 bootstrap.py`: found before any installation, one line, exit 2."""

import pytest
from bad_input_harness import BadInput

CASES = [
    BadInput("no-job", "bootstrap", [], 2, r"must be one of .*Received: 'nothing'"),
    BadInput("unknown-job", "bootstrap", ["trian"], 2, r"must be one of .*'trian'"),
    BadInput("flag-instead-of-job", "bootstrap", ["--epochs", "2"], 2, r"must be one of .*'--epochs'"),
    BadInput("install-with-arguments", "bootstrap", ["install", "--gpu"], 2, r"takes no further arguments"),
    BadInput("cpu-and-gpu", "bootstrap", ["--gpu", "--cpu", "test"], 2, r"one of --cpu and --gpu, not both"),
    BadInput("device-flag-without-job", "bootstrap", ["--gpu"], 2, r"must be one of .*Received: 'nothing'"),
    BadInput("subprocess-unknown-job", "bootstrap", ["tests"], 2, r"must be one of", subprocess=True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
