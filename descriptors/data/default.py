"""The offline default dataset: HPatches-like sequences made from the photographs inside scikit-image.

Only photographs shipped in the scikit-image wheel are used (no download). Each gives a ``v_`` sequence (random
homographies) and an ``i_`` sequence (photometric changes), see `descriptors.data.synthetic`; the builder then
makes the HPatches layout (`descriptors.data.builder`). The result is cached in
``$DESCRIPTORS_DATA_DIR/default-v1`` (or ``~/.cache/descriptors/default-v1``) and reused; a damaged cache we
wrote is rebuilt, a folder we did not write is never replaced (see `default_dataset`).

``variant="wide"`` builds the opt-in wide variant instead (``default-wide-v1``, see
`descriptors.data.default_wide`): more photographs (train only) and a richer photometric model for its train
``i_`` sequences, with exactly the test sequences of ``default-v1``.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import cv2
import numpy as np

from descriptors.data.build_checks import LEGACY_MARKERS
from descriptors.data.builder import build_dataset
from descriptors.data.synthetic import illumination_sequence, viewpoint_sequence
from descriptors.errors import ConfigError, DataFormatError
from hpatches_eval.cli_contract import one_line
from hpatches_eval.output_safety import MARKER, folder_kind, remove_stale_staging
from hpatches_eval.patch_types import PATCH_TYPES

DEFAULT_NAME = "default-v1"
MAX_SIDE = 640  # photographs are downscaled (area) to at most this side
# skimage.data loader name -> sequence stem; all are real photographs shipped in the wheel (no pooch download)
PHOTOS = {
    "astronaut": "astronaut", "coffee": "coffee", "chelsea": "chelsea", "rocket": "rocket", "retina": "retina",
    "brick": "brick", "grass": "grass", "gravel": "gravel", "camera": "camera", "coins": "coins", "moon": "moon",
    "page": "page", "text": "text", "immunohistochemistry": "ihc", "hubble_deep_field": "hubble",
    "motorcycle_left": "motorcycle", "cell": "cell",
}
DEFAULT_TRACKS_PER_SEQUENCE = 230
VARIANTS = {"default": DEFAULT_NAME, "wide": "default-wide-v1"}  # variant -> cache folder name


def _check_variant(variant) -> None:
    if not isinstance(variant, str) or variant not in VARIANTS:
        raise ConfigError(f"`variant` must be one of {sorted(VARIANTS)}. Received: variant={variant!r}")


def default_root(variant: str = "default") -> Path:
    """``$DESCRIPTORS_DATA_DIR/default-v1`` if the variable is set, else ``~/.cache/descriptors/default-v1``
    (``default-wide-v1`` for ``variant="wide"``)."""
    _check_variant(variant)
    base = os.environ.get("DESCRIPTORS_DATA_DIR")
    return (Path(base) if base else Path.home() / ".cache" / "descriptors") / VARIANTS[variant]


def load_photo(name: str) -> np.ndarray:
    """A scikit-image photograph as uint8 BGR (or grey), downscaled to at most `MAX_SIDE`."""
    import skimage.data

    if name == "motorcycle_left":
        image = skimage.data.stereo_motorcycle()[0]
    else:
        image = getattr(skimage.data, name)()
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ConfigError(f"Photo {name!r} must be uint8. Received: dtype={image.dtype}")
    if image.ndim == 3:
        image = cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2BGR)
    scale = MAX_SIDE / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image)


class PhotoSequenceLoader:
    """A zero-argument callable making one synthetic ``v_``/``i_`` sequence of a photo when called (picklable, so
    that ``build_dataset(..., jobs=N)`` can build it in a worker process).

    Attributes:
        sequence_name: the sequence's name (``v_<stem>`` or ``i_<stem>``), known before building it.
    """

    def __init__(self, photo: str, kind: str, seed: np.random.SeedSequence):
        self.photo, self.kind, self.seed = photo, kind, seed
        self.sequence_name = f"{kind}_{PHOTOS[photo]}"

    def __call__(self):
        make = viewpoint_sequence if self.kind == "v" else illumination_sequence
        return make(self.sequence_name, load_photo(self.photo), np.random.default_rng(self.seed))

    def __repr__(self) -> str:
        return f"PhotoSequenceLoader({self.photo!r}, {self.kind!r})"


def default_sequences(photos=None, seed: int = 0):
    """Zero-argument loaders of the ``v_``/``i_`` sequences of each photo (built lazily, one at a time)."""
    photos = list(PHOTOS) if photos is None else list(photos)
    unknown = [p for p in photos if p not in PHOTOS]
    if unknown or not photos:
        raise ConfigError(f"`photos` must be a non-empty subset of {sorted(PHOTOS)}. Received: {photos!r}")
    seeds = np.random.SeedSequence([seed, 1]).spawn(2 * len(photos))
    loaders = []
    for i, photo in enumerate(photos):
        loaders.append(PhotoSequenceLoader(photo, "v", seeds[2 * i]))
        loaders.append(PhotoSequenceLoader(photo, "i", seeds[2 * i + 1]))
    return loaders


def photo_split(photos, seed: int = 0) -> list[str] | None:
    """Test sequences of the default split: about a third of the photos, both their ``v_`` and ``i_`` sequences,
    so that no scene is in both train and test. ``None`` (builder's own split) for a single photo."""
    photos = sorted(photos)
    if len(photos) < 2:
        return None
    count = int(min(max(round(len(photos) / 3), 1), len(photos) - 1))
    chosen = np.random.default_rng(np.random.SeedSequence([seed, 2])).permutation(len(photos))[:count]
    return sorted(f"{kind}_{PHOTOS[photos[i]]}" for i in chosen for kind in ("i", "v"))


def _expected_files(info: dict) -> list[Path]:
    """The files a complete dataset with this ``build_info.json`` holds (relative paths)."""
    sequences, split = info["tracks_per_sequence"], info["split"]["name"]
    if not isinstance(sequences, dict) or not sequences or not isinstance(split, str):
        raise TypeError("tracks_per_sequence must be a non-empty object and split.name a string")
    files = [Path("tasks", "splits", "splits.json")]
    files += [Path("tasks", f"{stem}_split-{split}.csv") for stem in
              ("verif_pos", "verif_neg_intra", "verif_neg_inter", "retr_queries", "retr_distractors")]
    for seq in sequences:
        for patch_type in PATCH_TYPES:
            files += [Path("hpatches-release", seq, f"{patch_type}.png"), Path("nhpatches", seq, f"{patch_type}.png"),
                      Path("nhpatches", seq, f"{patch_type}_noise.png")]
    return files


def inspect_cache(root: str | Path, params: dict | None = None) -> tuple[str, object]:
    """What is at ``root``: ``("absent", None)``, ``("ok", info)``, ``("other", cached_params)`` (a complete
    dataset built with other parameters), ``("damaged", reason)`` (a dataset we wrote, incomplete or with an
    unreadable ``build_info.json``) or ``("foreign", reason)`` (not a dataset we wrote: never touched)."""
    root = Path(root)
    if not root.exists() and not root.is_symlink():
        return "absent", None
    if not root.is_dir():
        return "foreign", "it is a file, not a folder"
    if not any(root.iterdir()):
        return "absent", None
    kind = folder_kind(root, LEGACY_MARKERS)
    if kind is None:
        return "foreign", f"it holds neither {MARKER} nor build_info.json"
    if kind != "dataset":
        return "foreign", f"it holds a {kind}, not a dataset"
    try:
        info = json.loads((root / "build_info.json").read_text())
    except FileNotFoundError:
        return "damaged", "build_info.json is missing"
    except (OSError, ValueError) as error:
        return "damaged", f"build_info.json is not readable JSON ({one_line(error)})"
    try:
        missing = [p for p in _expected_files(info) if not (root / p).is_file()]
    except (KeyError, TypeError, AttributeError) as error:
        return "damaged", f"build_info.json lacks the dataset's contents ({type(error).__name__}: {one_line(error)})"
    if missing:
        return "damaged", f"{len(missing)} files are missing, e.g. {missing[0]}"
    cached = info.get("default_dataset")
    return ("ok", info) if params is None or cached == params else ("other", cached)


def default_dataset(root: str | Path | None = None, rebuild: bool = False, *, photos=None,
                    tracks_per_sequence: int = DEFAULT_TRACKS_PER_SEQUENCE, seed: int = 0,
                    progress: bool = True, jobs: int = 1, variant: str = "default") -> Path:
    """Returns the folder of the default dataset, building it on first use.

    Safe when several processes call it at once: each builds in a staging folder (named with its pid, so that
    the leftover of a killed build is removed by the next one) and renames it into place; a process that finds
    the folder already there uses it. A cache that we wrote but that is damaged (``build_info.json`` unreadable,
    files missing) is rebuilt with a warning; a folder at ``root`` that we did not write is never touched.

    Args:
        root: dataset folder; ``None`` uses `default_root`.
        rebuild: build again even if a cached copy exists.
        photos: subset of `PHOTOS` keys (all by default); fewer photos make a smaller, faster dataset.
        tracks_per_sequence: cap on patch tracks per sequence.
        seed: seed of the whole build.
        progress: show progress bars.
        jobs: worker processes of the build (see `build_dataset`; the dataset is the same for any value).
        variant: ``"default"`` (``default-v1``) or ``"wide"`` (``default-wide-v1``, every photograph of
            `descriptors.data.default_wide`; ``photos`` must then be None).

    Returns:
        The dataset folder (HPatches layout, see docs/CONVENTIONS.md).

    Raises:
        ConfigError: if a cached dataset at ``root`` was built with other parameters (pass ``rebuild=True``), or
            ``variant`` is unknown, or ``photos`` is given with ``variant="wide"``, or a package shipping a
            photograph of the wide variant that is to be built is not installed.
        DataFormatError: if ``root`` holds something this tool did not write (remove it or choose another root).
    """
    _check_variant(variant)
    root = default_root(variant) if root is None else Path(root)
    if variant == "wide":
        from descriptors.data import default_wide

        if photos is not None:
            raise ConfigError(f"`photos` must be None with variant='wide' (it holds every photo, so that its test "
                              f"split is default-v1's). Received: photos={photos!r}")
        params = default_wide.wide_params(tracks_per_sequence, seed)
    else:
        params = {"photos": sorted(PHOTOS) if photos is None else sorted(photos),
                  "tracks_per_sequence": int(tracks_per_sequence), "seed": int(seed), "version": DEFAULT_NAME,
                  "split": "by photo: a third of the photos (both their i_ and v_ sequences) are test"}
    if root.parent.is_dir():
        remove_stale_staging(root)  # the leftover of a killed build (its pid no longer runs)
    state, detail = inspect_cache(root, params)
    if state == "foreign":
        raise DataFormatError(f"The default dataset folder {root} was not written by this tool ({detail}); "
                              "refusing to replace it: remove it yourself, or set DESCRIPTORS_DATA_DIR (or pass "
                              "root=) to use another folder.")
    if not rebuild:
        if state == "ok":
            return root
        if state == "other":
            built_with = "other inputs (it is not a default dataset)" if detail is None else detail
            raise ConfigError(f"The dataset at {root} was built with {built_with}, not {params}; pass rebuild=True "
                              f"or another root.")
    if state == "damaged":
        warnings.warn(f"The default dataset cache {root} is damaged ({detail}); rebuilding it.", stacklevel=2)
    if variant == "wide":
        default_wide.check_wide_sources()  # before the build, not minutes into it
        loaders, test = default_wide.wide_sequences(seed), default_wide.wide_test_sequences(seed)
        source = default_wide.wide_source()
    else:
        loaders, test = default_sequences(photos, seed), photo_split(params["photos"], seed)
        source = "scikit-image photographs " + str(params["photos"])
    try:
        build_dataset(loaders, root, seed=seed, test_sequences=test,
                      max_tracks_per_sequence=tracks_per_sequence, overwrite=state != "absent", progress=progress,
                      jobs=jobs, extra_info={"default_dataset": params, "source": source})
    except FileExistsError:
        if inspect_cache(root, params)[0] != "ok":  # not another process's complete build of the same dataset
            raise
    return root
