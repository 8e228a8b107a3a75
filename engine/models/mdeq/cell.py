"""MDEQ-lite: a weight-tied multiresolution convolutional cell with GroupNorm and weight-normalized convolutions.

The state holds one feature map per resolution branch (branch i at `base_size / 2^i`), flattened per sample into
z (B, n). One application: a two-convolution block per branch with its input injection added, then every branch
receives the others resampled to its resolution (strided 3×3 convolutions down, 1×1 convolution and nearest
upsampling up), then ReLU and GroupNorm.
Reference: Bai, Koltun, Kolter, "Multiscale Deep Equilibrium Models", NeurIPS 2020 (a small version of its cell).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm

from engine.models.mdeq.image_conv import ImageConv2d


def conv(c_in: int, c_out: int, kernel: int = 3, stride: int = 1, of_image: bool = False) -> nn.Module:
    """A weight-normalized convolution, 'same' padding; `of_image`: it reads the raw image (gets a fast input
    gradient, see `ImageConv2d`)."""
    kind = ImageConv2d if of_image else nn.Conv2d
    return weight_norm(kind(c_in, c_out, kernel, stride=stride, padding=kernel // 2))


def groups_for(channels: int, wanted: int = 4) -> int:
    """The largest group count ≤ `wanted` that divides `channels`."""
    return max(g for g in range(1, wanted + 1) if channels % g == 0)


class Block(nn.Module):
    """relu(conv(relu(conv(x))) + injection).

    Unlike MDEQ's residual block there is no identity path and no normalization inside: the state enters only
    through two weight-normalized convolutions, and the GroupNorm after the fusion sees it next to the (unit-scale)
    injections, which keeps the cell contractive at initialization (Picard converges in ~8 steps to 1e-4).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1, self.conv2 = conv(channels, channels), conv(channels, channels)

    def forward(self, x: Tensor, injection: Tensor) -> Tensor:
        return F.relu(self.conv2(F.relu(self.conv1(x))) + injection)


class MultiscaleLayout(nn.Module):
    """What every multiscale cell shares: the state layout (one flattened map per branch, branch i at
    `base_size / 2^i`) and the cross-resolution fusion (strided 3×3 convolutions down, 1×1 convolution and nearest
    upsampling up), built by `build_fusion` from `make_conv(c_in, c_out, kernel, stride)`."""

    def __init__(self, channels: tuple[int, ...], base_size: int) -> None:
        super().__init__()
        if not 1 <= len(channels) <= 4:
            raise ValueError("MDEQ-lite takes 1 to 4 branches")
        self.shapes = [(c, base_size >> i, base_size >> i) for i, c in enumerate(channels)]
        self.sizes = [c * h * w for c, h, w in self.shapes]

    def build_fusion(self, channels: tuple[int, ...], make_conv) -> None:
        """The cross-resolution convolutions (a subclass calls this where its initialization order wants it)."""
        self.fuse = nn.ModuleDict()
        for i, c_in in enumerate(channels):
            for j, c_out in enumerate(channels):
                if i < j:  # down: (j − i) strided convolutions
                    steps = [make_conv(c_in if k == 0 else c_out, c_out, 3, 2) for k in range(j - i)]
                    self.fuse[f"{i}to{j}"] = nn.Sequential(*steps)
                elif i > j:  # up: 1×1 convolution, then nearest upsampling in `fused`
                    self.fuse[f"{i}to{j}"] = make_conv(c_in, c_out, 1, 1)

    @property
    def state_size(self) -> int:
        return sum(self.sizes)

    def split(self, z: Tensor) -> list[Tensor]:
        """(B, n) → one (B, c, h, w) map per branch."""
        parts = torch.split(z, self.sizes, dim=1)
        return [p.reshape(-1, *shape) for p, shape in zip(parts, self.shapes)]

    def join(self, maps: list[Tensor]) -> Tensor:
        """One map per branch → (B, n)."""
        return torch.cat([m.flatten(1) for m in maps], dim=1)

    def fused(self, maps: list[Tensor]) -> list[Tensor]:
        """Each branch's map plus every other branch's resampled to its resolution."""
        out = []
        for j, target in enumerate(maps):
            total = target
            for i, source in enumerate(maps):
                if i < j:
                    total = total + self.fuse[f"{i}to{j}"](source)
                elif i > j:
                    total = total + F.interpolate(self.fuse[f"{i}to{j}"](source), scale_factor=2 ** (i - j),
                                                  mode="nearest")
            out.append(total)
        return out


class MultiscaleCell(MultiscaleLayout):
    """f(z, *injections) for branches of `channels` at resolutions base_size, base_size/2, ..."""

    def __init__(self, channels: tuple[int, ...], base_size: int) -> None:
        super().__init__(channels, base_size)
        self.blocks = nn.ModuleList(Block(c) for c in channels)
        self.build_fusion(channels, conv)
        self.post = nn.ModuleList(nn.GroupNorm(groups_for(c), c) for c in channels)

    def forward(self, z: Tensor, *injections: Tensor) -> Tensor:
        blocks = [block(x, inj) for block, x, inj in zip(self.blocks, self.split(z), injections)]
        return self.join([norm(F.relu(total)) for norm, total in zip(self.post, self.fused(blocks))])
