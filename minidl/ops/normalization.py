"""Normalization: batch norm (one fused op with gamma and beta), and layer/group/instance
norm: a fused standardization over their axes followed by a per-element or per-channel
affine map made of primitive ops (mul, add). This module holds the two fused ops
(``BatchNorm``, ``Standardize``); ``F.batch_norm``, ``F.layer_norm`` ... and the running
statistics' update are in ``minidl/functional.py``.

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

from typing import Any

from .. import backend
from ..autograd import Function


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


