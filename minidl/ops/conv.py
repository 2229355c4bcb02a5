"""2-D convolution (cross-correlation, as in every deep-learning library), NCHW layout.

Shapes: input x (N, C, H, W), weight w (O, C, kh, kw), bias b (O,), output y (N, O, OH, OW)
with OH = (H + 2 p_h - kh) // s_h + 1 and OW = (W + 2 p_w - kw) // s_w + 1.

The lecture formula, with x zero-padded by p:

    y[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] * x[n, c, i*s + u, j*s + v]

im2col turns this into matrix products. For each sample n, copy every receptive field into
a column of ``cols_n`` (C*kh*kw, OH*OW); flatten w into W (O, C*kh*kw); then

    Y_n = W @ cols_n + b          (O, OH*OW), i.e. y[n] reshaped to (O, OH, OW)

(one batched matmul over n). Backward, with G_n = dL/dY_n in the same layout:

    dL/dW     = sum_n G_n @ cols_n^T            (O, C*kh*kw): each weight meets every patch
    dL/db[o]  = sum_{n,i,j} G[n, o, i, j]
    dL/dcols_n = W^T @ G_n                      (C*kh*kw, OH*OW)
    dL/dx     = col2im(dL/dcols): every patch entry is added back to the pixel it came
                from: dx[n, c, i*s + u, j*s + v] += dcols[n, c, u, v, i, j]

col2im loops over the kh*kw kernel offsets (u, v) only; each step adds a whole strided
slice of the image, never looping over batch or channels.

Layout note: ``cols`` is (N, C*kh*kw, OH*OW), sample-major, so the output comes out
directly in NCHW order and the backward needs no transposed copies (measured on the
benchmark CNN: faster than one big (N*OH*OW, C*kh*kw) matrix).

Memory note: the large arrays here (padded input, ``cols``, the output, ``dcols`` and the
col2im result) come from ``backend.scratch_empty``, which on the CPU reuses the blocks of
arrays already freed instead of asking the C allocator, which would give them back to the
OS and page-fault them in again at every training step (thousands of pages a step on the
benchmark CNN). The numbers are the same as with plain arrays (tested).
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function


def pair(value: Any, name: str, op: str, minimum: int = 0) -> tuple[int, int]:
    """``value`` as a pair of ints (PyTorch's ``_pair``): 3 -> (3, 3), (2, 3) -> (2, 3)."""
    if isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if isinstance(value, int):
        value = (value, value)
    try:
        a, b = value
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}") from None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (a, b)):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if a < minimum or b < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return int(a), int(b)


def pad2d(x: Any, padding: tuple[int, int], value: float = 0.0) -> Any:
    """x (N, C, H, W) with ``padding`` rows/columns of ``value`` added on each side."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    xp = backend.array_module(x)
    n, c, h, w = x.shape
    out = backend.scratch_empty(xp, (n, c, h + 2 * ph, w + 2 * pw), x.dtype)
    out.fill(value)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """floor((size + 2 padding - kernel) / stride) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def sliding_windows_2d(x: Any, kernel: tuple[int, int], stride: tuple[int, int]) -> Any:
    """A read-only *view* of the (kh, kw) windows of ``x`` (N, C, H, W), taken every
    ``stride`` pixels: shape (N, C, OH, OW, kh, kw) with OH = (H - kh) // sh + 1, so that
    ``windows[n, c, oh, ow, i, j] == x[n, c, oh * sh + i, ow * sw + j]``. No data is copied:
    the view only has other strides (``as_strided``, which NumPy and CuPy both provide).
    """
    xp = backend.array_module(x)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw) = kernel, stride
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    s0, s1, s2, s3 = x.strides
    shape, strides = (n, c, oh, ow, kh, kw), (s0, s1, s2 * sh, s3 * sw, s2, s3)
    if xp is backend.np:
        return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)  # CuPy has no writeable flag


