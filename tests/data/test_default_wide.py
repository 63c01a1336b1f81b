"""The wide variant of the default dataset: its split is default-v1's, and default-v1 itself is unchanged.

No dataset is built here (the full wide build takes minutes); the loaders are checked instead, and one sequence
of each kind is generated and pinned by its images' statistics.
"""

import numpy as np
import pytest

from descriptors.data import default as default_module
from descriptors.data.default import PhotoSequenceLoader, default_dataset, default_root, default_sequences, photo_split
from descriptors.data.default_wide import (
    NEW_PHOTOS,
    WIDE_PHOTOS,
    WideSequenceLoader,
    wide_sequences,
    wide_test_sequences,
)
from descriptors.errors import ConfigError, DataFormatError

V1_NAMES = [f"{kind}_{stem}" for stem in ("astronaut", "coffee", "chelsea", "rocket", "retina", "brick", "grass",
                                           "gravel", "camera", "coins", "moon", "page", "text", "ihc", "hubble",
                                           "motorcycle", "cell") for kind in ("v", "i")]
V1_TEST = ["i_astronaut", "i_brick", "i_camera", "i_ihc", "i_page", "i_retina",
           "v_astronaut", "v_brick", "v_camera", "v_ihc", "v_page", "v_retina"]
# (mean, std) of each image of a sequence, measured with the pinned wheels of requirements.txt. Statistics to 0.01,
# not a checksum: OpenCV's resizing and NumPy's float math take instruction-set specific paths (AVX2 / AVX-512)
# that may move a few pixels by one grey level; a change of seed, photo or photometric model moves them by far more.
I_PAGE_V1 = [(171.545, 56.815), (153.896, 70.944), (160.2, 54.583), (198.445, 28.922), (190.69, 33.542),
             (190.84, 44.729)]  # default-v1's i_page (a test sequence), as built since default-v1 exists
I_COINS_WIDE = [(96.856, 52.88), (101.283, 58.173), (80.971, 45.873), (123.159, 50.33), (79.161, 42.331),
                (106.837, 76.876)]  # the wide variant's i_coins (a train sequence, new photometric model)


def _matches(sequence, expected) -> bool:
    stats = [(float(np.mean(image)), float(np.std(image))) for image in sequence.images]
    identity = all(np.allclose(h, np.eye(3)) for h in sequence.homographies)  # i_ sequences: photometric only
    return identity and len(stats) == len(expected) and np.allclose(stats, expected, rtol=0, atol=0.01)


def test_default_v1_loaders_are_unchanged():
    loaders = default_sequences()
    assert [loader.sequence_name for loader in loaders] == V1_NAMES
    assert photo_split(list(default_module.PHOTOS)) == V1_TEST
    assert _matches(loaders[V1_NAMES.index("i_page")](), I_PAGE_V1)


def test_wide_keeps_default_v1_test_sequences_at_their_build_positions():
    wide, v1 = wide_sequences(), default_sequences()
    assert wide_test_sequences() == V1_TEST
    assert [loader.sequence_name for loader in wide] == V1_NAMES + [f"{k}_{s}" for s in NEW_PHOTOS for k in "vi"]
    for position, (ours, theirs) in enumerate(zip(wide, v1)):  # the builder seeds a sequence by its position
        assert ours.sequence_name == theirs.sequence_name
        assert (ours.seed.entropy, ours.seed.spawn_key) == (theirs.seed.entropy, theirs.seed.spawn_key)
        if ours.sequence_name in V1_TEST or ours.sequence_name.startswith("v_"):
            assert type(ours) is PhotoSequenceLoader and (ours.photo, ours.kind) == (theirs.photo, theirs.kind)
        else:  # a default-v1 train i_ sequence: the new photometric model
            assert type(ours) is WideSequenceLoader and ours.kind == "i", position
    assert _matches(wide[V1_NAMES.index("i_page")](), I_PAGE_V1)


def test_wide_split_is_photo_disjoint_and_new_photos_train_only():
    names = [loader.sequence_name for loader in wide_sequences()]
    test = set(wide_test_sequences())
    train = [n for n in names if n not in test]
    assert len(names) == 2 * len(WIDE_PHOTOS) == 42 and len(train) == 30
    assert not {n[2:] for n in test} & {n[2:] for n in train}
    assert {f"{k}_{s}" for s in NEW_PHOTOS for k in "vi"} <= set(train)
    new_seeds = {(str(loader.seed.entropy), loader.seed.spawn_key) for loader in wide_sequences()[34:]}
    assert len(new_seeds) == 8  # every new sequence has its own seed


def test_wide_train_illumination_sequence_is_the_new_model_and_pinned():
    loader = wide_sequences()[V1_NAMES.index("i_coins")]
    sequence = loader()
    assert sequence.name == "i_coins" and _matches(sequence, I_COINS_WIDE)
    assert not _matches(default_sequences()[V1_NAMES.index("i_coins")](), I_COINS_WIDE)


def test_wide_variant_options_and_cache_safety(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCRIPTORS_DATA_DIR", str(tmp_path / "cache"))
    assert default_root("wide") == tmp_path / "cache" / "default-wide-v1"
    assert default_root() == tmp_path / "cache" / "default-v1"
    monkeypatch.setattr(default_module, "build_dataset", lambda *a, **k: pytest.fail("built a dataset"))
    with pytest.raises(ConfigError, match=r"`variant` must be one of \['default', 'wide'\]\. Received: variant='w'"):
        default_dataset(variant="w")
    with pytest.raises(ConfigError, match=r"`photos` must be None with variant='wide'.*Received: photos=\['coins'\]"):
        default_dataset(photos=["coins"], variant="wide")
    foreign = tmp_path / "cache" / "default-wide-v1"
    foreign.mkdir(parents=True)
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(DataFormatError, match=r"default-wide-v1 was not written by this tool"):
        default_dataset(variant="wide")
    assert (foreign / "notes.txt").read_text() == "mine"


def test_a_missing_photo_package_is_reported_before_the_build(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    monkeypatch.setattr(default_module, "build_dataset", lambda *a, **k: pytest.fail("started the build"))
    with pytest.raises(ConfigError, match=r"needs the package 'matplotlib' \(for the photo 'grace_hopper'\)"):
        default_dataset(tmp_path / "wide", variant="wide")
    assert not (tmp_path / "wide").exists()
