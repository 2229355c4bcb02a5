"""Element-wise math and activations: exp, log, sqrt, abs, tanh, sigmoid, relu, leaky_relu,
clip, maximum/minimum, where, plus dtype casts, copies and device moves.

Each backward multiplies the upstream gradient by the local derivative f'(x), written in
terms of what forward saved (often the output y, e.g. exp' = y, tanh' = 1 - y^2).

Non-differentiable points use the usual conventions (as PyTorch): relu'(0) = 0,
abs'(0) = 0, clip passes gradient for lo <= x <= hi, and maximum/minimum split the gradient
evenly (1/2 each) when the two inputs are equal.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function, unbroadcast


class Exp(Function):
    """y = e^x;  dy/dx = e^x = y.  (Overflow gives inf quietly, as in PyTorch.)"""

    def forward(self, x: Any) -> Any:
        xp = backend.array_module(x)
        with backend.quiet_float_warnings(over="ignore"):
            y = xp.exp(x)
        self.save(y)
        return y

    def backward(self, gy: Any) -> tuple:
        (y,) = self.saved
        return (gy * y,)


class Log(Function):
    """y = ln x;  dy/dx = 1 / x."""

    def forward(self, x: Any) -> Any:
        self.save(x)
        return backend.array_module(x).log(x)

    def backward(self, gy: Any) -> tuple:
        (x,) = self.saved
        return (gy / x,)


class Log1p(Function):
    """y = ln(1 + x);  dy/dx = 1 / (1 + x). Accurate for tiny x, where 1 + x rounds to 1."""

    def forward(self, x: Any) -> Any:
        self.save(x)
        return backend.array_module(x).log1p(x)

    def backward(self, gy: Any) -> tuple:
        (x,) = self.saved
        return (gy / (1 + x),)


class Expm1(Function):
    """y = e^x - 1;  dy/dx = e^x = y + 1. Accurate for tiny x, where e^x rounds to 1."""

    def forward(self, x: Any) -> Any:
        xp = backend.array_module(x)
        with backend.quiet_float_warnings(over="ignore"):
            y = xp.expm1(x)
        self.save(y)
        return y

    def backward(self, gy: Any) -> tuple:
        (y,) = self.saved
        return (gy * (y + 1),)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 sqrt(x)) = 1 / (2 y)."""

    def forward(self, x: Any) -> Any:
        y = backend.array_module(x).sqrt(x)
        self.save(y)
        return y

    def backward(self, gy: Any) -> tuple:
        (y,) = self.saved
        return (gy / (2 * y),)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at x = 0)."""

    def forward(self, x: Any) -> Any:
        self.save(x)
        return backend.array_module(x).abs(x)

    def backward(self, gy: Any) -> tuple:
        (x,) = self.saved
        return (gy * backend.array_module(x).sign(x),)


class Tanh(Function):
    """y = tanh(x) = (e^x - e^-x) / (e^x + e^-x);  dy/dx = 1 - tanh(x)^2 = 1 - y^2."""

    def forward(self, x: Any) -> Any:
        y = backend.array_module(x).tanh(x)
        self.save(y)
        return y

    def backward(self, gy: Any) -> tuple:
        (y,) = self.saved
        return (gy * (1 - y * y),)


class Sigmoid(Function):
    """y = sigma(x) = 1 / (1 + e^-x);  dy/dx = sigma(x) (1 - sigma(x)) = y (1 - y).

    Computed as sigma(x) = e^{min(x, 0)} / (1 + e^{-|x|}), the same function (for x >= 0 it
    reads 1 / (1 + e^-x); for x < 0 it is e^x / (1 + e^x), top and bottom multiplied by e^x).
    Both exponents are <= 0, so nothing overflows (sigma(1000) is exactly 1, sigma(-1000)
    exactly 0, no warning), both tails keep full relative precision, and there is no
    branch: it runs as fast as one tanh (no ``where`` over two computed candidates).
    """

    def forward(self, x: Any) -> Any:
        xp = backend.array_module(x)
        den = xp.abs(x, out=xp.empty_like(x))  # (out=: arrays also for 0-d inputs)
        xp.negative(den, out=den)
        xp.exp(den, out=den)
        den += 1                               # 1 + e^{-|x|}
        y = xp.minimum(x, x.dtype.type(0), out=xp.empty_like(x))
        xp.exp(y, out=y)                       # e^{min(x, 0)}
        y /= den
        self.save(y)
        return y

    def backward(self, gy: Any) -> tuple:
        (y,) = self.saved
        return (gy * y * (1 - y),)


class ReLU(Function):
    """y = max(0, x);  dy/dx = 1 for x > 0, 0 otherwise (0 at x = 0)."""

    def forward(self, x: Any) -> Any:
        xp = backend.array_module(x)
        # Two speed choices, same numbers: the output comes from the scratch pool (a conv
        # net's activations are megabytes: fresh ones page-fault at every step), and
        # max(x, 0) is taken against an array of zeros, not the scalar 0 (NumPy's vectorized
        # loop needs two arrays; with a scalar it runs a plain loop, 2-4x slower).
        y = backend.scratch_empty(xp, x.shape, x.dtype)
        y.fill(0)
        xp.maximum(x, y, out=y)
        self.save(y)
        return y

    def backward(self, gy: Any) -> tuple:
        (y,) = self.saved
        xp = backend.array_module(gy)
        gx = backend.scratch_empty(xp, gy.shape, gy.dtype)
        xp.multiply(gy, y > 0, out=gx)  # dL/dx = dL/dy * [y > 0]
        return (gx,)


class LeakyReLU(Function):
    """y = x for x > 0, alpha x otherwise (= max(alpha x, x) for 0 <= alpha <= 1);
    dy/dx = 1 for x > 0, alpha otherwise."""

    __slots__ = ("slope",)

    def forward(self, x: Any, negative_slope: float) -> Any:
        self.slope = negative_slope
        self.save(x)
        xp = backend.array_module(x)
        return xp.where(x > 0, x, x * x.dtype.type(negative_slope))

    def backward(self, gy: Any) -> tuple:
        (x,) = self.saved
        xp = backend.array_module(x)
        return (xp.where(x > 0, gy, gy * gy.dtype.type(self.slope)),)


class Clip(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi, else 0."""

    __slots__ = ("lo", "hi")

    def forward(self, x: Any, lo: float | None, hi: float | None) -> Any:
        self.lo, self.hi = lo, hi
        self.save(x)
        return backend.array_module(x).clip(x, lo, hi)

    def backward(self, gy: Any) -> tuple:
        (x,) = self.saved
        inside = True
        if self.lo is not None:
            inside = x >= self.lo
        if self.hi is not None:
            inside = inside & (x <= self.hi)
        return (gy * inside,)


