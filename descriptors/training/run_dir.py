"""The run folder of a training run: its default name and the checks before a run starts or resumes in it.

A run folder is either new (or empty), or one this tool wrote: it carries the marker ``.patch-descriptors.json``
of kind ``"run"`` (folders written before markers existed are recognised by their ``config.json`` /
``state.json``). Anything else is refused before any work, so a run never writes into an unrelated folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from descriptors.errors import ConfigError
from descriptors.training.checkpoints import RunFolderError, RunState, atomic_write_text
from hpatches_eval.output_safety import (MARKER, check_not_overlapping, check_writable_location, folder_kind,
                                         read_marker, write_marker)

RESUME_IGNORED = ("resume", "verbose", "evaluate", "output_dir", "memory_map")  # options that do not change a run's results
RUN_KIND = "run"
LEGACY_RUN_MARKERS = {"config.json": RUN_KIND, "state.json": RUN_KIND}
WHAT = "--output-dir"


def hashed_run_dir(config, prefix: str) -> Path:
    """``runs/<prefix>-<hash of every result-affecting option of config>`` (config: a ``ConfigIO`` dataclass)."""
    values = {k: v for k, v in config.to_dict().items() if k not in RESUME_IGNORED}
    digest = hashlib.sha1(json.dumps(values, sort_keys=True).encode()).hexdigest()[:8]
    return Path("runs") / f"{prefix}-{digest}"


def _saved_config(path: Path, run_dir: Path) -> dict:
    try:
        previous = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise RunFolderError(f"Cannot resume the run in {str(run_dir)!r}: {str(path)!r} is not valid JSON "
                             f"({' '.join(str(error).split())}). Start a new run (another --output-dir).") from error
    if not isinstance(previous, dict):
        raise RunFolderError(f"Cannot resume the run in {str(run_dir)!r}: {str(path)!r} must hold a JSON object. "
                             f"Received: {type(previous).__name__}")
    return previous


def check_run_dir(config, default: Path, inputs: Iterable = ()) -> Path:
    """Checks the run folder (``config.output_dir``, else ``default``) before any work; writes nothing.

    Args:
        config: a ``ConfigIO`` dataclass with ``output_dir`` and ``resume``.
        default: the folder used when ``config.output_dir`` is None.
        inputs: the run's input paths; the run folder may not equal, lie inside or contain any of them.

    Returns:
        The run folder.

    Raises:
        ConfigError: the folder already holds a run and ``config.resume`` is False, is resumed with
            result-affecting options that differ from the saved ones (each named with both values), or is not
            a run folder of this tool.
        RunFolderError: resuming a folder whose ``config.json``, ``state.json`` or a checkpoint is damaged.
        hpatches_eval.cli_contract.UsageError: the folder overlaps an input or cannot be written.
    """
    run_dir = Path(config.output_dir) if config.output_dir else Path(default)
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"`{WHAT}` must be a folder, but {str(run_dir)!r} is an existing file.")
    check_not_overlapping(run_dir, inputs, WHAT)
    if run_dir.is_dir() and any(run_dir.iterdir()):
        kind = folder_kind(run_dir, LEGACY_RUN_MARKERS)
        if kind is None:
            raise ConfigError(f"`{WHAT}` {str(run_dir)!r} already exists and is not a run folder of this tool (no "
                              f"{MARKER}, config.json or state.json); refusing to write into it: choose a new folder.")
        if kind != RUN_KIND:
            raise ConfigError(f"`{WHAT}` {str(run_dir)!r} holds a {kind}, not a training run; refusing to write "
                              "into it: choose a new folder.")
    saved, state = run_dir / "config.json", run_dir / "state.json"
    if not config.resume and state.exists():
        raise ConfigError(f"{run_dir} already holds a run: pass --resume to continue it or choose --output-dir.")
    if saved.is_file():
        previous = _saved_config(saved, run_dir)
        changed = sorted(k for k, v in config.to_dict().items() if k not in RESUME_IGNORED and previous.get(k) != v)
        if changed:
            raise ConfigError(
                f"Cannot resume {run_dir} with different options {changed}: the run was started with "
                + ", ".join(f"{k}={previous.get(k)!r}" for k in changed)
            )
    if config.resume:
        RunState(run_dir).check_files()
    check_writable_location(run_dir / saved.name, WHAT)
    return run_dir


def prepare_run_dir(config, default: Path, inputs: Iterable = ()) -> Path:
    """`check_run_dir`, then creates the folder, marks it as a run folder and saves the config in it."""
    run_dir = check_run_dir(config, default, inputs)
    run_dir.mkdir(parents=True, exist_ok=True)
    if read_marker(run_dir) is None:
        write_marker(run_dir, RUN_KIND)
    atomic_write_text(run_dir / "config.json", json.dumps(config.to_dict(), indent=2))
    return run_dir


@contextlib.contextmanager
def discarded_on_config_error(run_dir: str | Path) -> Iterator[None]:
    """Removes a run folder this call is about to create when a ConfigError ends the run before its first epoch.

    An option that only the model build can check (e.g. an input too small for a backbone) is still a bad
    argument (exit 2), and a bad argument leaves nothing behind: the folder, and the parents the run created for
    it, are removed unless a checkpoint (``state.json``) was written.
    """
    run_dir = Path(run_dir)
    top = None
    for candidate in (run_dir, *run_dir.parents):
        if candidate.exists():
            break
        top = candidate
    try:
        yield
    except ConfigError:
        if top is not None and not (run_dir / "state.json").exists():
            shutil.rmtree(top, ignore_errors=True)
        raise
