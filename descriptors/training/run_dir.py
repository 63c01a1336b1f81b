"""The run folder of a training run: its default name and the checks before a run starts or resumes in it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from descriptors.errors import ConfigError
from descriptors.training.checkpoints import atomic_write_text

RESUME_IGNORED = ("resume", "verbose", "evaluate", "output_dir")  # options that do not change a run's results


def hashed_run_dir(config, prefix: str) -> Path:
    """``runs/<prefix>-<hash of every result-affecting option of config>`` (config: a ``ConfigIO`` dataclass)."""
    values = {k: v for k, v in config.to_dict().items() if k not in RESUME_IGNORED}
    digest = hashlib.sha1(json.dumps(values, sort_keys=True).encode()).hexdigest()[:8]
    return Path("runs") / f"{prefix}-{digest}"


def prepare_run_dir(config, default: Path) -> Path:
    """Creates the run folder (``config.output_dir``, else ``default``) and saves the config in it.

    Raises:
        ConfigError: the folder already holds a run and ``config.resume`` is False, or it is resumed with
            result-affecting options that differ from the saved ones (each named with both values).
    """
    run_dir = Path(config.output_dir) if config.output_dir else Path(default)
    saved = run_dir / "config.json"
    if saved.is_file():
        previous = json.loads(saved.read_text())
        if not config.resume and (run_dir / "state.json").is_file():
            raise ConfigError(f"{run_dir} already holds a run: pass --resume to continue it or choose --output-dir.")
        changed = sorted(k for k, v in config.to_dict().items() if k not in RESUME_IGNORED and previous.get(k) != v)
        if changed:
            raise ConfigError(
                f"Cannot resume {run_dir} with different options {changed}: the run was started with "
                + ", ".join(f"{k}={previous.get(k)!r}" for k in changed)
            )
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(saved, json.dumps(config.to_dict(), indent=2))
    return run_dir
