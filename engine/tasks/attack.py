"""Attacking a trained DEQ classifier: JIO (one augmented fixed point) and PGD on the same held-out digits.

One step per method, each timed alone. Success is scored by re-solving the classifier from zero at base + δ
(SPEC 2.5); the snapshot carries the clean and adversarial digits, the perturbations and the class probabilities.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from engine.config import AttackTaskConfig
from engine.jiio.attacks import AttackResult, accuracy, attack
from engine.models.mdeq import MDEQClassifier
from engine.tasks.base import MethodRace, Snapshot
from engine.tasks.previews import PREVIEW_COLUMNS, PREVIEW_COUNT, image_grid


class AttackTask(MethodRace):
    """Attack `images` (N, 1, H, W) in [0, 1] with each configured method; the loop's steps are the methods."""

    def __init__(self, config: AttackTaskConfig, classifier: MDEQClassifier, images: Tensor, labels: Tensor,
                 device: torch.device) -> None:
        self.config, self.classifier, self.device = config, classifier.eval().requires_grad_(False), device
        self.images, self.labels = images.to(device), labels.to(device)
        self.methods = ["jio", "pgd"] if config.method == "both" else [config.method]
        self.results: dict[str, AttackResult] = {}
        self.step_count, self.train_time = 0, 0.0

    def describe(self) -> str:
        return (f"Attacking {len(self.images)} digit(s) (L2 ε = {self.config.attack.epsilon:g}) with "
                f"{' and '.join(self.methods)}")

    def report(self, scalars: dict[str, float]) -> str:
        lines = [f"clean accuracy: {scalars['accuracy_clean']:.3f}"]
        lines += [f"{m:>4}: success {scalars[f'success_{m}']:.3f}, "
                  f"accuracy under attack {scalars[f'accuracy_{m}']:.3f}, {scalars[f'{m}_ms']:.0f} ms"
                  for m in self.methods]
        return "\n".join(lines)

    def step(self) -> dict[str, float]:
        method = self.methods[self.step_count]
        found = attack(self.classifier, self.images, self.labels, dataclasses.replace(self.config.attack,
                                                                                        method=method))
        self.results[method] = found
        self.step_count += 1
        self.train_time += found.seconds
        norms = torch.linalg.vector_norm(found.delta.flatten(1), dim=1)
        return {"step": float(self.step_count), "time_s": self.train_time, f"{method}_ms": found.seconds * 1e3,
                f"success_{method}": found.success_rate(self.labels),
                f"accuracy_{method}": 1.0 - found.success_rate(self.labels),
                f"{method}_mean_norm": float(norms.mean())}

    def evaluate(self, final: bool = False) -> dict[str, float]:
        return {"accuracy_clean": accuracy(self.classifier, self.images, self.labels)}

    @torch.no_grad()
    def previews(self) -> dict[str, np.ndarray]:
        n = PREVIEW_COUNT
        columns = PREVIEW_COLUMNS
        shown = {"clean": image_grid(self.images[:n], columns, low=0.0, high=1.0),
                 "labels": self.labels[:n].cpu().numpy()}
        shown["probabilities_clean"] = self.classifier.predict(self.images[:n]).cpu().numpy()
        # Both methods' perturbations share one scale, their largest pixel change (as a fraction of ε): a change of a
        # tenth of ε would be a faint tint on a ±ε scale.
        largest = max([float(found.delta[:n].abs().max()) for found in self.results.values()] + [1e-12])
        shown["perturbation_range"] = np.float32(largest / self.config.attack.epsilon)
        for method, found in self.results.items():
            adversarial = self.images[:n] + found.delta[:n]
            shown[method] = image_grid(adversarial, columns, low=0.0, high=1.0)
            shown[f"perturbation_{method}"] = image_grid(found.delta[:n] / (2 * largest) + 0.5, columns,
                                                         low=0.0, high=1.0, gap=0.5)
            shown[f"probabilities_{method}"] = self.classifier.predict(adversarial).cpu().numpy()
            shown[f"race_{method}"] = np.asarray([found.time_trace, found.loss_trace], dtype=np.float32).T
        return shown

    def snapshot(self, scalars: dict[str, float], final: bool = False) -> Snapshot:
        return Snapshot(self.step_count, len(self.methods), self.train_time, dict(scalars), self.previews(), final)

    def export(self, out_dir: Path) -> Path:
        """adversarial.png: rows of 16 clean digits, then each method's adversarial digits and perturbations."""
        from engine.media import write_image

        out_dir.mkdir(parents=True, exist_ok=True)
        n = min(PREVIEW_COUNT, len(self.images))
        rows = [self.images[:n]]
        for found in self.results.values():
            rows += [self.images[:n] + found.delta[:n], found.delta[:n] / (2 * self.config.attack.epsilon) + 0.5]
        write_image(out_dir / "adversarial.png", image_grid(torch.cat(rows), columns=n, low=0.0, high=1.0))
        return out_dir / "adversarial.png"

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step_count, "train_time": self.train_time, "methods": list(self.results),
                "deltas": [r.delta for r in self.results.values()]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores the perturbations found so far (their traces are not kept)."""
        self.step_count, self.train_time = int(state["step"]), float(state["train_time"])
        with torch.no_grad():
            for method, delta in zip(state["methods"], state["deltas"]):
                delta = delta.to(self.device)
                predictions = self.classifier(self.images + delta).argmax(1)
                self.results[method] = AttackResult(delta, predictions, 0.0, [], [])
