"""Arithmetic: + - * / // % ** negation and matrix multiplication.

Binary ops broadcast like NumPy. Broadcasting copies an input along some axes, so its
gradient is the upstream gradient *summed* over those axes: ``unbroadcast`` does that, in
one place, for every op.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function, unbroadcast


class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    def forward(self, a: Any, b: Any) -> Any:
        self.shapes = (a.shape, b.shape)
        return a + b

    def backward(self, gz: Any) -> tuple:
        sa, sb = self.shapes
        ga = unbroadcast(gz, sa) if self.needs_input_grad[0] else None
        gb = unbroadcast(gz, sb) if self.needs_input_grad[1] else None
        return ga, gb

    __slots__ = ("shapes",)


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    __slots__ = ("shapes",)

    def forward(self, a: Any, b: Any) -> Any:
        self.shapes = (a.shape, b.shape)
        return a - b

    def backward(self, gz: Any) -> tuple:
        sa, sb = self.shapes
        ga = unbroadcast(gz, sa) if self.needs_input_grad[0] else None
        gb = unbroadcast(-gz, sb) if self.needs_input_grad[1] else None
        return ga, gb


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a."""

    def forward(self, a: Any, b: Any) -> Any:
        self.save(a, b)
        return a * b

    def backward(self, gz: Any) -> tuple:
        a, b = self.saved
        ga = unbroadcast(gz * b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(gz * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class MulScalar(Function):
    """z = a * c for a plain Python number c;  dz/da = c.

    PyTorch's "wrapped number": ``x * 2.5`` keeps c as a number in a's dtype, not as a 0-d
    constant tensor input. The values are those of ``Mul`` with the constant; the graph
    holds one object fewer per op and the node saves nothing (so an in-place change of
    ``a`` afterwards is fine, as in PyTorch). A long chain of such ops gives the garbage
    collector a quarter less to scan. Shown as "Mul", as PyTorch shows both as MulBackward0.
    """

    __slots__ = ("c",)

    @property
    def name(self) -> str:
        return "Mul"

    def forward(self, a: Any, c: float) -> Any:
        self.c = a.dtype.type(c)
        return a * self.c

    def backward(self, gz: Any) -> tuple:
        return (gz * self.c,)


class AddScalar(Function):
    """z = a + c for a plain Python number c;  dz/da = 1. A wrapped number, as
    ``MulScalar``; shown as "Add"."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return "Add"

    def forward(self, a: Any, c: float) -> Any:
        return a + a.dtype.type(c)

    def backward(self, gz: Any) -> tuple:
        return (gz,)


class SubScalar(Function):
    """z = a - c for a plain Python number c;  dz/da = 1. A wrapped number, as
    ``MulScalar``; shown as "Sub"."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return "Sub"

    def forward(self, a: Any, c: float) -> Any:
        return a - a.dtype.type(c)

    def backward(self, gz: Any) -> tuple:
        return (gz,)


class Div(Function):
    """z = a / b;  dz/da = 1 / b, dz/db = -a / b^2."""

    def forward(self, a: Any, b: Any) -> Any:
        self.save(a, b)
        return a / b

    def backward(self, gz: Any) -> tuple:
        a, b = self.saved
        ga = unbroadcast(gz / b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-gz * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def _refuse_integer_zero_division(b: Any, op: str) -> None:
    """Integers have no inf or NaN: NumPy would answer 0 with a warning, PyTorch raises."""
    if b.dtype.kind in "iub" and not b.all():
        raise ZeroDivisionError(f"{op}: integer division by zero")


class FloorDivide(Function):
    """z = floor(a / b), Python's ``//`` (rounds toward -inf: -7 // 2 = -4, as PyTorch).

    Not differentiable: z is a step function of a and b, and PyTorch defines no derivative
    for it (its backward raises), so this backward raises too instead of passing zeros on.
    """

    def forward(self, a: Any, b: Any) -> Any:
        _refuse_integer_zero_division(b, "floor_divide (//)")
        return backend.array_module(a).floor_divide(a, b)

    def backward(self, gz: Any) -> tuple:
        raise RuntimeError("floor_divide (//) has no derivative, as in PyTorch; keep it out of the part of the "
                           "graph you differentiate (compute it on .detach()ed values), or use (a / b).floor(), "
                           "whose gradient is 0")


class Remainder(Function):
    """z = a - b floor(a / b), Python's ``%`` (the sign of b: -7 % 3 = 2, as PyTorch);
    dz/da = 1, dz/db = -floor(a / b)."""

    def forward(self, a: Any, b: Any) -> Any:
        _refuse_integer_zero_division(b, "remainder (%)")
        self.save(a, b)
        return backend.array_module(a).remainder(a, b)

    def backward(self, gz: Any) -> tuple:
        a, b = self.saved
        ga = unbroadcast(gz, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-gz * backend.array_module(a).floor_divide(a, b), b.shape) \
            if self.needs_input_grad[1] else None
        return ga, gb


class Pow(Function):
    """z = a ** b;  dz/da = b a^(b-1), dz/db = a^b ln a (real only for a > 0).

    At a zero base PyTorch's values, which keep a NaN out of training: dz/da = 0 where b = 0
    (z = a^0 = 1 is constant in a, even at a = 0), and dz/db = 0 where a = 0 and b >= 0
    (z = 0^b is constant for b > 0).
    """

    def forward(self, a: Any, b: Any) -> Any:
        with backend.quiet_float_warnings(divide="ignore", invalid="ignore"):  # 0^-1 = inf, (-1)^0.5 = nan, quietly
            z = a**b
        self.save(a, b, z)
        return z

    def backward(self, gz: Any) -> tuple:
        a, b, z = self.saved
        xp = backend.array_module(a)
        zero = gz.dtype.type(0)
        ga = gb = None
        with backend.quiet_float_warnings(divide="ignore", invalid="ignore"):  # 0^(b-1) and log(0) where masked
            if self.needs_input_grad[0]:
                ga = unbroadcast(xp.where(b == 0, zero, gz * b * a ** (b - 1)), a.shape)
            if self.needs_input_grad[1]:
                gb = unbroadcast(xp.where((a == 0) & (b >= 0), zero, gz * z * xp.log(a)), b.shape)
        return ga, gb


class Neg(Function):
    """z = -a;  dz/da = -1."""

    def forward(self, a: Any) -> Any:
        return -a

    def backward(self, gz: Any) -> tuple:
        return (-gz,)


class MatMul(Function):
    """Z = A @ B (NumPy's matmul: 1-D operands and batched stacks included).

    For 2-D operands, with G = dL/dZ:   dL/dA = G B^T,   dL/dB = A^T G.
    A 1-D ``a`` is treated as a row (1, n) and a 1-D ``b`` as a column (n, 1); leading
    batch axes broadcast, so their gradients are summed back with ``unbroadcast``.
    """

    def forward(self, a: Any, b: Any) -> Any:
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes {a.shape} and {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} do not match: the last axis of the first "
                f"({a.shape[-1]}) must equal the {'second-to-last' if b.ndim > 1 else 'only'} axis of the second"
            )
        self.save(a, b)
        if a.ndim == 2 and b.ndim == 2:
            return _matmul_2d(a, b)
        try:
            return a @ b
        except ValueError:  # the batch dims do not broadcast (the inner dims were checked above)
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} do not match: their batch dims {a.shape[:-2]} and "
                f"{b.shape[:-2]} must be equal or 1 (they broadcast, as in torch.matmul)"
            ) from None

    def backward(self, gz: Any) -> tuple:
        a, b = self.saved
        if a.ndim == 2 and b.ndim == 2:  # the common case, written as in the lecture
            ga = _product_like(a, gz, b.T) if self.needs_input_grad[0] else None
            gb = _product_like(b, a.T, gz) if self.needs_input_grad[1] else None
            return ga, gb
        a2 = a.reshape(1, -1) if a.ndim == 1 else a  # row vector
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b  # column vector
        batch = backend.np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g2 = gz.reshape(batch + (a2.shape[-2], b2.shape[-1]))  # re-insert the 1-D axes
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = unbroadcast(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape)
        return ga, gb


