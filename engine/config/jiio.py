"""The JIIO configs (SPEC 2.5): the augmented solver, generative training, inverse problems, attacks and
adversarial training."""
from __future__ import annotations

import dataclasses
from typing import ClassVar, Literal

from engine.config.equilibrium import SolverConfig
from engine.config.fields import check_choices, require


@dataclasses.dataclass(frozen=True)
class JIIOConfig:
    """Joint inference and input optimization: one augmented fixed point over (z, μ, x) (SPEC 2.5). The constraint on
    the optimized input (an attack's L2 ball) belongs to the problem, not to these settings."""

    RETIRED_FIELDS: ClassVar[frozenset[str]] = frozenset({"projection", "epsilon"})
    """Fields older run folders still hold (never read: the problem projects)."""

    iterations: int = 40
    """K, the fixed budget of augmented iterations (Anderson steps)."""
    eta_z: float = 0.8
    """Damping of the state update z ← z + η_z (f(z, x) − z)."""
    eta_mu: float = 0.6
    """Damping of the adjoint update μ ← μ + η_μ (∂ℓ/∂z + Jᵀμ − μ)."""
    alpha: tuple[float, float] = (0.03, 0.01)
    """Input step sizes (α₁, α₂); α₂ takes over at iteration max(50, ⌊5K/8⌋)."""
    normalized: bool = False
    """Normalize each sample's input step to unit L2 norm (attacks)."""
    box: bool = False
    """Also keep base + δ inside [0, 1] (attacks on images in [0, 1])."""
    anderson_memory: int = 10
    """Anderson memory on the concatenated per-sample state (10–40)."""
    anderson_lam: float = 1e-4
    """Anderson regularization."""
    anderson_kind: Literal["II", "I"] = "II"
    """Anderson mixing: II minimizes the mixed residual (least squares); I ("good" Anderson, as the JIIO reference)
    makes it orthogonal to the differences of iterates."""
    select: Literal["residual", "loss"] = "residual"
    """Iterate each sample returns: its lowest-residual one, or its lowest-loss one among those with a residual
    within 1.3× its lowest (after 10 iterations; the JIIO reference's rule for attacks)."""
    loss_reduction: Literal["sum", "mean"] = "sum"
    """How a sample's loss sums its elements; the step sizes are tuned to this scale."""
    loss_weight: float = 1.0
    """Multiplier of the loss (e.g. −10 × cross-entropy for attacks is weight 10 on the attack loss)."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.iterations >= 1, "iterations must be ≥ 1")
        require(0 < self.eta_z <= 1 and 0 < self.eta_mu <= 1, "eta_z and eta_mu must be in (0, 1]")
        require(len(self.alpha) == 2 and min(self.alpha) > 0, "alpha must be two positive step sizes")
        require(self.anderson_memory >= 1, "anderson_memory must be ≥ 1")

    def step_size(self, k: int) -> float:
        """α_k: α₁ before iteration max(50, ⌊5K/8⌋), α₂ from it on (k counted from 0)."""
        return self.alpha[0] if k < max(50, (5 * self.iterations) // 8) else self.alpha[1]


@dataclasses.dataclass(frozen=True)
class PriorConfig:
    """Training a generative MDEQ-lite decoder whose latents are found by JIIO (SPEC 2.5)."""

    data: str = ""
    """Folder with the MNIST IDX files, or a folder of images cut into 28×28 gray patches."""
    latent: int = 64
    """Latent size k."""
    channels: tuple[int, ...] = (24, 48)
    """Channels of each resolution branch (2 to 4 branches)."""
    steps: int = 1000
    """Weight updates."""
    batch_size: int = 64
    """Images per update."""
    lr: float = 1e-3
    """Adam learning rate of the decoder weights."""
    jiio: JIIOConfig = JIIOConfig(iterations=20, alpha=(0.3, 0.1))
    """How each batch's latents are found (from zero)."""
    solver: SolverConfig = SolverConfig(solver="anderson", max_iter=30, tol=1e-3)
    """Forward and adjoint solver of the decoder's equilibrium."""
    gmm_components: int = 10
    """Gaussian-mixture components fitted to the optimized latents for sampling."""
    log_every: int = 25
    """Write a metrics row every this many steps."""
    eval_every: int = 100
    """Score held-out reconstructions every this many steps."""
    seed: int = 0
    """Random seed."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto = CUDA when available."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.latent >= 1 and self.steps >= 0 and self.batch_size >= 1, "latent, steps, batch_size ≥ 1")
        require(1 <= len(self.channels) <= 4 and min(self.channels) >= 1, "channels: 1 to 4 positive numbers")
        require(self.lr > 0, "lr must be > 0")
        require(self.gmm_components >= 1, "gmm_components must be ≥ 1")


@dataclasses.dataclass(frozen=True)
class AttackConfig:
    """Attacking a DEQ classifier inside an L2 ball (SPEC 2.5): JIO (one augmented fixed point) or PGD."""

    method: Literal["jio", "pgd"] = "jio"
    """jio: joint input optimization with the equilibrium and its adjoint; pgd: projected gradient steps, each
    with a full forward and adjoint solve."""
    epsilon: float = 1.0
    """L2 radius of the perturbation."""
    jio: JIIOConfig = JIIOConfig(iterations=80, alpha=(0.6, 0.2), normalized=True, box=True,
                                 anderson_memory=10, anderson_kind="I", select="loss", loss_weight=10.0)
    """JIO settings: K = 80, normalized steps, α = (0.6, 0.2), type-I Anderson with memory 10, best-loss
    selection, loss −10 × cross-entropy."""
    pgd_steps: int = 20
    """PGD iterations."""
    pgd_lr: float = 0.6
    """PGD step size (normalized steps)."""
    pgd_gradient: Literal["exact", "neumann"] = "exact"
    """PGD's input gradient: exact implicit gradient (an adjoint solve with the forward solver's settings) or the
    classifier's cheaper 3-term Neumann series."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.epsilon > 0 and self.pgd_steps >= 1 and self.pgd_lr > 0, "epsilon, pgd_steps, pgd_lr > 0")


