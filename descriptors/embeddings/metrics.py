"""Embedding evaluation: kNN classification macro-F1, recall@k, mAP@k retrieval and pair-verification ROC-AUC.

All metrics use the Euclidean distance and rank neighbours by (distance, index), so ties break deterministically
towards the lower index. Without a separate gallery every metric is leave-one-out on one set: each image is a
query against all the others.
"""

from __future__ import annotations

import numpy as np

from descriptors.errors import ConfigError, ShapeError

MAP_DEFINITIONS = ("items", "labels")


def _check(embeddings, labels, name="embeddings"):
    embeddings = np.asarray(embeddings, dtype=np.float64)
    labels = np.asarray(labels)
    if embeddings.ndim != 2 or labels.shape != (len(embeddings),):
        raise ShapeError(
            f"`{name}` must be (N, D) with labels (N,). Received: {name}.shape={embeddings.shape}, "
            f"labels.shape={labels.shape}"
        )
    return embeddings, labels


def ranked_neighbours(embeddings, labels, k=None, gallery=None, gallery_labels=None):
    """Labels of the gallery items ranked by distance to each query (self excluded when leave-one-out).

    Args:
        embeddings, labels: queries (Q, D) and their labels (Q,).
        k: keep the first k (default: all).
        gallery, gallery_labels: (G, D), (G,); default: the queries themselves, leave-one-out.

    Returns:
        (ranked_labels (Q, k), gallery_labels (G,)).

    Shape:
        embeddings (Q, D), gallery (G, D) -> (Q, min(k, G')) with G' = G - 1 when leave-one-out.
    """
    queries, labels = _check(embeddings, labels)
    leave_one_out = gallery is None
    if leave_one_out:
        gallery, gallery_labels = queries, labels
    gallery, gallery_labels = _check(gallery, gallery_labels, "gallery")
    if gallery.shape[1] != queries.shape[1]:
        raise ShapeError(f"`gallery` must have D={queries.shape[1]}. Received: gallery.shape={gallery.shape}")
    sq = (queries**2).sum(1)[:, None] + (gallery**2).sum(1)[None, :] - 2.0 * queries @ gallery.T
    dist = np.sqrt(np.maximum(sq, 0.0))
    if leave_one_out:
        np.fill_diagonal(dist, np.inf)
    order = np.argsort(dist, axis=1, kind="stable")
    count = gallery.shape[0] - int(leave_one_out)
    order = order[:, : count if k is None else min(k, count)]
    return gallery_labels[order], gallery_labels


def knn_predict(embeddings, labels, k=5, gallery=None, gallery_labels=None) -> np.ndarray:
    """Majority vote of the k nearest gallery labels; a tie goes to the tied class met first in rank order.

    Shape:
        (Q, D) -> (Q,) predicted labels.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"`k` must be a positive integer. Received: k={k!r}")
    ranked, _ = ranked_neighbours(embeddings, labels, k, gallery, gallery_labels)
    predictions = np.empty(len(ranked), dtype=ranked.dtype)
    for row, neighbours in enumerate(ranked):
        values, first, counts = np.unique(neighbours, return_index=True, return_counts=True)
        best = np.flatnonzero(counts == counts.max())
        predictions[row] = values[best[np.argmin(first[best])]]
    return predictions


def macro_f1(true, predicted) -> float:
    """Unweighted mean of the per-class F1 = 2TP / (2TP + FP + FN) over the classes in `true` or `predicted`.

    This is scikit-learn's `f1_score(average="macro")` (a class never predicted and never true is not counted).
    """
    true, predicted = np.asarray(true), np.asarray(predicted)
    scores = []
    for c in np.union1d(true, predicted):
        tp = np.sum((predicted == c) & (true == c))
        fp = np.sum((predicted == c) & (true != c))
        fn = np.sum((predicted != c) & (true == c))
        scores.append(2.0 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(scores))


def knn_f1(embeddings, labels, k=5, gallery=None, gallery_labels=None) -> float:
    """Macro-F1 of k-nearest-neighbour classification (`knn_predict`)."""
    return macro_f1(labels, knn_predict(embeddings, labels, k, gallery, gallery_labels))


def recall_at_k(embeddings, labels, ks=(1, 5), gallery=None, gallery_labels=None) -> dict:
    """Recall@k (Oh Song et al. 2016): the fraction of queries with a same-label item among the k nearest.

    Returns:
        {k: recall} for each k in `ks`.
    """
    ks = tuple(ks)
    if not ks or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in ks):
        raise ConfigError(f"`ks` must be positive integers. Received: ks={ks!r}")
    labels = np.asarray(labels)
    ranked, _ = ranked_neighbours(embeddings, labels, max(ks), gallery, gallery_labels)
    hits = ranked == labels[:, None]
    return {k: float(hits[:, :k].any(axis=1).mean()) for k in ks}


def map_at_k(embeddings, labels, k=20, definition="items", gallery=None, gallery_labels=None) -> float:
    """Mean average precision at k of retrieval.

    - `definition="items"` (the general mAP@k): AP@k = (1 / min(R, k)) * sum_{i<=k} P@i * rel_i, rel_i = 1 when
      the i-th neighbour has the query's label and R = number of such gallery items. Queries with R = 0 are
      skipped.
    - `definition="labels"` (Kaggle humpback-whale MAP@k, one relevant label per query): the ranked neighbours'
      labels are de-duplicated in rank order and cut at k; AP = 1 / position of the query's label, 0 if absent.

    Raises:
        ConfigError: bad k or definition.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"`k` must be a positive integer. Received: k={k!r}")
    if definition not in MAP_DEFINITIONS:
        raise ConfigError(f"`definition` must be one of {MAP_DEFINITIONS}. Received: definition={definition!r}")
    labels = np.asarray(labels)
    ranked, all_labels = ranked_neighbours(embeddings, labels, None, gallery, gallery_labels)
    scores = []
    for query_label, neighbours in zip(labels, ranked):
        if definition == "labels":
            _, first = np.unique(neighbours, return_index=True)
            unique = neighbours[np.sort(first)][:k]
            position = np.flatnonzero(unique == query_label)
            scores.append(1.0 / (position[0] + 1) if len(position) else 0.0)
            continue
        relevant_total = int(np.sum(neighbours == query_label))
        if relevant_total == 0:
            continue
        rel = (neighbours[:k] == query_label).astype(np.float64)
        precision = np.cumsum(rel) / np.arange(1, len(rel) + 1)
        scores.append(float(np.sum(precision * rel) / min(relevant_total, k)))
    return float(np.mean(scores)) if scores else 0.0


