"""Metrics against hand-computed values on six 1-D points (worked out in the comments)."""

import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from descriptors.embeddings.metrics import (
    evaluate_embeddings,
    knn_f1,
    knn_predict,
    macro_f1,
    map_at_k,
    ranked_neighbours,
    recall_at_k,
    roc_auc,
    verification_pairs,
    verification_roc_auc,
)
from descriptors.embeddings.results import best_by, results_table
from descriptors.errors import ConfigError, ShapeError

# Points 0, 1, 2, 10, 11, 13 with labels A A B B B A (A=0, B=1). Leave-one-out neighbour labels (ties -> lower
# index: point 1 is at distance 1 from both 0 and 2):
#   p0: A B B B A   p1: A B B B A   p2: A A B B A   p3: B A B A A   p4: B A B A A   p5: B B B A A
POINTS = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [13.0]])
LABELS = np.array([0, 0, 1, 1, 1, 0])


def test_ranked_neighbours_break_ties_by_index():
    ranked, _ = ranked_neighbours(POINTS, LABELS)
    expected = [[0, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 0], [1, 0, 1, 0, 0], [1, 0, 1, 0, 0], [1, 1, 1, 0, 0]]
    np.testing.assert_array_equal(ranked, expected)


def test_knn_predictions_and_macro_f1():
    # k=3 votes: B B A B B B -> class A: TP 0 -> F1 0; class B: TP 2, FP 3, FN 1 -> 4/8. Macro = 0.25.
    np.testing.assert_array_equal(knn_predict(POINTS, LABELS, 3), [1, 1, 0, 1, 1, 1])
    assert knn_f1(POINTS, LABELS, 3) == pytest.approx(0.25)
    # k=1 and k=2 (p0's A/B tie goes to the nearer A): A A A B B B -> both classes TP 2 FP 1 FN 1 -> 2/3.
    np.testing.assert_array_equal(knn_predict(POINTS, LABELS, 2), [0, 0, 0, 1, 1, 1])
    assert knn_f1(POINTS, LABELS, 1) == pytest.approx(2 / 3)
    predicted = knn_predict(POINTS, LABELS, 3)
    assert macro_f1(LABELS, predicted) == pytest.approx(f1_score(LABELS, predicted, average="macro"))


def test_recall_at_k():
    # Misses at k=1: p2 (first is A) and p5 (first is B); at k=3 only p5 (B B B).
    assert recall_at_k(POINTS, LABELS, ks=(1, 2, 3)) == pytest.approx({1: 4 / 6, 2: 4 / 6, 3: 5 / 6})


def test_map_at_k_items():
    # R = 2 for every query, k = 3: AP = 1/2, 1/2, (1/3)/2, (1 + 2/3)/2, (1 + 2/3)/2, 0 -> mean 17/36.
    assert map_at_k(POINTS, LABELS, k=3, definition="items") == pytest.approx(17 / 36)


def test_map_at_k_labels_kaggle():
    # De-duplicated label rankings: AB, A.., AB, B.., B.., BA -> 1, 1, 1/2, 1, 1, 1/2 -> 5/6; at k=1: 4/6.
    assert map_at_k(POINTS, LABELS, k=5, definition="labels") == pytest.approx(5 / 6)
    assert map_at_k(POINTS, LABELS, k=1, definition="labels") == pytest.approx(4 / 6)


def test_query_gallery_mode():
    gallery, gallery_labels = np.array([[0.0], [10.0]]), np.array([0, 1])
    queries, labels = np.array([[1.0], [9.0], [6.0]]), np.array([0, 1, 0])
    assert knn_f1(queries, labels, 1, gallery, gallery_labels) == pytest.approx(f1_score(labels, [0, 1, 1],
                                                                                         average="macro"))
    assert recall_at_k(queries, labels, (1,), gallery, gallery_labels) == {1: pytest.approx(2 / 3)}


