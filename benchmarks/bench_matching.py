"""Image matching benchmark: descriptors on the same SIFT keypoints of HPatches sequences, and timing modes.

``table`` (default) matches image 1 to images 2..n of every sequence under ``--sequences`` (a folder of sequence
folders with 2..6 images each, or a CSV pair list ``image1,image2,homography[,name]``) with OpenCV SIFT
descriptors, SIFT on our patches, the shipped model (`load_default_pipeline`) and every ``--model LABEL=DIR``
pipeline folder (e.g. the coursework baseline recipe), all on the same SIFT keypoints (strongest
``--max-keypoints``), mutual nearest neighbours, MAGSAC++ at 3 px. It prints MMA@1/3/5 and homography accuracy
(mean corner error <= 1/3/5 px) overall and per i/v kind, writes ``benchmarks/results/matching.json`` and, with
``--update-doc``, the table between the markers of ``docs/matching.md``.

``timing`` times detection, patch extraction and description separately on a 1-megapixel image (four
scikit-image photos tiled 2x2) with 2,000 SIFT keypoints: median wall time of ``--repeats`` after one warm-up
run, plus the process CPU time of a whole run (on a shared machine, CPU seconds / cores estimates the wall time
the same run would take with the cores to itself).

``batch`` times the batch mode of ``python -m descriptors.match --pairs`` (`match_pairs`, model loaded once) on
the pairs of ``--sequences`` with ``--max-keypoints`` (2,000) per image and compares the wall time per pair with
its floor, the keypoint detection time plus the model-bound time (the patches of both images divided by the
pipeline's own patches/s, measured on the same patches in the same run): target ratio <= 1.25. Image 1's
features are recomputed for every pair here, so each pair describes 2 x 2,000 patches.

Usage::

    .venv/bin/python benchmarks/bench_matching.py table --sequences DIR_OR_CSV --update-doc [--model baseline=DIR]
    .venv/bin/python benchmarks/bench_matching.py timing [--repeats 5]
    .venv/bin/python benchmarks/bench_matching.py batch --sequences DIR_OR_CSV [--compare-cli]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from descriptors.matching import ImageMatcher, evaluate_sequences, summarize, write_evaluation  # noqa: E402
from hpatches_eval.results import write_json_atomic  # noqa: E402

DOC = ROOT / "docs" / "matching.md"
MARKERS = ("<!-- bench_matching:table:start -->", "<!-- bench_matching:table:end -->")
COLUMNS = ["pairs", "keypoints", "matches", "correct@3", "mma@1", "mma@3", "mma@5", "hacc@1", "hacc@3", "hacc@5"]


def _model(text: str) -> tuple[str, str]:
    label, sep, folder = text.partition("=")
    if not sep or not label or not folder:
        raise argparse.ArgumentTypeError(f"must be LABEL=DIR, got {text!r}")
    return label, folder


def _portable(path) -> str:
    """A path for the results JSON: relative paths as given, absolute ones reduced to ``<...>/<name>``."""
    return f"<...>/{Path(path).name}" if Path(path).is_absolute() else str(path)


def _command() -> str:
    """This run's command line, with absolute paths reduced (`_portable`) so the JSON holds none."""
    args = [_portable(a) if os.path.isabs(a) else a for a in sys.argv[1:]]
    return "python benchmarks/bench_matching.py " + " ".join(shlex.quote(a) for a in args)


def _cell(column: str, value) -> str:
    if column.startswith(("mma@", "hacc@")):
        return f"{value:.3f}"
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else f"{value:.1f}"
    return str(value)


def markdown(frame) -> str:
    """A pandas summary as a markdown table (no tabulate dependency)."""
    frame = frame.reset_index()
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    return "\n".join(lines + ["| " + " | ".join(_cell(c, v) for c, v in row.items()) + " |"
                               for row in frame.to_dict("records")])


