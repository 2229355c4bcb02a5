"""Math and statistics a PyTorch student reaches for: sin, cos, the rounding family
(sign, floor, ceil, round), prod, cumsum, cumprod and the vector norms.

The rounding functions are piecewise constant: their derivative is 0 wherever it exists (and
undefined at the jumps), so their backward returns zeros, as PyTorch's does. They train
nothing; they appear in metrics and quantization.

Their public functions (``md.sin``, ``md.prod``, ``md.norm``, ...) and Tensor methods are in
``minidl/functional.py`` and ``minidl/tensor.py``.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function
from .reduction import accumulator_dtype, expand, normalize_axes


class Sin(Function):
    """y = sin x;  dy/dx = cos x."""

    def forward(self, x: Any) -> Any:
        self.save(x)
        return backend.array_module(x).sin(x)

    def backward(self, gy: Any) -> tuple:
        (x,) = self.saved
        return (gy * backend.array_module(x).cos(x),)


class Cos(Function):
    """y = cos x;  dy/dx = -sin x."""

    def forward(self, x: Any) -> Any:
        self.save(x)
        return backend.array_module(x).cos(x)

    def backward(self, gy: Any) -> tuple:
        (x,) = self.saved
        return (-gy * backend.array_module(x).sin(x),)


class _PiecewiseConstant(Function):
    """Shared by Sign, Floor, Ceil and Round: y is constant between jumps, so dy/dx = 0
    (taken as 0 at the jumps too, as in PyTorch). Integer inputs pass through unchanged
    (floor/ceil/round of an integer is itself, in its own dtype, as in PyTorch)."""

    __slots__ = ("shape",)

    def apply_array(self, x: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: Any, **options: Any) -> Any:
        self.shape = x.shape
        return self.apply_array(x, **options)

    def backward(self, gy: Any) -> tuple:
        return (backend.array_module(gy).zeros(self.shape, dtype=gy.dtype),)


class Sign(_PiecewiseConstant):
    """y = -1, 0 or 1 for x < 0, x = 0, x > 0 (0 for NaN, as PyTorch; NumPy gives NaN);  dy/dx = 0."""

    def apply_array(self, x: Any) -> Any:
        xp = backend.array_module(x)
        y = xp.sign(x)
        return xp.where(xp.isnan(x), x.dtype.type(0), y) if x.dtype.kind == "f" else y


class Floor(_PiecewiseConstant):
    """y = the largest integer <= x;  dy/dx = 0."""

    def apply_array(self, x: Any) -> Any:
        return backend.array_module(x).floor(x) if x.dtype.kind == "f" else x.copy()


class Ceil(_PiecewiseConstant):
    """y = the smallest integer >= x;  dy/dx = 0."""

    def apply_array(self, x: Any) -> Any:
        return backend.array_module(x).ceil(x) if x.dtype.kind == "f" else x.copy()


class Round(_PiecewiseConstant):
    """y = x rounded to ``decimals`` places, halves to even (0.5 -> 0, 1.5 -> 2, 2.5 -> 2,
    as PyTorch and NumPy);  dy/dx = 0."""

    def apply_array(self, x: Any, decimals: int = 0) -> Any:
        if x.dtype.kind != "f" and decimals >= 0:
            return x.copy()
        return backend.array_module(x).round(x, decimals)


class Prod(Function):
    """y = prod_i x_i over ``axis``;  dy/dx_i = prod_{j != i} x_j.

    Dividing, dy/dx_i = y / x_i, fails where x_i = 0, so backward counts the zeros of each
    product instead:

    * no zero: dy/dx_i = y / x_i;
    * exactly one zero, at k: dy/dx_k = the product of the others, dy/dx_i = 0 for i != k
      (each of those products contains x_k = 0);
    * two or more zeros: every product of the others still holds a zero, so all are 0.
    """

    __slots__ = ("axes", "keepdims")

    def forward(self, x: Any, axis: Any, keepdims: bool) -> Any:
        self.axes, self.keepdims = normalize_axes(axis, x.ndim), keepdims
        self.save(x)
        return x.prod(axis=self.axes, keepdims=keepdims, dtype=accumulator_dtype(x.dtype))

    def backward(self, gy: Any) -> tuple:
        (x,) = self.saved
        xp = backend.array_module(x)
        zero = x == 0
        zeros = zero.sum(axis=self.axes, keepdims=True)
        nonzero = xp.where(zero, x.dtype.type(1), x)  # zeros replaced by 1
        others = nonzero.prod(axis=self.axes, keepdims=True)  # the product of the non-zeros
        local = xp.where(zeros == 0, others / nonzero, xp.where(zero & (zeros == 1), others, x.dtype.type(0)))
        return (expand(gy, x.shape, self.axes, self.keepdims) * local,)


def _sum_from_end(a: Any, axis: int) -> Any:
    """s_j = sum_{i >= j} a_i along ``axis`` (a cumulative sum of the reversed array, reversed)."""
    xp = backend.array_module(a)
    return xp.flip(xp.cumsum(xp.flip(a, axis), axis=axis), axis)


class Cumsum(Function):
    """y_i = sum_{j <= i} x_j along ``axis``;  dL/dx_j = sum_{i >= j} g_i: the upstream
    gradient summed from the end."""

    __slots__ = ("axis",)

    def forward(self, x: Any, axis: int) -> Any:
        self.axis = axis
        return backend.array_module(x).cumsum(x, axis=axis, dtype=accumulator_dtype(x.dtype))

    def backward(self, gy: Any) -> tuple:
        return (_sum_from_end(gy, self.axis),)


class Cumprod(Function):
    """y_i = prod_{j <= i} x_j along ``axis``;  dL/dx_j = sum_{i >= j} g_i prod_{k <= i, k != j} x_k.

    Dividing, prod_{k <= i, k != j} x_k = y_i / x_j, fails at zeros, so backward splits each
    line along ``axis`` at its first zero z (as ``Prod`` counts zeros):

    * j < z (or no zero): dL/dx_j = (sum_{i >= j} g_i y_i) / x_j; the terms with i >= z are 0
      anyway, because y_i = 0 there;
    * j = z: dL/dx_z = sum_{i >= z} g_i y'_i, with y' the cumulative product of x with x_z
      replaced by 1 (the products that leave x_z out; later zeros still count);
    * j > z: every product holds x_z = 0, so dL/dx_j = 0.
    """

    __slots__ = ("axis",)

    def forward(self, x: Any, axis: int) -> Any:
        self.axis = axis
        y = backend.array_module(x).cumprod(x, axis=axis, dtype=accumulator_dtype(x.dtype))
        self.save(x, y)
        return y

    def backward(self, gy: Any) -> tuple:
        x, y = self.saved
        xp = backend.array_module(x)
        zero = x == 0
        zeros_so_far = xp.cumsum(zero, axis=self.axis)  # zeros at or before j
        before = zeros_so_far == 0  # j < z
        first = zero & (zeros_so_far == 1)  # j = z
        one = x.dtype.type(1)
        y_without_first = xp.cumprod(xp.where(first, one, x), axis=self.axis)
        gx = xp.where(before, _sum_from_end(gy * y, self.axis) / xp.where(before, x, one), x.dtype.type(0))
        return (xp.where(first, _sum_from_end(gy * y_without_first, self.axis), gx),)


class Norm(Function):
    """The vector p-norm over ``axis``: ||x||_p = (sum_i |x_i|^p)^(1/p), for p >= 1 or p = inf.

    * p = 1: y = sum |x_i|;  dy/dx_i = sign(x_i) (0 at x_i = 0);
    * p = 2: y = sqrt(sum x_i^2);  dy/dx_i = x_i / y;
    * p = inf: y = max |x_i|;  dy/dx_i = sign(x_i) / k for the k entries with |x_i| = y
      (ties share the gradient evenly, as ``max`` does), 0 for the others;
    * other p: dy/dx_i = sign(x_i) |x_i|^(p-1) / y^(p-1).

    At x = 0 the norm has no derivative; the gradient is 0 there (the subgradient PyTorch
    picks), never NaN.
    """

    __slots__ = ("axes", "keepdims", "p")

    def forward(self, x: Any, p: float, axis: Any, keepdims: bool) -> Any:
        xp = backend.array_module(x)
        self.axes, self.keepdims, self.p = normalize_axes(axis, x.ndim), keepdims, p
        a = xp.abs(x)
        if p == float("inf"):
            y = a.max(axis=self.axes, keepdims=True) if x.size else xp.zeros_like(a.sum(axis=self.axes, keepdims=True))
        elif p == 1:
            y = a.sum(axis=self.axes, keepdims=True)
        elif p == 2:
            y = xp.sqrt((x * x).sum(axis=self.axes, keepdims=True))
        else:
            y = (a ** x.dtype.type(p)).sum(axis=self.axes, keepdims=True) ** x.dtype.type(1 / p)
        self.save(x, y)
        return y if keepdims else y.reshape(tuple(n for i, n in enumerate(x.shape) if i not in self.axes))

    def backward(self, gy: Any) -> tuple:
        x, y = self.saved
        xp = backend.array_module(x)
        g = expand(gy, x.shape, self.axes, self.keepdims)
        zero = x.dtype.type(0)
        p = self.p
        if p == 1:
            return (g * xp.sign(x),)
        safe_y = xp.where(y == 0, x.dtype.type(1), y)  # y = 0 only where x = 0: the gradient is 0 there
        if p == 2:
            return (g * x / safe_y,)
        if p == float("inf"):
            winners = xp.abs(x) == y  # (at y = 0, sign(x) = 0 keeps the gradient 0)
            count = xp.maximum(winners.sum(axis=self.axes, keepdims=True), 1)
            return (g * xp.where(winners, xp.sign(x), zero) / count.astype(x.dtype),)
        a = xp.abs(x)
        t = x.dtype.type(p - 1)
        return (g * xp.sign(x) * a ** t / safe_y ** t,)
