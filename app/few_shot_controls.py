"""The few-shot view's controls wired to a model: the current meta-training run's network (written out once it has
stopped), else the built-in one; a new unseen Omniglot task or the user's drawings are adapted to with JIIO."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import platformdirs

from engine.config import ConfigError
from engine.media.base import SignalError
from engine.model_store import ModelFileError
from engine.jiio.few_shot_reader import FewShotReader

FAILURES = (ConfigError, SignalError, ModelFileError, OSError, ValueError, RuntimeError)
"""What a bad model file, a missing data folder or an unusable drawing raises: reported, never fatal."""


class FewShotWiring:
    """Connects `window`'s few-shot controls to a `FewShotReader`."""

    def __init__(self, window) -> None:
        self.window = window
        self.reader = FewShotReader()
        self.folder = Path(platformdirs.user_data_dir("deq-studio")) / "few-shot"
        """Where the current run's network is written for these controls."""
        self.seed = 0
        controls = window.views.view("few-shot").controls
        controls.new_task.connect(self.new_task)
        controls.classify.connect(self.classify)

    def model_path(self) -> Path:
        """The network to use: this session's meta-training task when it has one and is not running, else the
        built-in model."""
        from engine.models.mdeq.stored import model_file

        session = self.window.session
        if session.task is not None and session.kind.name == "meta-train" and not session.busy:
            return session.export(self.folder)
        path = model_file("", "few-shot-classifier")
        if not path.is_file():
            raise FileNotFoundError("no few-shot model yet: press Start to meta-train one first")
        return path

    def data_folder(self) -> Path:
        from engine.datasets.omniglot import default_omniglot_folder

        return default_omniglot_folder(self.window.panel.settings_of("meta-train").data)

    def _failed(self, what: str, exc: Exception) -> None:
        self.window.report_error(f"Could not {what}: {exc}")

    def new_task(self) -> None:
        """Sample a task of unseen characters, adapt to its examples, show its queries right and wrong."""
        from engine.tasks.meta_train import episode_previews

        try:
            path = self.model_path()
            ways = self.reader.model(path)[1]["ways"]
            self.window.views.view("few-shot").controls.set_ways(ways)
            self.seed += 1
            episode = self.reader.sample(self.data_folder(), ways, self.seed)
            drawings = lambda images: (images[:, 0] * 255).round().astype(np.uint8)  # noqa: E731
            probabilities = self.reader.classify(path, drawings(episode.support), drawings(episode.query))
        except FAILURES as exc:
            self._failed("run a new task", exc)
            return
        correct = probabilities.argmax(1) == episode.query_labels
        self.window.views.view("few-shot").show_task(episode_previews(episode, correct, 5), float(correct.mean()))
        self.window.show_hint()  # results are shown: the hint goes

    def classify(self, examples: np.ndarray, query: np.ndarray) -> None:
        """Adapt to the drawn examples (one per class), then classify the drawn query."""
        blank = [number for number, example in enumerate(examples, 1) if example.max() == 0]
        if blank or query.max() == 0:
            missing = f"an example for class {', '.join(map(str, blank))}" if blank else "the drawing to classify"
            self.window.report_error(f"Draw {missing} first.")
            return
        try:
            probabilities = self.reader.classify(self.model_path(), examples, query[None])[0]
        except FAILURES as exc:
            self._failed("classify the drawing", exc)
            return
        self.window.views.view("few-shot").show_guess(probabilities)