def test_roc_auc_against_hand_values_and_sklearn():
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert roc_auc([1.0, 1.0], [1, 0]) == pytest.approx(0.5)
    scores = np.random.default_rng(3).integers(0, 5, 40).astype(float)
    targets = np.random.default_rng(4).integers(0, 2, 40)
    assert roc_auc(scores, targets) == pytest.approx(roc_auc_score(targets, scores))


def test_verification_roc_auc_on_explicit_pairs():
    # same pairs (0,1), (3,4) at distance 1; different pairs (0,3) at 10 and (1,2) at 1: 2 wins + 2 ties -> 3/4.
    pairs, same = np.array([[0, 1], [3, 4], [0, 3], [1, 2]]), np.array([1, 1, 0, 0])
    assert verification_roc_auc(POINTS, LABELS, pairs=pairs, same=same) == pytest.approx(0.75)


def test_verification_pairs_are_balanced_and_correct(rng):
    labels = np.repeat(np.arange(4), 5)
    pairs, same = verification_pairs(labels, 100, rng)
    assert pairs.shape == (100, 2) and same.sum() == 50
    np.testing.assert_array_equal(labels[pairs[:, 0]] == labels[pairs[:, 1]], same)
    assert np.all(pairs[same, 0] != pairs[same, 1])


def test_evaluate_embeddings_keys():
    result = evaluate_embeddings(POINTS, LABELS, knn_k=3, recall_ks=(1,), map_k=3, num_pairs=20)
    assert sorted(result) == ["knn_f1", "map@3", "recall@1", "roc_auc"]
    assert result["map@3"] == pytest.approx(17 / 36)


def test_metric_errors():
    with pytest.raises(ConfigError, match="`definition` must be one of"):
        map_at_k(POINTS, LABELS, definition="kaggle")
    with pytest.raises(ConfigError, match="`k` must be a positive integer. Received: k=0"):
        map_at_k(POINTS, LABELS, k=0)
    with pytest.raises(ConfigError, match="`k` must be a positive integer"):
        knn_predict(POINTS, LABELS, 0)
    with pytest.raises(ConfigError, match="`ks` must be positive integers"):
        recall_at_k(POINTS, LABELS, ks=(0,))
    with pytest.raises(ShapeError, match=r"`embeddings` must be \(N, D\)"):
        knn_f1(POINTS[:, 0], LABELS)
    with pytest.raises(ShapeError, match="`gallery` must have D=1"):
        knn_f1(POINTS, LABELS, 1, np.zeros((2, 2)), np.array([0, 1]))
    with pytest.raises(ConfigError, match="`targets` must hold both classes"):
        roc_auc([0.1, 0.2], [1, 1])
    with pytest.raises(ConfigError, match="Verification pairs need"):
        verification_pairs(np.array([0, 1, 2]), 10, np.random.default_rng(0))


def test_results_table_and_best_by():
    rows = [
        {"backbone": "tfeat", "loss": "triplet_margin", "embedding_dim": 64, "knn_f1": 0.5},
        {"backbone": "simnet", "loss": "hardest_in_batch", "embedding_dim": 32, "knn_f1": 0.91234},
        {"backbone": "tfeat", "loss": "triplet_margin", "embedding_dim": 32, "knn_f1": 0.75},
    ]
    assert results_table(rows).splitlines() == [
        "| backbone | loss | embedding_dim | knn_f1 |",
        "|---|---|---|---|",
        "| simnet | hardest_in_batch | 32 | 0.912 |",
        "| tfeat | triplet_margin | 32 | 0.750 |",
        "| tfeat | triplet_margin | 64 | 0.500 |",
    ]
    assert best_by(rows, "knn_f1", "backbone") == {"tfeat": 0.75, "simnet": 0.91234}
    with pytest.raises(ValueError, match=r"`rows` must each have .*without \['loss'\]"):
        results_table([{"backbone": "x", "embedding_dim": 1}])
