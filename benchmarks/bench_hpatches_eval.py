"""Benchmark of hpatches_eval on a synthetic split-a-sized problem (speed and peak memory).

Synthesises 40 sequences (~60k tracks, ~1,500 each) of 128-d float32 descriptors (noisy copies of a per-track
random vector, noise growing e < h < t so the numbers are non-trivial), verification files of 1,000,000 rows each
following the official generator rules (protocol B.2), and 10,000 retrieval queries / 20,000 distractors. Times
each task (median of ``--repeats``), reports peak RSS, prints a table and writes
``benchmarks/results/hpatches_eval.json``. ``--quick`` runs a small version; ``--naive`` also times a literal
reference that follows the official evaluator step by step (``official_style_reference.py``: scipy per-pair
distances, ``cdist``, per-query loops) on a subsample of each task, checks that the library gives the same numbers
on it, and extrapolates the reference's time to the full size.

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

import official_style_reference  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

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


def reference_vs_library(arrays, tasks: Path, cfg: dict, library_s: dict, sizes: dict, work: Path) -> dict:
    """Times the official-style reference (`official_style_reference`) on a subsample of each task, checks that the
    library gives the same numbers on that subsample, and extrapolates the reference to the full size.

    Extrapolation is linear in what the reference loops over: pairs (verification), sum of N^2 over (sequence,
    image) pairs (matching), queries (retrieval). ``library_s`` holds the library's full-size times; ``sizes`` the
    subsample: ``pairs`` per verification file, matching ``sequences``, retrieval ``queries``.
    """
    names = json.loads((tasks / "splits" / "splits.json").read_text())["bench"]["test"]
    n_pairs = min(sizes["pairs"], cfg["pairs"])
    match_seqs = names[: max(1, min(sizes["sequences"], len(names)))]
    n_queries = min(sizes["queries"], cfg["queries"])
    sub = work / "tasks"
    (sub / "splits").mkdir(parents=True, exist_ok=True)
    (sub / "splits" / "splits.json").write_text(json.dumps({"bench": {"test": names, "train": []},
                                                            "bench_match": {"test": match_seqs, "train": []}}))
    files = {}
    for key in ("pos", "neg_intra", "neg_inter"):
        frame = pd.read_csv(tasks / f"verif_{key}_split-bench.csv", nrows=n_pairs)
        frame.to_csv(sub / f"verif_{key}_split-bench.csv", index=False)
        files[key] = frame.to_numpy()
    queries = pd.read_csv(tasks / "retr_queries_split-bench.csv", nrows=n_queries)
    queries.to_csv(sub / "retr_queries_split-bench.csv", index=False)
    distractors = pd.read_csv(tasks / "retr_distractors_split-bench.csv")
    distractors.to_csv(sub / "retr_distractors_split-bench.csv", index=False)
    loaded = official_style_reference.as_loaded(arrays)  # not timed: the official loader's CSV reading is not either
    n_sq = {seq: arrays[(seq, "ref")].shape[0] ** 2 for seq in names}
    scale = {"verification": cfg["pairs"] / n_pairs,
             "matching": sum(n_sq.values()) / sum(n_sq[seq] for seq in match_seqs),
             "retrieval": cfg["queries"] / n_queries}
    runs = {
        "verification": (lambda: official_style_reference.verification(loaded, files), "bench"),
        "matching": (lambda: official_style_reference.matching(loaded, match_seqs), "bench_match"),
        "retrieval": (lambda: official_style_reference.retrieval(loaded, queries.to_numpy(), distractors.to_numpy()),
                      "bench"),
    }
    report = {"subsample": {"pairs_per_file": n_pairs, "matching_sequences": len(match_seqs),
                            "queries": n_queries}, "tasks": {}}
    for task, (run_reference, split) in runs.items():
        start = time.perf_counter()
        expected = run_reference()
        reference_s = time.perf_counter() - start
        start = time.perf_counter()
        res = evaluate(from_arrays(arrays), tasks_dir=sub, split=split, tasks=(task,))
        library_sub_s = time.perf_counter() - start
        flat = res.flat()
        diff = max(abs(flat[key] - value) for key, value in expected.items())
        full_reference_s = reference_s * scale[task]
        report["tasks"][task] = {
            "reference_subsample_s": reference_s, "library_subsample_s": library_sub_s,
            "extrapolation_factor": scale[task], "reference_full_s_extrapolated": full_reference_s,
            "library_full_s": library_s[task], "speedup": full_reference_s / library_s[task],
            "numbers_compared": len(expected), "max_abs_diff": diff,
        }
        print(f"  reference {task:<13} {reference_s:7.2f} s on the subsample -> {full_reference_s:7.1f} s full "
              f"(x{scale[task]:.1f}); library {library_s[task]:.2f} s: {full_reference_s / library_s[task]:5.1f}x, "
              f"max |diff| {diff:.1e} over {len(expected)} numbers", flush=True)
    total_ref = sum(t["reference_full_s_extrapolated"] for t in report["tasks"].values())
    total_lib = sum(library_s.values())
    report.update({"reference_total_s": total_ref, "library_total_s": total_lib, "speedup": total_ref / total_lib})
    print(f"  all three tasks: reference {total_ref:.0f} s vs library {total_lib:.1f} s: {total_ref / total_lib:.1f}x",
          flush=True)
    return report


def run_benchmark(cfg: dict, repeats: int = 1, seed: int = 0, reference: dict | None = None,
                  work_dir: str | None = None) -> dict:
    """Synthesises the problem, times each task (median of ``repeats``) and, if ``reference`` holds the subsample
    sizes (``pairs``, ``sequences``, ``queries``), compares with the official-style reference. Returns the report."""
    with tempfile.TemporaryDirectory(prefix="tmp_bench_", dir=work_dir) as tmp:
        t0 = time.perf_counter()
        arrays, tasks, tracks = synthesize(cfg, Path(tmp), np.random.default_rng(seed))
        synth_s = time.perf_counter() - t0
        base_rss = rss_mib()
        print(f"synthesised {len(arrays) // 16} sequences, {tracks} tracks, {cfg['dim']}-d in {synth_s:.1f}s "
              f"(peak RSS so far {base_rss:.0f} MiB)", flush=True)
        rows, numbers = [], {}
        for task in ("verification", "matching", "retrieval"):
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                res = evaluate(from_arrays(arrays, name="synthetic"), tasks_dir=tasks, split="bench", tasks=(task,))
                times.append(time.perf_counter() - start)
            numbers.update({k: v for k, v in res.flat().items() if k != "summary"})
            numbers[f"summary_{task}"] = res.summary[task]
            rows.append({"task": task, "median_s": statistics.median(times), "runs": len(times),
                         "peak_rss_mib": rss_mib(), "summary": res.summary[task]})
            print(f"  {task:<13} {rows[-1]['median_s']:7.2f} s   peak RSS {rows[-1]['peak_rss_mib']:7.0f} MiB   "
                  f"score {res.summary[task]:.4f}", flush=True)
        comparison = None
        if reference is not None:
            library_s = {r["task"]: r["median_s"] for r in rows}
            comparison = reference_vs_library(arrays, tasks, cfg, library_s, reference, Path(tmp) / "sub")
    return {
        "benchmark": "hpatches_eval", "package_version": __version__, "config": cfg, "tracks": tracks, "seed": seed,
        "repeats": repeats, "synthesis_s": synth_s, "baseline_peak_rss_mib": base_rss, "tasks": rows,
        "total_s": sum(r["median_s"] for r in rows), "peak_rss_mib": rss_mib(), "naive": comparison,
        "numbers": numbers, "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "numpy": np.__version__, "pandas": pd.__version__, "machine": platform.machine(),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small problem (seconds)")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per task (median reported)")
    parser.add_argument("--naive", action="store_true",
                        help="also time the official-style per-pair reference on a subsample (extrapolated)")
    parser.add_argument("--naive-pairs", type=int, default=50_000, help="verification pairs per file")
    parser.add_argument("--naive-sequences", type=int, default=4, help="matching sequences")
    parser.add_argument("--naive-queries", type=int, default=500, help="retrieval queries")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "hpatches_eval.json"))
    args = parser.parse_args(argv)
    results_dir = Path(args.out).parent
    results_dir.mkdir(parents=True, exist_ok=True)
    reference = ({"pairs": args.naive_pairs, "sequences": args.naive_sequences, "queries": args.naive_queries}
                 if args.naive else None)
    report = run_benchmark(QUICK if args.quick else FULL, args.repeats, args.seed, reference, str(results_dir))
    report["quick"] = args.quick
    report["command"] = "python benchmarks/bench_hpatches_eval.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print("\n| task | median s | peak RSS MiB | score |\n|---|---|---|---|")
    for r in report["tasks"]:
        print(f"| {r['task']} | {r['median_s']:.2f} | {r['peak_rss_mib']:.0f} | {r['summary']:.4f} |")
    print(f"| total | {report['total_s']:.2f} | {report['peak_rss_mib']:.0f} | |")
    write_json_atomic(report, args.out)
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
