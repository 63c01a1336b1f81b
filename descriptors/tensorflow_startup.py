"""Keeps TensorFlow's native start-up info lines off stderr while TensorFlow is imported.

``TF_CPP_MIN_LOG_LEVEL=2`` silences most of TensorFlow's C++ info lines, but not all: on CPUs where TensorFlow
turns its oneDNN custom operations on by default (AVX-512 machines, with TensorFlow 2.21), it prints

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:1796216757.698111    9974 port.cc:153] oneDNN custom operations are on. ...

through absl before TensorFlow reads that variable. Those lines are not errors, and a user of ``python -m
descriptors...`` would read them as one. `install` adds a one-shot import hook: the first ``import tensorflow``
runs with file descriptor 2 sent to a temporary file, and whatever was written there is written back to stderr
afterwards less the absl info lines (``I`` + digits) and that preamble. Warnings and errors (``W``/``E`` lines),
Python warnings and tracebacks go through unchanged. Nothing is filtered when ``TF_CPP_MIN_LOG_LEVEL`` is ``0``
(the user asked for info lines).

Example:
    >>> import sys
    >>> from descriptors.tensorflow_startup import without_info_lines
    >>> without_info_lines(b"I0000 00:00:1.0 1 port.cc:153] oneDNN custom operations are on.\\nW0000 kept\\n")
    b'W0000 kept\\n'
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

_INFO_LINE = re.compile(rb"^I\d{4} ")
_PREAMBLE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


def without_info_lines(text: bytes) -> bytes:
    """``text`` (what went to stderr) less absl info lines and the absl preamble; other lines kept, in order."""
    kept = [line for line in text.splitlines(keepends=True)
            if not _INFO_LINE.match(line) and line.rstrip(b"\r\n") != _PREAMBLE]
    return b"".join(kept)


@contextlib.contextmanager
def native_info_lines_filtered():
    """Within the block, native writes to stderr (fd 2) are held back; on exit they are written to stderr less
    the info lines (`without_info_lines`), also when the block raises. A no-op where fd 2 cannot be duplicated or
    ``TF_CPP_MIN_LOG_LEVEL`` is ``0``."""
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0").strip() in ("", "0"):
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as held:
        sys.stderr.flush()
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(ValueError, OSError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            rest = without_info_lines(held.read())
            if rest:
                os.write(2, rest)


class _FilteredLoader(importlib.abc.Loader):
    """Delegates to TensorFlow's own loader, running its module code under `native_info_lines_filtered`."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with native_info_lines_filtered():
            self._loader.exec_module(module)

    def __getattr__(self, name):  # is_package, get_resource_reader, ... of the real loader
        return getattr(self._loader, name)


class _TensorFlowImportHook(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, as the other finders would, and wraps its loader; then removes itself."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _FilteredLoader(spec.loader)
        return spec


def install() -> None:
    """Adds the import hook, unless TensorFlow is imported already or the hook is in place."""
    if "tensorflow" in sys.modules or any(isinstance(f, _TensorFlowImportHook) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _TensorFlowImportHook())
