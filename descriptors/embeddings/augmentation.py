"""Seeded per-image augmentation policies composed from Keras 3 image preprocessing layers.

A policy spec is a "+"-joined list of parts applied in order, e.g. "trivialaugment+flip" or "crop+jitter+noise":

- elementary ops: "flip" (horizontal), "crop" (reflect-pad by 1/8 of the side, random crop back), "jitter"
  (brightness/contrast, plus saturation/hue on RGB), "blur" (Gaussian), "noise" (additive Gaussian, sigma 8);
- "basic" = crop + jitter; "none" = identity;
- "randaugment": `num_ops` ops per image, each drawn uniformly from the 11 ops of `keras.layers.RandAugment`
  (shear, translate, rotate, brightness, colour, contrast, sharpness, posterize, solarize, auto-contrast,
  equalize) at strength `magnitude`. Keras' own layer draws the op indices once per batch; this draws per image;
- "autoaugment": per image one of `AUTOAUGMENT_SUBPOLICIES` (pairs of (op, probability, magnitude) in the style of
  the ImageNet AutoAugment policy), each op applied with its probability;
- "trivialaugment": per image one op drawn uniformly (identity included), its strength uniform in [0, max]
  (TrivialAugment-Wide style; the Keras layers sample the strength per image).

Randomness: op choices come from `np.random.default_rng(seed)` and the layers' random values from a
`keras.random.SeedGenerator(seed)`, so the output is a pure function of (images, seed).
"""

from __future__ import annotations

import keras
import numpy as np

from descriptors.errors import ConfigError

ELEMENTARY = ("flip", "crop", "jitter", "blur", "noise")
POLICIES = ("none", "basic", "randaugment", "autoaugment", "trivialaugment")
NOISE_SIGMA = 8.0
AUTOAUGMENT_SUBPOLICIES = (
    (("posterize", 0.4, 0.5), ("rotate", 0.6, 0.6)),
    (("solarize", 0.6, 0.5), ("auto_contrast", 0.6, 0.0)),
    (("equalize", 0.8, 0.0), ("equalize", 0.6, 0.0)),
    (("posterize", 0.6, 0.6), ("posterize", 0.6, 0.6)),
    (("equalize", 0.4, 0.0), ("solarize", 0.2, 0.4)),
    (("rotate", 0.8, 0.6), ("contrast", 0.6, 0.4)),
    (("shear", 0.6, 0.5), ("sharpness", 0.4, 0.5)),
    (("translate", 0.6, 0.4), ("brightness", 0.6, 0.4)),
)


def parse_policy(spec: str) -> tuple:
    """Splits and validates a policy spec ("randaugment+flip") into its parts.

    Raises:
        ConfigError: an unknown part.
    """
    parts = tuple(part.strip() for part in str(spec).split("+"))
    for part in parts:
        if part not in POLICIES + ELEMENTARY:
            raise ConfigError(
                f"`augment` must be a '+'-joined list of {POLICIES + ELEMENTARY}. Received: augment={spec!r}"
            )
    return tuple(part for part in parts if part != "none")


def _ops(magnitude, value_range):
    """name -> Keras layer at strength `magnitude` (0..1) for the ops of the policies."""
    layers, m, vr = keras.layers, float(magnitude), value_range
    return {
        "shear": layers.RandomShear(x_factor=m, y_factor=m),
        "translate": layers.RandomTranslation(m * 0.5, m * 0.5),
        "rotate": layers.RandomRotation(m * 0.25),
        "brightness": layers.RandomBrightness(m * 0.5, value_range=vr),
        "color": layers.RandomColorDegeneration(m, value_range=vr),
        "contrast": layers.RandomContrast(m * 0.8, value_range=vr),
        "sharpness": layers.RandomSharpness(m, value_range=vr),
        "posterize": layers.RandomPosterization(max(1, int(round(8 - 4 * m))), value_range=vr),
        "solarize": layers.Solarization(addition_factor=m * 0.5, threshold_factor=m, value_range=vr),
        "auto_contrast": layers.AutoContrast(value_range=vr),
        "equalize": layers.Equalization(value_range=vr),
    }


RANDAUGMENT_OPS = ("shear", "translate", "rotate", "brightness", "color", "contrast", "sharpness", "posterize",
                   "solarize", "auto_contrast", "equalize")


def _apply(layer, images, generator):
    if layer is None:
        return images
    transformation = layer.get_random_transformation(images, training=True, seed=generator)
    return keras.ops.convert_to_numpy(layer.transform_images(images, transformation, training=True))


