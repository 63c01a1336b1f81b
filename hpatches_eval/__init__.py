"""HPatches benchmark (verification, matching, retrieval) with the official protocol; numpy + pandas only."""

from hpatches_eval.patch_types import NOISE_LEVELS, PATCH_TYPES, TARGET_IMAGES, patch_type_for
from hpatches_eval.splits import Split, get_split, load_splits

__version__ = "0.1.0"
