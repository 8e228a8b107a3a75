"""A convolution of the raw image (1–3 input channels) whose input gradient is a matrix product and a fold.

Attacks differentiate the classifier with respect to its input at every iteration. On CPU, oneDNN's backward-data
kernel for a convolution with one input channel is 5–8× slower than its forward pass (measured: 500 MNIST digits,
1 → 32 channels, stride 2: 1.0 ms forward, ~9 ms input gradient). The input gradient of a convolution is
fold(Wᵀ · grad) — the adjoint of unfold — which is one small matrix product and a scatter-add here (~1.5 ms).
The forward pass, the weight and bias gradients and every CUDA computation stay PyTorch's own; the backward is
built from differentiable operations, so double backward (Jacobian penalties) still works.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

FOLD_MAX_CHANNELS = 3
"""Input channels up to which the folded input gradient is used (gray and RGB images)."""


class _FoldedInputGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, image: Tensor, weight: Tensor, bias: Tensor | None, stride: tuple[int, int],
                padding: tuple[int, int]) -> Tensor:
        ctx.save_for_backward(image, weight)
        ctx.stride, ctx.padding, ctx.has_bias = stride, padding, bias is not None
        return F.conv2d(image, weight, bias, stride=stride, padding=padding)

    @staticmethod
    def backward(ctx, grad: Tensor):
        image, weight = ctx.saved_tensors
        grad_image = grad_weight = grad_bias = None
        c_out, c_in, kh, kw = weight.shape
        if ctx.needs_input_grad[0]:
            columns = weight.reshape(c_out, c_in * kh * kw).t() @ grad.flatten(2)  # (B, c_in·k², L)
            grad_image = F.fold(columns, image.shape[-2:], (kh, kw), padding=ctx.padding, stride=ctx.stride)
        if ctx.needs_input_grad[1]:
            grad_weight = torch.nn.grad.conv2d_weight(image, weight.shape, grad, stride=ctx.stride,
                                                      padding=ctx.padding)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad.sum(dim=(0, 2, 3))
        return grad_image, grad_weight, grad_bias, None, None


class ImageConv2d(nn.Conv2d):
    """nn.Conv2d (same parameters and state-dict keys) with the folded input gradient on CPU."""

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        folded = (input.device.type == "cpu" and input.requires_grad and self.in_channels <= FOLD_MAX_CHANNELS
                  and self.groups == 1 and self.dilation == (1, 1) and self.padding_mode == "zeros"
                  and isinstance(self.padding, tuple))
        if not folded:
            return super()._conv_forward(input, weight, bias)
        return _FoldedInputGradient.apply(input, weight, bias, self.stride, self.padding)
