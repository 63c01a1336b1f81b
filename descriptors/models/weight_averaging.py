"""Weight averaging ("model soup") of saved pipelines fine-tuned from the same starting point.

Fine-tunes of one model (different seeds, learning rates, a joint stage) usually stay in one basin of the loss,
where the element-wise mean of their weights is itself a good model, often better than each of them
(Wortsman et al., "Model soups", ICML 2022; Izmailov et al., "Averaging weights leads to wider optima", 2018).
Unlike an ensemble (`MetaEmbedding`), the result costs exactly one model at inference.

Floating-point variables are averaged, BatchNorm moving statistics included (they are not recomputed);
integer variables (e.g. random-seed states) are taken from the first pipeline. Averaging models trained from
different initialisations gives a broken network: only average fine-tunes of one model.
"""

from __future__ import annotations

import numpy as np

from descriptors.errors import ConfigError
from descriptors.models.pipeline import DescriptorPipeline


def _describe(model) -> str:
    return type(model).__name__ if model is not None else "no model"


def _architecture(model) -> dict:
    config = dict(model.get_config())
    config.pop("name", None)  # the layer name is not the architecture
    return config


def _check_same_architecture(pipelines, names, part):
    first = getattr(pipelines[0], part)
    for pipeline, name in zip(pipelines[1:], names[1:]):
        other = getattr(pipeline, part)
        if (first is None) != (other is None) or (
            first is not None and (type(first) is not type(other) or _architecture(first) != _architecture(other))
        ):
            raise ConfigError(
                f"Only pipelines of one architecture can be averaged: the {part} of {name!r} "
                f"({_describe(other)}) differs from that of {names[0]!r} ({_describe(first)})."
            )


def _average_model(models, weights):
    """Sets the first model's variables to the weighted mean of all models' (float variables only)."""
    target = models[0]
    averaged = []
    for values in zip(*(m.get_weights() for m in models)):
        if np.issubdtype(values[0].dtype, np.floating):
            stacked = np.stack([np.asarray(v, np.float64) for v in values])
            averaged.append(np.tensordot(weights, stacked, axes=1).astype(values[0].dtype))
        else:
            averaged.append(values[0])
    target.set_weights(averaged)
    return target


def average_pipelines(pipelines, weights=None, names=None) -> DescriptorPipeline:
    """The weighted mean of the denoiser and descriptor weights of several pipelines of one architecture.

    Args:
        pipelines: at least two `DescriptorPipeline`s with the same descriptor (and denoiser) class and config.
            The first one's models are updated in place and returned inside the result.
        weights: one non-negative weight per pipeline, not all zero, normalised to sum to 1.
            Defaults to equal weights (a uniform soup).
        names: labels for the error messages (e.g. the folders). Defaults to "pipeline 0", "pipeline 1", ...

    Returns:
        A `DescriptorPipeline` whose every floating-point variable is the weighted mean of the inputs'.

    Raises:
        ConfigError: fewer than two pipelines, bad weights, or pipelines of different architectures.
    """
    pipelines = list(pipelines)
    if len(pipelines) < 2:
        raise ConfigError(f"Averaging needs at least two pipelines. Received: {len(pipelines)}")
    names = list(names) if names is not None else [f"pipeline {i}" for i in range(len(pipelines))]
    if weights is None:
        weights = np.full(len(pipelines), 1.0 / len(pipelines))
    else:
        weights = np.asarray(weights, np.float64)
        if weights.shape != (len(pipelines),) or not np.all(np.isfinite(weights)) or np.any(weights < 0) \
                or weights.sum() <= 0:
            raise ConfigError(f"`weights` must be {len(pipelines)} non-negative numbers, not all zero. "
                              f"Received: weights={weights.tolist()}")
        weights = weights / weights.sum()
    for part in ("descriptor", "denoiser"):
        _check_same_architecture(pipelines, names, part)
    descriptor = _average_model([p.descriptor for p in pipelines], weights)
    denoiser = None
    if pipelines[0].denoiser is not None:
        denoiser = _average_model([p.denoiser for p in pipelines], weights)
    return DescriptorPipeline(descriptor, denoiser=denoiser)


def load_and_average(folders, weights=None) -> DescriptorPipeline:
    """`average_pipelines` over saved pipeline folders (see `DescriptorPipeline.load`)."""
    folders = [str(folder) for folder in folders]
    return average_pipelines([DescriptorPipeline.load(f) for f in folders], weights, names=folders)
