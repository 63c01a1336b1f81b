"""CI check: the pinned GPU set (requirements-gpu.txt) resolves on PyPI with every pin as written, no conflict.

Runs ``pip install --dry-run --ignore-installed --report`` (nothing is installed; pip reads the packages' metadata
from the index) with the project's venv and checks the report: every ``name==version`` line of the file resolved to
that version, the CPU build ``tensorflow-cpu`` is absent, TensorFlow's CUDA libraries are in. Needs the network
(PyPI); never needs a GPU. Exit 0 ok, 1 with one line naming what is wrong.

Usage: ``.venv/bin/python .ci/check_gpu_requirements.py [--requirements requirements-gpu.txt]``
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^\s;#]+)")


def pins(path: Path) -> dict[str, str]:
    """``{normalised name: version}`` of the ``name[extras]==version`` lines of a requirements file."""
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(3)
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", type=Path, default=ROOT / "requirements-gpu.txt")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                               "--disable-pip-version-check", "--report", str(report_path), "-r",
                               str(args.requirements)], capture_output=True, text=True)
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if "is ignored" not in line]
            print(f"check_gpu_requirements: error: {args.requirements.name} does not resolve: "
                  f"{' '.join(' '.join(lines[-6:]).split())}", file=sys.stderr)
            return 1
        report = json.loads(report_path.read_text())
    resolved = {re.sub(r"[-_.]+", "-", item["metadata"]["name"]).lower(): item["metadata"]["version"]
                for item in report["install"]}
    wanted = pins(args.requirements)
    wrong = {name: (version, resolved.get(name)) for name, version in wanted.items()
             if resolved.get(name, "").split("+")[0] != version.split("+")[0]}
    problems = [f"{name}: pinned {pin}, resolved {got}" for name, (pin, got) in sorted(wrong.items())]
    if "tensorflow-cpu" in resolved:
        problems.append("tensorflow-cpu is in the GPU set")
    cuda = sorted(name for name in resolved if name.startswith("nvidia-"))
    if not cuda:
        problems.append("no nvidia-* CUDA library resolved (tensorflow[and-cuda] lost its extra?)")
    if problems:
        print(f"check_gpu_requirements: error: {'; '.join(problems)}", file=sys.stderr)
        return 1
    print(f"{args.requirements.name}: {len(resolved)} packages resolve, all {len(wanted)} pins as written, "
          f"{len(cuda)} CUDA libraries (tensorflow {resolved.get('tensorflow')}, jax {resolved.get('jax')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
