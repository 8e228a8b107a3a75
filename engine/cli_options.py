"""Command-line options generated from config dataclasses: one flag per field, help from the field docstrings.

Nested configs either add their field name as a prefix (`--solver-tol`) or are flattened (`--width` for
`model.width`); a leaf named like its parent field takes the bare parent name (`--solver` for `solver.solver`).
Only options the user gives override the config (defaults are not written into the namespace).
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from engine.config import Range, config_paths, field_docs, field_types, with_paths

C = TypeVar("C")


def in_range(low: float, high: float, kind: type = int) -> Callable[[str], Any]:
    """An argparse type for a flag that is not a config field: a finite `kind` from `low` to `high`, else argparse's
    one-line error naming the flag and the range."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"{text} is out of range: give a value {Range(low, high).describe()}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _base_type(tp: Any) -> Any:
    """X for `X | None`, else tp."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


def leaf_flags(cls: type, *, flatten: frozenset[str] = frozenset(), rename: dict[str, str] | None = None,
               skip: frozenset[str] = frozenset(), _path: str = "", _prefix: str = "", _defaults: Any = None
               ) -> list[tuple[str, str, Any, Any, str]]:
    """(dotted path, flag, field type, default, help) of every leaf field of `cls`, recursively, in field order;
    paths in `skip` left out."""
    rename = rename or {}
    defaults = _defaults if _defaults is not None else cls()
    docs = field_docs(cls)
    found = []
    for f in dataclasses.fields(cls):
        path = f"{_path}{f.name}"
        if path in skip:
            continue
        tp = _base_type(field_types(cls)[f.name])
        if dataclasses.is_dataclass(tp):
            prefix = _prefix if f.name in flatten else f"{_prefix}{f.name}-"
            found += leaf_flags(tp, flatten=flatten, rename=rename, skip=skip, _path=f"{path}.", _prefix=prefix,
                                _defaults=getattr(defaults, f.name))
            continue
        parent = _path.rstrip(".").rsplit(".", 1)[-1]
        name = rename.get(path) or (_prefix.rstrip("-") if f.name == parent and _prefix else f"{_prefix}{f.name}")
        found.append((path, "--" + name.replace("_", "-"), tp, getattr(defaults, f.name), docs.get(f.name, "")))
    return found


def add_config_arguments(parser: argparse.ArgumentParser, cls: type, *, flatten: frozenset[str] = frozenset(),
                         rename: dict[str, str] | None = None, skip: frozenset[str] = frozenset()) -> None:
    """Add a flag for every leaf field of `cls` (recursively); dest is the dotted field path. Help shows the
    default a run really gets, including a parent's override of a nested config's default. Dotted paths in `skip`
    get no flag (fields the command sets itself)."""
    for path, flag, tp, default, doc in leaf_flags(cls, flatten=flatten, rename=rename, skip=skip):
        help_text = doc + ("" if default is None else f" (default: {default})")
        kwargs: dict[str, Any] = {"dest": path, "default": argparse.SUPPRESS, "help": help_text.replace("%", "%%")}
        if tp is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, **kwargs)
        elif typing.get_origin(tp) is tuple:
            item = typing.get_args(tp)[0]
            parser.add_argument(flag, type=item, nargs="+", metavar=item.__name__.upper(), **kwargs)
        elif typing.get_origin(tp) is Literal:
            choices = typing.get_args(tp)
            parser.add_argument(flag, type=type(choices[0]), choices=choices, **kwargs)
        else:
            parser.add_argument(flag, type=tp, metavar=tp.__name__.upper(), **kwargs)


def config_arguments(config: Any, *, flatten: frozenset[str] = frozenset(), rename: dict[str, str] | None = None,
                     skip: frozenset[str] = frozenset()) -> list[str]:
    """The flags that turn the config class's defaults into `config` (the inverse of `config_from_arguments`)."""
    words: list[str] = []
    for path, flag, tp, default, _ in leaf_flags(type(config), flatten=flatten, rename=rename, skip=skip):
        value = config
        for part in path.split("."):
            value = getattr(value, part)
        if value == default:
            continue
        if tp is bool:
            words.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, (tuple, list)):
            words += [flag, *(repr(v) if isinstance(v, float) else str(v) for v in value)]
        elif value is not None:
            words += [flag, repr(value) if isinstance(value, float) else str(value)]
    return words


def config_from_arguments(cls: type[C], namespace: argparse.Namespace, base: C | None = None) -> C:
    """`base` (default: `cls()`) with every dotted-path option present in `namespace` applied, all at once: the
    config is built once from the merged values, so checks across fields (a mask corruption needs --mask) see every
    option the user gave."""
    paths = config_paths(cls)
    given = {path: list(value) if isinstance(value, (list, tuple)) else value
             for path, value in vars(namespace).items() if path in paths}
    return with_paths(base if base is not None else cls(), given)
