"""Command line: ``python -m hpatches_eval.phototour --descriptors D.npy --pairs PAIRS [--out R.json]``.

Computes FPR95 (Brown / UBC PhotoTour protocol, see `hpatches_eval.phototour.metrics`) for one descriptor file
on one pair list and prints a table; ``--out`` writes the same numbers as JSON (atomically).

* ``--descriptors``: a ``.npy`` (N, D) array or a CSV without header, row ``i`` = patch index ``i`` of the
  subset (the order of ``info.txt`` / the ``patchesNNNN.bmp`` grids);
* ``--pairs``: an ``m50_<n>_<n>_0.txt`` file, or a subset folder (then its ``m50_100000_100000_0.txt``, the
  standard 100k test list, is used).

The contract of every command of this project (`hpatches_eval.cli_contract`): arguments, the pair file, the
descriptor file and ``--out`` are checked before the work (exit 2); a failure during the work exits 1; one line
``python -m hpatches_eval.phototour: error: ...`` on stderr, no traceback unless ``--debug``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from hpatches_eval._version import __version__
from hpatches_eval.cli_contract import OneLineArgumentParser, UsageError, run_command
from hpatches_eval.errors import DescriptorError, TaskFileError
from hpatches_eval.output_safety import check_output_file, staged_file
from hpatches_eval.phototour.metrics import TIE_RULES, fpr_at_recall
from hpatches_eval.phototour.pairs import pair_distances, read_descriptor_matrix, read_pairs_file

PROG = "python -m hpatches_eval.phototour"
STANDARD_PAIRS = "m50_100000_100000_0.txt"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the FPR95 command."""
    parser = OneLineArgumentParser(prog=PROG, description="FPR95 of a descriptor file on a Brown / UBC PhotoTour "
                                   "pair list (m50_<n>_<n>_0.txt).")
    parser.add_argument("--descriptors", required=True,
                        help=".npy (N, D) or header-less CSV; row i = patch index i of the subset")
    parser.add_argument("--pairs", required=True,
                        help=f"a pair file m50_<n>_<n>_0.txt, or a subset folder (uses its {STANDARD_PAIRS})")
    parser.add_argument("--recall", type=float, default=0.95, help="recall of the threshold (default: 0.95)")
    parser.add_argument("--ties", choices=TIE_RULES, default="threshold",
                        help="how non-matching pairs tied with the threshold count (default: threshold = "
                        "accepted; optimistic = rejected; stable = pair-file order)")
    parser.add_argument("--name", default=None, help="descriptor name in the results (default: the file stem)")
    parser.add_argument("--out", default=None, help="write the results JSON here (atomically)")
    parser.add_argument("--quiet", action="store_true", help="do not print the table")
    return parser


def _pairs_path(value: str) -> Path:
    path = Path(value)
    if path.is_dir():
        chosen = path / STANDARD_PAIRS
        if not chosen.is_file():
            found = sorted(p.name for p in path.glob("m50_*_0.txt"))
            raise UsageError(f"`--pairs` folder {value!r} has no {STANDARD_PAIRS}; pass one of its pair files "
                             f"instead: {found[:9] or 'none found'}")
        return chosen
    if not path.is_file():
        raise UsageError(f"`--pairs` must be a pair file or a subset folder, but it does not exist. "
                         f"Received: --pairs={value!r}")
    return path


def _check_args(args) -> tuple[Path, Path]:
    if not math.isfinite(args.recall) or not 0.0 < args.recall <= 1.0:
        raise UsageError(f"`--recall` must be a number in (0, 1]. Received: --recall={args.recall!r}")
    descriptors = Path(args.descriptors)
    if not descriptors.is_file():
        state = "is a folder" if descriptors.is_dir() else "does not exist"
        raise UsageError(f"`--descriptors` must be a .npy or CSV file, but it {state}. "
                         f"Received: --descriptors={args.descriptors!r}")
    pairs = _pairs_path(args.pairs)
    if args.out is not None:
        check_output_file(args.out, inputs=[descriptors, pairs])
    return descriptors, pairs


def format_table(results: dict) -> str:
    """The results as a small aligned text table."""
    rows = [("descriptor", results["descriptor"]), ("pairs", f"{results['pairs_file']} ({results['pairs']} pairs: "
            f"{results['positives']} matching, {results['negatives']} non-matching)"),
            (f"FPR@{100 * results['recall']:g}% recall", f"{results['fpr_percent']:.2f} %  (ties: {results['ties']})"),
            ("threshold distance", f"{results['threshold']:.6g}"),
            ("false positives", f"{results['false_positives']} (tied with the threshold: {results['tied_negatives']})")]
    others = results["fpr_percent_by_tie_rule"]
    if len(set(round(v, 9) for v in others.values())) > 1:
        rows.append(("by tie rule", ", ".join(f"{rule} {value:.2f} %" for rule, value in others.items())))
    width = max(len(key) for key, _ in rows)
    return "\n".join(f"{key:<{width}}  {value}" for key, value in rows)


def _body(argv) -> int:
    args = build_parser().parse_args(argv)
    descriptors_path, pairs_path = _check_args(args)
    descriptors = read_descriptor_matrix(descriptors_path)
    pairs = read_pairs_file(pairs_path, num_patches=descriptors.shape[0])
    if pairs.is_match.all() or not pairs.is_match.any():
        raise UsageError(f"Pair file {pairs_path} must hold matching and non-matching pairs. Received: "
                         f"{int(pairs.is_match.sum())} matching of {len(pairs)}")
    distances = pair_distances(descriptors, pairs)
    result = fpr_at_recall(distances, pairs.is_match, args.recall, args.ties)
    by_rule = {rule: 100.0 * fpr_at_recall(distances, pairs.is_match, args.recall, rule).fpr for rule in TIE_RULES}
    results = {
        "benchmark": "brown-phototour", "metric": "fpr_at_recall", "version": __version__,
        "descriptor": args.name or descriptors_path.stem, "descriptors_file": str(descriptors_path),
        "descriptor_dim": int(descriptors.shape[1]), "pairs_file": str(pairs_path), "pairs": len(pairs),
        "positives": result.positives, "negatives": result.negatives, "recall": result.recall, "ties": result.ties,
        "fpr": result.fpr, "fpr_percent": 100.0 * result.fpr, "threshold": result.threshold,
        "false_positives": result.false_positives, "tied_negatives": result.tied_negatives,
        "fpr_percent_by_tie_rule": by_rule,
    }
    if args.out is not None:
        with staged_file(args.out) as temp:
            temp.write_text(json.dumps(results, indent=1) + "\n")
    if not args.quiet:
        print(format_table(results))
    return 0


def main(argv=None) -> int:
    """Entry point of ``python -m hpatches_eval.phototour``; returns the exit status."""
    return run_command(PROG, _body, argv, usage_errors=(DescriptorError, TaskFileError))
