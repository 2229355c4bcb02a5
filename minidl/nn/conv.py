"""nn.Conv2d: a 2-D convolution layer holding its weight (O, C, kh, kw) and bias (O,).

See ``minidl/ops/conv.py`` for the im2col forward and the backward formulas.
"""

from __future__ import annotations

from typing import Any

from .. import creation
from .._checks import is_count
from ..functional import conv2d
from ..ops.conv import conv_padding, pair
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


class Conv2d(Module):
    """y = conv2d(x, weight, bias, stride, padding), like ``torch.nn.Conv2d``.

    Input (N, in_channels, H, W) -> output (N, out_channels, OH, OW) with
    OH = (H + 2 padding - kh) // stride + 1.

    Arguments in PyTorch's order; dilation, groups and padding_mode only take their defaults.

    Default initialization is PyTorch's: weight ~ kaiming_uniform_(a=sqrt(5)), i.e.
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels * kh * kw, and bias ~
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: str | None = None, dtype: Any = None) -> None:
        super().__init__()
        if pair(dilation, "dilation", "Conv2d", 1) != (1, 1) or groups != 1 or padding_mode != "zeros":
            raise NotImplementedError("Conv2d: only dilation=1, groups=1 and padding_mode='zeros' are supported, "
                                      f"got {dilation!r}, {groups!r}, {padding_mode!r}")
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not is_count(value, 1):
                raise ValueError(f"Conv2d: {name} must be a positive int, got {value!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = pair(stride, "stride", "Conv2d", 1)
        self.padding = conv_padding(padding, self.kernel_size, self.stride, "Conv2d")  # "same" -> its ints
        factory = dict(dtype=dtype, device=device)
        self.weight = Parameter(creation.zeros(out_channels, in_channels, *self.kernel_size, **factory))
        if bias:
            self.bias = Parameter(creation.zeros(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight, bias ~ U[-1/sqrt(fan_in), 1/sqrt(fan_in)] (PyTorch's default, see init.layer_default_)."""
        init.layer_default_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return conv2d(input, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.bias is None:
            text += ", bias=False"
        return text
