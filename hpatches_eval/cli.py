"""Command line: ``python -m hpatches_eval --descriptors DIR [--data DIR] [--tasks DIR] --split a --task all``.

Also ``python -m hpatches_eval show results.json`` (or ``--show results.json``) prints a saved run: its tables and
the summary **stored in the file**, with a warning (and a ``stored_summary_mismatch`` flag) when that summary
disagrees with the one recomputed from the stored per-sequence numbers.

The contract of every command of this project (`hpatches_eval.cli_contract`):

* every argument and input is checked before any work, exit status 2: missing or unreadable folders, a split the
  task files do not define, missing/garbage/NaN/ragged descriptor CSVs, descriptor rows that do not match the
  patch files or the task files, a results file that is not JSON or not a results file, and an ``--out`` that
  cannot be written or lies inside (or is) one of the inputs;
* a failure during the evaluation or while writing ``--out`` exits with status 1;
* either way stderr gets one line ``python -m hpatches_eval: error: <message>``, never a traceback (unless
  ``--debug``); Ctrl-C exits 130.

``--out`` is written atomically (hidden staging file + rename: never half-written). Flags (suspicious numbers:
collapsed descriptors or sequences, retrieval pools without distractors or shorter than their size, a stored
summary that does not add up) are printed with the tables, kept in the JSON, and repeated on stderr as one-line
warnings, also with ``--quiet``.

Several splits: ``--split a,b,c`` (or ``--split all``: the official splits a, b, c, illum, view, full whose task
files exist) evaluates each split and prints the summary per split, then the mean and the sample std (n-1) over
the splits averaged (the requested ones; for ``all``: a, b, c, as papers report), and the mean/std per level.
Every split's flags carry into the combined result, named by split. ``--out`` then writes the multi-split JSON
(``"kind": "hpatches_eval.multi_split"``, format in `hpatches_eval.multi_split`); ``show`` prints it too.
Every split's inputs are checked before any split is evaluated.

The figure: ``python -m hpatches_eval plot R1.json R2.json ... --out fig.png [--title TEXT]`` draws the
HPatches-paper figure (`hpatches_eval.plots`): three panels (verification, matching, retrieval), one bar per
results file (single or multi-split), easy/hard/tough markers, viewpoint vs illumination where the data has
both. Every input is read and checked and ``--out`` (.png, .pdf or .svg) is checked before drawing; the figure
is written atomically. matplotlib is imported by this command only.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from hpatches_eval.cli_contract import OneLineArgumentParser, UsageError, one_line, run_command
from hpatches_eval.distances import DISTANCES
from hpatches_eval.evaluation import TASKS, prepare, run
from hpatches_eval.metrics import AP_KINDS
from hpatches_eval.multi_split import MultiSplitResults, prepare_splits, read_results_json, run_splits
from hpatches_eval.output_safety import check_output_file
from hpatches_eval.patch_files import find_release_dir
from hpatches_eval.tables import format_multi_split, format_results

PROG = "python -m hpatches_eval"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the evaluation command."""
    parser = OneLineArgumentParser(
        prog=PROG,
        description="Evaluate patch descriptors on HPatches (official protocol). "
        "Use `python -m hpatches_eval show results.json` to print a saved result and "
        "`python -m hpatches_eval plot R1.json ... --out fig.png` to draw the HPatches-paper figure.",
    )
    parser.add_argument("--descriptors", help="descriptor folder <dir>/<seq>/<type>.csv")
    parser.add_argument("--data", help="dataset root (with hpatches-release/ and tasks/) or hpatches-release folder")
    parser.add_argument("--tasks", dest="tasks_dir", help="task files folder (default: <data>/tasks)")
    parser.add_argument("--split", default="a",
                        help="split name (default: a), several names separated by commas (a,b,c), or all")
    parser.add_argument(
        "--task", nargs="+", default=["all"], choices=("all",) + TASKS, help="tasks to run (default: all)"
    )
    parser.add_argument("--distance", default="L2", choices=DISTANCES)
    parser.add_argument("--ap", default="trapezoid", choices=AP_KINDS, help="trapezoid = official 'AP'")
    parser.add_argument("--delimiter", default=None, help="CSV delimiter: , ; tab whitespace (default: detect)")
    parser.add_argument("--name", default=None, help="descriptor name in the results (default: folder name)")
    parser.add_argument("--out", default=None, help="write the results JSON here (atomically)")
    parser.add_argument("--show", metavar="RESULTS_JSON", default=None, help="print a saved results JSON and exit")
    parser.add_argument("--quiet", action="store_true", help="do not print the tables (flags still go to stderr)")
    return parser


