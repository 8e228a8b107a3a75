"""The DEQ layer: no-grad solve, one re-attached application, backward modes, warm-start buffer."""
from engine.implicit.backward import adjoint_vector, exact_adjoint, neumann_adjoint
from engine.implicit.layer import AdjointMemory, implicit_layer
from engine.implicit.module_cell import module_implicit_layer
from engine.implicit.warm_start import WarmStartBuffer

__all__ = ["AdjointMemory", "WarmStartBuffer", "adjoint_vector", "exact_adjoint", "implicit_layer", "module_implicit_layer",
           "neumann_adjoint"]