def im2col(xpad: Any, kernel: tuple[int, int], stride: tuple[int, int]) -> Any:
    """The receptive fields of padded ``xpad`` (N, C, Hp, Wp) as columns, per sample:
    (N, C*kh*kw, OH*OW); column (i, j) of sample n holds x[n, :, i*s:i*s+kh, j*s:j*s+kw]
    flattened in (c, u, v) order.

    Plain version (slow, but the same numbers)::

        cols[n] = stack([xpad[n, :, i*s:i*s+kh, j*s:j*s+kw].ravel()
                         for i in range(OH) for j in range(OW)], axis=1)

    Here one strided *view* of all windows (no copy) is transposed and copied once, into
    memory reused across steps (``backend.scratch_empty``).
    """
    windows = sliding_windows_2d(xpad, kernel, stride)  # (N, C, OH, OW, kh, kw)
    n, c, oh, ow, kh, kw = windows.shape
    cols = backend.scratch_empty(backend.array_module(xpad), (n, c * kh * kw, oh * ow), xpad.dtype)
    cols.reshape(n, c, kh, kw, oh, ow)[...] = windows.transpose(0, 1, 4, 5, 2, 3)
    return cols


def col2im(dcols: Any, padded_shape: tuple, kernel: tuple[int, int], stride: tuple[int, int]) -> Any:
    """The adjoint of ``im2col``: add each column entry back to the pixel it was copied from.

    dcols: (N, C, kh, kw, OH, OW). Returns (N, C, Hp, Wp). Loops over the kernel offsets
    (u, v): offset (u, v) of window (i, j) sits at pixel (i*s + u, j*s + v), so all windows'
    entries for one offset form the strided slice x[:, :, u : u + s*OH : s, v : v + s*OW : s].
    """
    xp = backend.array_module(dcols)
    n, c, kh, kw, oh, ow = dcols.shape
    sh, sw = stride
    dx = backend.scratch_empty(xp, padded_shape, dcols.dtype)
    dx.fill(0)
    for u in range(kh):
        for v in range(kw):
            dx[:, :, u:u + sh * oh:sh, v:v + sw * ow:sw] += dcols[:, :, u, v]
    return dx


class Conv2d(Function):
    """y = conv2d(x, w) + b (see the module docstring for the formulas).

    Inputs: x (N, C, H, W), w (O, C, kh, kw), and optionally b (O,).
    """

    __slots__ = ("stride", "padding", "x_shape", "w_shape", "has_bias")

    def forward(self, x: Any, w: Any, *bias: Any, stride: tuple[int, int], padding: tuple[int, int]) -> Any:
        self.stride, self.padding = stride, padding
        self.x_shape, self.w_shape, self.has_bias = x.shape, w.shape, bool(bias)
        n, _, h, wd = x.shape
        o, _, kh, kw = w.shape
        oh, ow = output_size(h, kh, stride[0], padding[0]), output_size(wd, kw, stride[1], padding[1])
        cols = im2col(pad2d(x, padding), (kh, kw), stride)  # (N, C*kh*kw, OH*OW)
        xp = backend.array_module(x)
        y = backend.scratch_empty(xp, (n, o, oh * ow), cols.dtype)
        xp.matmul(w.reshape(o, -1), cols, out=y)  # Y_n = W @ cols_n, (N, O, OH*OW)
        if bias:
            y += bias[0][:, None]
        self.save(cols, w)
        return y.reshape(n, o, oh, ow)

    def backward(self, gy: Any) -> tuple:
        cols, w = self.saved
        n, o, oh, ow = gy.shape
        _, c, kh, kw = self.w_shape
        g = gy.reshape(n, o, oh * ow)  # G_n
        dx = dw = db = None
        if self.needs_input_grad[0]:
            xp = backend.array_module(gy)
            dcols = backend.scratch_empty(xp, (n, c * kh * kw, oh * ow), gy.dtype)
            xp.matmul(w.reshape(o, -1).T, g, out=dcols)  # W^T @ G_n
            dcols = dcols.reshape(n, c, kh, kw, oh, ow)
            ph, pw = self.padding
            h, wd = self.x_shape[2:]
            dxpad = col2im(dcols, (n, c, h + 2 * ph, wd + 2 * pw), (kh, kw), self.stride)
            dx = dxpad[:, :, ph:ph + h, pw:pw + wd]
        if self.needs_input_grad[1]:
            dw = (g @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(self.w_shape)  # sum_n G_n @ cols_n^T
        if self.has_bias and self.needs_input_grad[2]:
            db = g.sum(axis=(0, 2))
        return (dx, dw, db) if self.has_bias else (dx, dw)


