"""The settings file the window keeps: one it cannot read is set aside beside itself (never deleted), the window
opens with its defaults and says so, and the bad content never comes back into the fresh file."""
from __future__ import annotations

import gc
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.hostile  # cases an independent hostile probe found

from PySide6.QtCore import QSettings  # noqa: E402

from app.main_window import MainWindow  # noqa: E402

DAMAGED = {
    "geometry as text": "[General]\ngeometry=hello\n",
    "kind as a list": "[General]\nkind=a, b\n",
    "window_state as text": "[General]\nwindow_state=garbage\n",
    "fit_medium as a list": "[General]\nfit_medium=image, audio\n",
    "recent as a number": "[General]\nrecent=@Variant(\\0\\0\\0\\x2\\0\\0\\0\\x5)\n",
    "last_dir as a list": "[General]\nlast_dir=a, b\n",
    "a panel as a list": "[forms]\nfit=a, b\n",
    "the old prior panel and kind as lists": "[General]\nkind=a, b\n[forms]\nprior=x, y\n",
    "not a settings file": "\xff\xfe[[[garbage\n=\n[forms\nfit=1\n",
}


def window_on(qtbot, settings: QSettings) -> MainWindow:
    window = MainWindow(settings)
    qtbot.addWidget(window)
    return window


def set_aside_files(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.unreadable-*"))


@pytest.mark.parametrize("text", DAMAGED.values(), ids=DAMAGED.keys())
def test_an_unreadable_settings_file_is_set_aside_and_the_window_opens_with_its_defaults(qtbot, tmp_path,
                                                                                          text) -> None:
    path = tmp_path / "DEQ Studio.conf"
    path.write_bytes(text.encode("latin-1"))
    window = window_on(qtbot, QSettings(str(path), QSettings.Format.IniFormat))
    [aside] = set_aside_files(path)
    assert aside.read_bytes() == text.encode("latin-1")  # kept as it was, beside itself
    notice = window.statusBar().currentMessage()
    assert notice == window.warnings[-1] and str(aside) in notice and notice.count(". ") == 0
    assert "could not be read" in notice and "default settings" in notice
    assert window.kind == "fit" and window.session.fit_medium == "image" and window.recent.entries() == []
    assert window.settings.fileName() == str(path)
    window.close()  # saves the window's settings into the fresh file
    window.settings.sync()
    again = window_on(qtbot, QSettings(str(path), QSettings.Format.IniFormat))
    assert again.warnings == [] and set_aside_files(path) == [aside] and again.kind == "fit"


def test_bad_values_not_yet_written_go_with_the_old_file_not_into_the_fresh_one(qtbot, tmp_path) -> None:
    path = tmp_path / "settings.ini"
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    settings.setValue("kind", "inverse")
    settings.sync()
    settings.setValue("geometry", "hello")  # pending in this object when the window starts
    window = window_on(qtbot, settings)
    [aside] = set_aside_files(path)
    assert "hello" in aside.read_text() and window.kind == "fit"
    window.close()
    window.settings.sync()
    del settings
    gc.collect()
    fresh = path.read_text()
    assert "hello" not in fresh and "kind=fit" in fresh
    assert window_on(qtbot, QSettings(str(path), QSettings.Format.IniFormat)).warnings == []


def test_well_typed_values_the_window_cannot_use_are_skipped_and_the_file_kept(qtbot, tmp_path) -> None:
    path = tmp_path / "settings.ini"
    path.write_text('[General]\nkind=no-such-task\nfit_medium=sound\nrecent=gone.png\n[forms]\ninverse="{not json"\n'
                    f'attack="{"[" * 100_000}"\n')  # too deep for the JSON reader
    window = window_on(qtbot, QSettings(str(path), QSettings.Format.IniFormat))
    assert window.warnings == [] and set_aside_files(path) == []
    assert window.kind == "fit" and window.session.fit_medium == "image" and window.recent.entries() == ["gone.png"]
    assert window.forms["inverse"].config().sigma == 0.2  # the panel's defaults


def test_a_file_that_cannot_be_moved_stays_as_it_is_and_the_window_still_opens(qtbot, tmp_path,
                                                                               monkeypatch) -> None:
    import tempfile

    def refuse(self, target):
        raise PermissionError(f"cannot rename {self}")

    path = tmp_path / "settings.ini"
    path.write_text("[General]\ngeometry=hello\n")
    monkeypatch.setattr(Path, "rename", refuse)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temporary"))
    (tmp_path / "temporary").mkdir()
    window = window_on(qtbot, QSettings(str(path), QSettings.Format.IniFormat))
    assert path.read_text() == "[General]\ngeometry=hello\n" and window.kind == "fit"
    assert "nor moved aside" in window.warnings[-1] and window.settings.fileName() != str(path)
    window.close()
    window.settings.sync()
    assert path.read_text() == "[General]\ngeometry=hello\n"


def test_the_users_own_settings_are_set_aside_and_found_again_by_name(qtbot, tmp_path) -> None:
    from PySide6.QtCore import QStandardPaths

    native, user = QSettings.Format.NativeFormat, QSettings.Scope.UserScope
    QSettings.setPath(native, user, str(tmp_path))  # where QSettings("DEQ Studio", "DEQ Studio") looks, for now
    try:
        path = Path(QSettings("DEQ Studio", "DEQ Studio").fileName())
        assert tmp_path in path.parents
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("[General]\nkind=a, b\n")
        window = window_on(qtbot, None)  # as `deq-studio` starts it
        [aside] = set_aside_files(path)
        assert aside.read_text() == "[General]\nkind=a, b\n" and window.kind == "fit"
        assert window.settings.organizationName() == "DEQ Studio" and window.settings.fileName() == str(path)
        window.close()
        window.settings.sync()
        assert "kind=fit" in path.read_text()
    finally:
        QSettings.setPath(native, user, QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.GenericConfigLocation))
