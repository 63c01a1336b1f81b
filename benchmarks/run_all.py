"""Runs the benchmark scripts one after the other: throughput, hpatches_eval (with the naive reference), matching timing.

Each script writes its JSON under ``benchmarks/results/`` (``--quick``: a temp folder); this runner prints a status
per script and returns non-zero if any failed. ``python3 bootstrap.py bench [--quick]`` calls it.

Usage: ``.venv/bin/python benchmarks/run_all.py [--quick] [--only throughput hpatches_eval matching_timing]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def commands(quick: bool, results: Path) -> dict[str, list[str]]:
    """Script name -> argument list; every script writes its JSON into ``results``."""
    q = ["--quick"] if quick else []
    suffix = "_quick" if quick else ""
    return {
        "throughput": [str(HERE / "bench_throughput.py"), *q, "--out", str(results / f"throughput{suffix}.json")],
        "hpatches_eval": [str(HERE / "bench_hpatches_eval.py"), *q, "--naive",
                          "--out", str(results / f"hpatches_eval{suffix}.json")],
        "matching_timing": [str(HERE / "bench_matching.py"), "timing", "--repeats", "1" if quick else "5",
                            "--out", str(results / f"matching_timing{suffix}.json")],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small problems, fewer repeats (a few minutes)")
    parser.add_argument("--only", nargs="+", default=None, help="run only these benchmarks")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="folder of the JSON results (default: benchmarks/results; with --quick a temp folder, so "
                             "the committed full results are never overwritten by quick ones)")
    args = parser.parse_args(argv)
    out_dir = args.out_dir or (Path(tempfile.gettempdir()) / "patch-descriptors-bench-quick" if args.quick
                               else HERE / "results")
    out_dir.mkdir(parents=True, exist_ok=True)
    table = commands(args.quick, out_dir)
    names = args.only or list(table)
    unknown = [n for n in names if n not in table]
    if unknown:
        parser.error(f"`--only` must name benchmarks among {list(table)}. Received: {unknown}")
    env = dict(os.environ)
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    status = {}
    for name in names:
        print(f"=== {name}: {' '.join(table[name])}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, *table[name]], cwd=ROOT, env=env)
        status[name] = (code, time.perf_counter() - start)
    print(f"\nresults in {out_dir}")
    print("\n| benchmark | exit code | seconds |\n|---|---|---|")
    for name, (code, seconds) in status.items():
        print(f"| {name} | {code} | {seconds:.0f} |")
    return 0 if all(code == 0 for code, _ in status.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
