"""`pip install .` declares every command line of the README as an entry point, each resolving to a `main`."""

import importlib
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_readme_command_has_an_entry_point_that_resolves():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    targets = {}
    for name, target in scripts.items():
        module, function = target.split(":")
        assert callable(getattr(importlib.import_module(module), function)), name
        targets[module.removesuffix(".cli")] = name
    readme = (ROOT / "README.md").read_text()
    commands = set(re.findall(r"python -m ((?:descriptors|hpatches_eval)[\w.]*)", readme))
    missing = sorted(command for command in commands if command not in targets)
    assert not missing, f"README commands without an entry point in pyproject.toml: {missing}"


def test_runtime_imports_are_declared():
    dependencies = " ".join(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    for package in ("keras", "numpy", "pandas", "opencv-python-headless", "scikit-image", "scikit-learn", "tqdm"):
        assert package in dependencies, package
