"""The NumPy floor: each benchmark workload written by hand in plain NumPy.

This is the code an engine cannot beat by much: the same arrays, the same BLAS calls, no
graph, no Python objects per op. It is also a *checked reference*: tests/test_benchmarks.py
asserts that minidl computes the same losses and gradients as these functions for the same
weights and data, so each function below is the textbook forward/backward, written out.

Conventions (PyTorch's, as minidl's): a linear layer has weight ``W`` of shape (out, in) and
computes ``z = x W^T + b``; a conv weight has shape (out_channels, in_channels, kh, kw);
arrays are float32 and every function keeps them float32.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Array = np.ndarray


# --------------------------------------------------------------------------- building blocks


def linear_init(rng: np.random.Generator, fan_in: int, fan_out: int, dtype=np.float32) -> tuple[Array, Array]:
    """PyTorch's default Linear/Conv init: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / np.sqrt(fan_in)
    w = rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(dtype)
    b = rng.uniform(-bound, bound, size=(fan_out,)).astype(dtype)
    return w, b


def cross_entropy(logits: Array, target: Array) -> tuple[float, Array]:
    """Mean softmax cross-entropy and its gradient w.r.t. the logits.

    logits (N, C), target (N,) integer classes.
        log p = z - max(z) - log sum_j exp(z_j - max(z))      (stable log-softmax)
        L = -(1/N) sum_n log p[n, y_n]
        dL/dz = (softmax(z) - onehot(y)) / N
    """
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    sum_exp = exp.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    log_p_target = shifted[rows, target] - np.log(sum_exp[:, 0])
    loss = -log_p_target.mean()
    grad = exp / sum_exp
    grad[rows, target] -= 1
    grad /= n
    return float(loss), grad


def sgd_step(params: Sequence[Array], grads: Sequence[Array], lr: float) -> None:
    """Plain SGD, in place: p <- p - lr * g."""
    for p, g in zip(params, grads):
        p -= lr * g


# --------------------------------------------------------------------------- (a) MLP


def mlp_init(rng: np.random.Generator, sizes: Sequence[int] = (784, 256, 256, 10)) -> list[Array]:
    """[W1, b1, W2, b2, ...] for Linear layers of the given sizes (PyTorch's default init)."""
    params: list[Array] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.extend(linear_init(rng, fan_in, fan_out))
    return params


def mlp_loss_and_grads(params: Sequence[Array], x: Array, y: Array) -> tuple[float, list[Array]]:
    """Forward and backward of Linear-ReLU-...-Linear with mean cross-entropy.

    Forward, layer l:   z_l = a_{l-1} W_l^T + b_l,   a_l = relu(z_l)   (no relu on the last)
    Backward, with dz the gradient w.r.t. z_l:
        dW_l = dz^T a_{l-1},   db_l = sum over the batch of dz,
        da_{l-1} = dz W_l,     dz_{l-1} = da_{l-1} * [z_{l-1} > 0]
    Returns the loss and [dW1, db1, dW2, db2, ...].
    """
    weights, biases = params[0::2], params[1::2]
    activations = [x]  # a_0 = x, a_1, ..., a_{L-1}: the inputs of each Linear
    a = x
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = a @ w.T + b
        if i < len(weights) - 1:
            a = np.maximum(z, 0)
            activations.append(a)
        else:
            logits = z
    loss, dz = cross_entropy(logits, y)
    grads: list[Array] = [None] * len(params)  # type: ignore[list-item]
    for i in reversed(range(len(weights))):
        a_in = activations[i]
        grads[2 * i] = dz.T @ a_in
        grads[2 * i + 1] = dz.sum(axis=0)
        if i > 0:
            da = dz @ weights[i]
            dz = da * (a_in > 0)  # relu'(z) = [z > 0] = [a > 0]
    return loss, grads


