"""``python -m hpatches_eval plot``: the HPatches-paper figure, checked by reading the PNG back."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hpatches_eval import evaluate, from_arrays, from_csv_dir
from hpatches_eval.cli import main
from hpatches_eval.multi_split import MultiSplitResults, read_results_json
from hpatches_eval.plots import LEVEL_COLORS, figure_entry, plot_results

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "official-eval"
REPO = Path(__file__).resolve().parents[2]
BAR = (0x7F / 255, 0x9F / 255, 0xC9 / 255)


@pytest.fixture(scope="module")
def result_files(tmp_path_factory):
    """Three results files on the fixture: descriptor A (one split), B (noisier), A+B as a two-split result."""
    folder = tmp_path_factory.mktemp("results")
    base = from_csv_dir(FIXTURE / "descriptors" / "fixture", name="desc-A")
    rng = np.random.default_rng(0)
    noisy = {(seq, tp): arr + rng.normal(scale=1.0, size=arr.shape).astype(np.float32)
             for seq in base.sequences for tp, arr in base.sequence(seq).items()}
    with pytest.warns(Warning):
        a = evaluate(base, tasks_dir=FIXTURE / "tasks", split="fx")
        b = evaluate(from_arrays(noisy, name="desc-B"), tasks_dir=FIXTURE / "tasks", split="fx")
    paths = {"A": a.save(folder / "a.json"), "B": b.save(folder / "b.json")}
    multi = MultiSplitResults({"x": a, "y": b}, ["x", "y"], {"descriptor": "desc-AB", "distance": "L2"})
    paths["AB"] = multi.save(folder / "ab.json")
    return paths, a, b


def _read_png(path):
    import matplotlib.image

    return matplotlib.image.imread(str(path))[..., :3]


def _has_colour(part, rgb, tol=0.02):
    return bool((np.abs(part - np.asarray(rgb)).max(axis=-1) < tol).any())


def test_figure_entries_hold_the_summary_and_the_levels(result_files):
    paths, a, b = result_files
    entry = figure_entry(read_results_json(paths["A"]), "A")
    assert entry["bars"] == {k: a.summary[k] for k in ("verification", "matching", "retrieval")}
    assert entry["cells"]["verif_t_intra_ap"] == pytest.approx(a.verification_ap.loc["t", "intra"], abs=1e-15)
    views = a.matching.query("level == 'h' and seq.str.startswith('v_')")["ap"].mean()
    assert entry["cells"]["match_h_v_map"] == pytest.approx(views, abs=1e-12)
    multi = figure_entry(read_results_json(paths["AB"]), "AB")
    for task in ("verification", "matching", "retrieval"):
        assert multi["bars"][task] == pytest.approx((a.summary[task] + b.summary[task]) / 2, abs=1e-12)
        assert multi["errors"][task] == pytest.approx(abs(a.summary[task] - b.summary[task]) / np.sqrt(2), abs=1e-12)
    assert a.summary["mean"] > b.summary["mean"] + 0.01  # the noisy descriptor is worse: bars differ


def test_plot_command_draws_three_non_blank_panels(result_files, tmp_path, capsys):
    paths, _, _ = result_files
    out = tmp_path / "figs" / "fig.png"
    out.parent.mkdir()
    out.write_bytes(b"old figure")  # replaced by a complete figure
    assert main(["plot", str(paths["A"]), str(paths["B"]), str(paths["AB"]), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"Figure written to {out}" in err and "different splits" in err  # fx vs x,y
    assert [p.name for p in out.parent.iterdir()] == ["fig.png"]  # no staging file left
    image = _read_png(out)
    assert image.shape == (int(round((1.6 + 0.45 * 3) * 100)), 1500, 3)
    width = image.shape[1]
    for k in range(3):
        part = image[:, k * width // 3:(k + 1) * width // 3]
        assert part.var() > 0.01, f"panel {k} looks blank"
        assert _has_colour(part, BAR), f"panel {k} has no bars"
        for level, colour in LEVEL_COLORS.items():
            rgb = tuple(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
            assert _has_colour(part, rgb, tol=0.06), f"panel {k} has no {level} markers"


def test_failed_draw_keeps_the_old_file(result_files, tmp_path, monkeypatch):
    import matplotlib.figure

    paths, _, _ = result_files
    out = tmp_path / "fig.png"
    out.write_bytes(b"old figure")

    def boom(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        plot_results([figure_entry(read_results_json(paths["A"]), "A")], out)
    assert out.read_bytes() == b"old figure" and [p.name for p in tmp_path.iterdir()] == ["fig.png"]
    assert main(["plot", str(paths["A"]), "--out", str(out)]) == 1


def test_importing_the_package_never_loads_matplotlib():
    code = ("import sys, hpatches_eval, hpatches_eval.cli, hpatches_eval.plots, hpatches_eval.multi_split; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.replace("'", '"')) == []
