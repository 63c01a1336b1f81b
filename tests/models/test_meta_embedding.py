"""MetaEmbedding: concatenation + re-normalisation, save/load round trip, use by evaluate_descriptor."""

import numpy as np
import pytest

from descriptors.errors import ConfigError
from descriptors.models.ensemble import MetaEmbedding
from descriptors.models.pipeline import DescriptorPipeline
from descriptors.models.registry import build_descriptor


def _fixed(codes):
    return lambda patches: np.repeat(np.asarray(codes, np.float32)[None], len(patches), axis=0)


def test_concatenates_unit_members_and_renormalises():
    meta = MetaEmbedding([_fixed([3.0, 4.0]), _fixed([0.0, 2.0, 0.0])], weights=[1.0, 1.0])
    out = meta(np.zeros((2, 32, 32), np.uint8))
    np.testing.assert_allclose(out[0], np.array([0.6, 0.8, 0.0, 1.0, 0.0]) / np.sqrt(2), rtol=1e-6)
    assert out.shape == (2, 5) and out.dtype == np.float32
    raw = MetaEmbedding([_fixed([3.0, 4.0])], weights=[2.0], normalize=False)(np.zeros((1, 32, 32), np.uint8))
    np.testing.assert_allclose(raw[0], [1.2, 1.6], rtol=1e-6)


def test_squared_distance_is_mean_of_members():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 4)), rng.normal(size=(2, 3))
    unit = lambda v: v / np.linalg.norm(v)  # noqa: E731
    members = [lambda p, i=i: np.stack([a[i] for i in range(len(p))]) for i in range(1)]
    meta_x = MetaEmbedding([_fixed(a[0]), _fixed(b[0])])(np.zeros((1, 8, 8)))
    meta_y = MetaEmbedding([_fixed(a[1]), _fixed(b[1])])(np.zeros((1, 8, 8)))
    expected = (np.sum((unit(a[0]) - unit(a[1])) ** 2) + np.sum((unit(b[0]) - unit(b[1])) ** 2)) / 2
    assert members and np.sum((meta_x - meta_y) ** 2) == pytest.approx(expected, rel=1e-5)


def test_save_load_round_trip_with_pipelines(tmp_path, rng):
    members = [DescriptorPipeline(build_descriptor("hardnet", descriptor_dim=8)),
               DescriptorPipeline(build_descriptor("l2net", descriptor_dim=4))]
    meta = MetaEmbedding(members, weights=[1.0, 0.5])
    patches = rng.integers(0, 256, size=(3, 32, 32), dtype=np.uint8)
    loaded = MetaEmbedding.load(meta.save(tmp_path / "meta"))
    np.testing.assert_allclose(loaded(patches), meta(patches), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(meta.describe(patches, batch_size=2), axis=1), 1.0, rtol=1e-5)
    assert loaded.weights == [1.0, 0.5]


def test_meta_embedding_errors(tmp_path):
    with pytest.raises(ConfigError, match="`members` must be a non-empty list"):
        MetaEmbedding([])
    with pytest.raises(ConfigError, match="`weights` must be one non-negative number per member"):
        MetaEmbedding([_fixed([1.0])], weights=[0.0])
    with pytest.raises(TypeError, match=r"`members\[0\]` must be a DescriptorPipeline to be saved"):
        MetaEmbedding([_fixed([1.0])]).save(tmp_path / "x")
    with pytest.raises(FileNotFoundError, match="not a saved MetaEmbedding"):
        MetaEmbedding.load(tmp_path)
    (tmp_path / "meta_embedding.json").write_text('{"format_version": 9}')
    with pytest.raises(ConfigError, match="`format_version` in meta_embedding.json must be 1"):
        MetaEmbedding.load(tmp_path)


def test_meta_embedding_evaluates_with_hpatches_eval():
    """Two pixel descriptors of the default dataset's test split, scored by hpatches_eval (matching)."""
    import json

    from descriptors.data.default import default_dataset
    from descriptors.data.formats import HPatchesRelease
    from descriptors.evaluation import evaluate_descriptor
    from hpatches_eval.splits import Split, get_split

    root = default_dataset()
    splits_file = root / "tasks" / "splits" / "splits.json"
    split = get_split(next(iter(json.loads(splits_file.read_text()))), splits_file)
    split = Split(split.name, split.test, split.train)
    pixels = lambda p: np.asarray(p, np.float32)[:, ::4, ::4].reshape(len(p), -1)  # noqa: E731
    centred = lambda p: pixels(p) - pixels(p).mean(axis=1, keepdims=True)  # noqa: E731
    meta = MetaEmbedding([pixels, centred])
    results = evaluate_descriptor(meta, HPatchesRelease(root / "nhpatches"), split, tasks_dir=root / "tasks",
                                  verbose=False, tasks=("matching",))
    assert 0.05 < results.summary["matching"] <= 1.0