def mlp_train_step(params: list[Array], x: Array, y: Array, lr: float = 0.01) -> float:
    """One SGD training step of the MLP, in place; returns the loss before the update."""
    loss, grads = mlp_loss_and_grads(params, x, y)
    sgd_step(params, grads, lr)
    return loss


def mlp_data(batch: int, seed: int = 0) -> tuple[list[Array], Array, Array]:
    """(weights, x (batch, 784) float32 ~ N(0, 1), y (batch,) int64 classes) for the MLP."""
    rng = np.random.default_rng(seed)
    params = mlp_init(rng)
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=batch)
    return params, x, y


# --------------------------------------------------------------------------- (b) per-op overhead


def per_op_step(x: Array) -> Array:
    """y = sum(x * 2 + 1);  dy/dx = 2 everywhere."""
    y = (x * 2 + 1).sum()
    gy = np.ones_like(y)
    grad_x = np.broadcast_to(gy * 2, x.shape)  # d(sum)/d(.) = 1, d(2x + 1)/dx = 2
    return grad_x


# --------------------------------------------------------------------------- (c) small CNN


def conv2d_forward(x: Array, w: Array, b: Array, padding: int) -> tuple[Array, Array]:
    """Cross-correlation (what deep-learning libraries call convolution), stride 1, by im2col.

    x (N, C, H, W), w (O, C, kh, kw), b (O,):
        out[n, o, i, j] = b[o] + sum_{c, p, q} x_pad[n, c, i + p, j + q] w[o, c, p, q]
    ``cols`` (N, C, H', W', kh, kw) is the im2col view of the padded input (no copy until
    ``tensordot`` reshapes it into the (N H' W', C kh kw) matrix). Returns (out, cols).
    """
    kh, kw = w.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = sliding_window_view(x_pad, (kh, kw), axis=(2, 3))
    out = np.tensordot(cols, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, H', W', O)
    out += b
    return out.transpose(0, 3, 1, 2), cols


def conv2d_backward(g: Array, cols: Array, w: Array, padding: int, need_dx: bool) -> tuple[Array | None, Array, Array]:
    """Gradients of ``conv2d_forward`` given g = dL/dout (N, O, H', W').

        dw[o, c, p, q] = sum_{n, i, j} g[n, o, i, j] x_pad[n, c, i + p, j + q]
        db[o]          = sum_{n, i, j} g[n, o, i, j]
        dx_pad[n, c, i + p, j + q] += sum_o g[n, o, i, j] w[o, c, p, q]     (col2im)
    """
    dw = np.tensordot(g, cols, axes=([0, 2, 3], [0, 2, 3]))  # (O, C, kh, kw)
    db = g.sum(axis=(0, 2, 3))
    if not need_dx:
        return None, dw, db
    n, c, h_out, w_out = cols.shape[:4]
    kh, kw = w.shape[2:]
    dcols = np.tensordot(g, w, axes=([1], [0]))  # (N, H', W', C, kh, kw)
    dx_pad = np.zeros((n, c, h_out + kh - 1, w_out + kw - 1), dtype=g.dtype)
    for p in range(kh):  # scatter each kernel offset back (a loop over the 9 offsets only)
        for q in range(kw):
            dx_pad[:, :, p:p + h_out, q:q + w_out] += dcols[:, :, :, :, p, q].transpose(0, 3, 1, 2)
    dx = dx_pad[:, :, padding:dx_pad.shape[2] - padding, padding:dx_pad.shape[3] - padding]
    return dx, dw, db


def maxpool2_forward(x: Array) -> tuple[Array, Array]:
    """2x2 max pooling, stride 2 (H and W even): out = max over each 2x2 window.

    Returns (out, mask) where mask marks the maximal entries of each window."""
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // 2, 2, w // 2, 2)
    out = windows.max(axis=(3, 5))
    mask = windows == out[:, :, :, None, :, None]
    return out, mask


