"""Reductions and their smooth relatives: sum, mean, var, max, min, logsumexp, softmax,
log_softmax.

A reduction's backward *spreads* the upstream gradient back over the reduced axes:
``expand`` re-inserts the axes dropped by ``keepdims=False`` so the gradient broadcasts
against the input.

Ties in max/min: the gradient is split evenly among all entries equal to the maximum
(PyTorch's rule for full reductions), so the gradient still sums to the upstream value.
A NaN is the maximum (and the minimum) of any slice that holds one: the gradient goes to
the NaN entries, as PyTorch's ``max()`` does (max([nan, 1, 2]) has gradient [1, 0, 0]).
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function


def normalize_axes(axis: Any, ndim: int) -> tuple:
    """``axis`` as a sorted tuple of non-negative ints (all axes for None). A 0-d tensor
    takes dim 0 or -1 (as in PyTorch), which reduce nothing: they give ()."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    bound = max(ndim, 1)
    out = []
    for a in axes:
        if not -bound <= a < bound:
            raise ValueError(f"dim {a} is out of range for a tensor with {ndim} dimensions "
                             f"(expected a dim in [{-bound}, {bound - 1}])")
        if ndim:
            if a % ndim in out:
                raise ValueError(f"dim {a % ndim} appears more than once in the list of dims {axes}")
            out.append(a % ndim)
    return tuple(sorted(out))


def accumulator_dtype(dtype: Any) -> Any:
    """The dtype of a sum, product or cumulative sum, as in PyTorch: int64 for bool and every
    integer dtype (NumPy would keep uint64 for unsigned ones), None (the input's) for floats."""
    return backend.int64 if dtype.kind in "biu" else None


def expand(g: Any, in_shape: tuple, axes: tuple, keepdims: bool) -> Any:
    """Reshape a reduced gradient ``g`` so it broadcasts against ``in_shape``."""
    if not keepdims and g.ndim and axes:  # (a 0-d g broadcasts as it is)
        g = backend.array_module(g).expand_dims(g, axes)
    return g


def spread(g: Any, shape: tuple) -> Any:
    """A new array of ``shape`` holding ``g`` broadcast over it (plain version:
    ``xp.broadcast_to(g, shape)``, a read-only view).

    Writing into a fresh array is several times faster than NumPy's ``broadcast_to`` for
    small tensors, and the result is writable, so it can become a leaf's ``.grad``
    without another copy.
    """
    out = backend.array_module(g).empty(shape, dtype=g.dtype)
    out[...] = g
    return out


class Sum(Function):
    """y = sum of x over ``axis``;  dy/dx_i = 1: the gradient is copied to every summand."""

    __slots__ = ("shape", "axes", "keepdims")

    def forward(self, x: Any, axis: Any, keepdims: bool) -> Any:
        self.shape, self.keepdims = x.shape, keepdims
        self.axes = normalize_axes(axis, x.ndim)
        return x.sum(axis=self.axes, keepdims=keepdims, dtype=accumulator_dtype(x.dtype))

    def backward(self, gy: Any) -> tuple:
        g = expand(gy, self.shape, self.axes, self.keepdims)
        return (spread(g, self.shape),)


class Mean(Function):
    """y = (1/n) sum of x over ``axis``;  dy/dx_i = 1/n."""

    __slots__ = ("shape", "axes", "keepdims", "n")

    def forward(self, x: Any, axis: Any, keepdims: bool) -> Any:
        self.shape, self.keepdims = x.shape, keepdims
        self.axes = normalize_axes(axis, x.ndim)
        self.n = _count(x.shape, self.axes)
        return x.mean(axis=self.axes, keepdims=keepdims)

    def backward(self, gy: Any) -> tuple:
        g = expand(gy, self.shape, self.axes, self.keepdims) / gy.dtype.type(self.n)
        return (spread(g, self.shape),)


def _count(shape: tuple, axes: tuple) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


class Var(Function):
    """y = sum((x - mean)^2) / (n - correction);  dy/dx_i = 2 (x_i - mean) / (n - correction).

    (The mean's own dependence on x_i drops out because the deviations sum to zero.)
    ``correction=1`` is the unbiased estimate (PyTorch's default), ``0`` the biased one.
    """

    __slots__ = ("axes", "keepdims", "denom")

    def forward(self, x: Any, axis: Any, keepdims: bool, correction: int) -> Any:
        self.axes, self.keepdims = normalize_axes(axis, x.ndim), keepdims
        n = _count(x.shape, self.axes)
        self.denom = max(n - correction, 0)
        centered = x - x.mean(axis=self.axes, keepdims=True)
        self.save(centered)
        with backend.quiet_float_warnings(divide="ignore", invalid="ignore"):  # n <= correction gives nan, as NumPy
            return (centered * centered).sum(axis=self.axes, keepdims=keepdims) / x.dtype.type(self.denom)

    def backward(self, gy: Any) -> tuple:
        (centered,) = self.saved
        g = expand(gy, centered.shape, self.axes, self.keepdims)
        return (g * centered * centered.dtype.type(2 / self.denom if self.denom else backend.np.nan),)


