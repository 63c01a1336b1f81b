"""Fast implementation == slow, literal transcription of the official evaluator, on random sets full of ties.

The reference below mirrors hpatches-benchmark ``python/utils/tasks.py`` and ``metrics.py`` line by line (per-pair
Python loops, ``np.argsort(kind="mergesort")``, full distance matrices, float32 query/distractor cast), with
distances as per-pair float64 sums (the same arithmetic as scipy's ``cdist`` loop). Its ``tpfp`` is the one of
``benchmarks/official_style_reference.py`` (the speed benchmark's reference), so this test also checks that one.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from official_style_reference import tpfp as ref_tpfp  # noqa: E402  (the benchmark's transcription of the official tpfp)

from hpatches_eval import evaluate, from_arrays  # noqa: E402
from hpatches_eval.distances import exact_matrix, gathered_row_distances, nearest_neighbours, row_distances  # noqa: E402

ID2T = {0: "ref", 1: "{}1", 2: "{}2", 3: "{}3", 4: "{}4", 5: "{}5"}
POOLS = (6, 10, 20, 30, 100)


def ref_dist(a, b, distance):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    total = 0.0
    for x, y in zip(a, b):
        total += (x - y) * (x - y) if distance == "L2" else abs(x - y)
    return float(np.sqrt(total)) if distance == "L2" else float(total)


def ref_trapz(y, x):
    return sum((x[i + 1] - x[i]) * (y[i + 1] + y[i]) / 2.0 for i in range(len(x) - 1))


def ref_pr(scores, labels, numpos=None, ap="trapezoid"):
    tp, fp, p, n = ref_tpfp(scores, labels, numpos)
    recall = tp / float(np.maximum(p, 1e-10))
    precision = np.maximum(tp, 1e-10) / np.maximum(tp + fp, 1e-10)
    if ap == "trapezoid":
        return ref_trapz(precision, recall)
    return sum(precision[i] for i in range(1, len(tp)) if tp[i] > tp[i - 1]) / p


def ref_roc(scores, labels):
    tp, fp, p, n = ref_tpfp(scores, labels)
    return ref_trapz(tp / float(p), fp / float(n))


def reference(arrays, tasks_dir, distance, ap):
    d = {k: v.astype(np.float32) for k, v in arrays.items()}  # official loader: astype(np.float32)
    out = {}
    files = {k: pd.read_csv(tasks_dir / f"verif_{k}_split-syn.csv").to_numpy() for k in ("pos", "neg_intra", "neg_inter")}
    for t in "eht":
        dist = {}
        for key, pairs in files.items():
            dist[key] = np.array(
                [
                    ref_dist(d[(p[0], ID2T[p[1]].format(t))][p[2]], d[(p[3], ID2T[p[4]].format(t))][p[5]], distance)
                    for p in pairs
                ]
            )
        labels = np.hstack((np.zeros(len(dist["pos"])), np.ones(len(dist["pos"]))))
        for neg in ("inter", "intra"):
            scores = -np.hstack((dist["neg_" + neg], dist["pos"]))
            out[f"verif_{t}_{neg}_auc"] = ref_roc(scores, labels)
            n_imb = len(dist["pos"]) + int(len(dist["pos"]) * 0.2)
            out[f"verif_{t}_{neg}_ap"] = ref_pr(scores[:n_imb], labels[:n_imb], ap=ap)
    seqs = sorted({s for s, _ in arrays})
    for t in "eht":
        aps = []
        for seq in seqs:
            ref = d[(seq, "ref")]
            for i in range(1, 6):
                target = d[(seq, f"{t}{i}")]
                matrix = np.array([[ref_dist(a, b, distance) for b in target] for a in ref])
                idx = np.argmin(matrix, axis=1)
                correct = np.equal(idx, np.arange(ref.shape[0]))
                aps.append(ref_pr(-matrix[np.arange(ref.shape[0]), idx], correct, numpos=ref.shape[0], ap=ap))
        out[f"match_{t}_map"] = float(np.mean(aps))
    q = pd.read_csv(tasks_dir / "retr_queries_split-syn.csv").to_numpy()
    dd = pd.read_csv(tasks_dir / "retr_distractors_split-syn.csv").to_numpy()
    desc_q = np.array([d[(s, "ref")][i] for s, i in q]).astype(np.float32)
    desc_d = np.array([d[(s, "ref")][i] for s, i in dd]).astype(np.float32)
    matrix = np.array([[ref_dist(a, b, distance) for b in desc_d] for a in desc_q])
    for t in "eht":
        for k in POOLS:
            aps = []
            for i, (seq, idx) in enumerate(q):
                intra = [ref_dist(desc_q[i], d[(seq, f"{t}{j}")][idx], distance) for j in range(1, 6)]
                row = np.hstack((intra, matrix[i][dd[:, 0] != seq]))
                gt = np.hstack((np.ones(5), np.zeros(row.shape[0] - 5)))
                aps.append(ref_pr(-row[:k], gt[:k], ap=ap))
            out[f"retr_{t}_{k}_map"] = float(np.mean(aps))
    return out


@pytest.mark.parametrize(
    "distance, ap, quantised, duplicates",
    [
        ("L2", "trapezoid", True, 0.0),
        ("L2", "standard", True, 0.0),
        ("L1", "trapezoid", True, 0.0),
        ("L2", "trapezoid", False, 0.3),
        ("L1", "standard", False, 0.3),
    ],
)
def test_fast_equals_literal_reference(synthetic, distance, ap, quantised, duplicates):
    arrays, tasks_dir = synthetic(seed=len(distance) + len(ap), quantised=quantised, duplicate_fraction=duplicates)
    results = evaluate(
        from_arrays(arrays), tasks_dir=tasks_dir, split="syn", distance=distance, ap=ap, pools=POOLS
    )
    flat = results.flat()
    expected = reference(arrays, tasks_dir, distance, ap)
    assert set(expected) <= set(flat)
    for key, value in expected.items():
        assert flat[key] == pytest.approx(value, abs=1e-12), key


def test_nearest_neighbours_exact_on_duplicates():
    rng = np.random.default_rng(3)
    b = rng.normal(size=(40, 8)).astype(np.float32) * 1000 + 0.123
    b[10:20] = b[5]  # many exact duplicates: first index must win
    a = np.vstack([b[5:8], rng.normal(size=(20, 8)).astype(np.float32) * 1000])
    idx, dist = nearest_neighbours(a, b)
    full = exact_matrix(a.astype(np.float64), b.astype(np.float64))
    np.testing.assert_array_equal(idx, np.argmin(full, axis=1))
    np.testing.assert_array_equal(dist, full[np.arange(a.shape[0]), idx])
    assert idx[0] == 5 and dist[0] == 0.0


def test_row_distances_bitwise_equal_matrix():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(30, 16)), rng.normal(size=(30, 16))
    for distance in ("L2", "L1"):
        np.testing.assert_array_equal(row_distances(a, b, distance), np.diag(exact_matrix(a, b, distance)))


def test_nearest_neighbours_exact_below_float32_precision():
    # candidates that differ only below float32 resolution: the single-precision ranking cannot separate them,
    # so the exact float64 recomputation must pick the true nearest one (here, never the first of the group)
    rng = np.random.default_rng(5)
    base = rng.normal(size=(1, 16)) * 10.0
    offsets = np.linspace(3e-9, 0.0, 12)[:, None] * np.ones((1, 16))
    b = np.vstack([base + offsets, rng.normal(size=(30, 16)) * 10.0])
    a = np.vstack([base, base + 1e-12, rng.normal(size=(5, 16)) * 10.0])
    assert len(np.unique(b[:12].astype(np.float32), axis=0)) == 1  # indistinguishable in float32
    idx, dist = nearest_neighbours(a, b)
    full = exact_matrix(a, b)
    np.testing.assert_array_equal(idx, np.argmin(full, axis=1))
    np.testing.assert_array_equal(dist, full[np.arange(a.shape[0]), idx])
    assert idx[0] == 11


@pytest.mark.parametrize("rows", [1, 2, 3, 1025, 2049])
def test_row_distances_sum_dimensions_in_order(rows):
    # magnitudes spread over 16 decades make any other summation order (pairwise, SIMD lanes) visible
    rng = np.random.default_rng(rows)
    a = rng.normal(size=(rows, 64)) * 10.0 ** rng.uniform(-4, 4, size=(rows, 64))
    b = rng.normal(size=(rows, 64)) * 10.0 ** rng.uniform(-4, 4, size=(rows, 64))
    expected = np.empty(rows)
    for i in range(rows):
        total = 0.0
        for x, y in zip(a[i], b[i]):
            total += (x - y) * (x - y)
        expected[i] = np.sqrt(total)
    np.testing.assert_array_equal(row_distances(a, b), expected)
    table = np.vstack([a, b])
    np.testing.assert_array_equal(
        gathered_row_distances(table, np.arange(rows), np.arange(rows, 2 * rows)), expected
    )
