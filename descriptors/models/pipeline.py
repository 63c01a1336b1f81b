"""`DescriptorPipeline`: patches (any size, uint8 or float) -> [denoiser -> clip] -> descriptor -> (N, D) float32.

Saved as a folder::

    <dir>/pipeline.json     {"format_version": 1, "descriptor": "descriptor.keras", "denoiser": "denoiser.keras" | null}
    <dir>/descriptor.keras  the descriptor model
    <dir>/denoiser.keras    the denoiser model (only when there is one)

Each `.keras` file is an ordinary Keras archive, loadable on its own with `keras.saving.load_model` once
`descriptors.models` is imported (which registers the custom classes). Every loader of this project reads them
through `load_model_file`, which keeps Keras' safe mode on (no Python code in a model file is ever run) and turns
a refused, damaged or unknown file into one `ModelFileError` that names the file.
"""

import json
import os
import zipfile
from pathlib import Path

import cv2
import keras
import numpy as np

from descriptors.errors import ConfigError, ShapeError
from descriptors.models.base import PATCH_SIZE
from descriptors.models.layers import PixelClip
from descriptors.progress import tqdm

FORMAT_VERSION = 1
MANIFEST = "pipeline.json"
DESCRIPTOR_FILE = "descriptor.keras"
DENOISER_FILE = "denoiser.keras"


class ModelFileError(ValueError):
    """A model file or pipeline folder cannot be loaded: missing, damaged, or refused by Keras safe mode."""


def _keras_reason(error: BaseException) -> str:
    """The innermost cause in a Keras loading error, on one line, without the (long) configs it quotes."""
    text = " ".join(str(error).split())
    if "Exception encountered:" in text:
        text = text.rsplit("Exception encountered:", 1)[1].strip()
    for tail in (" Full object config:", " If you trust the source", " config={"):
        text = text.split(tail)[0]
    text = text.strip() or type(error).__name__
    return text if len(text) <= 400 else text[:397] + "..."


