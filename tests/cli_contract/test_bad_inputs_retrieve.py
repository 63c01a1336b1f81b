"""Bad inputs of `python -m descriptors.embed retrieve`: exit 2, one line naming the value, nothing written."""

import pytest
from bad_input_harness import BadInput

M = "descriptors.embed"


def _folders(in_dir):
    (in_dir / "gallery" / "id0").mkdir(parents=True)
    (in_dir / "flat").mkdir()
    (in_dir / "run").mkdir()
    (in_dir / "m.keras").write_bytes(b"not a model")


def _argv(**changes):
    options = {"--model": "{in}/m.keras", "--gallery": "{in}/gallery", "--queries": "{in}/flat",
               "--out": "{tmp}/answers.csv", **changes}
    return ["retrieve"] + [item for pair in options.items() for item in pair if pair[1] is not None]


CASES = [
    BadInput("retrieve-model-missing", M, _argv(**{"--model": "{in}/nothing.keras"}), 2,
             r"`--model` must be an embedding run folder with embedder.keras or a .keras file", setup=_folders),
    BadInput("retrieve-run-without-embedder", M, _argv(**{"--model": "{in}/run"}), 2,
             r"`--model` must be an embedding run folder .*run", setup=_folders),
    BadInput("retrieve-gallery-unlabelled", M, _argv(**{"--gallery": "{in}/flat"}), 2,
             r"`--gallery` must be labelled: .*flat.* has no <identity> sub-folders", setup=_folders),
    BadInput("retrieve-queries-missing", M, _argv(**{"--queries": "{in}/none"}), 2,
             r"`--queries` must be an image folder", setup=_folders),
    BadInput("retrieve-out-is-a-folder", M, _argv(**{"--out": "{in}/gallery"}), 2,
             r"`--out` must be a file path", setup=_folders),
    BadInput("retrieve-top-k-zero", M, _argv(**{"--top-k": "0"}), 2, r"`--top-k` must be an integer >= 1",
             setup=_folders),
    BadInput("retrieve-threshold-negative", M, _argv(**{"--new-identity-threshold": "-1"}), 2,
             r"`--new-identity-threshold` must be a number >= 0 or 'auto'. Received: '-1'", setup=_folders),
    BadInput("retrieve-threshold-word", M, _argv(**{"--new-identity-threshold": "often"}), 2,
             r"must be a number >= 0 or 'auto'. Received: 'often'", setup=_folders, subprocess=True),
    BadInput("retrieve-model-not-keras", M, _argv(), 1, r"m.keras", setup=_folders),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
