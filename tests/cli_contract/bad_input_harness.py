"""Table-driven bad-input cases for every command line (the contract of `hpatches_eval.cli_contract`).

A case is one command run with bad arguments or inputs. For each the harness asserts:

* the exit status (2 = bad argument/input found before the work, 1 = failure during the work);
* stderr holds exactly one ``<prog>: error: ...`` line, matching the case's regular expression;
* no "Traceback" anywhere in stdout or stderr;
* nothing in the case's temporary tree (inputs, working folder, temp dir, data cache) changed, appeared or
  disappeared, except the paths the case lists in ``may_change``.

Cases run in-process (``module.main(argv)``: TensorFlow is imported once per test worker) with the working folder,
``$TMPDIR`` / ``tempfile.tempdir`` and ``$DESCRIPTORS_DATA_DIR`` inside the case's own tree. A few
cases per command run as real subprocesses (``python -m ...``) to check the entry points too.

Placeholders in ``argv``: ``{tmp}`` is the case's root, ``{in}`` its input folder (``tmp/in``, filled by
``setup``), ``{work}`` the working folder (``tmp/work``, the current directory). ``setup(in_dir)`` creates the
case's inputs and may return extra placeholders.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROGS = {
    "hpatches_eval": "python -m hpatches_eval",
    "hpatches_eval.cli": "python -m hpatches_eval",
    "hpatches_eval.phototour": "python -m hpatches_eval.phototour",
    "descriptors.train": "python -m descriptors.train",
    "descriptors.describe": "python -m descriptors.describe",
    "descriptors.match": "python -m descriptors.match",
    "descriptors.average": "python -m descriptors.average",
    "descriptors.embed": "python -m descriptors.embed",
    "descriptors.data.build": "python -m descriptors.data.build",
    "descriptors.data.brown": "python -m descriptors.data.brown",
    "descriptors.export": "python -m descriptors.export",
    "descriptors.convert": "python -m descriptors.convert",
    "bootstrap": "bootstrap.py",
}


@dataclasses.dataclass
class BadInput:
    """One bad-input case.

    Attributes:
        id: a short unique name (the pytest id).
        module: the command's module, e.g. ``"descriptors.describe"`` (its ``main(argv)`` is called).
        argv: the arguments, with ``{tmp}``, ``{in}``, ``{work}`` and ``setup``'s placeholders.
        exit_code: the expected exit status.
        message: a regular expression that the one error line must match (``re.search``, case-insensitive).
        setup: ``setup(in_dir) -> dict | None`` creates the inputs; its dict adds placeholders.
        may_change: paths (with placeholders) allowed to change, e.g. a stale temp folder the command cleans up.
        subprocess: run ``python -m module`` in a child process instead of in-process.
        env: extra environment variables for the command.
    """

    id: str
    module: str
    argv: list[str]
    exit_code: int
    message: str
    setup: Callable[[Path], dict | None] | None = None
    may_change: tuple[str, ...] = ()
    subprocess: bool = False
    env: dict[str, str] = dataclasses.field(default_factory=dict)


def snapshot(root: Path) -> dict[str, tuple]:
    """``{relative path: (kind, size, mtime_ns)}`` of everything under ``root``."""
    state = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            info = path.lstat()
            kind = "dir" if path.is_dir() and not path.is_symlink() else "file"
            state[str(path.relative_to(root))] = (kind, 0 if kind == "dir" else info.st_size,
                                                  0 if kind == "dir" else info.st_mtime_ns)
    return state


def _format(text: str, values: dict) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


@contextlib.contextmanager
def _isolated(tmp: Path, env: dict):
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_tempdir = tempfile.tempdir
    os.environ.update({"TMPDIR": str(tmp / "systmp"), "DESCRIPTORS_DATA_DIR": str(tmp / "cache"), **env})
    tempfile.tempdir = str(tmp / "systmp")
    os.chdir(tmp / "work")
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        tempfile.tempdir = saved_tempdir
        os.environ.clear()
        os.environ.update(saved_env)


def _run_in_process(case: BadInput, argv: list[str], tmp: Path) -> tuple[int, str, str]:
    if case.module == "bootstrap":
        sys.path.insert(0, str(REPO))
        try:
            module = importlib.import_module("bootstrap")
        finally:
            sys.path.remove(str(REPO))
    else:
        module = importlib.import_module(case.module)
    out, err = io.StringIO(), io.StringIO()
    with _isolated(tmp, case.env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = module.main(argv)
        except SystemExit as exit_:
            status = exit_.code
    return int(status or 0), out.getvalue(), err.getvalue()


def _run_subprocess(case: BadInput, argv: list[str], tmp: Path) -> tuple[int, str, str]:
    env = {**os.environ, "TMPDIR": str(tmp / "systmp"), "DESCRIPTORS_DATA_DIR": str(tmp / "cache"),
           "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3", **case.env}
    command = ([sys.executable, str(REPO / "bootstrap.py")] if case.module == "bootstrap"
               else [sys.executable, "-m", case.module])
    done = subprocess.run(command + argv, cwd=tmp / "work", env=env, capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout, done.stderr


def run_case(case: BadInput, tmp: Path) -> None:
    """Runs one case in ``tmp`` and asserts the contract (see the module docstring)."""
    for name in ("in", "work", "systmp", "cache"):
        (tmp / name).mkdir(parents=True, exist_ok=True)
    values = {"tmp": tmp, "in": tmp / "in", "work": tmp / "work"}
    if case.setup is not None:
        values.update(case.setup(tmp / "in") or {})
    argv = [_format(arg, values) for arg in case.argv]
    before = snapshot(tmp)
    runner = _run_subprocess if case.subprocess else _run_in_process
    status, stdout, stderr = runner(case, argv, tmp)
    after = snapshot(tmp)
    report = f"\nargv={argv}\nstatus={status}\nstdout={stdout[-2000:]}\nstderr={stderr[-3000:]}"
    assert "Traceback" not in stdout + stderr, f"[{case.id}] printed a traceback{report}"
    prog = PROGS[case.module]
    error_lines = [line for line in stderr.splitlines() if line.startswith(f"{prog}: error: ")]
    assert len(error_lines) == 1, f"[{case.id}] expected exactly one '{prog}: error:' line{report}"
    assert re.search(case.message, error_lines[0], re.IGNORECASE), (
        f"[{case.id}] error line does not match {case.message!r}{report}")
    assert status == case.exit_code, f"[{case.id}] exit status {status}, expected {case.exit_code}{report}"
    allowed = [_format(path, values) for path in case.may_change]
    allowed = [str(Path(path).relative_to(tmp)) if Path(path).is_absolute() else path for path in allowed]

    def _free(path: str) -> bool:
        return any(path == a or path.startswith(a + os.sep) for a in allowed)

    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p) and not _free(p))
    assert not changed, f"[{case.id}] changed or left behind: {changed[:20]}{report}"
