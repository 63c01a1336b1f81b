"""Every notebook in notebooks/ runs top to bottom in QUICK mode without a cell error.

Each notebook is executed from a temporary copy (the committed file, with its saved outputs, is never rewritten)
by nbclient with the kernel of the interpreter running the tests, the repository root as working directory and
its first code cell replaced by ``QUICK = True``.
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path

import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 300


def quick_copy(path: Path):
    """The notebook with its outputs cleared and its first code cell (the parameter cell) set to QUICK = True."""
    book = copy.deepcopy(nbformat.read(path, as_version=4))
    code = [cell for cell in book.cells if cell.cell_type == "code"]
    if not code or not code[0].source.lstrip().startswith("QUICK"):
        raise ValueError(f"The first code cell of {path.name} must be the parameter cell `QUICK = ...`. "
                         f"Received: {code[0].source[:60] if code else None!r}")
    code[0].source = "QUICK = True"
    for cell in code:
        cell.outputs, cell.execution_count = [], None
    return book


def kernel_manager(spec_root: Path):
    """A kernel manager for this interpreter's ipykernel, from a kernel spec written under ``spec_root`` (nothing
    is registered globally, and a ``python3`` spec installed elsewhere on the machine is not used)."""
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    write_kernel_spec(path=str(spec_root / "python3"))  # kernel.json runs sys.executable -m ipykernel_launcher
    specs = KernelSpecManager(kernel_dirs=[str(spec_root)], ensure_native_kernel=False)
    return KernelManager(kernel_name="python3", kernel_spec_manager=specs)


def execute(book, cwd: Path, spec_root: Path):
    client = nbclient.NotebookClient(book, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}}, km=kernel_manager(spec_root))
    return client.execute()


def test_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == ["01_quickstart.ipynb", "02_denoiser.ipynb", "03_losses_and_mining.ipynb",
                                           "04_benchmark_report.ipynb", "05_embeddings.ipynb",
                                           "06_papers_benchmarks.ipynb", "07_image_embeddings.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_quick(path, default_dataset_root, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "tensorflow"))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    before = path.read_bytes()
    start = time.perf_counter()
    book = execute(quick_copy(path), ROOT, tmp_path / "kernels")
    elapsed = time.perf_counter() - start
    errors = [out for cell in book.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    assert errors == []
    assert path.read_bytes() == before  # the committed notebook is untouched
    last = book.cells[-1]
    assert any("notebook ran in" in out.get("text", "") for out in last.outputs), last.outputs
    print(f"{path.name}: {elapsed:.1f} s")
