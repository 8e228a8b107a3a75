"""JIIO: the augmented (z, μ, x) fixed point, its Anderson driver, projections and step schedule."""
from engine.jiio.augmented import AugmentedMap, JIIOProblem, StatePacking
from engine.jiio.projections import project_box, project_l2_ball, project_perturbation
from engine.jiio.problems import AttackProblem, ReconstructionProblem
from engine.jiio.solve import JIIOResult, jiio

__all__ = [
    "AttackProblem", "AugmentedMap", "JIIOProblem", "JIIOResult", "ReconstructionProblem", "StatePacking", "jiio",
    "project_box", "project_l2_ball", "project_perturbation",
]
