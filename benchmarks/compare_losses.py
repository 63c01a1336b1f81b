"""Trains the same HardNet with each loss (and each miner) at the same budget and seed, and tabulates the
HPatches mAPs of `descriptors.training.trainer.train(evaluate=True)` on the offline default dataset.

    python benchmarks/compare_losses.py --epochs 2 --tuples-per-epoch 4096 \
        --out benchmarks/results/compare_losses.json

Every run: HardNet, no denoiser (noisy patches straight into the descriptor), Adam 1e-3 with linear decay,
batch 256, seed 42, `tuples_per_epoch` rows per epoch (a row = one positive pair for K = 2, so all runs see the
same number of positive pairs). Prints two Markdown tables (losses; mining at equal pairs seen) and writes JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from descriptors.training.checkpoints import atomic_write_text  # noqa: E402
from descriptors.training.trainer import train  # noqa: E402

# label -> (loss, miner); table 1 = losses on their default sampler, table 2 = mining.
LOSS_RUNS = {
    "hardest_in_batch": ("hardest_in_batch", "none"),
    "triplet_margin (random triplets)": ("triplet_margin", "none"),
    "triplet_ratio": ("triplet_ratio", "none"),
    "in_triplet_hard_negative": ("in_triplet_hard_negative", "none"),
    "snr": ("snr", "none"),
    "contrastive": ("contrastive", "none"),
    "supcon": ("supcon", "none"),
    "ntxent": ("ntxent", "none"),
    "arcface": ("arcface", "none"),
}
MINING_RUNS = {
    "triplet_margin + batch_hard": ("triplet_margin", "batch_hard"),
    "triplet_margin + opms": ("triplet_margin", "opms"),
}
MORE_MINING_RUNS = {  # --all-miners
    "triplet_margin + semi_hard": ("triplet_margin", "semi_hard"),
    "triplet_margin + distance_weighted": ("triplet_margin", "distance_weighted"),
}
MINING_TABLE = ("triplet_margin (random triplets)", "hardest_in_batch", *MINING_RUNS, *MORE_MINING_RUNS)


def _losses(run_dir: Path) -> list[float]:
    with open(run_dir / "descriptor_log.csv") as stream:
        return [float(row["loss"]) for row in csv.DictReader(stream)]


def _table(rows, labels) -> str:
    lines = ["| loss | miner | verification | matching | retrieval | mean | train loss (epoch 1 -> last) | s |",
             "|---|---|---|---|---|---|---|---|"]
    for row in (r for label in labels for r in rows if r["label"] == label):
        lines.append(f"| {row['loss']} | {row['miner']} | {row['verification']:.4f} | {row['matching']:.4f} | "
                     f"{row['retrieval']:.4f} | {row['mean']:.4f} | {row['train_loss'][0]:.4f} -> "
                     f"{row['train_loss'][-1]:.4f} | {row['seconds']:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--tuples-per-epoch", type=int, default=4096)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", action="append", default=None, help="run only these labels (repeatable)")
    parser.add_argument("--no-mining", action="store_true", help="skip the mining table's extra runs")
    parser.add_argument("--all-miners", action="store_true", help="also semi_hard and distance_weighted")
    parser.add_argument("--runs-dir", default="/tmp/compare_losses")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "compare_losses.json"))
    args = parser.parse_args(argv)
    runs = {**LOSS_RUNS, **({} if args.no_mining else MINING_RUNS), **(MORE_MINING_RUNS if args.all_miners else {})}
    if args.only:
        runs = {k: v for k, v in runs.items() if k in args.only}
    budget = {"epochs": args.epochs, "tuples_per_epoch": args.tuples_per_epoch, "batch_size": args.batch_size,
              "seed": args.seed, "descriptor": "hardnet", "denoiser": "none", "data": "default"}
    rows = []
    start_all = time.perf_counter()
    for label, (loss, miner) in runs.items():
        run_dir = Path(args.runs_dir) / label.split(" ")[0].replace("+", "") / (miner if miner != "none" else "plain")
        shutil.rmtree(run_dir, ignore_errors=True)
        start = time.perf_counter()
        result = train(loss=loss, miner=miner, output_dir=str(run_dir), evaluate=True, verbose=0,
                       **{k: v for k, v in budget.items() if k != "data"})
        summary = {k: float(result.summary[k]) for k in ("verification", "matching", "retrieval", "mean")}
        row = {"label": label, "loss": loss, "miner": miner, **summary, "train_loss": _losses(run_dir),
               "seconds": round(time.perf_counter() - start, 1)}
        rows.append(row)
        print(f"{label:36s} V {row['verification']:.4f}  M {row['matching']:.4f}  R {row['retrieval']:.4f}  "
              f"mean {row['mean']:.4f}  ({row['seconds']:.0f} s)", flush=True)
    payload = {"schema_version": 1, "budget": budget, "total_seconds": round(time.perf_counter() - start_all, 1),
               "command": "python benchmarks/compare_losses.py " + " ".join(argv if argv is not None else sys.argv[1:]),
               "rows": rows}
    atomic_write_text(Path(args.out), json.dumps(payload, indent=2) + "\n")
    print("\nLosses (each on its default sampler):\n" + _table(rows, LOSS_RUNS))
    print("\nMining at equal positive pairs seen:\n" + _table(rows, MINING_TABLE))
    return 0


if __name__ == "__main__":
    sys.exit(main())