class Augmenter:
    """A per-image augmentation policy over float32 images on `value_range`.

    Args:
        spec: policy spec (see the module docstring). Defaults to "basic".
        channels: image channels (1 or 3); colour ops that need RGB are left out for 1. Defaults to 1.
        magnitude: strength of "randaugment"/"autoaugment" ops and the upper strength of "trivialaugment",
            in (0, 1]. Defaults to 0.5.
        num_ops: ops per image of "randaugment". Defaults to 2.
        value_range: pixel range. Defaults to (0, 255).

    Raises:
        ConfigError: unknown spec part, bad magnitude or num_ops.

    Shape:
        `__call__(images (N, H, W, C) float32, seed) -> (N, H, W, C) float32` clipped to `value_range`.
    """

    def __init__(self, spec="basic", channels=1, magnitude=0.5, num_ops=2, value_range=(0, 255)):
        self.parts = parse_policy(spec)
        if not 0 < magnitude <= 1:
            raise ConfigError(f"`magnitude` must be in (0, 1]. Received: magnitude={magnitude!r}")
        if isinstance(num_ops, bool) or not isinstance(num_ops, int) or num_ops < 1:
            raise ConfigError(f"`num_ops` must be a positive integer. Received: num_ops={num_ops!r}")
        self.spec, self.channels, self.magnitude, self.num_ops = spec, channels, magnitude, num_ops
        self.value_range = tuple(float(v) for v in value_range)
        layers = keras.layers
        self._ops = _ops(magnitude, value_range) if {"randaugment", "autoaugment"} & set(self.parts) else {}
        self._wide = _ops(1.0, value_range) if "trivialaugment" in self.parts else {}
        jitter = [layers.RandomBrightness(0.2, value_range=value_range),
                  layers.RandomContrast(0.2, value_range=value_range)]
        if channels == 3:
            jitter += [layers.RandomSaturation(0.2, value_range=value_range),
                       layers.RandomHue(0.05, value_range=value_range)]
        self._jitter = jitter
        self._flip = layers.RandomFlip("horizontal")
        self._blur = layers.RandomGaussianBlur(factor=1.0, kernel_size=3, sigma=1.0, value_range=value_range)

    def __call__(self, images, seed) -> np.ndarray:
        images = np.asarray(images, dtype=np.float32)
        if not self.parts or len(images) == 0:
            return images
        rng = np.random.default_rng(seed)
        generator = keras.random.SeedGenerator(int(rng.integers(2**31)))
        for part in self.parts:
            images = getattr(self, f"_{part}_part")(images, rng, generator)
            images = np.clip(images, *self.value_range).astype(np.float32)
        return images

    def _per_image_choice(self, images, choice, layers, generator):
        """Applies `layers[j]` to the images with `choice == j` (-1 = untouched)."""
        out = images.copy()
        for index, layer in enumerate(layers):
            rows = np.flatnonzero(choice == index)
            if len(rows):
                out[rows] = _apply(layer, images[rows], generator)
        return out

    def _flip_part(self, images, rng, generator):
        return _apply(self._flip, images, generator)

    def _crop_part(self, images, rng, generator):
        height, width = images.shape[1:3]
        pad = max(1, round(min(height, width) / 8))
        padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")
        offsets = rng.integers(0, 2 * pad + 1, size=(len(images), 2))
        return np.stack([p[dy : dy + height, dx : dx + width] for p, (dy, dx) in zip(padded, offsets)])

    def _jitter_part(self, images, rng, generator):
        for layer in self._jitter:
            images = _apply(layer, images, generator)
        return images

    def _blur_part(self, images, rng, generator):
        return _apply(self._blur, images, generator)

    def _noise_part(self, images, rng, generator):
        return images + NOISE_SIGMA * rng.standard_normal(images.shape).astype(np.float32)

    def _basic_part(self, images, rng, generator):
        return self._jitter_part(self._crop_part(images, rng, generator), rng, generator)

    def _randaugment_part(self, images, rng, generator):
        layers = [self._ops[name] for name in RANDAUGMENT_OPS]
        for _ in range(self.num_ops):
            images = self._per_image_choice(images, rng.integers(len(layers), size=len(images)), layers, generator)
        return images

    def _trivialaugment_part(self, images, rng, generator):
        layers = [None] + [self._wide[name] for name in RANDAUGMENT_OPS]
        return self._per_image_choice(images, rng.integers(len(layers), size=len(images)), layers, generator)

    def _autoaugment_part(self, images, rng, generator):
        policy = rng.integers(len(AUTOAUGMENT_SUBPOLICIES), size=len(images))
        for step in range(2):
            ops = [AUTOAUGMENT_SUBPOLICIES[p][step] for p in range(len(AUTOAUGMENT_SUBPOLICIES))]
            applied = rng.random(len(images)) < np.array([ops[p][1] for p in policy])
            choice = np.where(applied, policy, -1)
            layers = [self._fixed(name, strength) for name, _, strength in ops]
            images = self._per_image_choice(images, choice, layers, generator)
        return images

    def _fixed(self, name, strength):
        """The autoaugment op `name` at its sub-policy strength (scaled by `magnitude` / 0.5)."""
        key = (name, strength)
        cache = self.__dict__.setdefault("_fixed_cache", {})
        if key not in cache:
            cache[key] = _ops(min(1.0, max(1e-3, strength * self.magnitude / 0.5)),
                              self.value_range)[name]
        return cache[key]
