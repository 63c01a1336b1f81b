"""How time and memory grow with the data: HPatches-shaped synthetic datasets from the default size to real size.

For each size it writes a dataset in the layout ``python -m descriptors.data.build`` writes (``nhpatches/<seq>/
<type>.png`` and ``<type>_noise.png`` at 32 px, 16 patch types, ``tasks/`` with official-format task files and
``splits.json``), then measures, each in a fresh process whose resident memory is sampled every 0.2 s:

- **build**: writing the dataset (synthetic pixels and PNG encoding; not the keypoint builder, whose cost grows with
  the images, see data/README.md);
- **load**: ``load_tracks`` of the training split into memory, and into a memory-mapped file (``--memory-map``);
- **train**: one fixed-length epoch of ``python -m descriptors.train`` (HardNet, no denoiser, 4,096 pairs of batch
  512, 512 validation pairs, ``--memory-map auto``): wall time, peak RSS and peak anonymous RSS (RSS minus the
  page cache of mapped files, which the kernel can drop at any time);
- **describe**: the shipped pipeline (denoiser + HardNet) on the 16 patch files of the first test sequence, in one
  call after a warm-up call (patches/s; describing works one sequence at a time, so it does not grow with the data);
- **hpatches_eval**: ``hpatches_eval.evaluate`` of all three tasks on split ``full`` (every sequence) with
  128-d float32 descriptors held in memory (structured random vectors), task sizes in proportion to the tracks up to
  the official ones (1,000,000 pairs per verification file, 10,000 queries, 20,000 distractors at real size).

Sizes (sequences x tracks per sequence): ``1x`` 34 x 229 (the offline default dataset: 7,793 tracks), ``4x``
116 x 269, ``16x`` 116 x 1,075, ``real`` 116 x 1,353 (the real HPatches: about 157k tracks, 2.5M patches).
Writes ``benchmarks/results/scale.json`` and, with matplotlib, ``docs/images/scale.png`` (log-log).

Usage: ``.venv/bin/python benchmarks/bench_scale.py [--sizes 1x 4x 16x real] [--work DIR] [--keep]``. Needs about
6 GB of free disk at ``--work`` for ``real`` (removed after each size unless ``--keep``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

SIZES = {"1x": (34, 229), "4x": (116, 269), "16x": (116, 1075), "real": (116, 1353)}
REAL_TRACKS = 116 * 1353
OFFICIAL = {"pairs": 1_000_000, "queries": 10_000, "distractors": 20_000}
NOISE = {"r": 0.0, "e": 6.0, "h": 12.0, "t": 20.0}  # view jitter (grey levels) by level
TRAIN_ARGS = ["--denoiser", "none", "--descriptor", "hardnet", "--epochs", "1", "--tuples-per-epoch", "4096",
              "--batch-size", "512", "--val-tuples", "512", "--no-evaluate", "--verbose", "0", "--seed", "0",
              "--split", "bench", "--memory-map", "auto"]


# --------------------------------------------------------------------------------------------- the datasets


def sequence_names(count: int) -> list[str]:
    return [("i_" if k % 2 == 0 else "v_") + f"scale{k:03d}" for k in range(count)]


def write_dataset(root: Path, sequences: int, tracks: int, seed: int = 0) -> dict:
    """Writes the synthetic dataset; returns ``{"tracks": total, "bytes": on disk}``."""
    from descriptors.data.formats import encode_patch_png
    from descriptors.data.task_writer import write_splits, write_tasks
    from hpatches_eval.patch_types import PATCH_TYPES
    from hpatches_eval.splits import Split

    rng = np.random.default_rng(seed)
    names = sequence_names(sequences)
    counts = {}
    for k, seq in enumerate(names):
        n = int(rng.integers(int(tracks * 0.8), int(tracks * 1.2) + 1))
        counts[seq] = n
        base = rng.integers(30, 226, (n, 8, 8), dtype=np.int16).repeat(4, axis=1).repeat(4, axis=2)  # 32 px blocks
        folder = root / "nhpatches" / seq
        folder.mkdir(parents=True, exist_ok=True)
        for patch_type in PATCH_TYPES:
            jitter = rng.normal(0, NOISE[patch_type[0]], base.shape) if NOISE[patch_type[0]] else 0
            clean = np.clip(base + jitter, 0, 255).astype(np.uint8)
            noisy = np.clip(clean + rng.normal(0, 15, base.shape), 0, 255).astype(np.uint8)
            (folder / f"{patch_type}.png").write_bytes(encode_patch_png(clean))
            (folder / f"{patch_type}_noise.png").write_bytes(encode_patch_png(noisy))
    total = sum(counts.values())
    share = min(1.0, total / REAL_TRACKS)
    sizes = {k: max(1000, int(round(v * share))) for k, v in OFFICIAL.items()}
    cut = int(round(0.9 * sequences))
    splits = [Split("full", tuple(names)), Split("bench", tuple(names[cut:]), tuple(names[:cut]))]
    write_splits(root / "tasks" / "splits" / "splits.json", splits)
    write_tasks(root / "tasks", splits[0], counts, lambda seq, idx: np.full(len(idx), 50.0), n_pairs=sizes["pairs"],
                n_queries=sizes["queries"], n_distractors=sizes["distractors"], rng=np.random.default_rng(seed + 1))
    on_disk = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    return {"tracks": total, "bytes": on_disk, **{f"task_{k}": v for k, v in sizes.items()}}


# ------------------------------------------------------------------------------------- measured subprocesses


def _memory_kib(pid: int) -> dict:
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon"):
                fields[key] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return fields


def measured(command: list[str], env: dict | None = None) -> dict:
    """Runs ``command``; returns its wall time, peak RSS and peak anonymous RSS (GiB, sampled every 0.2 s) and
    the last line of its stdout parsed as JSON (if any)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})})
    peak = {"VmHWM": 0, "RssAnon": 0}
    start = time.perf_counter()

    def sample():
        while process.poll() is None:
            now = _memory_kib(process.pid)
            for key in peak:
                peak[key] = max(peak[key], now.get(key, 0))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    wall = time.perf_counter() - start
    sampler.join()
    if process.returncode:
        raise RuntimeError(f"{' '.join(command[:4])}... failed ({process.returncode}): {err.strip()[-2000:]}")
    lines = [line for line in out.strip().splitlines() if line.startswith("{")]
    return {"seconds": round(wall, 2), "peak_rss_gib": round(peak["VmHWM"] / 2**20, 3),
            "peak_anon_gib": round(peak["RssAnon"] / 2**20, 3), **(json.loads(lines[-1]) if lines else {})}


