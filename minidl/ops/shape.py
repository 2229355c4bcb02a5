"""Shape ops: reshape, transpose, squeeze/unsqueeze, broadcast_to, concatenate, stack, and
indexing. They move values around without changing them, so each backward moves the
gradient back the opposite way (reshape back, transpose back, slice back, ...).
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function, unbroadcast


class Reshape(Function):
    """y = x with a new shape (same values, same order);  the gradient is reshaped back."""

    __slots__ = ("in_shape",)
    returns_view = True

    def forward(self, x: Any, shape: tuple) -> Any:
        self.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                             f"into {shape}") from None

    def backward(self, gy: Any) -> tuple:
        return (gy.reshape(self.in_shape),)


class Transpose(Function):
    """y = x with its axes permuted;  the gradient is permuted by the inverse permutation."""

    __slots__ = ("axes",)
    returns_view = True

    def forward(self, x: Any, axes: tuple | None) -> Any:
        if axes is None:
            axes = tuple(reversed(range(x.ndim)))
        if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
        self.axes = axes
        return x.transpose(axes)

    def backward(self, gy: Any) -> tuple:
        inverse = [0] * gy.ndim  # the inverse permutation: axis a of x went to position i
        for i, a in enumerate(self.axes):
            inverse[a % gy.ndim] = i
        return (gy.transpose(inverse),)


class BroadcastTo(Function):
    """y = x copied along new or size-1 axes;  the gradient is summed over the copies."""

    __slots__ = ("in_shape",)
    returns_view = True

    def forward(self, x: Any, shape: tuple) -> Any:
        self.in_shape = x.shape
        try:
            return backend.array_module(x).broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None

    def backward(self, gy: Any) -> tuple:
        return (unbroadcast(gy, self.in_shape),)


class Concatenate(Function):
    """y = the inputs joined along ``axis``;  each input gets its slice of the gradient."""

    __slots__ = ("axis", "sizes")

    def forward(self, *xs: Any, axis: int) -> Any:
        self.axis = axis
        self.sizes = [x.shape[axis] for x in xs]
        try:
            return backend.array_module(xs[0]).concatenate(xs, axis=axis)
        except ValueError:
            shapes = ", ".join(str(x.shape) for x in xs)
            raise ValueError(f"concatenate: shapes {shapes} must match except along axis {axis}") from None

    def backward(self, gy: Any) -> tuple:
        xp = backend.array_module(gy)
        bounds = backend.np.cumsum(self.sizes)[:-1].tolist()
        return tuple(xp.split(gy, bounds, axis=self.axis))


class Stack(Function):
    """y = the inputs stacked along a new ``axis``;  input i gets the gradient's slice i."""

    __slots__ = ("axis",)

    def forward(self, *xs: Any, axis: int) -> Any:
        self.axis = axis
        try:
            return backend.array_module(xs[0]).stack(xs, axis=axis)
        except ValueError:
            shapes = ", ".join(str(x.shape) for x in xs)
            raise ValueError(f"stack: all shapes must be equal, got {shapes}") from None

    def backward(self, gy: Any) -> tuple:
        xp = backend.array_module(gy)
        return tuple(xp.moveaxis(gy, self.axis, 0))


def is_basic_index(index: Any) -> bool:
    """True when ``index`` uses only ints, slices, None and Ellipsis (NumPy returns a view)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


class GetItem(Function):
    """y = x[index] for basic (slices) and advanced (integer arrays, boolean masks) indices.

    Backward writes the gradient into a zero array at the same positions. An entry picked
    several times (``x[[0, 0]]``) receives the *sum* of its gradients (``scatter_add``).
    """

    __slots__ = ("index", "in_shape", "basic")

    def forward(self, x: Any, index: Any) -> Any:
        self.index, self.in_shape = index, x.shape
        self.basic = is_basic_index(index)
        try:
            return x[index]
        except IndexError as exc:
            raise IndexError(f"index into a tensor of shape {x.shape}: {exc}") from None

    def backward(self, gy: Any) -> tuple:
        xp = backend.array_module(gy)
        g = xp.zeros(self.in_shape, dtype=gy.dtype)
        if self.basic:
            g[self.index] = gy
        else:
            backend.scatter_add(g, self.index, gy)
        return (g,)


class BasicGetItem(GetItem):
    """Basic indexing returns a view of ``x``: it shares the version counter."""

    __slots__ = ()
    returns_view = True
