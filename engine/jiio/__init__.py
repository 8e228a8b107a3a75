"""JIIO: the augmented (z, μ, x) fixed point, its Anderson driver, projections and step schedule."""
from engine.jiio.augmented import AugmentedMap, JIIOProblem, StatePacking
from engine.jiio.projections import project_box, project_l2_ball, project_perturbation
from engine.jiio.solve import JIIOResult, jiio

__all__ = ["AugmentedMap", "JIIOProblem", "JIIOResult", "StatePacking", "jiio", "project_box", "project_l2_ball",
           "project_perturbation"]
