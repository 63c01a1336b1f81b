"""Command line: ``python -m hpatches_eval --descriptors DIR [--data DIR] [--tasks DIR] --split a --task all``.

Also ``python -m hpatches_eval show results.json`` (or ``--show results.json``) prints the tables of a saved run.
Exit status: 0 success, 2 bad arguments, 1 evaluation failure; messages go to stderr, never a traceback for a
user error, and ``--out`` is written atomically (never half-written).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from hpatches_eval.descriptor_sets import from_csv_dir
from hpatches_eval.distances import DISTANCES
from hpatches_eval.errors import DescriptorError, TaskFileError
from hpatches_eval.evaluation import TASKS, evaluate
from hpatches_eval.metrics import AP_KINDS
from hpatches_eval.results import load_results
from hpatches_eval.splits import get_split
from hpatches_eval.tables import format_results
from hpatches_eval.task_files import TaskFiles

EXIT_FAILURE = 1
EXIT_USAGE = 2


class _UsageError(Exception):
    """A command-line argument is wrong (exit status 2)."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the evaluation command."""
    parser = argparse.ArgumentParser(
        prog="python -m hpatches_eval",
        description="Evaluate patch descriptors on HPatches (official protocol). "
        "Use `python -m hpatches_eval show results.json` to print a saved result.",
    )
    parser.add_argument("--descriptors", help="descriptor folder <dir>/<seq>/<type>.csv")
    parser.add_argument("--data", help="dataset root (with hpatches-release/ and tasks/) or hpatches-release folder")
    parser.add_argument("--tasks", dest="tasks_dir", help="task files folder (default: <data>/tasks)")
    parser.add_argument("--split", default="a", help="split name (default: a)")
    parser.add_argument(
        "--task", nargs="+", default=["all"], choices=("all",) + TASKS, help="tasks to run (default: all)"
    )
    parser.add_argument("--distance", default="L2", choices=DISTANCES)
    parser.add_argument("--ap", default="trapezoid", choices=AP_KINDS, help="trapezoid = official 'AP'")
    parser.add_argument("--delimiter", default=None, help="CSV delimiter: , ; tab whitespace (default: detect)")
    parser.add_argument("--name", default=None, help="descriptor name in the results (default: folder name)")
    parser.add_argument("--out", default=None, help="write the results JSON here")
    parser.add_argument("--show", metavar="RESULTS_JSON", default=None, help="print a saved results JSON and exit")
    parser.add_argument("--quiet", action="store_true", help="do not print the tables")
    return parser


def _show(path: str) -> int:
    print(format_results(load_results(path)))
    return 0


def _resolve_tasks_dir(args, tasks: tuple[str, ...]) -> Path | None:
    if args.tasks_dir is not None:
        if not Path(args.tasks_dir).is_dir():
            raise _UsageError(f"`--tasks` must be an existing folder. Received: --tasks={args.tasks_dir!r}")
        return Path(args.tasks_dir)
    if args.data is not None and (Path(args.data) / "tasks").is_dir():
        return Path(args.data) / "tasks"
    if tasks != ("matching",):
        raise _UsageError(
            "Task files are needed for verification/retrieval: pass `--tasks DIR` or a `--data` dataset root "
            f"holding tasks/. Received: --data={args.data!r}"
        )
    return None


def _run(args) -> int:
    if args.descriptors is None:
        raise _UsageError("`--descriptors` is required (or use `show RESULTS_JSON`).")
    if not Path(args.descriptors).is_dir():
        raise _UsageError(f"`--descriptors` must be an existing folder. Received: --descriptors={args.descriptors!r}")
    if args.data is not None and not Path(args.data).is_dir():
        raise _UsageError(f"`--data` must be an existing folder. Received: --data={args.data!r}")
    tasks = TASKS if "all" in args.task else tuple(t for t in TASKS if t in args.task)
    tasks_dir = _resolve_tasks_dir(args, tasks)
    try:
        TaskFiles(tasks_dir).split(args.split) if tasks_dir is not None else get_split(args.split)
    except ValueError as error:
        raise _UsageError(str(error)) from error
    try:
        descriptors = from_csv_dir(args.descriptors, delimiter=args.delimiter, name=args.name)
    except FileNotFoundError as error:
        raise _UsageError(str(error)) from error
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # flags are printed with the tables and kept in the JSON
        results = evaluate(
            descriptors,
            tasks_dir=tasks_dir,
            split=args.split,
            tasks=tasks,
            distance=args.distance,
            ap=args.ap,
            data_dir=args.data,
        )
    if not args.quiet:
        print(format_results(results))
    for flag in results.flags:
        print(f"WARNING [{flag['code']}]: {flag['message']}", file=sys.stderr)
    if args.out:
        path = results.save(args.out)
        print(f"Results written to {path}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit status (0 ok, 1 failure, 2 bad arguments)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["show"]:
            if len(argv) != 2:
                raise _UsageError("usage: python -m hpatches_eval show RESULTS_JSON")
            return _show(argv[1])
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exit_:
            return int(exit_.code or 0) and EXIT_USAGE
        if args.show is not None:
            return _show(args.show)
        return _run(args)
    except _UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (DescriptorError, TaskFileError, FileNotFoundError, ValueError, TypeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_FAILURE
