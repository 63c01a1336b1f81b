"""The train/test split of a built dataset: random and stratified by kind, or the test sequences the user named.

Sequences the builder skipped (see `descriptors.data.screening`) are in neither set; the split is refused when a
named test sequence was skipped, or when skipping left no train or no test sequence that the request implied.
"""

from __future__ import annotations

import numpy as np

from descriptors.errors import ConfigError, DataFormatError
from hpatches_eval.splits import Split


def split_sequences(names: list[str], test_fraction: float, rng: np.random.Generator, name: str = "default") -> Split:
    """Random train/test split by sequence, stratified by kind (``i_``, ``v_``, anything else).

    Each kind with at least two sequences puts ``round(test_fraction * n)`` of them (at least one, at most
    ``n - 1``) in the test set; a kind with one sequence goes to test only if there is no other test sequence.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"`test_fraction` must be in (0, 1). Received: test_fraction={test_fraction!r}")
    groups: dict[str, list[str]] = {}
    for n in sorted(names):
        groups.setdefault(n[:2] if n[:2] in ("i_", "v_") else "other", []).append(n)
    test: list[str] = []
    for kind in sorted(groups):
        members = groups[kind]
        if len(members) >= 2:
            count = int(min(max(round(test_fraction * len(members)), 1), len(members) - 1))
            test += [members[i] for i in rng.permutation(len(members))[:count]]
    if not test and names:
        test = [sorted(names)[0]]
    train = [n for n in sorted(names) if n not in test]
    return Split(name=name, test=tuple(sorted(test)), train=tuple(train))


def _reasons(names, skipped: dict[str, str]) -> str:
    return "; ".join(f"{n!r}: {skipped[n]}" for n in names)


def choose_split(built: list[str], skipped: dict[str, str], *, test_sequences: list[str] | None,
                 test_fraction: float, rng: np.random.Generator, name: str) -> Split:
    """The split of the sequences that were built.

    Args:
        built: names of the sequences that were built.
        skipped: ``{name: reason}`` of the sequences that were skipped.
        test_sequences: the test sequences the user named, or None for a random split.
        test_fraction, rng: see `split_sequences`.
        name: the split's name.

    Raises:
        DataFormatError: nothing was built; a named test sequence was skipped; skipping left no test sequence,
            or no train sequence although the request had some.
        ConfigError: a named test sequence is not one of the sequences.
    """
    if not built:
        raise DataFormatError(f"No usable sequence: all {len(skipped)} sequences were skipped "
                              f"({_reasons(sorted(skipped), skipped)}).")
    if test_sequences is None:
        if len(built) == 1 and skipped:
            raise DataFormatError(f"No train sequence remains: only {built[0]!r} is usable and it goes to the test "
                                  f"set; skipped: {_reasons(sorted(skipped), skipped)}.")
        return split_sequences(built, test_fraction, rng, name)
    lost = [s for s in test_sequences if s in skipped]
    if lost:
        raise DataFormatError(f"Requested test sequence(s) {lost} were skipped: {_reasons(lost, skipped)}.")
    unknown = sorted(set(test_sequences) - set(built))
    if unknown:
        raise ConfigError(f"`test_sequences` must name sequences of the input. Received unknown: {unknown}; "
                          f"known: {sorted(built)}")
    train = sorted(set(built) - set(test_sequences))
    wanted_train = sorted(set(skipped) - set(test_sequences))
    if not train and wanted_train:
        raise DataFormatError(f"No train sequence remains: every sequence outside the test set was skipped "
                              f"({_reasons(wanted_train, skipped)}).")
    return Split(name, tuple(sorted(test_sequences)), tuple(train))
