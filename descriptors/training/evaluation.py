"""The end-of-run evaluation: the trained pipeline on the split's test sequences, results.json in the run."""

from __future__ import annotations

from descriptors.evaluation import evaluate_descriptor
from descriptors.models.pipeline import DescriptorPipeline


def evaluate_run(result, data) -> tuple[dict, list]:
    """Evaluates ``result`` (a `RunResult`) on ``data`` (a `TrainingData`).

    Returns:
        (the coursework summary, the evaluation's flags: ``[{"code", "message", ...}]``, also in results.json).

    The test patches are the config's ``eval_inputs`` (noisy by default, as the N-HPatches rules require).
    """
    pipeline = DescriptorPipeline(result.descriptor, denoiser=result.denoiser)
    results = evaluate_descriptor(
        pipeline, data.source(result.config.eval_inputs), data.split, tasks_dir=data.tasks_dir,
        name=result.run_dir.name, out_json=result.run_dir / "results.json", verbose=bool(result.config.verbose),
    )
    return dict(results.summary), list(results.flags)
