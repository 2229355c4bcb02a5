"""``minidl.nn.functional`` (import as ``F``): the layers as functions, PyTorch's names.

These are the functions of ``minidl/functional.py`` (the one place they are written),
re-exported under PyTorch's module name:

Activations: sigmoid, tanh, relu, leaky_relu, elu, gelu, step, softmax, log_softmax, maxout,
softplus, silu, selu, hardtanh, relu6, logsigmoid, softsign.
Layers: linear, dropout, flatten, conv2d, max_pool2d, avg_pool2d, pad; one_hot.
Normalization: batch_norm, layer_norm, group_norm, instance_norm.
Losses: mse_loss, l1_loss, huber_loss, pseudo_huber_loss, cross_entropy, nll_loss,
binary_cross_entropy, binary_cross_entropy_with_logits, kl_div.
"""

from __future__ import annotations

from ..functional import (
    avg_pool2d,
    batch_norm,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    conv2d,
    cross_entropy,
    dropout,
    elu,
    flatten,
    gelu,
    group_norm,
    hardtanh,
    huber_loss,
    identity,
    instance_norm,
    kl_div,
    l1_loss,
    layer_norm,
    leaky_relu,
    linear,
    log_softmax,
    logsigmoid,
    max_pool2d,
    maxout,
    mse_loss,
    nll_loss,
    one_hot,
    pad,
    pseudo_huber_loss,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    step,
    tanh,
)

__all__ = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "step", "softmax", "log_softmax",
           "maxout", "linear", "dropout", "flatten", "identity",
           "conv2d", "avg_pool2d", "max_pool2d", "batch_norm", "group_norm", "instance_norm", "layer_norm",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss", "kl_div",
           "l1_loss", "mse_loss", "nll_loss", "pseudo_huber_loss",
           "softplus", "silu", "selu", "hardtanh", "relu6", "logsigmoid", "softsign", "one_hot", "pad"]
