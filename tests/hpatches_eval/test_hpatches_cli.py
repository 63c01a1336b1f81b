"""Command line: success path, and one-line exit-2 errors for bad inputs found before any work."""

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np

from hpatches_eval.cli import main
from hpatches_eval.patch_files import patch_count, png_size
from hpatches_eval.patch_types import PATCH_TYPES

REPO = Path(__file__).resolve().parents[2]


def _args(fx, *extra):
    return ["--descriptors", str(fx / "descriptors" / "fixture"), "--tasks", str(fx / "tasks"), "--split", "fx", *extra]


def write_png(path: Path, width: int, height: int) -> None:
    """A valid 8-bit greyscale PNG of zeros."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(width) for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_success_writes_json(official_fixture, tmp_path, capsys):
    out = tmp_path / "res" / "results.json"
    assert main(_args(official_fixture, "--out", str(out))) == 0
    data = json.loads(out.read_text())
    expected = json.loads((official_fixture / "expected_official.json").read_text())
    assert abs(data["summary"]["mean"] - expected["summary"]["mean"]) < 1e-6
    assert "Verification: imbalanced AP" in capsys.readouterr().out
    assert main(["show", str(out)]) == 0 and "Summary (coursework)" in capsys.readouterr().out
    assert main(["--show", str(out)]) == 0


def test_module_entry_point_subprocess(official_fixture, tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "hpatches_eval", *_args(official_fixture, "--task", "matching", "--out", str(out))],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["params"]["tasks"] == ["matching"]


def test_bad_folder_exit_2(official_fixture, capsys):
    assert main(["--descriptors", "/no/such/dir", "--tasks", str(official_fixture / "tasks"), "--split", "fx"]) == 2
    assert "`--descriptors` must be an existing folder" in capsys.readouterr().err
    assert main(_args(official_fixture, "--split", "zz")) == 2
    assert "`split` must be one of ['fx']" in capsys.readouterr().err
    assert main(["--bogus"]) == 2


def test_missing_sequence_exit_2(official_fixture, tmp_path, capsys):
    for path in (official_fixture / "descriptors" / "fixture" / "v_eps").iterdir():
        path.unlink()
    out = tmp_path / "never.json"
    assert main(_args(official_fixture, "--out", str(out))) == 2
    assert "Sequence 'v_eps' is missing from descriptor set" in capsys.readouterr().err
    assert not out.exists()


def test_wrong_row_count_exit_2(official_fixture, capsys):
    csv = official_fixture / "descriptors" / "fixture" / "i_beta" / "h3.csv"
    csv.write_text("".join(csv.read_text().splitlines(keepends=True)[:-2]))
    assert main(_args(official_fixture)) == 2
    err = capsys.readouterr().err
    assert "sequence 'i_beta' type 'h3' (168) differs from its 'ref' (170)" in err
    assert "Traceback" not in err


def test_nan_exit_2(official_fixture, capsys):
    csv = official_fixture / "descriptors" / "fixture" / "v_delta" / "t2.csv"
    lines = csv.read_text().splitlines()
    lines[4] = ",".join(["nan"] + lines[4].split(",")[1:])
    csv.write_text("\n".join(lines) + "\n")
    assert main(_args(official_fixture)) == 2
    assert "'v_delta' type 't2' contain NaN or inf (first at row 4, column 0)" in capsys.readouterr().err


def test_data_dir_row_count_check(official_fixture, tmp_path, capsys):
    fixture = official_fixture / "descriptors" / "fixture"
    data = tmp_path / "dataset"
    for seq in ("i_alpha", "i_beta", "v_gamma", "v_delta", "v_eps"):
        n = len((fixture / seq / "ref.csv").read_text().splitlines())
        for patch_type in PATCH_TYPES:
            write_png(data / "hpatches-release" / seq / f"{patch_type}.png", 65, 65 * n)
    assert main(_args(official_fixture, "--data", str(data), "--task", "matching", "--quiet")) == 0
    write_png(data / "hpatches-release" / "v_gamma" / "ref.png", 65, 65 * 3)
    assert main(_args(official_fixture, "--data", str(data), "--task", "matching")) == 2
    assert "sequence 'v_gamma' type 'ref' have 174 rows but" in capsys.readouterr().err
    assert png_size(data / "hpatches-release" / "v_gamma" / "ref.png") == (65, 195)
    assert patch_count(data / "hpatches-release" / "v_gamma" / "ref.png") == 3


def test_data_root_provides_tasks(official_fixture, tmp_path, capsys):
    data = tmp_path / "root"
    (data / "hpatches-release" / "x").mkdir(parents=True)
    assert main(["--descriptors", str(official_fixture / "descriptors" / "fixture"), "--data", str(data)]) == 2
    assert "pass `--tasks DIR`" in capsys.readouterr().err


def test_semicolon_delimiter(official_fixture, capsys):
    for csv in (official_fixture / "descriptors" / "fixture").rglob("*.csv"):
        values = np.loadtxt(csv, delimiter=",")
        np.savetxt(csv, values, fmt="%10.5f", delimiter=";")
    assert main(_args(official_fixture, "--delimiter", ";", "--task", "retrieval", "--quiet")) == 0
    assert main(_args(official_fixture, "--delimiter", ",", "--task", "retrieval")) == 2
    assert "is not a numeric CSV with delimiter ',' (check the delimiter)" in capsys.readouterr().err
