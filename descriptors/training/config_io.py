"""Run configurations as frozen dataclasses: typed checks, dict/JSON round trips and command-line flags.

Precedence everywhere: dataclass defaults < ``--config FILE`` (JSON) < flags. Field names are the flags in
kebab-case (``learning_rate`` <-> ``--learning-rate``).

Every field is checked against its type hint by :func:`check_fields`, whether it comes from JSON, a flag or
Python: an ``int`` field takes a real integer (not ``true``, not ``3.0``, not ``"3"``), a ``float`` field a
finite number (integers accepted; NaN and infinities refused), a ``bool`` field ``true``/``false`` only (not
``0``/``1`` or ``"no"``), ``None`` only where the hint is ``X | None``. Range bounds (``"> 0"``, ``"[0, 1)"``)
are declared next to the fields and checked by the same function, so every message has one form:
"`epochs` must be an integer >= 1. Received: epochs='3' (str)".
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import numbers
import os
import re
import typing
from collections.abc import Mapping
from pathlib import Path

from descriptors.errors import ConfigError
from hpatches_eval.cli_contract import OneLineArgumentParser


class ConfigIO:
    """Mixin for a frozen config dataclass: ``to_dict``, ``replace``, ``from_dict`` and ``from_file``."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, values: dict):
        """Builds a config from a dict, rejecting unknown keys by name (and wrong types, see `check_fields`)."""
        if not isinstance(values, Mapping):
            raise ConfigError(f"A {cls.__name__} must be built from a JSON object. Received: {type(values).__name__}")
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(str(key) for key in set(values) - known)
        if unknown:
            raise ConfigError(f"Unknown config keys {unknown}. Known keys: {sorted(known)}")
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | Path, **overrides):
        """Reads a JSON config file; ``overrides`` win over the file."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"Config file not found: {path}")
        try:
            values = json.loads(path.read_text(), parse_constant=_refuse_constant)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"Config file {path} is not valid JSON: {error}") from error
        except ValueError as error:  # NaN / Infinity, which JSON does not define
            raise ConfigError(f"Config file {path} is not valid JSON: {error}") from error
        if not isinstance(values, dict):
            raise ConfigError(f"Config file {path} must hold a JSON object. Received: {type(values).__name__}")
        return cls.from_dict({**values, **overrides})


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON number")


# ---------------------------------------------------------------------------------------------------------------
# Typed fields.

_COMPARISON = re.compile(r"^(>=|>|<=|<)\s*(-?[0-9.eE+]+)$")
_INTERVAL = re.compile(r"^([\[(])\s*(-?[0-9.eE+]+)\s*,\s*(-?[0-9.eE+]+)\s*([\])])$")


@functools.lru_cache(maxsize=None)
def _bound(text: str):
    """``"> 0"`` / ``"[0, 1)"`` -> (predicate, words for the message)."""
    match = _COMPARISON.match(text)
    if match:
        op, limit = match.group(1), float(match.group(2))
        tests = {">=": limit.__le__, ">": limit.__lt__, "<=": limit.__ge__, "<": limit.__gt__}
        return tests[op], f" {op} {match.group(2)}"
    match = _INTERVAL.match(text)
    if not match:
        raise ValueError(f"Unknown bound {text!r}: use '> 0', '>= 1', '[0, 1)', ...")
    left, low, high, right = match.group(1), float(match.group(2)), float(match.group(3)), match.group(4)

    def inside(value):
        return (low <= value if left == "[" else low < value) and (value <= high if right == "]" else value < high)

    return inside, f" in {left}{match.group(2)}, {match.group(3)}{right}"


def _expected(kind, words: str, optional: bool) -> str:
    noun = {bool: "true or false (not 0/1 or a string)", int: "an integer", float: "a finite number",
            str: "a string", dict: "a JSON object (dict)"}[kind]
    return noun + words + (" or null (None)" if optional else "")


def _field_kind(hint):
    """(base type, optional) of a field's type hint; base None when the hint is not one we check."""
    args = typing.get_args(hint)
    optional = type(None) in args
    if args:
        rest = [a for a in args if a is not type(None)]
        hint = rest[0] if len(rest) == 1 else None
    hint = typing.get_origin(hint) or hint
    return (hint if hint in (bool, int, float, str, dict) else None), optional


