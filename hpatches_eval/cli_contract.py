"""The one contract of every command line of this project: exit codes and one-line messages.

Every command (``python -m hpatches_eval``, ``descriptors.train``, ``.describe``, ``.match``, ``.average``,
``.embed``, ``.data.build``, ``bootstrap.py``) runs its body through :func:`run_command`:

* bad arguments and bad inputs are found before any work and exit with status 2 (:class:`UsageError`, an
  argparse error, or a type listed in ``usage_errors``);
* a failure during the work exits with status 1;
* Ctrl-C exits with status 130 (and the command's own hint, e.g. how to resume);
* either way stderr gets exactly one line, ``<prog>: error: <message>``, that names the value or file and what
  was expected. There is no traceback unless ``--debug`` is on the command line (then the exception propagates).

Warnings are printed on one line too (``<prog>: warning: <message>``).

This module lives in ``hpatches_eval`` (numpy/pandas only) so that both packages share it; ``descriptors`` may
import ``hpatches_eval``, never the reverse.

Example:
    >>> def body(argv):
    ...     parser = OneLineArgumentParser(prog="demo")
    ...     parser.add_argument("--n", type=int, required=True)
    ...     args = parser.parse_args(argv)
    ...     if args.n < 1:
    ...         raise UsageError(f"`--n` must be >= 1. Received: --n={args.n}")
    ...     return EXIT_OK
    >>> run_command("demo", body, ["--n", "3"])
    0
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEBUG_FLAG = "--debug"


class UsageError(ValueError):
    """A command-line argument or input is wrong; found before any work (exit status 2)."""


class OneLineArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise :class:`UsageError` (one line) instead of printing the usage.

    Abbreviated options are refused (``allow_abbrev=False``): a typo must not silently select another option.

    ``--help`` still prints the help and exits 0. ``--debug`` is listed in the help; :func:`run_command` removes
    it from the arguments before the parser sees them.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # `--max-keypoint` is a typo, not `--max-keypoints`
        super().__init__(*args, **kwargs)
        self.add_argument(DEBUG_FLAG, action="store_true", help="show the Python traceback of an error")

    def error(self, message):  # noqa: D102 (argparse API)
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def one_line(message: object) -> str:
    """``message`` as a single line: newlines and runs of spaces collapsed."""
    return " ".join(str(message).split())


def _describe_exception(error: BaseException, plain_types: tuple[type[BaseException], ...] = ()) -> str:
    """The one-line text of ``error``: its message, prefixed by its type name unless the project raised it."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename is not None else error.strerror
    text = one_line(error)
    if isinstance(error, KeyError) and len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    if _is_ours(error) or isinstance(error, (UsageError, *plain_types)):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _one_line_warning(prog: str):
    def show(message, category, filename, lineno, file=None, line=None):
        stream = file if file is not None else sys.stderr
        try:
            stream.write(f"{prog}: warning: {one_line(message)}\n")
        except (OSError, ValueError):
            pass

    return show


def run_command(
    prog: str,
    body: Callable[[list[str]], int | None],
    argv: Sequence[str] | None = None,
    *,
    usage_errors: tuple[type[BaseException], ...] = (),
    interrupted_hint: str = "interrupted",
) -> int:
    """Runs ``body(argv)`` under the contract and returns its exit status (see the module docstring).

    Args:
        prog: the command's name as the user typed it, e.g. ``"python -m descriptors.describe"``; every message
            starts with it.
        body: the command; receives the arguments without ``--debug`` and returns an exit status (None = 0).
            It raises :class:`UsageError` (or a type of ``usage_errors``) for a bad argument or input found before
            the work, anything else for a failure during the work.
        argv: the arguments (default: ``sys.argv[1:]``).
        usage_errors: further exception types that mean "bad argument" (exit 2), e.g. a config error raised
            while validating options.
        interrupted_hint: what the user reads after Ctrl-C (e.g. how to resume).

    Returns:
        0 ok, 1 failure during the work, 2 bad arguments or inputs, 130 interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in argv or os.environ.get("DESCRIPTORS_DEBUG") == "1"
    argv = [arg for arg in argv if arg != DEBUG_FLAG]
    previous_showwarning = warnings.showwarning
    if not debug:
        warnings.showwarning = _one_line_warning(prog)
    try:
        status = body(argv)
        return EXIT_OK if status is None else int(status)
    except SystemExit as exit_:  # --help / --version, or a body that calls sys.exit itself
        code = exit_.code
        if code is None or isinstance(code, int):
            return int(code or 0)
        _print_error(prog, code)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        if debug:
            raise
        _print_error(prog, interrupted_hint)
        return EXIT_INTERRUPTED
    except (UsageError, *usage_errors) as error:
        if debug:
            raise
        _print_error(prog, _describe_exception(error, usage_errors))
        return EXIT_USAGE
    except Exception as error:  # noqa: BLE001 (the contract: one line, never a traceback)
        if debug:
            raise
        hint = "" if _is_ours(error) else f" (rerun with {DEBUG_FLAG} for the traceback)"
        _print_error(prog, _describe_exception(error) + hint)
        return EXIT_FAILURE
    finally:
        warnings.showwarning = previous_showwarning


def _is_ours(error: BaseException) -> bool:
    """True for the errors the project raises on purpose (their message is the whole story)."""
    module = type(error).__module__.split(".")[0]
    return module in ("hpatches_eval", "descriptors") or isinstance(error, (OSError, UsageError))


def _print_error(prog: str, message: object) -> None:
    try:
        sys.stderr.write(f"{prog}: error: {one_line(message)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
