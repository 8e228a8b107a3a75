"""Few-shot meta-learning (the JIIO paper's fourth application; SPEC `meta-train`)."""
from __future__ import annotations

import dataclasses
from typing import Literal

from engine.config.equilibrium import SolverConfig
from engine.config.fields import check_fields, require
from engine.config.jiio import JIIOConfig


@dataclasses.dataclass(frozen=True)
class MetaTrainConfig:
    """Meta-training a few-shot classifier on Omniglot: for every task the context v that classifies its support
    set is found (JIIO or an inner loop of gradient steps), and the network learns from the query set at that v."""

    data: str = ""
    """Folder of the Omniglot zips (images_background*.zip) or alphabet folders; empty = $DEQ_STUDIO_DATA/omniglot."""
    ways: int = 5
    """How many classes (characters) each task tells apart (N-way)."""
    shots: int = 1
    """How many examples of each class a task shows (K-shot)."""
    queries: int = 5
    """How many further drawings of each class a task is scored on."""
    tasks_per_step: int = 4
    """How many tasks each training step learns from."""
    split: Literal["characters", "alphabets"] = "characters"
    """What is held out for testing: 30 % of every alphabet's characters, or three whole alphabets (harder)."""
    rotations: bool = True
    """Also train on characters turned by 90°, 180° and 270°, each as a class of its own (four times the classes)."""
    inner: Literal["jiio", "gd"] = "jiio"
    """How a task's context is found: JIIO (one joint fixed point over the support images' states, their adjoints and
    the context), or gd (gradient steps on the context, each solving the network and its adjoint)."""
    jiio: JIIOConfig = JIIOConfig(iterations=100, alpha=(0.3, 0.1))
    """The inner JIIO solve (Anderson, memory 10, 100 rounds as the JIIO paper). Its step sizes are 0.3 then 0.1:
    with the paper's 0.04 then 0.01 the context of an untrained network barely moved (support loss 1.79 → 1.785
    in 40 rounds) and meta-training stayed at chance; with these it learns."""
    inner_steps: int = 10
    """gd: how many gradient steps on the context per task."""
    inner_lr: float = 0.1
    """gd: the step size of those gradient steps."""
    proximal: float = 0.0
    """Keep each task's context near the learned starting one: the weight λ of ½ λ ‖v − v₀‖²."""
    context: int = 64
    """How many numbers describe a task (the context vector v that modulates every channel of the network)."""
    readout: bool = True
    """The context also holds the task's own readout (from the network's pooled features to the class scores),
    found with the FiLM codes; off: one readout for every task, learned by meta-training, and only FiLM codes."""
    channels: tuple[int, ...] = (16, 32)
    """How many channels each resolution of the network has (1 to 4 numbers): more is richer and slower."""
    steps: int = 2000
    """How many training steps (weight updates)."""
    lr: float = 1e-3
    """How big each learning step is (Adam's learning rate)."""
    jacobian_reg: float = 0.5
    """Keeps the network's loop short and steady by penalizing its sensitivity ‖∂f/∂z‖²_F / n at the query images'
    equilibria; 0 turns it off (0.5 is the JIIO reference's Omniglot setting)."""
    solver: SolverConfig = SolverConfig(solver="anderson", max_iter=20, tol=1e-3)
    """How the network's answer for the query images is found."""
    eval_episodes: int = 200
    """How many unseen tasks (from held-out characters) are scored at each check; the final check scores 3× as many."""
    log_every: int = 10
    """Add a point to the curves every this many steps."""
    eval_every: int = 250
    """Score the accuracy on unseen tasks every this many steps."""
    seed: int = 0
    """A number that fixes the random start and the tasks drawn: the same seed gives the same run."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Where it runs: auto uses the graphics card (CUDA) when there is one."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(self.ways >= 2 and self.shots >= 1 and self.queries >= 1 and self.tasks_per_step >= 1,
                "ways ≥ 2, shots ≥ 1, queries ≥ 1, tasks_per_step ≥ 1")
        require(self.steps >= 0 and self.lr > 0 and self.inner_steps >= 1 and self.inner_lr > 0,
                "steps ≥ 0, lr > 0, inner_steps ≥ 1, inner_lr > 0")
        require(self.context >= 1 and self.proximal >= 0 and self.jacobian_reg >= 0,
                "context ≥ 1, proximal ≥ 0, jacobian_reg ≥ 0")
        require(1 <= len(self.channels) <= 4, "channels: 1 to 4 branches")
        require(self.eval_episodes >= 1, "eval_episodes ≥ 1")
