"""The window's session, without Qt: the task kind, the opened file, every kind's settings, the task and its rows,
every run's curves, and open / start / pause / resume / stop / reset / save / load / export. `MainWindow` wires views
and forms to it: a form edits one kind's settings here, and so do the views' controls (a slider, a painted mask).

The session never runs a step itself: it hands the task and its schedule to a `Runner` (the Qt `RunController`,
which trains in a worker thread; `InlineRunner` trains in the caller's thread, for tests and scripts), and the runner
feeds every logged row back through `record`. Rows read from run folders keep only what the curves can draw
(`app/run_history.py`).
"""
from __future__ import annotations

import dataclasses
import weakref
from pathlib import Path
from collections.abc import Callable
from typing import Any, Protocol

import torch

from app.run_history import RunHistory, drawable_rows
from app.run_phase import RunPhase
from engine.errors import UserError
from engine.runs import ReopenedRun, reopen_run, save_run
from engine.tasks.base import Task
from engine.tasks.kinds import TASKS, TaskKind, task_kind


CONTINUED_FIELDS = ("steps", "log_every", "eval_every", "lr")
"""The settings a trained task takes without a rebuild: its schedule and its learning rate (lowered after a
divergence, say)."""


class SessionError(UserError):
    """An action that cannot be done now; the message says why."""


class Runner(Protocol):
    """What trains a task: started with its schedule, paused, resumed and stopped between steps."""

    @property
    def busy(self) -> bool: ...

    def start(self, task: Task, steps: int, *, log_every: int, eval_every: int, history: list[dict] = ()) -> None:
        """`history`: the rows the task logged before (a loaded or continued run), for its divergence guard."""

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def stop(self) -> None: ...


@dataclasses.dataclass(frozen=True)
class Started:
    """What `Session.start` began: the run's name, the steps planned, and whether the task was built for it (a race,
    no task yet, or changed settings of an untrained one) rather than the opened or trained one."""

    name: str
    steps: int
    fresh: bool
    from_step: int
    """Steps the task had done when it started."""
    from_seconds: float
    """Its training seconds then (evaluations excluded)."""


@dataclasses.dataclass(frozen=True)
class Ready:
    """The window between runs: what its title names (the file, or the kind), the steps done of the steps planned,
    and the status line."""

    shown: str | None
    done: int
    total: int
    line: str