def _normalised(kind, value):
    """``value`` as a plain Python ``kind``, or raises TypeError when it is not one (bools never count as numbers)."""
    is_bool = isinstance(value, bool) or type(value).__name__ == "bool_"
    if kind is bool:
        if is_bool:
            return bool(value)
    elif kind is int:
        if isinstance(value, numbers.Integral) and not is_bool:
            return int(value)
    elif kind is float:
        if isinstance(value, numbers.Real) and not is_bool:
            value = float(value)
            if math.isfinite(value):
                return value
    elif kind is str:
        if isinstance(value, (str, os.PathLike)):
            return os.fspath(value)
    elif kind is dict:
        if isinstance(value, Mapping):
            return dict(value)
    raise TypeError


def check_fields(config, bounds: Mapping[str, str] | None = None) -> None:
    """Checks every field of the dataclass ``config`` against its type hint and ``bounds``; normalises in place.

    Integers become ``int``, numbers of a ``float`` field ``float``, path-like strings ``str`` (so the config
    stays JSON-serialisable). Fields of other hints are left to the config's own checks.

    Args:
        config: a (frozen) dataclass instance.
        bounds: field name -> ``"> 0"``, ``">= 1"``, ``"[0, 1)"``, ``"(0, 1]"``... (numbers only).

    Raises:
        ConfigError: naming the first field whose value has the wrong type or is out of bounds, e.g.
            "`epochs` must be an integer >= 1. Received: epochs='3' (str)".
    """
    bounds = bounds or {}
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):
        kind, optional = _field_kind(hints[field.name])
        if kind is None:
            continue
        value = getattr(config, field.name)
        check, words = _bound(bounds[field.name]) if field.name in bounds else (None, "")
        if value is None and optional:
            continue
        try:
            normalised = _normalised(kind, value)
            valid = check is None or check(normalised)
        except TypeError:
            valid = False
        if not valid:
            raise ConfigError(f"`{field.name}` must be {_expected(kind, words, optional)}. "
                              f"Received: {field.name}={value!r} ({type(value).__name__})")
        if normalised is not value:
            object.__setattr__(config, field.name, normalised)


# ---------------------------------------------------------------------------------------------------------------
# Command-line flags.

def _json_object(text):
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object. Received: {text!r}")
    return value


def config_parser(prog: str, description: str, config_cls, help_texts: dict, choices: dict) -> OneLineArgumentParser:
    """A one-line-error parser (see `hpatches_eval.cli_contract`) with ``--config`` and one flag per field."""
    parser = OneLineArgumentParser(prog=prog, description=description,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_flags(parser, config_cls, help_texts, choices)
    return parser


def add_config_flags(parser: argparse.ArgumentParser, config_cls, help_texts: dict, choices: dict) -> None:
    """Adds ``--config FILE`` and one flag per field of ``config_cls`` (bools get ``--x/--no-x``, dicts take JSON)."""
    parser.add_argument("--config", help="JSON file of options (flags override it)")
    hints = typing.get_type_hints(config_cls)
    for field in dataclasses.fields(config_cls):
        flag = "--" + field.name.replace("_", "-")
        kind, _ = _field_kind(hints[field.name])
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        help_text = help_texts.get(field.name, "") + f" (default: {default})"
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif kind is dict:
            parser.add_argument(flag, type=_json_object, default=None, help=help_text)
        else:
            parser.add_argument(flag, type=kind or str, choices=choices.get(field.name), default=None, help=help_text)


def config_from_parser(parser: argparse.ArgumentParser, config_cls, argv=None):
    """Parses flags into a validated ``config_cls`` (defaults < --config file < flags)."""
    args = vars(parser.parse_args(argv))
    args.pop("debug", None)  # the contract's --debug flag is not an option of the run
    file = args.pop("config")
    overrides = {k: v for k, v in args.items() if v is not None}
    if file:
        return config_cls.from_file(file, **overrides)
    return config_cls.from_dict(overrides)
