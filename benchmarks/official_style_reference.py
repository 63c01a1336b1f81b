"""The per-pair reference for `bench_hpatches_eval.py`: the official evaluator's algorithm, written out plainly.

What a user runs today is hpatches-benchmark ``python/utils/tasks.py`` + ``metrics.py`` (protocol B.1-B.4). This
module follows the same algorithm step by step, on descriptors already in memory:

- verification: one ``scipy.spatial.distance.euclidean`` call per pair and level in a Python loop, then the
  official ``roc`` / ``pr`` (stable sort, cumulative counts, ``np.trapezoid``);
- matching: ``scipy.spatial.distance.cdist`` of ref against each target image, ``argmin``, ``pr`` with
  ``numpos=N``;
- retrieval: the query x distractor ``cdist`` matrix (float32 descriptors, as the official loader casts), then a
  loop over queries: 5 ``euclidean`` calls for the positives, the same-sequence mask, and one ``pr`` per pool size.

It is a benchmark baseline, not part of the library, and deliberately does not share code with `hpatches_eval`.
Descriptors are passed as the official loader holds them (`as_loaded`: float64). The official code additionally re-reads descriptor CSVs and prints tqdm bars; neither is timed here, so the
reference is, if anything, faster than the real thing.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import distance as sp_distance

LEVELS = ("e", "h", "t")
POOLS = (100, 500, 1000, 5000, 10000, 15000, 20000)


def as_loaded(arrays) -> dict:
    """The descriptors as the official loader holds them: float64 arrays (read from CSV with pandas)."""
    return {key: np.asarray(value, dtype=np.float64) for key, value in arrays.items()}


def _type_name(image: int, level: str) -> str:
    return "ref" if image == 0 else f"{level}{image}"


def tpfp(scores, labels, numpos=None):
    """Official ``tpfp``: stable ranking by decreasing score, phantom positives for ``numpos``."""
    p = int(np.sum(labels))
    n = len(labels) - p
    if numpos is not None:
        extra = numpos - p
        p = numpos
        scores = np.hstack((scores, np.repeat(-np.inf, extra)))
        labels = np.hstack((labels, np.repeat(1, extra)))
    perm = np.argsort(-scores, kind="mergesort", axis=0)
    scores = scores[perm]
    stop = np.max(np.where(scores > -np.inf))
    labels = labels[perm[0 : stop + 1]]
    tp = np.hstack((0, np.cumsum(labels == 1)))
    fp = np.hstack((0, np.cumsum(labels == 0)))
    return tp, fp, p, n


def pr(scores, labels, numpos=None) -> float:
    """Official ``pr``: the trapezoid area under the precision/recall curve."""
    tp, fp, p, _ = tpfp(scores, labels, numpos)
    recall = tp / float(max(p, 1e-10))
    precision = np.maximum(tp, 1e-10) / np.maximum(tp + fp, 1e-10)
    return float(np.trapezoid(precision, recall))


def roc(scores, labels) -> float:
    """Official ``roc``: the trapezoid area under the ROC curve."""
    tp, fp, p, n = tpfp(scores, labels)
    return float(np.trapezoid(tp / float(p), fp / float(n)))


def verification(arrays, files) -> dict:
    """Official ``eval_verification`` on pair tables ``{"pos"|"neg_intra"|"neg_inter": (M, 6) object array}``.

    Returns ``{"verif_<level>_<inter|intra>_<auc|ap>": value}``.
    """
    out = {}
    for level in LEVELS:
        dist = {}
        for key, pairs in files.items():
            d = np.empty(len(pairs))
            for i, (s1, t1, i1, s2, t2, i2) in enumerate(pairs):
                d[i] = sp_distance.euclidean(
                    arrays[(s1, _type_name(t1, level))][i1], arrays[(s2, _type_name(t2, level))][i2]
                )
            dist[key] = d
        n_pos = len(dist["pos"])
        labels = np.hstack((np.zeros(n_pos), np.ones(n_pos)))
        n_imb = n_pos + int(0.2 * n_pos)
        for neg in ("inter", "intra"):
            scores = -np.hstack((dist["neg_" + neg], dist["pos"]))
            out[f"verif_{level}_{neg}_auc"] = roc(scores, labels)
            out[f"verif_{level}_{neg}_ap"] = pr(scores[:n_imb], labels[:n_imb])
    return out


def matching(arrays, sequences) -> dict:
    """Official ``eval_matching``: ``{"match_<level>_map": mean AP over sequences x images}``."""
    out = {}
    for level in LEVELS:
        aps = []
        for seq in sequences:
            ref = arrays[(seq, "ref")]
            gt = np.arange(ref.shape[0])
            for image in range(1, 6):
                matrix = sp_distance.cdist(ref, arrays[(seq, f"{level}{image}")])
                idx = np.argmin(matrix, axis=1)
                aps.append(pr(-matrix[gt, idx], np.equal(idx, gt), numpos=ref.shape[0]))
        out[f"match_{level}_map"] = float(np.mean(aps))
    return out


def retrieval(arrays, queries, distractors, pools=POOLS) -> dict:
    """Official ``eval_retrieval`` on ``(s, idx)`` object arrays: ``{"retr_<level>_<pool>_map": mAP}``."""
    desc_q = np.array([arrays[(s, "ref")][i] for s, i in queries]).astype(np.float32)
    desc_d = np.array([arrays[(s, "ref")][i] for s, i in distractors]).astype(np.float32)
    matrix = sp_distance.cdist(desc_q, desc_d)
    out = {}
    for level in LEVELS:
        aps = {k: [] for k in pools}
        for row, (seq, idx) in enumerate(queries):
            positives = [sp_distance.euclidean(desc_q[row], arrays[(seq, f"{level}{j}")][idx]) for j in range(1, 6)]
            ranked = np.hstack((positives, matrix[row][distractors[:, 0] != seq]))
            gt = np.hstack((np.ones(5), np.zeros(ranked.shape[0] - 5)))
            for k in pools:
                aps[k].append(pr(-ranked[:k], gt[:k]))
        out.update({f"retr_{level}_{k}_map": float(np.mean(v)) for k, v in aps.items()})
    return out
