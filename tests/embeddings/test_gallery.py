"""Gallery identification: exact blocked search against brute force, hand-checked answers and MAP@5, the new-identity
threshold chosen on the gallery."""

import numpy as np
import pytest

from descriptors.embeddings.gallery import (NEW_IDENTITY, choose_threshold, map_at_k, nearest_gallery,
                                            ranked_identities)


def test_blocked_search_equals_brute_force():
    rng = np.random.default_rng(0)
    gallery, queries = rng.normal(size=(300, 16)).astype(np.float32), rng.normal(size=(37, 16)).astype(np.float32)
    gallery[17] = gallery[3]  # an exact tie: the lower index first
    queries[5] = gallery[3]
    indices, distances = nearest_gallery(queries, gallery, 7, block=8)
    brute = np.sqrt(((queries[:, None, :].astype(np.float64) - gallery[None]) ** 2).sum(-1))
    expected = np.lexsort((np.broadcast_to(np.arange(300), brute.shape), brute), axis=1)[:, :7]
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(distances, np.take_along_axis(brute, expected, axis=1), atol=2e-3)
    assert indices[5, :2].tolist() == [3, 17]
    everything, _ = nearest_gallery(queries[:2], gallery[:5], 10)
    assert everything.shape == (2, 5)


def test_answers_and_map_by_hand():
    labels = np.array(["a", "a", "b", "c", "d", "e"])
    indices = np.array([[0, 1, 2, 3, 4, 5], [3, 2, 0, 1, 4, 5]])
    distances = np.array([[0.1, 0.2, 0.3, 0.9, 1.0, 1.1], [0.5, 0.6, 0.7, 0.8, 1.5, 1.6]], np.float32)
    answers, near = ranked_identities(indices, distances, labels, top_k=3)
    assert answers == [["a", "b", "c"], ["c", "b", "a"]]
    assert near[0] == pytest.approx([0.1, 0.3, 0.9])
    answers, near = ranked_identities(indices, distances, labels, top_k=3, threshold=0.55)
    assert answers == [["a", "b", NEW_IDENTITY], ["c", NEW_IDENTITY, "b"]]
    assert np.isnan(near[1][1])
    assert ranked_identities(indices, distances, labels, top_k=2, threshold=0.05)[0][0] == [NEW_IDENTITY, "a"]
    # truths: b at rank 2 -> 1/2; a new individual answered new at rank 2 -> 1/2; mean 0.5
    assert map_at_k(answers, ["b", NEW_IDENTITY], k=3) == pytest.approx(0.5)
    assert map_at_k([["x"], ["y"]], ["y", "y"], k=5) == pytest.approx(0.5)


def test_threshold_separates_singletons_from_known_identities():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(40, 8)) * 5
    labels, codes = [], []
    for identity, centre in enumerate(centres):
        copies = 1 if identity < 10 else 4  # ten individuals seen once: "new" in leave-one-out
        for _ in range(copies):
            codes.append(centre + 0.05 * rng.normal(size=8))
            labels.append(f"id{identity}")
    threshold, score = choose_threshold(np.array(codes, np.float32), np.array(labels), top_k=5)
    assert 0.1 < threshold < 5.0 and score == pytest.approx(1.0)
    never, never_score = choose_threshold(np.array(codes[10:], np.float32), np.array(labels[10:]), top_k=5)
    assert never_score == pytest.approx(1.0)


def test_threshold_sweep_equals_evaluating_every_threshold():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 25, 90).astype(str)  # some identities once, most several times: overlapping clusters
    codes = (rng.normal(size=(25, 6)) * 1.5)[labels.astype(int)] + rng.normal(size=(90, 6))
    threshold, score = choose_threshold(codes.astype(np.float32), labels, top_k=5)

    def loo_map(t):
        indices, distances = nearest_gallery(codes, codes, 51)
        keep = indices != np.arange(90)[:, None]
        answers, _ = ranked_identities([r[m] for r, m in zip(indices, keep)],
                                       [r[m] for r, m in zip(distances, keep)], labels, 5, t)
        counts = {name: (labels == name).sum() for name in set(labels)}
        truths = [name if counts[name] > 1 else NEW_IDENTITY for name in labels]
        return map_at_k(answers, truths, 5)

    assert loo_map(threshold) == pytest.approx(score, abs=1e-12)
    grid = np.linspace(0.0, 8.0, 400)
    assert max(loo_map(t) for t in grid) <= score + 1e-12
    assert 0.3 < score < 1.0
