"""The image-embedding run: data, PK batches, a resumable `run_stage`, then kNN / retrieval / verification metrics.

Reuses the patch trainer's machinery: `TupleEncoder` (one backbone over the (P, K, H, W, C) batch),
`run_stage` (per-epoch checkpoints, CSV/TensorBoard logs, best model by validation loss, resume), the run-folder
checks and `config.json`, `build_loss`, `build_optimizer` and `build_schedule`. Run folder: `config.json`,
`state.json`, `checkpoints/`, `embedder.keras` (best backbone), `embedder_log.csv`, `metrics.json`
(and `tsne.png`).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path

import keras
import numpy as np

from descriptors.embeddings.augmentation import Augmenter
from descriptors.embeddings.backbones import build_backbone
from descriptors.embeddings.config import EmbedConfig
from descriptors.embeddings.cifar import CIFAR_PREFIX, check_cifar_data, read_cifar_binary
from descriptors.embeddings.default_data import DEFAULT_DATASETS, load_default_images
from descriptors.training.curriculum import CurriculumBatches, opms_difficulty
from descriptors.embeddings.image_folder import load_image_folder
from descriptors.embeddings.images import LabelledImages
from descriptors.embeddings.metrics import evaluate_embeddings
from descriptors.embeddings.pk_batches import PKBatches, pk_to_triplets, plan_pk_batches
from descriptors.errors import ConfigError
from descriptors.losses.registry import LOSS_INPUT_ARITY, LOSSES, build_loss
from descriptors.training.head_encoder import HeadTupleEncoder
from descriptors.training.batches import epoch_rng
from descriptors.training.checkpoints import RunState, atomic_write_text
from descriptors.training.optimizers import build_optimizer, build_schedule
from descriptors.training.run_dir import check_run_dir, discarded_on_config_error, hashed_run_dir, prepare_run_dir
from descriptors.training.stage import Stage, run_stage
from descriptors.training.tuple_encoder import TupleEncoder

STAGE = "embedder"


@dataclasses.dataclass
class EmbedResult:
    """What a run produced: its folder, config, the best backbone and (when evaluated) the test metrics."""

    run_dir: Path
    config: EmbedConfig
    model: keras.Model
    metrics: dict | None = None


def default_run_dir(config: EmbedConfig) -> Path:
    """``runs/embed-<backbone>-<loss>-<hash of every result-affecting option>``."""
    return hashed_run_dir(config, f"embed-{config.backbone}-{config.loss}")


def load_data(config: EmbedConfig) -> LabelledImages:
    """The configured image set (offline default, image folder or CIFAR binary), resized, optionally subsampled
    (stratified)."""
    if config.data in DEFAULT_DATASETS:
        data = load_default_images(config.data, config.image_size)
        if config.channels == 3:
            data = LabelledImages(np.repeat(data.images, 3, axis=-1), data.labels, data.class_names)
    elif config.data.startswith(CIFAR_PREFIX):  # train and test batches together; the run makes its own split
        data = read_cifar_binary(check_cifar_data(config.data), "all", image_size=config.image_size,
                                 channels=config.channels)
    else:
        data = load_image_folder(config.data, config.image_size, config.channels, progress=bool(config.verbose))
    if config.max_images and config.max_images < len(data):
        (data, _) = data.split((config.max_images / len(data),), config.seed)
    return data


def split_data(data: LabelledImages, config: EmbedConfig) -> tuple:
    """(train, val, test) stratified split by `val_fraction` / `test_fraction` and the seed."""
    val, test, train = data.split((config.val_fraction, config.test_fraction), config.seed)
    return train, val, test


def build_embedding_loss(config: EmbedConfig, num_classes: int):
    """`build_loss(config.loss, miner=config.miner, ...)` with `margin` and `loss_options`; a loss whose
    constructor takes `num_classes` or `embedding_dim` gets them from the run."""
    options = dict(config.loss_options)
    if config.margin is not None:
        options["margin"] = config.margin
    if config.miner != "none":
        return build_loss(config.loss, miner=config.miner, **options)
    parameters = inspect.signature(LOSSES[config.loss]).parameters
    if "num_classes" in parameters:
        options.setdefault("num_classes", num_classes)
    if "embedding_dim" in parameters:
        options.setdefault("embedding_dim", config.embedding_dim)
    return build_loss(config.loss, **options)


def embed_images(model: keras.Model, images, batch_size: int = 256) -> np.ndarray:
    """Embeds uint8 images (N, H, W, C) in inference mode; returns float32 (N, E)."""
    return np.asarray(model.predict(np.asarray(images, np.float32), batch_size=batch_size, verbose=0))


def evaluate_model(model: keras.Model, data: LabelledImages, config: EmbedConfig) -> dict:
    """The test metrics of `model` on `data` (leave-one-out, see `descriptors.embeddings.metrics`)."""
    codes = embed_images(model, data.images)
    return evaluate_embeddings(codes, data.labels, knn_k=config.knn_k, recall_ks=(1, 5), map_k=config.map_k,
                               map_definition=config.map_definition, seed=config.seed)


def _plan(config, labels, p, num_batches, rng):
    """PK rows, or (anchor, positive, negative) rows for a triplet-arity loss without a miner."""
    plan = plan_pk_batches(labels, p, config.k, num_batches, rng)
    triplets = LOSS_INPUT_ARITY.get(config.loss) == 3 and config.miner == "none"
    return pk_to_triplets(plan) if triplets else plan


def training_model(config: EmbedConfig, backbone: keras.Model, num_classes: int) -> keras.Model:
    """`TupleEncoder(backbone)`; ArcFace adds its trainable class-centre head (`HeadTupleEncoder`)."""
    if config.loss == "arcface":
        from descriptors.losses.arcface import ArcFaceHead

        return HeadTupleEncoder(backbone, ArcFaceHead(num_classes, name="arcface_head"), name=f"{STAGE}_trainer")
    return TupleEncoder(backbone, name=f"{STAGE}_trainer")


def make_stage(config: EmbedConfig, train: LabelledImages, val: LabelledImages) -> Stage:
    """The `run_stage` description of the embedding training."""
    num_classes = train.num_classes
    if config.p > len(np.unique(train.labels)):
        raise ConfigError(
            f"`p` must be at most the number of training classes ({len(np.unique(train.labels))}). "
            f"Received: p={config.p}"
        )
    augmenter = Augmenter(config.augment, channels=config.channels, magnitude=config.magnitude)
    total_steps = config.batches_per_epoch * config.epochs

    def build():
        backbone = build_backbone(config.backbone, input_shape=train.image_shape,
                                  embedding_dim=config.embedding_dim, weights=config.weights,
                                  **config.backbone_options)
        model = training_model(config, backbone, num_classes)
        rate = build_schedule(config.schedule, config.learning_rate, total_steps, config.warmup_fraction)
        optimizer = build_optimizer(config.optimizer, rate, config.momentum, config.weight_decay)
        model.compile(optimizer=optimizer, loss=build_embedding_loss(config, num_classes))
        return model

    def batches(epoch):
        plan = _plan(config, train.labels, config.p, config.batches_per_epoch, epoch_rng(config.seed, epoch))
        seed = int(epoch_rng(config.seed, epoch, 1).integers(2**31))
        out = PKBatches(train.images, train.labels, plan, augment=augmenter if augmenter.parts else None,
                        augment_seed=seed)
        if config.miner in ("opms", "opms_pairs"):  # the OPMS curriculum: lambda rises with the epoch
            return CurriculumBatches(out, opms_difficulty(epoch, config.epochs))
        return out

    val_p = min(config.p, len(np.unique(val.labels)))
    val_plan = _plan(config, val.labels, val_p, config.val_batches, np.random.default_rng([config.seed, 99]))
    return Stage(name=STAGE, build_model=build, train_batches=batches,
                 val_batches=PKBatches(val.images, val.labels, val_plan), epochs=config.epochs,
                 export=lambda model: model.encoder, plateau=config.schedule == "reduce_on_plateau")


def train_embedding(config: EmbedConfig | None = None, data: LabelledImages | None = None,
                    **overrides) -> EmbedResult:
    """Trains (or resumes) an embedding run and, unless `config.evaluate` is False, evaluates it on the test split.

    Args:
        config: the run configuration (defaults: digits, SimNet, hardest-in-batch).
        data: optional in-memory `LabelledImages` used instead of `config.data` (e.g. from arrays).
        **overrides: fields replacing those of `config` (e.g. `epochs=2`).

    Returns:
        an `EmbedResult`.

    Raises:
        ConfigError: invalid options or run folder (before training starts).
        RunFolderError: resuming a run folder whose state or checkpoints are damaged (before training starts).
        TrainingDivergedError: the loss or the weights became NaN or infinite.
    """
    config = config or EmbedConfig()
    config = config.replace(**overrides) if overrides else config
    if config.output_dir is None:
        config = config.replace(output_dir=str(default_run_dir(config)))
    data_path = None if config.data in DEFAULT_DATASETS else config.data.removeprefix(CIFAR_PREFIX)
    inputs = [path for path in (config.weights, data_path) if path]
    check_run_dir(config, default_run_dir(config), inputs)  # before the data is read: nothing written yet
    if data is None:
        data = load_data(config)
    elif data.image_shape[-1] != config.channels or data.image_shape[0] != config.image_size:
        data = data.resized(config.image_size)
        if data.image_shape[-1] != config.channels:
            raise ConfigError(f"`channels` must match the data ({data.image_shape[-1]}). Received: {config.channels}")
    train, val, test = split_data(data, config)
    stage = make_stage(config, train, val)  # validates p against the data before any file is written
    with discarded_on_config_error(config.output_dir):  # e.g. an image size the backbone refuses
        run_dir = prepare_run_dir(config, default_run_dir(config), inputs)
        keras.utils.set_random_seed(config.seed)
        model = run_stage(stage, run_dir, RunState(run_dir), config.verbose)
    result = EmbedResult(run_dir=run_dir, config=config, model=model)
    if config.evaluate:
        result.metrics = evaluate_model(model, test, config)
        atomic_write_text(run_dir / "metrics.json", json.dumps(result.metrics, indent=2))
        if config.tsne:
            from descriptors.embeddings.plots import tsne_figure

            tsne_figure(embed_images(model, test.images), test.labels, run_dir / "tsne.png", seed=config.seed,
                        class_names=test.class_names)
    return result
