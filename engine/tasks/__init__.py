"""Tasks: what the loop drives. `build_fit_task` turns a file and a FitConfig into the right task."""
from __future__ import annotations

from pathlib import Path

import torch

from engine.config import AdvTrainConfig, AttackTaskConfig, FitConfig, InverseConfig, PriorConfig
from engine.media import MeshSignal, load_signal
from engine.tasks.base import DivergenceError, Snapshot, Task
from engine.tasks.fit import FitTask
from engine.tasks.mesh_fit import MeshFitTask


def build_fit_task(path: str | Path, config: FitConfig, device: torch.device) -> FitTask | MeshFitTask:
    """Load the file (SignalError on bad input) and build the fit task for its medium."""
    signal = load_signal(path, config.signal)
    if isinstance(signal, MeshSignal):
        return MeshFitTask(config, signal, device)
    return FitTask(config, signal, device)


def build_prior_task(config: PriorConfig, device: torch.device):
    """Read the training images (MNIST IDX folder or image folder) and build generative training."""
    from engine.datasets.mnist import default_mnist_folder, image_dataset
    from engine.tasks.generative import GenerativeTrainTask

    data = image_dataset(default_mnist_folder(config.data), seed=config.seed)
    return GenerativeTrainTask(config, data["train"][0], data["held_out"][0], device)


def build_inverse_task(config: InverseConfig, device: torch.device):
    """The prior (built-in when not given) and the images to restore: an image file or held-out MNIST digits."""
    from engine.models.mdeq.stored import load_decoder
    from engine.datasets.mnist import held_out_digits
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
    from engine.models.mdeq.stored import load_classifier
    from engine.datasets.mnist import held_out_digits
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


RESUMABLE = {"fit": FitConfig, "train-prior": PriorConfig, "adv-train": AdvTrainConfig}
"""Run-folder task names that can continue from a checkpoint, and their config classes."""


def build_resumed_task(record: dict, config, device: torch.device):
    """The task a run folder's config.json `record` describes, built from `config` (its settings, possibly
    adjusted) before the checkpoint is loaded into it; ValueError for a task that cannot be resumed."""
    kind = record.get("task")
    if kind == "fit":
        return build_fit_task(record["input"], config, device)
    if kind == "train-prior":
        return build_prior_task(config, device)
    if kind == "adv-train":
        return build_adv_task(config, device)
    raise ValueError(f"cannot resume a task of kind {kind!r}")


def read_gray_image(path: str | Path, size: int):
    """An image file as uint8 (size, size) gray, resized; SignalError when unreadable."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    from engine.media import SignalError

    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("L").resize((size, size), Image.BILINEAR))
    except FileNotFoundError:
        raise SignalError(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise SignalError(f"{Path(path).name}: not a readable image ({exc})") from None


__all__ = ["RESUMABLE", "DivergenceError", "FitTask", "MeshFitTask", "Snapshot", "Task", "build_adv_task",
           "build_attack_task", "build_fit_task", "build_inverse_task", "build_prior_task", "build_resumed_task"]
