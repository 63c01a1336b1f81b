"""`hpatches_eval.cli_contract` and `hpatches_eval.output_safety`: the exit codes, one-line messages and output
rules that every command line shares."""

import json
import os
import re
import warnings

import pytest

from hpatches_eval.cli_contract import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, OneLineArgumentParser, UsageError, run_command
from hpatches_eval.output_safety import (
    MARKER,
    check_not_overlapping,
    check_output_dir,
    check_output_file,
    staged_dir,
    staged_file,
    write_marker,
)


def _body_raising(error):
    def body(argv):
        raise error

    return body


@pytest.mark.parametrize(
    ("error", "status", "pattern"),
    [
        (UsageError("`--n` must be >= 1.\nReceived: --n=0"), EXIT_USAGE, r"^demo: error: `--n` must be >= 1\. Received: --n=0$"),
        (ZeroDivisionError("division by zero"), EXIT_FAILURE,
         r"^demo: error: ZeroDivisionError: division by zero \(rerun with --debug for the traceback\)$"),
        (FileNotFoundError(2, "No such file or directory", "x.csv"), EXIT_FAILURE,
         r"^demo: error: No such file or directory: x.csv$"),
        (KeyboardInterrupt(), EXIT_INTERRUPTED, r"^demo: error: interrupted$"),
    ],
)
def test_run_command_maps_errors_to_one_line_and_a_status(error, status, pattern, capsys):
    assert run_command("demo", _body_raising(error), []) == status
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert re.match(pattern, err.strip()), err


def test_usage_errors_argument_and_debug_flag(capsys):
    assert run_command("demo", _body_raising(KeyError("k")), [], usage_errors=(KeyError,)) == EXIT_USAGE
    assert capsys.readouterr().err == "demo: error: k\n"
    with pytest.raises(ZeroDivisionError):
        run_command("demo", _body_raising(ZeroDivisionError("x")), ["--debug"])


