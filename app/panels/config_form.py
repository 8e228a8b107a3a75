"""A form generated from a frozen config dataclass: one editor per field, the field's docstring as its tooltip.

Booleans get check boxes (optional ones an auto / on / off choice), `Literal` fields combo boxes, numbers spin boxes
or line edits (floats like 1e-3 stay readable), optional fields accept an empty entry ("auto"), tuples a
space-separated list, nested configs a titled group. `config()` rebuilds the dataclass, so its own validation runs;
a bad entry raises ConfigError with the field's name and the form marks the field.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QLineEdit, QStyle,
                               QToolButton, QVBoxLayout, QWidget)

from app.panels.plain_names import choice_name, field_name, group_name
from engine.config import ConfigError, field_docs, field_types, picture_file_fields

INVALID_STYLE = "border: 1px solid #d9534f;"


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def label_for(name: str) -> str:
    return field_name(name)


class ConfigForm(QGroupBox):
    """Editors for every field of `config` (recursively); `hidden` names fields (dotted paths) left out; fields
    named in `advanced` (dotted paths: a whole group or one field of a group) go into one collapsed "Advanced
    settings" drawer at the bottom, a nested field labelled with its group's name."""

    edited = Signal()
    """The user chose another value (a choice, a box, or a finished text entry), here or in a nested form."""

    def __init__(self, title: str, config: Any, hidden: frozenset[str] = frozenset(), parent: QWidget | None = None,
                 _path: str = "", advanced: frozenset[str] = frozenset(), _drawer: QFormLayout | None = None) -> None:
        super().__init__(title, parent)
        self.cls, self.base = type(config), config
        self.editors: dict[str, QWidget] = {}
        self.children_forms: dict[str, ConfigForm] = {}
        self.rows: dict[str, tuple[QFormLayout, QWidget]] = {}
        """Each field's row: the layout it is in (this form's own, or the drawer) and its editor (or nested form)."""
        self.simple = QFormLayout()
        self.simple.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer = QVBoxLayout(self)
        outer.addLayout(self.simple)
        if _drawer is None and advanced - hidden:
            _drawer = self._add_drawer(outer)
        docs = field_docs(self.cls)
        for f in dataclasses.fields(self.cls):
            path = f"{_path}{f.name}"
            if path in hidden:
                continue
            tp, optional = _unwrap_optional(field_types(self.cls)[f.name])
            value = getattr(config, f.name)
            in_drawer = path in advanced and _drawer is not None
            layout = _drawer if in_drawer else self.simple
            label = f"{title}: {label_for(f.name).lower()}" if in_drawer and _path else label_for(f.name)
            if dataclasses.is_dataclass(tp):
                group = f"{title}: {group_name(f.name).lower()}" if in_drawer and _path else group_name(f.name)
                child = ConfigForm(group, value, hidden, self,
                                   _path=f"{path}.", advanced=advanced, _drawer=_drawer)
                child.setToolTip(docs.get(f.name, ""))
                child.edited.connect(self.edited)
                self.children_forms[f.name] = child
                layout.addRow(child)
                self.rows[f.name] = (layout, child)
                continue
            editor = self._editor(tp, optional, value, f.name)
            _on_edit(editor, lambda *_, editor=editor: editor.setStyleSheet(""))  # a corrected entry loses its mark
            _on_choice(editor, self.edited.emit)
            editor.setToolTip(docs.get(f.name, ""))
            editor.setObjectName(path)
            if f.name in picture_file_fields(self.cls):
                self._add_picture_chooser(editor, label)
            self.editors[f.name] = editor
            layout.addRow(label, editor)
            layout.labelForField(editor).setToolTip(docs.get(f.name, ""))  # the field's own words, not its group's
            self.rows[f.name] = (layout, editor)

    def _add_picture_chooser(self, editor: QLineEdit, label: str) -> None:
        """A button inside a picture file's entry that chooses the file (from the entry's folder, else home)."""
        from engine.media.image import IMAGE_EXTENSIONS

        def choose() -> None:
            folder = Path(editor.text()).parent if editor.text().strip() else Path.home()
            pictures = " ".join(f"*{extension}" for extension in IMAGE_EXTENSIONS)
            path, _ = QFileDialog.getOpenFileName(self, f"Choose the {label.lower()}",
                                                  str(folder if folder.is_dir() else Path.home()),
                                                  f"Pictures ({pictures});;All files (*)")
            if path:
                editor.setText(path)
                editor.setStyleSheet("")
                self.edited.emit()

        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon)
        chooser = editor.addAction(icon, QLineEdit.ActionPosition.TrailingPosition)
        chooser.setToolTip(f"Choose the {label.lower()} file…")
        chooser.setObjectName(f"choose-{editor.objectName() or 'file'}")
        chooser.triggered.connect(choose)
        editor.chooser = chooser

    def _add_drawer(self, outer: QVBoxLayout) -> QFormLayout:
        """The collapsed "Advanced settings" drawer under the simple fields; returns its layout."""
        self.advanced_button = QToolButton()
        self.advanced_button.setText("Advanced settings")
        self.advanced_button.setCheckable(True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_button.setToolTip("Solver internals and other settings most runs leave as they are")
        self.advanced_box = QWidget()
        drawer = QFormLayout(self.advanced_box)
        drawer.setContentsMargins(0, 0, 0, 0)
        drawer.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.advanced_box.setVisible(False)
        self.advanced_button.toggled.connect(self.show_advanced)
        outer.addWidget(self.advanced_button)
        outer.addWidget(self.advanced_box)
        outer.addStretch(1)  # the drawer follows the simple fields, however tall the panel
        return drawer

    def show_advanced(self, on: bool) -> None:
        """Open or close the Advanced settings drawer."""
        self.advanced_button.setChecked(on)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.advanced_box.setVisible(on)

    def set_inapplicable(self, paths: frozenset[str], _path: str = "") -> None:
        """Hide the rows of the fields (dotted paths) that do not apply now, and show every other row; hidden
        fields keep their values."""
        for name, (layout, widget) in self.rows.items():
            layout.setRowVisible(widget, f"{_path}{name}" not in paths)
        for name, child in self.children_forms.items():
            child.set_inapplicable(paths, f"{_path}{name}.")
            if self.rows[name][0] is self.simple and f"{_path}{name}" not in paths:  # no empty group in Simple
                self.simple.setRowVisible(child, child.has_simple_rows(paths, f"{_path}{name}."))

    def has_simple_rows(self, paths: frozenset[str], _path: str = "") -> bool:
        """Whether any field of this form that applies sits in its own (simple) part."""
        def shows(name: str, layout: QFormLayout) -> bool:
            child = self.children_forms.get(name)
            return (layout is self.simple and f"{_path}{name}" not in paths
                    and (child is None or child.has_simple_rows(paths, f"{_path}{name}.")))

        return any(shows(name, layout) for name, (layout, _) in self.rows.items())

    @staticmethod
    def _editor(tp: Any, optional: bool, value: Any, name: str = "") -> QWidget:
        if tp is bool and optional:  # three states: the default (auto), on, off
            combo = QComboBox()
            for text, choice in (("auto", None), ("on", True), ("off", False)):
                combo.addItem(text, choice)
            combo.setCurrentIndex(max(0, combo.findData(value)))
            return combo
        if tp is bool:
            box = QCheckBox()
            box.setChecked(bool(value))
            return box
        if typing.get_origin(tp) is Literal:
            combo = QComboBox()
            for choice in typing.get_args(tp):
                combo.addItem(choice_name(name, choice), choice)
            # long plain names never widen the panel: the list shows them whole
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
            combo.setCurrentIndex(max(0, combo.findData(value)))
            return combo
        edit = QLineEdit("" if value is None else format_value(value))
        if optional:
            edit.setPlaceholderText("auto")
        return edit

    def set_config(self, config: Any) -> None:
        """Show the values of `config` (same class)."""
        self.base = config
        for name, editor in self.editors.items():
            value = getattr(config, name)
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox):
                editor.setCurrentIndex(max(0, editor.findData(value)))
            else:
                editor.setText("" if value is None else format_value(value))
        for name, child in self.children_forms.items():
            child.set_config(getattr(config, name))

    def config(self) -> Any:
        """The dataclass the form shows; ConfigError (naming the field) when an entry is invalid."""
        values: dict[str, Any] = {}
        for name, editor in self.editors.items():
            tp, optional = _unwrap_optional(field_types(self.cls)[name])
            editor.setStyleSheet("")
            shown = getattr(self.base, name)
            untouched = "" if shown is None else format_value(shown)
            if isinstance(editor, QLineEdit) and editor.text().strip() == untouched:
                values[name] = shown  # the exact value, not its rounded text (an input scale of 2595.658…)
                continue
            try:
                values[name] = read_editor(editor, tp, optional)
            except (ValueError, TypeError) as exc:
                editor.setStyleSheet(INVALID_STYLE)
                raise ConfigError(f"{label_for(name)}: {exc}") from None
        for name, child in self.children_forms.items():
            values[name] = child.config()
        try:
            return dataclasses.replace(self.base, **values)
        except ConfigError:
            raise
        except (TypeError, ValueError) as exc:
            raise ConfigError(str(exc)) from None


