"""`train()` end to end with the new pieces: ArcFace head (its weights train) on PK batches, OPMS curriculum."""

import csv

import keras
import numpy as np
import pytest

from descriptors.training.head_encoder import HeadTupleEncoder
from descriptors.training.trainer import train

TINY = dict(denoiser="none", epochs=2, tuples_per_epoch=64, batch_size=32, val_tuples=32, max_train_tracks=60,
            evaluate=False, verbose=0)


def test_arcface_head_trains_and_round_trips(tmp_path):
    result = train(loss="arcface", views_per_track=3, output_dir=str(tmp_path / "arc"), **TINY)
    checkpoint = next((result.run_dir / "checkpoints").glob("descriptor-epoch2.keras"))
    model = keras.saving.load_model(checkpoint)
    assert isinstance(model, HeadTupleEncoder) and model.head.num_classes == 57  # 60 tracks - 3 validation
    assert model(np.zeros((1, 3, 32, 32, 1), np.float32)).shape == (1, 3, 57)
    rows = list(csv.DictReader(open(result.run_dir / "descriptor_log.csv")))
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])


def test_arcface_head_weights_change_in_fit():
    from descriptors.losses import ArcFaceHead, ArcFaceLoss
    from descriptors.models.registry import build_descriptor

    model = HeadTupleEncoder(build_descriptor("hardnet", descriptor_dim=8), ArcFaceHead(4))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=ArcFaceLoss())
    x = np.random.default_rng(0).uniform(0, 255, size=(4, 2, 32, 32, 1)).astype(np.float32)
    model(x)
    before = keras.ops.convert_to_numpy(model.head.class_weights).copy()
    model.fit(x, np.arange(4, dtype=np.float32), epochs=1, verbose=0)
    after = keras.ops.convert_to_numpy(model.head.class_weights)
    assert np.abs(after - before).max() > 1e-4
    assert any(v is model.head.class_weights for v in model.trainable_variables)


def test_opms_lambda_rides_in_each_epochs_batches():
    from descriptors.training.config import TrainConfig
    from descriptors.training.curriculum import opms_difficulty
    from descriptors.training.trainer import _descriptor_stage

    config = TrainConfig(loss="triplet_margin", miner="opms", epochs=3, batch_size=4, tuples_per_epoch=8,
                         val_tuples=4, difficulty_start=0.4)
    patches = np.zeros((10, 16, 32, 32), np.uint8)
    stage = _descriptor_stage(config, "descriptor", patches, np.arange(8), np.arange(8, 10), None, 1e-3, 3)
    for epoch in range(3):
        x, y = stage.train_batches(epoch)[0]
        assert x.shape == (4, 2, 32, 32, 1) and y.shape == (4, 2)
        assert y[:, 1] == pytest.approx(opms_difficulty(epoch, 3, 0.4))
    assert stage.val_batches[0][1].shape == (2,)  # validation: the loss's own difficulty (1.0)
