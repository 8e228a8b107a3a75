"""How a run continues from its folder's checkpoint (`deq-studio resume DIR`): the few settings a trained run can
still change."""
from __future__ import annotations

import dataclasses

from engine.config.fields import DEVICE, STEPS, check_fields


@dataclasses.dataclass(frozen=True)
class ResumeConfig:
    """What a resumed run changes; every other setting is the run's own (its config.json)."""

    steps: STEPS | None = None
    """New total number of steps, counted from the run's first step; empty keeps the run's own."""
    device: DEVICE | None = None
    """Where the run continues; empty keeps the device it was started with."""
    lr: float | None = None
    """Continue with this learning rate (after a divergence: a lower one); empty keeps the run's own."""
    checkpoint_every: STEPS = 500
    """Also checkpoint every N steps (0: only at the end and when stopped)."""

    def __post_init__(self) -> None:
        check_fields(self)
