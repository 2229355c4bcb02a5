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

Stride-1 input gradient ("flattened rows"): col2im's strided additions have inner loops
only OW pixels long, which is slow for small feature maps. With stride 1, flatten each
padded image to one row of Hp*Wp pixels: pixel (i + u, j + v) sits at index
(i*Wp + j) + (u*Wp + v), so offset (u, v) of *all* windows is one contiguous slice starting
at u*Wp + v. ``Conv2d`` then numbers the windows i*Wp + j with j over the full padded width
Wp: G is copied into that layout with zeros at the Wp - OW extra positions of each row
(they are not windows), dcols = W^T @ G has zeros there too, and col2im becomes kh*kw
contiguous additions (``col2im_flat``). On the benchmark CNN's second conv this input
gradient takes 0.77x the time of the plain one; the numbers are the same (tested).

Memory note: the large arrays here (padded input, ``cols``, the output, ``dcols`` and the
col2im result) come from ``backend.scratch_empty``, which on the CPU reuses the blocks of
arrays already freed instead of asking the C allocator, which would give them back to the
OS and page-fault them in again at every training step (thousands of pages a step on the
benchmark CNN). The numbers are the same as with plain arrays (tested).

Threads note: every sample of the batch is computed alike and apart from the others, so the
forward (pad, im2col, Y_n = W @ cols_n + b) and the input gradient run as one function of a
slice of samples, ``samples(a, b)``, which ``backend.parallel_for`` hands to several
threads at once on the CPU (NumPy's copies and small matmuls use one core each otherwise;
PyTorch splits its conv the same way). dL/dW is summed per slice, then over the slices.
With one thread, or on the GPU, it is a single call ``samples(0, N)``. The results do not
depend on the thread count, except for the order of dL/dW's sum (tested).
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function


