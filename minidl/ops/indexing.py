"""Shape and indexing ops in PyTorch's meaning: flip, roll, repeat, gather, scatter_add,
masked_fill, tril / triu and constant padding.

Like the ops in ``shape.py`` they move values without changing them (or overwrite some with
a constant), so each backward moves the gradient back the opposite way: flip it back, roll
it back, sum the repeated copies, scatter what was gathered, zero what was overwritten.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function, unbroadcast


def along_dim(index: Any, dim: int) -> tuple:
    """The advanced index that picks ``x[i_0, ..., index[i_0, ..., i_n], ..., i_n]``
    (``index`` replacing the coordinate along ``dim``) for every position of ``index``:
    ``x[along_dim(index, dim)]`` is ``torch.gather(x, dim, index)``."""
    xp = backend.array_module(index)
    parts = []
    for d, n in enumerate(index.shape):
        if d == dim:
            parts.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = n
            parts.append(xp.arange(n).reshape(shape))
    return tuple(parts)


class Gather(Function):
    """y[..., i, ...] = x[..., index[..., i, ...], ...] along ``dim`` (``torch.gather``; sort
    and topk use it to pick their values).

    dL/dx = the upstream gradient scattered back to the positions it was read from, *added*
    where a position was read several times (``scatter_add``). ``index`` gets no gradient.
    """

    __slots__ = ("where", "in_shape")

    def forward(self, x: Any, index: Any, dim: int) -> Any:
        self.where, self.in_shape = along_dim(index, dim), x.shape
        return x[self.where]

    def backward(self, gy: Any) -> tuple:
        g = backend.array_module(gy).zeros(self.in_shape, dtype=gy.dtype)
        backend.scatter_add(g, self.where, gy)
        return (g,)


class ScatterAdd(Function):
    """y = x, then y[..., index[..., i, ...], ...] += src[..., i, ...] along ``dim``
    (``torch.scatter_add``; only the part of ``src`` the shape of ``index`` is used).

    dL/dx = g (x is copied through);  dL/dsrc = g gathered at the positions src was added to
    (0 for the unused part of src). ``index`` gets no gradient.
    """

    __slots__ = ("where", "src_shape", "used")

    def forward(self, x: Any, src: Any, index: Any, dim: int) -> Any:
        self.where, self.src_shape = along_dim(index, dim), src.shape
        self.used = tuple(slice(0, n) for n in index.shape)
        y = x.copy()
        backend.scatter_add(y, self.where, src[self.used])
        return y

    def backward(self, gy: Any) -> tuple:
        gsrc = None
        if self.needs_input_grad[1]:
            gsrc = backend.array_module(gy).zeros(self.src_shape, dtype=gy.dtype)
            gsrc[self.used] = gy[self.where]
        return gy, gsrc


class MaskedFill(Function):
    """y = value where mask, else x (mask broadcasts against x);  dy/dx = 0 where mask, else
    1 (the filled entries no longer depend on x)."""

    __slots__ = ("mask", "in_shape")

    def forward(self, x: Any, mask: Any, value: Any) -> Any:
        self.mask, self.in_shape = mask, x.shape
        return backend.array_module(x).where(mask, x.dtype.type(value), x)

    def backward(self, gy: Any) -> tuple:
        g = backend.array_module(gy).where(self.mask, gy.dtype.type(0), gy)
        return (unbroadcast(g, self.in_shape),)


class Flip(Function):
    """y = x reversed along ``dims``;  the gradient is reversed back (flip is its own inverse)."""

    __slots__ = ("dims",)

    def forward(self, x: Any, dims: tuple) -> Any:
        self.dims = dims
        return backend.array_module(x).flip(x, dims).copy()  # torch.flip copies

    def backward(self, gy: Any) -> tuple:
        return (backend.array_module(gy).flip(gy, self.dims),)


class Roll(Function):
    """y = x shifted cyclically by ``shifts`` along ``dims`` (entries pushed off one end come
    back at the other; ``dims=None``: the flattened tensor, shape kept);  the gradient is
    rolled back by ``-shifts``."""

    __slots__ = ("shifts", "dims")

    def forward(self, x: Any, shifts: tuple, dims: tuple | None) -> Any:
        self.shifts, self.dims = shifts, dims
        return backend.array_module(x).roll(x, shifts if dims is not None else shifts[0], dims)

    def backward(self, gy: Any) -> tuple:
        back = tuple(-s for s in self.shifts)
        return (backend.array_module(gy).roll(gy, back if self.dims is not None else back[0], self.dims),)


class Repeat(Function):
    """``Tensor.repeat(*sizes)`` (NumPy's ``tile``, not ``numpy.repeat``): the whole tensor
    copied ``sizes[d]`` times along dim d, new leading dims for the extra sizes.

    With x viewed as (1, ..., 1, n_0, ..., n_k), y has shape (s_0 n_0, ..., s_k n_k) and
    y[a n + i] = x[i] along each dim. dL/dx: the gradient viewed as (s_0, n_0, ..., s_k, n_k)
    and summed over the copy axes s_0, ..., s_k.
    """

    __slots__ = ("sizes", "padded", "in_shape")

    def forward(self, x: Any, sizes: tuple) -> Any:
        self.sizes, self.in_shape = sizes, x.shape
        self.padded = (1,) * (len(sizes) - x.ndim) + x.shape
        return backend.array_module(x).tile(x.reshape(self.padded), sizes)

    def backward(self, gy: Any) -> tuple:
        pairs = tuple(v for s, n in zip(self.sizes, self.padded) for v in (s, n))
        return (gy.reshape(pairs).sum(axis=tuple(range(0, len(pairs), 2))).reshape(self.in_shape),)


class Triangle(Function):
    """``tril`` (``upper=False``): y_ij = x_ij for j - i <= diagonal, else 0;
    ``triu`` (``upper=True``): y_ij = x_ij for j - i >= diagonal, else 0 (over the last two
    dims; leading dims are a batch). dy/dx = the same 0/1 mask: the gradient is masked alike."""

    __slots__ = ("keep",)

    def forward(self, x: Any, diagonal: int, upper: bool) -> Any:
        xp = backend.array_module(x)
        n, m = x.shape[-2:]
        lower = xp.tri(n, m, diagonal - 1 if upper else diagonal, dtype=bool)  # True for j - i <= k
        self.keep = ~lower if upper else lower
        return xp.where(self.keep, x, x.dtype.type(0))

    def backward(self, gy: Any) -> tuple:
        return (backend.array_module(gy).where(self.keep, gy, gy.dtype.type(0)),)


class ConstantPad(Function):
    """``F.pad(x, pad, value=v)``: each dim d grows by (before_d, after_d), the new entries
    equal to v; a negative amount crops instead. Entry i of x lands at i + before_d.

    dL/dx = the part of the gradient where x landed (cropped entries get 0)."""

    __slots__ = ("src", "dst", "in_shape")

    def forward(self, x: Any, widths: tuple, value: float) -> Any:
        self.in_shape = x.shape
        src, dst = [], []
        for n, (before, after) in zip(x.shape, widths):
            start = max(0, -before)
            stop = max(start, n - max(0, -after))  # the kept entries of x along this dim
            src.append(slice(start, stop))
            dst.append(slice(start + before, stop + before))
        self.src, self.dst = tuple(src), tuple(dst)
        out_shape = tuple(n + b + a for n, (b, a) in zip(x.shape, widths))
        y = backend.array_module(x).full(out_shape, value, dtype=x.dtype)
        y[self.dst] = x[self.src]
        return y

    def backward(self, gy: Any) -> tuple:
        g = backend.array_module(gy).zeros(self.in_shape, dtype=gy.dtype)
        g[self.src] = gy[self.dst]
        return (g,)