def run_table(args) -> None:
    matchers = {"sift (OpenCV)": "sift", "sift on patches": "sift-patches", "shipped model": "default",
                **dict(args.model)}
    matchers = {label: ImageMatcher(spec, "sift", args.max_keypoints, args.max_side, name=label)
                for label, spec in matchers.items()}
    start = time.perf_counter()
    pairs = evaluate_sequences(args.sequences, matchers)
    seconds = time.perf_counter() - start
    overall, per_kind = summarize(pairs, None)[COLUMNS], summarize(pairs, "kind")[COLUMNS]
    command = _command()
    sequences = sorted(pairs["sequence"].unique())
    text = (f"Sequences: {', '.join(sequences)} ({len(pairs) // len(matchers)} pairs); SIFT keypoints (strongest "
            f"{args.max_keypoints}{', max side ' + str(args.max_side) if args.max_side else ''}), mutual nearest "
            f"neighbours, MAGSAC++ 3 px. MMA@t: fraction of matches within t px under the ground truth; hacc@t: "
            f"fraction of pairs whose mean corner error is <= t px.\n\n{markdown(overall)}\n\nPer kind:\n\n"
            f"{markdown(per_kind)}\n\nReproduce: `{command}` ({seconds:.0f} s on this machine).")
    print(text)
    extra = {"command": command, "seconds": seconds, "sequences_dir": _portable(args.sequences),
             "methods": {label: m.describer.name for label, m in matchers.items()}, "max_keypoints": args.max_keypoints,
             "max_side": args.max_side}
    print(f"wrote {write_evaluation(pairs, args.out, extra)}")
    if args.update_doc:
        update_doc(DOC, text)


def update_doc(path: Path, text: str) -> None:
    """Replaces the text between the benchmark markers of ``path`` (atomic write)."""
    content = path.read_text()
    pattern = re.compile(re.escape(MARKERS[0]) + ".*?" + re.escape(MARKERS[1]), re.S)
    if not pattern.search(content):
        raise SystemExit(f"{path} has no {MARKERS[0]} ... {MARKERS[1]} block to update")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(pattern.sub(lambda _: f"{MARKERS[0]}\n{text}\n{MARKERS[1]}", content))
    os.replace(tmp, path)
    print(f"updated {path}")


def megapixel_image() -> np.ndarray:
    """A 1024x1024 grey mosaic of four scikit-image photos (1.05 megapixels)."""
    import skimage.data

    tiles = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(), skimage.data.rocket()]
    tiles = [cv2.resize(cv2.cvtColor(t, cv2.COLOR_RGB2GRAY), (512, 512), interpolation=cv2.INTER_AREA) for t in tiles]
    return np.block([[tiles[0], tiles[1]], [tiles[2], tiles[3]]])


def run_timing(args) -> None:
    from descriptors.pretrained import load_default_pipeline

    image = megapixel_image()
    default = load_default_pipeline()
    describers = {"shipped model (pipeline)": default, "opencv-sift": "sift", "sift-patches": "sift-patches"}
    if default.denoiser is not None:
        describers["shipped descriptor without its denoiser"] = type(default)(default.descriptor)
    rows = {}
    for label, spec in describers.items():
        matcher = ImageMatcher(spec, "sift", max_keypoints=2000)
        matcher.features(image)  # warm-up (model tracing, caches)
        runs, cpu = [], []
        for _ in range(args.repeats):
            start = time.process_time()
            runs.append(matcher.features(image).timings)
            cpu.append(time.process_time() - start)
        median = {k: statistics.median(r[k] for r in runs) for k in ("detect", "extract", "describe")}
        median["keypoints_to_descriptors"] = median["extract"] + median["describe"]
        median["total"] = median["detect"] + median["keypoints_to_descriptors"]
        median["total_cpu_seconds"] = statistics.median(cpu)  # all threads; / cores = wall time on an idle machine
        rows[label] = median
        print(f"{label:42s} " + "  ".join(f"{k} {v:.3f}s" for k, v in median.items()), flush=True)
    keypoints = len(ImageMatcher("sift", max_keypoints=2000).features(image).keypoints)
    data = {"image": f"{image.shape[1]}x{image.shape[0]} grey mosaic of skimage photos", "keypoints": keypoints,
            "repeats": args.repeats, "median_seconds": rows, "cpu_count": os.cpu_count(),
            "load_average_1min": os.getloadavg()[0], "platform": platform.platform(),
            "opencv": cv2.__version__, "opencv_threads": cv2.getNumThreads(),
            "command": _command()}
    print(f"{keypoints} keypoints on {data['image']}; load average {data['load_average_1min']:.2f} "
          f"on {data['cpu_count']} cores")
    print(f"wrote {write_json_atomic(data, args.out)}")


