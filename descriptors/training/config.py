"""The one training configuration: defaults < JSON file < command-line flags, validated before any work.

Field names are the CLI flags in kebab-case (``learning_rate`` <-> ``--learning-rate``). The resolved
configuration is written as ``config.json`` in the run folder, and a run is resumed from it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from descriptors.errors import ConfigError
from descriptors.training.config_io import ConfigIO, check_fields

DATA_SOURCES = ("default", "default-wide", "hpatches", "nhpatches")  # or a dataset built by descriptors.data.build
# data name -> `descriptors.data.default.default_dataset` variant (offline, built on first use)
DEFAULT_DATA_VARIANTS = {"default": "default", "default-wide": "wide"}
BROWN_PREFIX = "brown:"  # data="brown:PATH/liberty": a Brown / UBC PhotoTour subset folder
INPUTS = ("noisy", "clean")
DENOISERS = ("none", "shallow_unet", "full_unet", "coursework_shallow_unet")
DESCRIPTORS = ("hardnet", "l2net", "coursework_baseline", "sosnet", "tfeat", "hynet")
LOSSES = ("hardest_in_batch", "triplet_margin", "triplet_ratio", "in_triplet_hard_negative",
          "contrastive", "supcon", "ntxent", "arcface", "snr", "sos", "hynet")
VIEW_LOSSES = ("hardest_in_batch", "contrastive", "supcon", "ntxent", "arcface", "sos", "hynet")  # (B, K>=2, D) views
MINED_LOSSES = ("triplet_margin", "triplet_ratio", "in_triplet_hard_negative", "snr")  # work with --miner
MINERS = ("none", "batch_hard", "semi_hard", "distance_weighted", "opms", "opms_pairs")
DISTRIBUTE = ("none", "mirrored", "data_parallel", "multi_worker")
MIXED_PRECISION = ("off", "float16", "bfloat16")
JIT_COMPILE = ("auto", "on", "off")
MEMORY_MAP = ("auto", "on", "off")
SAMPLINGS = ("auto", "pairs", "random_triplets")
OPTIMIZERS = ("adam", "adamw", "sgd", "adamax", "rmsprop", "nadam")
SCHEDULES = ("constant", "reduce_on_plateau", "linear_decay", "warmup_cosine")
DENOISER_LOSSES = ("mae", "mse")
DISTANCES = ("l2", "sql2", "mean_squared")
SEED_RANGE = "[0, 4294967295]"  # what numpy and Keras accept as a seed


@dataclasses.dataclass(frozen=True)
class TrainConfig(ConfigIO):
    """Every option of a training run. See ``python -m descriptors.train --help`` for each meaning."""

    # Data.
    data: str = "default"
    data_dir: str | None = None
    tasks_dir: str | None = None
    split: str | None = None
    inputs: str = "noisy"
    eval_inputs: str = "noisy"
    max_train_tracks: int | None = None
    # Denoiser stage.
    denoiser: str = "shallow_unet"
    denoiser_residual: bool | None = None
    denoiser_loss: str = "mae"
    denoiser_epochs: int = 2
    denoiser_learning_rate: float = 1e-3
    denoiser_batch_size: int = 256
    denoiser_optimizer: str = "adam"
    denoiser_momentum: float | None = None
    # Descriptor stage.
    descriptor: str = "hardnet"
    loss: str = "hardest_in_batch"
    margin: float = 1.0
    distance: str = "l2"
    sampling: str = "auto"
    augment: bool = True
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "linear_decay"
    warmup_fraction: float = 0.05
    epochs: int = 10  # the no-argument run: about 12 min on 2 CPU cores, dataset build included
    batch_size: int = 256
    tuples_per_epoch: int = 20_000
    val_tuples: int = 4_096
    # Metric-learning toolkit (docs/losses.md): miner for triplet-style losses, K views per row, temperature.
    miner: str = "none"
    views_per_track: int = 2
    temperature: float = 0.1
    sos_weight: float | None = None
    difficulty_start: float = 0.2
    distribute: str = "none"
    mixed_precision: str = "off"
    jit_compile: str = "auto"
    deterministic: bool = True
    memory_map: str = "auto"
    # Joint fine-tune of denoiser + descriptor through the descriptor loss (0 = off).
    joint_epochs: int = 0
    joint_learning_rate: float = 1e-4
    # Warm start: a saved DescriptorPipeline folder whose descriptor (and denoiser) weights start the stages.
    init_from: str | None = None
    # Run.
    seed: int = 42
    output_dir: str | None = None
    resume: bool = False
    evaluate: bool = True
    verbose: int = 1

    def __post_init__(self):
        check_fields(self, self.bounds())
        if isinstance(self.data, str) and self.data.startswith(BROWN_PREFIX):
            _check_brown(self)
        else:
            _check_choice("data", self.data, DATA_SOURCES, allow_path=True)
        _check_choice("inputs", self.inputs, INPUTS)
        _check_choice("eval_inputs", self.eval_inputs, INPUTS)
        _check_choice("denoiser", self.denoiser, DENOISERS)
        _check_choice("denoiser_loss", self.denoiser_loss, DENOISER_LOSSES)
        _check_choice("descriptor", self.descriptor, DESCRIPTORS)
        _check_choice("loss", self.loss, LOSSES)
        _check_choice("sampling", self.sampling, SAMPLINGS)
        _check_choice("denoiser_optimizer", self.denoiser_optimizer, OPTIMIZERS)
        _check_choice("miner", self.miner, MINERS)
        _check_choice("distribute", self.distribute, DISTRIBUTE)
        _check_choice("mixed_precision", self.mixed_precision, MIXED_PRECISION)
        _check_choice("jit_compile", self.jit_compile, JIT_COMPILE)
        _check_choice("memory_map", self.memory_map, MEMORY_MAP)
        if self.deterministic and self.jit_compile == "on":
            raise ConfigError("`jit_compile='on'` needs deterministic=False (XLA has no deterministic mode here): "
                              "pass --no-deterministic. Received: deterministic=True, jit_compile='on'")
        if self.miner == "opms_pairs" and self.loss != "contrastive":
            raise ConfigError(f"`miner='opms_pairs'` mines pairs for loss='contrastive'. Received: loss={self.loss!r}")
        if self.miner not in ("none", "opms_pairs") and self.loss not in MINED_LOSSES:
            raise ConfigError(f"`miner` works with the losses {MINED_LOSSES}. Received: loss={self.loss!r}")
        if self.miner != "none" and self.distance == "mean_squared":
            raise ConfigError("A mined loss supports distance 'l2' or 'sql2'. Received: distance='mean_squared'")
        if self.loss == "ntxent" and self.views_per_track != 2:
            raise ConfigError("`views_per_track` must be 2 for loss='ntxent'. "
                              f"Received: views_per_track={self.views_per_track!r}")
        if self.views_per_track > 2 and not self.uses_views:
            raise ConfigError(f"`views_per_track` > 2 needs a view loss {VIEW_LOSSES} or a --miner. "
                              f"Received: loss={self.loss!r}, miner={self.miner!r}")
        _check_choice("distance", self.distance, DISTANCES)
        if self.loss in ("sos", "hynet") and self.distance != "l2":
            raise ConfigError(f"loss={self.loss!r} works on L2 distances: use distance='l2'. "
                              f"Received: distance={self.distance!r}")
        if self.loss == "arcface" and self.sos_weight:
            raise ConfigError("`sos_weight` regularises descriptor pairs, but ArcFace's outputs are class cosines. "
                              f"Received: loss='arcface', sos_weight={self.sos_weight!r}")
        if self.loss == "hardest_in_batch" and self.distance == "mean_squared":
            raise ConfigError("loss='hardest_in_batch' supports distance 'l2' or 'sql2'. Received: distance='mean_squared'")
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("schedule", self.schedule, SCHEDULES)
        if self.data in ("hpatches", "nhpatches") and not self.data_dir:
            raise ConfigError(f"`data_dir` must point at the {self.data} folder when data={self.data!r}.")
        if self.data == "hpatches" and "noisy" in (self.inputs, self.eval_inputs):
            raise ConfigError(
                "hpatches-release has no noisy patches: use inputs='clean' and eval_inputs='clean', "
                "or data='nhpatches'. Received: "
                f"inputs={self.inputs!r}, eval_inputs={self.eval_inputs!r}"
            )
        if self.sampling_kind == "pairs" and not self.uses_views:
            raise ConfigError(
                f"`sampling='pairs'` has no negatives, so it only works with the view losses {VIEW_LOSSES} or a "
                f"--miner. Received: loss={self.loss!r}"
            )
        if self.joint_epochs and self.denoiser == "none":
            raise ConfigError("`joint_epochs` > 0 needs a denoiser. Received: denoiser='none'")
        if self.init_from is not None and not (Path(self.init_from) / "pipeline.json").is_file():
            raise ConfigError("`init_from` must be a saved pipeline folder (with pipeline.json), e.g. "
                              f"descriptors/weights/default or RUN/pipeline. Received: init_from={self.init_from!r}")
        if self.init_from is not None and self.distribute != "none":
            raise ConfigError("`init_from` loads its models outside a distribution scope, so it needs "
                              f"distribute='none'. Received: distribute={self.distribute!r}")

    def bounds(self) -> dict[str, str]:
        """The range of every numeric option (checked with its type by `check_fields`)."""
        return {
            "max_train_tracks": ">= 3", "denoiser_epochs": ">= 0", "denoiser_learning_rate": "> 0",
            "denoiser_batch_size": ">= 1", "denoiser_momentum": "[0, 1)", "margin": "> 0", "learning_rate": "> 0",
            "momentum": "[0, 1)", "weight_decay": ">= 0", "warmup_fraction": "[0, 1)",
            # A warm start may keep its descriptor as is (epochs=0, e.g. for a joint fine-tune only).
            "epochs": ">= 0" if self.init_from is not None else ">= 1",
            "batch_size": ">= 2", "tuples_per_epoch": ">= 1", "val_tuples": ">= 1", "views_per_track": "[2, 16]",
            "temperature": "> 0", "sos_weight": ">= 0", "difficulty_start": "[0, 1]", "joint_epochs": ">= 0", "joint_learning_rate": "> 0",
            "seed": SEED_RANGE, "verbose": "[0, 2]",
        }

    @property
    def sampling_kind(self) -> str:
        """The sampler actually used: pair batches for hardest-in-batch, random triplets otherwise."""
        if self.sampling != "auto":
            return self.sampling
        return "pairs" if self.uses_views else "random_triplets"

    @property
    def uses_views(self) -> bool:
        """True when the loss reads (B, K, D) views of distinct tracks (view losses and mined losses)."""
        return self.loss in VIEW_LOSSES or self.miner != "none"

    @property
    def tuple_arity(self) -> int:
        """K, the embeddings per row the trainer stacks: views_per_track for view/mined losses, else 3."""
        return self.views_per_track if self.uses_views else 3


def _check_brown(config: TrainConfig) -> None:
    """``data='brown:PATH'``: an existing folder, clean inputs, no denoiser, no HPatches evaluation."""
    folder = config.data[len(BROWN_PREFIX):]
    if not folder or not Path(folder).is_dir():
        raise ConfigError(f"`data` 'brown:PATH' must name an existing Brown subset folder (e.g. brown:data/liberty). "
                          f"Received: data={config.data!r}")
    wrong = {name: value for name, value in (("inputs", config.inputs), ("eval_inputs", config.eval_inputs))
             if value != "clean"}
    if wrong or config.denoiser != "none" or config.evaluate or config.joint_epochs:
        raise ConfigError("Brown data has clean patches only and no HPatches task files: pass --inputs clean "
                          "--eval-inputs clean --denoiser none --no-evaluate (evaluate FPR95 afterwards with "
                          "python -m hpatches_eval.phototour). Received: "
                          f"inputs={config.inputs!r}, eval_inputs={config.eval_inputs!r}, "
                          f"denoiser={config.denoiser!r}, evaluate={config.evaluate!r}, "
                          f"joint_epochs={config.joint_epochs!r}")
    if config.split not in (None, "all"):
        raise ConfigError(f"`split` must be 'all' (or unset) for Brown data: every point is used for training. "
                          f"Received: split={config.split!r}")


def _check_choice(name: str, value, choices, allow_path: bool = False) -> None:
    if value in choices:
        return
    if allow_path and isinstance(value, str) and value and Path(value).is_dir():
        return
    extra = " or a dataset folder" if allow_path else ""
    raise ConfigError(f"`{name}` must be one of {choices}{extra}. Received: {name}={value!r}")