def build_show_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m hpatches_eval show``."""
    parser = OneLineArgumentParser(
        prog=f"{PROG} show",
        description="Print the tables and the stored summary of a results JSON written by `python -m hpatches_eval "
        "--out`; warns when the stored summary disagrees with the stored per-sequence numbers.",
    )
    parser.add_argument("results_json", metavar="RESULTS_JSON", help="a results JSON")
    return parser


def _warn_flags(flags) -> None:
    for flag in flags:
        print(f"{PROG}: warning: [{flag.get('code')}] {one_line(flag.get('message'))}", file=sys.stderr)


def _show(path_text: str) -> int:
    path = Path(path_text)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise UsageError(f"RESULTS_JSON must be a results file written by `{PROG} --out`, but {path_text!r} {what}.")
    results = _read_results(path)
    print(format_multi_split(results) if isinstance(results, MultiSplitResults) else format_results(results))
    _warn_flags(results.flags)
    return 0


def _read_results(path: Path):
    """A results file (one split or multi-split), its problems as `UsageError`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the flags are printed by the caller, once each
            results = read_results_json(path)
            (format_multi_split if isinstance(results, MultiSplitResults) else format_results)(results)
    except (ValueError, OSError) as error:
        raise UsageError(one_line(error)) from error
    return results


def _existing_folder(value: str | None, option: str) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if not path.is_dir():
        state = "is a file" if path.exists() else "does not exist"
        raise UsageError(f"`{option}` must be an existing folder, but it {state}. Received: {option}={value!r}")
    return path


def _resolve_tasks_dir(args, tasks: tuple[str, ...]) -> Path | None:
    if args.tasks_dir is not None:
        return _existing_folder(args.tasks_dir, "--tasks")
    if args.data is not None and (Path(args.data) / "tasks").is_dir():
        return Path(args.data) / "tasks"
    if tasks != ("matching",):
        raise UsageError(
            "Task files are needed for verification/retrieval: pass `--tasks DIR` or a `--data` dataset root "
            f"holding tasks/ (or `--task matching`). Received: --data={args.data!r}"
        )
    return None


def _check_options(args) -> None:
    if args.descriptors is None:
        raise UsageError("`--descriptors` is required (or use `show RESULTS_JSON`).")
    _existing_folder(args.descriptors, "--descriptors")
    if args.name is not None and (not args.name.strip() or not args.name.isprintable()):
        raise UsageError(f"`--name` must be a non-empty printable name. Received: --name={args.name!r}")
    if args.delimiter is not None and args.delimiter == "":
        raise UsageError("`--delimiter` must be a non-empty delimiter (, ; tab whitespace). Received: --delimiter=''")
    if not args.split or not args.split.strip():
        raise UsageError(f"`--split` must be a split name. Received: --split={args.split!r}")


