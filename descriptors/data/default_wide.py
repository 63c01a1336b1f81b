"""The wide variant of the offline default dataset (``default-wide-v1``, opt-in: ``--data default-wide``).

It holds every real photograph shipped in the pinned wheels (`descriptors.data.photo_sources`, duplicates
removed): the 17 scikit-image photographs of ``default-v1`` plus `NEW_PHOTOS`. Its test split is exactly
``default-v1``'s (the same photographs, and their sequences made exactly as in ``default-v1``, with the same
seeds and at the same positions in the build, so the test patches and task files are those of ``default-v1`` and
numbers stay comparable). The new photographs are train only. Every train ``i_`` sequence (the new photographs'
and the ``default-v1`` train photographs') uses the photometric model of `descriptors.data.photometric` (colour
temperature, local shading, exposure, gamma, growing along the sequence); ``v_`` sequences are made as in
``default-v1``.
"""

from __future__ import annotations

import importlib.util
import zlib

import cv2
import numpy as np

from descriptors.data.default import MAX_SIDE, PHOTOS, VARIANTS, default_sequences, load_photo, photo_split
from descriptors.data.photo_sources import DEFAULT_V1, PHOTO_SOURCES
from descriptors.data.photometric import illumination_sequence_wide
from descriptors.data.synthetic import viewpoint_sequence
from descriptors.errors import ConfigError

WIDE_NAME = VARIANTS["wide"]
NEW_PHOTOS = ("clock", "china", "flower", "grace_hopper")  # train only; `PHOTO_SOURCES` less duplicates and v1
WIDE_PHOTOS = DEFAULT_V1 + NEW_PHOTOS
_SKIMAGE_NAME = {stem: name for name, stem in PHOTOS.items()}  # default-v1 stem -> its skimage.data name
WIDE_SPLIT = ("by photo: the test sequences of default-v1 (same photos, built as in default-v1); "
              "the new photos are train only")
WIDE_PHOTOMETRIC = ("train i_ sequences: descriptors.data.photometric (colour temperature, shading, exposure, "
                    "gamma; growing strengths); test i_ sequences: as default-v1")


def check_wide_sources() -> None:
    """Checks that every package shipping a wide-set photograph is installed (matplotlib is an optional
    dependency of this project, the ``plots`` extra), before a build that would fail minutes later.

    Raises:
        ConfigError: naming the missing package and how to install it.
    """
    modules = {"scikit-image": "skimage", "scikit-learn": "sklearn", "matplotlib": "matplotlib"}
    for stem in WIDE_PHOTOS:
        package = PHOTO_SOURCES[stem].package
        if importlib.util.find_spec(modules[package]) is None:
            raise ConfigError(f"The wide default dataset needs the package {package!r} (for the photo {stem!r}): "
                              f"pip install {package}, or use the data 'default'. Received: {package} not installed")


def load_wide_photo(stem: str) -> np.ndarray:
    """A photograph of the wide set as uint8 BGR (or grey), downscaled to at most `MAX_SIDE` (area), exactly
    as `descriptors.data.default.load_photo` does for the ``default-v1`` photographs (which it calls)."""
    if stem in _SKIMAGE_NAME:
        return load_photo(_SKIMAGE_NAME[stem])
    image = PHOTO_SOURCES[stem].load()
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    scale = MAX_SIDE / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image)


class WideSequenceLoader:
    """A zero-argument callable making one ``v_`` (as in ``default-v1``) or ``i_`` (new photometric model)
    sequence of a wide-set photograph (picklable, for ``build_dataset(..., jobs=N)``).

    Attributes:
        sequence_name: ``v_<stem>`` or ``i_<stem>``.
    """

    def __init__(self, stem: str, kind: str, seed: np.random.SeedSequence):
        self.stem, self.kind, self.seed = stem, kind, seed
        self.sequence_name = f"{kind}_{stem}"

    def __call__(self):
        make = viewpoint_sequence if self.kind == "v" else illumination_sequence_wide
        return make(self.sequence_name, load_wide_photo(self.stem), np.random.default_rng(self.seed))

    def __repr__(self) -> str:
        return f"WideSequenceLoader({self.stem!r}, {self.kind!r})"


def wide_test_sequences(seed: int = 0) -> list[str]:
    """The test sequences: those of ``default-v1`` built with the same seed."""
    return photo_split(list(PHOTOS), seed)


def wide_sequences(seed: int = 0) -> list:
    """Loaders of every wide sequence, in build order.

    The first 34 are ``default-v1``'s, in its order and with its seeds (the builder derives each sequence's
    random generator from its position, so the test sequences come out byte-identical); of those, the train
    ``i_`` loaders are replaced by `WideSequenceLoader` with the same seed. Then ``v_``/``i_`` of each of
    `NEW_PHOTOS`, seeded by ``(seed, 3, crc32(stem))`` so that adding a photograph changes no other sequence.
    """
    test = set(wide_test_sequences(seed))
    loaders = []
    for loader in default_sequences(None, seed):
        if loader.kind == "i" and loader.sequence_name not in test:
            loader = WideSequenceLoader(PHOTOS[loader.photo], "i", loader.seed)
        loaders.append(loader)
    for stem in NEW_PHOTOS:
        v_seed, i_seed = np.random.SeedSequence([seed, 3, zlib.crc32(stem.encode())]).spawn(2)
        loaders += [WideSequenceLoader(stem, "v", v_seed), WideSequenceLoader(stem, "i", i_seed)]
    return loaders


def wide_params(tracks_per_sequence: int, seed: int) -> dict:
    """The parameters recorded in ``build_info.json`` (``default_dataset``) and compared with a cached copy."""
    return {"photos": sorted(WIDE_PHOTOS), "tracks_per_sequence": int(tracks_per_sequence), "seed": int(seed),
            "version": WIDE_NAME, "split": WIDE_SPLIT, "photometric": WIDE_PHOTOMETRIC}


def wide_source() -> str:
    """The ``source`` line of ``build_info.json``: each photograph and its package."""
    return "photographs shipped in pinned wheels: " + ", ".join(
        f"{stem} ({PHOTO_SOURCES[stem].package})" for stem in WIDE_PHOTOS)

