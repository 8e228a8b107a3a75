"""The Settings dock: one form per registered task kind (only the current kind's shown), the preset choice above it,
and the fields that apply to the opened file."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from app.panels.config_form import ConfigForm
from engine.config import ConfigError
from engine.tasks.kinds import TASKS, TaskKind

SETTINGS_MIN_WIDTH = 280
"""The settings panel keeps its labels and editors readable at 1024×700."""
PRESETS = {"preview": "Quick preview", "full": "Full quality (the papers' settings)"}


class CurrentPageStack(QStackedWidget):
    """A stack as wide as its current page (a plain QStackedWidget is as wide as its widest page, so one kind's long
    form would make every other kind's panel scroll sideways)."""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        page = self.currentWidget()
        return page.minimumSizeHint() if page is not None else super().minimumSizeHint()


class SettingsPanel(QWidget):
    """Every kind's form, from `starting(kind)`; `preset_chosen` when the user picks a preset, `edited` when the
    current form changes."""

    preset_chosen = Signal(str)
    edited = Signal()

    def __init__(self, starting, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.forms = {kind.name: ConfigForm(kind.title, starting(kind), hidden=kind.fixed | {"device"},
                                            advanced=kind.advanced) for kind in TASKS}
        self.stack = CurrentPageStack()
        for form in self.forms.values():
            form.edited.connect(lambda form=form: form is self.form and self.edited.emit())
            self.stack.addWidget(form)
        self.form = self.forms["fit"]
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.stack)
        self.preset_box = QComboBox()
        for name, text in PRESETS.items():
            self.preset_box.addItem(text, name)
        self.preset_box.setToolTip("Quick preview: small settings that show progress within seconds on this "
                                   "computer. Full quality: the settings of the papers (slow without a GPU). "
                                   "Choosing one replaces the task's settings below.")
        self.preset_box.activated.connect(lambda _: self.preset_chosen.emit(self.preset_box.currentData()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        preset_row = QHBoxLayout()
        preset_row.addWidget(QLabel("Settings:"))
        preset_row.addWidget(self.preset_box, 1)
        layout.addLayout(preset_row)
        layout.addWidget(self.scroll, 1)
        self.setMinimumWidth(SETTINGS_MIN_WIDTH)  # never squeezed to a sliver on a small screen

    def show_kind(self, kind: TaskKind, medium: str | None) -> None:
        """The form of `kind`, scrolled to its top, showing only the fields that apply."""
        self.form = self.forms[kind.name]
        self.stack.setCurrentWidget(self.form)
        self.stack.updateGeometry()
        self.show_applicable(kind, medium)
        self.scroll.verticalScrollBar().setValue(0)

    def show_applicable(self, kind: TaskKind, medium: str | None) -> None:
        """Only the settings that do something as the form stands (for the file's medium, the chosen corruption,
        attack method, ...)."""
        try:
            config = self.form.config()
        except ConfigError:
            return  # an entry being typed; the panel marks it
        self.form.set_inapplicable(kind.inapplicable_fields(config, medium))

    def set_settings(self, settings: Any, kind: TaskKind, medium: str | None) -> None:
        """Put `settings` into the current form."""
        self.form.set_config(settings)
        self.show_applicable(kind, medium)

    def show_preset(self, name: str) -> str:
        """Select preset `name` in the box; its text."""
        self.preset_box.setCurrentIndex(self.preset_box.findData(name))
        return self.preset_box.currentText()
