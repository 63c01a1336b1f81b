"""HPatches benchmark (verification, matching, retrieval) with the official protocol; numpy + pandas only."""

from hpatches_eval._version import __version__
from hpatches_eval.descriptor_sets import DescriptorSet, from_arrays, from_callable, from_csv_dir
from hpatches_eval.errors import DescriptorError, EvaluationWarning, TaskFileError
from hpatches_eval.evaluation import TASKS, evaluate
from hpatches_eval.multi_split import MultiSplitResults, evaluate_splits, load_multi_split
from hpatches_eval.patch_types import NOISE_LEVELS, PATCH_TYPES, TARGET_IMAGES, patch_type_for
from hpatches_eval.results import Results, load_results
from hpatches_eval.splits import Split, get_split, load_splits
from hpatches_eval.tables import format_results

__all__ = [
    "NOISE_LEVELS",
    "PATCH_TYPES",
    "TARGET_IMAGES",
    "TASKS",
    "DescriptorError",
    "DescriptorSet",
    "EvaluationWarning",
    "MultiSplitResults",
    "Results",
    "Split",
    "TaskFileError",
    "__version__",
    "evaluate",
    "evaluate_splits",
    "format_results",
    "from_arrays",
    "from_callable",
    "from_csv_dir",
    "get_split",
    "load_multi_split",
    "load_results",
    "load_splits",
    "patch_type_for",
]
