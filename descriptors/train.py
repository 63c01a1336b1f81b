"""`python -m descriptors.train`: train a denoiser + descriptor and evaluate it on HPatches-format data.

With no arguments it trains the default recipe on the offline default dataset (built on first use) and prints
the verification / matching / retrieval mAPs. Every option of `TrainConfig` is a flag (``learning_rate`` ->
``--learning-rate``); ``--config FILE`` reads a JSON file first, flags win. Exit codes: 0 success, 1 failure,
2 bad options, 130 interrupted (resume with ``--resume --output-dir RUN``).
"""

from __future__ import annotations

import argparse
import sys

from descriptors.errors import ConfigError, DataFormatError
from descriptors.training import config as config_module
from descriptors.training.config import TrainConfig
from descriptors.training.config_io import add_config_flags, config_from_parser

CHOICES = {
    "inputs": config_module.INPUTS,
    "eval_inputs": config_module.INPUTS,
    "denoiser": config_module.DENOISERS,
    "denoiser_loss": config_module.DENOISER_LOSSES,
    "denoiser_optimizer": config_module.OPTIMIZERS,
    "descriptor": config_module.DESCRIPTORS,
    "loss": config_module.LOSSES,
    "sampling": config_module.SAMPLINGS,
    "optimizer": config_module.OPTIMIZERS,
    "schedule": config_module.SCHEDULES,
    "distance": config_module.DISTANCES,
    "miner": config_module.MINERS,
    "distribute": config_module.DISTRIBUTE,
}
HELP = {
    "data": "default (offline, built on first use), hpatches, nhpatches, or a folder built by descriptors.data.build",
    "data_dir": "folder of hpatches-release or N-HPatches (with data=hpatches|nhpatches)",
    "tasks_dir": "official task CSV folder for evaluating on real (N-)HPatches",
    "split": "split name (official a/b/c/... for real data; the built dataset's own split otherwise)",
    "inputs": "train the descriptor on noisy (denoised when a denoiser is used) or clean patches",
    "eval_inputs": "patches used for evaluation; report noisy for N-HPatches-style numbers",
    "max_train_tracks": "use at most this many training tracks (for quick runs)",
    "tuples_per_epoch": "pairs or triplets per epoch",
    "init_from": "warm start: a saved pipeline folder (e.g. descriptors/weights/default) whose descriptor and "
                 "denoiser weights start training; with --denoiser-epochs 0 its denoiser is kept as is, with "
                 "--epochs 0 its descriptor (e.g. to run only a --joint-epochs fine-tune)",
    "joint_epochs": "epochs of end-to-end fine-tuning of denoiser + descriptor (0 = off)",
    "denoiser_residual": "predict the noise (default: the denoiser's preset)",
    "denoiser_momentum": "momentum of the denoiser's sgd/rmsprop (nesterov for sgd); default: --momentum",
    "momentum": "momentum of sgd (nesterov when > 0) and rmsprop, in [0, 1)",
    "sampling": "auto: HardNet pair batches for hardest_in_batch, random triplets otherwise",
    "resume": "continue the run in --output-dir after an interruption",
    "evaluate": "evaluate on the split's test sequences at the end",
    "distance": "descriptor distance inside the loss (mean_squared = the 2019 coursework loss)",
    "miner": "mine triplets among the batch's views for a triplet-style loss (docs/losses.md)",
    "views_per_track": "K views per track in each row (PK batches) for view and mined losses",
    "temperature": "softmax temperature of supcon and ntxent",
    "difficulty_start": "OPMS curriculum: mining difficulty at epoch 0 (rises linearly to 1)",
    "distribute": "data-parallel training: mirrored (TensorFlow) or data_parallel (JAX)",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m descriptors.train", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_flags(parser, TrainConfig, HELP, CHOICES)
    return parser


def config_from_args(argv=None) -> TrainConfig:
    """Parses flags into a validated `TrainConfig` (defaults < --config file < flags)."""
    return config_from_parser(build_parser(), TrainConfig, argv)


def main(argv=None) -> int:
    try:
        config = config_from_args(argv)
    except ConfigError as error:
        print(f"descriptors.train: error: {error}", file=sys.stderr)
        return 2
    from descriptors.training.trainer import train

    try:
        result = train(config)
    except ConfigError as error:
        print(f"descriptors.train: error: {error}", file=sys.stderr)
        return 2
    except (DataFormatError, FileNotFoundError) as error:
        print(f"descriptors.train: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("descriptors.train: interrupted; continue with --resume and the same --output-dir", file=sys.stderr)
        return 130
    print(f"run folder: {result.run_dir}")
    if result.summary:
        print(
            "HPatches mAP  verification {verification:.4f}  matching {matching:.4f}  retrieval {retrieval:.4f}"
            "  mean {mean:.4f}".format(**result.summary)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
