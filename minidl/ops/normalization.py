"""Normalization: batch norm (one fused op with gamma and beta), and layer/group/instance
norm: a fused standardization over their axes followed by a per-element or per-channel
affine map made of primitive ops (mul, add).

Batch norm, for x (N, C) or (N, C, L) or (N, C, H, W), per channel c over the m values
of that channel in the batch (m = N, N*L or N*H*W):

    mu = (1/m) sum x          sigma^2 = (1/m) sum (x - mu)^2   (biased: divides by m)
    xhat = (x - mu) / sqrt(sigma^2 + eps)
    y = gamma * xhat + beta

Backward (the compact formula; sigma stands for sqrt(sigma^2 + eps), sums over the m values):

    dL/dbeta  = sum dy
    dL/dgamma = sum dy * xhat
    dL/dx     = (1/m) (gamma / sigma) (m dy - sum dy - xhat sum(dy xhat))

It follows from xhat's dependence on every x of the channel through mu and sigma: the
two subtracted terms remove the gradient's mean and its projection on xhat.

Running statistics (training mode only), the lecture's moving average:

    running_mean = (1 - momentum) running_mean + momentum mu
    running_var  = (1 - momentum) running_var  + momentum sigma^2 * m / (m - 1)

(The lecture writes mu_bar <- p mu_bar + (1 - p) mu_t: its decay p is 1 - momentum; PyTorch's
default momentum 0.1 is p = 0.9.) The running variance uses the UNBIASED batch variance
(divides by m - 1), like PyTorch, while normalizing uses the biased one. In eval mode
y = gamma (x - running_mean) / sqrt(running_var + eps) + beta: a sample's output no longer
depends on its batch.
"""

from __future__ import annotations

from typing import Any, Sequence

from .. import backend
from ..autograd import Function
from ..tensor import Tensor
from . import reshape as _reshape
from .checks import require_tensor


class BatchNorm(Function):
    """Training-mode batch norm, fused: y = gamma * xhat + beta with batch statistics.

    Inputs x (N, C, *), gamma (C,), beta (C,). The batch mean and biased variance
    (shape (1, C, 1, ...)) are computed by the caller and passed in.
    """

    __slots__ = ("axes",)

    def forward(self, x: Any, gamma: Any, beta: Any, mean: Any, var: Any, eps: float) -> Any:
        xp = backend.array_module(x)
        self.axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        inv_std = 1 / xp.sqrt(var + x.dtype.type(eps))  # 1 / sigma
        xhat = (x - mean) * inv_std
        self.save(xhat, inv_std, gamma)
        return xhat * gamma.reshape(shape) + beta.reshape(shape)

    def backward(self, gy: Any) -> tuple:
        xhat, inv_std, gamma = self.saved
        axes = self.axes
        m = gy.size // gamma.size
        shape = (1, -1) + (1,) * (gy.ndim - 2)
        sum_dy = gy.sum(axis=axes, keepdims=True)
        sum_dy_xhat = (gy * xhat).sum(axis=axes, keepdims=True)
        dx = dgamma = dbeta = None
        if self.needs_input_grad[0]:
            scale = gamma.reshape(shape) * inv_std / gy.dtype.type(m)  # (1/m) gamma / sigma
            dx = scale * (gy.dtype.type(m) * gy - sum_dy - xhat * sum_dy_xhat)
        if self.needs_input_grad[1]:
            dgamma = sum_dy_xhat.reshape(-1)
        if self.needs_input_grad[2]:
            dbeta = sum_dy.reshape(-1)
        return dx, dgamma, dbeta


def _as_array(t: Any) -> Any:
    return t.data if isinstance(t, Tensor) else t


def _update_running(running: Any, batch: Any, momentum: float) -> None:
    """running = (1 - momentum) running + momentum batch, in place (``running`` is a
    Tensor buffer or an array)."""
    arr = _as_array(running)
    arr[...] = (1 - momentum) * arr + momentum * batch.astype(arr.dtype)


