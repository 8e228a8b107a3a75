"""The window's views, registered by name, in one stacked widget that makes each on first use.

A view registers itself (`@register_view("race")`) in its module, named `app/views/<name>_view.py` (a dash becomes
an underscore), which `Views.view(name)` imports when the name is first asked for. The names are a task kind's
`view` (race, attack, grid, duel, few-shot; "medium" for a fit) and a medium's registered view (image, audio, video,
mesh: `engine/media/spec.py`), so that a new medium or task kind brings its view without touching the window.

A kind's view offers `clear()` and `show_snapshot(previews, scalars, final)`; a medium's view offers
`show_target(targets)` (the file's ground truth) and `show_previews(previews)` (each new reconstruction).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np
from PySide6.QtWidgets import QStackedWidget, QWidget

from engine.media import MEDIA, medium_spec
from engine.tasks.base import Targets

VIEWS: dict[str, Callable[[], QWidget]] = {}
"""Every registered view's maker, by name."""


def register_view(name: str) -> Callable:
    """Decorator that registers a view class (or any maker of a widget) under `name`."""
    def decorate(maker):
        VIEWS[name] = maker
        return maker

    return decorate


def view_maker(name: str) -> Callable[[], QWidget]:
    """The maker registered as `name`, importing `app/views/<name>_view.py` first when it is not yet registered."""
    if name not in VIEWS:
        try:
            importlib.import_module(f"app.views.{name.replace('-', '_')}_view")
        except ModuleNotFoundError:
            pass
    if name not in VIEWS:
        raise KeyError(f"no view is registered as {name!r} (known: {', '.join(sorted(VIEWS))})")
    return VIEWS[name]


class ReconstructionPreviews:
    """`show_previews` of a view that draws one reconstruction array (`set_reconstruction`): redrawn only when an
    evaluation made a new one."""

    reconstruction: np.ndarray | None

    def show_previews(self, previews: dict[str, np.ndarray]) -> None:
        reconstruction = previews.get("reconstruction")
        if reconstruction is not None and reconstruction is not self.reconstruction:
            self.set_reconstruction(reconstruction)


class Views(QStackedWidget):
    """The window's central area: the views made so far, one shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.made: dict[str, QWidget] = {}

    def view(self, name: str) -> QWidget:
        """The view registered as `name`, made (and stacked) on first use: the mesh view may create an OpenGL
        context, the few-shot view its canvases."""
        if name not in self.made:
            self.made[name] = view_maker(name)()
            self.addWidget(self.made[name])
        return self.made[name]

    def show_targets(self, targets: Targets) -> QWidget | None:
        """Put a fitted file's ground truth into its medium's view and bring that view up; None when there is no
        medium."""
        if targets.medium not in MEDIA:
            return None
        view = self.view(medium_spec(targets.medium).view_name)
        view.show_target(targets)
        self.setCurrentWidget(view)
        return view

    def show_previews(self, previews: dict[str, np.ndarray]) -> None:
        """A fit's snapshot in the medium view on screen."""
        current = self.currentWidget()
        if hasattr(current, "show_previews"):
            current.show_previews(previews)
