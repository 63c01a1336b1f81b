"""Descriptor sets from arrays, CSV folders (any delimiter) and callables; task file reading."""

import zlib

import numpy as np
import pytest

from hpatches_eval import PATCH_TYPES, DescriptorError, evaluate, from_arrays, from_callable, from_csv_dir
from hpatches_eval.descriptor_sets import detect_delimiter, read_descriptor_csv
from hpatches_eval.task_files import TaskFiles
from hpatches_eval.errors import TaskFileError


@pytest.mark.parametrize("delimiter, detected", [(",", ","), (";", ";"), ("\t", "\t"), (" ", r"\s+")])
def test_csv_any_delimiter(tmp_path, delimiter, detected):
    values = np.array([[0.5, -1.25, 3.0], [1e-5, 2.0, -0.0]])
    path = tmp_path / "ref.csv"
    np.savetxt(path, values, fmt="%10.5f", delimiter=delimiter)
    assert detect_delimiter(path) == detected
    np.testing.assert_array_equal(read_descriptor_csv(path), values.astype(np.float32))
    named = {"\t": "tab", " ": "whitespace"}.get(delimiter, delimiter)
    np.testing.assert_array_equal(read_descriptor_csv(path, named), values.astype(np.float32))


def test_csv_dir_equals_arrays(synthetic, descriptor_dir_writer, tmp_path):
    arrays, tasks_dir = synthetic()
    folder = descriptor_dir_writer(arrays, tmp_path / "descs" / "mine", delimiter=";")
    from_dir = evaluate(folder, tasks_dir=tasks_dir, split="syn", pools=(6, 30))
    from_mem = evaluate(arrays, tasks_dir=tasks_dir, split="syn", pools=(6, 30))
    assert from_dir.flat() == from_mem.flat()  # quantised values survive %10.5f exactly
    assert from_dir.params["descriptor"] == "mine"


def test_nested_mapping_and_bad_mapping():
    rng = np.random.default_rng(0)
    nested = {"i_x": {t: rng.normal(size=(3, 2)) for t in ("ref", "e1")}}
    dset = from_arrays(nested)
    assert dset.sequences == ("i_x",)
    with pytest.raises(DescriptorError, match="Patch type 'e2' of sequence 'i_x' is missing"):
        dset.get("i_x", "ref")
    with pytest.raises(TypeError, match="`arrays` must map"):
        from_arrays({1: np.zeros((2, 2))})


def test_csv_dir_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Descriptor folder not found"):
        from_csv_dir(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no <seq>/ref.csv files"):
        from_csv_dir(tmp_path / "empty")
    (tmp_path / "d" / "i_a").mkdir(parents=True)
    (tmp_path / "d" / "i_a" / "ref.csv").write_text("1,2\n3,4\n")
    with pytest.raises(DescriptorError, match=r"e1.csv \(sequence 'i_a', type 'e1'\) is missing"):
        from_csv_dir(tmp_path / "d").get("i_a", "ref")
    (tmp_path / "one.csv").write_text("1\n2\n")
    with pytest.raises(DescriptorError, match="has a single column"):
        read_descriptor_csv(tmp_path / "one.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DescriptorError, match="is empty"):
        read_descriptor_csv(tmp_path / "empty.csv")


class FakePatches:
    """Patch source: sequences + load(seq, type) -> uint8 (N, P, P); counts loads."""

    def __init__(self, sizes):
        self.sizes = sizes
        self.sequences = list(sizes)
        self.loads = 0

    def load(self, seq, patch_type):
        self.loads += 1
        rng = np.random.default_rng(abs(hash((seq, "ref"))) % 2**32)
        return rng.integers(0, 256, size=(self.sizes[seq], 8, 8), dtype=np.uint8)


def test_from_callable_lazy_cached_and_shapes():
    source = FakePatches({"i_a": 5, "v_b": 7})
    shapes = []

    def describe(patches):
        shapes.append(patches.shape)
        return patches.reshape(patches.shape[0], -1)[:, :4].astype(np.float32)

    dset = from_callable(describe, source, batch_size=3)
    assert source.loads == 0
    first = dset.get("v_b", "t3")
    assert dset.get("v_b", "ref") is dset.get("v_b", "ref") and source.loads == 16
    assert first.shape == (7, 4) and shapes[0] == (3, 8, 8, 1)
    flat = from_callable(lambda p: p.reshape(len(p), -1).astype(float), source, add_channel=False)
    assert flat.get("i_a", "ref").shape == (5, 64)
    bad = from_callable(lambda p: np.zeros((1, 2)), source)
    with pytest.raises(DescriptorError, match=r"`describe` must return \(N, D\) = \(5, D\) for i_a/ref"):
        bad.get("i_a", "ref")
    with pytest.raises(TypeError, match="`patch_source` must have `sequences` and `load`"):
        from_callable(describe, object())


def test_task_files_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Tasks folder not found"):
        TaskFiles(tmp_path / "nope")
    files = TaskFiles(tmp_path)
    assert files.split("a").test[0] == "i_ajuntament"  # no splits.json here: official splits
    (tmp_path / "retr_queries_split-a.csv").write_text("s,idx\ni_fog,x\n")
    (tmp_path / "retr_distractors_split-a.csv").write_text("s,idx\ni_fog,1\n")
    with pytest.raises(TaskFileError, match="must have columns \\['s', 'idx'\\]"):
        files.load_retrieval("a")


class TypedPatches:
    """Patch source whose patches differ per (sequence, patch type)."""

    def __init__(self, sizes):
        self.sizes = sizes
        self.sequences = list(sizes)

    def load(self, seq, patch_type):
        rng = np.random.default_rng(zlib.crc32(f"{seq}/{patch_type}".encode()))
        return rng.integers(0, 256, size=(self.sizes[seq], 6, 6), dtype=np.uint8)


def test_from_callable_gives_each_patch_type_its_own_descriptors():
    source = TypedPatches({"i_a": 5, "v_b": 7})

    def describe(patches):  # per-patch mean and first pixel: values differ for every patch type
        return np.stack([patches.mean(axis=(1, 2, 3)), patches[:, 0, 0, 0]], axis=1)

    dset = from_callable(describe, source, batch_size=2)
    for seq, n in source.sizes.items():
        for patch_type in PATCH_TYPES:
            patches = source.load(seq, patch_type)
            expected = np.stack([patches.mean(axis=(1, 2)), patches[:, 0, 0]], axis=1).astype(np.float32)
            np.testing.assert_array_equal(dset.get(seq, patch_type), expected, err_msg=f"{seq}/{patch_type}")
        assert len({dset.get(seq, patch_type).tobytes() for patch_type in PATCH_TYPES}) == 16
