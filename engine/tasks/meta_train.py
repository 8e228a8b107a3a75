"""Meta-training a few-shot classifier on Omniglot (JIIO paper, section 4.4; SPEC `meta-train`).

Each step draws `tasks_per_step` N-way K-shot tasks from the meta-train characters. For each task the inner problem
finds the context v* under which the network classifies the task's support set (JIIO: one augmented fixed point
over every support image's state, its adjoint and v; or the inner-loop baseline: gradient steps on v, each solving
the network and its adjoint). The outer step is one Adam step on the query set's cross-entropy at v* (plus the
Jacobian penalty), with the network's implicit gradient. v* is held fixed in the outer step except that the
starting context v₀ receives the query gradient at v* (a first-order meta-gradient, ∂v*/∂v₀ taken as the
identity). Evaluation runs the same inner solve on unseen tasks from the held-out characters and reports the
query accuracy with its 95 % confidence interval.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from engine.config import MetaTrainConfig, to_dict
from engine.distributed import Replica
from engine.datasets.omniglot import Episode, EpisodeSampler, Omniglot, split_alphabets, split_characters
from engine.implicit.jacobian_penalty import jacobian_penalty
from engine.jiio import jiio
from engine.jiio.meta import MetaLearningProblem, inner_loop
from engine.models.mdeq.classifier import CLASSIFIER_EQUILIBRIUM
from engine.models.mdeq.film import FewShotClassifier
from engine.tasks.base import Snapshot, Targets, TrainingTask
from engine.tasks.previews import image_grid


def stacked(episodes: list[Episode], device: torch.device) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Support (T, S, 1, H, W), its labels (T, S), query (T, Q, 1, H, W), its labels (T, Q)."""
    def tensor(name: str) -> Tensor:
        return torch.from_numpy(np.stack([getattr(e, name) for e in episodes])).to(device)

    return tensor("support"), tensor("support_labels"), tensor("query"), tensor("query_labels")


def adapt(model: FewShotClassifier, config: MetaTrainConfig, support: Tensor, labels: Tensor
          ) -> tuple[Tensor, float, float]:
    """Each task's context v* (T, c), the mean final support loss and the inner solve's seconds."""
    problem = MetaLearningProblem(model, support, labels, model.context0.detach(), config.proximal)
    start = time.perf_counter()
    trainable = [p for p in model.parameters() if p.requires_grad]
    for parameter in trainable:  # the inner solve differentiates in v alone
        parameter.requires_grad_(False)
    try:
        if config.inner == "jiio":
            v = jiio(problem, *problem.start(), config.jiio).x
        else:
            v = inner_loop(problem, steps=config.inner_steps, lr=config.inner_lr).x
    finally:
        for parameter in trainable:
            parameter.requires_grad_(True)
    seconds = time.perf_counter() - start
    return v.detach(), problem.loss_per_example(v), seconds


def query_accuracy(model: FewShotClassifier, context: Tensor, query: Tensor, labels: Tensor) -> Tensor:
    """Per task, the fraction of its query images classified right under its context."""
    tasks, count = labels.shape
    with torch.no_grad():
        logits = model.classify(query.flatten(0, 1), context.repeat_interleave(count, dim=0))
    return (logits.argmax(1) == labels.flatten()).float().reshape(tasks, count).mean(1)


def episode_previews(episode: Episode, correct: np.ndarray, queries: int) -> dict[str, np.ndarray]:
    """The support drawings in a row (`support`), the queries one class a row with right ones green and wrong ones
    red (`query`), and which were right (`query_correct`)."""
    support = torch.from_numpy(episode.support)
    ink, right = torch.from_numpy(episode.query), torch.from_numpy(correct.astype(bool))[:, None, None, None]
    coloured = torch.cat([ink * ~right, ink * right, torch.zeros_like(ink)], dim=1)
    return {"support": image_grid(support, min(len(support), 10), low=0.0, high=1.0),
            "query": image_grid(coloured, queries, low=0.0, high=1.0), "query_correct": correct.astype(np.float32)}


def meta_test(model: FewShotClassifier, config: MetaTrainConfig, sampler: EpisodeSampler, episodes: int,
              seed: int, progress=None) -> tuple[float, float]:
    """Mean query accuracy over `episodes` tasks of `sampler` (adapted as `config` says), and its 95 % interval;
    `progress(tasks)` after each batch of tasks scored."""
    rng, scores = np.random.default_rng(seed), []
    device = next(model.parameters()).device
    for begin in range(0, episodes, config.tasks_per_step):
        batch = [sampler.sample(rng) for _ in range(min(config.tasks_per_step, episodes - begin))]
        support, support_labels, query, query_labels = stacked(batch, device)
        context = adapt(model, config, support, support_labels)[0]
        scores.append(query_accuracy(model, context, query, query_labels).cpu().numpy())
        if progress is not None:
            progress(len(batch))
    accuracy = np.concatenate(scores)
    ci95 = 1.96 * accuracy.std(ddof=1) / np.sqrt(len(accuracy)) if len(accuracy) > 1 else 0.0
    return float(accuracy.mean()), float(ci95)