def batch_norm(input: Tensor, running_mean: Any, running_var: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalization like ``torch.nn.functional.batch_norm``.

    input (N, C) or (N, C, L) or (N, C, H, W); running_mean/running_var (C,) tensors updated
    in place when ``training`` (or None: no running statistics; then batch statistics are
    used in both modes); weight/bias (C,) or None (gamma = 1, beta = 0).
    """
    op = "batch_norm"
    if require_tensor(input, "input", op).dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point Tensor, got dtype {input.dtype}")
    if input.ndim < 2:
        raise ValueError(f"{op}: input must be (N, C) or (N, C, ...), got shape {input.shape}")
    c = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"{op}: {name} must have shape ({c},) for input with {c} channels "
                             f"(shape {input.shape}), got {tuple(t.shape)}")
    xp = backend.array_module(input.data)
    dtype = input.dtype
    use_batch = training or running_mean is None or running_var is None
    axes = (0,) + tuple(range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    if use_batch:
        m = input.data.size // c
        if m <= 1:  # x - mu = 0 for every input: the output would be beta whatever x is
            raise ValueError(f"{op}: expected more than 1 value per channel when training, got input of "
                             f"shape {input.shape} (batch statistics need at least 2 values per channel)")
        x = input.data
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)  # biased, for normalizing
        gamma = weight if weight is not None else Tensor(xp.ones(c, dtype=dtype))
        beta = bias if bias is not None else Tensor(xp.zeros(c, dtype=dtype))
        y = BatchNorm.apply(input, gamma, beta, mean=mean, var=var, eps=eps)
        if training and running_mean is not None and running_var is not None:  # only once y exists
            _update_running(running_mean, mean.reshape(-1), momentum)
            _update_running(running_var, var.reshape(-1) * dtype.type(m / (m - 1)), momentum)  # unbiased
        return y
    # eval: fixed statistics, composed of primitive ops (y is affine in x)
    rm = _as_array(running_mean).astype(dtype, copy=False).reshape(shape)
    rv = _as_array(running_var).astype(dtype, copy=False).reshape(shape)
    inv_std = Tensor(1 / xp.sqrt(rv + dtype.type(eps)))
    y = (input - Tensor(rm)) * inv_std
    if weight is not None:
        y = y * _reshape(weight, shape)
    if bias is not None:
        y = y + _reshape(bias, shape)
    return y


class Standardize(Function):
    """xhat = (x - mu) / sqrt(sigma^2 + eps), mean and biased variance over ``axes`` (the m
    values of each group): the core of layer, group and instance norm, fused.

    Backward, the batch-norm formula with gamma = 1 (sigma = sqrt(sigma^2 + eps)):

        dL/dx = (1/sigma) (dy - mean(dy) - xhat mean(dy xhat))      means over ``axes``

    The same as composing mean, var, sub, sqrt and div (tests check that), ~10x faster.
    """

    __slots__ = ("axes",)

    def forward(self, x: Any, axes: tuple, eps: float) -> Any:
        xp = backend.array_module(x)
        self.axes = axes
        mu = x.mean(axis=axes, keepdims=True)
        xc = x - mu
        inv_std = 1 / xp.sqrt((xc * xc).mean(axis=axes, keepdims=True) + x.dtype.type(eps))
        xhat = xc * inv_std
        self.save(xhat, inv_std)
        return xhat

    def backward(self, gy: Any) -> tuple:
        xhat, inv_std = self.saved
        axes = self.axes
        return (inv_std * (gy - gy.mean(axis=axes, keepdims=True)
                           - xhat * (gy * xhat).mean(axis=axes, keepdims=True)),)


def _normalize(x: Tensor, axes: tuple, eps: float) -> Tensor:
    """(x - mean) / sqrt(var + eps) over ``axes`` (biased variance): the fused op above.
    Composed of primitive ops it reads::

        mu = md.mean(x, axis=axes, keepdims=True)
        var = md.var(x, axis=axes, keepdims=True, correction=0)
        return (x - mu) / md.sqrt(var + eps)
    """
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        raise TypeError("normalization: input must be a floating-point Tensor")
    return Standardize.apply(x, axes=tuple(a % x.ndim for a in axes), eps=float(eps))


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Layer norm like ``torch.nn.functional.layer_norm``: normalize over the last
    len(normalized_shape) axes of each sample, y = xhat * weight + bias (weight, bias of
    shape normalized_shape)."""
    require_tensor(input, "input", "layer_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape or len(shape) > input.ndim:
        raise ValueError(f"layer_norm: normalized_shape {shape} does not match the last axes of input "
                         f"shape {input.shape}")
    y = _normalize(input, tuple(range(input.ndim - len(shape), input.ndim)), eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def _channel_affine(y: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    shape = (1, y.shape[1]) + (1,) * (y.ndim - 2)
    if weight is not None:
        y = y * _reshape(weight, shape)
    if bias is not None:
        y = y + _reshape(bias, shape)
    return y


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Group norm like ``torch.nn.functional.group_norm``: input (N, C, *), channels split
    into ``num_groups`` groups of C / num_groups; each (sample, group) is normalized over its
    channels and positions; then a per-channel affine map."""
    if require_tensor(input, "input", "group_norm").ndim < 2:
        raise ValueError(f"group_norm: input must be (N, C, ...), got shape {input.shape}")
    n, c = input.shape[:2]
    if num_groups < 1 or c % num_groups:
        raise ValueError(f"group_norm: num_channels {c} must be divisible by num_groups {num_groups}")
    grouped = _reshape(input, (n, num_groups, -1))
    y = _reshape(_normalize(grouped, (2,), eps), input.shape)
    return _channel_affine(y, weight, bias)


def instance_norm(input: Tensor, running_mean: Any = None, running_var: Any = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """Instance norm (per sample and channel, over the spatial axes), like
    ``torch.nn.functional.instance_norm`` with its defaults: the instance statistics are used
    in both modes (running statistics are not supported)."""
    if running_mean is not None or running_var is not None or not use_input_stats:
        raise NotImplementedError("instance_norm: running statistics are not supported (use_input_stats=True, "
                                  "running_mean=None, running_var=None)")
    if require_tensor(input, "input", "instance_norm").ndim < 3:
        raise ValueError(f"instance_norm: input must be (N, C, L) or (N, C, H, W), got shape {input.shape}")
    if input.shape[2:] and all(s == 1 for s in input.shape[2:]):
        raise ValueError(f"instance_norm: expected more than 1 spatial element per channel, got input of "
                         f"shape {input.shape}")
    y = _normalize(input, tuple(range(2, input.ndim)), eps)
    return _channel_affine(y, weight, bias)


__all__: Sequence[str] = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "BatchNorm", "Standardize"]
