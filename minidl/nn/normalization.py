"""Normalization layers: BatchNorm1d/2d (running statistics as buffers), LayerNorm,
GroupNorm, InstanceNorm2d. The math is in ``minidl/ops/normalization.py``."""

from __future__ import annotations

from typing import Any

from .. import backend, creation
from .._checks import is_count
from ..functional import batch_norm, group_norm, instance_norm, layer_norm
from ..tensor import Tensor, require_tensor
from .module import Module, Parameter


def _register_affine(module: Module, shape: tuple, affine: bool, bias: bool, factory: dict) -> None:
    """The learnable scale and shift of a norm layer: ``weight`` (gamma, ones) and ``bias``
    (beta, zeros) of ``shape``; with ``affine=False`` neither, with ``bias=False`` only the
    weight (PyTorch's ``bias=`` keyword)."""
    module.register_parameter("weight", Parameter(creation.ones(*shape, **factory)) if affine else None)
    module.register_parameter("bias", Parameter(creation.zeros(*shape, **factory)) if affine and bias else None)


def _bias_repr(module: Module) -> str:
    """PyTorch's reprs (2.4 and later) say whether the layer has a shift, always."""
    return f", bias={module.bias is not None}"


class _BatchNorm(Module):
    """Shared code of BatchNorm1d/2d, PyTorch's arguments and defaults.

    Buffers: ``running_mean`` (zeros), ``running_var`` (ones), ``num_batches_tracked`` (0).
    Training: normalize with the batch's mean and biased variance; update
    running = (1 - momentum) running + momentum batch (unbiased variance for running_var);
    ``momentum=None`` uses the cumulative average (momentum = 1 / num_batches_tracked).
    Eval: normalize with the running statistics (buffers untouched).
    """

    _expected_dims: tuple = ()
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: str | None = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        factory = dict(dtype=dtype, device=device)
        if not is_count(num_features, 1):
            raise ValueError(f"{type(self).__name__}: num_features must be a positive int, got {num_features!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _register_affine(self, (num_features,), affine, bias, factory)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, **factory))
            self.register_buffer("running_var", creation.ones(num_features, **factory))
            self.register_buffer("num_batches_tracked", creation.zeros(dtype=backend.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def forward(self, input: Tensor) -> Tensor:
        """Checks first, and buffers change only once the output is computed: a refused
        input leaves ``num_batches_tracked`` and the running statistics as they were."""
        name = type(self).__name__
        if require_tensor(input, "input", name).ndim not in self._expected_dims:
            raise ValueError(f"{name}: expected {self._layout} input, got shape {input.shape}")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected {self.num_features} channels (axis 1), got input of shape "
                             f"{input.shape}")
        momentum = 0.0 if self.momentum is None else self.momentum
        tracking = self.training and self.track_running_stats
        if tracking and self.momentum is None:  # cumulative moving average over the batches so far
            momentum = 1.0 / (float(self.num_batches_tracked.data) + 1)
        use_batch_stats = self.training or not self.track_running_stats
        y = batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                       use_batch_stats, momentum, self.eps)
        if tracking:
            self.num_batches_tracked.data[...] += 1
        return y

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"
                f"{_bias_repr(self)}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs, per channel C, like ``torch.nn.BatchNorm1d``."""

    _expected_dims = (2, 3)
    _layout = "2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs, per channel C, like ``torch.nn.BatchNorm2d``."""

    _expected_dims = (4,)
    _layout = "4-D (N, C, H, W)"


class LayerNorm(Module):
    """Normalize each sample over its last len(normalized_shape) axes, like
    ``torch.nn.LayerNorm``; weight (ones) and bias (zeros) of shape normalized_shape."""

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: str | None = None, dtype: Any = None) -> None:
        super().__init__()
        factory = dict(dtype=dtype, device=device)
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        _register_affine(self, shape, elementwise_affine, bias, factory)

    def forward(self, input: Tensor) -> Tensor:
        require_tensor(input, "input", "LayerNorm")
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
                f"{_bias_repr(self)}")


class GroupNorm(Module):
    """Split the C channels into ``num_groups`` groups and normalize each (sample, group),
    like ``torch.nn.GroupNorm``; per-channel weight (ones) and bias (zeros)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: str | None = None, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        factory = dict(dtype=dtype, device=device)
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels {num_channels} must be divisible by num_groups {num_groups}")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        _register_affine(self, (num_channels,), affine, bias, factory)

    def forward(self, input: Tensor) -> Tensor:
        if require_tensor(input, "input", "GroupNorm").ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected input (N, {self.num_channels}, ...), got shape {input.shape}")
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}{_bias_repr(self)}"


class InstanceNorm2d(Module):
    """Normalize each (sample, channel) of an (N, C, H, W) input over H and W, like
    ``torch.nn.InstanceNorm2d`` with its defaults (affine=False, no running statistics)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device: str | None = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        factory = dict(dtype=dtype, device=device)
        if track_running_stats:
            raise ValueError("InstanceNorm2d: track_running_stats=True is not supported (instance statistics "
                             "are used in both modes, PyTorch's default)")
        self.num_features, self.eps, self.momentum, self.affine = num_features, eps, momentum, affine
        _register_affine(self, (num_features,), affine, bias, factory)

    def forward(self, input: Tensor) -> Tensor:
        if require_tensor(input, "input", "InstanceNorm2d").ndim != 4 or input.shape[1] != self.num_features:
            raise ValueError(f"InstanceNorm2d: expected input (N, {self.num_features}, H, W), got shape {input.shape}")
        return instance_norm(input, weight=self.weight, bias=self.bias, eps=self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"
                f"{_bias_repr(self)}, track_running_stats=False")