def _on_edit(editor: QWidget, slot) -> None:
    """Call `slot` whenever the user changes `editor`."""
    if isinstance(editor, QLineEdit):
        editor.textEdited.connect(slot)
    elif isinstance(editor, QComboBox):
        editor.currentIndexChanged.connect(slot)
    elif isinstance(editor, QCheckBox):
        editor.toggled.connect(slot)


def _on_choice(editor: QWidget, slot) -> None:
    """Call `slot` when the user settles a value of `editor` (not on every keystroke)."""
    if isinstance(editor, QLineEdit):
        editor.editingFinished.connect(slot)
    elif isinstance(editor, QComboBox):
        editor.activated.connect(lambda _: slot())
    elif isinstance(editor, QCheckBox):
        editor.clicked.connect(lambda _: slot())


def format_value(value: Any) -> str:
    if isinstance(value, tuple):
        return " ".join(format_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def read_editor(editor: QWidget, tp: Any, optional: bool) -> Any:
    """The typed value an editor holds."""
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, QComboBox):
        return editor.currentData()
    text = editor.text().strip()
    if not text:
        if optional:
            return None
        if tp is str:
            return ""
        raise ValueError("a value is needed")
    try:
        if typing.get_origin(tp) is tuple:
            item = typing.get_args(tp)[0]
            return tuple(_number(part, item) for part in text.replace(",", " ").split())
        if tp in (int, float):
            return _number(text, tp)
    except ValueError:
        if typing.get_origin(tp) is tuple:
            raise ValueError(f"enter numbers separated by spaces, not {text!r}") from None
        raise
    return text


def _number(text: str, tp: type) -> Any:
    """`text` as an int or a float; ValueError with a sentence saying what to enter."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"enter {'a whole number' if tp is int else 'a number'}, not {text!r}") from None
    if tp is int:
        if not value.is_integer():
            raise ValueError(f"enter a whole number, not {text!r}")
        return int(value)
    return value
