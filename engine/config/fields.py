"""The machinery that turns frozen dataclass configs into JSON, CLI options and GUI forms.

Every config field carries an attribute docstring (a string literal right under the field). `field_docs` reads
those docstrings; the GUI shows them as tooltips and the CLI as `--help` text. `Literal[...]` annotations give
the valid choices. Configs round-trip through plain JSON dicts with `to_dict` / `from_dict`.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import math
import sys
import types
import typing
from typing import Any, Literal, TypeVar

C = TypeVar("C")


class ConfigError(ValueError):
    """A config value is invalid; the message is meant for the user."""


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings of a dataclass, by field name (empty where the source is unavailable)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if dataclasses.is_dataclass(klass):
            docs.update(_attribute_docs_of_module(klass.__module__).get(klass.__qualname__, {}))
    return docs


@functools.cache
def _attribute_docs_of_module(module: str) -> dict[str, dict[str, str]]:
    """Attribute docstrings of every class in a module, by class qualified name: the module's source is parsed once
    (not once per class, as inspect.getsource would)."""
    try:
        tree = ast.parse(inspect.getsource(sys.modules[module]))
    except (OSError, TypeError, KeyError, SyntaxError):
        return {}
    found: dict[str, dict[str, str]] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if not isinstance(node, ast.ClassDef):
                continue
            name = prefix + node.name
            docs = found.setdefault(name, {})
            for field, nxt in zip(node.body, node.body[1:]):
                if (isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)
                        and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                        and isinstance(nxt.value.value, str)):
                    docs[field.target.id] = inspect.cleandoc(nxt.value.value)
            visit(node.body, name + ".")

    visit(tree.body, "")
    return found


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """Resolved type annotations of a dataclass's fields."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def config_paths(cls: type, _path: str = "") -> frozenset[str]:
    """Every dotted field path of a config class: its fields, and the fields of its nested configs."""
    paths: set[str] = set()
    for name, tp in field_types(cls).items():
        paths.add(f"{_path}{name}")
        if dataclasses.is_dataclass(tp):
            paths |= config_paths(tp, f"{_path}{name}.")
    return frozenset(paths)


def field_choices(cls: type, name: str) -> tuple[Any, ...] | None:
    """The allowed values of a `Literal[...]` field, else None."""
    tp = field_types(cls)[name]
    return typing.get_args(tp) if typing.get_origin(tp) is Literal else None


def check_fields(config: Any) -> None:
    """Raise ConfigError (a sentence naming the field) if a field of `config` holds a value of the wrong type (a
    boolean for a number, a string for a number, ...), a number that is not finite, or a `Literal` value outside its
    choices. Every config's `__post_init__` calls it first, so the CLI, config.json and the window's forms all pass
    through the same checks."""
    for f in dataclasses.fields(config):
        tp, value = field_types(type(config))[f.name], getattr(config, f.name)
        choices = field_choices(type(config), f.name)
        if choices is not None:
            if value not in choices or isinstance(value, bool) != any(isinstance(c, bool) for c in choices):
                raise ConfigError(f"{f.name} = {value!r}: choose one of {', '.join(map(str, choices))}")
            continue
        _check_value(f.name, _without_none(tp), value, optional=_without_none(tp) is not tp)


def _without_none(tp: Any) -> Any:
    """X for `X | None`, else tp."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _check_value(name: str, tp: Any, value: Any, optional: bool) -> None:
    if value is None:
        if not optional:
            raise ConfigError(f"{name} needs a value")
        return
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be on or off (true or false), not {value!r}")
    elif tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name} must be a whole number, not {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{name} must be a number, not {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number, not {value}")
    elif tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be text, not {value!r}")
    elif typing.get_origin(tp) is tuple:
        if not isinstance(value, tuple):
            raise ConfigError(f"{name} must be a list of numbers, not {value!r}")
        item = typing.get_args(tp)[0]
        for element in value:
            _check_value(name, item, element, optional=False)


def require(condition: bool, message: str) -> None:
    """Raise ConfigError(message) unless `condition` holds."""
    if not condition:
        raise ConfigError(message)


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a (nested) config dataclass."""
    return dataclasses.asdict(config)


def with_paths(config: C, changes: dict[str, Any]) -> C:
    """`config` with the values of `changes` (dotted field paths, `signal.max_size`) set, built once (so checks across
    fields see every change)."""
    values = to_dict(config)
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = values
        for part in parents:
            node = node[part]
        if leaf not in node:
            raise ConfigError(f"{type(config).__name__}: unknown option {path}")
        node[leaf] = value
    return from_dict(type(config), values)


def from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """Build `cls` from a dict made by `to_dict`, recursing into nested configs; unknown keys are an error, except
    the class's `RETIRED_FIELDS` (fields older files still hold), which are dropped."""
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    types = field_types(cls)
    retired = getattr(cls, "RETIRED_FIELDS", frozenset())
    data = {name: value for name, value in data.items() if name not in retired}
    unknown = set(data) - set(types)
    if unknown:
        raise ConfigError(f"{cls.__name__}: unknown option(s) {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        tp = types[name]
        if dataclasses.is_dataclass(tp):
            kwargs[name] = from_dict(tp, value)
        elif tp is float and isinstance(value, int) and not isinstance(value, bool):
            kwargs[name] = float(value)
        elif tp in (int, float, str, bool) and not isinstance(value, tp):
            raise ConfigError(f"{cls.__name__}.{name}: expected {tp.__name__}, got {value!r}")
        elif typing.get_origin(tp) is tuple and isinstance(value, list):
            kwargs[name] = tuple(value)
        else:
            kwargs[name] = value
    return cls(**kwargs)