def child_load(root: Path, store: str) -> None:
    from descriptors.data.formats import HPatchesRelease
    from descriptors.data.patch_tracks import load_tracks
    from hpatches_eval.splits import load_splits

    split = load_splits(root / "tasks" / "splits" / "splits.json")["bench"]
    start = time.perf_counter()
    tracks = load_tracks(HPatchesRelease(root / "nhpatches", noisy=True), split.train, verbose=False,
                         store=None if store == "memory" else Path(store))
    print(json.dumps({"load_seconds": round(time.perf_counter() - start, 2), "train_tracks": tracks.num_tracks}))


def child_describe(root: Path) -> None:
    from descriptors.data.formats import HPatchesRelease
    from descriptors.pretrained import load_default_pipeline
    from hpatches_eval.patch_types import PATCH_TYPES
    from hpatches_eval.splits import load_splits

    seq = load_splits(root / "tasks" / "splits" / "splits.json")["full"].test[0]
    source = HPatchesRelease(root / "nhpatches", noisy=True)
    pipeline = load_default_pipeline()
    patches = np.concatenate([source.load(seq, patch_type) for patch_type in PATCH_TYPES])
    pipeline.describe(patches[:2048], verbose=False)  # warm-up (tracing)
    start = time.perf_counter()
    pipeline.describe(patches, verbose=False)
    print(json.dumps({"describe_patches_per_s": round(len(patches) / (time.perf_counter() - start), 1),
                      "describe_patches": len(patches)}))


def child_evaluate(root: Path) -> None:
    import hpatches_eval
    from descriptors.data.formats import HPatchesRelease
    from hpatches_eval.patch_types import PATCH_TYPES

    source = HPatchesRelease(root / "nhpatches")
    rng = np.random.default_rng(0)
    arrays = {}
    for seq in source.sequences:  # noisy copies of one vector per track, noise growing e < h < t
        base = rng.standard_normal((source.num_patches(seq), 128), dtype=np.float32)
        for patch_type in PATCH_TYPES:
            scale = {"r": 0.0, "e": 1.2, "h": 2.0, "t": 3.0}[patch_type[0]]
            arrays[(seq, patch_type)] = base + scale * rng.standard_normal(base.shape, dtype=np.float32)
    start = time.perf_counter()
    result = hpatches_eval.evaluate(hpatches_eval.from_arrays(arrays), tasks_dir=root / "tasks", split="full",
                                    tasks="all", name="scale")
    print(json.dumps({"eval_seconds": round(time.perf_counter() - start, 2),
                      "summary": {k: round(float(v), 4) for k, v in result.summary.items()}}))


