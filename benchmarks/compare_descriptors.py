"""L2-Net, HardNet, TFeat, SOSNet and HyNet at an equal training budget, each with its own published loss.

    python benchmarks/compare_descriptors.py --dataset default --dataset MINI_DIR \
        --out benchmarks/results/compare_descriptors.json

MINI_DIR is built with ``python -m descriptors.data.build ../shared/data/hpatches-sequences-mini MINI_DIR
--test-sequences v_churchill v_wormhole --split-name mini``.

Every descriptor is trained by `descriptors.training.trainer.train` on the same data (the training split of the
offline default dataset, or of its wider variant with ``--train-data default-wide``; noisy patches), with the same number of positive pairs (``--epochs`` x
``--tuples-per-epoch``; a training row is one pair, or one triplet = one pair + one negative for TFeat), the same
batch size, seed, optimiser (Adam 1e-3, linear decay) and flip/rot90 augmentation. The only differences are the
network and its loss (`RECIPES`):

* L2-Net: a stand-in, ``ntxent`` at temperature 1 (we have no L2-Net loss). L2-Net's main term E1 is a softmax
  cross-entropy over the in-batch distance matrix (logits ``-d``, d in [0, 2]); NT-Xent is that on cosines (range
  2 at T = 1), with same-view negatives too and without L2-Net's compactness / feature terms (E2, E3).
* HardNet: ``hardest_in_batch``, margin 1 (the HardNet paper).
* TFeat: ``in_triplet_hard_negative`` (anchor swap) on random triplets, margin 2 (the PyTorch reproduction of
  vbalnt/tfeat; TFeat's tanh outputs are not normalised).
* SOSNet: ``sos``, margin 1, second-order weight 1, k = 8 (the SOSNet paper).
* HyNet: ``hynet``, margin 1.2, alpha 2 (the HyNet paper), without its raw-descriptor norm penalty (docs/losses.md).

Controls (`CONTROLS`, run only when named by ``--only``, e.g. ``--only l2net_hardnet_loss --resume``): a network
with another network's loss, to tell the network's share from the loss's (``l2net_hardnet_loss``: L2-Net trained
with HardNet's loss). The comparable settings are the five recipes'; a control adds its row to the same file.

Denoiser: none for every descriptor (``denoiser="none"``): noisy patches go straight into the descriptor in
training and in evaluation. The trainer can start a run from the shipped denoiser only together with its HardNet
(``init_from`` checks that the descriptor's architecture matches), so that option could not treat all five alike.

Every model is evaluated on each ``--dataset`` (its split's test sequences, noisy patches) with
`descriptors.evaluation.evaluate_descriptor`, as ``benchmarks/descriptor_table.py`` does. ``train pairs/s`` =
pairs / seconds of the training steps (the run's ``fit`` calls less their validation: `fit_timer`; the JSON also
keeps the wall time of the whole ``train`` call). ``inference patches/s``: describing ``--inference-patches`` real
noisy patches of the default test split, median of ``--repeats`` after a warm-up. The JSON (machine information
and load averages included) is rewritten atomically after every model; ``--resume`` skips the models it holds and
refuses a file written with other settings. Prints a Markdown table, one row per descriptor x dataset.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from hpatches_eval.cli_contract import OneLineArgumentParser, UsageError, run_command  # noqa: E402
from hpatches_eval.output_safety import check_output_file, folder_kind  # noqa: E402

PROG = "python benchmarks/compare_descriptors.py"
TASKS = ("verification", "matching", "retrieval", "mean")

# name -> (table label, the TrainConfig options of the descriptor and its loss; see the module docstring for why).
RECIPES = {
    "l2net": ("L2-Net", {"descriptor": "l2net", "loss": "ntxent", "temperature": 1.0}),
    "hardnet": ("HardNet", {"descriptor": "hardnet", "loss": "hardest_in_batch", "margin": 1.0}),
    "tfeat": ("TFeat", {"descriptor": "tfeat", "loss": "in_triplet_hard_negative", "margin": 2.0}),
    "sosnet": ("SOSNet", {"descriptor": "sosnet", "loss": "sos", "margin": 1.0, "sos_weight": 1.0}),
    "hynet": ("HyNet", {"descriptor": "hynet", "loss": "hynet", "margin": 1.2}),
}
# Controls, run only when named by --only: one network with another network's loss, to tell the two apart.
CONTROLS = {
    "l2net_hardnet_loss": ("L2-Net (HardNet loss)", {"descriptor": "l2net", "loss": "hardest_in_batch", "margin": 1.0}),
}
MODELS = {**RECIPES, **CONTROLS}


def _parser() -> OneLineArgumentParser:
    parser = OneLineArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", action="append", help="'default' (the default) or a built dataset folder")
    parser.add_argument("--train-data", choices=("default", "default-wide"), default="default",
                        help="the offline dataset to train on: default, or its wider variant (data/README.md); the "
                             "test sequences of both are the same")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--tuples-per-epoch", type=int, default=20_480, help="training rows (pairs) per epoch")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--max-train-tracks", type=int, default=None, help="train on a random subset (smoke runs)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--inference-patches", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=list(MODELS), metavar="NAME",
                        help=", ".join(RECIPES) + " (the default: all five); controls: " + ", ".join(CONTROLS))
    parser.add_argument("--runs-dir", default=str(ROOT / "runs" / "compare_descriptors"),
                        help="parent of the run folders (one per descriptor, replaced at each training)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "compare_descriptors.json"))
    parser.add_argument("--resume", action="store_true", help="keep the models already in --out (same settings)")
    return parser


def _dataset_target(name: str) -> dict:
    """``{name, label, root, split}`` of a ``--dataset`` value; UsageError unless it is a built dataset."""
    from descriptor_table import dataset_root
    from hpatches_eval.splits import get_split

    root = dataset_root(name)
    splits_file = root / "tasks" / "splits" / "splits.json"
    if not (root / "nhpatches").is_dir() or not splits_file.is_file():
        raise UsageError(f"`--dataset` must be 'default' or a folder built by descriptors.data.build (with "
                         f"nhpatches/ and tasks/splits/splits.json). Received: --dataset={name!r}")
    split = get_split(next(iter(json.loads(splits_file.read_text()))), splits_file)
    if not split.test:
        raise UsageError(f"The split {split.name!r} of --dataset={name!r} has no test sequences to evaluate on.")
    return {"name": name, "label": "default" if name == "default" else root.name, "root": root, "split": split}


def _settings(args, targets) -> dict:
    """Everything that makes two result files comparable (``--resume`` refuses a file whose settings differ)."""
    options = ("epochs", "tuples_per_epoch", "batch_size", "max_train_tracks", "seed", "inference_patches", "repeats")
    return {"data": args.train_data, "inputs": "noisy", "denoiser": "none", "pairs": args.epochs * args.tuples_per_epoch,
            **{key: getattr(args, key) for key in options}, "recipes": {k: v for k, (_, v) in RECIPES.items()},
            "datasets": [{"label": t["label"], "split": t["split"].name, "test": list(t["split"].test)}
                         for t in targets]}


def _configs(args, names) -> dict:
    """The `TrainConfig` of each descriptor, validated with its run folder before any work."""
    from descriptors.errors import ConfigError
    from descriptors.training.config import TrainConfig
    from descriptors.training.data_sources import check_training_data

    configs = {}
    for name in names:
        try:
            configs[name] = TrainConfig(
                data=args.train_data, denoiser="none", inputs="noisy", eval_inputs="noisy", epochs=args.epochs,
                tuples_per_epoch=args.tuples_per_epoch, batch_size=args.batch_size,
                max_train_tracks=args.max_train_tracks, seed=args.seed, evaluate=False, verbose=0,
                output_dir=str(Path(args.runs_dir) / name), **MODELS[name][1])
            check_training_data(configs[name])
        except ConfigError as error:
            raise UsageError(str(error)) from None
        folder = Path(configs[name].output_dir)  # replaced by the training: it must be a run folder (or absent)
        if folder.exists() and (not folder.is_dir() or (any(folder.iterdir()) and folder_kind(folder) != "run")):
            raise UsageError(f"`--runs-dir` would replace {str(folder)!r}, which is not a training run folder; "
                             "choose another --runs-dir.")
    return configs


def _previous(out: Path, settings: dict, resume: bool) -> dict:
    """The result file to continue: the one at ``out`` with ``--resume`` (same settings), else a new one."""
    if not (resume and out.is_file()):
        return {"schema_version": 1, "settings": settings, "sessions": [], "models": {}, "rows": []}
    try:
        payload = json.loads(out.read_text())
        old = payload["settings"]
        payload["models"], payload["rows"], payload["sessions"]  # noqa: B018 (shape check)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"`--resume` cannot read {str(out)!r} as a comparison result: {error}") from None
    changed = sorted(key for key in set(settings) | set(old) if settings.get(key) != old.get(key))
    if changed:
        raise UsageError(f"`--resume`: {str(out)!r} was written with other settings {changed} ("
                         + "; ".join(f"{k}: file {old.get(k)!r}, now {settings.get(k)!r}" for k in changed[:3])
                         + "); rerun without --resume or choose another --out.")
    return payload


def _inference_batch(count: int):
    """``count`` real noisy patches (uint8 (count, 32, 32)) from the default dataset's test sequences."""
    import numpy as np

    from descriptors.data.formats import HPatchesRelease

    target = _dataset_target("default")
    source, chunks = HPatchesRelease(target["root"] / "nhpatches", noisy=True), []
    for seq in target["split"].test:
        chunks.append(source.load_sequence(seq).reshape(-1, 32, 32))
        if sum(map(len, chunks)) >= count:
            break
    patches = np.concatenate(chunks)[:count]
    if len(patches) < count:
        raise ValueError(f"The default test split has {len(patches)} patches, fewer than --inference-patches "
                         f"{count}.")
    return patches


