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
    """Every kind's form, editing that kind's settings in the session (`app/session.py`); `preset_chosen` when the
    user picks a preset, `edited` when a choice in the current form changes.

    A choice (a box, a tick) reaches the session at once; typed text when it is read (`settings_of`, at Start, at
    opening a file, before a control changes the settings), so an entry being typed is never taken half-written."""

    preset_chosen = Signal(str)
    edited = Signal()

    def __init__(self, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.forms = {kind.name: ConfigForm(kind.title, session.settings_of(kind.name), hidden=kind.fixed | {"device"},
                                            advanced=kind.advanced) for kind in TASKS}
        self.stack = CurrentPageStack()
        for name, form in self.forms.items():
            form.edited.connect(lambda name=name: self._chosen(name))
            self.stack.addWidget(form)
        self.current = "fit"
        """The kind whose form is shown."""
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

    @property
    def form(self) -> ConfigForm:
        return self.forms[self.current]

    # ---- the session's settings ----------------------------------------------------------------------------------
    def settings_of(self, name: str | None = None) -> Any:
        """Kind `name`'s settings as its form shows them (the current kind's when None), handed to the session;
        ConfigError (naming the field, marked in the form) when an entry does not read."""
        name = name or self.session.kind.name
        self.session.set_settings(name, self.forms[name].config())
        return self.session.settings_of(name)

    def put_settings(self, name: str, settings: Any) -> None:
        """Kind `name` runs with `settings` from its next Start: the session keeps them and its form shows them."""
        self.session.set_settings(name, settings)
        self.forms[name].set_config(settings)
        if name == self.current:
            self.show_applicable()

    def edit_settings(self, name: str, change) -> Any:
        """Kind `name`'s settings (its form read first) changed by `change` (old → new); ConfigError changes
        nothing. Returns the new settings."""
        settings = change(self.settings_of(name))
        self.put_settings(name, settings)
        return settings

    def take_all(self) -> None:
        """Every form's entries that read, handed to the session (before its settings are kept for the next start;
        a form with an invalid entry leaves the kind's last settings)."""
        for name in self.forms:
            try:
                self.settings_of(name)
            except ConfigError:
                continue

    def _chosen(self, name: str) -> None:
        try:
            self.settings_of(name)
        except ConfigError:
            pass  # an entry being typed; the panel marks it
        if name == self.current:
            self.edited.emit()

    # ---- what is shown -------------------------------------------------------------------------------------------
    def show_kind(self, kind: TaskKind) -> None:
        """The form of `kind`, scrolled to its top, showing only the fields that apply."""
        self.current = kind.name
        self.stack.setCurrentWidget(self.form)
        self.stack.updateGeometry()
        self.show_applicable()
        self.scroll.verticalScrollBar().setValue(0)

    def show_applicable(self) -> None:
        """Only the current form's settings that do something as it stands (for the file's medium, the chosen
        corruption, attack method, ...)."""
        try:
            config = self.form.config()
        except ConfigError:
            return  # an entry being typed; the panel marks it
        self.form.set_inapplicable(TASKS.get(self.current).inapplicable_fields(config, self.session.fit_medium))

    def show_preset(self, name: str) -> str:
        """Select preset `name` in the box; its text."""
        self.preset_box.setCurrentIndex(self.preset_box.findData(name))
        return self.preset_box.currentText()
