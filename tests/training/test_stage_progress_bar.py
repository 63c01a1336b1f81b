"""`StageProgressBar`: Keras' bar without Keras' "Epoch k/k" line after the stage's own "[stage] epoch k/N"."""

import contextlib
import io

import keras
import numpy as np

from descriptors.training.stage import StageProgressBar


def _fit_output(callbacks):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.fit(np.zeros((8, 3)), np.zeros((8, 1)), initial_epoch=2, epochs=3, verbose=1, callbacks=callbacks)
    return out.getvalue()


def test_bar_without_the_epoch_line():
    assert _fit_output([]).startswith("Epoch 3/3")  # what Keras alone prints for the third epoch of a stage
    shown = _fit_output([StageProgressBar()])
    assert "Epoch" not in shown and "1/1" in shown and "loss" in shown
