"""A real package: the wheel builds, installs into a fresh venv and runs there, away from the repository.

The fresh venv gets the wheel with `pip install --no-deps` (no editable install, the working folder outside the
repository, no PYTHONPATH); its dependencies come from the project's `.venv` through a `.pth` line (installing
TensorFlow again would cost minutes and 2 GB). A plain path line does not run the `.pth` files of that folder, so
the editable install of `.venv` stays inactive and `descriptors` can only come from the wheel (checked).
"""

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("descriptors", "hpatches_eval")
# Import name -> distribution name, where they differ.
DISTRIBUTIONS = {"cv2": "opencv-python-headless", "skimage": "scikit-image", "sklearn": "scikit-learn",
                 "tensorflow": "tensorflow-cpu", "ai_edge_litert": "ai-edge-litert"}


def _third_party_imports():
    """Top-level names of every module imported anywhere in the two packages that is neither stdlib nor ours."""
    names = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return sorted(names - set(sys.stdlib_module_names) - set(PACKAGES))


def _requirement_name(requirement):
    for stop in "<>=!~[; ":
        requirement = requirement.split(stop)[0]
    return requirement.strip().lower()


def test_every_import_is_a_declared_dependency_or_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {_requirement_name(r) for r in project["dependencies"]}
    extras = {_requirement_name(r) for group in project["optional-dependencies"].values() for r in group}
    imports = _third_party_imports()
    assert {"keras", "numpy", "cv2", "torch", "onnxruntime"} <= set(imports)  # the scan sees them
    missing = [name for name in imports if DISTRIBUTIONS.get(name, name).lower() not in core | extras]
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv holding the built wheel; returns (venv bin folder, scratch folder outside the repository)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(dist), str(source)], check=True, cwd=tmp, capture_output=True)
    wheels = list(dist.glob("patch_descriptors-*.whl"))
    assert len(wheels) == 1
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    str(wheels[0])], check=True, cwd=tmp, capture_output=True)
    site = subprocess.run([str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "project-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    work = tmp / "work"
    work.mkdir()
    return bin_dir, work


def _run(installed, argv, **kwargs):
    bin_dir, work = installed
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2", PATH=f"{bin_dir}{os.pathsep}{env['PATH']}")
    return subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=300, **kwargs)


def test_packages_come_from_the_wheel(installed):
    bin_dir, _ = installed
    result = _run(installed, [str(bin_dir / "python"), "-c", "import descriptors, hpatches_eval, "
                              "descriptors.weights; print(descriptors.__file__); print(hpatches_eval.__file__)"])
    assert result.returncode == 0, result.stderr
    for line in result.stdout.split():
        assert str(bin_dir.parent) in line and str(ROOT) not in line


def test_every_entry_point_answers_help(installed):
    bin_dir, _ = installed
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    processes = {name: subprocess.Popen([str(bin_dir / name), "--help"], cwd=installed[1], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True) for name in scripts}
    for name, process in processes.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, (name, err[-500:])
        assert out.startswith("usage: "), (name, out[:200])
        assert "Traceback" not in err, name


def test_describe_with_the_shipped_weights(installed):
    """`descriptors-describe` on a 3-patch HPatches-format PNG with the packaged model: the same descriptors as the
    repository's pipeline computes in this process."""
    bin_dir, work = installed
    rng = np.random.default_rng(0)
    patches = rng.integers(0, 256, (3, 65, 65), dtype=np.uint8)
    cv2.imwrite(str(work / "patches.png"), patches.reshape(3 * 65, 65))
    result = _run(installed, [str(bin_dir / "descriptors-describe"), "patches.png", "--out", "d.csv"])
    assert result.returncode == 0, result.stderr[-1000:]
    got = np.loadtxt(work / "d.csv", delimiter=",", ndmin=2)
    from descriptors.pretrained import load_default_pipeline

    expected = load_default_pipeline().describe(patches, verbose=False)
    assert got.shape == (3, 128)
    np.testing.assert_allclose(got, expected, atol=1e-6, rtol=0)
