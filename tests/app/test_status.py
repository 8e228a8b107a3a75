"""The status line's words: phase, step, speed, ETA, memory and the run's quality as a person reads it."""
from __future__ import annotations

from app.status import progress_text


def test_after_an_attack_the_status_says_the_accuracy_left_not_only_the_clean_one() -> None:
    text = progress_text("CPU", "Finished", 2, 2, 0.0, "RAM 0.5 GB",
                         {"accuracy_clean": 1.0, "accuracy_jio": 0.0, "accuracy_pgd": 0.25})
    assert text == "CPU · Finished · step 2/2 · RAM 0.5 GB · clean accuracy 100.0% · under attack 0.0%"


def test_a_fit_says_its_psnr_and_the_eta() -> None:
    text = progress_text("CPU", "Training", 40, 500, 20.0, "RAM 0.6 GB", {"psnr_train": 24.1}, eta=23.0)
    assert text == "CPU · Training · step 40/500 · 20.0 steps/s · ETA 23 s · RAM 0.6 GB · PSNR 24.10 dB"
