"""Bad inputs of `python -m descriptors.train --data default-wide` (the opt-in wide default dataset).

Every case fails before the dataset is built or a patch is read (the data cache is the case's own ``{tmp}/cache``).
"""

import json

import pytest
from bad_input_harness import BadInput

M = "descriptors.train"


def _built_wide(in_dir):
    """A wide-dataset cache as the build writes it, minus the patches (the split check comes first)."""
    root = in_dir.parent / "cache" / "default-wide-v1"
    (root / "nhpatches").mkdir(parents=True)
    (root / "tasks" / "splits").mkdir(parents=True)
    (root / "tasks" / "splits" / "splits.json").write_text(json.dumps({"default": {"test": ["v_b"],
                                                                                   "train": ["v_a"]}}))


CASES = [
    BadInput("train-default-wide-split-unknown-unbuilt", M, ["--data", "default-wide", "--split", "zzz"], 2,
             r"`split` must be one of the splits of the data 'default-wide': \['default'\]\. Received: split='zzz'"),
    BadInput("train-default-wide-split-unknown-built", M, ["--data", "default-wide", "--split", "zzz"], 2,
             r"`split` must be one of the splits of the data 'default-wide': \['default'\]\. Received: split='zzz'",
             setup=_built_wide),
    BadInput("train-default-wide-misspelt", M, ["--data", "default_wide"], 2,
             r"`data` must be one of \('default', 'default-wide', 'hpatches', 'nhpatches'\) or a dataset folder\. "
             r"Received: data='default_wide'"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
