"""Every loss (and every miner) trains a small encoder on real default-dataset patches: the loss falls.

The batch is fixed (16 tracks of one training sequence), so a few Adam steps must lower the loss on it.
"""

import keras
import numpy as np
import pytest

from descriptors.data.default import default_dataset
from descriptors.data.formats import HPatchesRelease
from descriptors.data.patch_tracks import load_tracks
from descriptors.losses import ArcFaceHead, LOSS_INPUT_ARITY, MINERS, VIEW_LOSSES, build_configured_loss

ROWS = 16
STEPS = 8


@pytest.fixture(scope="session")
def default_tracks():
    root = default_dataset()
    source = HPatchesRelease(root / "nhpatches", noisy=True)
    tracks = load_tracks(source, source.sequences[:1], verbose=False)
    keep = np.random.default_rng(0).permutation(tracks.num_tracks)[:ROWS]
    return tracks.patches[keep].astype(np.float32)  # (16, 16, 32, 32)


def _encoder():
    return keras.Sequential([
        keras.Input((32, 32, 1)),
        keras.layers.Rescaling(1 / 255.0, offset=-0.5),
        keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
        keras.layers.Conv2D(16, 3, strides=2, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(32),
        keras.layers.UnitNormalization(),
    ])


class TinyTuples(keras.Model):
    """(B, K, 32, 32, 1) -> (B, K, D), with an optional head (ArcFace)."""

    def __init__(self, head=None):
        super().__init__(name="tiny_tuples")
        self.encoder, self.head = _encoder(), head

    def call(self, x):
        codes = keras.ops.reshape(self.encoder(keras.ops.reshape(x, (-1, 32, 32, 1))), (-1, x.shape[1], 32))
        return codes if self.head is None else self.head(codes)


def _batch(patches, arity):
    if arity == 3:  # anchor, positive = views 0, 1; negative = view 2 of the next track
        x = np.stack([patches[:, 0], patches[:, 1], np.roll(patches[:, 2], 1, axis=0)], axis=1)
    else:
        x = patches[:, :arity]
    return x[..., None], np.arange(len(patches), dtype=np.float32)


CASES = [(name, "none") for name in LOSS_INPUT_ARITY] + [("triplet_margin", miner) for miner in MINERS]


@pytest.mark.parametrize("loss_name,miner", CASES, ids=[f"{a}-{b}" for a, b in CASES])
def test_loss_falls_on_real_patches(default_tracks, loss_name, miner):
    keras.utils.set_random_seed(0)
    arity = 2 if (loss_name in VIEW_LOSSES or miner != "none") else LOSS_INPUT_ARITY[loss_name]
    x, y = _batch(default_tracks, arity)
    if miner == "opms":
        y = np.stack([y, np.full_like(y, 0.5)], axis=1)
    model = TinyTuples(ArcFaceHead(ROWS) if loss_name == "arcface" else None)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=build_configured_loss(loss_name, miner, margin=0.5))
    losses = [float(model.train_on_batch(x, y)) for _ in range(STEPS)]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < losses[0], losses
