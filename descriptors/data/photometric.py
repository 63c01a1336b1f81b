"""Realistic illumination and camera changes for the ``i_`` sequences of the wide default dataset.

Each transform is a pure numpy/cv2 function on the 0..255 scale (float32 out, so that they compose without
rounding in between): `colour_temperature` (per-channel gains on the colour image, before any conversion to
grey), `shading_field` + `apply_shading` (a smooth low-frequency multiplicative field: light falling unevenly),
`exposure` (a gain, clipped at 255 like a sensor) and `gamma` (a tone curve). `realistic_change` draws their
strengths from a seeded generator, and `illumination_sequence_wide` makes an ``i_`` sequence whose five targets
get growing strengths, as the illumination changes of HPatches' ``i_`` sequences grow harder along the sequence.
"""

from __future__ import annotations

import cv2
import numpy as np

from descriptors.data.sequences import ImageSequence
from descriptors.errors import ConfigError

MAX_GAMMA_LOG = 0.6  # gamma in [exp(-0.6), exp(0.6)] = [0.55, 1.82] at strength 1
MAX_EXPOSURE_LOG = 0.8  # gain in [0.45, 2.23] at strength 1
MAX_WARMTH = 0.3  # red gain up to exp(0.3) = 1.35 and blue gain down to exp(-0.3) (or the reverse)
MAX_SHADING = 0.5  # shading amplitude up to 0.5 (the field spans [0.5, 1.5]) at strength 1


def gamma(image: np.ndarray, g: float) -> np.ndarray:
    """Tone curve ``255 * (x / 255) ** g``: 0 and 255 stay, ``g < 1`` brightens the mid-tones.

    Shape:
        image: any shape, values in 0..255 -> float32 of the same shape.

    Raises:
        ConfigError: ``g`` is not > 0.
    """
    if not g > 0:
        raise ConfigError(f"`g` must be > 0. Received: g={g!r}")
    x = np.clip(np.asarray(image, dtype=np.float32), 0, 255) / 255.0
    return (255.0 * x ** np.float32(g)).astype(np.float32)


def exposure(image: np.ndarray, gain: float) -> np.ndarray:
    """Exposure change: ``x * gain`` clipped to 0..255 (highlights saturate, as in a camera).

    Shape:
        image: any shape -> float32 of the same shape.

    Raises:
        ConfigError: ``gain`` is not > 0.
    """
    if not gain > 0:
        raise ConfigError(f"`gain` must be > 0. Received: gain={gain!r}")
    return np.clip(np.asarray(image, dtype=np.float32) * np.float32(gain), 0, 255)


def temperature_gains(warmth: float) -> np.ndarray:
    """Per-channel gains (R, G, B) of a colour-temperature change: ``(exp(w), 1, exp(-w))`` for warmth ``w``
    (``w > 0``: warmer light, more red and less blue; ``w < 0``: cooler)."""
    return np.array([np.exp(warmth), 1.0, np.exp(-warmth)], dtype=np.float32)


def colour_temperature(image: np.ndarray, gains_rgb, order: str = "bgr") -> np.ndarray:
    """Multiplies each colour channel by its gain (not clipped; `exposure` or the final rounding clips).

    Args:
        image: a colour image (H, W, 3); a grey image (H, W) is returned unchanged (no colour to change).
        gains_rgb: gains of the R, G and B channels (see `temperature_gains`).
        order: channel order of ``image``: ``"bgr"`` (OpenCV, the sequences' order) or ``"rgb"``.

    Shape:
        image: (H, W, 3) or (H, W) -> float32 of the same shape.

    Raises:
        ConfigError: ``order`` is not 'bgr' or 'rgb', or ``gains_rgb`` is not three values > 0.
    """
    gains = np.asarray(gains_rgb, dtype=np.float32)
    if gains.shape != (3,) or not np.all(gains > 0):
        raise ConfigError(f"`gains_rgb` must be three gains > 0. Received: gains_rgb={gains_rgb!r}")
    if order not in ("bgr", "rgb"):
        raise ConfigError(f"`order` must be 'bgr' or 'rgb'. Received: order={order!r}")
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        return image
    return image * (gains[::-1] if order == "bgr" else gains)


