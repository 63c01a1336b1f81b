"""The training run: denoiser stage, descriptor stage, optional joint fine-tune, then HPatches evaluation.

Usable from notebooks (`train(...)`) and from the CLI (`python -m descriptors.train`). Every stage is resumable
(see `descriptors.training.checkpoints`); the resolved configuration is saved with the run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from pathlib import Path

import keras
import numpy as np

from descriptors.data.patch_tracks import PatchTracks, load_tracks, npy_writer, open_random_access
from descriptors.errors import ConfigError
from descriptors.losses.arcface import ArcFaceHead
from descriptors.losses.registry import build_configured_loss
from descriptors.models.registry import DENOISERS, DESCRIPTORS, build_denoiser, build_descriptor
from descriptors.progress import tqdm
from descriptors.training.batches import DenoisePairs, TupleBatches, epoch_rng, plan_tuples
from descriptors.training.checkpoints import RunState, atomic_write_text
from descriptors.training.config import DATA_SOURCES, TrainConfig
from descriptors.training.curriculum import CurriculumBatches, opms_difficulty
from descriptors.training.data_sources import check_training_data, resolve_training_data
from descriptors.training.determinism import op_determinism
from descriptors.training.distribution import (distribution_scope, multi_worker_strategy, read_tf_config,
                                               worker_run_dir)
from descriptors.training.head_encoder import HeadTupleEncoder
from descriptors.training.machine_info import record_machine
from descriptors.training.optimizers import build_optimizer, build_schedule
from descriptors.training.pk_sampling import pk_batches
from descriptors.training.precision import float32_copy, precision_policy, rebuilt_with_policy
from descriptors.training.run_dir import check_run_dir, hashed_run_dir, prepare_run_dir
from descriptors.training.stage import Stage, TrainingDivergedError, non_finite_weight, run_stage
from descriptors.training.tuple_encoder import TupleEncoder
from hpatches_eval.output_safety import write_marker

VALIDATION_FRACTION = 0.05
PATCH_STORE = "patch_cache"  # folder of the run's memory-mapped training patches (removed when the run ends)


@dataclasses.dataclass
class RunResult:
    """What a run produced: its folder, the trained models and (when evaluated) the HPatches summary."""

    run_dir: Path
    config: TrainConfig
    denoiser: keras.Model | None
    descriptor: keras.Model
    summary: dict | None = None
    flags: list = dataclasses.field(default_factory=list)  # hpatches_eval flags of the evaluation ({code, message})


def default_run_dir(config: TrainConfig) -> Path:
    """``runs/<descriptor>-<loss>-<hash of every result-affecting option>``."""
    return hashed_run_dir(config, f"{config.descriptor}-{config.loss}")


def _split_validation(num_tracks: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Holds out ``VALIDATION_FRACTION`` of the training tracks (at least 2) for validation."""
    order = np.random.default_rng([seed, 7]).permutation(num_tracks)
    count = max(2, int(round(VALIDATION_FRACTION * num_tracks)))
    return np.sort(order[count:]), np.sort(order[:count])


def load_initial_models(config: TrainConfig) -> tuple[keras.Model | None, keras.Model | None]:
    """The (denoiser, descriptor) that ``config.init_from`` starts training from; (None, None) without it.

    Raises:
        ConfigError: a model in the folder is not the configured architecture (e.g. an L2-Net for
            ``descriptor='hardnet'``), or the configured denoiser has no counterpart in the folder.
    """
    if config.init_from is None:
        return None, None
    from descriptors.models.pipeline import DescriptorPipeline

    saved = DescriptorPipeline.load(config.init_from)
    _check_architecture("descriptor", config.descriptor, DESCRIPTORS, saved.descriptor, config.init_from)
    denoiser = None
    if config.denoiser != "none":
        if saved.denoiser is None:
            raise ConfigError(f"`init_from` {config.init_from!r} has no denoiser to start denoiser="
                              f"{config.denoiser!r} from: pass --denoiser none or a pipeline with a denoiser.")
        _check_architecture("denoiser", config.denoiser, DENOISERS, saved.denoiser, config.init_from)
        denoiser = saved.denoiser
    return denoiser, saved.descriptor