def maxpool2_backward(g: Array, mask: Array) -> Array:
    """dL/dx = g routed to the maximal entries of each window (split evenly among ties)."""
    winners = mask.astype(g.dtype)
    share = winners / winners.sum(axis=(3, 5), keepdims=True)
    dx = share * g[:, :, :, None, :, None]
    n, c, h2, _, w2, _ = mask.shape
    return dx.reshape(n, c, 2 * h2, 2 * w2)


def cnn_init(rng: np.random.Generator) -> list[Array]:
    """[conv1.w (8,1,3,3), conv1.b, conv2.w (16,8,3,3), conv2.b, fc.w (10, 784), fc.b]."""
    params: list[Array] = []
    for c_in, c_out in ((1, 8), (8, 16)):
        w, b = linear_init(rng, c_in * 9, c_out)
        params.extend([w.reshape(c_out, c_in, 3, 3), b])
    params.extend(linear_init(rng, 16 * 7 * 7, 10))
    return params


def cnn_data(batch: int, seed: int = 0) -> tuple[list[Array], Array, Array]:
    """(weights, x (batch, 1, 28, 28) float32 ~ N(0, 1), y (batch,) int64) for the CNN."""
    rng = np.random.default_rng(seed)
    params = cnn_init(rng)
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, size=batch)
    return params, x, y


def cnn_loss_and_grads(params: Sequence[Array], x: Array, y: Array) -> tuple[float, list[Array]]:
    """conv8(3x3, pad 1)-relu-maxpool2-conv16(3x3, pad 1)-relu-maxpool2-flatten-fc10, mean
    cross-entropy; x (N, 1, 28, 28). Returns the loss and the gradients of ``params``."""
    w1, b1, w2, b2, w3, b3 = params
    z1, cols1 = conv2d_forward(x, w1, b1, padding=1)
    a1 = np.maximum(z1, 0)
    p1, mask1 = maxpool2_forward(a1)
    z2, cols2 = conv2d_forward(p1, w2, b2, padding=1)
    a2 = np.maximum(z2, 0)
    p2, mask2 = maxpool2_forward(a2)
    flat = p2.reshape(p2.shape[0], -1)
    logits = flat @ w3.T + b3
    loss, dlogits = cross_entropy(logits, y)

    dw3 = dlogits.T @ flat
    db3 = dlogits.sum(axis=0)
    dp2 = (dlogits @ w3).reshape(p2.shape)
    dz2 = maxpool2_backward(dp2, mask2) * (z2 > 0)
    dp1, dw2, db2 = conv2d_backward(dz2, cols2, w2, padding=1, need_dx=True)
    assert dp1 is not None  # need_dx=True
    dz1 = maxpool2_backward(dp1, mask1) * (z1 > 0)
    _, dw1, db1 = conv2d_backward(dz1, cols1, w1, padding=1, need_dx=False)
    return loss, [dw1, db1, dw2, db2, dw3, db3]


def cnn_train_step(params: list[Array], x: Array, y: Array, lr: float = 0.01) -> float:
    """One SGD training step of the CNN, in place; returns the loss before the update."""
    loss, grads = cnn_loss_and_grads(params, x, y)
    sgd_step(params, grads, lr)
    return loss


# --------------------------------------------------------------------------- (e) activation statistics


def tanh_stats_forward(x: Array, weights: Sequence[Array]) -> list[tuple[float, float]]:
    """Lesson 02's experiment: h_l = tanh(h_{l-1} W_l), reporting (mean, std) of each layer."""
    stats = []
    h = x
    for w in weights:
        h = np.tanh(h @ w)
        stats.append((float(h.mean()), float(h.std())))
    return stats


# --------------------------------------------------------------------------- (f) long chain


def chain_forward_backward(x: Array, n_ops: int, factor: float) -> Array:
    """y = x * factor * factor * ... (``n_ops`` multiplications), then dy/dx by the chain
    rule one op at a time, as a tape would: g <- g * factor, ``n_ops`` times."""
    y = x
    for _ in range(n_ops):
        y = y * factor
    g = np.ones_like(y)
    for _ in range(n_ops):
        g = g * factor
    return g
