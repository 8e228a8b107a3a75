"""The quality measures against closed forms: PSNR on [0, 1] after clamping, and the SNR a listener follows."""
from __future__ import annotations

import math

import pytest
import torch

from engine.metrics import psnr, snr


def test_snr_is_the_signals_power_over_the_errors() -> None:
    target = torch.full((1000, 1), 0.5)
    assert snr(target + 0.05, target) == pytest.approx(20.0, abs=1e-4)  # 0.25 / 0.0025
    assert psnr(target + 0.05, target) == pytest.approx(10 * math.log10(1 / 0.025 ** 2), abs=1e-4)


def test_a_quiet_sound_rendered_as_hiss_scores_high_in_psnr_and_low_in_snr() -> None:
    t = torch.linspace(0, 1, 16000)
    quiet = 0.1 * torch.sin(2 * torch.pi * 440 * t)[:, None]
    hiss = quiet + 0.05 * torch.randn(quiet.shape, generator=torch.Generator().manual_seed(0))
    assert psnr(hiss, quiet) > 30 and snr(hiss, quiet) < 4  # what the ear hears: the noise is half the tone
