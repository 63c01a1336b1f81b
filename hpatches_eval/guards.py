"""Sanity checks that make suspicious numbers visible (protocol B.1: a constant descriptor scores retrieval 1.0).

Hard errors (NaN/inf, missing sequences, inconsistent rows or dimensions) are raised by `DescriptorSet`; here are
the soft ones, returned as ``{"code", "message"}`` flags and also emitted as `EvaluationWarning`.
"""

from __future__ import annotations

import warnings

import numpy as np

from hpatches_eval.errors import EvaluationWarning

_SAMPLE_ROWS = 20000
_CONSTANT_REL_VAR = 1e-8
_DISTINCT_FRACTION = 0.01


def make_flag(code: str, message: str, warn: bool = True) -> dict:
    """A flag entry; also ``warnings.warn``-ed unless ``warn`` is False."""
    if warn:
        warnings.warn(f"[{code}] {message}", EvaluationWarning, stacklevel=3)
    return {"code": code, "message": message}


def descriptor_flags(descriptors, sequences) -> list[dict]:
    """Flags for constant (near-zero variance) or collapsed (very few distinct rows) ``ref`` descriptors.

    Args:
        descriptors: a `DescriptorSet` holding ``sequences``.
        sequences: the sequences to inspect (the split's test set).

    Returns:
        A (possibly empty) list of flags; each one was also warned.
    """
    ref = np.concatenate([descriptors.get(seq, "ref") for seq in sequences]).astype(np.float64)
    if ref.shape[0] > _SAMPLE_ROWS:
        ref = ref[np.linspace(0, ref.shape[0] - 1, _SAMPLE_ROWS).astype(np.int64)]
    flags = []
    total_var = float(ref.var(axis=0).sum())
    scale = float(np.mean(np.einsum("ij,ij->i", ref, ref)))
    if total_var <= _CONSTANT_REL_VAR * scale or total_var == 0.0:
        flags.append(
            make_flag(
                "constant_descriptors",
                f"descriptors {descriptors.name!r} are (nearly) constant across patches: total variance "
                f"{total_var:.3g} vs mean squared norm {scale:.3g}. Retrieval will look perfect (ties favour the "
                "positives) while verification and matching are ~0; the numbers are meaningless.",
            )
        )
    distinct = np.unique(ref, axis=0).shape[0]
    if distinct < max(2.0, _DISTINCT_FRACTION * ref.shape[0]) and not flags:
        flags.append(
            make_flag(
                "collapsed_descriptors",
                f"descriptors {descriptors.name!r} take only {distinct} distinct values over {ref.shape[0]} ref "
                "patches: many exact ties, which the official protocol breaks by list order.",
            )
        )
    return flags
