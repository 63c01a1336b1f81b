"""Bad SOSNet / HyNet options of `python -m descriptors.train`: exit 2 and one line naming the option, before any work."""

import pytest
from bad_input_harness import BadInput

M = "descriptors.train"
OUT = ["--output-dir", "{tmp}/run", "--no-evaluate"]

CASES = [
    BadInput("sos-on-squared-distances", M, ["--loss", "sos", "--distance", "sql2", *OUT], 2,
             r"loss='sos' works on L2 distances.*distance='sql2'"),
    BadInput("hynet-on-mean-squared-distances", M, ["--loss", "hynet", "--distance", "mean_squared", *OUT], 2,
             r"loss='hynet' works on L2 distances.*distance='mean_squared'"),
    BadInput("sos-weight-negative", M, ["--sos-weight", "-0.5", *OUT], 2, r"sos_weight.*>= 0.*-0.5"),
    BadInput("sos-weight-with-arcface", M, ["--loss", "arcface", "--sos-weight", "1", *OUT], 2,
             r"`sos_weight` regularises descriptor pairs.*arcface"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
