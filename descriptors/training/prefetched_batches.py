"""`PrefetchedBatches`: the `PyDataset` base of every training batch source, prefetched by worker threads."""

from __future__ import annotations

import keras

PREFETCH_WORKERS = 2
"""Threads that prepare batches ahead of the model (Keras' ordered enqueuer: batch order is kept).

With more than one worker Keras feeds TensorFlow through its enqueuer and turns tf.data autotuning off. With a
single worker, the autotuned ``from_generator`` pipeline kept every ``fit`` call waiting 15-30 s after its last
batch (a sleeping optimisation thread), about 40% of a 20,000-pair HardNet epoch on 2 cores. Batches are a pure
function of their index, so the number of workers never changes what is trained.
"""


class PrefetchedBatches(keras.utils.PyDataset):
    """A `keras.utils.PyDataset` whose ``workers`` defaults to `PREFETCH_WORKERS`.

    Subclasses must make ``__getitem__`` a thread-safe pure function of the batch index.

    Args:
        **kwargs: forwarded to `keras.utils.PyDataset` (``workers``, ``use_multiprocessing``, ``max_queue_size``).
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("workers", PREFETCH_WORKERS)
        super().__init__(**kwargs)
