"""`MetaEmbedding`: the concatenation of several descriptors, each L2-normalised, re-normalised as a whole."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from descriptors.errors import ConfigError
from descriptors.models.pipeline import DescriptorPipeline

MANIFEST = "meta_embedding.json"
FORMAT_VERSION = 1


def _unit_rows(codes):
    codes = np.asarray(codes, np.float32)
    return codes / np.maximum(np.linalg.norm(codes, axis=1, keepdims=True), 1e-12)


class MetaEmbedding:
    """An ensemble descriptor: `concat_i(w_i * unit(f_i(patches)))`, then L2-normalised.

    Usable wherever a descriptor callable is (``hpatches_eval``, `descriptors.evaluation.evaluate_descriptor`).
    With equal weights, squared L2 distances of the result are the mean of the members' squared distances.

    Args:
        members: callables (N, P, P) uint8 -> (N, D_i) (e.g. `DescriptorPipeline`s); at least one.
        weights: optional non-negative weight per member (not all zero). Defaults to 1 each.
        normalize: L2-normalise the concatenation. Defaults to True.

    Raises:
        ConfigError: no members, a non-callable member, or bad weights.

    Shape:
        (N, P, P) or (N, P, P, 1) patches -> float32 (N, sum D_i).
    """

    def __init__(self, members, weights=None, normalize=True):
        members = list(members)
        if not members or not all(callable(m) for m in members):
            raise ConfigError(f"`members` must be a non-empty list of descriptor callables. Received: members={members!r}")
        weights = [1.0] * len(members) if weights is None else [float(w) for w in weights]
        if len(weights) != len(members) or min(weights) < 0 or not sum(weights) > 0:
            raise ConfigError(f"`weights` must be one non-negative number per member, not all 0. Received: weights={weights!r}")
        self.members, self.weights, self.normalize = members, weights, bool(normalize)

    def __call__(self, patches):
        parts = [w * _unit_rows(member(patches)) for member, w in zip(self.members, self.weights)]
        codes = np.concatenate(parts, axis=1)
        return _unit_rows(codes) if self.normalize else codes

    def describe(self, patches, batch_size=512, verbose=False):
        """Same as calling the ensemble, in chunks of ``batch_size`` patches."""
        chunks = [self(patches[i:i + batch_size]) for i in range(0, len(patches), batch_size)]
        return np.concatenate(chunks) if chunks else self(patches)

    def save(self, directory):
        """Writes each member (a `DescriptorPipeline`) to ``member<i>/`` and the manifest, atomically per file.

        Raises:
            TypeError: a member cannot be saved (not a `DescriptorPipeline`).
        """
        directory = Path(directory)
        for index, member in enumerate(self.members):
            if not isinstance(member, DescriptorPipeline):
                raise TypeError(f"`members[{index}]` must be a DescriptorPipeline to be saved. "
                                f"Received: {type(member).__name__}")
        directory.mkdir(parents=True, exist_ok=True)
        names = [f"member{index}" for index in range(len(self.members))]
        for member, name in zip(self.members, names):
            member.save(directory / name)
        manifest = {"format_version": FORMAT_VERSION, "members": names, "weights": self.weights,
                    "normalize": self.normalize}
        tmp = directory / f".tmp-{os.getpid()}-{MANIFEST}"
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(tmp, directory / MANIFEST)
        return directory

    @classmethod
    def load(cls, directory):
        """Reads a folder written by `save`.

        Raises:
            FileNotFoundError: no manifest in ``directory``.
            ConfigError: unknown ``format_version``.
        """
        directory = Path(directory)
        path = directory / MANIFEST
        if not path.is_file():
            raise FileNotFoundError(f"No {MANIFEST} in {str(directory)!r}: not a saved MetaEmbedding")
        manifest = json.loads(path.read_text())
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ConfigError(f"`format_version` in {MANIFEST} must be {FORMAT_VERSION}. "
                              f"Received: format_version={manifest.get('format_version')!r}")
        members = [DescriptorPipeline.load(directory / name) for name in manifest["members"]]
        return cls(members, manifest["weights"], manifest["normalize"])
