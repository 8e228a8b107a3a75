"""Trained models on disk: safetensors weights plus JSON metadata (kind, architecture), no pickle anywhere."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes
from torch import Tensor, nn

from engine.checkpoint import atomic_write_bytes

FORMAT = "deq-studio-model/1"


class ModelFileError(Exception):
    """A model file could not be read; the message says why."""


def save_model(path: Path, module: nn.Module, kind: str, arch: dict, extra: dict[str, Tensor] | None = None) -> Path:
    """Write `module`'s weights, its kind and architecture (and extra tensors) to a .safetensors file."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    tensors.update({f"extra.{k}": v.detach().cpu().contiguous() for k, v in (extra or {}).items()})
    metadata = {"format": FORMAT, "kind": kind, "arch": json.dumps(arch)}
    data = save_bytes(tensors, metadata=metadata)
    atomic_write_bytes(Path(path), lambda handle: handle.write(data))
    return Path(path)


def load_model(path: Path) -> tuple[str, dict, dict[str, Tensor], dict[str, Tensor]]:
    """(kind, arch, state_dict, extra tensors) from a file written by `save_model`."""
    path = Path(path)
    try:
        data = path.read_bytes()
        tensors = load_bytes(data)
        header_len = int.from_bytes(data[:8], "little")
        metadata = json.loads(data[8 : 8 + header_len]).get("__metadata__", {})
    except FileNotFoundError:
        raise ModelFileError(f"{path.name} does not exist (was it moved or renamed?). Choose another model file, "
                             f"or leave the field empty for the built-in one.") from None
    except (SafetensorError, ValueError, OSError) as exc:
        raise ModelFileError(f"Could not read {path.name} as a model: the file is damaged or incomplete. Choose "
                             f"another model file, or leave the field empty for the built-in one. (Details: {exc})"
                             ) from exc
    if metadata.get("format") != FORMAT:
        raise ModelFileError(f"{path.name} is not a DEQ Studio model: choose a .safetensors file that DEQ Studio saved "
                             f"(a trained prior or classifier).")
    state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    extra = {k[len("extra."):]: v for k, v in tensors.items() if k.startswith("extra.")}
    return metadata["kind"], json.loads(metadata["arch"]), state, extra


def load_into(module: nn.Module, state: dict[str, Tensor], device: torch.device | str = "cpu") -> nn.Module:
    """Load weights strictly and move the module to `device`."""
    module.load_state_dict(state, strict=True)
    return module.to(device)
