"""Patch tracks of one image sequence: detect on the reference, jitter, reproject through H, resample.

A track is one physical patch seen in the 16 files of a sequence: ``ref`` (the detected frame in image 1) and
``e<k>``/``h<k>``/``t<k>`` (the frame jittered at that level, mapped into image ``k+1`` through the full
ground-truth homography ``H_1_{k+1}``, i.e. patch pixel -> normalised square -> jitter -> reference image ->
homography -> target image, one perspective warp per patch, so no locally-affine approximation is made).
A track whose reference region or any of its 15 jittered, reprojected regions leaves its image (or whose jittered
region leaves the reference image) is **dropped**
(no clamping: every kept patch is fully covered by real pixels). Reference patches whose pixel standard
deviation (float patch in 0..1) is below 5/255 are dropped as in HPatches.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from descriptors.data.detect import DetectorConfig, detect_frames
from descriptors.data.geometry import build_pyramid, frame_matrices, normaliser, points_inside, warp_patches
from descriptors.data.jitter import DEFAULT_JITTER, ellipse_overlap, sample_jitter
from descriptors.data.sequences import ImageSequence
from hpatches_eval.patch_types import NOISE_LEVELS, PATCH_TYPES, TARGET_IMAGES

PATCH_SIZE = 65
MIN_STD = 5.0 / 255.0


@dataclasses.dataclass
class SequenceTracks:
    """The patches of one sequence and what was measured while making them.

    Attributes:
        patches: uint8 ``(16, N, 65, 65)`` in `PATCH_TYPES` order.
        frames: ``(N, 4)`` reference frames ``x, y, sigma, angle``.
        overlaps: ``{level: (M,) ellipse IoUs}`` for a subsample of the kept tracks' jitters.
        counts: numbers of frames after each filtering step.
    """

    patches: np.ndarray
    frames: np.ndarray
    overlaps: dict
    counts: dict


def extract_tracks(sequence: ImageSequence, rng: np.random.Generator, *, detector: DetectorConfig = DetectorConfig(),
                   jitter: dict = DEFAULT_JITTER, max_tracks: int | None = None,
                   overlap_samples: int = 500) -> SequenceTracks:
    """Builds the patch tracks of one sequence.

    Args:
        sequence: the reference image, five targets and ``H_1_2..H_1_6``.
        rng: randomness for clustering, jitter, the track cap and the overlap subsample.
        detector: detector settings (``extent`` is the measurement region half-side in units of sigma).
        jitter: ``{"e"|"h"|"t": JitterLevel}``.
        max_tracks: keep at most this many tracks (a uniform random subset); ``None`` keeps all.
        overlap_samples: per level, how many kept jitters to measure the ellipse overlap on.

    Returns:
        A `SequenceTracks`.
    """
    grays = [sequence.gray(i) for i in range(len(sequence.images))]
    frames = detect_frames(grays[0], rng, detector)
    counts = {"detected": int(len(frames))}
    ref_maps = frame_matrices(frames, detector.extent) @ normaliser(PATCH_SIZE)
    keep = points_inside(ref_maps, grays[0].shape, PATCH_SIZE)
    jitters = {lv: np.stack([sample_jitter(jitter[lv], len(frames), rng) for _ in TARGET_IMAGES])
               for lv in NOISE_LEVELS}  # (5, K, 3, 3) per level
    f_mats = frame_matrices(frames, detector.extent)
    target_maps = {}
    for lv in NOISE_LEVELS:
        for k in TARGET_IMAGES:
            maps = sequence.homographies[k - 1] @ f_mats @ jitters[lv][k - 1] @ normaliser(PATCH_SIZE)
            target_maps[lv, k] = maps
            keep &= points_inside(maps, grays[k].shape, PATCH_SIZE)
            # the jittered region must also lie inside the reference image, so that a rendered (synthetic)
            # target never samples its fill outside the warped photograph
            keep &= points_inside(f_mats @ jitters[lv][k - 1] @ normaliser(PATCH_SIZE), grays[0].shape, PATCH_SIZE)
    counts["inside_all_images"] = int(keep.sum())
    index = np.nonzero(keep)[0]
    pyramids = [build_pyramid(g) for g in grays]
    ref = warp_patches(pyramids[0], ref_maps[index], PATCH_SIZE)
    contrast = ref.reshape(len(index), PATCH_SIZE * PATCH_SIZE).astype(np.float32).std(axis=1) / 255.0 >= MIN_STD
    index, ref = index[contrast], ref[contrast]
    counts["contrast_ok"] = int(len(index))
    if max_tracks is not None and len(index) > max_tracks:
        chosen = np.sort(rng.choice(len(index), max_tracks, replace=False))
        index, ref = index[chosen], ref[chosen]
    counts["kept"] = int(len(index))
    patches = np.empty((len(PATCH_TYPES), len(index), PATCH_SIZE, PATCH_SIZE), np.uint8)
    patches[0] = ref
    for lv in NOISE_LEVELS:
        for k in TARGET_IMAGES:
            warp_patches(pyramids[k], target_maps[lv, k][index], PATCH_SIZE,
                         out=patches[PATCH_TYPES.index(f"{lv}{k}")])
    overlaps = {}
    for lv in NOISE_LEVELS:
        flat = jitters[lv][:, index].reshape(-1, 3, 3)
        take = rng.choice(len(flat), min(overlap_samples, len(flat)), replace=False) if len(flat) else []
        overlaps[lv] = ellipse_overlap(flat[take]) if len(flat) else np.zeros(0)
    return SequenceTracks(patches=patches, frames=frames[index], overlaps=overlaps, counts=counts)
