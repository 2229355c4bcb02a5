"""nn.MaxPool2d and nn.AvgPool2d (no parameters); the math is in ``minidl/ops/pooling.py``."""

from __future__ import annotations

from typing import Any

from ..ops.pooling import avg_pool2d, max_pool2d
from ..tensor import Tensor
from .module import Module


class _Pool2d(Module):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride  # PyTorch's default
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max over each window, like ``torch.nn.MaxPool2d``: (N, C, H, W) -> (N, C, OH, OW).
    The gradient of a window goes to its first (row-major) maximum at ties."""

    def forward(self, input: Tensor) -> Tensor:
        return max_pool2d(input, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Mean over each window, like ``torch.nn.AvgPool2d`` (zero padding counted)."""

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding)