def test_argparse_errors_are_one_line_usage_errors_and_help_exits_zero(capsys):
    def body(argv):
        parser = OneLineArgumentParser(prog="demo")
        parser.add_argument("--n", type=int, required=True)
        return parser.parse_args(argv).n

    assert run_command("demo", body, ["--n", "x"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid int value: 'x'" in err and err.startswith("demo: error: ")
    assert run_command("demo", body, ["--n", "7", "--debug"]) == 7
    assert run_command("demo", body, ["--help"]) == 0
    assert "--debug" in capsys.readouterr().out


def test_warnings_print_on_one_line(capsys):
    def body(argv):
        warnings.warn("first line\nsecond line", UserWarning)
        return 0

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert run_command("demo", body, []) == 0
    assert capsys.readouterr().err == "demo: warning: first line second line\n"


def test_overlap_in_every_direction_and_through_symlinks(tmp_path):
    data = tmp_path / "data"
    (data / "seq").mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(data)
    for out, word in [(data, "is the input"), (data / "seq" / "o", "inside"), (tmp_path, "contains"),
                      (link / "o", "inside")]:
        with pytest.raises(UsageError, match=word):
            check_not_overlapping(out, [data])
    check_not_overlapping(tmp_path / "data2", [data])  # a shared prefix is not an overlap


def test_output_dir_rules(tmp_path):
    new = check_output_dir(tmp_path / "a" / "b", kind="dataset", overwrite=False)
    assert not new.exists()  # checking creates nothing
    empty = tmp_path / "empty"
    empty.mkdir()
    check_output_dir(empty, kind="dataset", overwrite=False)
    ours = tmp_path / "ours"
    ours.mkdir()
    write_marker(ours, "dataset")
    with pytest.raises(UsageError, match="pass --overwrite"):
        check_output_dir(ours, kind="dataset", overwrite=False)
    check_output_dir(ours, kind="dataset", overwrite=True)
    with pytest.raises(UsageError, match="holds a dataset, not a pipeline"):
        check_output_dir(ours, kind="pipeline", overwrite=True)
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "build_info.json").write_text("{}")
    check_output_dir(legacy, kind="dataset", overwrite=True, legacy_markers={"build_info.json": "dataset"})
    (legacy / MARKER).write_text("not json")  # an unreadable marker falls back to the legacy file
    check_output_dir(legacy, kind="dataset", overwrite=True, legacy_markers={"build_info.json": "dataset"})
    with pytest.raises(UsageError, match="not written by this tool"):
        check_output_dir(legacy, kind="dataset", overwrite=True)
    afile = tmp_path / "f.txt"
    afile.write_text("x")
    with pytest.raises(UsageError, match="existing file"):
        check_output_dir(afile, kind="dataset", overwrite=True)
    with pytest.raises(UsageError, match="is a file, not a folder"):
        check_output_dir(afile / "sub", kind="dataset", overwrite=True)


def test_output_file_rules(tmp_path):
    with pytest.raises(UsageError, match="existing folder"):
        check_output_file(tmp_path)
    source = tmp_path / "in.csv"
    source.write_text("1")
    with pytest.raises(UsageError, match="is the input"):
        check_output_file(source, inputs=[source])
    with pytest.raises(UsageError, match="is a file, not a folder"):
        check_output_file(source / "x.json")
    assert check_output_file(tmp_path / "new" / "r.json") == tmp_path / "new" / "r.json"
    assert not (tmp_path / "new").exists()


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root may write anywhere")
def test_unwritable_location_is_found_before_the_work(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(UsageError, match="no write access"):
            check_output_file(locked / "r.json")
    finally:
        locked.chmod(0o700)


def test_staged_outputs_are_all_or_nothing(tmp_path):
    out = tmp_path / "set"
    with pytest.raises(RuntimeError):
        with staged_dir(out, kind="descriptor-set") as staging:
            (staging / "half.csv").write_text("1")
            raise RuntimeError("killed half-way")
    assert list(tmp_path.iterdir()) == []
    with staged_dir(out, kind="descriptor-set", sequences=2) as staging:
        (staging / "a.csv").write_text("1")
    assert json.loads((out / MARKER).read_text())["sequences"] == 2
    target = tmp_path / "r.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with staged_file(target) as temp:
            temp.write_text("new, half")
            raise RuntimeError
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "set"]
    with staged_file(target) as temp:
        temp.write_text("new")
    assert target.read_text() == "new" and oct(target.stat().st_mode & 0o777) != oct(0o600)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_written_through_temp_files_get_the_plain_file_mode(tmp_path, umask):
    """Every writer that renames a temp file into place gives the output the mode a plain `open` would (mkstemp's
    0600 would otherwise survive the rename)."""
    import numpy as np

    from descriptors.data.formats import write_patch_file
    from descriptors.data.sequences import ImageSequence, write_image_sequence
    from descriptors.data.task_writer import write_splits
    from descriptors.training.checkpoints import atomic_write_text
    from hpatches_eval.output_safety import new_temp_file, plain_file_mode
    from hpatches_eval.splits import Split

    old = os.umask(umask)
    try:
        assert plain_file_mode() == 0o666 & ~umask
        temp = new_temp_file(tmp_path / "out.csv", suffix=".csv")
        assert temp.parent == tmp_path and temp.name.startswith(".out.csv.") and temp.stat().st_size == 0
        write_patch_file(tmp_path / "ref.png", np.zeros((2, 4, 4), np.uint8))
        atomic_write_text(tmp_path / "state.json", "{}")
        write_splits(tmp_path / "splits.json", [Split("s", ("a",), ("b",))])
        sequence = ImageSequence("v_x", [np.zeros((8, 8), np.uint8)] * 2, [np.eye(3)])
        folder = write_image_sequence(tmp_path / "seqs", sequence, ext=".png")
        written = [temp, tmp_path / "ref.png", tmp_path / "state.json", tmp_path / "splits.json",
                   folder / "1.png", folder / "2.png", folder / "H_1_2"]
        modes = {path.name: oct(path.stat().st_mode & 0o777) for path in written}
        assert modes == {path.name: oct(0o666 & ~umask) for path in written}
    finally:
        os.umask(old)
