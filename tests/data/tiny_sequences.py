"""Tiny textured image sequences (80 px, about 0.3 s each to build) for the builder's safety, bad-input and
official-compatibility tests: usable ones and one per skip reason of `descriptors.data.screening`."""

import cv2
import numpy as np

from descriptors.data.sequences import ImageSequence
from descriptors.data.synthetic import illumination_sequence, viewpoint_sequence


def textured(side: int = 80, seed: int = 0) -> np.ndarray:
    """A blobby textured uint8 image (upsampled noise plus fine noise): plenty of keypoints at any size."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (max(side // 8, 2), max(side // 8, 2))).astype(np.float32)
    image = cv2.resize(coarse, (side, side), interpolation=cv2.INTER_CUBIC) + rng.normal(0, 20, (side, side))
    return np.clip(image, 0, 255).astype(np.uint8)


def good_sequences(side: int = 80):
    """Three usable sequences (two v_, one i_)."""
    return [viewpoint_sequence("v_a", textured(side, 0), np.random.default_rng(1)),
            illumination_sequence("i_b", textured(side, 1), np.random.default_rng(2)),
            viewpoint_sequence("v_c", textured(side, 2), np.random.default_rng(3))]


def bad_sequences(side: int = 80):
    """``{name: (sequence, reason pattern)}``: one sequence per skip reason of `descriptors.data.screening`."""
    tex = textured(side, 5)
    flat_target = [tex, tex, tex, np.full_like(tex, 90), tex, tex]
    ramp = np.tile(np.linspace(0, 255, side).astype(np.uint8), (side, 1))
    shear = np.array([[30.0, 0, 0], [0, 1 / 30.0, 0], [0, 0, 1]])
    return {
        "v_degenerate": (ImageSequence("v_degenerate", [tex] * 6, [np.diag([1e-5, 1e-5, 1.0])] * 5),
                         r"H_1_2 changes areas by a factor 1e-10"),
        "v_stretched": (ImageSequence("v_stretched", [tex] * 6, [np.eye(3)] * 4 + [shear]),
                        r"H_1_6 stretches 900 times more in one direction"),
        "v_away": (ImageSequence("v_away", [tex] * 6, [np.eye(3), np.array([[1, 0, 5000.0], [0, 1, 0], [0, 0, 1]])]
                                 + [np.eye(3)] * 3), r"H_1_3 maps no part of image 1 into image 3"),
        "i_flat": (ImageSequence("i_flat", [np.full((side, side), 128, np.uint8)] * 6, [np.eye(3)] * 5),
                   r"image 1 is flat \(grey-level standard deviation 0 < 2\)"),
        "i_flat_target": (ImageSequence("i_flat_target", flat_target, [np.eye(3)] * 5),
                          r"image 4 is flat"),
        "i_tiny": (ImageSequence("i_tiny", [tex[:20, :24].copy()] * 6, [np.eye(3)] * 5),
                   r"image 1 is 24x20 px; every image must be at least 32 px"),
        "i_ramp": (ImageSequence("i_ramp", [ramp] * 6, [np.eye(3)] * 5),
                   r"too few keypoints: 0 patch tracks kept, at least 2 needed \(detected 0"),
    }
