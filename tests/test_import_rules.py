"""The dependency direction of the house: checked by scanning the import statements of every module."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STDLIB = set(sys.stdlib_module_names)


def _imported_top_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _function_level_modules(path: Path) -> set[str]:
    """Top modules imported only inside function bodies (not at import time)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nested = set()
    for func in ast.walk(tree):
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested |= _imported_top_modules_of(func)
    module_level = _imported_top_modules_of(ast.Module(body=[n for n in tree.body if not isinstance(
        n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))], type_ignores=[]))
    return nested - module_level


def _imported_top_modules_of(node) -> set[str]:
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Import):
            names.update(alias.name.split(".")[0] for alias in child.names)
        elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
            names.add(child.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", _modules("hpatches_eval"), ids=lambda p: str(p.relative_to(ROOT)))
def test_hpatches_eval_uses_only_numpy_pandas_and_stdlib(path):
    # matplotlib only inside the functions of the plot command (never at import time)
    lazy = {"matplotlib"} & _function_level_modules(path)
    outside = _imported_top_modules(path) - STDLIB - {"numpy", "pandas", "hpatches_eval"} - lazy
    assert not outside, f"{path.relative_to(ROOT)} imports {sorted(outside)}"


@pytest.mark.parametrize("path", _modules("descriptors/data"), ids=lambda p: str(p.relative_to(ROOT)))
def test_data_layer_never_imports_keras(path):
    forbidden = _imported_top_modules(path) & {"keras", "tensorflow", "torch", "jax"}
    assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


@pytest.mark.parametrize(
    "path", _modules("descriptors/models") + _modules("descriptors/losses"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_models_and_losses_are_backend_neutral(path):
    forbidden = _imported_top_modules(path) & {"tensorflow", "torch", "jax"}
    assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"
    source = path.read_text()
    assert "descriptors.training" not in source, f"{path.relative_to(ROOT)} reaches up into training"


def test_splits_are_the_official_ones():
    from hpatches_eval.splits import get_split, load_splits

    splits = load_splits()
    assert sorted(splits) == ["a", "b", "c", "full", "illum", "view"]
    split_a = get_split("a")
    assert len(split_a.test) == 40 and len(split_a.train) == 76
    assert "i_ajuntament" in split_a.test and "v_churchill" in split_a.train
    assert len(splits["full"].test) == 116 and splits["full"].train == ()
    with pytest.raises(ValueError, match=r"Unknown split 'z'.*\['a', 'b', 'c', 'full', 'illum', 'view'\]"):
        get_split("z")


def test_patch_type_mapping_is_the_official_id2t():
    from hpatches_eval.patch_types import PATCH_TYPES, patch_type_for

    assert len(PATCH_TYPES) == 16 and PATCH_TYPES[0] == "ref" and PATCH_TYPES[-1] == "t5"
    assert patch_type_for("h", 0) == "ref" and patch_type_for("t", 3) == "t3"
    with pytest.raises(ValueError, match="`image` must be an integer in 0..5. Received: image=6"):
        patch_type_for("e", 6)
    with pytest.raises(ValueError, match="`level` must be one of"):
        patch_type_for("x", 1)


def test_importing_descriptors_silences_tensorflow_start_up_lines():
    """No `I0000 ... cpu_feature_guard` / oneDNN lines on stderr when a command or notebook imports the package
    (before the fix they appeared on every `python -m descriptors...` call without TF_CPP_MIN_LOG_LEVEL)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", "import descriptors.models.pipeline, tensorflow"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "I0000" not in done.stderr and "cpu_feature_guard" not in done.stderr, done.stderr[-2000:]
