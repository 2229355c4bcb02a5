"""nn.MaxPool2d and nn.AvgPool2d (no parameters); the math is in ``minidl/ops/pooling.py``."""

from __future__ import annotations

from typing import Any

from ..functional import avg_pool2d, check_pool_options, max_pool2d
from ..ops.conv import pair
from ..tensor import Tensor
from .module import Module


class _Pool2d(Module):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride  # PyTorch's default
        self.padding = padding
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max over each window, like ``torch.nn.MaxPool2d``: (N, C, H, W) -> (N, C, OH, OW).
    The gradient of a window goes to its first (row-major) maximum at ties. ``dilation``,
    ``return_indices`` and ``ceil_mode`` only take their defaults (others raise)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        check_pool_options("MaxPool2d", ceil_mode, dilation=(pair(dilation, "dilation", "MaxPool2d", 1), (1, 1)),
                           return_indices=(return_indices, False))
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.dilation, self.return_indices = dilation, return_indices

    def forward(self, input: Tensor) -> Tensor:
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)


class AvgPool2d(_Pool2d):
    """Mean over each window, like ``torch.nn.AvgPool2d``; ``count_include_pad=True`` (the
    default) counts zero padding in the average, ``False`` averages the pixels inside the image.
    ``ceil_mode`` and ``divisor_override`` only take their defaults (others raise)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        check_pool_options("AvgPool2d", ceil_mode, divisor_override=(divisor_override, None))
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)