def _check_architecture(kind, name, table, model, folder) -> None:
    """Raises ConfigError unless ``model`` is the class of ``table[name]`` with the same preset options."""
    cls, preset = table[name]
    options = model.get_config()
    differs = [key for key, value in preset.items() if options.get(key) != value]
    if type(model) is not cls or differs:
        raise ConfigError(f"`init_from` {folder!r} holds a {type(model).__name__} {kind} "
                          f"({', '.join(f'{k}={options.get(k)!r}' for k in differs) or 'class differs'}), "
                          f"not the configured {kind}={name!r} ({cls.__name__} {preset}).")


def _denoiser_stage(config, noisy: PatchTracks, clean: PatchTracks, train_ids, val_ids, initial=None) -> Stage:
    noisy_flat = noisy.patches.reshape(-1, noisy.patch_size, noisy.patch_size)
    clean_flat = clean.patches.reshape(-1, clean.patch_size, clean.patch_size)
    views = noisy.patches.shape[1]
    train_rows = (train_ids[:, None] * views + np.arange(views)).ravel()
    val_rows = (val_ids[:, None] * views + np.arange(views)).ravel()
    per_epoch = min(len(train_rows), config.tuples_per_epoch * 2)
    steps = config.denoiser_epochs * int(np.ceil(per_epoch / config.denoiser_batch_size))

    def build():
        options = {} if config.denoiser_residual is None else {"residual": config.denoiser_residual}
        model = initial if initial is not None else build_denoiser(config.denoiser, **options)
        rate = build_schedule("warmup_cosine", config.denoiser_learning_rate, steps, config.warmup_fraction)
        if config.denoiser_optimizer == "sgd":  # the coursework recipe: plain constant-rate SGD
            rate = config.denoiser_learning_rate
        momentum = config.momentum if config.denoiser_momentum is None else config.denoiser_momentum
        optimizer = build_optimizer(config.denoiser_optimizer, rate, momentum)
        model.compile(optimizer=optimizer, loss=config.denoiser_loss, metrics=["mae"], jit_compile=_jit(config))
        return model

    def batches(epoch):
        order = epoch_rng(config.seed, epoch, stream=10).permutation(train_rows)[:per_epoch]
        return DenoisePairs(noisy_flat, clean_flat, order, config.denoiser_batch_size)

    val_order = val_rows[: 4 * config.val_tuples]
    return Stage(
        name="denoiser",
        build_model=build,
        train_batches=batches,
        val_batches=DenoisePairs(noisy_flat, clean_flat, val_order, config.denoiser_batch_size),
        epochs=config.denoiser_epochs,
        export=lambda model: model,
    )


def denoise_tracks(denoiser, tracks: PatchTracks, batch_size: int = 1024, verbose: int = 1,
                   store=None) -> PatchTracks:
    """Runs ``denoiser`` over every view of every track; output clipped and rounded to uint8 (T, 16, P, P).

    Batch by batch into a uint8 array (or, with ``store``, a ``.npy`` file returned memory-mapped): memory beyond
    the input and output is one batch, whatever the data size (a float32 copy of the real N-HPatches training
    patches alone would be about 10 GB).
    """
    flat = tracks.patches.reshape(-1, tracks.patch_size, tracks.patch_size)
    with contextlib.ExitStack() as stack:
        if store is None:
            out = np.empty(flat.shape, np.uint8)

            def write(start, block):
                out[start:start + len(block)] = block
        else:
            append = stack.enter_context(npy_writer(store, flat.shape))

            def write(start, block):
                append(block)

        starts = range(0, len(flat), batch_size)
        label = f"[denoiser] denoising the {len(flat):,} training patches for the descriptor stage"
        for start in tqdm(starts, desc=label, unit="batch", disable=not verbose, leave=False):
            batch = flat[start:start + batch_size].astype(np.float32)[..., None]
            denoised = keras.ops.convert_to_numpy(denoiser.predict_on_batch(batch))
            write(start, np.clip(np.rint(denoised[..., 0]), 0, 255).astype(np.uint8))
    if store is not None:
        out = open_random_access(store)
    return tracks.with_patches(out.reshape(tracks.patches.shape))


