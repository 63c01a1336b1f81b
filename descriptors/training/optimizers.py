"""Optimizers and learning-rate schedules named by the training config."""

from __future__ import annotations

import keras

from descriptors.errors import ConfigError


def build_schedule(name: str, learning_rate: float, total_steps: int, warmup_fraction: float = 0.05):
    """Returns a learning rate (float or `LearningRateSchedule`) for ``total_steps`` optimizer steps.

    - ``constant`` and ``reduce_on_plateau``: a float (the plateau logic lowers it between epochs);
    - ``linear_decay``: linear to zero over the run (HardNet's recipe);
    - ``warmup_cosine``: linear warm-up over ``warmup_fraction`` of the steps, then cosine decay to zero.
    """
    total_steps = max(1, int(total_steps))
    if name in ("constant", "reduce_on_plateau"):
        return float(learning_rate)
    if name == "linear_decay":
        return keras.optimizers.schedules.PolynomialDecay(
            initial_learning_rate=learning_rate, decay_steps=total_steps, end_learning_rate=0.0, power=1.0
        )
    if name == "warmup_cosine":
        warmup = int(round(warmup_fraction * total_steps))
        return keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0 if warmup else learning_rate,
            decay_steps=max(1, total_steps - warmup),
            warmup_target=learning_rate if warmup else None,
            warmup_steps=warmup,
        )
    raise ConfigError(f"`schedule` is unknown. Received: schedule={name!r}")


def build_optimizer(name: str, learning_rate, momentum: float = 0.9, weight_decay: float = 0.0):
    """Returns a Keras optimizer. ``weight_decay`` is decoupled (AdamW-style) for every optimizer."""
    decay = weight_decay or None
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate, weight_decay=decay)
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay or 1e-4)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum, nesterov=momentum > 0,
                                    weight_decay=decay)
    if name == "adamax":
        return keras.optimizers.Adamax(learning_rate=learning_rate, weight_decay=decay)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=learning_rate, momentum=momentum, weight_decay=decay)
    if name == "nadam":
        return keras.optimizers.Nadam(learning_rate=learning_rate, weight_decay=decay)
    raise ConfigError(f"`optimizer` is unknown. Received: optimizer={name!r}")


class PlateauState:
    """Reduce-on-plateau between epochs (factor 0.5, patience 2), with a state that goes into the checkpoint."""

    def __init__(self, factor: float = 0.5, patience: int = 2, min_lr: float = 1e-6, best=None, wait: int = 0):
        self.factor, self.patience, self.min_lr = factor, patience, min_lr
        self.best, self.wait = best, wait

    def update(self, val_loss: float, optimizer) -> None:
        """Records an epoch's validation loss and lowers the optimizer's learning rate after ``patience`` misses."""
        if self.best is None or val_loss < self.best - 1e-4:
            self.best, self.wait = val_loss, 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            current = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
            optimizer.learning_rate = max(self.min_lr, current * self.factor)
            self.wait = 0

    def to_dict(self) -> dict:
        return {"best": self.best, "wait": self.wait}
