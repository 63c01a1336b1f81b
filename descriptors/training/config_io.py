"""Run configurations as frozen dataclasses: dict/JSON round trips and command-line flags, shared by every CLI.

Precedence everywhere: dataclass defaults < ``--config FILE`` (JSON) < flags. Field names are the flags in
kebab-case (``learning_rate`` <-> ``--learning-rate``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import typing
from pathlib import Path

from descriptors.errors import ConfigError


class ConfigIO:
    """Mixin for a frozen config dataclass: ``to_dict``, ``replace``, ``from_dict`` and ``from_file``."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, values: dict):
        """Builds a config from a dict, rejecting unknown keys by name."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
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
            values = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ConfigError(f"Config file {path} is not valid JSON: {error}") from error
        if not isinstance(values, dict):
            raise ConfigError(f"Config file {path} must hold a JSON object. Received: {type(values).__name__}")
        return cls.from_dict({**values, **overrides})


def _json_object(text):
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object. Received: {text!r}")
    return value


def add_config_flags(parser: argparse.ArgumentParser, config_cls, help_texts: dict, choices: dict) -> None:
    """Adds ``--config FILE`` and one flag per field of ``config_cls`` (bools get ``--x/--no-x``, dicts take JSON)."""
    parser.add_argument("--config", help="JSON file of options (flags override it)")
    hints = typing.get_type_hints(config_cls)
    for field in dataclasses.fields(config_cls):
        flag = "--" + field.name.replace("_", "-")
        args = [a for a in typing.get_args(hints[field.name]) if a is not type(None)]
        kind = args[0] if args else hints[field.name]
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        help_text = help_texts.get(field.name, "") + f" (default: {default})"
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif kind is dict:
            parser.add_argument(flag, type=_json_object, default=None, help=help_text)
        else:
            parser.add_argument(flag, type=kind, choices=choices.get(field.name), default=None, help=help_text)


def config_from_parser(parser: argparse.ArgumentParser, config_cls, argv=None):
    """Parses flags into a validated ``config_cls`` (defaults < --config file < flags)."""
    args = vars(parser.parse_args(argv))
    file = args.pop("config")
    overrides = {k: v for k, v in args.items() if v is not None}
    if file:
        return config_cls.from_file(file, **overrides)
    return config_cls.from_dict(overrides)