@dataclasses.dataclass(frozen=True)
class InverseConfig:
    """Restoring corrupted images with a trained generative prior: JIIO against Adam over the latent (SPEC 2.5)."""

    prior: str = ""
    """Prior model file (.safetensors written by train-prior); empty = the built-in MNIST prior."""
    data: str = ""
    """Folder with the MNIST IDX files whose held-out digits are corrupted; empty = $DEQ_STUDIO_DATA/mnist (or the
    digits an installed bundle ships)."""
    image: str = ""
    """Restore this image file instead (made gray and resized to the prior's size)."""
    count: int = 64
    """Held-out digits restored together (one batch)."""
    corruption: Literal["noise", "box", "pixels", "mask"] = "noise"
    """noise: Gaussian noise; box: a missing square; pixels: missing random pixels; mask: a painted mask image."""
    sigma: float = 0.2
    """noise: standard deviation on the [−1, 1] pixel scale (the JIIO paper uses 0.2 and 0.4)."""
    box_size: int = 20
    """box: side of the missing square, in pixels."""
    pixel_fraction: float = 0.5
    """pixels: fraction of the pixels that are missing."""
    mask: str = ""
    """mask: an image whose dark pixels are missing."""
    method: Literal["jiio", "adam", "both"] = "both"
    """Which optimizer restores the images; both runs them one after the other on the same data and times each."""
    jiio: JIIOConfig = JIIOConfig(iterations=40, alpha=(0.3, 0.1))
    """JIIO settings (latent from zero, summed squared error)."""
    adam_steps: int = 40
    """Adam baseline: steps, each a full forward solve and an adjoint solve."""
    adam_lr: float = 1.0
    """Adam baseline: learning rate on the latent (1.0 was the best of 0.1 / 0.3 / 1 / 3 in bench/jiio_vs_adam.py)."""
    seed: int = 0
    """Random seed (which digits, the noise and the masks)."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto = CUDA when available."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.count >= 1, "count must be ≥ 1")
        require(self.sigma >= 0, "sigma must be ≥ 0")
        require(self.box_size >= 1, "box_size must be ≥ 1")
        require(0 <= self.pixel_fraction < 1, "pixel_fraction must be in [0, 1)")
        require(self.corruption != "mask" or bool(self.mask), "corruption mask needs --mask FILE")
        require(self.adam_steps >= 1 and self.adam_lr > 0, "adam_steps ≥ 1 and adam_lr > 0")


@dataclasses.dataclass(frozen=True)
class AttackTaskConfig:
    """Attacking a trained DEQ classifier on held-out digits with JIO and PGD, scored by re-solving from zero."""

    classifier: str = ""
    """Classifier model file (.safetensors written by adv-train); empty = the built-in MNIST classifier."""
    data: str = ""
    """Folder with the MNIST IDX files whose held-out digits are attacked; empty = $DEQ_STUDIO_DATA/mnist (or the
    digits an installed bundle ships)."""
    count: int = 500
    """Held-out digits attacked."""
    image: str = ""
    """Attack this image file instead (made gray and resized to the classifier's size; white strokes on black, as
    MNIST)."""
    label: int | None = None
    """The true class of --image; empty = the classifier's prediction on the clean image."""
    method: Literal["jio", "pgd", "both"] = "both"
    """Which attack; both runs them one after the other on the same digits and times each."""
    attack: AttackConfig = AttackConfig()
    """Budgets and step sizes of the attacks."""
    seed: int = 0
    """Random seed."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto = CUDA when available."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.count >= 1, "count must be ≥ 1")
        require(self.label is None or self.label >= 0, "label must be ≥ 0")


@dataclasses.dataclass(frozen=True)
class AdvTrainConfig:
    """Training an MDEQ-lite classifier, optionally on adversarial examples (SPEC 2.5 `adv-train`)."""

    data: str = ""
    """Folder with the MNIST IDX files; empty = $DEQ_STUDIO_DATA/mnist (or the digits an
    installed bundle ships)."""
    init: str = ""
    """Start from this classifier's weights (.safetensors from adv-train), e.g. adversarial fine-tuning of a clean
    model; its channels replace the channels option."""
    channels: tuple[int, ...] = (16, 32)
    """Channels of each resolution branch."""
    contractive: bool = False
    """Use the contractive cell relu(s·Lz + injection) with ‖s·L‖₂ ≤ 0.9: a unique equilibrium that every solver
    and JIO's adjoint iteration reach (instead of MDEQ-lite's GroupNorm cell)."""
    head: Literal["mean", "grid"] = "grid"
    """Classification head: mean = global average pool of every branch, then linear; grid = every branch pooled to
    the coarsest resolution (7×7 for MNIST) and flattened, then linear (keeps where the strokes are)."""
    attack: Literal["none", "pgd", "jio"] = "none"
    """Train on clean images, or on PGD or JIO adversarial examples."""
    attack_settings: AttackConfig = AttackConfig()
    """The attack used during training (its budgets may be smaller than at test time: the final scores always use
    PGD-20 and JIO-80, with this ε and box)."""
    steps: int = 1000
    """Weight updates."""
    batch_size: int = 64
    """Images per update."""
    lr: float = 1e-3
    """Adam learning rate."""
    jacobian_reg: float = 0.01
    """Weight of the Jacobian penalty ‖∂f/∂z‖²_F / n at the equilibrium (keeps the solves short and convergent;
    0.01 is the JIIO reference's MNIST setting)."""
    solver: SolverConfig = SolverConfig(solver="anderson", max_iter=20, tol=1e-3)
    """Forward solver of the classifier's equilibrium (also used to score attacks)."""
    eval_images: int = 500
    """Held-out images scored at evaluation (clean; and under attack at the end)."""
    log_every: int = 25
    """Write a metrics row every this many steps."""
    eval_every: int = 250
    """Score held-out accuracy every this many steps."""
    seed: int = 0
    """Random seed."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto = CUDA when available."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.steps >= 0 and self.batch_size >= 1 and self.lr > 0, "steps ≥ 0, batch_size ≥ 1, lr > 0")
        require(self.jacobian_reg >= 0, "jacobian_reg must be ≥ 0")
        require(1 <= len(self.channels) <= 4, "channels: 1 to 4 branches")