class Maximum(Function):
    """z = max(a, b) element-wise;  dz/da = 1 where a > b, 1/2 where a == b, else 0."""

    def forward(self, a: Any, b: Any) -> Any:
        self.save(a, b)
        return backend.array_module(a).maximum(a, b)

    def backward(self, gz: Any) -> tuple:
        a, b = self.saved
        share_a = (a > b) + 0.5 * (a == b)
        return _split(gz, share_a, a.shape, b.shape, self.needs_input_grad)


class Minimum(Function):
    """z = min(a, b) element-wise;  dz/da = 1 where a < b, 1/2 where a == b, else 0."""

    def forward(self, a: Any, b: Any) -> Any:
        self.save(a, b)
        return backend.array_module(a).minimum(a, b)

    def backward(self, gz: Any) -> tuple:
        a, b = self.saved
        share_a = (a < b) + 0.5 * (a == b)
        return _split(gz, share_a, a.shape, b.shape, self.needs_input_grad)


def _split(gz: Any, share_a: Any, shape_a: tuple, shape_b: tuple, needs: tuple) -> tuple:
    """Send ``share_a`` of the gradient to ``a`` and the rest to ``b``."""
    share_a = share_a.astype(gz.dtype, copy=False)
    ga = unbroadcast(gz * share_a, shape_a) if needs[0] else None
    gb = unbroadcast(gz * (1 - share_a), shape_b) if needs[1] else None
    return ga, gb


class Where(Function):
    """z = a where cond else b;  dz/da = cond, dz/db = not cond (cond gets no gradient)."""

    __slots__ = ("cond", "shapes")

    def forward(self, a: Any, b: Any, cond: Any) -> Any:
        self.cond = cond
        self.shapes = (a.shape, b.shape)
        return backend.array_module(a).where(cond, a, b)

    def backward(self, gz: Any) -> tuple:
        xp = backend.array_module(gz)
        zero = gz.dtype.type(0)
        ga = unbroadcast(xp.where(self.cond, gz, zero), self.shapes[0]) if self.needs_input_grad[0] else None
        gb = unbroadcast(xp.where(self.cond, zero, gz), self.shapes[1]) if self.needs_input_grad[1] else None
        return ga, gb


class Cast(Function):
    """y = x converted to another dtype;  the gradient is cast back to x's dtype."""

    __slots__ = ("src",)

    def forward(self, x: Any, dtype: Any) -> Any:
        self.src = x.dtype
        return x.astype(dtype)

    def backward(self, gy: Any) -> tuple:
        return (gy.astype(self.src),)


class Clone(Function):
    """y = a copy of x in new memory;  dy/dx = 1."""

    def forward(self, x: Any) -> Any:
        return x.copy()

    def backward(self, gy: Any) -> tuple:
        return (gy,)


class ToDevice(Function):
    """y = x on another device;  the gradient moves back to x's device."""

    __slots__ = ("src",)

    def forward(self, x: Any, device: str) -> Any:
        self.src = backend.device_of(x)
        return backend.to_device(x, device)

    def backward(self, gy: Any) -> tuple:
        return (backend.to_device(gy, self.src),)