def conv_padding(padding: Any, kernel: tuple[int, int], stride: tuple[int, int], op: str) -> tuple[int, int]:
    """A convolution's ``padding`` as a pair of ints: an int or pair as ``pair``; PyTorch's
    ``"valid"`` is (0, 0), and ``"same"`` (stride 1 only) is (k - 1) / 2 on each side, so the
    output has the input's height and width. An even kernel would need one more row or column
    on one side than on the other, which minidl's symmetric padding does not do."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0)
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a pair of ints, 'valid' or 'same', got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1 (as in PyTorch), got stride {stride}")
        if kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
            raise NotImplementedError(f"{op}: padding='same' with the even kernel size {kernel} needs uneven "
                                      "padding, which minidl does not support; use an odd kernel or F.pad")
        return ((kernel[0] - 1) // 2, (kernel[1] - 1) // 2)
    return pair(padding, "padding", op, 0)


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


def im2col(xpad: Any, kernel: tuple[int, int], stride: tuple[int, int], out: Any = None) -> Any:
    """The receptive fields of padded ``xpad`` (N, C, Hp, Wp) as columns, per sample:
    (N, C*kh*kw, OH*OW); column (i, j) of sample n holds x[n, :, i*s:i*s+kh, j*s:j*s+kw]
    flattened in (c, u, v) order.

    Plain version (slow, but the same numbers)::

        cols[n] = stack([xpad[n, :, i*s:i*s+kh, j*s:j*s+kw].ravel()
                         for i in range(OH) for j in range(OW)], axis=1)

    Here one strided *view* of all windows (no copy) is transposed and copied once, into
    ``out`` when given (a C-contiguous array of that shape), else into memory reused across
    steps (``backend.scratch_empty``).
    """
    windows = sliding_windows_2d(xpad, kernel, stride)  # (N, C, OH, OW, kh, kw)
    n, c, oh, ow, kh, kw = windows.shape
    cols = out if out is not None else backend.scratch_empty(backend.array_module(xpad), (n, c * kh * kw, oh * ow),
                                                             xpad.dtype)
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


def col2im_flat(dcols: Any, wp: int, dflat: Any) -> Any:
    """col2im for stride 1 on flattened rows (module docstring): dcols (N, C, kh, kw, OH*Wp),
    window (i, j) at column i*Wp + j, -> ``dflat`` (N, C, Hp*Wp + kw - 1), overwritten with

        dflat[n, c, l + u*Wp + v] += dcols[n, c, u, v, l]    for every offset (u, v),

    where padded pixel (r, q) is dflat[n, c, r*Wp + q] (the last row's extra positions reach
    kw - 1 entries past the image).
    """
    n, c, kh, kw, length = dcols.shape
    dflat.fill(0)
    for u in range(kh):
        for v in range(kw):
            start = u * wp + v
            dflat[:, :, start:start + length] += dcols[:, :, u, v]
    return dflat


class Conv2d(Function):
    """y = conv2d(x, w) + b (see the module docstring for the formulas).

    Inputs: x (N, C, H, W), w (O, C, kh, kw), and optionally b (O,).
    """

    __slots__ = ("stride", "padding", "x_shape", "w_shape", "has_bias")

    def forward(self, x: Any, w: Any, *bias: Any, stride: tuple[int, int], padding: tuple[int, int]) -> Any:
        self.stride, self.padding = stride, padding
        self.x_shape, self.w_shape, self.has_bias = x.shape, w.shape, bool(bias)
        n, c, h, wd = x.shape
        o, _, kh, kw = w.shape
        oh, ow = output_size(h, kh, stride[0], padding[0]), output_size(wd, kw, stride[1], padding[1])
        xp = backend.array_module(x)
        cols = backend.scratch_empty(xp, (n, c * kh * kw, oh * ow), x.dtype)
        y = backend.scratch_empty(xp, (n, o, oh * ow), x.dtype)
        w_rows = w.reshape(o, -1)  # W

        def samples(a: int, b: int) -> None:  # samples a..b-1 (independent: threads may split the batch)
            im2col(pad2d(x[a:b], padding), (kh, kw), stride, out=cols[a:b])  # cols_n
            xp.matmul(w_rows, cols[a:b], out=y[a:b])  # Y_n = W @ cols_n, (N, O, OH*OW)
            if bias:
                y[a:b] += bias[0][:, None]

        backend.parallel_for(xp, n, samples, work=cols.size)
        self.save(cols, w)
        return y.reshape(n, o, oh, ow)

    def backward(self, gy: Any) -> tuple:
        cols, w = self.saved
        n, o, oh, ow = gy.shape
        g = gy.reshape(n, o, oh * ow)  # G_n
        dx = dw = db = None
        if self.needs_input_grad[0]:
            dx = self.input_grad_flat(gy, w) if self.stride == (1, 1) else self.input_grad(gy, w)
        if self.needs_input_grad[1]:
            def dw_of(a: int, b: int) -> Any:  # sum_n G_n @ cols_n^T over samples a..b-1
                return (g[a:b] @ cols[a:b].transpose(0, 2, 1)).sum(axis=0)

            dw = sum(backend.parallel_for(backend.array_module(g), n, dw_of, work=cols.size)).reshape(self.w_shape)
        if self.has_bias and self.needs_input_grad[2]:
            db = g.sum(axis=(0, 2))
        return (dx, dw, db) if self.has_bias else (dx, dw)

    def input_grad(self, gy: Any, w: Any) -> Any:
        """dL/dx = col2im(W^T @ G_n), the plain way (any stride)."""
        xp = backend.array_module(gy)
        n, o, oh, ow = gy.shape
        _, c, kh, kw = self.w_shape
        dcols = backend.scratch_empty(xp, (n, c * kh * kw, oh * ow), gy.dtype)
        xp.matmul(w.reshape(o, -1).T, gy.reshape(n, o, oh * ow), out=dcols)  # W^T @ G_n
        (ph, pw), (h, wd) = self.padding, self.x_shape[2:]
        dxpad = col2im(dcols.reshape(n, c, kh, kw, oh, ow), (n, c, h + 2 * ph, wd + 2 * pw), (kh, kw), self.stride)
        return dxpad[:, :, ph:ph + h, pw:pw + wd]

    def input_grad_flat(self, gy: Any, w: Any) -> Any:
        """The same dL/dx for stride 1 on flattened rows (module docstring)."""
        xp = backend.array_module(gy)
        n, o, oh, ow = gy.shape
        _, c, kh, kw = self.w_shape
        (ph, pw), (h, wd) = self.padding, self.x_shape[2:]
        hp, wp = h + 2 * ph, wd + 2 * pw
        g_rows = backend.scratch_empty(xp, (n, o, oh, wp), gy.dtype)  # G_n at positions i*Wp + j
        dcols = backend.scratch_empty(xp, (n, c * kh * kw, oh * wp), gy.dtype)
        dflat = backend.scratch_empty(xp, (n, c, hp * wp + kw - 1), gy.dtype)
        w_t = w.reshape(o, -1).T  # W^T

        def samples(a: int, b: int) -> None:  # samples a..b-1 (independent: threads may split the batch)
            g_rows[a:b, ..., ow:] = 0  # j >= OW is no window: no gradient
            g_rows[a:b, ..., :ow] = gy[a:b]
            xp.matmul(w_t, g_rows[a:b].reshape(b - a, o, oh * wp), out=dcols[a:b])  # W^T @ G_n
            col2im_flat(dcols[a:b].reshape(b - a, c, kh, kw, oh * wp), wp, dflat[a:b])

        backend.parallel_for(xp, n, samples, work=dcols.size)
        return dflat[:, :, :hp * wp].reshape(n, c, hp, wp)[:, :, ph:ph + h, pw:pw + wd]
