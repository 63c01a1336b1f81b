"""Benchmark of hpatches_eval on a synthetic split-a-sized problem (speed and peak memory).

Synthesises 40 sequences (~60k tracks, ~1,500 each) of 128-d float32 descriptors (noisy copies of a per-track
random vector, noise growing e < h < t so the numbers are non-trivial), verification files of 1,000,000 rows each
following the official generator rules (protocol B.2), and 10,000 retrieval queries / 20,000 distractors. Times
each task (median of ``--repeats``), reports peak RSS, prints a table and writes
``benchmarks/results/hpatches_eval.json``. ``--quick`` runs a small version; ``--naive`` also times a literal
per-pair Python-loop reference on a subsample and checks that it gives identical numbers.

Usage: ``.venv/bin/python benchmarks/bench_hpatches_eval.py [--quick] [--repeats 1] [--naive]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from hpatches_eval import __version__, evaluate, from_arrays  # noqa: E402
from hpatches_eval.patch_types import PATCH_TYPES  # noqa: E402
from hpatches_eval.results import write_json_atomic  # noqa: E402

FULL = {"sequences": 40, "tracks": 1500, "pairs": 1_000_000, "queries": 10_000, "distractors": 20_000, "dim": 128}
QUICK = {"sequences": 8, "tracks": 600, "pairs": 50_000, "queries": 1_000, "distractors": 2_000, "dim": 128}
NOISE = {"r": 0.0, "e": 1.2, "h": 2.0, "t": 3.0}


def rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def synthesize(cfg: dict, root: Path, rng: np.random.Generator):
    """Descriptors ``{(seq, type): (N, D) float32}`` and a tasks folder for split ``bench`` under ``root``."""
    names = [("i_" if k % 2 == 0 else "v_") + f"bench{k:02d}" for k in range(cfg["sequences"])]
    sizes = rng.integers(int(cfg["tracks"] * 0.8), int(cfg["tracks"] * 1.2) + 1, len(names))
    arrays = {}
    for seq, n in zip(names, sizes):
        base = rng.standard_normal((n, cfg["dim"]), dtype=np.float32)
        for patch_type in PATCH_TYPES:
            noise = rng.standard_normal((n, cfg["dim"]), dtype=np.float32) * np.float32(NOISE[patch_type[0]])
            arrays[(seq, patch_type)] = base + noise
    tasks = root / "tasks"
    (tasks / "splits").mkdir(parents=True)
    (tasks / "splits" / "splits.json").write_text(json.dumps({"bench": {"test": names, "train": []}}))
    # verification, official generator rules: a random test sequence, two distinct rows, two distinct images 0..4
    m = cfg["pairs"]
    seq = rng.integers(0, len(names), m)
    n_of = sizes[seq]
    idx0 = rng.integers(0, n_of)
    idx1 = (idx0 + rng.integers(1, n_of)) % n_of
    img0 = rng.integers(0, 5, m)
    img1 = (img0 + rng.integers(1, 5, m)) % 5
    seq_inter = rng.integers(0, len(names), m)  # not forced to differ from seq, as in the official files
    idx_inter = rng.integers(0, sizes[seq_inter])
    s, s_inter = np.array(names)[seq], np.array(names)[seq_inter]
    for stem, (s2, i2) in {"verif_pos": (s, idx0), "verif_neg_intra": (s, idx1), "verif_neg_inter": (s_inter, idx_inter)}.items():
        frame = pd.DataFrame({"s1": s, "t1": img0, "idx1": idx0, "s2": s2, "t2": img1, "idx2": i2})
        frame.to_csv(tasks / f"{stem}_split-bench.csv", index=False)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    picks = rng.choice(offsets[-1], cfg["queries"] + cfg["distractors"], replace=False)
    owner = np.searchsorted(offsets, picks, side="right") - 1
    refs = pd.DataFrame({"s": np.array(names)[owner], "idx": picks - offsets[owner]})
    refs.iloc[: cfg["queries"]].to_csv(tasks / "retr_queries_split-bench.csv", index=False)
    refs.iloc[cfg["queries"] :].to_csv(tasks / "retr_distractors_split-bench.csv", index=False)
    return arrays, tasks, int(sizes.sum())


def naive_verification(arrays, tasks: Path, rows: int) -> tuple[dict, float]:
    """Literal official-style verification (per-pair loop, mergesort) on the first ``rows`` pairs of each file."""
    start = time.perf_counter()
    id2t = lambda image, level: "ref" if image == 0 else f"{level}{image}"  # noqa: E731
    files = {k: pd.read_csv(tasks / f"verif_{k}_split-bench.csv", nrows=rows).to_numpy() for k in ("pos", "neg_intra", "neg_inter")}
    out = {}
    for level in "eht":
        dist = {}
        for key, pairs in files.items():
            d = np.empty(len(pairs))
            for i, p in enumerate(pairs):
                a = arrays[(p[0], id2t(p[1], level))][p[2]].astype(np.float64)
                b = arrays[(p[3], id2t(p[4], level))][p[5]].astype(np.float64)
                d[i] = np.sqrt(np.sum((a - b) ** 2))
            dist[key] = d
        for neg in ("inter", "intra"):
            labels = np.r_[np.zeros(len(dist["pos"])), np.ones(len(dist["pos"]))]
            scores = -np.r_[dist["neg_" + neg], dist["pos"]]
            perm = np.argsort(-scores, kind="mergesort")
            tp = np.r_[0, np.cumsum(labels[perm] == 1)]
            fp = np.r_[0, np.cumsum(labels[perm] == 0)]
            tpr, fpr = tp / tp[-1], fp / fp[-1]
            out[f"verif_{level}_{neg}_auc"] = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))
    return out, time.perf_counter() - start


def fast_verification_subsample(arrays, tasks: Path, rows: int, out_dir: Path) -> tuple[dict, float]:
    """The library on the same first ``rows`` pairs (files truncated into ``out_dir``)."""
    sub = out_dir / "tasks"
    (sub / "splits").mkdir(parents=True, exist_ok=True)
    (sub / "splits" / "splits.json").write_text((tasks / "splits" / "splits.json").read_text())
    for stem in ("verif_pos", "verif_neg_intra", "verif_neg_inter"):
        pd.read_csv(tasks / f"{stem}_split-bench.csv", nrows=rows).to_csv(sub / f"{stem}_split-bench.csv", index=False)
    start = time.perf_counter()
    res = evaluate(from_arrays(arrays), tasks_dir=sub, split="bench", tasks=("verification",))
    elapsed = time.perf_counter() - start
    return {k: v for k, v in res.flat().items() if k.endswith("_auc")}, elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small problem (seconds)")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per task (median reported)")
    parser.add_argument("--naive", action="store_true", help="also time a per-pair Python-loop reference")
    parser.add_argument("--naive-pairs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "hpatches_eval.json"))
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    rng = np.random.default_rng(args.seed)
    results_dir = Path(args.out).parent
    results_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tmp_bench_", dir=results_dir) as tmp:
        t0 = time.perf_counter()
        arrays, tasks, tracks = synthesize(cfg, Path(tmp), rng)
        synth_s = time.perf_counter() - t0
        base_rss = rss_mib()
        print(f"synthesised {len(arrays) // 16} sequences, {tracks} tracks, {cfg['dim']}-d in {synth_s:.1f}s "
              f"(peak RSS so far {base_rss:.0f} MiB)", flush=True)
        rows, numbers = [], {}
        for task in ("verification", "matching", "retrieval"):
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                res = evaluate(from_arrays(arrays, name="synthetic"), tasks_dir=tasks, split="bench", tasks=(task,))
                times.append(time.perf_counter() - start)
            numbers.update({k: v for k, v in res.flat().items() if k != "summary"})
            numbers[f"summary_{task}"] = res.summary[task]
            rows.append({"task": task, "median_s": statistics.median(times), "runs": len(times),
                         "peak_rss_mib": rss_mib(), "summary": res.summary[task]})
            print(f"  {task:<13} {rows[-1]['median_s']:7.2f} s   peak RSS {rows[-1]['peak_rss_mib']:7.0f} MiB   "
                  f"score {res.summary[task]:.4f}", flush=True)
        naive = None
        if args.naive:
            n = min(args.naive_pairs, cfg["pairs"])
            slow, slow_s = naive_verification(arrays, tasks, n)
            fast, fast_s = fast_verification_subsample(arrays, tasks, n, Path(tmp) / "sub")
            diff = max(abs(slow[k] - fast[k]) for k in slow)
            naive = {"pairs_per_file": n, "naive_s": slow_s, "fast_s": fast_s, "speedup": slow_s / fast_s,
                     "max_abs_diff": diff}
            print(f"  naive verification on {n} pairs/file: {slow_s:.2f} s vs {fast_s:.2f} s "
                  f"(x{slow_s / fast_s:.0f}), max |diff| {diff:.1e}", flush=True)
    total = sum(r["median_s"] for r in rows)
    print(f"\n| task | median s | peak RSS MiB | score |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['task']} | {r['median_s']:.2f} | {r['peak_rss_mib']:.0f} | {r['summary']:.4f} |")
    print(f"| total | {total:.2f} | {rss_mib():.0f} | |")
    report = {
        "benchmark": "hpatches_eval", "package_version": __version__, "config": cfg, "quick": args.quick,
        "tracks": tracks, "seed": args.seed, "repeats": args.repeats, "synthesis_s": synth_s,
        "baseline_peak_rss_mib": base_rss, "tasks": rows, "total_s": total, "peak_rss_mib": rss_mib(),
        "naive": naive, "numbers": numbers, "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "numpy": np.__version__, "pandas": pd.__version__, "machine": platform.machine(),
    }
    write_json_atomic(report, args.out)
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
