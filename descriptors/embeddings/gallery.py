"""Query-vs-gallery identification (whale-fluke style): top-k identities per query, a "new identity" answer, MAP@k.

The gallery holds labelled images; a query is answered with the identities of its nearest gallery images, in order
of distance, each identity once (`ranked_identities`). With a threshold T, the answer ``NEW_IDENTITY`` is inserted
at the first rank whose distance is above T (an unknown individual is more likely than anything farther). MAP@k is
the Kaggle humpback-whale metric: 1 / rank of the true identity among the first k answers (0 if absent), averaged
over queries; a query whose identity is not in the gallery is right when it is answered ``NEW_IDENTITY``.

Search is exact, by blocked matrix products (`nearest_gallery`): memory beyond the embeddings is one block of
``block x gallery`` float32 distances (256 x 100,000 x 4 B = 100 MB), whatever the number of queries.
"""

from __future__ import annotations

import numpy as np

from descriptors.errors import ConfigError

NEW_IDENTITY = "new_identity"
AUTO_QUERIES = 5000  # leave-one-out queries drawn from the gallery by `choose_threshold`


def nearest_gallery(query_codes, gallery_codes, count: int, block: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` nearest gallery rows of each query (L2), nearest first; ties go to the lower gallery index.

    Args:
        query_codes: (Q, E) float32.
        gallery_codes: (G, E) float32.
        count: neighbours per query (capped at G).
        block: queries per matrix product.

    Returns:
        (indices int64 (Q, count), distances float32 (Q, count)).
    """
    queries = np.asarray(query_codes, np.float32)
    gallery = np.asarray(gallery_codes, np.float32)
    count = min(int(count), len(gallery))
    gallery_sq = np.einsum("ij,ij->i", gallery, gallery)
    indices = np.empty((len(queries), count), np.int64)
    distances = np.empty((len(queries), count), np.float32)
    for start in range(0, len(queries), block):
        q = queries[start:start + block]
        d2 = np.einsum("ij,ij->i", q, q)[:, None] + gallery_sq[None, :] - 2.0 * (q @ gallery.T)
        np.maximum(d2, 0.0, out=d2)
        part = np.argpartition(d2, count - 1, axis=1)[:, :count] if count < len(gallery) else \
            np.broadcast_to(np.arange(len(gallery)), d2.shape)
        values = np.take_along_axis(d2, part, axis=1)
        order = np.lexsort((part, values), axis=1)  # by distance, then by index
        indices[start:start + block] = np.take_along_axis(part, order, axis=1)
        distances[start:start + block] = np.sqrt(np.take_along_axis(values, order, axis=1))
    return indices, distances


def ranked_identities(indices, distances, gallery_labels, top_k: int = 5, threshold: float | None = None):
    """The first ``top_k`` distinct identities of each query's neighbours, ``NEW_IDENTITY`` inserted at the first
    rank whose distance exceeds ``threshold`` (never when None).

    Args:
        indices, distances: from `nearest_gallery` (nearest first).
        gallery_labels: (G,) identity of each gallery row (any hashable values).
        top_k: answers per query.
        threshold: the new-identity distance, or None.

    Returns:
        (answers: list of lists of identities, answer_distances: list of lists of float (NaN for the new identity)).
    """
    labels = np.asarray(gallery_labels)
    answers, answer_distances = [], []
    for row, dist in zip(indices, distances):
        answer, near, new_placed = [], [], threshold is None
        for index, d in zip(row, dist):
            if len(answer) == top_k:
                break
            if not new_placed and d > threshold:
                answer.append(NEW_IDENTITY)
                near.append(float("nan"))
                new_placed = True
                if len(answer) == top_k:
                    break
            identity = labels[index].item()
            if identity not in answer:
                answer.append(identity)
                near.append(float(d))
        if not new_placed and len(answer) < top_k:  # fewer identities than top_k within reach
            answer.append(NEW_IDENTITY)
            near.append(float("nan"))
        answers.append(answer)
        answer_distances.append(near)
    return answers, answer_distances


def map_at_k(answers, truths, k: int = 5) -> float:
    """Kaggle MAP@k: mean over queries of 1 / (rank of the truth in the first k answers), 0 when absent."""
    if not len(answers):
        raise ConfigError("MAP@k needs at least one query. Received: 0")
    total = 0.0
    for answer, truth in zip(answers, truths):
        for rank, identity in enumerate(answer[:k], start=1):
            if identity == truth:
                total += 1.0 / rank
                break
    return total / len(answers)


def choose_threshold(gallery_codes, gallery_labels, top_k: int = 5, seed: int = 0) -> tuple[float, float]:
    """The new-identity threshold that maximises leave-one-out MAP@k on the gallery itself, exactly.

    Up to `AUTO_QUERIES` gallery images (drawn with ``seed``) are queried against the rest of the gallery; an image
    whose identity has no other image there is a "new identity" query. A query's score depends on T only through
    r, the number of its first k distinct identities closer than T (the new answer goes to rank r + 1), so the
    total is a step function of T with steps at those distances: one sweep over them finds the best T.

    Returns:
        (threshold, its leave-one-out MAP@k). The threshold is halfway between the step it follows and the next
        one; infinity when never answering "new" scores best.
    """
    codes = np.asarray(gallery_codes, np.float32)
    labels = np.asarray(gallery_labels)
    chosen = np.sort(np.random.default_rng(seed).permutation(len(codes))[:AUTO_QUERIES])
    indices, distances = nearest_gallery(codes[chosen], codes, min(len(codes), 10 * top_k + 1))
    keep = indices != chosen[:, None]  # the query itself is not its own neighbour
    identities, near = ranked_identities([r[m] for r, m in zip(indices, keep)],
                                         [r[m] for r, m in zip(distances, keep)], labels, top_k, None)
    names, counts = np.unique(labels, return_counts=True)
    seen_twice = {name.item() for name, count in zip(names, counts) if count > 1}
    base, events = 0.0, []
    for i, answer, dist in zip(chosen, identities, near):
        truth = labels[i].item() if labels[i].item() in seen_twice else NEW_IDENTITY
        scores = [_score(answer, truth, r, top_k) for r in range(len(answer) + 1)]
        base += scores[0]
        events += [(d, scores[r + 1] - scores[r]) for r, d in enumerate(dist)]
    events.sort()
    best_total, best_threshold, total = base, (events[0][0] / 2 if events else float("inf")), base
    for position, (distance, delta) in enumerate(events):
        total += delta
        following = events[position + 1][0] if position + 1 < len(events) else float("inf")
        if total > best_total + 1e-12 and following > distance:
            best_total = total
            best_threshold = (distance + following) / 2 if np.isfinite(following) else float("inf")
    return float(best_threshold), best_total / len(chosen)


def _score(answer, truth, new_rank0, top_k):
    """1 / rank of ``truth`` when ``NEW_IDENTITY`` is inserted after the first ``new_rank0`` identities."""
    if truth == NEW_IDENTITY:
        return 1.0 / (new_rank0 + 1) if new_rank0 < top_k else 0.0
    if truth not in answer:
        return 0.0
    rank = answer.index(truth) + 1
    rank += rank > new_rank0  # the new answer sits before it
    return 1.0 / rank if rank <= top_k else 0.0
