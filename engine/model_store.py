"""Trained models on disk: safetensors weights plus JSON metadata (kind, architecture), no pickle anywhere."""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes
from torch import Tensor, nn

from engine.atomic_files import atomic_write_bytes
from engine.checkpoint import layout_mismatch

FORMAT = "deq-studio-model/1"


class ModelFileError(Exception):
    """A model file could not be read; the message says why."""


def model_bytes(module: nn.Module, kind: str, arch: dict, extra: dict[str, Tensor] | None = None,
                dtype: torch.dtype | None = None) -> bytes:
    """The .safetensors file of `module`'s weights, its kind and architecture (and extra tensors); `dtype`: the
    floating-point weights stored in that type (half precision: half the file)."""
    tensors = {f"model.{k}": (v.to(dtype) if dtype is not None and v.is_floating_point() else v).detach().cpu()
               .contiguous() for k, v in module.state_dict().items()}
    tensors.update({f"extra.{k}": v.detach().cpu().contiguous() for k, v in (extra or {}).items()})
    metadata = {"format": FORMAT, "kind": kind, "arch": json.dumps(arch)}
    return save_bytes(tensors, metadata=metadata)


def save_model(path: Path, module: nn.Module, kind: str, arch: dict, extra: dict[str, Tensor] | None = None,
               dtype: torch.dtype | None = None) -> Path:
    """Write `model_bytes` to `path` (atomically)."""
    data = model_bytes(module, kind, arch, extra, dtype)
    atomic_write_bytes(Path(path), lambda handle: handle.write(data))
    return Path(path)


MAX_MODEL_BYTES = 4 << 30
"""The largest model file read (DEQ Studio's are a few megabytes; the widest network it trains, tens)."""


BUILT_IN_ADVICE = "Choose another model file, or leave the field empty for the built-in one."


def load_model(path: Path, advice: str = BUILT_IN_ADVICE) -> tuple[str, dict, dict[str, Tensor], dict[str, Tensor]]:
    """(kind, arch, state_dict, extra tensors) from a file written by `save_model`. Its size is checked against
    what its header declares before the tensors are read. A file that is not one raises ModelFileError, its message
    ending with `advice` (what to do instead)."""
    path = Path(path)
    try:
        data = _read_checked(path)
        tensors = load_bytes(data)
        header_len = int.from_bytes(data[:8], "little")
        metadata = json.loads(data[8 : 8 + header_len]).get("__metadata__") or {}
    except FileNotFoundError:
        raise ModelFileError(f"{path.name} does not exist (was it moved or renamed?). {advice}") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path.name} is a folder: choose a model file (.safetensors) in it.") from None
    except (SafetensorError, ValueError, OSError, RecursionError, AttributeError, KeyError, TypeError,
            IndexError) as exc:
        raise ModelFileError(f"Could not read {path.name} as a model: the file is damaged or incomplete. {advice} "
                             f"(Details: {str(exc)[:160] or type(exc).__name__})") from None
    if metadata.get("format") != FORMAT:
        raise ModelFileError(f"{path.name} is not a DEQ Studio model. {advice}")
    try:
        kind, arch = metadata["kind"], json.loads(metadata["arch"])
    except (KeyError, TypeError, ValueError, RecursionError):
        kind, arch = None, None
    if not isinstance(kind, str) or not isinstance(arch, dict):
        raise ModelFileError(f"{path.name} is damaged: it does not say which network it holds (its kind and "
                             f"architecture). {advice}")
    state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    extra = {k[len("extra."):]: v for k, v in tensors.items() if k.startswith("extra.")}
    return kind, arch, state, extra


def _read_checked(path: Path) -> bytes:
    """The bytes of a safetensors file, read only when its size is that of the header's tensors (ValueError
    otherwise): a header that lies, a truncated file and a huge one are refused before the rest is read."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_MODEL_BYTES:
            raise ValueError(f"{size / 1e9:.1f} GB, far larger than any model DEQ Studio makes")
        start = handle.read(8)
        if len(start) < 8:
            raise ValueError("too short")
        header_len = int.from_bytes(start, "little")
        if header_len > min(size - 8, 1 << 24):
            raise ValueError("its header is longer than the file")
        header = json.loads(handle.read(header_len))
        ends = [info["data_offsets"][1] for name, info in header.items() if name != "__metadata__"]
        if 8 + header_len + max(ends, default=0) != size:
            raise ValueError(f"its header declares {8 + header_len + max(ends, default=0):,} bytes, the file has "
                             f"{size:,}")
        handle.seek(0)
        return handle.read()


def load_into(module: nn.Module, state: dict[str, Tensor], device: torch.device | str = "cpu") -> nn.Module:
    """Load weights strictly (names, shapes and number types: a float tensor stored as integers is refused, not
    cast) and move the module to `device`."""
    problem = layout_mismatch(module.state_dict(), state)
    if problem:
        raise ValueError(problem)
    module.load_state_dict(state, strict=True)
    return module.to(device)
