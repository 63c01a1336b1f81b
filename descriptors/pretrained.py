"""The shipped default model: a `DescriptorPipeline` trained by `python -m descriptors.train` (no download).

The folder ``descriptors/weights/default/`` holds ``pipeline.json``, ``descriptor.keras`` (and ``denoiser.keras``
when the recipe has one) plus ``recipe.json`` with the exact command, configuration and scores that made it.
"""

from __future__ import annotations

import json
from pathlib import Path

DEFAULT_PIPELINE_DIR = Path(__file__).resolve().parent / "weights" / "default"


def load_default_pipeline():
    """Loads the shipped default `DescriptorPipeline`.

    Raises:
        FileNotFoundError: if the package was installed without its weights.
    """
    from descriptors.models.pipeline import DescriptorPipeline

    if not (DEFAULT_PIPELINE_DIR / "pipeline.json").is_file():
        raise FileNotFoundError(f"The default model is missing from {DEFAULT_PIPELINE_DIR}; reinstall the package.")
    return DescriptorPipeline.load(DEFAULT_PIPELINE_DIR)


def default_recipe() -> dict:
    """The command, configuration and scores recorded with the shipped model."""
    return json.loads((DEFAULT_PIPELINE_DIR / "recipe.json").read_text())