@contextlib.contextmanager
def fit_timer():
    """Yields ``{"fit": s, "validation": s}``: the time of the ``keras.Model.fit`` / ``evaluate`` calls in the block.

    Around `train`, fit - validation is the time of the training steps: the trainer calls ``evaluate`` only through
    ``fit``'s validation (Keras 3 validates with ``evaluate``)."""
    import keras

    times, originals = {"fit": 0.0, "validation": 0.0}, {"fit": keras.Model.fit, "validation": keras.Model.evaluate}

    def timing(key):
        def call(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return originals[key](self, *args, **kwargs)
            finally:
                times[key] += time.perf_counter() - start

        return call

    keras.Model.fit, keras.Model.evaluate = timing("fit"), timing("validation")
    try:
        yield times
    finally:
        keras.Model.fit, keras.Model.evaluate = originals["fit"], originals["validation"]


def _run_model(name, config, targets, patches, repeats) -> tuple[dict, list[dict]]:
    """Trains, times and evaluates one descriptor; returns (its model entry, its rows)."""
    from bench_throughput import timed

    from descriptors.data.formats import HPatchesRelease
    from descriptors.evaluation import evaluate_descriptor
    from descriptors.models.pipeline import DescriptorPipeline
    from descriptors.training.trainer import train

    label, options = MODELS[name]
    run_dir = Path(config.output_dir)
    shutil.rmtree(run_dir, ignore_errors=True)  # checked to be a run folder of ours (or absent) before the work
    load_before, start = list(os.getloadavg()), time.perf_counter()
    with fit_timer() as fit_seconds:
        result = train(config)
    train_seconds = time.perf_counter() - start
    step_seconds = fit_seconds["fit"] - fit_seconds["validation"]
    pairs = config.epochs * config.tuples_per_epoch
    pipeline = DescriptorPipeline(result.descriptor)
    seconds = timed(lambda: pipeline.describe(patches, verbose=False), repeats)
    log = csv.DictReader((run_dir / "descriptor_log.csv").read_text().splitlines())
    model = {
        "label": label, "options": options, "run_dir": run_dir.name, "pairs": pairs,
        "train_seconds": round(train_seconds, 1), "fit_seconds": round(fit_seconds["fit"], 1),
        "validation_seconds": round(fit_seconds["validation"], 1), "train_pairs_per_s": round(pairs / step_seconds, 1),
        "train_pairs_per_s_whole_call": round(pairs / train_seconds, 1), "train_loss": [float(r["loss"]) for r in log],
        "inference_patches_per_s": round(len(patches) / seconds, 1),
        "parameters": int(result.descriptor.count_params()), "load_average_before": load_before,
    }
    rows = []
    for target in targets:
        start, source = time.perf_counter(), HPatchesRelease(target["root"] / "nhpatches", noisy=True)
        results = evaluate_descriptor(pipeline, source, target["split"], tasks_dir=target["root"] / "tasks",
                                      name=label, verbose=False)
        summary = {task: float(results.summary[task]) for task in TASKS}
        rows.append({"descriptor": name, "label": label, "loss": options["loss"], "dataset": target["label"],
                     "split": target["split"].name, **summary, "train_pairs_per_s": model["train_pairs_per_s"],
                     "inference_patches_per_s": model["inference_patches_per_s"],
                     "eval_seconds": round(time.perf_counter() - start, 1),
                     "flags": sorted({flag["code"] for flag in results.flags if "code" in flag})})
        print(f"{label:8s} {target['label']:20s} V {summary['verification']:.4f}  M {summary['matching']:.4f}  "
              f"R {summary['retrieval']:.4f}  mean {summary['mean']:.4f}", flush=True)
    model["load_average_after"] = list(os.getloadavg())
    print(f"{label:8s} trained in {train_seconds:.0f} s ({step_seconds:.0f} s of steps, {pairs / step_seconds:.0f} "
          f"pairs/s), inference {len(patches) / seconds:.0f} patches/s", flush=True)
    return model, rows


def markdown_table(rows: list[dict]) -> str:
    """One line per descriptor x dataset, in `MODELS` order then dataset order."""
    lines = ["| descriptor | loss | dataset | verification | matching | retrieval | mean | train pairs/s | "
             "inference patches/s |", "|---|---|---|---|---|---|---|---|---|"]
    for row in sorted(rows, key=lambda r: list(MODELS).index(r["descriptor"])):  # stable: datasets keep order
        lines.append(f"| {row['label']} | {row['loss']} | {row['dataset']} | {row['verification']:.4f} | "
                     f"{row['matching']:.4f} | {row['retrieval']:.4f} | {row['mean']:.4f} | "
                     f"{row['train_pairs_per_s']:.0f} | {row['inference_patches_per_s']:.0f} |")
    return "\n".join(lines)


def _body(argv) -> int:
    args = _parser().parse_args(argv)
    for flag, value in (("--inference-patches", args.inference_patches), ("--repeats", args.repeats)):
        if value < 1:
            raise UsageError(f"`{flag}` must be an integer >= 1. Received: {flag}={value}")
    targets = [_dataset_target(name) for name in dict.fromkeys(args.dataset or ["default"])]
    out = check_output_file(args.out, inputs=[t["root"] for t in targets])
    names = list(args.only or RECIPES)
    configs = _configs(args, names)
    settings = _settings(args, targets)
    payload = _previous(out, settings, args.resume)
    todo = [name for name in names if name not in payload["models"]]
    for name in (name for name in names if name not in todo):
        print(f"{MODELS[name][0]:8s} already in {out} (--resume): skipped", flush=True)

    from descriptors.training.checkpoints import atomic_write_text
    from descriptors.training.machine_info import machine_info

    payload["sessions"].append({"command": " ".join([PROG, *argv]), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                "machine": machine_info(configs[names[0]].deterministic),
                                "load_average": list(os.getloadavg())})
    patches = _inference_batch(args.inference_patches) if todo else None
    for name in todo:
        model, rows = _run_model(name, configs[name], targets, patches, args.repeats)
        payload["models"][name] = model
        payload["rows"] = [row for row in payload["rows"] if row["descriptor"] != name] + rows
        atomic_write_text(out, json.dumps(payload, indent=2) + "\n")
    atomic_write_text(out, json.dumps(payload, indent=2) + "\n")  # (again) so that a --resume session is recorded
    print("\n" + markdown_table(payload["rows"]))
    return 0


def main(argv=None) -> int:
    return run_command(PROG, _body, argv, interrupted_hint="interrupted: rerun with --resume to keep the models "
                       "already written to --out")


if __name__ == "__main__":
    sys.exit(main())