def shading_field(shape: tuple, amplitude: float, rng: np.random.Generator, cells: int = 3) -> np.ndarray:
    """A smooth multiplicative illumination field with mean 1 and values in ``[1 - amplitude, 1 + amplitude]``.

    Random values on a ``(cells + 1) x (cells + 1)`` grid are bilinearly upsampled to the image and blurred
    (Gaussian, sigma = a quarter of a grid cell), then centred and scaled so that the largest deviation from 1 is
    exactly ``amplitude``: light changes over a few image-widths' fractions, never from pixel to pixel.

    Args:
        shape: the image shape (only the first two values are used).
        amplitude: the largest deviation from 1, in [0, 1).
        rng: the random generator.
        cells: grid cells per side (more cells: faster variations).

    Returns:
        float32 (H, W) field.

    Raises:
        ConfigError: ``amplitude`` is not in [0, 1) or ``cells`` not an integer >= 1.
    """
    if not 0 <= amplitude < 1:
        raise ConfigError(f"`amplitude` must be in [0, 1). Received: amplitude={amplitude!r}")
    if isinstance(cells, bool) or not isinstance(cells, (int, np.integer)) or cells < 1:
        raise ConfigError(f"`cells` must be an integer >= 1. Received: cells={cells!r}")
    height, width = int(shape[0]), int(shape[1])
    grid = rng.uniform(-1.0, 1.0, (cells + 1, cells + 1)).astype(np.float32)
    field = cv2.resize(grid, (width, height), interpolation=cv2.INTER_LINEAR)
    sigma = 0.25 * min(height, width) / cells
    field = cv2.GaussianBlur(field, (0, 0), sigma, borderType=cv2.BORDER_REFLECT_101)
    field = field - field.mean()
    peak = float(np.abs(field).max())
    field = field / peak if peak > 1e-9 else np.zeros_like(field)
    return (1.0 + amplitude * field).astype(np.float32)


def apply_shading(image: np.ndarray, field: np.ndarray) -> np.ndarray:
    """``image * field`` (the field broadcast over the channels of a colour image).

    Shape:
        image: (H, W) or (H, W, C); field: (H, W) -> float32 of the image's shape.

    Raises:
        ConfigError: the field's shape is not the image's (H, W).
    """
    image = np.asarray(image, dtype=np.float32)
    if field.shape != image.shape[:2]:
        raise ConfigError(f"`field` must have the image's shape {image.shape[:2]}. Received: {field.shape}")
    return image * (field[..., None] if image.ndim == 3 else field)


def realistic_change(image: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    """One illumination/camera change of a uint8 BGR (or grey) image, of the given strength in [0, 1].

    Colour temperature (warmth uniform in ``+-MAX_WARMTH * strength``), then shading (amplitude uniform in
    ``[0.5, 1] * MAX_SHADING * strength``, 2..4 grid cells), then exposure (log-gain uniform in
    ``+-MAX_EXPOSURE_LOG * strength``, clipped), then gamma (log uniform in ``+-MAX_GAMMA_LOG * strength``),
    rounded to uint8 once at the end. Strength 0 returns the image unchanged.

    Shape:
        image: (H, W) or (H, W, 3) uint8 -> uint8 of the same shape.

    Raises:
        ConfigError: ``strength`` is not in [0, 1].
    """
    if not 0 <= strength <= 1:
        raise ConfigError(f"`strength` must be in [0, 1]. Received: strength={strength!r}")
    x = colour_temperature(image, temperature_gains(rng.uniform(-1, 1) * MAX_WARMTH * strength))
    amplitude = rng.uniform(0.5, 1.0) * MAX_SHADING * strength
    x = apply_shading(x, shading_field(x.shape, amplitude, rng, cells=int(rng.integers(2, 5))))
    x = exposure(x, np.exp(rng.uniform(-1, 1) * MAX_EXPOSURE_LOG * strength))
    x = gamma(x, np.exp(rng.uniform(-1, 1) * MAX_GAMMA_LOG * strength))
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def growing_strengths(rng: np.random.Generator, count: int = 5) -> np.ndarray:
    """Strengths of the ``count`` targets: target k (0-based) draws uniformly in ``[(k + 0.3) / count,
    (k + 1) / count]``, so each is stronger than the one before and the last is near 1."""
    return (np.arange(count) + rng.uniform(0.3, 1.0, count)) / count


def illumination_sequence_wide(name: str, photo: np.ndarray, rng: np.random.Generator) -> ImageSequence:
    """``i_`` sequence: identity homographies; image k (2..6) is `realistic_change` of the photo with the
    (k-1)-th of `growing_strengths`."""
    strengths = growing_strengths(rng)
    images = [photo] + [realistic_change(photo, float(s), rng) for s in strengths]
    return ImageSequence(name, images, [np.eye(3) for _ in range(5)])
