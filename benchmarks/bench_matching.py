"""Image matching benchmark: descriptors on the same SIFT keypoints of HPatches sequences, and a timing mode.

``table`` (default) matches image 1 to images 2..6 of every sequence under ``--sequences`` with OpenCV SIFT
descriptors, SIFT on our patches, the shipped model (`load_default_pipeline`) and every ``--model LABEL=DIR``
pipeline folder (e.g. the coursework baseline recipe), all on the same SIFT keypoints (strongest
``--max-keypoints``), mutual nearest neighbours, MAGSAC++ at 3 px. It prints MMA@1/3/5 and homography accuracy
(mean corner error <= 1/3/5 px) overall and per i/v kind, writes ``benchmarks/results/matching.json`` and, with
``--update-doc``, the table between the markers of ``docs/matching.md``.

``timing`` times detection, patch extraction and description separately on a 1-megapixel image (four
scikit-image photos tiled 2x2) with 2,000 SIFT keypoints: median wall time of ``--repeats`` after one warm-up
run, plus the process CPU time of a whole run (on a shared machine, CPU seconds / cores estimates the wall time
the same run would take with the cores to itself).

Usage::

    .venv/bin/python benchmarks/bench_matching.py table --update-doc [--model baseline=runs/coursework/pipeline]
    .venv/bin/python benchmarks/bench_matching.py timing [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import statistics
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

DEFAULT_SEQUENCES = Path("/work/shared/data/hpatches-sequences-mini")
DOC = ROOT / "docs" / "matching.md"
MARKERS = ("<!-- bench_matching:table:start -->", "<!-- bench_matching:table:end -->")
COLUMNS = ["pairs", "keypoints", "matches", "correct@3", "mma@1", "mma@3", "mma@5", "hacc@1", "hacc@3", "hacc@5"]


def _model(text: str) -> tuple[str, str]:
    label, sep, folder = text.partition("=")
    if not sep or not label or not folder:
        raise argparse.ArgumentTypeError(f"must be LABEL=DIR, got {text!r}")
    return label, folder


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
    command = "python benchmarks/bench_matching.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    sequences = sorted(pairs["sequence"].unique())
    text = (f"Sequences: {', '.join(sequences)} ({len(pairs) // len(matchers)} pairs); SIFT keypoints (strongest "
            f"{args.max_keypoints}{', max side ' + str(args.max_side) if args.max_side else ''}), mutual nearest "
            f"neighbours, MAGSAC++ 3 px. MMA@t: fraction of matches within t px under the ground truth; hacc@t: "
            f"fraction of pairs whose mean corner error is <= t px.\n\n{markdown(overall)}\n\nPer kind:\n\n"
            f"{markdown(per_kind)}\n\nReproduce: `{command}` ({seconds:.0f} s on this machine).")
    print(text)
    extra = {"command": command, "seconds": seconds, "sequences_dir": str(args.sequences),
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
            "command": "python benchmarks/bench_matching.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])}
    print(f"{keypoints} keypoints on {data['image']}; load average {data['load_average_1min']:.2f} "
          f"on {data['cpu_count']} cores")
    print(f"wrote {write_json_atomic(data, args.out)}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode")
    table = sub.add_parser("table", help="MMA and homography accuracy on hpatches sequences (default mode)")
    table.add_argument("--sequences", type=Path, default=DEFAULT_SEQUENCES)
    table.add_argument("--model", type=_model, action="append", default=[], metavar="LABEL=DIR",
                       help="another descriptor: a pipeline folder or .keras file (repeatable)")
    table.add_argument("--max-keypoints", type=int, default=2000)
    table.add_argument("--max-side", type=int, default=None)
    table.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "matching.json")
    table.add_argument("--update-doc", action="store_true", help=f"rewrite the table block of {DOC.name}")
    timing = sub.add_parser("timing", help="detection / extraction / description times on a 1-megapixel image")
    timing.add_argument("--repeats", type=int, default=5)
    timing.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "matching_timing.json")
    args = parser.parse_args(argv)
    if args.mode is None:
        args = parser.parse_args(["table", *(argv if argv is not None else sys.argv[1:])])
    run_table(args) if args.mode == "table" else run_timing(args)


if __name__ == "__main__":
    main()
