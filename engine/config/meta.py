"""Few-shot meta-learning (the JIIO paper's fourth application; SPEC `meta-train`)."""
from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from engine.config.equilibrium import SolverConfig
from engine.config.fields import DEVICE, EVERY, SEED, STEPS, Range, check_fields, require
from engine.config.jiio import JIIOConfig


@dataclasses.dataclass(frozen=True)
class MetaTrainConfig:
    """Meta-training a few-shot classifier on Omniglot: for every task the context v that classifies its support
    set is found (JIIO or an inner loop of gradient steps), and the network learns from the query set at that v."""

    data: str = ""
    """Folder of the Omniglot zips (images_background*.zip) or alphabet folders; empty = $DEQ_STUDIO_DATA/omniglot."""
    ways: Annotated[int, Range(2, 1000)] = 5
    """How many classes (characters) each task tells apart (N-way)."""
    shots: Annotated[int, Range(1, 1000)] = 1
    """How many examples of each class a task shows (K-shot)."""
    queries: Annotated[int, Range(1, 1000)] = 5
    """How many further drawings of each class a task is scored on."""
    tasks_per_step: Annotated[int, Range(1, 10_000)] = 4
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
    inner_steps: Annotated[int, Range(1, 100_000)] = 10
    """gd: how many gradient steps on the context per task."""
    inner_lr: float = 0.1
    """gd: the step size of those gradient steps."""
    proximal: float = 0.0
    """Keep each task's context near the learned starting one: the weight λ of ½ λ ‖v − v₀‖²."""
    context: Annotated[int, Range(1, 100_000)] = 64
    """How many numbers describe a task (the context vector v that modulates every channel of the network)."""
    readout: bool = True
    """The context also holds the task's own readout (from the network's pooled features to the class scores),
    found with the FiLM codes; off: one readout for every task, learned by meta-training, and only FiLM codes."""
    channels: tuple[Annotated[int, Range(1, 1024)], ...] = (16, 32)
    """How many channels each resolution of the network has (1 to 4 numbers): more is richer and slower."""
    steps: STEPS = 2000
    """How many training steps (weight updates)."""
    lr: float = 1e-3
    """How big each learning step is (Adam's learning rate)."""
    jacobian_reg: float = 0.5
    """Keeps the network's loop short and steady by penalizing its sensitivity ‖∂f/∂z‖²_F / n at the query images'
    equilibria; 0 turns it off (0.5 is the JIIO reference's Omniglot setting)."""
    solver: SolverConfig = SolverConfig(solver="anderson", max_iter=20, tol=1e-3)
    """How the network's answer for the query images is found."""
    eval_episodes: Annotated[int, Range(1, 1_000_000)] = 200
    """How many unseen tasks (from held-out characters) are scored at each check; the final check scores 3× as many."""
    log_every: EVERY = 10
    """Add a point to the curves every this many steps."""
    eval_every: EVERY = 250
    """Score the accuracy on unseen tasks every this many steps."""
    seed: SEED = 0
    """A number that fixes the random start and the tasks drawn: the same seed gives the same run."""
    device: DEVICE = "auto"
    """Where it runs: auto uses the graphics card (CUDA) when there is one."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(self.lr > 0 and self.inner_lr > 0, "lr and inner_lr must be > 0")
        require(self.proximal >= 0 and self.jacobian_reg >= 0, "proximal and jacobian_reg must be ≥ 0")
        require(1 <= len(self.channels) <= 4, "channels: 1 to 4 branches")


@dataclasses.dataclass(frozen=True)
class MetaTestConfig:
    """Scoring a meta-trained few-shot classifier on unseen Omniglot tasks (`deq-studio meta-test`): its accuracy
    and the 95 % interval of that accuracy."""

    model: str = ""
    """A few-shot classifier file; empty = the built-in one."""
    data: str = ""
    """The Omniglot folder; empty = $DEQ_STUDIO_DATA/omniglot."""
    ways: Annotated[int, Range(2, 1000)] | None = None
    """Classes each task tells apart (N-way); empty = as trained (a model with a task readout takes any N)."""
    shots: Annotated[int, Range(1, 1000)] = 1
    """Examples of each class a task shows (K-shot)."""
    queries: Annotated[int, Range(1, 1000)] = 5
    """Further drawings of each class a task is scored on."""
    episodes: Annotated[int, Range(1, 1_000_000)] = 600
    """How many unseen tasks are scored."""
    split: Literal["characters", "alphabets"] = "characters"
    """Held-out characters of every alphabet, or whole held-out alphabets."""
    split_seed: SEED = 0
    """The split's seed (the one the model trained with)."""
    inner: Literal["jiio", "gd"] | None = None
    """The inner solve; empty = the one it trained with."""
    jiio_iterations: Annotated[int, Range(1, 100_000)] | None = None
    """Rounds of the inner JIIO solve; empty = as trained."""
    seed: SEED = 1
    """Which tasks are drawn."""
    device: DEVICE = "auto"
    """Where it runs."""

    def __post_init__(self) -> None:
        check_fields(self)
