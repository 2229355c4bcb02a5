"""2-D max and average pooling, NCHW layout.

Shapes: input x (N, C, H, W), output y (N, C, OH, OW), OH = (H + 2p - kh) // s + 1
(``stride`` defaults to ``kernel_size``, as in PyTorch).

Max pooling:  y[n, c, i, j] = max_{u, v} x[n, c, i*s + u, j*s + v]  (padding counts as -inf)
    dL/dx gets dL/dy[n, c, i, j] at the position of the maximum of window (i, j), 0 elsewhere;
    overlapping windows (stride < kernel) add their contributions.

    Ties: the gradient goes to the FIRST maximum of the window in row-major (u, v) order,
    like PyTorch's max_pool2d (it records one index per window). This differs from
    ``md.max``, which splits the gradient evenly among tied maxima; the pooled value is the
    same either way, and a first-max rule is what lets ``MaxPool2d`` match PyTorch's
    gradients exactly.

Average pooling:  y[n, c, i, j] = (1 / K_ij) sum_{u, v} x[n, c, i*s + u, j*s + v]
    dL/dx[n, c, i*s + u, j*s + v] += dL/dy[n, c, i, j] / K_ij.
    K_ij = kh kw: zero padding counts in the average (PyTorch's default ``count_include_pad=True``);
    with ``count_include_pad=False``, K_ij is the number of the window's pixels inside the image.

Both backward passes loop over the kh*kw kernel offsets (u, v) only; each step touches the
strided slice x[:, :, u : u + s*OH : s, v : v + s*OW : s] of every window at once.

Max pooling's forward and backward work on a slice of samples at a time, so that
``backend.parallel_for`` can split a large CPU batch over threads, as conv does.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function
from .conv import output_size, pad2d, sliding_windows_2d


def _offset_slices(u: int, v: int, stride: tuple[int, int], out_hw: tuple[int, int]) -> tuple:
    """Index of the pixels at kernel offset (u, v) of every window: [:, :, u::s, v::s]."""
    (sh, sw), (oh, ow) = stride, out_hw
    return (slice(None), slice(None), slice(u, u + sh * oh, sh), slice(v, v + sw * ow, sw))


def window_max(xpad: Any, kernel: tuple[int, int], stride: tuple[int, int], best: Any, argmax: Any) -> None:
    """Fill ``best`` (N, C, OH, OW) with the max of every (kh, kw) window of ``xpad`` and
    ``argmax`` with the offset k = u*kw + v of its FIRST maximum.

    Plain version (same numbers, ~8x slower on the benchmark CNN's 2x2 pools, because
    NumPy's argmax over a short strided last axis is slow)::

        windows = sliding_windows_2d(xpad, kernel, stride).reshape(N, C, OH, OW, kh * kw)
        argmax = windows.argmax(axis=-1)
        best = windows.max(axis=-1)

    Here a loop over the kh*kw offsets compares whole slices. Only a strictly greater value
    takes over, so the first maximum wins ties, as with argmax. Offsets are visited in
    increasing k, so "argmax = k where better" is max(argmax, k * better). Each strided
    slice is first copied into one contiguous buffer: it is read twice, and NumPy's loops
    on contiguous arrays are vectorized (the forward takes 0.75x the time on the benchmark
    CNN's pools).
    """
    xp = backend.array_module(xpad)
    kh, kw = kernel
    out_hw = best.shape[2:]
    best[...] = xpad[_offset_slices(0, 0, stride, out_hw)]
    argmax.fill(0)
    candidate = backend.scratch_empty(xp, best.shape, xpad.dtype)
    for k in range(1, kh * kw):
        candidate[...] = xpad[_offset_slices(k // kw, k % kw, stride, out_hw)]
        better = candidate > best
        xp.maximum(best, candidate, out=best)
        xp.maximum(argmax, better * argmax.dtype.type(k), out=argmax)


class MaxPool2d(Function):
    """y = max over each (kh, kw) window; gradient to the first maximum of each window."""

    __slots__ = ("kernel", "stride", "padding", "x_shape", "out_hw")

    def forward(self, x: Any, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]) -> Any:
        xp = backend.array_module(x)
        self.kernel, self.stride, self.padding, self.x_shape = kernel, stride, padding, x.shape
        self.out_hw = (output_size(x.shape[2], kernel[0], stride[0], padding[0]),
                       output_size(x.shape[3], kernel[1], stride[1], padding[1]))
        n, c = x.shape[:2]
        best = backend.scratch_empty(xp, (n, c, *self.out_hw), x.dtype)
        index_type = backend.np.dtype(backend.np.uint8) if kernel[0] * kernel[1] <= 256 else backend.int64
        argmax = xp.empty(best.shape, dtype=index_type)

        def samples(a: int, b: int) -> None:  # samples a..b-1 (independent: threads may split the batch)
            window_max(pad2d(x[a:b], padding, value=-xp.inf), kernel, stride, best[a:b], argmax[a:b])

        backend.parallel_for(xp, n, samples, work=x.size)
        self.save(argmax)
        return best

    def backward(self, gy: Any) -> tuple:
        (argmax,) = self.saved
        xp = backend.array_module(gy)
        (kh, kw), (ph, pw) = self.kernel, self.padding
        n, c, h, w = self.x_shape
        dxpad = backend.scratch_empty(xp, (n, c, h + 2 * ph, w + 2 * pw), gy.dtype)
        disjoint = self.stride[0] >= kh and self.stride[1] >= kw  # windows do not overlap
        (sh, sw), (oh, ow) = self.stride, self.out_hw
        tiled = disjoint and sh == kh and sw == kw and oh * kh == dxpad.shape[2] and ow * kw == dxpad.shape[3]

        def samples(a: int, b: int) -> None:  # samples a..b-1 (independent: threads may split the batch)
            if not tiled:
                dxpad[a:b].fill(0)  # some pixels are in no window (or in several): start from zero
            for k in range(kh * kw):
                pixels = dxpad[a:b][_offset_slices(k // kw, k % kw, self.stride, self.out_hw)]
                routed = argmax[a:b] == k  # windows whose maximum sits at offset k
                if disjoint:  # each pixel belongs to one window: write dL/dy * routed in place
                    xp.multiply(gy[a:b], routed, out=pixels)
                else:  # overlapping windows add up
                    pixels += gy[a:b] * routed

        backend.parallel_for(xp, n, samples, work=dxpad.size)
        return (dxpad[:, :, ph:ph + h, pw:pw + w],)


class AvgPool2d(Function):
    """y = mean over each (kh, kw) window: the window's sum divided by K_ij (module docstring)."""

    __slots__ = ("kernel", "stride", "padding", "x_shape", "out_hw", "counts")

    def forward(self, x: Any, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int],
                count_include_pad: bool) -> Any:
        self.kernel, self.stride, self.padding, self.x_shape = kernel, stride, padding, x.shape
        windows = sliding_windows_2d(pad2d(x, padding), kernel, stride)
        self.out_hw = windows.shape[2:4]
        if count_include_pad or padding == (0, 0):
            self.counts = x.dtype.type(kernel[0] * kernel[1])
        else:
            self.counts = _pixels_inside(x, kernel, stride, padding, self.out_hw)
        return windows.sum(axis=(4, 5)) / self.counts

    def backward(self, gy: Any) -> tuple:
        xp = backend.array_module(gy)
        (ph, pw) = self.padding
        n, c, h, w = self.x_shape
        share = gy / self.counts  # each input of window (i, j) gets 1 / K_ij of its gradient
        dxpad = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=gy.dtype)
        for u in range(self.kernel[0]):
            for v in range(self.kernel[1]):
                dxpad[_offset_slices(u, v, self.stride, self.out_hw)] += share
        return (dxpad[:, :, ph:ph + h, pw:pw + w],)


def _pixels_inside(x: Any, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int],
                   out_hw: tuple[int, int]) -> Any:
    """K_ij (OH, OW): how many pixels of window (i, j) lie inside the unpadded image. Rows and
    columns are independent: window row i covers rows [i s - p, i s - p + kh) of the image."""
    xp = backend.array_module(x)

    def inside(size: int, k: int, s: int, p: int, n_out: int) -> Any:
        start = xp.arange(n_out) * s - p
        return xp.minimum(start + k, size) - xp.maximum(start, 0)

    rows = inside(x.shape[2], kernel[0], stride[0], padding[0], out_hw[0])
    cols = inside(x.shape[3], kernel[1], stride[1], padding[1], out_hw[1])
    return (rows[:, None] * cols[None, :]).astype(x.dtype)


