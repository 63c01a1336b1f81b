"""Outputs that never destroy what we did not write, are checked before the work, and are never half-written.

The rules every command follows for its outputs:

* **Checked before the work.** :func:`check_output_file` / :func:`check_output_dir` refuse (with
  :class:`~hpatches_eval.cli_contract.UsageError`, exit 2) an output that cannot be written (its first existing
  ancestor is not a writable folder; probed by creating a file, so it is true for root and read-only mounts
  too), an output that is of the wrong kind (a folder where a file goes and vice versa), and an output equal to,
  inside, or holding one of the command's inputs.
* **Never destroy what we did not write.** An output folder is either new (or an empty folder), or carries our
  marker file (:data:`MARKER`, naming its kind, e.g. ``"descriptor-set"``) and is replaced only with
  ``overwrite=True``. Folders written before markers existed are recognised by ``legacy_markers`` (e.g. a
  dataset's ``build_info.json``).
* **Never half-written.** :func:`staged_dir` / :func:`staged_file` write to a hidden sibling
  ``.<name>.tmp-<pid>-<token>`` and rename it into place when complete; on an error it is removed. A staging
  folder left by a killed process (its pid is no longer running) is removed by the next run that writes the same
  output (:func:`remove_stale_staging`).

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> out = check_output_dir(root / "descr", kind="descriptor-set", overwrite=False)
    >>> with staged_dir(out, kind="descriptor-set") as staging:
    ...     _ = (staging / "values.csv").write_text("1,2\\n")
    >>> sorted(p.name for p in out.iterdir())
    ['.patch-descriptors.json', 'values.csv']
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from hpatches_eval.cli_contract import UsageError

MARKER = ".patch-descriptors.json"
_TMP_INFIX = ".tmp-"
_STAGING_EXTRA = 1 + len(_TMP_INFIX) + 10 + 1 + 8  # ".", ".tmp-", a pid, "-", the token (see `staging_name`)


def _resolved(path: str | os.PathLike) -> Path:
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_not_overlapping(out: str | os.PathLike, inputs: Iterable[str | os.PathLike], what: str = "--out") -> None:
    """Raises UsageError when ``out`` equals, lies inside, or contains one of ``inputs`` (symlinks resolved)."""
    out_path = Path(os.path.realpath(_resolved(out)))
    for source in inputs:
        if source is None:
            continue
        source_path = Path(os.path.realpath(_resolved(source)))
        if _is_within(out_path, source_path) or _is_within(source_path, out_path):
            relation = ("is the input" if out_path == source_path
                        else "lies inside the input" if _is_within(out_path, source_path)
                        else "contains the input")
            raise UsageError(f"`{what}` {relation} {os.fspath(source)!r}; choose an output outside the inputs. "
                             f"Received: {what}={os.fspath(out)!r}")


def check_writable_location(path: str | os.PathLike, what: str = "--out") -> None:
    """Raises UsageError unless ``path``'s first existing ancestor is a folder where a file can be created."""
    target = _resolved(path)
    ancestor = target.parent
    while not os.path.lexists(ancestor):  # lexists: a broken symlink is not a missing folder we could create
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        kind = "a broken symbolic link" if ancestor.is_symlink() else "a file"
        raise UsageError(f"`{what}` cannot be created: {str(ancestor)!r} is {kind}, not a folder. "
                         f"Received: {what}={os.fspath(path)!r}")
    parts = target.relative_to(ancestor).parts  # the folders still to create, then the output itself
    try:
        name_max = os.pathconf(ancestor, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    lengths = [len(os.fsencode(part)) for part in parts]
    if lengths and (max(lengths) > name_max or lengths[-1] + _STAGING_EXTRA + len(target.suffix) > name_max):
        limit = name_max - _STAGING_EXTRA - len(target.suffix)
        raise UsageError(f"`{what}` cannot be written: a name in it is too long for the file system (at most "
                         f"{limit} bytes for the last one, which is staged under a longer hidden name). "
                         f"Received: {what}={os.fspath(path)!r}")
    try:
        handle, probe = tempfile.mkstemp(prefix=".write-probe-", dir=ancestor)
        os.close(handle)
        os.remove(probe)
    except OSError as error:
        raise UsageError(f"`{what}` cannot be written: no write access to {str(ancestor)!r} "
                         f"({error.strerror or error}). Received: {what}={os.fspath(path)!r}") from None


def check_output_file(path: str | os.PathLike, *, inputs: Iterable = (), what: str = "--out") -> Path:
    """Checks an output file before the work. An existing regular file is replaced when the work is done.

    Raises:
        UsageError: ``path`` is a folder, overlaps an input, or its location cannot be written.
    """
    target = Path(path)
    try:
        if target.is_dir():
            raise UsageError(f"`{what}` must be a file path, but {os.fspath(path)!r} is an existing folder.")
        if target.exists() and not target.is_file():
            raise UsageError(f"`{what}` must be a regular file. Received: {what}={os.fspath(path)!r}")
        check_not_overlapping(target, inputs, what)
        check_writable_location(target, what)
    except OSError as error:  # e.g. a name too long for the file system: still a bad argument
        raise UsageError(f"`{what}` cannot be written: {error.strerror or error}. "
                         f"Received: {what}={os.fspath(path)!r}") from None
    return target


def read_marker(folder: str | os.PathLike) -> dict | None:
    """The marker of a folder we wrote (``{"kind": ...}``), or None when it has none or it is unreadable."""
    path = Path(folder) / MARKER
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) and isinstance(value.get("kind"), str) else None