def load_model_file(path, compile=False):
    """Loads one `.keras` file in Keras safe mode, with a clear error naming the file when it cannot.

    Use this (not `keras.saving.load_model`) for every model file a user hands over: a file whose config asks
    for Python code (a `Lambda` layer, a lambda or a foreign function) is refused, never run.

    Args:
        path: a `.keras` archive.
        compile: also restore the training configuration (optimizer, loss). Defaults to False.

    Returns:
        the `keras.Model`.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ModelFileError: not a `.keras` zip archive (e.g. truncated), refused by Keras safe mode ("... refused by
            Keras safe mode: ..."), or any other loading failure; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Model file not found: {str(path)!r}")
    if path.suffix != ".keras":
        raise ModelFileError(f"Model file {str(path)!r} must be a .keras archive. Received suffix {path.suffix!r}")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"Model file {str(path)!r} is not a Keras archive (not a complete zip file: "
                             "truncated or damaged)")
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as error:  # noqa: BLE001 (Keras raises TypeError / ValueError / zip and OS errors alike)
        reason = _keras_reason(error)
        if "safe_mode" in str(error) or "arbitrary code execution" in str(error):
            raise ModelFileError(f"Model file {str(path)!r} was refused by Keras safe mode: {reason} "
                                 "(model files that carry Python code are never run)") from error
        raise ModelFileError(f"Model file {str(path)!r} cannot be loaded: {reason}") from error


def prepare_patches(patches, size=PATCH_SIZE):
    """Converts patches to the model input: float32 (N, size, size, 1) pixels on the 0..255 scale.

    Patches of another side are resized with `cv2.INTER_AREA`, one patch at a time, in their own dtype: uint8
    patches are resized as uint8 (rounded, like the 32x32 N-HPatches files), float patches as float32.

    Args:
        patches: array (N, P, P) or (N, P, P, 1), uint8 or float, pixel values 0..255.
        size: output side. Defaults to 32.

    Returns:
        float32 array (N, size, size, 1).

    Raises:
        ShapeError: not a stack of square single-channel patches.
        TypeError: not a numeric array.

    Shape:
        (N, P, P) or (N, P, P, 1) -> (N, size, size, 1).
    """
    patches = np.asarray(patches)
    if not (np.issubdtype(patches.dtype, np.number) and not np.issubdtype(patches.dtype, np.complexfloating)):
        raise TypeError(f"`patches` must be a real numeric array. Received: patches.dtype={patches.dtype}")
    if patches.ndim == 4 and patches.shape[-1] == 1:
        patches = patches[..., 0]
    if patches.ndim != 3 or patches.shape[1] != patches.shape[2] or patches.shape[1] < 1:
        raise ShapeError(
            f"`patches` must have shape (N, P, P) or (N, P, P, 1). Received: patches.shape={np.shape(patches)}"
        )
    if patches.dtype != np.uint8:
        patches = patches.astype(np.float32, copy=False)
    if patches.shape[1] != size:
        resized = np.empty((len(patches), size, size), dtype=patches.dtype)
        for index, patch in enumerate(patches):
            resized[index] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
        patches = resized
    return patches.astype(np.float32)[..., np.newaxis]


class DescriptorPipeline:
    """An optional denoiser followed by a descriptor, run in batches on numpy patches.

    The denoised patches are clipped to 0..255 before the descriptor. The object is also a plain callable
    `pipeline(patches) -> descriptors` (no progress bar), which is what `hpatches_eval` needs.

    Args:
        descriptor: Keras model (B, 32, 32, 1) -> (B, D).
        denoiser: optional Keras model (B, 32, 32, 1) -> (B, 32, 32, 1). Defaults to None.

    Example:
        >>> from descriptors.models.registry import build_descriptor
        >>> pipeline = DescriptorPipeline(build_descriptor("hardnet"))
        >>> pipeline(np.zeros((2, 65, 65), np.uint8)).shape
        (2, 128)
    """

    def __init__(self, descriptor, denoiser=None):
        for name, model in (("descriptor", descriptor), ("denoiser", denoiser)):
            if model is not None and not isinstance(model, keras.Model):
                raise TypeError(f"`{name}` must be a keras.Model. Received: {name}={type(model).__name__}")
        if descriptor is None:
            raise TypeError("`descriptor` must be a keras.Model. Received: descriptor=None")
        self.descriptor = descriptor
        self.denoiser = denoiser

    @property
    def descriptor_dim(self):
        """D, the last dimension of the descriptor output."""
        return int(self.descriptor.output_shape[-1])

    def _batches(self, patches, batch_size, verbose, desc):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ConfigError(f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}")
        starts = range(0, len(patches), batch_size)
        for start in tqdm(starts, desc=desc, unit="batch", disable=not verbose, leave=False):
            yield prepare_patches(patches[start:start + batch_size])

    def _denoise_batch(self, batch):
        if self.denoiser is None:
            return batch
        out = keras.ops.convert_to_numpy(self.denoiser.predict_on_batch(batch))
        # Rounded to integers, like the uint8 patches a descriptor is trained on after denoising.
        return np.clip(np.rint(out), 0.0, 255.0).astype(np.float32)

    def denoise(self, patches, batch_size=512, verbose=True):
        """Denoises patches (identity without a denoiser).

        Returns:
            float32 (N, 32, 32, 1), clipped to 0..255.
        """
        patches = np.asarray(patches)
        chunks = [self._denoise_batch(b) for b in self._batches(patches, batch_size, verbose, "denoise")]
        return np.concatenate(chunks) if chunks else np.zeros((0, PATCH_SIZE, PATCH_SIZE, 1), np.float32)

    def describe(self, patches, batch_size=512, verbose=True):
        """Computes descriptors.

        Args:
            patches: (N, P, P) or (N, P, P, 1), uint8 or float, pixels 0..255; P != 32 is area-resized.
            batch_size: patches per model call. Defaults to 512.
            verbose: show a tqdm progress bar. Defaults to True.

        Returns:
            float32 array (N, D).

        Raises:
            ShapeError: patches are not (N, P, P[, 1]).
            ConfigError: `batch_size` is not a positive integer.
        """
        patches = np.asarray(patches)
        chunks = []
        for batch in self._batches(patches, batch_size, verbose, "describe"):
            out = self.descriptor.predict_on_batch(self._denoise_batch(batch))
            chunks.append(keras.ops.convert_to_numpy(out).astype(np.float32))
        if not chunks:
            prepare_patches(patches)  # validates the shape of an empty input
            return np.zeros((0, self.descriptor_dim), np.float32)
        return np.concatenate(chunks)

    def __call__(self, patches):
        return self.describe(patches, verbose=False)

    def to_keras_model(self, name="denoise_describe"):
        """A single `keras.Model` (denoiser -> PixelClip(0, 255) -> descriptor) for end-to-end fine-tuning.

        The returned model shares its layers (and weights) with this pipeline's models. Without a denoiser it
        is the descriptor wrapped as (input -> descriptor).

        Shape:
            (B, 32, 32, 1) float32 pixels 0..255 -> (B, D).
        """
        inputs = keras.Input(shape=(PATCH_SIZE, PATCH_SIZE, 1), dtype="float32", name="patches")
        x = inputs
        if self.denoiser is not None:
            x = PixelClip(0.0, 255.0, name="clip")(self.denoiser(x))
        return keras.Model(inputs, self.descriptor(x), name=name)

    def to_inference_model(self, name="describe"):
        """A single `keras.Model` that computes exactly what `describe` computes on 32x32 float input: denoiser ->
        round to integers -> clip to 0..255 -> descriptor (for export; see `descriptors.deployment`).

        Shares its layers (and weights) with this pipeline's models. Rounding has no gradient: fine-tune with
        `to_keras_model` instead.

        Shape:
            (B, 32, 32, 1) float32 pixels 0..255 -> (B, D), B dynamic.
        """
        inputs = keras.Input(shape=(PATCH_SIZE, PATCH_SIZE, 1), dtype="float32", name="patches")
        x = inputs
        if self.denoiser is not None:
            x = PixelClip(0.0, 255.0, round_values=True, name="round_clip")(self.denoiser(x))
        return keras.Model(inputs, self.descriptor(x), name=name)

    def save(self, directory):
        """Writes `pipeline.json`, `descriptor.keras` and (if any) `denoiser.keras` into `directory`.

        Each file is written to a temporary name and renamed, so a crash never leaves a half-written file.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        manifest = {"format_version": FORMAT_VERSION, "descriptor": DESCRIPTOR_FILE,
                    "denoiser": DENOISER_FILE if self.denoiser is not None else None}
        for model, filename in ((self.descriptor, DESCRIPTOR_FILE), (self.denoiser, DENOISER_FILE)):
            if model is not None:
                tmp = directory / f".tmp-{os.getpid()}-{filename}"  # ends with .keras, as Keras requires
                model.save(tmp)
                os.replace(tmp, directory / filename)
        stale = directory / DENOISER_FILE
        if self.denoiser is None and stale.exists():
            stale.unlink()
        tmp = directory / f".tmp-{os.getpid()}-{MANIFEST}"
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(tmp, directory / MANIFEST)
        return directory

    @classmethod
    def load(cls, directory, compile=False):
        """Reads a folder written by `save` (through `load_model_file`: Keras safe mode, clear errors).

        Raises:
            FileNotFoundError: the folder or one of its files is missing.
            ModelFileError: `pipeline.json` is not valid, a model file is damaged or refused by Keras safe mode.
            ConfigError: `pipeline.json` has an unknown `format_version`.
        """
        directory = Path(directory)
        manifest_path = directory / MANIFEST
        if not manifest_path.is_file():
            raise FileNotFoundError(f"No {MANIFEST} in {str(directory)!r}: not a saved DescriptorPipeline")
        manifest = read_manifest(manifest_path)
        descriptor = load_model_file(directory / manifest["descriptor"], compile=compile)
        denoiser = None
        if manifest.get("denoiser"):
            denoiser = load_model_file(directory / manifest["denoiser"], compile=compile)
        return cls(descriptor, denoiser)


def read_manifest(path) -> dict:
    """Reads and checks a `pipeline.json` (format version, model file names inside the folder).

    Raises:
        ModelFileError: not a JSON object, or a model entry is not a plain `.keras` file name.
        ConfigError: an unknown `format_version`.
    """
    path = Path(path)
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{str(path)!r} is not valid JSON: {error}") from error
    if not isinstance(manifest, dict):
        raise ModelFileError(f"{str(path)!r} must hold a JSON object. Received: {type(manifest).__name__}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ConfigError(f"`format_version` in {str(path)!r} must be {FORMAT_VERSION}. "
                          f"Received: format_version={manifest.get('format_version')!r}")
    for key, optional in (("descriptor", False), ("denoiser", True)):
        name = manifest.get(key)
        if name is None and optional:
            continue
        if not isinstance(name, str) or Path(name).name != name or not name.endswith(".keras"):
            raise ModelFileError(f"`{key}` in {str(path)!r} must be the name of a .keras file in that folder. "
                                 f"Received: {key}={name!r}")
    return manifest
