"""Fitting an image, audio clip or video with an INR: the `represent` and `generalize` protocols (SPEC 2.4).

Loss: MSE on targets in [−1, 1]; PSNR on [0, 1]. Logged rows carry the training batch's PSNR (`psnr_train`, from
the amortized or minibatch prediction); evaluation rows re-solve from zero and add `eval_psnr_train` and, for
`generalize`, `psnr_test` on the held-out samples; videos add per-frame PSNR mean and std.
"""
from __future__ import annotations

from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from engine.config import FitConfig
from engine.fitted_network import NETWORK_FILE, FittedNetwork, jpeg_at, network_bytes, save_network
from engine.metrics import picture_psnr, psnr, psnr_per_frame, snr
from engine.media import Signal, generalization_split, medium_spec
from engine.tasks.base import Snapshot, Targets
from engine.presets import resolve_fit_config
from engine.tasks.inr_training import INRTask, INRTraining, solve_summary



class FitTask(INRTask):
    """Fit a grid signal (image, audio, video)."""

    def __init__(self, config: FitConfig, signal: Signal, device: torch.device) -> None:
        axes = medium_spec(signal.medium).defaults.scale_axes  # an image's scale follows its side, and so on
        self.config = resolve_fit_config(config, signal.medium, max(signal.shape[axis] for axis in axes))
        self.signal = signal
        self.device = device
        self.coords = signal.coords.to(device)
        self.values = signal.values.to(device)
        train, test = self.split()
        self.train_index, self.test_index = train.to(device), None if test is None else test.to(device)
        self.train_x, self.train_y = self.coords[self.train_index], self.values[self.train_index]
        self.training = INRTraining(self.config, signal.coords.shape[1], signal.channels, len(self.train_index),
                                    device)
        self.reconstruction: np.ndarray | None = None

    def split(self) -> tuple[Tensor, Tensor | None]:
        """The samples it learns from and those it is scored on apart (None: none): the generalize protocol's
        alternate samples, or every sample."""
        if self.config.protocol == "generalize":
            return generalization_split(self.signal)
        return torch.arange(len(self.coords)), None

    def describe(self) -> str:
        return f"Fitting {self.signal.source} ({self.signal.describe()}) with {self.config.model.model}"

    def targets(self) -> Targets:
        signal = self.signal
        return Targets(signal.medium, {"signal": signal.to_array(signal.values)}, signal.rate, signal.portion)

    def loss(self, pred: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(pred, target)

    def batch_metrics(self, pred: Tensor, target: Tensor) -> dict[str, float]:
        return {"psnr_train": psnr(pred, target)}

    def evaluate(self, final: bool = False) -> dict[str, float]:
        """Re-solve from zero on every coordinate; score train (and held-out) samples."""
        self.model.eval()
        pred, stats = self.model.predict(self.coords)
        row = {"eval_psnr_train": psnr(pred[self.train_index], self.train_y), **solve_summary(stats)}
        heard = medium_spec(self.signal.medium).float_samples  # a sound: also the SNR, which follows hearing
        if heard:
            row["snr_train"] = snr(pred[self.train_index], self.train_y)
        scored = self.train_index
        if self.test_index is not None:
            row["psnr_test"] = psnr(pred[self.test_index], self.values[self.test_index])
            if heard:
                row["snr_test"] = snr(pred[self.test_index], self.values[self.test_index])
            scored = self.test_index
        if medium_spec(self.signal.medium).frame_scores:
            frames = self.signal.shape[0]
            mask = torch.zeros(len(self.coords), dtype=torch.bool, device=self.device)
            mask[scored] = True
            per_frame = psnr_per_frame(pred[mask], self.values[mask], frames)
            row["psnr_frame_mean"], row["psnr_frame_std"] = float(per_frame.mean()), float(per_frame.std())
        self.reconstruction = self.signal.to_array(pred)
        return row

    def snapshot(self, scalars: dict[str, float], final: bool = False) -> Snapshot:
        previews = {} if self.reconstruction is None else {"reconstruction": self.reconstruction}
        return Snapshot(self.step_count, self.config.steps, self.train_time, dict(scalars), previews, final)

    def fitted(self) -> FittedNetwork:
        """The network as it stands, with the grid it is fitted on (to render at another size or rate)."""
        signal = self.signal
        return FittedNetwork(self.model, self.config, signal.medium, signal.shape, signal.channels, signal.rate,
                             signal.source)

    def report(self, scalars: dict[str, float]) -> str:
        """The training summary, then what the network weighs as a file (`kept_line`)."""
        return f"{super().report(scalars)} {self.kept_line()} ({NETWORK_FILE})."

    def kept_line(self) -> str:
        """What the network weighs as a file (half precision) and, for a picture fitted on every pixel, its PSNR
        beside JPEG's at that size: 'This network: 9.4 KB, 27.1 dB — JPEG at 9.4 KB: 29.8 dB'."""
        weight = len(network_bytes(self.fitted()))
        size = f"{weight / 1024:.1f} KB"
        words = f"This network: {size}"
        if self.signal.medium == "image" and self.test_index is None and self.reconstruction is not None:
            original = self.signal.to_array(self.signal.values)
            jpeg = jpeg_at(original, weight)
            words += f", {picture_psnr(self.reconstruction, original):.1f} dB — " + (
                f"JPEG at {size}: {picture_psnr(jpeg[1], original):.1f} dB" if jpeg else f"no JPEG is {size} or less")
        return words

    def export(self, out_dir: Path) -> Path:
        """Write the latest evaluated reconstruction in its medium's format (PNG, WAV, MP4: its registration's
        writer), and beside it the network as a small file (`NETWORK_FILE`, half precision) that
        `deq-studio render` renders at any size or rate."""
        if self.reconstruction is None:
            self.evaluate()
        assert self.reconstruction is not None
        out_dir.mkdir(parents=True, exist_ok=True)
        spec = medium_spec(self.signal.medium)
        path = out_dir / spec.export_name
        spec.write(path, self.reconstruction, self.signal.rate)
        save_network(out_dir / NETWORK_FILE, self.fitted())
        return path