def write_marker(folder: str | os.PathLike, kind: str, **info) -> Path:
    """Writes the marker that lets a later ``--overwrite`` replace this folder."""
    path = Path(folder) / MARKER
    path.write_text(json.dumps({"kind": kind, "written_by": "patch-descriptors", **info}, indent=2) + "\n")
    return path


def folder_kind(folder: str | os.PathLike, legacy_markers: dict[str, str] | None = None) -> str | None:
    """The kind of a folder we wrote (from its marker, else from a legacy marker file), or None."""
    marker = read_marker(folder)
    if marker is not None:
        return marker["kind"]
    for file_name, kind in (legacy_markers or {}).items():
        if (Path(folder) / file_name).is_file():
            return kind
    return None


def check_output_dir(
    path: str | os.PathLike,
    *,
    kind: str,
    overwrite: bool,
    inputs: Iterable = (),
    what: str = "--out",
    legacy_markers: dict[str, str] | None = None,
) -> Path:
    """Checks an output folder before the work.

    Args:
        path: the folder to create (or replace).
        kind: the kind of folder the command writes, e.g. ``"dataset"``, ``"descriptor-set"``, ``"pipeline"``.
        overwrite: whether an existing folder of the same kind may be replaced.
        inputs: the command's input paths; the output may not equal, lie inside or contain any of them.
        what: the option's name in messages.
        legacy_markers: ``{file name: kind}`` that identify folders written before markers existed.

    Returns:
        ``path`` as a Path.

    Raises:
        UsageError: the folder exists and is not ours, is ours but ``overwrite`` is False, is of another kind,
            is a file, overlaps an input, or cannot be written.
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise UsageError(f"`{what}` must be a folder, but {os.fspath(path)!r} is an existing file.")
    check_not_overlapping(target, inputs, what)
    if target.is_dir() and any(target.iterdir()):
        found = folder_kind(target, legacy_markers)
        if found is None:
            raise UsageError(f"`{what}` {os.fspath(path)!r} already exists and was not written by this tool "
                             f"(no {MARKER}); refusing to replace it: choose a new folder or remove it yourself.")
        if found != kind:
            raise UsageError(f"`{what}` {os.fspath(path)!r} holds a {found}, not a {kind}; refusing to replace it.")
        if not overwrite:
            raise UsageError(f"`{what}` {os.fspath(path)!r} already holds a {kind}: pass --overwrite to replace "
                             "it, or choose a new folder.")
    check_writable_location(target / "probe", what) if target.is_dir() else check_writable_location(target, what)
    return target


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def plain_file_mode() -> int:
    """The mode a plain ``open(path, "w")`` gives a new file: 0666 less the process umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def new_temp_file(target: str | os.PathLike, suffix: str = "") -> Path:
    """Creates an empty hidden temporary file next to ``target``, to be renamed onto it when complete.

    ``tempfile.mkstemp`` creates its files with mode 0600, which the rename would carry over to the output; this
    gives the file the mode a plain ``open`` would (:func:`plain_file_mode`), so outputs stay readable by the group
    and others as usual.
    """
    target = Path(target)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(handle)
    os.chmod(name, plain_file_mode())
    return Path(name)


def staging_name(out: str | os.PathLike) -> str:
    """The hidden sibling name a staged output is written under: ``.<name>.tmp-<pid>-<token>``."""
    return f".{Path(out).name}{_TMP_INFIX}{os.getpid()}-{secrets.token_hex(4)}"


def remove_stale_staging(out: str | os.PathLike) -> list[Path]:
    """Removes staging leftovers of ``out`` whose writing process is no longer running. Returns them."""
    out = Path(out)
    prefix = f".{out.name}{_TMP_INFIX}"
    removed = []
    if not out.parent.is_dir():
        return removed
    for candidate in out.parent.glob(f"{glob_escape(prefix)}*"):
        pid_text = candidate.name[len(prefix):].split("-", 1)[0].split(".", 1)[0]
        if not pid_text.isdigit() or _pid_running(int(pid_text)):
            continue
        if candidate.is_dir() and not candidate.is_symlink():
            shutil.rmtree(candidate, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                candidate.unlink()
        removed.append(candidate)
    return removed


def glob_escape(text: str) -> str:
    """``text`` with glob wildcards escaped."""
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)


def _replace_dir(staging: Path, out: Path, kind: str, legacy_markers: dict[str, str] | None) -> None:
    if out.exists():
        if not out.is_dir():
            raise UsageError(f"{os.fspath(out)!r} appeared as a file while the output was being written.")
        if any(out.iterdir()) and folder_kind(out, legacy_markers) != kind:
            raise UsageError(f"{os.fspath(out)!r} appeared while the output was being written and is not a {kind} "
                             "we wrote; refusing to replace it.")
        shutil.rmtree(out)
    os.replace(staging, out)


@contextlib.contextmanager
def staged_dir(out: str | os.PathLike, *, kind: str, legacy_markers: dict[str, str] | None = None,
               **marker_info) -> Iterator[Path]:
    """Yields a hidden staging folder next to ``out``; on success marks it and renames it to ``out``.

    An existing ``out`` (already checked by :func:`check_output_dir`) is replaced only at the end. On any error
    (or Ctrl-C) the staging folder is removed and ``out`` is left as it was.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(out)
    staging = out.parent / staging_name(out)
    staging.mkdir()
    try:
        yield staging
        write_marker(staging, kind, **marker_info)
        _replace_dir(staging, out, kind, legacy_markers)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@contextlib.contextmanager
def staged_file(out: str | os.PathLike) -> Iterator[Path]:
    """Yields a hidden temporary path next to ``out`` (same suffix); renamed to ``out`` when the block succeeds."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(out)
    temp = out.parent / (staging_name(out) + out.suffix)
    try:
        yield temp
        os.replace(temp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
