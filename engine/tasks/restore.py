"""Restoring a damaged file: the network learns every sample that is left and fills in the missing ones (a picture's
painted-over pixels, a sound's gap, a video's lost frames), which only a continuous representation can do.

What is missing comes from the medium's registration (`MediumSpec.damage`: a mask, a gap, a range of frames). The
fit learns the other samples (its `split`), is scored where the damage was (`psnr_test`: the restored region against
the file, which still holds it when the damage was marked by hand), and its reconstruction is the restored file:
every sample that was not missing kept as it is, the network's values in the rest.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from engine.config import RestoreConfig
from engine.media import Signal, SignalError, medium_spec
from engine.tasks.base import Targets
from engine.tasks.fit import FitTask


class RestoreTask(FitTask):
    """Fit what is left of a damaged signal; its reconstruction is the restored file."""

    def __init__(self, config: RestoreConfig, signal: Signal, missing: Tensor, device: torch.device) -> None:
        count, total = int(missing.sum()), missing.numel()
        what = medium_spec(signal.medium).damage_field
        if count == 0:
            raise SignalError(f"The {what} marks nothing of {signal.source} as damaged: mark what is missing (black "
                              f"in a mask) and start again.")
        if count == total:
            raise SignalError(f"The {what} marks all of {signal.source} as damaged: nothing is left to learn from. "
                              f"Mark only what is missing.")
        self.missing = missing.to(torch.bool).cpu()
        """bool (N,): the samples filled in."""
        super().__init__(config, signal, device)

    def split(self) -> tuple[Tensor, Tensor]:
        return (~self.missing).nonzero().squeeze(1), self.missing.nonzero().squeeze(1)

    def describe(self) -> str:
        share = 100 * float(self.missing.float().mean())
        return (f"Restoring {self.signal.source} ({self.signal.describe()}, {share:.1f}% missing) with "
                f"{self.config.model.model}")

    def report(self, scalars: dict[str, float]) -> str:
        """The fit's summary, its held-out score named for what it is here."""
        line = super().report(scalars)
        for held_out, missing in (("Held-out", "Where it was missing,"), ("held-out", "where it was missing,")):
            line = line.replace(f"{held_out} PSNR", f"{missing} PSNR").replace(f"{held_out} SNR", f"{missing} SNR")
        return line

    def targets(self) -> Targets:
        """The file (what the error is measured against) and, as `damaged`, the file as the fit sees it: the missing
        samples black (a picture, a video) or silent (what a view shows as the target)."""
        targets = super().targets()
        signal = self.signal
        damaged = signal.values.clone()
        damaged[self.missing] = 0.0 if medium_spec(signal.medium).float_samples else -1.0
        return Targets(targets.medium, {**targets.arrays, "damaged": signal.to_array(damaged)}, targets.rate,
                       targets.portion)

    def evaluate(self, final: bool = False) -> dict[str, float]:
        """Scored as every fit is (`psnr_test`: the restored samples against the file's); the reconstruction
        becomes the restored file."""
        row = super().evaluate(final)
        assert self.reconstruction is not None
        original = self.signal.to_array(self.signal.values)
        keep = ~self.missing.numpy().reshape(self.signal.shape)
        keep = keep.reshape(keep.shape + (1,) * (original.ndim - keep.ndim))
        self.reconstruction = np.where(keep, original, self.reconstruction)
        return row
