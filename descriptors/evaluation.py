"""Describe the patches of a dataset with any descriptor and score them with `hpatches_eval`.

A descriptor is any callable ``(N, P, P) uint8 patches -> (N, D) descriptors``: a `DescriptorPipeline`, an
`SiftPatchDescriptor`, an ensemble... This module is the bridge from `descriptors` to `hpatches_eval` (the
benchmark itself knows nothing of Keras).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from descriptors.progress import tqdm
from hpatches_eval.patch_types import PATCH_TYPES


def describe_sequences(describe, source, sequences, verbose: bool = True) -> dict[str, dict[str, np.ndarray]]:
    """Runs ``describe`` over all 16 patch files of each sequence (one call per sequence).

    Args:
        describe: callable (N, P, P) uint8 -> (N, D).
        source: patch source with ``load_sequence(seq) -> uint8 (16, N, P, P)``.
        sequences: names of the sequences to describe.
        verbose: show a progress bar over sequences.

    Returns:
        ``{seq: {patch_type: float32 (N, D)}}``.
    """
    out = {}
    for seq in tqdm(list(sequences), desc="describing", disable=not verbose, leave=False):
        views = source.load_sequence(seq)
        count = views.shape[1]
        codes = np.asarray(describe(views.reshape((-1,) + views.shape[2:])), dtype=np.float32)
        out[seq] = {tp: codes[i * count : (i + 1) * count] for i, tp in enumerate(PATCH_TYPES)}
    return out


def evaluate_descriptor(describe, source, split, tasks_dir=None, name: str = "descriptor",
                        out_json: str | Path | None = None, verbose: bool = True, **options):
    """Describes the test sequences of ``split`` and evaluates them with `hpatches_eval.evaluate`.

    Args:
        describe: callable (N, P, P) uint8 -> (N, D).
        source: patch source (see `describe_sequences`).
        split: a `hpatches_eval.splits.Split` (its ``test`` sequences are described).
        tasks_dir: official-format task folder (None: matching only, the one task that needs no files).
        name: descriptor name recorded in the results.
        out_json: when given, the results JSON is written there.
        verbose: progress bars.
        **options: forwarded to `hpatches_eval.evaluate` (``distance``, ``ap``, ``tasks``...).

    Returns:
        The `hpatches_eval` results object.
    """
    import hpatches_eval

    descriptors = describe_sequences(describe, source, split.test, verbose=verbose)
    splits_file = Path(tasks_dir) / "splits" / "splits.json" if tasks_dir else None
    if tasks_dir is None:
        options.setdefault("tasks", ("matching",))  # the only task that needs no task files
    results = hpatches_eval.evaluate(
        descriptors, tasks_dir=tasks_dir, split=split.name, name=name,
        splits_file=splits_file if splits_file and splits_file.is_file() else None, **options,
    )
    if out_json is not None:
        results.save(out_json)
    return results
