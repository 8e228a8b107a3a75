"""The machinery that turns frozen dataclass configs into JSON, CLI options and GUI forms.

Every config field carries an attribute docstring (a string literal right under the field). `field_docs` reads
those docstrings; the GUI shows them as tooltips and the CLI as `--help` text. `Literal[...]` annotations give
the valid choices, `Annotated[int, Range(low, high)]` a count's or size's sane range (a typo such as steps 1e18 or a
negative count is refused wherever a config is built). Configs round-trip through plain JSON dicts with `to_dict` /
`from_dict`.
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
from typing import Annotated, Any, Literal, TypeVar

from engine.registry import REGISTRIES

C = TypeVar("C")


class ConfigError(ValueError):
    """A config value is invalid; the message is meant for the user."""


@dataclasses.dataclass(frozen=True)
class Range:
    """The values a number field accepts, both ends included: what a real run could use, so that a typo (an extra
    zero, a minus sign) is refused before it costs hours. Put it on a field as `Annotated[int, Range(1, 10_000)]`."""

    low: float
    high: float

    def describe(self) -> str:
        return f"from {_number(self.low)} to {_number(self.high)}"


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


@dataclasses.dataclass(frozen=True)
class OptionOf:
    """Marks a field as read only under one choice of another field of its config: `Annotated[int,
    OptionOf("solver", "anderson", "memory")]` is the Anderson solver's `memory` option. The field does nothing
    under another choice (`unchosen_options`), and `chosen_options` gives the chosen one's options by `name`."""

    field: str
    value: Any
    name: str = ""


@functools.cache
def field_options(cls: type) -> dict[str, OptionOf]:
    """Each field's `OptionOf`, by field name; fields without one are left out (read once per class: a solver's
    options are asked for at every solve)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    found = {}
    for f in dataclasses.fields(cls):
        if typing.get_origin(hints[f.name]) is Annotated:
            found.update({f.name: meta for meta in hints[f.name].__metadata__ if isinstance(meta, OptionOf)})
    return found


def chosen_options(config: Any, field: str) -> dict[str, Any]:
    """The options (by their `OptionOf.name`) of the choice `config.<field>` holds."""
    chosen = getattr(config, field)
    return {option.name or name: getattr(config, name) for name, option in field_options(type(config)).items()
            if option.field == field and option.value == chosen}


def unchosen_options(config: Any, prefix: str = "") -> set[str]:
    """Dotted fields, anywhere in `config`, marked `OptionOf` a choice that is not the one made (Broyden's memory
    under Anderson, the Neumann order in exact mode, the adjoint solver unless exact)."""
    fields = {prefix + name for name, option in field_options(type(config)).items()
              if getattr(config, option.field) != option.value}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            fields |= unchosen_options(value, f"{prefix}{f.name}.")
    return fields


SEED = Annotated[int, Range(0, 2 ** 63 - 1)]
"""A random seed: what every random generator the engine seeds accepts."""
MAX_STEPS = 10_000_000
"""The most training steps (and the longest interval between logged rows) a run may ask for."""
STEPS = Annotated[int, Range(0, MAX_STEPS)]
"""A number of training steps, counted from a run's first."""
EVERY = Annotated[int, Range(1, MAX_STEPS)]
"""An interval in steps (between logged rows, evaluations, ...)."""
DEVICE = Literal["auto", "cpu", "cuda"]
"""Where a run computes: auto picks CUDA where a GPU answers."""


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


@dataclasses.dataclass(frozen=True)
class Registered:
    """Marks a text field (`Annotated[str, Registered(kind)]`) whose value is a name in the registry of `kind`
    (`engine.registry.REGISTRIES`): its choices are what is registered when asked, so adding a network takes its
    registration alone, not a second list of names here. The names are checked once the registry holds any (every
    front end imports the registering modules before it reads settings; a default built at import time is not)."""

    kind: str


def field_types(cls: type) -> dict[str, Any]:
    """Resolved type annotations of a dataclass's fields; a `Registered` field as the `Literal` of the names its
    registry holds (plain `str` while nothing is registered yet: a config built as a default at import time)."""
    resolved = _field_types(cls)
    registered = _registered_fields(cls)
    if not registered:
        return resolved
    return {**resolved, **{name: _registered_type(kind) for name, kind in registered.items()}}


