"""Sanity checks that make suspicious numbers visible (protocol B.1: a constant descriptor scores retrieval 1.0).

Hard errors (NaN/inf, missing sequences, inconsistent rows or dimensions) are raised by `DescriptorSet`; here are
the soft ones, returned as flags (``{"code", "message", ...}``, kept in the results JSON and printed with every
table) and also emitted as `EvaluationWarning`:

* ``constant_descriptors`` / ``collapsed_descriptors``: the ``ref`` descriptors of the whole split are (nearly)
  constant, or take very few distinct values;
* ``collapsed_sequences``: the same checks **per sequence**, naming each one (``sequences``): a single collapsed
  sequence makes its own retrieval queries look perfect (their positives tie with the query, ahead of every
  distractor) and so lifts the retrieval score with the other sequences looking normal.
"""

from __future__ import annotations

import warnings

import numpy as np

from hpatches_eval.errors import EvaluationWarning

_SAMPLE_ROWS = 20000
_CONSTANT_REL_VAR = 1e-8
_DISTINCT_FRACTION = 0.01
_NAMES_SHOWN = 10


def make_flag(code: str, message: str, warn: bool = True, **details) -> dict:
    """A flag entry ``{"code", "message", **details}``; also ``warnings.warn``-ed unless ``warn`` is False.

    ``details`` must be JSON-able (they are written to the results JSON), e.g. ``sequences=[...]``.
    """
    if warn:
        warnings.warn(f"[{code}] {message}", EvaluationWarning, stacklevel=3)
    return {"code": code, "message": message, **details}


def name_list(names, shown: int = _NAMES_SHOWN) -> str:
    """``['a', 'b']``, or the first ``shown`` names and ``... (N in all)`` for a long list."""
    names = list(names)
    if len(names) <= shown:
        return repr(names)
    return repr(names[:shown])[:-1] + f", ...] ({len(names)} in all)"


def _sample(values: np.ndarray) -> np.ndarray:
    if values.shape[0] > _SAMPLE_ROWS:
        values = values[np.linspace(0, values.shape[0] - 1, _SAMPLE_ROWS).astype(np.int64)]
    return values.astype(np.float64)


def collapse_state(ref: np.ndarray) -> tuple[str | None, str]:
    """Whether descriptors are ``"constant"``, ``"collapsed"`` or fine (None), and the numbers that say so.

    Constant: total variance <= 1e-8 x the mean squared norm (or exactly 0). Collapsed: fewer distinct rows than
    max(2, 1% of the rows).

    Shape:
        ref: (N, D); returns (state, description).
    """
    ref = _sample(ref)
    total_var = float(ref.var(axis=0).sum())
    scale = float(np.mean(np.einsum("ij,ij->i", ref, ref)))
    if total_var <= _CONSTANT_REL_VAR * scale or total_var == 0.0:
        return "constant", f"total variance {total_var:.3g} vs mean squared norm {scale:.3g}"
    distinct = np.unique(ref, axis=0).shape[0]
    if distinct < max(2.0, _DISTINCT_FRACTION * ref.shape[0]):
        return "collapsed", f"only {distinct} distinct values over {ref.shape[0]} ref patches"
    return None, f"{distinct} distinct values over {ref.shape[0]} ref patches"


def descriptor_flags(descriptors, sequences) -> list[dict]:
    """Flags for constant or collapsed ``ref`` descriptors, over the whole split and per sequence.

    Args:
        descriptors: a `DescriptorSet` holding ``sequences``.
        sequences: the sequences to inspect (the split's test set).

    Returns:
        A (possibly empty) list of flags; each one was also warned. ``collapsed_sequences`` carries
        ``sequences`` (every collapsed sequence, in split order) and ``states`` (``{seq: "constant" or
        "collapsed"}``).
    """
    sequences = list(sequences)
    flags = []
    state, numbers = collapse_state(np.concatenate([descriptors.get(seq, "ref") for seq in sequences]))
    if state == "constant":
        flags.append(
            make_flag(
                "constant_descriptors",
                f"descriptors {descriptors.name!r} are (nearly) constant across patches: {numbers}. Retrieval will "
                "look perfect (ties favour the positives) while verification and matching are ~0; the numbers are "
                "meaningless.",
            )
        )
        return flags  # every sequence is constant too: naming them all adds nothing
    if state == "collapsed":
        flags.append(
            make_flag(
                "collapsed_descriptors",
                f"descriptors {descriptors.name!r} take {numbers}: many exact ties, which the official protocol "
                "breaks by list order.",
            )
        )
    states = {}
    for seq in sequences:
        seq_state, _ = collapse_state(descriptors.get(seq, "ref"))
        if seq_state is not None:
            states[seq] = seq_state
    if states:
        names = list(states)
        flags.append(
            make_flag(
                "collapsed_sequences",
                f"{len(names)} of {len(sequences)} sequences have constant or collapsed ref descriptors "
                f"{name_list(names)} (descriptors {descriptors.name!r}): their retrieval queries tie with their "
                "positives and score ~1.0, which lifts the retrieval mean; their matching is ~0.",
                sequences=names,
                states=states,
            )
        )
    return flags
