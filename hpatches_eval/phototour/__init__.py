"""Brown / UBC PhotoTour evaluation: FPR95 on ``m50_<n>_<n>_0.txt`` pair lists (numpy only).

* `read_pairs_file` reads an official pair list (7 integers a line: patch index, 3D point id, unused, patch index,
  3D point id, unused, unused); a pair matches when the two 3D point ids are equal (columns 1 and 4), as the common
  loaders (HardNet, TFeat, torchvision ``PhotoTour``) do.
* `fpr_at_recall` / `fpr95` compute the false-positive rate at the distance threshold that accepts 95 % of the
  matching pairs, as the descriptor papers report it (see `hpatches_eval.phototour.metrics` for the tie rule).
* ``python -m hpatches_eval.phototour --descriptors D.npy --pairs m50_100000_100000_0.txt`` evaluates one
  descriptor file (one row per patch index) and prints a table (``--out`` writes JSON).
"""

from hpatches_eval.phototour.metrics import TIE_RULES, FprResult, fpr95, fpr_at_recall
from hpatches_eval.phototour.pairs import PairList, pair_distances, read_descriptor_matrix, read_pairs_file


def main(argv=None) -> int:
    """Entry point of ``python -m hpatches_eval.phototour`` (see `hpatches_eval.phototour.cli`)."""
    from hpatches_eval.phototour.cli import main as cli_main

    return cli_main(argv)

__all__ = ["TIE_RULES", "FprResult", "PairList", "fpr95", "fpr_at_recall", "main", "pair_distances",
           "read_descriptor_matrix", "read_pairs_file"]
