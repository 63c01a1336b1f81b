"""OPMS curriculum: the mining difficulty lambda rises from a start value to 1 over the epochs.

lambda is a pure function of the epoch (`opms_difficulty`), and it reaches the loss through the data: the
epoch's batches carry it as a second column of `y_true` (`CurriculumBatches`), read by
`MinedTripletLoss(miner="opms")`. Nothing is stored, so a resumed run sees exactly the values of an
uninterrupted one. (A callback writing a Python attribute or a loss-owned variable would not reach a train step
already compiled by the JAX backend, which bakes such values into the jitted function.)
"""

from __future__ import annotations

import numpy as np

from descriptors.errors import ConfigError
from descriptors.training.prefetched_batches import PrefetchedBatches


def opms_difficulty(epoch: int, epochs: int, start: float = 0.2) -> float:
    """lambda of (0-based) ``epoch``: linear from ``start`` at epoch 0 to 1.0 at the last epoch.

    Raises:
        ConfigError: ``start`` outside [0, 1] or ``epochs`` < 1.
    """
    if not 0 <= start <= 1:
        raise ConfigError(f"`start` must be in [0, 1]. Received: start={start!r}")
    if epochs < 1:
        raise ConfigError(f"`epochs` must be >= 1. Received: epochs={epochs!r}")
    if epochs == 1:
        return 1.0
    fraction = min(max(epoch, 0), epochs - 1) / (epochs - 1)
    return float(start + (1.0 - start) * fraction)


class CurriculumBatches(PrefetchedBatches):
    """Wraps a `PyDataset` of ``(x, y)`` with y (B,) and yields ``(x, y2)`` with y2 (B, 2) = (y, difficulty).

    Args:
        batches: the wrapped dataset (e.g. a `TupleBatches` of one epoch).
        difficulty: the epoch's lambda (`opms_difficulty`).
    """

    def __init__(self, batches, difficulty: float, **kwargs):
        super().__init__(**kwargs)
        self.batches, self.difficulty = batches, float(difficulty)

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        x, y = self.batches[index]
        y = np.asarray(y, np.float32).reshape(-1)
        return x, np.stack([y, np.full_like(y, self.difficulty)], axis=1)