def roc_auc(scores, targets) -> float:
    """Area under the ROC curve (probability a positive outscores a negative; ties count one half).

    Raises:
        ConfigError: no positive or no negative target.
    """
    scores, targets = np.asarray(scores, dtype=np.float64), np.asarray(targets).astype(bool)
    positives, negatives = int(targets.sum()), int((~targets).sum())
    if not positives or not negatives:
        raise ConfigError(f"`targets` must hold both classes. Received: {positives} positive, {negatives} negative")
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    _, start, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = start + (counts + 1) / 2.0  # 1-based average rank of each tie group
    ranks[order] = np.repeat(average, counts)
    return float((ranks[targets].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def verification_pairs(labels, num_pairs: int, rng) -> tuple:
    """Balanced random pairs: half same-label (i != j), half different-label.

    Returns:
        (pairs int (M, 2), same bool (M,)) with M = 2 * (num_pairs // 2).
    """
    labels = np.asarray(labels)
    half = num_pairs // 2
    index = np.arange(len(labels))
    classes = [c for c in np.unique(labels) if np.sum(labels == c) >= 2]
    if not classes or len(np.unique(labels)) < 2:
        raise ConfigError("Verification pairs need a class with two images and at least two classes.")
    positives = []
    for c in rng.choice(classes, size=half):
        positives.append(rng.choice(index[labels == c], size=2, replace=False))
    first = rng.integers(len(labels), size=4 * half + 16)
    second = rng.integers(len(labels), size=4 * half + 16)
    keep = labels[first] != labels[second]
    negatives = np.stack([first[keep], second[keep]], axis=1)[:half]
    pairs = np.concatenate([np.asarray(positives).reshape(-1, 2), negatives]).astype(np.int64)
    return pairs, np.r_[np.ones(half, bool), np.zeros(len(negatives), bool)]


def verification_roc_auc(embeddings, labels, pairs=None, same=None, num_pairs=2000, seed=0) -> float:
    """ROC-AUC of telling same-label pairs from different-label pairs by negative Euclidean distance.

    Args:
        embeddings, labels: (N, D), (N,).
        pairs, same: explicit pairs (M, 2) and their targets (M,); default `verification_pairs(num_pairs, seed)`.
    """
    embeddings, labels = _check(embeddings, labels)
    if pairs is None:
        pairs, same = verification_pairs(labels, num_pairs, np.random.default_rng([seed, 5]))
    pairs = np.asarray(pairs)
    dist = np.linalg.norm(embeddings[pairs[:, 0]] - embeddings[pairs[:, 1]], axis=1)
    return roc_auc(-dist, same)


def evaluate_embeddings(embeddings, labels, knn_k=5, recall_ks=(1, 5), map_k=20, map_definition="items",
                        num_pairs=2000, seed=0) -> dict:
    """Every metric at once, leave-one-out on one labelled set.

    Returns:
        {"knn_f1", "recall@<k>" for each k, "map@<map_k>", "roc_auc"}.
    """
    result = {"knn_f1": knn_f1(embeddings, labels, knn_k)}
    result.update({f"recall@{k}": v for k, v in recall_at_k(embeddings, labels, recall_ks).items()})
    result[f"map@{map_k}"] = map_at_k(embeddings, labels, map_k, map_definition)
    result["roc_auc"] = verification_roc_auc(embeddings, labels, num_pairs=num_pairs, seed=seed)
    return result
