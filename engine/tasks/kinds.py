"""The task registry: every kind of job DEQ Studio runs, registered once.

A `TaskKind` names its config class, how its task is built, whether it resumes, which view shows it and how its
flags are laid out. The CLI verbs, the window's task selector, resuming, reopening a run folder and the choice of
view all read `TASKS`; adding a task kind is one registration here (plus its view in the window).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from engine.config import (AdvTrainConfig, AttackTaskConfig, DuelConfig, FitConfig, InverseConfig, MetaTrainConfig,
                           PriorConfig, RestoreConfig, from_dict)
from engine.config.fields import unchosen_options
from engine.distributed import require_even_split
from engine.memory import DatasetMemory, check_dataset_memory
from engine.presets import (PRESETS, adv_train_fields, attack_fields, duel_preview, fit_fields, fit_preview,
                            inverse_fields, resolve_fit_config, restore_fields, restore_preview)
from engine.registry import Registry
from engine.tasks.base import Task


@dataclasses.dataclass(frozen=True)
class TaskKind:
    """One kind of task, as every front end offers it."""

    name: str
    """The CLI verb, and the task's name in a run folder's config.json."""
    title: str
    """The window's name for it."""
    summary: str
    """One line: the CLI's help and the window's tooltip."""
    config: type
    """The config class (a frozen dataclass)."""
    build: Callable[[Any, Path | None, torch.device], Task]
    """(config, opened file or None, device) → task; SignalError / ConfigError / ModelFileError / ValueError on bad
    input, before anything is written."""
    run_name: Callable[[Any, Path | None], str]
    """The default run folder's name (under runs/)."""
    needs_file: bool = False
    """It fits a file the user opens."""
    media: frozenset[str] | None = None
    """The media of the files it takes (None: every one)."""
    resumable: bool = False
    """A run folder continues from its checkpoint (`deq-studio resume`, the window's Load)."""
    race: bool = False
    """Its steps are methods racing on one problem; its folder reopens as curves only."""
    trains_on_dataset: bool = False
    """It trains on the dataset folder its config's `data` names (empty: `dataset`), which its run folder records."""
    dataset: str = "mnist"
    """The dataset an empty `data` means (a folder of that name under $DEQ_STUDIO_DATA)."""
    view: str = "medium"
    """What shows its previews: medium (the fitted file's own view), grid, race, attack, duel or few-shot."""
    fixed: frozenset[str] = frozenset()
    """Dotted config fields the task sets itself: no flag and no form field."""
    advanced: frozenset[str] = frozenset()
    """Config fields (dotted paths: a group or one field of a group) most runs leave alone (solver internals,
    network sizes, cadences, seeds): the window keeps them in its Advanced drawer, so that Simple shows the few
    choices a user understands."""
    flatten: frozenset[str] = frozenset()
    """Nested configs whose flags drop their prefix (`--width` for model.width)."""
    rename: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Flags with another name than their field path."""
    pairs: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    """Flags that set several fields at once, in order (`--models A B` sets model.model and rival)."""
    checkpoint_every: int = 250
    """The CLI's default checkpoint cadence, in steps."""
    distributed: bool = False
    """It runs in several processes under torchrun (DistributedDataParallel; engine/distributed.py)."""
    stored_defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Values of fields added after runs were saved without them: what those runs ran with (not today's default)."""
    scored_in: str = "psnr"
    """What its runs are scored in: "psnr" (dB) or "percent" (accuracy, IoU); the window's curves keep that plot's
    place before the first row."""
    global_batch: Callable[[Any, Path | None], int | None] | None = None
    """(config, opened file or None) → the batch each step of a job of several processes shares out, None when
    every example is used at every step (such a run stays in one process)."""
    memory: DatasetMemory | None = None
    """A dataset task's memory model (examples solved at once, measured bytes per state number), checked when it is
    built; fits check theirs from the file and the settings (`engine.memory.check_fit_memory`)."""
    preview: Callable[[str | None, torch.device], Any] | None = None
    """(the opened file's medium or None, device) → the window's starting settings (the `preview` preset), small
    enough on a CPU to show progress within seconds; None: the config's defaults."""
    inapplicable: Callable[[Any, str | None], set[str]] | None = None
    """(settings, the opened file's medium or None) → dotted fields that do nothing as they stand (other media's
    options, other corruptions' settings, …); the solvers and backward modes not chosen are added to them."""

    def preset(self, name: str, device: torch.device, medium: str | None = None) -> Any:
        """Its starting settings: `full` (the SPEC's: the config's defaults) or `preview`, for the opened file's
        `medium` where it takes one; ValueError for an unknown preset name."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
        if name == "full" or self.preview is None:
            return self.config()
        return self.preview(medium, device)

    def inapplicable_fields(self, config: Any, medium: str | None = None) -> frozenset[str]:
        """Dotted fields of `config` that do nothing as it stands: the kind's own (`inapplicable`) and, in every
        kind, the settings of the solvers and backward modes that are not chosen."""
        own = self.inapplicable(config, medium) if self.inapplicable is not None else set()
        return frozenset(set(own) | unchosen_options(config))

    def require_processes(self, processes: int, config: Any = None, path: Path | None = None) -> None:
        """ValueError when a job of `processes` processes is asked of a kind that runs in one, or (given the
        settings) of settings whose global batch does not split evenly over them: checked before a run folder is
        made, so that a job which would refuse at its first step is never started."""
        if processes <= 1:
            return
        if not self.distributed:
            raise ValueError(f"{self.title} does not run in several processes (start it without torchrun); these do: "
                             f"{', '.join(k.title for k in TASKS if k.distributed)}.")
        if config is None or self.global_batch is None:
            return
        batch = self.global_batch(config, path)
        if batch is None:
            raise ValueError("a full-batch fit (every coordinate at every step) runs in one process: give it a batch "
                             "size (--batch-size) to run it in several")
        require_even_split(batch, processes)

    def takes(self, medium: str) -> bool:
        """Whether it takes a file of `medium`."""
        return self.media is None or medium in self.media

    def refusal(self, medium: str, name: str) -> str | None:
        """Why it cannot take the file `name` of `medium` (None when it can): one sentence."""
        from engine.media import medium_spec, one_of

        if self.takes(medium):
            return None
        return (f"{self.name.capitalize()} takes {one_of(self.media)}, and {name} is {medium_spec(medium).noun}: "
                f"choose Fit a file for it.")

    def stored_settings(self, stored: dict[str, Any]) -> Any:
        """The config a run folder's config.json records (fields it predates take `stored_defaults`)."""
        return from_dict(self.config, {**self.stored_defaults, **stored})

    def record_input(self, config: Any, path: Path | None) -> str | None:
        """What a run folder's config.json names as the run's input: the fitted file or the dataset folder."""
        if path is not None:
            return str(Path(path).resolve())
        if not self.trains_on_dataset:
            return None
        return str(Path(config.data).resolve()) if config.data else self.dataset


TASKS: Registry[TaskKind] = Registry("task")
"""Every task kind, in the order the front ends list them."""


def register(kind: TaskKind) -> TaskKind:
    return TASKS.register(kind.name)(kind)


def task_kind(name: str) -> TaskKind:
    """The registered kind `name`; ValueError naming the known kinds otherwise."""
    try:
        return TASKS.get(name)
    except KeyError as exc:
        raise ValueError(str(exc.args[0])) from None


# ---- builders ------------------------------------------------------------------------------------------------------
def build_fit_task(path: str | Path | None, config: FitConfig, device: torch.device):
    """Load the file (SignalError on bad input) and build the fit task for its medium."""
    from engine.media import MeshSignal, load_signal
    from engine.memory import check_fit_memory
    from engine.tasks.fit import FitTask
    from engine.tasks.mesh_fit import MeshFitTask

    if path is None:
        raise ValueError("open a file first")
    signal = load_signal(path, config.signal)
    check_fit_memory(config, signal, device, f"Fitting {Path(path).name} with these settings")
    if isinstance(signal, MeshSignal):
        return MeshFitTask(config, signal, device)
    return FitTask(config, signal, device)


def _signal_of(name: str, path: str | Path | None, config: Any):
    """The file of a kind that takes some media only (`name`'s registration), loaded; ValueError for no file or one
    of another medium, SignalError for a bad one."""
    from engine.media import load_signal, medium_of

    if path is None:
        raise ValueError("open a file first")
    refusal = TASKS.get(name).refusal(medium_of(path), Path(path).name)
    if refusal:
        raise ValueError(refusal)
    return load_signal(path, config.signal)


def build_restore_task(path: str | Path | None, config: RestoreConfig, device: torch.device):
    """Load the file, read what is missing (its medium's mark of damage) and build the restore."""
    from engine.media import medium_spec
    from engine.memory import check_fit_memory
    from engine.tasks.restore import RestoreTask

    signal = _signal_of("restore", path, config)
    check_fit_memory(config, signal, device, f"Restoring {Path(path).name} with these settings")
    return RestoreTask(config, signal, medium_spec(signal.medium).damage(Path(path), signal, config), device)


def fit_global_batch(config: FitConfig, path: str | Path | None) -> int | None:
    """The points each step of a fit learns from (the medium's default when empty; None: all of them)."""
    from engine.media import medium_of

    if config.batch_size is not None or path is None:
        return config.batch_size
    return resolve_fit_config(config, medium_of(path)).batch_size


def build_duel_task(path: str | Path | None, config: DuelConfig, device: torch.device):
    """Load the file once and build both sides of the duel (an image, a sound or a video)."""
    from engine.memory import check_fit_memory
    from engine.tasks.duel import DuelTask

    signal = _signal_of("duel", path, config)
    for side in (config.model.model, config.rival):
        check_fit_memory(config.fit_of(side), signal, device, f"Fitting {Path(path).name} with {side}")
    return DuelTask(config, signal, device)


def build_prior_task(config: PriorConfig, device: torch.device):
    """Read the training images (MNIST IDX folder or image folder) and build generative training."""
    from engine.datasets.mnist import default_mnist_folder, image_dataset
    from engine.tasks.generative import GenerativeTrainTask

    data = image_dataset(default_mnist_folder(config.data), seed=config.seed)
    return GenerativeTrainTask(config, data["train"][0], data["held_out"][0], device)


def build_inverse_task(config: InverseConfig, device: torch.device):
    """The prior (built-in when not given) and the images to restore: an image file or held-out MNIST digits."""
    from engine.datasets.mnist import held_out_digits
    from engine.media.image import read_gray_image
    from engine.models.mdeq.stored import load_decoder
    from engine.tasks.generative import to_signed
    from engine.tasks.inverse import InverseTask

    decoder, _ = load_decoder(config.prior, device)
    if config.image:
        clean = to_signed(read_gray_image(config.image, decoder.image_size)[None], device)
    else:
        clean = to_signed(held_out_digits(config.data, config.count)[0], device)
    return InverseTask(config, decoder, clean, device)


def build_attack_task(config: AttackTaskConfig, device: torch.device):
    """The classifier (built-in when not given) and what it is attacked on: held-out digits, or one image file
    (labelled by `config.label` or by the classifier's clean prediction)."""
    from engine.datasets.mnist import held_out_digits
    from engine.media.image import read_gray_image
    from engine.models.mdeq.stored import load_classifier
    from engine.tasks.adversarial import to_unit
    from engine.tasks.attack import AttackTask

    classifier = load_classifier(config.classifier, device)
    if config.image:
        images = to_unit(read_gray_image(config.image, classifier.image_size)[None], device)
        if config.label is not None:
            if config.label >= classifier.classes:
                raise ValueError(f"label {config.label}: the classifier knows {classifier.classes} classes")
            labels = torch.tensor([config.label])
        else:
            with torch.no_grad():
                labels = classifier.eval()(images).argmax(1).cpu()
        return AttackTask(config, classifier, images, labels, device)
    images, labels = held_out_digits(config.data, config.count)
    return AttackTask(config, classifier, to_unit(images, device), torch.from_numpy(labels.copy()), device)


def build_adv_task(config: AdvTrainConfig, device: torch.device):
    """Clean or adversarial training of a classifier on MNIST (the fixed 8,000 / 2,000 split)."""
    from engine.datasets.mnist import default_mnist_folder, image_dataset
    from engine.tasks.adversarial import AdversarialTrainTask

    data = image_dataset(default_mnist_folder(config.data), seed=config.seed)
    if (data["train"][1] < 0).any():
        raise ValueError(f"{config.data}: adv-train needs labelled digits (the MNIST IDX files)")
    return AdversarialTrainTask(config, data["train"], data["held_out"], device)


def build_meta_task(config: MetaTrainConfig, device: torch.device):
    """Read Omniglot (its zips or alphabet folders) and build meta-training."""
    from engine.datasets.omniglot import default_omniglot_folder, load_omniglot
    from engine.tasks.meta_train import MetaTrainTask

    return MetaTrainTask(config, load_omniglot(default_omniglot_folder(config.data)), device)


def _without_file(name: str, build: Callable[[Any, torch.device], Any]
                  ) -> Callable[[Any, Path | None, torch.device], Any]:
    """A builder of a dataset task (no opened file) in TaskKind.build's signature, whose memory (its registration's
    `memory`) is checked once it is built, before its first step (MemoryGuardError)."""
    def built(config: Any, path: Path | None, device: torch.device) -> Any:
        task = build(config, device)
        memory = TASKS.get(name).memory
        if memory is not None:
            check_dataset_memory(name, memory.of(config, task), device)
        return task

    return built


# ---- the registrations ---------------------------------------------------------------------------------------------
FIT_ADVANCED = frozenset({"model.layers", "model.width", "model.input_scale", "model.spectral_norm",
                          "model.gabor_alpha", "signal.audio_rate", "signal.video_stride", "signal.mesh_points",
                          "signal.mesh_near_sigma", "signal.mesh_max_triangles", "solver", "backward", "lr",
                          "batch_size", "grad_clip", "amortize", "minibatch_warm_start", "log_every", "eval_every",
                          "eval_points", "seed"})
ON_A_FILE = dict(needs_file=True, resumable=True, flatten=frozenset({"model", "signal"}),
                 rename={"backward.mode": "backward"}, checkpoint_every=500, advanced=FIT_ADVANCED)
"""What the kinds that fit an opened file share: their flags (`--width`, `--max-size`, `--backward`), their Advanced
drawer, their checkpoints."""
GRID_MEDIA = frozenset({"image", "audio", "video"})
"""The media a duel and a restore take (a shape has no grid of samples to hold out or fill in)."""
register(TaskKind(
    "fit", "Fit a file", "fit an image, audio clip, video or mesh with an implicit representation", FitConfig,
    lambda config, path, device: build_fit_task(path, config, device),
    lambda config, path: f"{Path(path or 'fit').stem}-{config.model.model}-{config.protocol}",
    **ON_A_FILE, distributed=True, global_batch=fit_global_batch,
    preview=lambda medium, device: fit_preview(medium or "image", device), inapplicable=fit_fields))
register(TaskKind(
    "duel", "Duel: two networks side by side",
    "fit one file with two networks step for step (default: Fourier-iMFN against Fourier-MFN, each scored on the "
    "pixels it never saw): curves, pictures, time and memory side by side, and the winner", DuelConfig,
    lambda config, path, device: build_duel_task(path, config, device),
    lambda config, path: f"{Path(path or 'duel').stem}-{config.model.model}-vs-{config.rival}",
    **ON_A_FILE, media=GRID_MEDIA, view="duel", pairs={"models": ("model.model", "rival")},
    preview=lambda medium, device: duel_preview(medium or "image", device), inapplicable=fit_fields))
register(TaskKind(
    "restore", "Restore a damaged file",
    "fill in what is missing from what is left: a picture's damaged pixels (a mask), a sound's gap, a video's lost "
    "frames", RestoreConfig,
    lambda config, path, device: build_restore_task(path, config, device),
    lambda config, path: f"{Path(path or 'restore').stem}-restored-{config.model.model}",
    **ON_A_FILE, media=GRID_MEDIA, fixed=frozenset({"protocol"}),
    preview=lambda medium, device: restore_preview(medium or "image", device), inapplicable=restore_fields))
register(TaskKind(
    "train-prior", "Train a generative prior (MNIST)", "train a generative DEQ decoder whose latents JIIO finds",
    PriorConfig, _without_file("train-prior", build_prior_task), lambda config, path: f"prior-{Path(config.data).name or 'mnist'}",
    resumable=True, trains_on_dataset=True, view="grid", distributed=True,
    global_batch=lambda config, path: config.batch_size,
    advanced=frozenset({"latent", "channels", "lr", "jiio", "solver", "gmm_components", "log_every", "eval_every",
                        "eval_images", "seed"}),
    # two minutes on two CPU cores (bench/preview_times.py): smaller batches, 64 digits scored
    preview=lambda medium, device: PriorConfig(steps=100, batch_size=32, eval_every=25, eval_images=32, log_every=5),
    memory=DatasetMemory(lambda config, task: (max(config.batch_size, len(task.held_out)),
                                               task.decoder.cell.state_size), 390.0)))  # measured 379 on a CPU
register(TaskKind(
    "inverse", "Inverse problem: JIIO vs Adam", "denoise or inpaint with a trained prior: JIIO against Adam",
    InverseConfig, _without_file("inverse", build_inverse_task),
    lambda config, path: f"inverse-{Path(config.image).stem if config.image else 'mnist'}-{config.corruption}",
    race=True, view="race", advanced=frozenset({"prior", "data", "jiio", "adam_steps", "adam_lr", "seed"}),
    preview=lambda medium, device: InverseConfig(count=16), inapplicable=inverse_fields,
    memory=DatasetMemory(lambda config, task: (len(task.clean), task.decoder.cell.state_size), 340.0)))  # 333
register(TaskKind(
    "attack", "Attack: JIO vs PGD", "attack a trained DEQ classifier inside an L2 ball: JIO against PGD",
    AttackTaskConfig, _without_file("attack", build_attack_task), lambda config, path: "attack-mnist",
    race=True, view="attack", scored_in="percent", fixed=frozenset({"attack.method"}), flatten=frozenset({"attack"}),
    advanced=frozenset({"classifier", "data", "attack.jio", "attack.pgd_steps", "attack.pgd_lr",
                        "attack.pgd_gradient", "seed"}),
    preview=lambda medium, device: AttackTaskConfig(count=64), inapplicable=attack_fields,
    memory=DatasetMemory(lambda config, task: (len(task.images), task.classifier.cell.state_size), 420.0)))  # 408
register(TaskKind(
    "adv-train", "Train a classifier (clean or adversarial)",
    "train a DEQ classifier on clean, PGD or JIO adversarial digits", AdvTrainConfig, _without_file("adv-train", build_adv_task),
    lambda config, path: f"classifier-{config.attack}", resumable=True, trains_on_dataset=True, view="grid",
    distributed=True, global_batch=lambda config, path: config.batch_size, scored_in="percent",
    fixed=frozenset({"attack_settings.method"}),
    advanced=frozenset({"data", "init", "channels", "contractive", "head", "attack_settings", "lr", "jacobian_reg",
                        "solver", "eval_images", "log_every", "eval_every", "seed"}),
    preview=lambda medium, device: AdvTrainConfig(steps=300, log_every=5, eval_every=100, eval_images=50),
    inapplicable=adv_train_fields,
    memory=DatasetMemory(lambda config, task: (max(config.batch_size, len(task.test_images)),
                                               task.classifier.cell.state_size), 420.0)))  # measured 412
register(TaskKind(
    "meta-train", "Few-shot learning (Omniglot)",
    "meta-train a few-shot classifier whose task context JIIO finds (or an inner loop of gradient steps)",
    MetaTrainConfig, _without_file("meta-train", build_meta_task),
    lambda config, path: f"few-shot-{config.ways}way-{config.shots}shot-{config.inner}", resumable=True,
    trains_on_dataset=True, dataset="omniglot", view="few-shot", distributed=True,
    stored_defaults={"readout": False}, global_batch=lambda config, path: config.tasks_per_step,
    scored_in="percent",
    advanced=frozenset({"data", "queries", "tasks_per_step", "rotations", "jiio", "inner_steps", "inner_lr",
                        "proximal", "context", "readout", "channels", "lr", "jacobian_reg", "solver", "eval_episodes",
                        "log_every", "eval_every", "seed"}),
    # few-shot tasks with a 40-round inner JIIO solve, two minutes on two CPU cores (bench/preview_times.py)
    preview=lambda medium, device: MetaTrainConfig(steps=150, jiio=dataclasses.replace(MetaTrainConfig().jiio,
                                                                                       iterations=40),
                                                   eval_episodes=10, log_every=5, eval_every=50),
    memory=DatasetMemory(lambda config, task: (config.tasks_per_step * config.ways * (config.shots + config.queries),
                                               task.model.cell.state_size), 145.0)))  # measured 140