def _cut_patches(matcher, image_paths) -> list:
    """The patches ``matcher`` cuts from each image (one array per image, as `ImageMatcher.features` makes)."""
    from descriptors.data.geometry import build_pyramid
    from descriptors.matching.images import downscale, read_image, to_gray_uint8
    from descriptors.matching.keypoints import detect_keypoints

    batches = []
    for path in image_paths:
        working, _ = downscale(to_gray_uint8(read_image(path)), matcher.max_side)
        keypoints = detect_keypoints(working, matcher.detector, matcher.max_keypoints)
        batches.append(matcher.describer.patches(working, keypoints, build_pyramid(working)))
    return batches


def _time_model(matcher, batches, repeats: int) -> list:
    """Seconds of the describer's own patch model on ``batches`` (one call per image), ``repeats`` times."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for batch in batches:
            matcher.describer.describe_patches(batch)
        runs.append(time.perf_counter() - start)
    return runs


def _cli_seconds(spec, descriptor: str, max_keypoints: int) -> float:
    """Wall seconds of one ``python -m descriptors.match IMG1 IMG2`` process (imports and model load included)."""
    command = [sys.executable, "-m", "descriptors.match", str(spec.image1), str(spec.image2), "--descriptor",
               descriptor, "--max-keypoints", str(max_keypoints)]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def run_batch(args) -> None:
    from descriptors.matching.batch_matching import match_pairs
    from descriptors.matching.describers import PatchDescriber
    from descriptors.matching.pair_lists import read_pair_list

    pairs = read_pair_list(args.sequences, "--sequences")
    start = time.perf_counter()
    matcher = ImageMatcher(args.descriptor, "sift", args.max_keypoints)
    load_seconds = time.perf_counter() - start
    if not isinstance(matcher.describer, PatchDescriber):
        raise SystemExit(f"--descriptor {args.descriptor!r} does not run a patch model; the batch row needs one")
    usable = [p for p in pairs if not p.problem]
    matcher.features(usable[0].image1)  # warm-up (model tracing), as a long batch amortises it
    batches = _cut_patches(matcher, [usable[0].image1, usable[0].image2])
    patches = sum(len(b) for b in batches)
    model_runs = _time_model(matcher, batches, args.repeats)  # before the batch ...
    start = time.perf_counter()
    table = match_pairs(pairs, matcher, progress=False, reuse_features=False)
    seconds = time.perf_counter() - start
    model_runs += _time_model(matcher, batches, args.repeats)  # ... and after it, so load changes show
    # the fastest run gives the highest patches/s, the lowest floor: the strictest reading of the target
    patches_per_second = patches / min(model_runs)
    ok = table[table["status"] == "ok"]
    per_pair = seconds / len(ok)
    detect = float(ok["detect_s"].mean())
    keypoints = float((ok["keypoints1"] + ok["keypoints2"]).mean())
    model_bound = keypoints / patches_per_second
    ratio = per_pair / (detect + model_bound)
    stages = {c: float(ok[c].mean()) for c in ("read_s", "detect_s", "extract_s", "describe_s", "match_s")}
    # the same ratio with the model time measured inside the batch: robust to load changing during the run
    ratio_in_batch = per_pair / (detect + stages["describe_s"])
    stages["other_s"] = per_pair - sum(stages.values())  # metrics, bookkeeping
    data = {
        "pairs": int(len(table)), "evaluated": int(len(ok)), "sequences": _portable(args.sequences),
        "descriptor": args.descriptor, "max_keypoints": args.max_keypoints,
        "mean_keypoints_per_pair": keypoints, "model_load_seconds": load_seconds,
        "batch_seconds": seconds, "per_pair_seconds": per_pair, "mean_stage_seconds": stages,
        "pipeline_patches_per_second": patches_per_second, "pipeline_timing_patches": patches,
        "pipeline_timing_seconds": model_runs, "detect_seconds_per_pair": detect,
        "model_bound_seconds_per_pair": model_bound, "floor_seconds_per_pair": detect + model_bound,
        "pipeline_patches_per_second_median": patches / statistics.median(model_runs),
        "ratio": ratio, "target_ratio": 1.25, "met": bool(ratio <= 1.25), "ratio_in_batch": ratio_in_batch,
        "mma@3": float(ok["mma@3"].mean()),
        "per_pair": [{"name": r["name"], "pair": r["pair"], "seconds": r["seconds"], "detect_s": r["detect_s"],
                      "describe_s": r["describe_s"], "match_s": r["match_s"]} for r in ok.to_dict("records")],
        "cpu_count": os.cpu_count(), "load_average_1min": os.getloadavg()[0], "platform": platform.platform(),
        "command": _command(),
    }
    if args.compare_cli:
        data["cli_seconds_one_pair"] = _cli_seconds(usable[0], args.descriptor, args.max_keypoints)
    print(f"{len(ok)} pairs in {seconds:.1f} s: {per_pair:.3f} s per pair (model loaded once in "
          f"{load_seconds:.1f} s)")
    print(f"floor: detect {detect:.3f} s + model-bound {model_bound:.3f} s ({keypoints:.0f} patches at "
          f"{patches_per_second:.0f} patches/s) = {detect + model_bound:.3f} s; ratio {ratio:.3f} (target <= 1.25: "
          f"{'met' if ratio <= 1.25 else 'NOT met'})")
    print("stages per pair: " + ", ".join(f"{k} {v:.3f}" for k, v in stages.items()))
    print(f"ratio with the model time measured inside the batch (detect + describe): {ratio_in_batch:.3f}; model "
          f"runs {', '.join(f'{r:.2f}' for r in model_runs)} s for {patches} patches")
    if "cli_seconds_one_pair" in data:
        print(f"one `python -m descriptors.match` process for one pair: {data['cli_seconds_one_pair']:.1f} s")
    print(f"wrote {write_json_atomic(data, args.out)}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode")
    table = sub.add_parser("table", help="MMA and homography accuracy on hpatches sequences (default mode)")
    table.add_argument("--sequences", type=Path, required=True,
                       help="folder of sequence folders (2..6 images each) or a CSV pair list")
    table.add_argument("--model", type=_model, action="append", default=[], metavar="LABEL=DIR",
                       help="another descriptor: a pipeline folder or .keras file (repeatable)")
    table.add_argument("--max-keypoints", type=int, default=2000)
    table.add_argument("--max-side", type=int, default=None)
    table.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "matching.json")
    table.add_argument("--update-doc", action="store_true", help=f"rewrite the table block of {DOC.name}")
    timing = sub.add_parser("timing", help="detection / extraction / description times on a 1-megapixel image")
    timing.add_argument("--repeats", type=int, default=5)
    timing.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "matching_timing.json")
    batch = sub.add_parser("batch", help="per-pair time of the --pairs batch mode against detection + model time")
    batch.add_argument("--sequences", type=Path, required=True,
                       help="folder of sequence folders (2..6 images each) or a CSV pair list")
    batch.add_argument("--descriptor", default="default", help="a patch describer (default: the shipped model)")
    batch.add_argument("--max-keypoints", type=int, default=2000)
    batch.add_argument("--repeats", type=int, default=2,
                       help="pipeline patches/s measurements before and (as many) after the batch; the fastest counts")
    batch.add_argument("--compare-cli", action="store_true",
                       help="also time one `python -m descriptors.match IMG1 IMG2` process on the first pair")
    batch.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "matching_batch.json")
    args = parser.parse_args(argv)
    if args.mode is None:
        args = parser.parse_args(["table", *(argv if argv is not None else sys.argv[1:])])
    {"table": run_table, "timing": run_timing, "batch": run_batch}[args.mode](args)


if __name__ == "__main__":
    main()