class Std(Var):
    """y = sqrt(var(x));  dy/dx_i = (x_i - mean) / ((n - correction) y)   (chain rule through sqrt).

    Where y = 0 (a constant slice) the formula is 0 / 0; the gradient there is 0, as in
    PyTorch (sqrt's own gradient 1 / (2 y) would be infinite and turn every entry NaN).
    """

    def forward(self, x: Any, axis: Any, keepdims: bool, correction: int) -> Any:
        y = backend.array_module(x).sqrt(super().forward(x, axis, keepdims, correction))
        self.save(self.saved[0], y)  # (centered, y)
        return y

    def backward(self, gy: Any) -> tuple:
        centered, y = self.saved
        xp = backend.array_module(y)
        with backend.quiet_float_warnings(divide="ignore"):
            inv_y = xp.where(y != 0, 1 / y, y.dtype.type(0))  # 1 / y, and 0 where y = 0
        g = expand(gy * inv_y, centered.shape, self.axes, self.keepdims)
        return (g * centered * centered.dtype.type(1 / self.denom if self.denom else backend.np.nan),)


class _Extreme(Function):
    """Shared by Max and Min: the gradient goes to the winning entries, split on ties."""

    __slots__ = ("axes", "keepdims")
    reduce_name = ""

    def forward(self, x: Any, axis: Any, keepdims: bool) -> Any:
        self.axes, self.keepdims = normalize_axes(axis, x.ndim), keepdims
        empty = [a for a in self.axes if x.shape[a] == 0]
        if empty or (x.size == 0 and axis is None):  # no maximum of nothing; other empty shapes follow torch
            where = "every dim" if axis is None else f"dim {empty[0]}"
            raise ValueError(f"{self.reduce_name}() over {where} of an empty tensor (shape {x.shape}): "
                             "the reduced dims must have non-zero size")
        y = getattr(x, self.reduce_name)(axis=self.axes, keepdims=True)
        self.save(x, y)
        return y if keepdims else y.reshape(tuple(n for i, n in enumerate(x.shape) if i not in self.axes))

    def backward(self, gy: Any) -> tuple:
        x, y = self.saved
        xp = backend.array_module(x)
        winners = (x == y) | (xp.isnan(x) & xp.isnan(y))
        count = winners.sum(axis=self.axes, keepdims=True)
        g = expand(gy, x.shape, self.axes, self.keepdims)
        return (g * winners / count.astype(gy.dtype),)


class Max(_Extreme):
    """y = max of x over ``axis``;  dy/dx_i = 1/k for the k entries equal to the max, else 0."""

    reduce_name = "max"


class Min(_Extreme):
    """y = min of x over ``axis``;  dy/dx_i = 1/k for the k entries equal to the min, else 0."""

    reduce_name = "min"


class LogSumExp(Function):
    """y = log sum_i e^{x_i} = m + log sum_i e^{x_i - m} with m = max x (no overflow);
    dy/dx_i = e^{x_i - y} = softmax(x)_i."""

    __slots__ = ("axes", "keepdims")

    def forward(self, x: Any, axis: Any, keepdims: bool) -> Any:
        xp = backend.array_module(x)
        self.axes, self.keepdims = normalize_axes(axis, x.ndim), keepdims
        if x.size == 0:  # log of an empty sum is -inf, as in torch (and there is no max to shift by)
            m = x.sum(axis=self.axes, keepdims=True)
        else:
            m = x.max(axis=self.axes, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)  # all -inf rows: keep log(0) = -inf, no nan
        with backend.quiet_float_warnings(divide="ignore"):  # log(0) = -inf for all -inf rows
            y = m + xp.log(xp.exp(x - m).sum(axis=self.axes, keepdims=True))
        self.save(x, y)
        return y if keepdims else y.reshape(tuple(n for i, n in enumerate(x.shape) if i not in self.axes))

    def backward(self, gy: Any) -> tuple:
        x, y = self.saved
        g = expand(gy, x.shape, self.axes, self.keepdims)
        return (g * backend.array_module(x).exp(x - y),)


class Softmax(Function):
    """y_i = e^{x_i - m} / sum_j e^{x_j - m} along ``axis`` (m = max, so no overflow);
    dL/dx = y * (g - sum_j g_j y_j)   (the Jacobian diag(y) - y y^T applied to g)."""

    __slots__ = ("axis",)

    def forward(self, x: Any, axis: int) -> Any:
        xp = backend.array_module(x)
        self.axis = axis
        if x.size == 0:  # nothing to normalize: an empty result of the same shape, as torch
            y = x.copy()
        else:
            e = xp.exp(x - x.max(axis=axis, keepdims=True))
            y = e / e.sum(axis=axis, keepdims=True)
        self.save(y)
        return y

    def backward(self, gy: Any) -> tuple:
        (y,) = self.saved
        return (y * (gy - (gy * y).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    """y_i = x_i - logsumexp(x) along ``axis``;  dL/dx = g - softmax(x) * sum_j g_j."""

    __slots__ = ("axis",)

    def forward(self, x: Any, axis: int) -> Any:
        xp = backend.array_module(x)
        self.axis = axis
        if x.size == 0:  # an empty result of the same shape, as torch
            y = x.copy()
        else:
            shifted = x - x.max(axis=axis, keepdims=True)
            y = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        self.save(y)
        return y

    def backward(self, gy: Any) -> tuple:
        (y,) = self.saved
        xp = backend.array_module(y)
        return (gy - xp.exp(y) * gy.sum(axis=self.axis, keepdims=True),)