# ------------------------------------------------------------------------------------------------ the report


def run_size(name: str, work: Path, keep: bool) -> dict:
    sequences, tracks = SIZES[name]
    root = work / f"scale-{name}"
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(work / f"run-{name}", ignore_errors=True)
    me = [sys.executable, str(Path(__file__).resolve())]
    row = {"size": name, "sequences": sequences}
    start = time.perf_counter()
    row.update(write_dataset(root, sequences, tracks))
    row["build_seconds"] = round(time.perf_counter() - start, 2)
    print(f"[{name}] built {row['tracks']:,} tracks ({row['bytes'] / 2**30:.2f} GiB) in {row['build_seconds']} s",
          flush=True)
    for kind in ("memory", str(root / "mapped.npy")):
        label = "load_memory" if kind == "memory" else "load_mapped"
        row[label] = measured([*me, "--child", "load", str(root), kind])
        print(f"[{name}] {label}: {row[label]}", flush=True)
    (root / "mapped.npy").unlink(missing_ok=True)
    row["train"] = measured([sys.executable, "-m", "descriptors.train", "--data", str(root),
                             "--output-dir", str(work / f"run-{name}"), *TRAIN_ARGS])
    shutil.rmtree(work / f"run-{name}", ignore_errors=True)
    print(f"[{name}] train: {row['train']}", flush=True)
    row["describe"] = measured([*me, "--child", "describe", str(root)])
    print(f"[{name}] describe: {row['describe']}", flush=True)
    row["evaluate"] = measured([*me, "--child", "evaluate", str(root)])
    print(f"[{name}] hpatches_eval: {row['evaluate']}", flush=True)
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return row


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tracks = [r["tracks"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for label, key in (("build", lambda r: r["build_seconds"]), ("load (memory)", lambda r: r["load_memory"]["seconds"]),
                       ("train epoch", lambda r: r["train"]["seconds"]),
                       ("hpatches_eval", lambda r: r["evaluate"]["eval_seconds"])):
        left.plot(tracks, [key(r) for r in rows], "-o", label=label)
    for label, key in (("train peak RSS", lambda r: r["train"]["peak_rss_gib"]),
                       ("train peak anonymous", lambda r: r["train"]["peak_anon_gib"]),
                       ("load into memory", lambda r: r["load_memory"]["peak_rss_gib"]),
                       ("hpatches_eval peak RSS", lambda r: r["evaluate"]["peak_rss_gib"])):
        right.plot(tracks, [key(r) for r in rows], "-o", label=label)
    right.axhline(6, color="grey", ls=":", lw=1)
    right.axhline(4, color="grey", ls="--", lw=1)
    for ax, unit in ((left, "seconds"), (right, "GiB")):
        ax.set_xscale("log"); ax.set_yscale("log"); ax.set_xlabel("tracks"); ax.set_ylabel(unit)
        ax.legend(fontsize=7); ax.grid(True, which="both", lw=0.3)
    left.set_title("time"); right.set_title("peak memory (dotted: 6 GiB, dashed: 4 GiB)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--work", default=None, help="folder for the datasets (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the datasets")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "scale.json"))
    parser.add_argument("--plot", default=str(ROOT / "docs" / "images" / "scale.png"))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, root = args.child[0], Path(args.child[1])
        {"load": lambda: child_load(root, args.child[2]), "describe": lambda: child_describe(root),
         "evaluate": lambda: child_evaluate(root)}[kind]()
        return 0
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench_scale_"))
    rows = [run_size(name, work, args.keep) for name in args.sizes]
    report = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "load_average_at_end": os.getloadavg()}, "train_args": TRAIN_ARGS, "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    if len(rows) > 1:
        plot(rows, Path(args.plot))
    print(f"{'size':>5} {'tracks':>8} {'build s':>8} {'load s':>7} {'train s':>8} {'train RSS':>9} {'anon':>6} "
          f"{'descr/s':>8} {'eval s':>7} {'eval RSS':>8}")
    for r in rows:
        print(f"{r['size']:>5} {r['tracks']:>8,} {r['build_seconds']:>8.1f} {r['load_memory']['load_seconds']:>7.1f} "
              f"{r['train']['seconds']:>8.1f} {r['train']['peak_rss_gib']:>9.2f} {r['train']['peak_anon_gib']:>6.2f} "
              f"{r['describe']['describe_patches_per_s']:>8,.0f} {r['evaluate']['eval_seconds']:>7.1f} "
              f"{r['evaluate']['peak_rss_gib']:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
