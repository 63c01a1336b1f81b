"""Every real photograph shipped inside the pinned wheels (no download), with its source and licence note.

Checked in scikit-image 0.26.0, scikit-learn 1.9.1, matplotlib 3.11.2 and scipy 1.17.1 (``requirements.txt``):

- scikit-image ``skimage.data``: the 17 photographs of the default dataset (`descriptors.data.default.PHOTOS`),
  ``clock`` (new here), ``cat`` (the same file as ``chelsea``: removed by `descriptors.data.photo_dedup`) and
  the right view of ``stereo_motorcycle`` (the same scene as the left view: excluded, see `EXCLUDED`). Entries
  that need the optional ``pooch`` download (``brain``, ``eagle``, ``lily``, ``skin``, ...) are not used.
- scikit-learn ``load_sample_images``: ``china.jpg``, ``flower.jpg``.
- matplotlib ``cbook.get_sample_data``: ``grace_hopper.jpg`` (its other files are a logo, a clip-art drawing,
  an MRI slice, elevation maps and tables).
- scipy: none (``scipy.datasets.face`` / ``ascent`` are downloaded with ``pooch``).

`PHOTO_SOURCES` maps a photo name (also its sequence stem) to a `PhotoSource`; ``load()`` gives the photograph at
its full size, uint8, grey (H, W) or RGB (H, W, 3).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np

from descriptors.errors import ConfigError

SKIMAGE, SKLEARN, MATPLOTLIB = "scikit-image", "scikit-learn", "matplotlib"
MIN_SIDE = 160  # a smaller photograph gives only a handful of 65 px patches (default-v1 has text: 172 px)


@dataclasses.dataclass(frozen=True)
class PhotoSource:
    """One photograph shipped inside an installed package.

    Attributes:
        name: registry key and sequence stem (``v_<name>``, ``i_<name>``).
        package: the distribution that ships it (``scikit-image``, ``scikit-learn``, ``matplotlib``).
        call: how it is loaded, e.g. ``skimage.data.astronaut()`` (for people).
        licence: what the package documents about its licence ("" when it documents nothing).
        loader: zero-argument function returning the image as the package gives it (picklable).
    """

    name: str
    package: str
    call: str
    licence: str
    loader: Callable[[], np.ndarray]

    def load(self) -> np.ndarray:
        """The photograph at full size: uint8, (H, W) grey or (H, W, 3) RGB (an alpha channel is dropped).

        Raises:
            ConfigError: the package returned something that is not a uint8 2-D or 3-channel image.
        """
        image = np.asarray(self.loader())
        if image.ndim == 3:
            image = image[..., :3]
        if image.dtype != np.uint8 or image.ndim not in (2, 3) or min(image.shape[:2]) < MIN_SIDE:
            raise ConfigError(f"Photo {self.name!r} ({self.call}) must be a uint8 (H, W) or (H, W, 3) image with "
                              f"sides >= {MIN_SIDE}. Received: dtype={image.dtype}, shape={image.shape}")
        return np.ascontiguousarray(image)


def _skimage(function: str, index: int | None = None) -> np.ndarray:
    import skimage.data

    image = getattr(skimage.data, function)()
    return image if index is None else image[index]


def _sklearn(filename: str) -> np.ndarray:
    from sklearn.datasets import load_sample_image

    return load_sample_image(filename)


def _matplotlib(filename: str) -> np.ndarray:
    import cv2
    from matplotlib import cbook

    path = Path(cbook.get_sample_data(filename, asfileobj=False))
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ConfigError(f"`filename` must be a readable image in matplotlib's sample data. Received: {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _source(name: str, package: str, call: str, licence: str) -> tuple[str, PhotoSource]:
    """A registry entry; the loader is derived from ``call`` (one of the three forms used below)."""
    if package == SKIMAGE:
        function, _, rest = call.removeprefix("skimage.data.").partition("()")
        loader = functools.partial(_skimage, function, int(rest.strip("[]")) if rest else None)
    else:
        loader = functools.partial(_sklearn if package == SKLEARN else _matplotlib, call.split("'")[1])
    return name, PhotoSource(name, package, call, licence, loader)


_CC0_SVDW = "CC0 (photographer Stefan van der Walt), per the skimage.data docstring"
PHOTO_SOURCES: dict[str, PhotoSource] = dict([
    _source("astronaut", SKIMAGE, "skimage.data.astronaut()", "public domain (NASA), per the docstring"),
    _source("coffee", SKIMAGE, "skimage.data.coffee()", "CC0 (photographer Rachel Michetti), per the docstring"),
    _source("chelsea", SKIMAGE, "skimage.data.chelsea()", _CC0_SVDW),
    _source("rocket", SKIMAGE, "skimage.data.rocket()", "public domain (SpaceX), per the docstring"),
    _source("retina", SKIMAGE, "skimage.data.retina()", "CC0 1.0, per the docstring"),
    _source("brick", SKIMAGE, "skimage.data.brick()", "CC0 (CC0Textures), per the docstring"),
    _source("grass", SKIMAGE, "skimage.data.grass()", "CC0 (CC0Textures), per the docstring"),
    _source("gravel", SKIMAGE, "skimage.data.gravel()", "CC0 (CC0Textures), per the docstring"),
    _source("camera", SKIMAGE, "skimage.data.camera()", "CC0 (photographer Lav Varshney), per the docstring"),
    _source("coins", SKIMAGE, "skimage.data.coins()", "no known copyright restrictions, per the docstring"),
    _source("moon", SKIMAGE, "skimage.data.moon()", ""),
    _source("page", SKIMAGE, "skimage.data.page()", ""),
    _source("text", SKIMAGE, "skimage.data.text()", "public domain, per the docstring"),
    _source("ihc", SKIMAGE, "skimage.data.immunohistochemistry()", "no known copyright restrictions, per the "
            "docstring"),
    _source("hubble", SKIMAGE, "skimage.data.hubble_deep_field()", "NASA: may be freely used (public domain), per "
            "the docstring"),
    _source("motorcycle", SKIMAGE, "skimage.data.stereo_motorcycle()[0]", "not stated (Middlebury stereo data)"),
    _source("cell", SKIMAGE, "skimage.data.cell()", "CC0, per the docstring"),
    _source("clock", SKIMAGE, "skimage.data.clock()", "public domain (photographer Stefan van der Walt), per the "
            "docstring"),
    _source("cat", SKIMAGE, "skimage.data.cat()", _CC0_SVDW),
    _source("china", SKLEARN, "sklearn.datasets.load_sample_image('china.jpg')",
            "CC BY 2.0 (danielbuechele on Flickr), per sklearn/datasets/images/README.txt"),
    _source("flower", SKLEARN, "sklearn.datasets.load_sample_image('flower.jpg')",
            "CC BY 2.0 (vultilion on Flickr), per sklearn/datasets/images/README.txt"),
    _source("grace_hopper", MATPLOTLIB, "matplotlib.cbook.get_sample_data('grace_hopper.jpg')",
            "not stated in the wheel"),
])

# Found in the wheels, loadable offline, and left out on purpose (name -> why). Duplicates are not listed here:
# `descriptors.data.photo_dedup` finds them (``cat`` is ``chelsea``).
EXCLUDED = {
    "skimage.data.stereo_motorcycle()[1]": "the same scene as the left view (a stereo pair), which default-v1 holds",
    "skimage.data.microaneurysms()": "a real retina photograph, but 102x102 px: too small for 65 px patches",
    "skimage.data.lfw_subset()": "200 face crops of 25x25 px, float: too small",
    "skimage.data.horse()": "a binary silhouette, not a photograph",
    "skimage.data.logo()": "a logo", "skimage.data.colorwheel()": "a synthetic colour wheel",
    "skimage.data.checkerboard()": "a synthetic pattern", "skimage.data.binary_blobs()": "synthetic",
    "skimage.data.shepp_logan_phantom()": "a synthetic phantom",
    "skimage/data/chessboard_GRAY.png, chessboard_RGB.png, color.png, multipage*.tif, no_time_for_that_tiny.gif":
        "synthetic patterns or tiny test files (no skimage.data entry)",
    "matplotlib sample_data logo2.png, Minduka_Present_Blue_Pack.png": "a logo and a clip-art drawing",
    "matplotlib sample_data s1045.ima.gz": "a 16-bit MRI slice (medical), not a photograph",
    "scipy.datasets.face(), ascent()": "need a pooch download (not shipped in the wheel)",
}

# The photographs of the default dataset: the same names as `descriptors.data.default.PHOTOS`' stems.
DEFAULT_V1 = ("astronaut", "coffee", "chelsea", "rocket", "retina", "brick", "grass", "gravel", "camera", "coins",
              "moon", "page", "text", "ihc", "hubble", "motorcycle", "cell")


def load_source_photo(name: str) -> np.ndarray:
    """``PHOTO_SOURCES[name].load()``, with a clear error for an unknown name.

    Raises:
        ConfigError: ``name`` is not a registered photo.
    """
    if name not in PHOTO_SOURCES:
        raise ConfigError(f"`name` must be one of {sorted(PHOTO_SOURCES)}. Received: name={name!r}")
    return PHOTO_SOURCES[name].load()
