"""The JIIO configs (SPEC 2.5): the augmented solver, generative training, inverse problems, attacks and
adversarial training."""
from __future__ import annotations

import dataclasses
from typing import Annotated, ClassVar, Literal

from engine.config.equilibrium import SolverConfig
from engine.config.fields import DEVICE, EVERY, MASK_FILE, SEED, STEPS, Range, check_fields, require


@dataclasses.dataclass(frozen=True)
class JIIOConfig:
    """Joint inference and input optimization: one augmented fixed point over (z, μ, x) (SPEC 2.5). The constraint on
    the optimized input (an attack's L2 ball) belongs to the problem, not to these settings."""

    RETIRED_FIELDS: ClassVar[frozenset[str]] = frozenset({"projection", "epsilon"})
    """Fields older run folders still hold (never read: the problem projects)."""

    iterations: Annotated[int, Range(1, 100_000)] = 40
    """How many rounds the joint solve takes: more is more accurate and slower (K, a fixed budget of Anderson steps)."""
    eta_z: float = 0.8
    """How far each round moves the network's state; 1 moves all the way. It is η_z in z ← z + η_z (f(z, x) − z)."""
    eta_mu: float = 0.6
    """How far each round moves the gradient's state; 1 moves all the way. It is η_μ in μ ← μ + η_μ (∂ℓ/∂z + Jᵀμ −
    μ)."""
    alpha: tuple[float, float] = (0.03, 0.01)
    """How big the steps on the input are: the first value for the early rounds, the second for the later ones. The
    switch is at round max(50, ⌊5K/8⌋)."""
    normalized: bool = False
    """Make every input step the same length, whatever the gradient's size (attacks): each sample's step has unit L2
    norm."""
    box: bool = False
    """Keep the changed image's pixels between 0 and 1 (attacks on images in [0, 1])."""
    anderson_memory: Annotated[int, Range(1, 100)] = 10
    """How many past rounds are combined to speed up the solve (10 to 40)."""
    anderson_lam: float = 1e-4
    """A small safety margin that keeps that combination stable (the Anderson regularization)."""
    anderson_kind: Literal["II", "I"] = "II"
    """Which combining rule. II fits the past rounds by least squares; I ("good" Anderson, as in the JIIO reference)
    makes the mixed residual orthogonal to the differences of rounds."""
    select: Literal["residual", "loss"] = "residual"
    """Which round each sample keeps: the one that best solves the equations (residual), or the one with the lowest loss
    among those nearly as good (loss). Nearly as good: a residual within 1.3 times its lowest, after 10 rounds (the JIIO
    reference's rule for attacks)."""
    loss_reduction: Literal["sum", "mean"] = "sum"
    """How a sample's loss adds up its parts, sum or mean; the step sizes are tuned to this scale."""
    loss_weight: float = 1.0
    """How much the loss counts against the equations (for attacks, 10: the loss is −10 × cross-entropy)."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(0 < self.eta_z <= 1 and 0 < self.eta_mu <= 1, "eta_z and eta_mu must be in (0, 1]")
        require(len(self.alpha) == 2 and min(self.alpha) > 0, "alpha must be two positive step sizes")

    def step_size(self, k: int) -> float:
        """α_k: α₁ before iteration max(50, ⌊5K/8⌋), α₂ from it on (k counted from 0)."""
        return self.alpha[0] if k < max(50, (5 * self.iterations) // 8) else self.alpha[1]


@dataclasses.dataclass(frozen=True)
class PriorConfig:
    """Training a generative MDEQ-lite decoder whose latents are found by JIIO (SPEC 2.5)."""

    data: str = ""
    """Folder of training images: the MNIST files, or any folder of images (cut into 28×28 gray patches); empty = the
    MNIST digits."""
    latent: Annotated[int, Range(1, 4096)] = 64
    """How many numbers describe each image (the latent size k): more keeps more detail."""
    channels: tuple[Annotated[int, Range(1, 1024)], ...] = (24, 48)
    """How many channels each resolution of the network has (1 to 4 numbers): more is richer and slower."""
    steps: STEPS = 1000
    """How many training steps (weight updates): more draws better digits."""
    batch_size: Annotated[int, Range(1, 65_536)] = 64
    """How many images each step learns from."""
    lr: float = 1e-3
    """How big each learning step is (Adam's learning rate of the decoder weights)."""
    jiio: JIIOConfig = JIIOConfig(iterations=20, alpha=(0.3, 0.1))
    """How each batch's hidden codes are found (a JIIO solve from zero)."""
    solver: SolverConfig = SolverConfig(solver="anderson", max_iter=30, tol=1e-3)
    """How the network's answer is found, forward and for the gradient."""
    gmm_components: Annotated[int, Range(1, 1000)] = 10
    """How many groups the learned codes are sorted into to draw new digits (a Gaussian mixture)."""
    log_every: EVERY = 25
    """Add a point to the curves every this many steps."""
    eval_every: EVERY = 100
    """Check how well unseen digits are reproduced every this many steps."""
    eval_images: Annotated[int, Range(1, 256)] | None = None
    """How many held-out digits each evaluation restores (the first ones, always the same); empty = all 256."""
    seed: SEED = 0
    """A number that fixes the random start: the same seed gives the same run."""
    device: DEVICE = "auto"
    """Where it runs: auto uses the graphics card (CUDA) when there is one."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(1 <= len(self.channels) <= 4, "channels: 1 to 4 numbers")
        require(self.lr > 0, "lr must be > 0")


@dataclasses.dataclass(frozen=True)
class AttackConfig:
    """Attacking a DEQ classifier inside an L2 ball (SPEC 2.5): JIO (one augmented fixed point) or PGD."""

    method: Literal["jio", "pgd"] = "jio"
    """jio: solve the attack and the network together in one joint loop (fast); pgd: the classic attack, a full solve
    and gradient for every step."""
    epsilon: float = 1.0
    """How much the attack may change a digit: the length of the change (ε, an L2 norm). Larger fools the classifier
    more often."""
    jio: JIIOConfig = JIIOConfig(iterations=80, alpha=(0.6, 0.2), normalized=True, box=True,
                                 anderson_memory=10, anderson_kind="I", select="loss", loss_weight=10.0)
    """JIO's settings. By default: 80 rounds, steps of equal length, sizes (0.6, 0.2), type-I Anderson with memory 10,
    best-loss selection, loss −10 × cross-entropy."""
    pgd_steps: Annotated[int, Range(1, 10_000)] = 20
    """How many steps PGD takes: more is stronger and slower."""
    pgd_lr: float = 0.6
    """How long each PGD step is (the steps are normalized)."""
    pgd_gradient: Literal["exact", "neumann"] = "exact"
    """How PGD gets its gradient: exact (an adjoint solve with the forward solver's settings) or neumann (the
    classifier's cheaper 3-term approximation)."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(self.epsilon > 0 and self.pgd_lr > 0, "epsilon and pgd_lr must be > 0")


@dataclasses.dataclass(frozen=True)
class InverseConfig:
    """Restoring corrupted images with a trained generative prior: JIIO against Adam over the latent (SPEC 2.5)."""

    prior: str = ""
    """The trained network that knows what digits look like (a .safetensors file from Train a generative prior); empty =
    the built-in one."""
    data: str = ""
    """Folder of the MNIST files whose unseen digits are damaged and restored; empty = $DEQ_STUDIO_DATA/mnist (or the
    digits an installed bundle ships)."""
    image: str = ""
    """Restore this image file instead (made gray and resized to the prior's size)."""
    count: Annotated[int, Range(1, 100_000)] = 64
    """How many digits are restored together."""
    corruption: Literal["noise", "box", "pixels", "mask"] = "noise"
    """What damage to repair. noise: grain on every pixel; box: a missing square; pixels: missing random pixels; mask:
    the part you paint."""
    sigma: float = 0.2
    """Noise: how strong the grain is, as a standard deviation on the −1 to 1 pixel scale (the JIIO paper uses 0.2 and
    0.4)."""
    box_size: Annotated[int, Range(1, 1024)] = 20
    """Box: the side of the missing square, in pixels."""
    pixel_fraction: float = 0.5
    """Pixels: the share of pixels that is missing (0.5 = half)."""
    mask: MASK_FILE = ""
    """Mask: an image whose dark pixels are missing."""
    method: Literal["jiio", "adam", "both"] = "both"
    """Which method restores the digits; both runs JIIO and Adam one after the other on the same digits and times
    each."""
    jiio: JIIOConfig = JIIOConfig(iterations=40, alpha=(0.3, 0.1))
    """JIIO's settings (the hidden code starts from zero; the loss is the summed squared error)."""
    adam_steps: Annotated[int, Range(1, 100_000)] = 40
    """The classic method (Adam): how many steps, each a full forward solve and an adjoint solve."""
    adam_lr: float = 1.0
    """The classic method (Adam): its step size on the hidden code (1.0 was the best of 0.1 / 0.3 / 1 / 3 in
    bench/jiio_vs_adam.py)."""
    seed: SEED = 0
    """A number that fixes which digits, noise and masks are drawn: the same seed gives the same problem."""
    device: DEVICE = "auto"
    """Where it runs: auto uses the graphics card (CUDA) when there is one."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(self.sigma >= 0, "sigma must be ≥ 0")
        require(0 <= self.pixel_fraction < 1, "pixel_fraction must be in [0, 1)")
        require(self.corruption != "mask" or bool(self.mask), "corruption mask needs --mask FILE")
        require(self.adam_lr > 0, "adam_lr must be > 0")


@dataclasses.dataclass(frozen=True)
class AttackTaskConfig:
    """Attacking a trained DEQ classifier on held-out digits with JIO and PGD, scored by re-solving from zero."""

    classifier: str = ""
    """The trained digit classifier to fool (a .safetensors file from Train a classifier); empty = the built-in one."""
    data: str = ""
    """Folder of the MNIST files whose unseen digits are attacked; empty = $DEQ_STUDIO_DATA/mnist (or the digits an
    installed bundle ships)."""
    count: Annotated[int, Range(1, 100_000)] = 500
    """How many digits are attacked."""
    image: str = ""
    """Attack this image file instead (made gray and resized to the classifier's size; white strokes on black, as in
    MNIST)."""
    label: Annotated[int, Range(0, 1000)] | None = None
    """The digit the image really shows; empty = what the classifier says about the clean image."""
    method: Literal["jio", "pgd", "both"] = "both"
    """Which attack; both runs JIO and PGD one after the other on the same digits and times each."""
    attack: AttackConfig = AttackConfig()
    """How much the attacks may change a digit, and how each searches."""
    seed: SEED = 0
    """A number that fixes which digits are drawn."""
    device: DEVICE = "auto"
    """Where it runs: auto uses the graphics card (CUDA) when there is one."""

    def __post_init__(self) -> None:
        check_fields(self)


@dataclasses.dataclass(frozen=True)
class AdvTrainConfig:
    """Training an MDEQ-lite classifier, optionally on adversarial examples (SPEC 2.5 `adv-train`)."""

    data: str = ""
    """Folder of the MNIST files; empty = $DEQ_STUDIO_DATA/mnist (or the digits an installed bundle ships)."""
    init: str = ""
    """Start from this classifier's weights (a .safetensors file from Train a classifier), e.g. to make a clean
    classifier robust; its channels replace the channels setting."""
    channels: tuple[Annotated[int, Range(1, 1024)], ...] = (16, 32)
    """How many channels each resolution of the network has (1 to 4 numbers): more is richer and slower."""
    contractive: bool = False
    """Use a simpler network whose answer is always unique, so that every solver and JIO reach it. It is the cell
    relu(s·Lz + injection) with ‖s·L‖₂ ≤ 0.9, instead of MDEQ-lite's GroupNorm cell."""
    head: Literal["mean", "grid"] = "grid"
    """How the answer becomes a digit. mean: average every resolution, then a linear layer; grid: keep a 7×7 map of
    where the strokes are, then a linear layer (every branch pooled to the coarsest resolution)."""
    attack: Literal["none", "pgd", "jio"] = "none"
    """What it trains on: clean digits, or digits changed by the PGD or JIO attack, so that it learns to resist
    attacks."""
    attack_settings: AttackConfig = AttackConfig()
    """The attack used while training. Its budgets may be smaller than at test time: the final scores always use PGD-20
    and JIO-80, with this ε and box."""
    steps: STEPS = 1000
    """How many training steps (weight updates)."""
    batch_size: Annotated[int, Range(1, 65_536)] = 64
    """How many digits each step learns from."""
    lr: float = 1e-3
    """How big each learning step is (Adam's learning rate)."""
    jacobian_reg: float = 0.01
    """Keeps the network's loop short and steady by penalizing its sensitivity; 0 turns it off. It weighs ‖∂f/∂z‖²_F / n
    at the equilibrium (0.01 is the JIIO reference's MNIST setting)."""
    solver: SolverConfig = SolverConfig(solver="anderson", max_iter=20, tol=1e-3)
    """How the classifier's answer is found (also when attacks are scored)."""
    eval_images: Annotated[int, Range(1, 100_000)] = 500
    """How many unseen digits are scored at each check (clean; and under attack at the end)."""
    log_every: EVERY = 25
    """Add a point to the curves every this many steps."""
    eval_every: EVERY = 250
    """Score the accuracy on unseen digits every this many steps."""
    seed: SEED = 0
    """A number that fixes the random start: the same seed gives the same run."""
    device: DEVICE = "auto"
    """Where it runs: auto uses the graphics card (CUDA) when there is one."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(self.lr > 0, "lr must be > 0")
        require(self.jacobian_reg >= 0, "jacobian_reg must be ≥ 0")
        require(1 <= len(self.channels) <= 4, "channels: 1 to 4 branches")
