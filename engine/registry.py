"""A tiny name → object registry that feeds GUI combo boxes and CLI choices."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


REGISTRIES: dict[str, Registry] = {}
"""Every registry by the kind of thing it holds: a config field marked `Registered(kind)` offers its names."""


class Registry(Generic[T]):
    """Maps names to objects (solvers, models, tasks) registered with a decorator.

    Example:
        SOLVERS: Registry[SolverFn] = Registry("solver")

        @SOLVERS.register("picard")
        def picard(...): ...
    """

    def __init__(self, kind: str) -> None:
        if kind in REGISTRIES:
            raise ValueError(f"a registry of {kind}s already exists")
        self.kind = kind
        self._items: dict[str, T] = {}
        REGISTRIES[kind] = self

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers its target under `name` (names are unique)."""

        def decorate(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return decorate

    def get(self, name: str) -> T:
        """The object registered as `name`; a KeyError names the valid choices."""
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        """Registered names in registration order."""
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        """The registered objects in registration order."""
        return iter(list(self._items.values()))

    def unregister(self, name: str) -> T:
        """Remove and return `name` (a test that registers its own entry puts the registry back as it was)."""
        return self._items.pop(name)
