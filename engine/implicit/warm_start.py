"""Per-coordinate store of equilibria: the amortization buffer of (Implicit)².

For a full-batch signal (every coordinate every step) the buffer holds z for each coordinate; the next step
applies f once at the stored z (made with the previous weights) instead of solving from zero. Minibatch tasks
look up and store the rows of the sampled coordinates. Rows never stored read as zeros (a cold start).
Reference: Huang, Bai, Kolter, "(Implicit)²: Implicit Layers for Implicit Representations", NeurIPS 2021, sec. 3.2.
"""
from __future__ import annotations

import torch
from torch import Tensor


class WarmStartBuffer:
    """Stored equilibria z, one row per coordinate, on the task's device."""

    def __init__(self) -> None:
        self.z: Tensor | None = None
        self.filled: Tensor | None = None  # (N,) bool: rows that hold a stored equilibrium

    def reset(self) -> None:
        """Forget everything (after a change of model or coordinates)."""
        self.z = None
        self.filled = None

    def allocate(self, rows: int, feature_shape: tuple[int, ...], *, device: torch.device, dtype: torch.dtype) -> None:
        """Make an empty buffer of `rows` rows of `feature_shape` unless one of that layout exists."""
        shape = (rows, *feature_shape)
        if self.z is not None and self.z.shape == shape and self.z.device == device and self.z.dtype == dtype:
            return
        self.z = torch.zeros(shape, device=device, dtype=dtype)
        self.filled = torch.zeros(rows, device=device, dtype=torch.bool)

    def lookup(self, index: Tensor | None = None) -> tuple[Tensor, bool]:
        """The stored rows at `index` (all rows if None) and whether every one of them was stored."""
        if self.z is None or self.filled is None:
            raise RuntimeError("WarmStartBuffer.lookup before allocate")
        if index is None:
            return self.z, bool(self.filled.all())
        return self.z[index], bool(self.filled[index].all())

    def store(self, z: Tensor, index: Tensor | None = None) -> None:
        """Store equilibria `z` for the rows at `index` (all rows if None)."""
        if self.z is None or self.filled is None:
            raise RuntimeError("WarmStartBuffer.store before allocate")
        z = z.detach()
        if index is None:
            if z.shape == self.z.shape and z.dtype == self.z.dtype and z.device == self.z.device:
                self.z = z  # keep the new tensor itself: no copy of the whole buffer every step
            else:
                self.z.copy_(z)
            self.filled.fill_(True)
        else:
            self.z[index] = z
            self.filled[index] = True

    def state_dict(self) -> dict[str, Tensor]:
        """Tensors for a checkpoint (empty when nothing is stored)."""
        if self.z is None or self.filled is None:
            return {}
        return {"z": self.z, "filled": self.filled}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Restore from `state_dict` output; an empty state forgets the stored rows (they read as zeros again: the
        next step solves from a cold start) and keeps the buffer's layout."""
        if not state:
            if self.z is not None and self.filled is not None:
                self.z.zero_()
                self.filled.fill_(False)
            return
        self.z = state["z"].clone()
        self.filled = state["filled"].clone().to(torch.bool)
