"""`python -m descriptors.train`: train a denoiser + descriptor and evaluate it on HPatches-format data.

With no arguments it trains the default recipe on the offline default dataset (built on first use) and prints
the verification / matching / retrieval mAPs. Every option of `TrainConfig` is a flag (``learning_rate`` ->
``--learning-rate``); ``--config FILE`` reads a JSON file first, flags win.

Exit codes: 0 success; 2 bad options or inputs, found before any work (wrong types or ranges, an unknown split
or one without training sequences, an output folder that is not a run folder or cannot be written, a damaged
``state.json`` / ``config.json`` / checkpoint of the run to resume); 1 a failure during the work (e.g. the loss
became NaN or inf: training stops and no pipeline is written; an ``--init-from`` model refused by Keras safe
mode); 130 interrupted (continue with ``--resume --output-dir RUN``). Errors are one line on stderr
(``--debug`` shows the traceback).
"""

from __future__ import annotations

import sys

from descriptors.errors import ConfigError
from descriptors.training import config as config_module
from descriptors.training.checkpoints import RunFolderError
from descriptors.training.config import TrainConfig
from descriptors.training.config_io import config_from_parser, config_parser
from hpatches_eval.cli_contract import EXIT_INTERRUPTED, OneLineArgumentParser, one_line, run_command

PROG = "python -m descriptors.train"

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
    "mixed_precision": config_module.MIXED_PRECISION,
    "jit_compile": config_module.JIT_COMPILE,
    "memory_map": config_module.MEMORY_MAP,
}
HELP = {
    "data": "default (offline, built on first use), default-wide (its opt-in wider variant, data/README.md), "
            "hpatches, nhpatches, a folder built by descriptors.data.build, "
            "or brown:PATH (a Brown/UBC PhotoTour subset folder, e.g. brown:data/liberty)",
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
    "miner": "mine triplets among the batch's views for a triplet-style loss, or opms_pairs: SimNet's easy-to-hard "
             "pair curriculum for --loss contrastive (docs/losses.md)",
    "views_per_track": "K views per track in each row (PK batches) for view and mined losses",
    "temperature": "softmax temperature of supcon and ntxent",
    "sos_weight": "weight of SOSNet's second-order similarity regulariser: added to any loss but arcface when > 0; "
                  "with --loss sos the default is 1 (SOSNet), else 0",
    "difficulty_start": "OPMS curriculum: mining difficulty at epoch 0 (rises linearly to 1)",
    "distribute": "data-parallel training: mirrored (TensorFlow, one machine), multi_worker (TensorFlow, several "
                  "processes or machines set up by TF_CONFIG, docs/scale.md) or data_parallel (JAX)",
    "mixed_precision": "float16 or bfloat16 compute with float32 weights, loss and BatchNorm statistics (for GPUs; "
                       "the saved pipeline is float32)",
    "jit_compile": "XLA compilation of the training steps: auto (Keras: on with a GPU, off on CPU), on, off",
    "memory_map": "keep the training patches in uint8 files in the run folder (memory-mapped, removed at the end) "
                  "instead of in memory: auto = when they exceed 1 GiB (real HPatches size); the results are the same",
    "deterministic": "TensorFlow op determinism, so that the same seed gives the same numbers run to run (on by "
                     "default; --no-deterministic may be faster)",
}


def build_parser() -> OneLineArgumentParser:
    return config_parser(PROG, __doc__, TrainConfig, HELP, CHOICES)


def config_from_args(argv=None) -> TrainConfig:
    """Parses flags into a validated `TrainConfig` (defaults < --config file < flags)."""
    return config_from_parser(build_parser(), TrainConfig, argv)


def _body(argv) -> int:
    config = config_from_args(argv)
    from descriptors.training.trainer import default_run_dir, train

    run_dir = config.output_dir or str(default_run_dir(config))
    try:
        result = train(config)
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: error: " + one_line(
            f"interrupted; continue with: {PROG} --resume --output-dir {run_dir} (and the same options)") + "\n")
        return EXIT_INTERRUPTED
    print(f"run folder: {result.run_dir}")
    if result.summary:
        print(
            "HPatches mAP  verification {verification:.4f}  matching {matching:.4f}  retrieval {retrieval:.4f}"
            "  mean {mean:.4f}".format(**result.summary)
            + (f"  [FLAGGED: {', '.join(sorted({flag['code'] for flag in result.flags}))}; see "
               f"{result.run_dir / 'results.json'}]" if result.flags else "")
        )
    return 0


def main(argv=None) -> int:
    """Runs the command under the contract of `hpatches_eval.cli_contract` and returns the exit status."""
    return run_command(PROG, _body, argv, usage_errors=(ConfigError, RunFolderError),
                       interrupted_hint="interrupted; continue with --resume and the same --output-dir")


if __name__ == "__main__":
    sys.exit(main())
