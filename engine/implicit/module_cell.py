"""An nn.Module as the cell of an implicit layer: its parameters become tensors the backward pass reaches."""
from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn
from torch.func import functional_call

from engine.config import BackwardConfig, SolverConfig
from engine.implicit.layer import AdjointMemory, implicit_layer
from engine.solvers import SolverStats


def module_implicit_layer(
    cell: nn.Module,
    inputs: Sequence[Tensor],
    z0: Tensor,
    *,
    forward: SolverConfig,
    backward: BackwardConfig,
    iterate: bool = True,
    adjoint: AdjointMemory | None = None,
) -> tuple[Tensor, SolverStats]:
    """Equilibrium z = cell(z, *inputs), differentiable in `inputs` and in every parameter of `cell`."""
    names, params = zip(*cell.named_parameters()) if len(list(cell.parameters())) else ((), ())
    count = len(inputs)

    def f(z: Tensor, *tensors: Tensor) -> Tensor:
        return functional_call(cell, dict(zip(names, tensors[count:])), (z, *tensors[:count]))

    return implicit_layer(f, (*inputs, *params), z0, forward=forward, backward=backward, iterate=iterate,
                          adjoint=adjoint)