class Session:
    """One window's state and actions."""

    def __init__(self, runner: Runner, device: torch.device) -> None:
        self.runner = runner
        self.device = device
        self.kind: TaskKind = task_kind("fit")
        self.path: Path | None = None
        """The opened file (fits)."""
        self.task: Task | None = None
        self.opened_network = None
        """A network file opened to view and render (`open_network`), until a file is opened or a run starts."""
        self.built_from: Any = None
        """The settings the task was built from (changed settings rebuild an untrained task)."""
        self.rows: list[dict] = []
        """Every metrics row of the current task since it was built (what a saved run holds)."""
        self.history = RunHistory()
        self.run_count = 0
        self.fit_medium = "image"
        self.run_phase = RunPhase()
        """What the run is doing (Ready, Training, Paused, …) and its speed: what the status bar says."""
        self.saved: dict[Path, tuple[weakref.ref, Path]] = {}
        """Folder chosen (or loaded) → (the task saved there, the run folder it is in): saving the same task there
        again rewrites that run folder; any other task gets a folder of its own."""
        self.settings: dict[str, Any] = {}
        """Every kind's settings by its name, as last set (a kind not set yet starts from `starting_settings`)."""

    # ---- settings ------------------------------------------------------------------------------------------------
    def starting_settings(self, kind: TaskKind, medium: str | None = None) -> Any:
        """The settings a kind starts from in the window: its preview preset on this device."""
        return kind.preset("preview", self.device, medium or self.fit_medium)

    def settings_of(self, name: str | None = None) -> Any:
        """The settings of kind `name` (the current kind when None)."""
        name = name or self.kind.name
        if name not in self.settings:
            self.settings[name] = self.starting_settings(task_kind(name))
        return self.settings[name]

    def set_settings(self, name: str, settings: Any) -> None:
        """Kind `name` runs with `settings` from its next Start (a running task is not changed)."""
        expected = type(self.settings_of(name))
        if type(settings) is not expected:
            raise TypeError(f"the {name} kind's settings are a {expected.__name__}, not a {type(settings).__name__}")
        self.settings[name] = settings

    def edit_settings(self, name: str, change: Callable[[Any], Any]) -> Any:
        """Kind `name`'s settings changed by `change` (old settings → new; a ConfigError from it changes nothing);
        returns the new settings."""
        settings = change(self.settings_of(name))
        self.set_settings(name, settings)
        return settings

    def opening_settings(self, medium: str) -> Any:
        """The settings a file of `medium` opens with: the fit's, or the medium's preview preset when the last file
        was of another medium."""
        if medium == self.fit_medium:
            return self.settings_of("fit")
        return self.starting_settings(task_kind("fit"), medium)

    def _medium_settings(self, medium: str) -> None:
        """A file of another medium: the fit and every other kind on a file (a duel) start from its settings."""
        for kind in TASKS:
            if kind.needs_file:
                self.settings[kind.name] = self.starting_settings(kind, medium)

    @property
    def busy(self) -> bool:
        return self.runner.busy

    # ---- actions -------------------------------------------------------------------------------------------------
    def set_kind(self, name: str) -> TaskKind:
        """Switch the task kind between runs; the current task is dropped (the opened file is kept)."""
        if self.busy:
            raise SessionError("Stop the current run before switching tasks.")
        self.kind = task_kind(name)
        self.task, self.built_from, self.rows = None, None, []
        return self.kind

    def open(self, path: str | Path, settings: Any = None) -> Task:
        """Build the fit task of `path` from `settings` (None: the fit's settings, or the preview preset of the
        file's medium when it differs from the last file's); they become the fit's settings. On bad input the
        engine's error is raised and nothing changes."""
        from engine.media import medium_of

        if self.busy:
            raise SessionError("Stop the current run before opening another file.")
        path = Path(path)
        medium = medium_of(path)
        kind = task_kind("fit")
        settings = self.opening_settings(medium) if settings is None else settings
        task = kind.build(self._on_device(settings), path, self.device)
        if medium != self.fit_medium:
            self._medium_settings(medium)
        self.kind, self.path, self.fit_medium = kind, path, medium
        self.task, self.built_from, self.rows = task, settings, []
        self.opened_network = None
        self.set_settings("fit", settings)
        return task

    def open_network(self, path: str | Path):
        """A network file a fit wrote (network.safetensors, or its run folder), to view and render at any size; the
        current task and file stay. Raises a sentence on a file that is not one."""
        from engine.fitted_network import load_network

        if self.busy:
            raise SessionError("Stop the current run before opening a network.")
        self.opened_network = load_network(path, self.device)
        return self.opened_network

    def needs_rebuild(self, settings: Any) -> bool:
        """Whether `settings` differ from the trained task's in more than its schedule (steps, log and evaluation
        cadence): continuing would ignore them, so the user chooses between a restart and the old settings."""
        task = self.task
        if task is None or task.step_count == 0 or self.kind.race or self.built_from is None:
            return False
        return self.continued_settings(settings) != settings

    def continued_settings(self, settings: Any) -> Any:
        """The settings the trained task continues with: the ones it was built from, with the schedule and the
        learning rate of `settings`."""
        names = {field.name for field in dataclasses.fields(self.built_from)}.intersection(CONTINUED_FIELDS)
        return dataclasses.replace(self.built_from, **{name: getattr(settings, name) for name in names})

    def start(self, settings: Any = None, restart: bool = False) -> Started:
        """Start the current kind with `settings` (None: its settings here): a new task (a race, a first run,
        changed settings of an untrained task, or `restart`), or the trained task continued with the settings'
        schedule; they become the kind's settings. Raises on bad input."""
        if self.busy:
            raise SessionError("A run is in progress.")
        settings = self.settings_of() if settings is None else settings
        self.set_settings(self.kind.name, settings)
        kind, task = self.kind, self.task
        fresh = (restart or kind.race or task is None
                 or (settings != self.built_from and task.step_count == 0))
        if fresh:
            if kind.needs_file and self.path is None:
                raise SessionError("Open a file first.")
            task = kind.build(self._on_device(settings), self.path if kind.needs_file else None, self.device)
            self.task, self.built_from, self.rows = task, settings, []
        elif task.step_count > 0:  # a trained task keeps its model; only the schedule and the lr can change
            if settings.steps <= task.step_count:
                raise SessionError(f"This model has already trained {task.step_count} steps, and Steps counts every "
                                   f"step from the first: set Steps above {task.step_count} to train on, or Reset to "
                                   f"start again with {settings.steps}.")
            task.reschedule(settings.steps, settings.log_every, settings.eval_every)
            task.set_lr(getattr(settings, "lr", None))  # a kind without a learning rate ignores it
        assert self.task is not None
        self.opened_network = None
        self.run_count += 1
        name = f"{self.path.stem if kind.needs_file and self.path else kind.name} #{self.run_count}"
        self.history.add_run(name)
        schedule, from_step, from_seconds = self.task.schedule(), self.task.step_count, self.task.train_time
        self.run_phase.started(from_seconds, from_step, schedule.eval_every, self.task.final_evaluation_weight())
        self.runner.start(self.task, schedule.steps, log_every=schedule.log_every, eval_every=schedule.eval_every,
                          history=list(self.rows))
        return Started(name, schedule.steps, fresh, from_step, from_seconds)

    def ready(self) -> Ready:
        """What the window says between runs (the phase becomes Ready)."""
        self.run_phase.phase = "Ready"
        task, kind = self.task, self.kind
        shown = (self.path.name if self.path is not None else None) if kind.needs_file else kind.title
        done = task.step_count if task is not None else 0
        total = task.schedule().steps if task is not None else 1
        what = task.describe() if task is not None else kind.title
        return Ready(shown, done, total, f"Ready · {what}" + (f" · step {done}/{total}" if done else ""))

    def record(self, row: dict) -> None:
        """A logged row of the running task (the runner calls this for every row)."""
        self.rows.append(row)
        self.history.add_row(row)

    def pause(self) -> None:
        self.runner.pause()
        self.run_phase.paused(True)

    def resume(self) -> None:
        self.runner.resume()
        self.run_phase.paused(False)

    def stop(self) -> None:
        self.runner.stop()
        self.run_phase.phase = "Stopping"

    def smaller_settings(self, exc: Exception, settings: Any) -> Any:
        """`settings` with the changes a file too large to read at once offers (`TooLarge.smaller`), when they
        apply to these settings; else None (the window asks before it uses them)."""
        from engine.config import config_paths, with_paths
        from engine.media import TooLarge

        if not (isinstance(exc, TooLarge) and exc.smaller and set(exc.smaller) <= config_paths(type(settings))):
            return None
        return with_paths(settings, exc.smaller)

    def reset(self, settings: Any = None) -> Task | None:
        """Discard the trained state: a fit is rebuilt from `settings` (its file reopened); other kinds start
        afresh at their next Start."""
        if self.busy:
            raise SessionError("Stop the current run first.")
        if self.kind.needs_file and self.path is not None and settings is not None:
            return self.open(self.path, settings)
        self.task, self.built_from, self.rows = None, None, []
        return None

    def save(self, folder: str | Path) -> Path:
        """The current task as a resumable run folder (`deq-studio resume` continues it): `folder` if new or empty
        or saved before by this session, else a fresh subfolder of it. Returns the run folder."""
        if self.task is None or not self.kind.resumable:
            raise SessionError("There is no resumable task to save.")
        if self.busy:
            raise SessionError("Stop the current run before saving.")
        folder = Path(folder).resolve()
        task, earlier = self.task, self.saved.get(folder)
        if earlier is not None and earlier[0]() is task and (earlier[1] / "config.json").is_file():
            run = save_run(earlier[1], self.kind, task, self.rows, self.path if self.kind.needs_file else None,
                           rewrite=True)
        else:
            run = save_run(folder, self.kind, task, self.rows, self.path if self.kind.needs_file else None)
        self._remember(task, folder, run.path)
        return run.path

    def saved_folder(self) -> Path | None:
        """The run folder the current task was saved into or loaded from (saving it again continues that run);
        None when it has none."""
        for task, run in self.saved.values():
            if task() is self.task and self.task is not None and (run / "config.json").is_file():
                return run
        return None

    def load(self, folder: str | Path) -> ReopenedRun:
        """Reopen a run folder (from this window or the CLI) where it stopped; its curves join the history (rows
        without a usable step left out, and values that are not numbers). A race's folder brings its curves alone.
        Raises the engine's errors for folders that are not runs."""
        if self.busy:
            raise SessionError("Stop the current run before loading another.")
        opened = reopen_run(folder, self.device)
        opened = dataclasses.replace(opened, rows=drawable_rows(opened.rows))  # a bad line never reaches the curves
        name = Path(folder).name
        if opened.task is None:
            self.history.add_run(name, opened.rows)
            return opened
        self.kind, self.task, self.built_from, self.rows = opened.kind, opened.task, opened.settings, list(opened.rows)
        folder = Path(folder).resolve()
        self._remember(opened.task, folder, folder)  # saving it back continues this run folder
        if opened.path is not None:
            from engine.media import medium_of

            self.path, self.fit_medium = opened.path, medium_of(opened.path)
        self.set_settings(opened.kind.name, opened.settings)
        self.history.add_run(f"{name} (reopened)", opened.rows)
        return opened

    def export(self, folder: str | Path) -> Path:
        """The task's result in its medium (PNG, WAV, MP4 or PLY), or another task's, as the CLI writes it."""
        if self.task is None or self.busy:
            raise SessionError("There is nothing to export now.")
        return self.task.export(Path(folder))

    def renderable(self) -> bool:
        """Whether there is a network to render: an opened network file, or a trained fit of a picture, a sound, a
        video or a shape (a task with `fitted()`)."""
        fitted = callable(getattr(self.task, "fitted", None)) and self.task.step_count > 0
        return (self.opened_network is not None or fitted) and not self.busy

    def network(self):
        """What `render` renders: the opened network file, else the trained fit's network (`FittedNetwork`)."""
        return self.opened_network if self.opened_network is not None else self.task.fitted()

    def kept_line(self) -> str:
        """After a fit of a picture, a sound or a video: what its network weighs as a file, beside JPEG at that size
        for a picture fitted on every pixel (`FitTask.kept_line`); '' otherwise."""
        kept_line = getattr(self.task, "kept_line", None)
        return kept_line() if kept_line is not None and self.renderable() and self.opened_network is None else ""

    def render(self, path: str | Path, scale: float | None = None, size: int | None = None,
               rate: float | None = None) -> Path:
        """The fitted network's signal on another grid (a picture at `scale` or `size`, a sound or a video at
        `rate`: `FittedNetwork.target_shape`), written to `path` in the medium's format. Raises on bad input."""
        if not self.renderable():
            raise SessionError("Fit a picture, a sound, a video or a shape first (or open a network file): a trained "
                               "fit renders at another size or rate.")
        network = self.network()
        shape, rate = network.target_shape(scale, size, rate)
        return network.write(Path(path), network.render(shape, rate), rate)

    def _remember(self, task: Task, chosen: Path, run: Path) -> None:
        for key in (chosen, run.resolve()):
            self.saved[key] = (weakref.ref(task), run.resolve())

    def _on_device(self, settings: Any) -> Any:
        return dataclasses.replace(settings, device=self.device.type)


class InlineRunner:
    """Trains in the calling thread (tests, scripts): `start` returns when the schedule is done; every row goes to
    `on_row`."""

    def __init__(self, on_row=None) -> None:
        self.on_row = on_row
        self.busy = False
        self.snapshots: list = []

    def start(self, task: Task, steps: int, *, log_every: int, eval_every: int, history: list[dict] = ()) -> None:
        from engine.divergence import DivergenceGuard
        from engine.loop import run

        self.busy = True
        try:
            for snap in run(task, steps, log_every=log_every, eval_every=eval_every, logger=self.on_row,
                            guard=DivergenceGuard(task, history)):
                self.snapshots.append(snap)
        finally:
            self.busy = False

    def pause(self) -> None:
        """Nothing to pause: a run is over when `start` returns."""

    resume = stop = pause


__all__ = ["InlineRunner", "Runner", "Session", "SessionError", "Started"]
