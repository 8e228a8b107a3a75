"""Training an MDEQ-lite classifier on clean or adversarial images (JIIO paper, section 4.3; SPEC `adv-train`).

Each step: optionally perturb the batch with the configured attack (frozen weights, eval mode), then one Adam step
on the cross-entropy of the (perturbed) batch with the classifier's implicit gradient, plus a Jacobian penalty that
keeps the equilibrium well-posed. Evaluation scores clean
held-out accuracy; the final one also accuracy under PGD-20 and JIO-80 (the SPEC's test-time budgets, whatever
budget trained the model) with the training attack's ε and box.
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

from engine.config import AdvTrainConfig, AttackConfig, to_dict
from engine.distributed import Replica
from engine.implicit.jacobian_penalty import jacobian_penalty
from engine.jiio.attacks import accuracy, attack
from engine.models.mdeq import MDEQClassifier
from engine.models.mdeq.classifier import CLASSIFIER_EQUILIBRIUM
from engine.tasks.base import Snapshot, Targets, TrainingTask
from engine.tasks.previews import image_grid

ATTACK_ITERATION_COST = 3.0
"""An attack iteration (a solve and its reverse pass) over a clean evaluation (one solve) of the same images. Measured
on the preview (50 digits, 2 threads, a loaded machine): the final evaluation took 42.3 s against 0.149 s for a clean
one after training, 284 times, where this gives 1 + 3 × (20 + 80) = 301."""


def to_unit(images: np.ndarray, device: torch.device) -> Tensor:
    """uint8 (N, H, W) → float (N, 1, H, W) in [0, 1]."""
    return torch.from_numpy(np.array(images)).float().div(255.0).unsqueeze(1).to(device)


class AdversarialTrainTask(TrainingTask):
    """Clean, PGD- or JIO-adversarial training of a DEQ classifier."""

    def __init__(self, config: AdvTrainConfig, train: tuple[np.ndarray, np.ndarray],
                 held_out: tuple[np.ndarray, np.ndarray], device: torch.device) -> None:
        self.config, self.device = config, device
        torch.manual_seed(config.seed)
        self.images, self.labels = to_unit(train[0], device), torch.from_numpy(np.array(train[1])).to(device)
        n = config.eval_images
        self.test_images = to_unit(held_out[0][:n], device)
        self.test_labels = torch.from_numpy(np.array(held_out[1][:n])).to(device)
        classes = int(max(train[1].max(), held_out[1].max())) + 1
        if config.init:
            from engine.models.mdeq.stored import load_classifier

            self.classifier = load_classifier(config.init, device, config.solver).requires_grad_(True)
        else:
            equilibrium = dataclasses.replace(CLASSIFIER_EQUILIBRIUM, forward=config.solver)
            self.classifier = MDEQClassifier(config.channels, train[0].shape[-1], 1, classes,
                                             contractive=config.contractive, head=config.head,
                                             equilibrium=equilibrium).to(device)
        self.optimizer = torch.optim.Adam(self.classifier.parameters(), lr=config.lr)
        self.replica = Replica(self.classifier, self.ranks)
        self.sampler = torch.Generator().manual_seed(config.seed + 1)
        self.step_count, self.train_time = 0, 0.0
        self.previews: dict[str, np.ndarray] = {}
        self.last_batch: Tensor | None = None

    def describe(self) -> str:
        kind = "clean" if self.config.attack == "none" else self.config.attack + " adversarial"
        return f"Training a DEQ classifier ({kind}) on {len(self.images)} digits"

    def targets(self) -> Targets:
        return Targets()

    def step(self) -> dict[str, float]:
        start = time.perf_counter()
        index = torch.randint(len(self.images), (self.config.batch_size,), generator=self.sampler)
        index = self.ranks.share(index).to(self.device)  # the whole batch in one process
        images, labels = self.images[index], self.labels[index]
        row: dict[str, float] = {}
        if self.config.attack != "none":
            settings = dataclasses.replace(self.config.attack_settings, method=self.config.attack)
            found = attack(self.classifier, images, labels, settings)
            row["attack_success"] = found.success_rate(labels)
            row["attack_ms"] = found.seconds * 1e3
            images = (images + found.delta).detach()
        self.classifier.train()
        loss, logits, stats, penalty = self.replica(lambda: self.loss(images, labels))
        if penalty is not None:
            row["jacobian_penalty"] = penalty.item()
        self.descend(loss)
        row.update(self.count_step(start, loss))
        self.last_batch = images[:16].detach()  # tiled only when a snapshot asks
        row.update({"accuracy_train": float((logits.argmax(1) == labels).float().mean()),
                    "solver_iters": float(stats.nstep), "solver_residual": stats.max_residual})
        return self.ranks.mean(row, ("loss", "accuracy_train", "jacobian_penalty", "attack_success"))

    def loss(self, images: Tensor, labels: Tensor) -> tuple[Tensor, Tensor, Any, Tensor | None]:
        """The training loss of a batch (cross-entropy plus the weighted Jacobian penalty), its logits, the solver's
        statistics and the penalty (None when off)."""
        z, stats = self.classifier.equilibrium(images)
        logits = self.classifier.logits(z)
        loss = F.cross_entropy(logits, labels)
        penalty = None
        if self.config.jacobian_reg > 0:
            penalty = jacobian_penalty(lambda state: self.classifier.cell_map(state, images), z,
                                       randn_like=self.ranks.randn_like)
            loss = loss + self.config.jacobian_reg * penalty
        return loss, logits, stats, penalty

    def evaluate(self, final: bool = False) -> dict[str, float]:
        row = {"accuracy_clean": accuracy(self.classifier, self.test_images, self.test_labels)}
        if final:
            test_time = self.test_time_attack()
            for method in ("pgd", "jio"):
                settings = dataclasses.replace(test_time, method=method)
                found = attack(self.classifier, self.test_images, self.test_labels, settings)
                row[f"accuracy_{method}"] = 1.0 - found.success_rate(self.test_labels)
        return row

    def test_time_attack(self) -> AttackConfig:
        """The attacks the final scores use: the full budgets (PGD-20, JIO's 80 rounds) at the trained ε and box."""
        trained = self.config.attack_settings
        return AttackConfig(epsilon=trained.epsilon, jio=dataclasses.replace(AttackConfig().jio, box=trained.jio.box))

    def final_evaluation_weight(self) -> float:
        """The final evaluation also attacks the test images with PGD and JIO: each of their iterations a solve
        and its reverse pass, about ATTACK_ITERATION_COST clean evaluations (a forward solve)."""
        test_time = self.test_time_attack()
        return 1.0 + ATTACK_ITERATION_COST * (test_time.pgd_steps + test_time.jio.iterations)

    def snapshot(self, scalars: dict[str, float], final: bool = False) -> Snapshot:
        if self.last_batch is not None:
            self.previews["batch"] = image_grid(self.last_batch, low=0.0, high=1.0)
        return Snapshot(self.step_count, self.config.steps, self.train_time, dict(scalars), dict(self.previews), final)

    def export(self, out_dir: Path) -> Path:
        from engine.model_store import save_model

        out_dir.mkdir(parents=True, exist_ok=True)
        return save_model(out_dir / "classifier.safetensors", self.classifier, "mdeq-classifier",
                          {"channels": [shape[0] for shape in self.classifier.cell.shapes],
                           "image_size": int(self.images.shape[-1]), "contractive": self.classifier.contractive,
                           "head": self.classifier.head_kind,
                           "classes": int(self.classifier.head.out_features), "attack": self.config.attack,
                           "solver": to_dict(self.config.solver)})

    def state_dict(self) -> dict[str, Any]:
        return {"classifier": self.classifier.state_dict(), "optimizer": self.optimizer.state_dict(),
                "sampler": self.sampler.get_state(), "torch_rng": torch.get_rng_state(),  # the penalty's probes
                "step": self.step_count, "train_time": self.train_time}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.classifier.load_state_dict(state["classifier"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.sampler.set_state(state["sampler"])
        if "torch_rng" in state:  # checkpoints written before it was kept resume, not exactly
            torch.set_rng_state(state["torch_rng"])
        self.step_count, self.train_time = int(state["step"]), float(state["train_time"])
