"""The parallel builder (`build_dataset(..., jobs=N)`, `python -m descriptors.data.build --jobs N`): the same bytes as
``jobs=1``, skips and errors of the workers reported by the parent in input order, nothing left behind on failure."""

import json
import os
import pickle
import warnings

import cv2
import numpy as np
import pytest

from descriptors.data import builder as builder_module
from descriptors.data.build import main as build_main
from descriptors.data.builder import SkippedSequenceWarning, build_dataset
from descriptors.data.default import default_sequences
from descriptors.data.formats import encode_patch_png, read_patch_file, write_patch_file
from descriptors.data.sequences import SequenceLoader, write_image_sequence
from descriptors.errors import ConfigError, DataFormatError
from tiny_sequences import bad_sequences, good_sequences

TIMING_KEY = "build_seconds"  # wall time: differs between any two builds, whatever `jobs`


def _contents(root):
    """``{relative path: bytes}`` of every file under ``root``; ``build_info.json`` parsed, without its timing."""
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = str(path.relative_to(root))
        files[relative] = path.read_bytes()
        if relative == "build_info.json":
            info = json.loads(files[relative])
            assert isinstance(info.pop(TIMING_KEY), float)
            files[relative] = info
    return files


def _assert_identical(one, other):
    a, b = _contents(one), _contents(other)
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []


def test_parallel_api_build_is_byte_identical_with_a_skip_and_a_folder_loader(tmp_path, capsys):
    good = good_sequences()
    write_image_sequence(tmp_path / "seqs", good[2], ".png")
    items = [good[0], bad_sequences()["i_flat"][0], SequenceLoader(tmp_path / "seqs" / "v_c"), good[1]]
    caught = {}
    for jobs, name in ((1, "serial"), (2, "parallel")):
        with warnings.catch_warnings(record=True) as caught[jobs]:
            warnings.simplefilter("always")
            build_dataset(items, tmp_path / name, seed=3, max_tracks_per_sequence=12, split_name="par",
                          progress=jobs == 2, jobs=jobs)
    for jobs in (1, 2):  # the workers' skip is warned by the parent, as with jobs=1
        assert [(w.category, str(w.message)) for w in caught[jobs]] == [
            (SkippedSequenceWarning, "Sequence 'i_flat' skipped: image 1 is flat (grey-level standard deviation "
                                     "0 < 2): its patches would be constant")]
    bar = capsys.readouterr().err.strip().split("\r")[-1]  # the final state of the one bar over the sequences
    assert bar.startswith("Building patch sequences: 100%") and "| 4/4 [" in bar
    _assert_identical(tmp_path / "serial", tmp_path / "parallel")
    info = json.loads((tmp_path / "parallel" / "build_info.json").read_text())
    assert info["tracks_per_sequence"] == {"v_a": 12, "v_c": 12, "i_b": 12}
    assert [s["name"] for s in info["skipped_sequences"]] == ["i_flat"] and "jobs" not in info
    assert read_patch_file(tmp_path / "parallel" / "nhpatches" / "v_c" / "t5_noise.png").shape == (12, 32, 32)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parallel", "seqs", "serial"]  # no staging left


AUTO = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


@pytest.mark.parametrize("argv, jobs", [([], 1), (["--jobs", "3"], 3), (["--jobs", "auto"], AUTO)])
def test_cli_passes_jobs_to_the_builder(tmp_path, monkeypatch, argv, jobs):
    write_image_sequence(tmp_path / "seqs", good_sequences(40)[0], ".png")
    calls = []
    monkeypatch.setattr(builder_module, "build_dataset_from_sequences", lambda *a, **k: calls.append(k) or a[1])
    assert build_main([str(tmp_path / "seqs"), str(tmp_path / "ds"), *argv]) == 0
    assert [k["jobs"] for k in calls] == [jobs]


@pytest.mark.parametrize("jobs", [0, -1, True, 1.5, "2", None])
def test_bad_jobs_fail_before_any_work(tmp_path, jobs):
    with pytest.raises(ConfigError, match=r"`jobs` must be an integer >= 1\. Received: jobs="):
        build_dataset(good_sequences(40), tmp_path / "ds", progress=False, jobs=jobs)
    assert list(tmp_path.iterdir()) == []


def test_worker_errors_are_raised_in_input_order_and_nothing_is_left(tmp_path, monkeypatch):
    """With ``jobs=1`` the first failing sequence stops the build; the parallel build reports that same error
    (not a later one that a worker met first) and stops the workers. Checked without processes: the ordering is
    in `_results_in_order`, which we drive with a fake pool running the jobs in reverse order. An item that cannot
    be pickled (a lambda) is built in the parent, never submitted."""
    done, submitted = [], []

    class ReversedPool:  # runs every submitted job at once, the last first (as if later sequences finished first)
        def __init__(self, **kwargs):
            self.jobs, self._processes = [], {}

        def submit(self, fn, *args):
            from concurrent.futures import Future
            self.jobs.append((Future(), fn, args))
            submitted.append(args[0])
            if len(self.jobs) == 4:
                for future, f, a in reversed(self.jobs):
                    try:
                        future.set_result(f(*a))
                        done.append(future.result().name)
                    except Exception as error:  # noqa: BLE001
                        future.set_exception(error)
            return self.jobs[-1][0]

        def shutdown(self, wait=True, cancel_futures=False):
            done.append("shutdown")

    monkeypatch.setattr(builder_module.concurrent.futures, "ProcessPoolExecutor", ReversedPool)
    good, bad = good_sequences(), bad_sequences()
    third = good[1]
    sequences = [good[0], bad["v_degenerate"][0], lambda: third, good[2], str]  # str() is "": not an ImageSequence
    with pytest.raises(DataFormatError, match=r"Requested test sequence 'v_degenerate' cannot be used"):
        build_dataset(sequences, tmp_path / "ds", test_sequences=["v_degenerate"], max_tracks_per_sequence=5,
                      progress=False, jobs=2)
    assert [[i for i, s in enumerate(sequences) if s is item] for item in submitted] == [[0], [1], [3], [4]]
    assert done == ["v_c", "v_degenerate", "v_a", "shutdown"]
    assert list(tmp_path.iterdir()) == []


def test_default_loaders_are_picklable_and_encoding_equals_write_patch_file(tmp_path):
    loaders = default_sequences(["coins"], seed=0)
    assert [loader.sequence_name for loader in loaders] == ["v_coins", "i_coins"]
    copy = pickle.loads(pickle.dumps(loaders[1]))
    assert np.array_equal(copy().images[3], loaders[1]().images[3])
    patches = np.random.default_rng(0).integers(0, 256, (7, 32, 32), dtype=np.uint8)
    for compression in (1, 6):
        # The bytes cv2.imwrite gave before the builder encoded in memory (datasets stay byte-identical).
        params = [cv2.IMWRITE_PNG_COMPRESSION, compression]
        if compression >= 6:
            params += [cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_FILTERED]
        cv2.imwrite(str(tmp_path / f"cv{compression}.png"), patches.reshape(-1, 32), params)
        write_patch_file(tmp_path / f"p{compression}.png", patches, compression=compression)
        expected = (tmp_path / f"cv{compression}.png").read_bytes()
        assert encode_patch_png(patches, compression) == (tmp_path / f"p{compression}.png").read_bytes() == expected
