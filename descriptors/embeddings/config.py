"""`EmbedConfig`: every option of an image-embedding run; defaults < JSON file < command-line flags.

Field names are the CLI flags of `python -m descriptors.embed` in kebab-case. Choices that other packages own
(losses, optimizers, schedules) are read from them, so a loss added to `descriptors.losses.registry` is
available here without change.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from descriptors.embeddings.augmentation import parse_policy
from descriptors.embeddings.backbones import BACKBONES, check_backbone_input
from descriptors.embeddings.cifar import CIFAR_PREFIX, check_cifar_data
from descriptors.embeddings.default_data import DEFAULT_DATASETS
from descriptors.embeddings.metrics import MAP_DEFINITIONS
from descriptors.errors import ConfigError
from descriptors.losses.miners import MINERS
from descriptors.losses.registry import LOSSES, MINEABLE_LOSSES, PAIR_MINERS
from descriptors.training.config import OPTIMIZERS, SCHEDULES, SEED_RANGE
from descriptors.training.config_io import ConfigIO, check_fields

# The range of every numeric option (checked with its type by `check_fields`).
BOUNDS = {
    "image_size": ">= 1", "max_images": ">= 1", "val_fraction": "(0, 1)", "test_fraction": "(0, 1)",
    "embedding_dim": ">= 1", "margin": ">= 0", "learning_rate": "> 0", "momentum": "[0, 1)", "weight_decay": ">= 0",
    "warmup_fraction": "[0, 1)", "epochs": ">= 1", "p": ">= 2", "k": ">= 2", "batches_per_epoch": ">= 1",
    "val_batches": ">= 1", "magnitude": "(0, 1]", "knn_k": ">= 1", "map_k": ">= 1", "seed": SEED_RANGE,
    "verbose": "[0, 2]",
}


@dataclasses.dataclass(frozen=True)
class EmbedConfig(ConfigIO):
    """Every option of an embedding run. See ``python -m descriptors.embed --help`` for each meaning."""

    # Data.
    data: str = "digits"
    image_size: int = 32
    channels: int = 1
    max_images: int | None = None
    val_fraction: float = 0.1
    test_fraction: float = 0.3
    # Model.
    backbone: str = "simnet"
    embedding_dim: int = 64
    weights: str | None = None
    backbone_options: dict = dataclasses.field(default_factory=dict)
    # Loss and optimisation.
    loss: str = "hardest_in_batch"
    margin: float | None = None
    miner: str = "none"
    loss_options: dict = dataclasses.field(default_factory=dict)
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "constant"
    warmup_fraction: float = 0.05
    epochs: int = 10
    p: int = 10
    k: int = 4
    batches_per_epoch: int = 30
    val_batches: int = 5
    augment: str = "basic"
    magnitude: float = 0.5
    # Evaluation.
    knn_k: int = 5
    map_k: int = 20
    map_definition: str = "items"
    tsne: bool = False
    # Run.
    seed: int = 42
    output_dir: str | None = None
    resume: bool = False
    evaluate: bool = True
    verbose: int = 1

    def __post_init__(self):
        check_fields(self, BOUNDS)
        if isinstance(self.data, str) and self.data.startswith(CIFAR_PREFIX):
            check_cifar_data(self.data)
        elif self.data not in DEFAULT_DATASETS and not (self.data and Path(self.data).is_dir()):
            raise ConfigError(f"`data` must be one of {DEFAULT_DATASETS}, an image folder or cifar:DIR (CIFAR-10/100 "
                              f"binary). Received: data={self.data!r}")
        _choice("backbone", self.backbone, tuple(sorted(BACKBONES)))
        _choice("loss", self.loss, tuple(sorted(LOSSES)))
        _choice("miner", self.miner, ("none",) + tuple(MINERS) + PAIR_MINERS)
        if self.miner in PAIR_MINERS and self.loss != "contrastive":
            raise ConfigError(f"`miner={self.miner!r}` mines pairs for loss='contrastive'. Received: loss={self.loss!r}")
        if self.miner not in ("none",) + PAIR_MINERS and self.loss not in MINEABLE_LOSSES:
            raise ConfigError(f"`miner` works with the losses {tuple(MINEABLE_LOSSES)}. Received: loss={self.loss!r}")
        if self.loss == "ntxent" and self.k != 2:
            raise ConfigError("`k` must be 2 with loss='ntxent' (NT-Xent reads exactly two images of each class "
                              f"per row). Received: k={self.k!r}")
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("schedule", self.schedule, SCHEDULES)
        _choice("map_definition", self.map_definition, MAP_DEFINITIONS)
        _choice("channels", self.channels, (1, 3))
        check_backbone_input(self.backbone, (self.image_size, self.image_size, self.channels), self.backbone_options)
        parse_policy(self.augment)
        if self.max_images is not None and self.max_images < 2 * self.p:
            raise ConfigError(f"`max_images` must be at least 2 * p. Received: max_images={self.max_images!r}")
        if self.val_fraction + self.test_fraction >= 0.9:
            raise ConfigError(
                "`val_fraction` and `test_fraction` must be in (0, 1) with a sum below 0.9. "
                f"Received: val_fraction={self.val_fraction!r}, test_fraction={self.test_fraction!r}"
            )
        if self.weights is not None and not Path(self.weights).is_file():
            raise ConfigError(f"`weights` must be a local file (nothing is downloaded). Received: weights={self.weights!r}")

def _choice(name, value, choices):
    if value not in choices:
        raise ConfigError(f"`{name}` must be one of {choices}. Received: {name}={value!r}")