def _registered_type(kind: str) -> Any:
    names = tuple(REGISTRIES[kind].names()) if kind in REGISTRIES else ()
    return Literal[names] if names else str


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


@dataclasses.dataclass(frozen=True)
class PictureFile:
    """Marks a text field (`Annotated[str, PictureFile()]`, `MASK_FILE`) that names a picture file: the window's
    editor has a button beside it that chooses one."""


MASK_FILE = Annotated[str, PictureFile()]


@functools.cache
def _marked_fields(cls: type, marker: type) -> dict[str, Any]:
    """The fields of `cls` whose annotation carries a `marker` instance, with that instance."""
    hints = typing.get_type_hints(cls, include_extras=True)
    return {f.name: meta for f in dataclasses.fields(cls) if typing.get_origin(hints[f.name]) is Annotated
            for meta in hints[f.name].__metadata__ if isinstance(meta, marker)}


def _registered_fields(cls: type) -> dict[str, str]:
    """The fields marked `Registered`, with their registries' kinds."""
    return {name: meta.kind for name, meta in _marked_fields(cls, Registered).items()}


def picture_file_fields(cls: type) -> frozenset[str]:
    """The fields of `cls` marked `PictureFile`."""
    return frozenset(_marked_fields(cls, PictureFile))


def config_paths(cls: type, _path: str = "") -> frozenset[str]:
    """Every dotted field path of a config class: its fields, and the fields of its nested configs."""
    paths: set[str] = set()
    for name, tp in field_types(cls).items():
        paths.add(f"{_path}{name}")
        if dataclasses.is_dataclass(tp):
            paths |= config_paths(tp, f"{_path}{name}.")
    return frozenset(paths)


@functools.cache
def field_ranges(cls: type) -> dict[str, Range]:
    """Each number field's `Range` (for a tuple field, its elements'), by field name; fields without one are left
    out."""
    hints = typing.get_type_hints(cls, include_extras=True)
    ranges = {}
    for f in dataclasses.fields(cls):
        found = _range_of(hints[f.name])
        if found is not None:
            ranges[f.name] = found
    return ranges


def _range_of(tp: Any) -> Range | None:
    """The Range in `tp`: Annotated[X, Range], X | None, or tuple[Annotated[X, Range], ...]."""
    if typing.get_origin(tp) is Annotated:
        return next((meta for meta in tp.__metadata__ if isinstance(meta, Range)), None)
    if typing.get_origin(tp) in (typing.Union, types.UnionType, tuple):
        return next((found for arg in typing.get_args(tp) if (found := _range_of(arg)) is not None), None)
    return None


def field_choices(cls: type, name: str) -> tuple[Any, ...] | None:
    """The allowed values of a `Literal[...]` field, else None."""
    tp = field_types(cls)[name]
    return typing.get_args(tp) if typing.get_origin(tp) is Literal else None


def check_fields(config: Any) -> None:
    """Raise ConfigError (a sentence naming the field) if a field of `config` holds a value of the wrong type (a
    boolean for a number, a string for a number, ...), a number that is not finite, or a `Literal` value outside its
    choices, or a number outside its `Range`. Every config's `__post_init__` calls it first, so the CLI, config.json
    and the window's forms all pass through the same checks."""
    ranges = field_ranges(type(config))
    for f in dataclasses.fields(config):
        tp, value = field_types(type(config))[f.name], getattr(config, f.name)
        choices = field_choices(type(config), f.name)
        if choices is not None:
            if value not in choices or isinstance(value, bool) != any(isinstance(c, bool) for c in choices):
                raise ConfigError(f"{f.name} = {value!r}: choose one of {', '.join(map(str, choices))}")
            continue
        _check_value(f.name, _without_none(tp), value, optional=_without_none(tp) is not tp)
        if f.name in ranges and value is not None:
            _check_range(f.name, ranges[f.name], value)


def _check_range(name: str, bounds: Range, value: Any) -> None:
    for number in value if isinstance(value, tuple) else (value,):
        if not bounds.low <= number <= bounds.high:
            raise ConfigError(f"{name} = {_number(number)} is out of range: give a value {bounds.describe()}")


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


