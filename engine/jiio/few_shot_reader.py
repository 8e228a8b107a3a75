"""A few-shot classifier put to use on one task at a time, for the window: adapt the task's context to examples
(drawn by the user or sampled from unseen Omniglot characters) with JIIO, then classify queries."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from engine.config import JIIOConfig, from_dict
from engine.datasets.omniglot import Episode, EpisodeSampler, Omniglot, load_omniglot, split_characters
from engine.jiio import jiio
from engine.jiio.meta import MetaLearningProblem


class FewShotReader:
    """Keeps the last model file and Omniglot folder it read (reloaded when the file changes)."""

    def __init__(self) -> None:
        self._model: tuple[tuple[str, float], object, dict] | None = None
        self._data: tuple[str, Omniglot] | None = None

    def model(self, path: str | Path):
        from engine.models.mdeq.stored import load_few_shot

        key = (str(path), Path(path).stat().st_mtime if Path(path).is_file() else 0.0)
        if self._model is None or self._model[0] != key:
            model, arch = load_few_shot(path)
            self._model = (key, model, arch)
        return self._model[1], self._model[2]

    def classify(self, path: str | Path, support: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Class probabilities (Q, N) of the query drawings (Q, 28, 28) uint8, after adapting the context to one
        example of each of N classes (N, 28, 28) uint8 (ink bright on black)."""
        model, arch = self.model(path)
        if len(support) != arch["ways"]:
            raise ValueError(f"this model tells {arch['ways']} classes apart: give it one example of each")
        unit = torch.from_numpy(np.asarray(support, dtype=np.float32) / 255.0)[None, :, None]
        problem = MetaLearningProblem(model, unit, torch.arange(len(support))[None], model.context0)
        settings = from_dict(JIIOConfig, arch["jiio"]) if "jiio" in arch else JIIOConfig()
        context = jiio(problem, *problem.start(), settings).x
        queries = torch.from_numpy(np.asarray(query, dtype=np.float32) / 255.0)[:, None]
        with torch.no_grad():
            return torch.softmax(model.classify(queries, context[0]), dim=1).numpy()

    def sample(self, folder: str | Path, ways: int, seed: int) -> Episode:
        """An unseen task: `ways` held-out characters (the training split's), one example and 5 queries each."""
        if self._data is None or self._data[0] != str(folder):
            self._data = (str(folder), load_omniglot(folder))
        data = self._data[1]
        return EpisodeSampler(data, split_characters(data)[1], ways, 1, 5).sample(np.random.default_rng(seed))