def _run(args) -> int:
    _check_options(args)
    data = _existing_folder(args.data, "--data")
    tasks = TASKS if "all" in args.task else tuple(t for t in TASKS if t in args.task)
    tasks_dir = _resolve_tasks_dir(args, tasks)
    if data is not None:
        try:
            find_release_dir(data)
        except (FileNotFoundError, OSError) as error:
            raise UsageError(f"`--data`: {one_line(error)}") from error
    out = None
    if args.out is not None:
        try:
            out = check_output_file(args.out, inputs=[args.descriptors, tasks_dir, data], what="--out")
        except OSError as error:  # e.g. a file name too long for the file system
            raise UsageError(f"`--out` cannot be written: {one_line(error)}. Received: --out={args.out!r}") from error
    multi = "," in args.split or args.split.strip() == "all"
    try:
        if multi:
            prepared, mean_over = prepare_splits(
                args.descriptors, tasks_dir=tasks_dir, split=args.split, tasks=tasks, distance=args.distance,
                ap=args.ap, data_dir=data, delimiter=args.delimiter, name=args.name)
        else:
            prepared = prepare(args.descriptors, tasks_dir=tasks_dir, split=args.split, tasks=tasks,
                               distance=args.distance, ap=args.ap, data_dir=data, delimiter=args.delimiter,
                               name=args.name)
    except (ValueError, OSError) as error:  # every input problem: bad split, descriptors, task files, patch files
        raise UsageError(one_line(error)) from error
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # flags are printed with the tables, on stderr, and kept in the JSON
        results = run_splits(prepared, mean_over) if multi else run(prepared)
    if out is not None:
        results.save(out)
    if not args.quiet:
        print(format_multi_split(results) if multi else format_results(results))
    _warn_flags(results.flags)
    if out is not None:
        print(f"Results written to {out}", file=sys.stderr)
    return 0


def build_plot_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m hpatches_eval plot``."""
    parser = OneLineArgumentParser(
        prog=f"{PROG} plot",
        description="Draw the HPatches-paper figure (verification, matching, retrieval; one bar per results file) "
        "from results JSONs written by `python -m hpatches_eval --out` (one split or several).",
    )
    parser.add_argument("results_json", metavar="RESULTS_JSON", nargs="+", help="results JSONs, one per descriptor")
    parser.add_argument("--out", required=True, help="the figure file: .png, .pdf or .svg (written atomically)")
    parser.add_argument("--title", default=None, help="a title over the three panels")
    return parser


def _plot(argv: list[str]) -> int:
    from hpatches_eval.plots import FORMATS, figure_entry, plot_results

    args = build_plot_parser().parse_args(argv)
    suffix = Path(args.out).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise UsageError(f"`--out` must end in one of {', '.join('.' + f for f in FORMATS)}. "
                         f"Received: --out={args.out!r}")
    out = check_output_file(args.out, inputs=args.results_json, what="--out")
    entries, seen, splits = [], {}, set()
    for text in args.results_json:
        path = Path(text)
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise UsageError(f"RESULTS_JSON must be a results file written by `{PROG} --out`, but {text!r} {what}.")
        results = _read_results(path)
        label = str(results.params.get("descriptor") or path.stem)
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label} ({path.stem})"
        entry = figure_entry(results, label)
        if all(value is None for value in entry["bars"].values()):
            raise UsageError(f"RESULTS_JSON {text!r} holds no verification, matching or retrieval numbers.")
        entries.append(entry)
        splits.add(",".join(results.mean_over) if isinstance(results, MultiSplitResults)
                   else str(results.params.get("split")))
        _warn_flags(results.flags)
    try:
        import matplotlib  # noqa: F401  (checked before drawing)
    except ImportError as error:
        raise UsageError(f"`plot` needs matplotlib (pip install matplotlib): {one_line(error)}") from error
    if len(splits) > 1:
        print(f"{PROG}: warning: the results are on different splits ({', '.join(sorted(splits))}); their bars are "
              "not directly comparable.", file=sys.stderr)
    plot_results(entries, out, title=args.title)
    print(f"Figure written to {out}", file=sys.stderr)
    return 0


def _body(argv: list[str]) -> int:
    if argv[:1] == ["plot"]:
        return _plot(argv[1:])
    if argv[:1] == ["show"]:
        return _show(build_show_parser().parse_args(argv[1:]).results_json)
    args = build_parser().parse_args(argv)
    if args.show is not None:
        extra = [f"--{name}" for name in ("descriptors", "data", "out", "name") if getattr(args, name) is not None]
        if args.tasks_dir is not None:
            extra.append("--tasks")
        if extra:
            raise UsageError(f"`--show` prints a saved result and takes no {', '.join(extra)}.")
        return _show(args.show)
    return _run(args)


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit status (0 ok, 1 failure during the work, 2 bad arguments or inputs,
    130 interrupted)."""
    return run_command(PROG, _body, argv)