class MetaTrainTask(TrainingTask):
    """Few-shot meta-training of a FiLM-conditioned MDEQ-lite classifier with JIIO or the inner-loop baseline."""

    def __init__(self, config: MetaTrainConfig, data: Omniglot, device: torch.device) -> None:
        self.config, self.device, self.data = config, device, data
        torch.manual_seed(config.seed)
        split = split_characters if config.split == "characters" else split_alphabets
        self.train_characters, self.test_characters = split(data, seed=config.seed)
        self.train_sampler = EpisodeSampler(data, self.train_characters, config.ways, config.shots, config.queries,
                                            config.rotations)
        self.test_sampler = EpisodeSampler(data, self.test_characters, config.ways, config.shots, config.queries)
        equilibrium = dataclasses.replace(CLASSIFIER_EQUILIBRIUM, forward=config.solver)
        self.model = FewShotClassifier(config.channels, config.ways, config.context, data.images.shape[-1],
                                       equilibrium, config.readout).to(device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.replica = Replica(self.model, self.ranks, idle_parameters=config.readout)  # the fixed head idles
        self.rng = np.random.default_rng(config.seed + 1)
        self.step_count, self.train_time = 0, 0.0
        self.last: tuple[Episode, np.ndarray] | None = None

    def describe(self) -> str:
        return (f"Meta-training a {self.config.ways}-way {self.config.shots}-shot classifier on "
                f"{len(self.train_characters)} Omniglot characters (inner solve: {self.config.inner})")

    def targets(self) -> Targets:
        return Targets()

    def step(self) -> dict[str, float]:
        config, model = self.config, self.model
        start = time.perf_counter()
        episodes = [self.train_sampler.sample(self.rng) for _ in range(config.tasks_per_step)]
        if self.ranks.distributed:  # this rank's share of the tasks
            episodes = [episodes[i] for i in self.ranks.share(torch.arange(len(episodes))).tolist()]
        support, support_labels, query, query_labels = stacked(episodes, self.device)
        model.eval()
        context, inner_loss, inner_seconds = adapt(model, config, support, support_labels)
        model.train()
        loss, logits, stats, penalty = self.replica(lambda: self.query_loss(context, query, query_labels))
        row: dict[str, float] = {}
        if penalty is not None:
            row["jacobian_penalty"] = penalty.item()
        self.descend(loss)
        row.update(self.count_step(start, loss))
        correct = (logits.argmax(1) == query_labels.flatten()).float().cpu().numpy()
        self.last = (episodes[0], correct[:query_labels.shape[1]])
        row.update({"accuracy_query": float(correct.mean()), "inner_loss": inner_loss,
                    "inner_ms_per_task": inner_seconds * 1e3 / len(episodes), "solver_iters": float(stats.nstep)})
        return self.ranks.mean(row, ("loss", "accuracy_query", "inner_loss", "jacobian_penalty"))

    def query_loss(self, context: Tensor, query: Tensor, labels: Tensor) -> tuple[Tensor, Tensor, Any, Tensor | None]:
        """The outer loss: the query images' cross-entropy under their tasks' contexts v* (plus the weighted Jacobian
        penalty), their logits, the solver's statistics and the penalty (None when off). v* is held fixed except that
        v₀ receives the query gradient at v* (the first-order meta-gradient, ∂v*/∂v₀ taken as the identity)."""
        model, count = self.model, labels.shape[1]
        context = model.context0 + (context - model.context0).detach()
        per_image = context.repeat_interleave(count, dim=0)
        images = query.flatten(0, 1)
        z, stats = model.equilibrium_with(images, per_image)
        logits = model.task_logits(z, per_image)
        loss = F.cross_entropy(logits, labels.flatten())
        penalty = None
        if self.config.jacobian_reg > 0:
            injections = [i.detach() for i in model.injections(images)]
            penalty = jacobian_penalty(lambda state: model.context_cell(state, injections, per_image.detach()), z,
                                       randn_like=self.ranks.randn_like)
            loss = loss + self.config.jacobian_reg * penalty
        return loss, logits, stats, penalty

    def evaluate(self, final: bool = False) -> dict[str, float]:
        """Query accuracy on unseen tasks (the same ones at every check: a fixed seed), mean and 95 % interval."""
        self.model.eval()
        mean, ci95 = meta_test(self.model, self.config, self.test_sampler,
                               self.config.eval_episodes * (3 if final else 1), 10_000 + self.config.seed)
        return {"accuracy_test": mean, "accuracy_test_ci95": ci95}

    def snapshot(self, scalars: dict[str, float], final: bool = False) -> Snapshot:
        previews: dict[str, np.ndarray] = {}
        if self.last is not None:
            episode, correct = self.last
            previews.update(episode_previews(episode, correct, self.config.queries))
        return Snapshot(self.step_count, self.config.steps, self.train_time, dict(scalars), previews, final)

    def export(self, out_dir: Path) -> Path:
        from engine.model_store import save_model

        out_dir.mkdir(parents=True, exist_ok=True)
        return save_model(out_dir / "few-shot-classifier.safetensors", self.model, "few-shot-classifier",
                          {"channels": [shape[0] for shape in self.model.cell.shapes], "ways": self.config.ways,
                           "context": self.config.context, "readout": self.config.readout,
                           "image_size": int(self.data.images.shape[-1]),
                           "solver": to_dict(self.config.solver), "inner": self.config.inner,
                           "jiio": to_dict(self.config.jiio)})

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "rng": self.rng.bit_generator.state, "torch_rng": torch.get_rng_state(),  # the penalty's probes
                "step": self.step_count, "train_time": self.train_time}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        self.step_count, self.train_time = int(state["step"]), float(state["train_time"])
