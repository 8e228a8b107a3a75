"""The window's file dialogs and writes: the Open dialog (every extension the engine reads) and opening a file,
snapshots (run folders), the result in its medium (and rendered at another size or rate), metrics, the curves and a
screenshot. Each write says "Saved to
..." in the status bar; a failure becomes a sentence in a dialog.

A mixin of `MainWindow`: it uses the window's session, curves, status bar and `report_error`.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.atomic_files import atomic_path
from engine.errors import failure_sentence
from engine.media import SignalError, medium_of, supported_extensions
from engine.tasks.kinds import TASKS


NETWORK_SUFFIX = ".safetensors"
"""A fitted network's file (`deq-studio fit` writes network.safetensors beside every reconstruction)."""


def file_filter() -> str:
    """The Open dialog's filter: every registered medium's suffixes."""
    return (f"Signals ({' '.join('*' + extension for extension in supported_extensions())});;"
            f"Fitted networks (*{NETWORK_SUFFIX});;All files (*)")


class FileActions:
    """Open / save / export actions of the File menu (and the snapshot loader's dialog)."""

    def start_folder(self) -> Path:
        """Where the file dialogs open: the folder last used, else the home folder (never the program's own)."""
        last = Path(str(self.settings.value("last_dir", "") or Path.home()))
        return last if last.is_dir() else Path.home()

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a signal", str(self.start_folder()), file_filter())
        if path:
            self.open_file(Path(path))

    def choose_new_folder(self, title: str, name: str) -> Path | None:
        """A folder to write into, typed as a name (a new one is made) or picked; None when cancelled."""
        path, _ = QFileDialog.getSaveFileName(self, title, str(self.start_folder() / name), "Folders (*)")
        if not path:
            return None
        self.settings.setValue("last_dir", str(Path(path).parent))
        return Path(path)

    def smaller_settings(self, exc: Exception, settings):
        """`settings` with the changes a file too large to read at once offers (`TooLarge.smaller`), when they apply
        and the user accepts them; else None."""
        smaller = self.session.smaller_settings(exc, settings)
        return smaller if smaller is not None and self.accepts_smaller(str(exc)) else None

    def accepts_smaller(self, message: str) -> bool:
        """Ask whether to open a file too large to read at once with the smaller settings `message` names."""
        box = QMessageBox(QMessageBox.Icon.Question, "DEQ Studio", message, parent=self)
        smaller = box.addButton("Open it smaller", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is smaller

    def choose_snapshot_folder(self) -> None:
        kind = self.session.kind
        name = kind.run_name(self.task.config, self.path) if self.task is not None else kind.name
        folder = self.choose_new_folder("Save the snapshot as a folder (a new name makes it)", name)
        if folder is not None:
            self.save_snapshot(folder)

    def save_snapshot(self, folder: str | Path) -> Path | None:
        """A resumable run folder of the current task (fits, generative priors, classifier training): `folder`, or a
        fresh subfolder of it when it holds other files. Returns the run folder."""
        if self.task is None or not self.session.kind.resumable or self.controller.busy:
            return None
        try:
            saved = self.session.save(folder)
        except Exception as exc:  # noqa: BLE001 — the one error path: a sentence, nothing else changes
            self.report_error(f"Could not save the snapshot: {failure_sentence(exc, 'saving a snapshot')}")
            return None
        return self.saved_to(saved)

    def choose_snapshot_to_load(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Load a snapshot (a run folder)", str(self.start_folder()))
        if folder:
            self.load_snapshot(folder)

    def choose_export_folder(self) -> None:
        name = f"{self.path.stem if self.path is not None else self.session.kind.name}-result"
        folder = self.choose_new_folder("Export the result into a folder (a new name makes it)", name)
        if folder is not None:
            self.export_reconstruction(folder)

    def export_reconstruction(self, folder: str | Path) -> Path | None:
        """The reconstruction in its medium (PNG, WAV, MP4 or PLY), or another task's result, as the CLI writes
        it."""
        try:
            return self.saved_to(self.session.export(folder))
        except Exception as exc:  # noqa: BLE001 — the one error path: a sentence, nothing else changes
            self.report_error(f"Could not export: {failure_sentence(exc, 'exporting a result')}")
            return None

    def choose_render(self) -> None:
        """File ▸ Render at another size…: the grid (a scale, a sample or frame rate), then where to save it."""
        from app.render_dialog import ask_grid, ask_render_path
        from engine.fitted_network import render_name

        if not self.session.renderable():
            return
        network = self.session.network()
        grid = ask_grid(self, network)
        if grid is None:
            return
        try:
            shape, rate = network.target_shape(**grid)
        except Exception as exc:  # noqa: BLE001 — a grid too large: a sentence
            self.report_error(f"Could not render: {failure_sentence(exc, 'rendering')}")
            return
        path = ask_render_path(self, render_name(self.start_folder() / Path(network.source or "render").stem,
                                                 network.medium, shape, rate))
        if path is not None:
            self.settings.setValue("last_dir", str(path.parent))
            self.render_to(path, **grid)

    def render_to(self, path: str | Path, **grid: float) -> Path | None:
        """The fit rendered on another grid (`Session.render`: scale, size or rate) into `path`."""
        try:
            return self.saved_to(self.session.render(path, **grid))
        except Exception as exc:  # noqa: BLE001 — the one error path: a sentence, nothing else changes
            self.report_error(f"Could not render: {failure_sentence(exc, 'rendering')}")
            return None

    def saved_to(self, path: Path) -> Path:
        """Say in the status bar where a file was written; returns `path`."""
        self.statusBar().showMessage(f"Saved to {path}", 10_000)
        return Path(path)

    def choose_metrics_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export metrics", str(self.start_folder() / "metrics.csv"),
                                              "CSV, every run (*.csv);;JSON lines, every run (*.jsonl)")
        if path:
            self.export_metrics(path)

    def export_metrics(self, path: str | Path) -> Path | None:
        """Every run's metrics rows: CSV with a run column, or JSON lines with a "run" key (by the suffix)."""
        try:
            if Path(path).suffix.lower() == ".jsonl":
                return self.saved_to(self.session.history.export_jsonl(path))
            return self.saved_to(self.session.history.export_csv(path))
        except OSError as exc:
            self.report_error(f"Could not export the metrics: {failure_sentence(exc, 'exporting metrics')}")
            return None

    def choose_curves_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the curves", str(self.start_folder() / "curves.png"),
                                              "PNG, twice the screen's resolution (*.png);;SVG (*.svg)")
        if path:
            self.export_curves(path)

    def export_curves(self, path: str | Path) -> Path | None:
        """The plots alone, as PNG or SVG (by the suffix; none means PNG)."""
        path = Path(path)
        if path.suffix.lower() not in (".png", ".svg"):
            path = path.with_name(path.name + ".png")
        try:
            return self.saved_to(self.curves.export_image(path))
        except OSError as exc:
            self.report_error(f"Could not export the curves: {failure_sentence(exc, 'exporting the curves')}")
            return None

    def choose_screenshot_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export a screenshot of the window",
                                              str(self.start_folder() / "deq-studio.png"),
                                              "PNG (*.png);;JPEG (*.jpg)")
        if path:
            self.save_screenshot(path)

    def save_screenshot(self, path: str | Path) -> Path | None:
        """The whole window as a picture."""
        picture = self.grab()
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as temporary:
                if not picture.save(str(temporary)):
                    raise OSError(f"could not write {Path(path).name}")
        except OSError:
            self.report_error(f"Could not write the screenshot {path}: use a .png or .jpg name in a folder you "
                              "can write to")
            return None
        return self.saved_to(Path(path))

    def open_file(self, path: str | Path, settings=None) -> bool:
        """Load `path` and build its fit task (with `settings`, else the panel's, or the starting settings of a new
        medium); a bad file is reported and nothing else changes; a file too large is offered smaller."""
        if self.controller.busy:
            self.report_error("Stop the current run before opening another file.")
            return False
        path = Path(path)
        if path.suffix.lower() == NETWORK_SUFFIX:
            return self.open_network(path)
        try:
            medium = medium_of(path)
        except SignalError as exc:
            self.report_error(str(exc))  # the loaders' messages are whole sentences naming the file
            return False
        before = self.session.kind  # a kind on a file (a duel) stays when it takes this file
        try:
            if settings is None:
                if medium == self.session.fit_medium:
                    self.panel.settings_of("fit")  # what is typed in the fit's panel
                settings = self.session.opening_settings(medium)
            self.status.setText(f"{self.device_label} · Loading {path.name} …")
            self.status.repaint()
            task = self.session.open(path, settings)
        except Exception as exc:  # noqa: BLE001 — nothing changed: the kind, the file, its panel and its view stay
            self._show_ready()
            smaller = self.smaller_settings(exc, settings)
            if smaller is not None:
                return self.open_file(path, smaller)
            text = failure_sentence(exc, f"opening {path.name}")
            self.report_error(text if isinstance(exc, SignalError) else f"Could not open {path.name}: {text}")
            return False
        for kind in TASKS:  # the fit's settings, and a new medium's for every kind on a file (a duel)
            if kind.needs_file:
                self.forms[kind.name].set_config(self.session.settings_of(kind.name))
        self._show_kind("fit")
        self.settings.setValue("last_dir", str(path.parent))
        self.recent.remember(path)
        self.views.show_targets(task.targets())
        self._show_ready()
        self._update_actions(self.controller.state)
        if before.needs_file and before.name != "fit":
            refusal = before.refusal(medium, path.name)
            if refusal:
                self.statusBar().showMessage(refusal, 12000)
            else:
                self.set_kind(before.name, reopen=False)
                view = self.kind_view()  # a duel's; a restore shows the file in the medium's own view
                if view is not None:
                    view.show_snapshot({"target": task.targets().arrays["signal"]}, {})
        self.restore_controls.sync()
        return True

    def open_network(self, path: Path) -> bool:
        """A network file a fit wrote: its signal, rendered on the grid it was fitted on, in its medium's view, and
        File ▸ Render at another size… renders it on any other; a file that is not one is reported, nothing changes."""
        from engine.tasks.base import Targets

        try:
            network = self.session.open_network(path)
            shown = network.render()
        except Exception as exc:  # noqa: BLE001 — the one error path: a sentence, nothing else changes
            self.report_error(f"Could not open {path.name}: {failure_sentence(exc, f'opening {path.name}')}")
            return False
        self.settings.setValue("last_dir", str(path.parent))
        self.recent.remember(path)
        self.views.show_targets(Targets(network.medium, {"signal": shown}, network.rate, ""))
        self._show_ready()
        self._update_actions(self.controller.state)
        self.statusBar().showMessage(
            f"{path.name}: {network.config.model.model} fitted to {network.source}, {path.stat().st_size / 1024:.1f} "
            f"KB, shown as fitted ({network.describe()}). File ▸ Render at another size… renders it on any grid.",
            30_000)
        return True

    def load_snapshot(self, folder: str | Path) -> bool:
        """Reopen a run folder (from this window or the CLI) where it stopped; its curves join the overlay (a race's
        or an attack's curves alone)."""
        if self.controller.busy:
            return False
        name = Path(folder).name
        try:
            opened = self.session.load(folder)
        except Exception as exc:  # noqa: BLE001 — the one error path: a sentence, nothing else changes
            self.report_error(f"Could not load the snapshot {name}: {failure_sentence(exc, 'loading a snapshot')}")
            return False
        self._overlay(self.session.history.runs[-1].name, opened.rows)
        if opened.task is None:
            self.statusBar().showMessage(f"{name}: the curves of this {opened.kind.name} run were added", 8000)
            return True
        self._show_kind(opened.kind.name)
        self.panel.put_settings(opened.kind.name, opened.settings)
        snap = opened.snapshot
        previews, scalars, final = (snap.previews, snap.scalars, snap.final) if snap is not None else ({}, {}, False)
        view = self.kind_view()
        if view is None:
            self.views.show_targets(opened.task.targets())
            self.views.show_previews(previews)
        else:
            view.clear()
            view.show_snapshot(previews, scalars, final=final)
            self.views.setCurrentWidget(view)
        self._show_ready()
        self._update_actions("idle")
        return True

    def _overlay(self, name: str, rows: list[dict]) -> None:
        """A finished run's rows as a new overlaid run in the curves."""
        self.curves.add_run(name)
        for row in rows:
            self.curves.add_row(row)

    # ---- drag and drop ---------------------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt API)
        urls = event.mimeData().urls()
        if urls:
            self.open_file(Path(urls[0].toLocalFile()))
