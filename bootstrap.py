"""One-command set-up for a fresh machine: `python3 bootstrap.py train` or `python3 bootstrap.py test`.

Needs only Python >= 3.10 and pip. Creates `.venv/` next to this file if it is missing, installs the pinned
`requirements.txt` plus this project in editable mode, and records a stamp (a hash of the requirement files) so a
second call installs nothing. Then it runs the requested job inside that environment:

    python3 bootstrap.py train [FLAGS...]   # python -m descriptors.train on the offline default data
    python3 bootstrap.py test  [PYTEST ARGS] # the test suite
    python3 bootstrap.py bench [ARGS...]     # the benchmark scripts (benchmarks/run_all.py)
    python3 bootstrap.py install             # only the installation step

The pinned set is `requirements.txt` (CPU builds) or, when `nvidia-smi` lists an NVIDIA GPU,
`requirements-gpu.txt` (the same pins with TensorFlow's and JAX's CUDA builds). `--cpu` or `--gpu` before the job
chooses the set whatever the machine has (`python3 bootstrap.py --gpu train`); switching sets reinstalls once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed-requirements"
JOBS = ("install", "train", "test", "bench")
DEVICE_SETS = {"cpu": "requirements.txt", "gpu": "requirements-gpu.txt"}
# What a switch to a set must remove first (the other set's TensorFlow build owns the same `tensorflow` package).
REMOVE_BEFORE = {"cpu": ["tensorflow", "jax-cuda12-plugin", "jax-cuda12-pjrt"], "gpu": ["tensorflow-cpu"]}


def _venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def _requirements_hash(device_set: str = "cpu") -> str:
    digest = hashlib.sha256()
    for name in (DEVICE_SETS[device_set], "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return f"{device_set}:{digest.hexdigest()}"


def nvidia_gpu_present() -> bool:
    """True when `nvidia-smi -L` runs and lists at least one GPU."""
    if shutil.which("nvidia-smi") is None:
        return False
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return listing.returncode == 0 and "GPU" in listing.stdout


def device_set(choice: str | None) -> str:
    """"cpu" or "gpu": the ``--cpu`` / ``--gpu`` choice, else "gpu" when an NVIDIA GPU is present."""
    if choice is not None:
        return choice
    return "gpu" if nvidia_gpu_present() else "cpu"


def _create_venv() -> None:
    print(f"[bootstrap] creating virtual environment in {VENV}", flush=True)
    try:
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    except Exception as error:  # ensurepip missing on some distributions: fall back to virtualenv.
        print(f"[bootstrap] venv failed ({error}); trying virtualenv", flush=True)
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--user", "virtualenv==20.29.3"])
        subprocess.check_call([sys.executable, "-m", "virtualenv", str(VENV)])


def install(choice: str | None = None) -> Path:
    """Creates the environment and installs the pinned requirements of the device set (``choice``, else
    detected) unless the stamp says they are there."""
    python = _venv_python()
    if not python.exists():
        _create_venv()
    chosen = device_set(choice)
    wanted = _requirements_hash(chosen)
    installed = STAMP.read_text().strip() if STAMP.exists() else ""
    if installed == wanted:
        return python
    log = VENV / "pip-install.log"
    size = "about 3.7 GB" if chosen == "cpu" else "about 10 GB with the CUDA libraries"
    print(f"[bootstrap] installing the pinned {chosen.upper()} set ({DEVICE_SETS[chosen]}) into .venv (once; {size} "
          f"on disk; pip prints only errors, its full log goes to {log.relative_to(ROOT)}, BOOTSTRAP_PIP_VERBOSE=1 "
          "prints everything)", flush=True)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--log", str(log)]
    if not os.environ.get("BOOTSTRAP_PIP_VERBOSE"):
        pip.append("--quiet")
    subprocess.check_call(pip + ["--upgrade", "pip==26.3", "setuptools==80.9.0", "wheel==0.45.1"])
    other = installed.split(":", 1)[0]
    if other in DEVICE_SETS and other != chosen:  # switching sets: the other TensorFlow build goes first
        subprocess.check_call([str(python), "-m", "pip", "uninstall", "--yes", "--quiet", *REMOVE_BEFORE[chosen]])
    subprocess.check_call(pip + ["-r", str(ROOT / DEVICE_SETS[chosen])])
    # setuptools warns on every editable install that a folder named like the package may shadow it: here that
    # folder is the package itself, so the warning says nothing (it would only clutter the log).
    quiet_backend = {**os.environ, "PYTHONWARNINGS": "ignore:Editable installation"}
    subprocess.check_call(pip + ["--no-deps", "--no-build-isolation", "-e", str(ROOT)], env=quiet_backend)
    STAMP.write_text(wanted)
    return python


def _error(message: str) -> None:
    print(f"bootstrap.py: error: {' '.join(str(message).split())}", file=sys.stderr, flush=True)


def _run(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    choice = None
    while argv[:1] and argv[0] in ("--cpu", "--gpu"):
        if choice is not None and choice != argv[0][2:]:
            _error("pass one of --cpu and --gpu, not both")
            return 2
        choice, argv = argv[0][2:], argv[1:]
    if not argv or argv[0] not in JOBS:
        _error(f"the first argument must be one of {JOBS} (see `python3 bootstrap.py --help`). "
               f"Received: {argv[0] if argv else 'nothing'!r}")
        return 2
    job, rest = argv[0], argv[1:]
    if job == "install" and rest:
        _error(f"`install` takes no further arguments. Received: {rest}")
        return 2
    python = str(install(choice))
    env = dict(os.environ)
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if job == "install":
        return 0
    if job == "train":
        command = [python, "-m", "descriptors.train", *rest]
    elif job == "test":
        command = [python, "-m", "pytest", *rest]
    else:
        command = [python, str(ROOT / "benchmarks" / "run_all.py"), *rest]
    return subprocess.call(command, cwd=ROOT, env=env)


def main(argv: list[str] | None = None) -> int:
    """Runs a job; returns its exit status (2 bad arguments, 1 installation failure, 130 interrupted).

    The contract of every command of this project (one line on stderr, no traceback) is kept here without
    importing the project, which is not installed yet when this runs.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _run(argv)
    except subprocess.CalledProcessError as error:
        _error(f"installation step failed with exit status {error.returncode}: {' '.join(map(str, error.cmd))} "
               "(its output is above; rerun to retry, the installation is idempotent)")
        return 1
    except OSError as error:
        _error(f"{error.strerror or error}: {error.filename or VENV}")
        return 1
    except KeyboardInterrupt:
        _error("interrupted; rerun the same command to continue (the installation is idempotent)")
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
