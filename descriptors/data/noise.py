"""N-HPatches-style synthetic noise for 32x32 patches ("random non-smooth perturbations", easy < hard < tough).

The coursework never published its noise model, so this one is ours. Per patch, on the 0..255 scale:

- white Gaussian noise of standard deviation ``gaussian``;
- blocky noise: a Gaussian field of standard deviation ``block`` drawn on a coarse ``32 / block_size`` grid and
  upsampled by nearest neighbour (piecewise-constant, i.e. non-smooth, low-frequency perturbation);
- impulses: a fraction ``impulse`` of the pixels replaced by uniform values in 0..255.

The sum is rounded and clipped to uint8. ``ref`` gets a mild level, ``e``/``h``/``t`` increasing ones; the
mean absolute error against the clean patch is measured by the builder and stored in ``build_info.json``.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class NoiseLevel:
    """Strength of one noise level (0..255 scale)."""

    gaussian: float
    block: float
    impulse: float
    block_size: int = 4


DEFAULT_NOISE = {
    "ref": NoiseLevel(gaussian=4.0, block=2.0, impulse=0.002),
    "e": NoiseLevel(gaussian=6.0, block=3.0, impulse=0.005),
    "h": NoiseLevel(gaussian=8.0, block=4.0, impulse=0.01),
    "t": NoiseLevel(gaussian=10.0, block=5.0, impulse=0.02),
}


def add_noise(patches: np.ndarray, level: NoiseLevel, rng: np.random.Generator) -> np.ndarray:
    """Returns a noisy copy of ``patches``.

    Shape:
        patches: ``(N, P, P)`` uint8 with ``P`` a multiple of ``level.block_size``. Output: same, uint8.
    """
    patches = np.asarray(patches)
    n, p = patches.shape[0], patches.shape[1]
    noisy = patches.astype(np.float32)
    noisy += rng.normal(0.0, level.gaussian, noisy.shape).astype(np.float32)
    if level.block > 0:
        cells = -(-p // level.block_size)
        coarse = rng.normal(0.0, level.block, (n, cells, cells)).astype(np.float32)
        block = np.repeat(np.repeat(coarse, level.block_size, 1), level.block_size, 2)[:, :p, :p]
        noisy += block
    if level.impulse > 0:
        mask = rng.random(noisy.shape) < level.impulse
        noisy[mask] = rng.uniform(0, 255, int(mask.sum())).astype(np.float32)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def noise_level_for(patch_type: str, levels: dict = DEFAULT_NOISE) -> NoiseLevel:
    """The noise level of a patch type: ``ref`` or the jitter level letter of ``e3``/``h1``/``t5``..."""
    return levels["ref"] if patch_type == "ref" else levels[patch_type[0]]
