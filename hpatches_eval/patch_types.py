"""Names of the 16 patch files of an HPatches sequence and of the three jitter levels.

Row ``i`` of every file of a sequence is the same physical patch (a "track"); ``ref`` comes from the reference
image and ``e<k>``/``h<k>``/``t<k>`` from target image ``k`` (1..5) under easy/hard/tough affine jitter.
"""

NOISE_LEVELS = ("e", "h", "t")
TARGET_IMAGES = (1, 2, 3, 4, 5)
PATCH_TYPES = ("ref",) + tuple(f"{level}{k}" for level in NOISE_LEVELS for k in TARGET_IMAGES)


def patch_type_for(level: str, image: int) -> str:
    """Returns the patch type holding image ``image`` (0 = ref, 1..5 = targets) at jitter ``level``.

    This is the official ``id2t`` mapping: image 0 is always ``ref`` whatever the level.

    Raises:
        ValueError: if ``level`` is not one of e/h/t or ``image`` is not in 0..5.
    """
    if level not in NOISE_LEVELS:
        raise ValueError(f"`level` must be one of {NOISE_LEVELS}. Received: level={level!r}")
    if image == 0:
        return "ref"
    if image not in TARGET_IMAGES:
        raise ValueError(f"`image` must be an integer in 0..5. Received: image={image!r}")
    return f"{level}{image}"
