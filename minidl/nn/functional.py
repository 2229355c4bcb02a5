"""``minidl.nn.functional`` (import as ``F``): the layers as functions, PyTorch's names.

Activations: sigmoid, tanh, relu, leaky_relu, elu, gelu, step, softmax, log_softmax, maxout.
Layers: linear, dropout, flatten, conv2d, max_pool2d, avg_pool2d.
Normalization: batch_norm, layer_norm, group_norm, instance_norm.
Losses: mse_loss, l1_loss, huber_loss, pseudo_huber_loss, cross_entropy, nll_loss,
binary_cross_entropy, binary_cross_entropy_with_logits, kl_div.
"""

from __future__ import annotations

from typing import Any

from .. import ops as _ops
from ..ops import leaky_relu, relu, sigmoid, tanh
from ..ops.activation import dropout, elu, gelu, maxout, step
from ..ops.conv import conv2d
from ..ops.loss import (
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss, kl_div, l1_loss, mse_loss,
    nll_loss, pseudo_huber_loss,
)
from ..ops.normalization import batch_norm, group_norm, instance_norm, layer_norm
from ..ops.pooling import avg_pool2d, max_pool2d
from ..tensor import Tensor
from .linear import linear


def softmax(input: Tensor, dim: int = -1) -> Tensor:
    """e^x_i / sum_j e^x_j along ``dim`` (``torch.nn.functional.softmax``)."""
    return _ops.softmax(input, dim)


def log_softmax(input: Tensor, dim: int = -1) -> Tensor:
    """x_i - logsumexp(x) along ``dim``."""
    return _ops.log_softmax(input, dim)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim``."""
    return _ops.flatten(input, start_dim, end_dim)


def identity(input: Any) -> Any:
    return input


__all__ = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "step", "softmax", "log_softmax",
           "maxout", "linear", "dropout", "flatten", "identity",
           "conv2d", "avg_pool2d", "max_pool2d", "batch_norm", "group_norm", "instance_norm", "layer_norm",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss", "kl_div",
           "l1_loss", "mse_loss", "nll_loss", "pseudo_huber_loss"]