def _product_like(like: Any, left: Any, right: Any) -> Any:
    """``left @ right``, laid out in memory like ``like`` (plain version: ``left @ right``).

    When ``like`` is a transposed view (e.g. ``W.T`` in ``x @ W.T``, a Linear layer), the
    product is computed as ``(right^T @ left^T)^T``: the same numbers, but the transpose of
    a C-ordered array, so the gradient that reaches ``W`` through the transpose is
    C-ordered like ``W`` itself and the optimizer's ``W -= lr * grad`` runs at full speed.
    """
    if not like.flags.c_contiguous and like.flags.f_contiguous:
        return (right.T @ left.T).T
    return left @ right


def _matmul_2d(a: Any, b: Any) -> Any:
    """``a @ b`` for matrices (plain version: ``a @ b``).

    A Linear layer computes ``x @ W.T`` with a small batch: ``a`` has fewer rows than
    ``b = W.T`` (a transposed view) has columns. Then ``(W @ x^T)^T`` gives the same
    numbers, and NumPy's BLAS handles that orientation (many rows) much better: with a batch
    of 16 through a 784 -> 256 layer it runs about twice as fast.
    """
    if a.shape[0] < b.shape[1] and b.flags.f_contiguous and not b.flags.c_contiguous:
        return (b.T @ a.T).T
    return a @ b
