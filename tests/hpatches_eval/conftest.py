"""Shared fixtures of the hpatches_eval tests: the official-evaluator fixture and tiny synthetic benchmarks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hpatches_eval.patch_types import PATCH_TYPES

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "official-eval"


@pytest.fixture
def official_fixture(tmp_path) -> Path:
    """A writable copy of tests/fixtures/official-eval (descriptors/fixture, tasks, expected_official.json)."""
    target = tmp_path / "official-eval"
    shutil.copytree(FIXTURE, target)
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def make_synthetic(
    root: Path,
    seed: int = 0,
    sizes=(23, 17, 29, 20),
    dim: int = 4,
    quantised: bool = True,
    n_pairs: int = 300,
    n_queries: int = 25,
    n_distractors: int = 45,
    duplicate_fraction: float = 0.0,
):
    """Random descriptors ``{(seq, type): (N, D)}`` and official-format task files for split ``syn`` in ``root``.

    Descriptors are noisy copies of a per-track vector, quantised to 0.5 (many exact ties) or raw float32 with
    some rows duplicated across types and sequences (exact ties through identical vectors). Verification pairs
    follow the official generator rules (images 0..4, two distinct images, intra = same sequence other row,
    inter = random sequence and row).
    """
    rng = np.random.default_rng(seed)
    names = [("i_" if k % 2 == 0 else "v_") + f"s{k}" for k in range(len(sizes))]
    arrays = {}
    pool = []
    for seq, n in zip(names, sizes):
        base = rng.normal(size=(n, dim))
        for patch_type in PATCH_TYPES:
            noise = {"r": 0.0, "e": 0.4, "h": 0.8, "t": 1.2}[patch_type[0]]
            values = base + noise * rng.normal(size=(n, dim))
            values = np.round(values * 2) / 2 if quantised else values
            arrays[(seq, patch_type)] = values.astype(np.float32)
            pool.append((seq, patch_type))
    if duplicate_fraction:
        keys = list(arrays)
        for key in keys:
            n = arrays[key].shape[0]
            for row in np.flatnonzero(rng.random(n) < duplicate_fraction):
                other = keys[rng.integers(len(keys))]
                arrays[key][row] = arrays[other][rng.integers(arrays[other].shape[0])]
    lengths = dict(zip(names, sizes))

    tasks = root / "tasks"
    (tasks / "splits").mkdir(parents=True)
    (tasks / "splits" / "splits.json").write_text(json.dumps({"syn": {"test": names, "train": []}}))
    s = rng.choice(names, n_pairs)
    idx = np.array([rng.choice(lengths[k], 2, replace=False) for k in s])
    images = np.array([rng.choice(5, 2, replace=False) for _ in s])
    s_inter = rng.choice(names, n_pairs)
    idx_inter = np.array([rng.integers(lengths[k]) for k in s_inter])
    tables = {
        "verif_pos": (s, idx[:, 0], s, idx[:, 0]),
        "verif_neg_intra": (s, idx[:, 0], s, idx[:, 1]),
        "verif_neg_inter": (s, idx[:, 0], s_inter, idx_inter),
    }
    for stem, (s1, i1, s2, i2) in tables.items():
        frame = pd.DataFrame({"s1": s1, "t1": images[:, 0], "idx1": i1, "s2": s2, "t2": images[:, 1], "idx2": i2})
        frame.to_csv(tasks / f"{stem}_split-syn.csv", index=False)
    refs = [(seq, i) for seq in names for i in range(lengths[seq])]
    order = rng.permutation(len(refs))
    queries = [refs[i] for i in order[:n_queries]]
    distractors = [refs[i] for i in order[n_queries : n_queries + n_distractors]]
    pd.DataFrame(queries, columns=["s", "idx"]).to_csv(tasks / "retr_queries_split-syn.csv", index=False)
    pd.DataFrame(distractors, columns=["s", "idx"]).to_csv(tasks / "retr_distractors_split-syn.csv", index=False)
    return arrays, tasks


def write_descriptor_dir(arrays: dict, folder: Path, delimiter: str = ",") -> Path:
    """Writes ``{(seq, type): array}`` as an official-format descriptor folder."""
    for (seq, patch_type), values in arrays.items():
        (folder / seq).mkdir(parents=True, exist_ok=True)
        np.savetxt(folder / seq / f"{patch_type}.csv", values, fmt="%10.5f", delimiter=delimiter)
    return folder


@pytest.fixture
def synthetic(tmp_path):
    """Factory: ``synthetic(**kwargs) -> (arrays, tasks_dir)``, see `make_synthetic`."""
    counter = iter(range(1000))

    def build(**kwargs):
        root = tmp_path / f"syn{next(counter)}"
        root.mkdir()
        return make_synthetic(root, **kwargs)

    return build


@pytest.fixture
def descriptor_dir_writer():
    """`write_descriptor_dir` as a fixture."""
    return write_descriptor_dir