MEMORY_MAP_BYTES = 1 << 30  # memory_map="auto": above this many bytes of uint8 training patches


def patch_store(config: TrainConfig, data, run_dir: Path) -> Path | None:
    """The folder where the run keeps its training patches memory-mapped, or None to keep them in memory.

    ``memory_map="auto"`` maps them when one copy of the training tracks (uint8, 16 views) exceeds
    `MEMORY_MAP_BYTES`: the real N-HPatches training split (~2.5 GB per copy) is, the default dataset is not.
    """
    if config.memory_map == "off":
        return None
    if config.memory_map == "auto":
        source = data.source(config.inputs)
        if not hasattr(source, "num_patches"):
            return None
        size = int(getattr(source, "patch_size", 32))
        tracks = sum(source.num_patches(seq) for seq in data.split.train)
        if tracks * 16 * size * size <= MEMORY_MAP_BYTES:
            return None
    return run_dir / PATCH_STORE


def _descriptor_stage(config, name, patches: np.ndarray, train_ids, val_ids, make_encoder, learning_rate,
                      epochs, plateau_ok=True) -> Stage:
    arity = config.tuple_arity
    steps_per_epoch = max(1, config.tuples_per_epoch // config.batch_size)

    def build():
        encoder = make_encoder()
        model = _tuple_model(config, encoder, len(train_ids), name=f"{name}_trainer")
        rate = build_schedule(config.schedule, learning_rate, steps_per_epoch * epochs, config.warmup_fraction)
        optimizer = build_optimizer(config.optimizer, rate, config.momentum, config.weight_decay)
        model.compile(optimizer=optimizer, loss=_loss_for(config), jit_compile=_jit(config))
        return model

    def batches(epoch):
        plan = _plan(config, len(train_ids), config.tuples_per_epoch, config.batch_size, arity,
                     epoch_rng(config.seed, epoch))
        augment_seed = int(epoch_rng(config.seed, epoch, 1).integers(2**31)) if config.augment else None
        out = TupleBatches(patches, plan, config.batch_size, augment_seed=augment_seed, track_ids=train_ids)
        if config.miner in ("opms", "opms_pairs"):  # the curriculum's lambda rides in y_true (a function of the epoch)
            return CurriculumBatches(out, opms_difficulty(epoch, epochs, config.difficulty_start))
        return out

    val_plan = _plan(config, len(val_ids), config.val_tuples, min(config.batch_size, len(val_ids)), arity,
                     np.random.default_rng([config.seed, 99]))
    return Stage(
        name=name,
        build_model=build,
        train_batches=batches,
        val_batches=TupleBatches(patches, val_plan, min(config.batch_size, len(val_ids)), track_ids=val_ids),
        epochs=epochs,
        export=lambda model: model.encoder,
        plateau=plateau_ok and config.schedule == "reduce_on_plateau",
    )


def _jit(config):
    """Keras' `jit_compile` argument for ``config.jit_compile``."""
    return {"auto": "auto", "on": True, "off": False}[config.jit_compile]


def _loss_for(config):
    """The configured loss (each loss gets only the options it has; see `build_configured_loss`)."""
    return build_configured_loss(config.loss, config.miner, config.margin, config.distance, config.temperature,
                                 config.sos_weight)


def _plan(config, num_tracks, count, batch_size, arity, rng):
    """PK rows of ``views_per_track`` views when it is above 2, else the configured sampler's plan."""
    if config.views_per_track > 2:
        return pk_batches(num_tracks, count, batch_size, config.views_per_track, rng)
    return plan_tuples(num_tracks, count, batch_size, arity, config.sampling_kind, rng)


def _tuple_model(config, encoder, num_classes, name):
    """The training model; ArcFace adds its class-centre head over the ``num_classes`` training track ids."""
    if config.loss == "arcface":
        return HeadTupleEncoder(encoder, ArcFaceHead(num_classes, name="arcface_head"), name=name)
    return TupleEncoder(encoder, name=name)


def train(config: TrainConfig | None = None, **overrides) -> RunResult:
    """Trains (or resumes) a run and, unless ``config.evaluate`` is False, evaluates it with hpatches_eval.

    Args:
        config: the run configuration (defaults: the offline default dataset, HardNet, hardest-in-batch).
        **overrides: fields replacing those of ``config`` (e.g. ``epochs=2``).

    Returns:
        A `RunResult`.

    Raises:
        ConfigError: for invalid options or data (unknown split, no training sequences...), before any work.
        RunFolderError: resuming a run folder whose state or checkpoints are damaged, before any work.
        ModelFileError: ``init_from`` holds a model that cannot be loaded (e.g. refused by Keras safe mode).
        TrainingDivergedError: the loss or the weights became NaN or infinite; no pipeline is saved.
    """
    config = (config or TrainConfig()).replace(**overrides) if overrides else (config or TrainConfig())
    if config.distribute == "multi_worker":
        config = _as_worker(config)
    # Everything that can be checked is checked before anything is written or built.
    check_run_dir(config, default_run_dir(config), run_inputs(config))
    check_training_data(config)
    keras.utils.set_random_seed(config.seed)
    initial_denoiser, initial_descriptor = load_initial_models(config)
    run_dir = prepare_run_dir(config, default_run_dir(config), run_inputs(config))
    record_machine(run_dir, config.deterministic)  # machine.json: what to compare when two runs' numbers differ
    try:
        with precision_policy(config.mixed_precision), op_determinism(config.deterministic):
            denoiser, descriptor, data = _train_stages(config, run_dir, initial_denoiser, initial_descriptor)
    finally:  # memory-mapped training patches: rebuilt on resume, so never left behind (GBs at real size)
        shutil.rmtree(run_dir / PATCH_STORE, ignore_errors=True)
    # A mixed-precision run hands out float32 models (saved pipeline, evaluation): same weights.
    denoiser, descriptor = float32_copy(denoiser), float32_copy(descriptor)

    result = RunResult(run_dir=run_dir, config=config, denoiser=denoiser, descriptor=descriptor)
    for name, model in (("descriptor", descriptor), ("denoiser", denoiser)):
        bad = non_finite_weight(model) if model is not None else None
        if bad is not None:  # run_stage checks every epoch; this guards the pipeline whatever the stages did
            raise TrainingDivergedError(f"the trained {name} has non-finite weights ({bad!r}); no pipeline was "
                                        "written: lower the learning rate and start a new run")
    _save_pipeline(result)
    if config.evaluate:
        from descriptors.training.evaluation import evaluate_run

        result.summary, result.flags = evaluate_run(result, data)
    return result


def _as_worker(config: TrainConfig) -> TrainConfig:
    """Sets up this process as a worker of a ``TF_CONFIG`` cluster (before TensorFlow runs any op) and returns its
    config: the chief trains in the run folder and evaluates; every other worker trains the same steps in its own
    folder beside it (`worker_run_dir`) and does not evaluate."""
    task = read_tf_config()
    multi_worker_strategy()
    if task.is_chief:
        return config
    own = worker_run_dir(config.output_dir or default_run_dir(config), task)
    return config.replace(output_dir=str(own), evaluate=False)


def _train_stages(config, run_dir, initial_denoiser, initial_descriptor):
    """The denoiser, descriptor and joint stages (under the run's dtype policy); returns (denoiser, descriptor,
    data)."""
    initial_denoiser = rebuilt_with_policy(initial_denoiser, config.mixed_precision)
    initial_descriptor = rebuilt_with_policy(initial_descriptor, config.mixed_precision)
    data = resolve_training_data(config)
    state = RunState(run_dir)
    verbose = config.verbose

    store = patch_store(config, data, run_dir)

    def stored(name):
        return None if store is None else store / f"{name}.npy"

    inputs = load_tracks(data.source(config.inputs), data.split.train, bool(verbose), stored(config.inputs))
    if config.max_train_tracks and inputs.num_tracks > config.max_train_tracks:
        keep = np.sort(np.random.default_rng([config.seed, 3]).permutation(inputs.num_tracks)[: config.max_train_tracks])
        inputs = inputs.subset(keep)
    else:
        keep = None
    train_ids, val_ids = _split_validation(inputs.num_tracks, config.seed)

    denoiser = None
    if config.denoiser != "none":
        noisy = inputs if config.inputs == "noisy" else load_tracks(data.noisy, data.split.train, bool(verbose),
                                                                    stored("noisy"))
        clean = inputs if config.inputs == "clean" else load_tracks(data.clean, data.split.train, bool(verbose),
                                                                    stored("clean"))
        if keep is not None:
            noisy = noisy if config.inputs == "noisy" else noisy.subset(keep)
            clean = clean if config.inputs == "clean" else clean.subset(keep)
        denoiser = run_stage(_denoiser_stage(config, noisy, clean, train_ids, val_ids, initial_denoiser),
                             run_dir, state, verbose)
        if config.inputs == "noisy":
            inputs = denoise_tracks(float32_copy(denoiser), noisy, verbose=verbose, store=stored("denoised"))
        del clean

    make_descriptor = (lambda: initial_descriptor) if initial_descriptor is not None else (
        lambda: build_descriptor(config.descriptor))
    stage = _descriptor_stage(config, "descriptor", inputs.patches, train_ids, val_ids, make_descriptor,
                              config.learning_rate, config.epochs)
    with distribution_scope(config.distribute):
        descriptor = run_stage(stage, run_dir, state, verbose)

    if config.joint_epochs:
        from descriptors.models.pipeline import DescriptorPipeline

        raw = load_tracks(data.noisy, data.split.train, bool(verbose), stored("joint_noisy"))
        raw = raw.subset(keep) if keep is not None else raw
        joint = _descriptor_stage(
            config, "joint", raw.patches, train_ids, val_ids,
            lambda: DescriptorPipeline(descriptor, denoiser=denoiser).to_keras_model(),
            config.joint_learning_rate, config.joint_epochs, plateau_ok=False,
        )
        with distribution_scope(config.distribute):
            combined = run_stage(joint, run_dir, state, verbose)
        denoiser, descriptor = split_joint_model(combined)

    return denoiser, descriptor, data


def run_inputs(config: TrainConfig) -> list[str]:
    """The paths a run reads (its run folder may not overlap them)."""
    paths = [config.data_dir, config.tasks_dir, config.init_from]
    if config.data not in DATA_SOURCES:
        paths.append(config.data.removeprefix("brown:"))
    return [path for path in paths if path]


def _save_pipeline(result: RunResult) -> None:
    from descriptors.models.pipeline import DescriptorPipeline

    folder = DescriptorPipeline(result.descriptor, denoiser=result.denoiser).save(result.run_dir / "pipeline")
    write_marker(folder, "pipeline")  # lets `descriptors.average --overwrite` (and others) recognise it as ours


def split_joint_model(model: keras.Model) -> tuple[keras.Model, keras.Model]:
    """Returns (denoiser, descriptor), the two sub-models of a `DescriptorPipeline.to_keras_model` model."""
    parts = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if len(parts) != 2:
        raise ValueError(f"Expected a denoiser and a descriptor inside {model.name}. Received: {len(parts)} models")
    return parts[0], parts[1]
