"""Differentiable operations, as functions of tensors (``md.exp(x)``, ``md.where(c, a, b)``).

Each op is a ``Function`` subclass in one of the modules below, with its forward and its
backward side by side:

* ``arithmetic``: add, sub, mul, div, pow, neg, matmul
* ``elementwise``: exp, log, sqrt, abs, tanh, sigmoid, relu, leaky_relu, clip,
  maximum, minimum, where, casts
* ``reduction``: sum, mean, var, max, min, logsumexp, softmax, log_softmax
* ``shape``: reshape, transpose, flatten, squeeze, unsqueeze, broadcast_to, concatenate,
  stack, indexing

The functions here turn their arguments into tensors of a common dtype and device
(``binary_operands``: the promotion rules of ``minidl/tensor.py``) and call ``Op.apply``.
"""

from __future__ import annotations

import builtins
from typing import Any, Sequence

from .. import backend
from ..tensor import Tensor, _to_array, shape_args
from .arithmetic import Add, Div, MatMul, Mul, Neg, Pow, Sub
from .elementwise import (
    Abs, Cast, Clip, Clone, Exp, LeakyReLU, Log, Maximum, Minimum, ReLU, Sigmoid, Sqrt,
    Tanh, ToDevice, Where,
)
from .reduction import LogSoftmax, LogSumExp, Max, Mean, Min, Softmax, Sum, Var, normalize_axes
from .shape import BasicGetItem, BroadcastTo, Concatenate, GetItem, Reshape, Stack, Transpose, _is_basic

_SCALARS = (int, float, bool)


# --------------------------------------------------------------------------- operands


def _constant(value: Any, like: Tensor) -> Tensor:
    """A scalar as a 0-d constant tensor of ``like``'s dtype (float32 if ``like`` is integer
    and the scalar is a float), on ``like``'s device."""
    dtype = like.data.dtype
    if isinstance(value, Tensor):
        value = value.data
    kind = "f" if type(value) is float else "i" if type(value) is int else backend.np.asarray(value).dtype.kind
    if kind == "f" and dtype.kind != "f":
        dtype = backend.float32
    elif kind in "iu" and dtype.kind == "b":
        dtype = backend.int64
    if type(like.data) is backend.np.ndarray:
        return Tensor._make(backend.np.asarray(value, dtype=dtype), False, None)
    return Tensor._make(backend.array_module(like.data).asarray(value, dtype=dtype), False, None)


def _is_scalar_like(x: Any) -> bool:
    """Python/NumPy scalars and 0-d arrays: they take the other operand's dtype."""
    if isinstance(x, _SCALARS) or isinstance(x, backend.np.generic):
        return True
    return backend.is_backend_array(x) and x.ndim == 0


def binary_operands(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """``a`` and ``b`` as tensors of one dtype on one device (see tensor.py's dtype rules)."""
    a_t, b_t = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_t and b_t:
        if a.data.dtype is b.data.dtype or a.data.dtype == b.data.dtype:
            if type(a.data) is not type(b.data) and a.device != b.device:
                raise RuntimeError(f"{op}: operands are on different devices ({a.device} and {b.device}); move one with .to()")
            return a, b
        return _promote(a, b, op)
    if a_t:
        other = _constant(b, a) if _is_scalar_like(b) else _wrap(b, a, op)
        return (a, other) if other.dtype == a.dtype else (a.astype(other.dtype), other)
    if b_t:
        other = _constant(a, b) if _is_scalar_like(a) else _wrap(a, b, op)
        return (other, b) if other.dtype == b.dtype else (other, b.astype(other.dtype))
    raise TypeError(f"{op}: expected at least one tensor, got {type(a).__name__} and {type(b).__name__}")


def _wrap(value: Any, like: Tensor, op: str) -> Tensor:
    if isinstance(value, (list, tuple)) or backend.is_backend_array(value):
        t = Tensor(_to_array(value, device=like.device if not backend.is_backend_array(value) else None))
        return binary_operands(like, t, op)[1]
    raise TypeError(f"{op}: unsupported operand type {type(value).__name__} (expected a tensor, array or number)")


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _promote(a: Tensor, b: Tensor, op: str) -> tuple[Tensor, Tensor]:
    if a.device != b.device:
        raise RuntimeError(f"{op}: operands are on different devices ({a.device} and {b.device}); move one with .to()")
    da, db = a.dtype, b.dtype
    rank_a, rank_b = _CATEGORY[da.kind], _CATEGORY[db.kind]
    if rank_a != rank_b:
        target = da if rank_a > rank_b else db  # float beats int beats bool, keeping its dtype
    elif a.ndim == 0 and b.ndim > 0:
        target = db  # a 0-d tensor does not promote a dimensioned one (PyTorch's rule)
    elif b.ndim == 0 and a.ndim > 0:
        target = da
    else:
        target = backend.result_type(da, db)
    return a.astype(target), b.astype(target)


def _unary_input(x: Any, op: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if backend.is_backend_array(x) or isinstance(x, (list, tuple, *_SCALARS)):
        return Tensor(x)
    raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")


def _float_input(x: Any, op: str) -> Tensor:
    """Inputs of transcendental ops: integers are converted to float32 (as PyTorch does)."""
    x = _unary_input(x, op)
    return x if x.dtype.kind == "f" else x.astype(backend.float32)


# --------------------------------------------------------------------------- arithmetic


def _broadcast_check(a: Tensor, b: Tensor, op: str) -> None:
    try:
        backend.np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None


def _binary(cls: type, a: Any, b: Any, op: str) -> Tensor:
    a, b = binary_operands(a, b, op)
    if a.shape != b.shape and a.ndim and b.ndim:
        _broadcast_check(a, b, op)
    return cls.apply(a, b)


def add(a: Any, b: Any) -> Tensor:
    """a + b (broadcasting)."""
    return _binary(Add, a, b, "add")


def sub(a: Any, b: Any) -> Tensor:
    """a - b (broadcasting)."""
    return _binary(Sub, a, b, "sub")


def mul(a: Any, b: Any) -> Tensor:
    """a * b element-wise (broadcasting)."""
    return _binary(Mul, a, b, "mul")


def div(a: Any, b: Any) -> Tensor:
    """a / b (true division; integer tensors give float32)."""
    a, b = binary_operands(a, b, "div")
    if a.dtype.kind != "f":
        a, b = a.astype(backend.float32), b.astype(backend.float32)
    if a.shape != b.shape and a.ndim and b.ndim:
        _broadcast_check(a, b, "div")
    return Div.apply(a, b)


def pow(a: Any, b: Any) -> Tensor:
    """a ** b (broadcasting); the gradient w.r.t. b needs a > 0."""
    return _binary(Pow, a, b, "pow")


def neg(x: Any) -> Tensor:
    """-x."""
    return Neg.apply(_unary_input(x, "neg"))


def matmul(a: Any, b: Any) -> Tensor:
    """a @ b with NumPy's rules (1-D vectors, batched stacks)."""
    a, b = binary_operands(a, b, "matmul")
    return MatMul.apply(a, b)


# --------------------------------------------------------------------------- element-wise


def exp(x: Any) -> Tensor:
    """e^x."""
    return Exp.apply(_float_input(x, "exp"))


def log(x: Any) -> Tensor:
    """Natural logarithm."""
    return Log.apply(_float_input(x, "log"))


def sqrt(x: Any) -> Tensor:
    """Square root."""
    return Sqrt.apply(_float_input(x, "sqrt"))


def abs(x: Any) -> Tensor:
    """|x| (gradient 0 at 0)."""
    return Abs.apply(_unary_input(x, "abs"))


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent."""
    return Tanh.apply(_float_input(x, "tanh"))


def sigmoid(x: Any) -> Tensor:
    """Logistic sigmoid 1 / (1 + e^-x), overflow-free."""
    return Sigmoid.apply(_float_input(x, "sigmoid"))


def relu(x: Any) -> Tensor:
    """max(0, x) (gradient 0 at 0)."""
    return ReLU.apply(_unary_input(x, "relu"))


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    return LeakyReLU.apply(_float_input(x, "leaky_relu"), negative_slope=float(negative_slope))


def clip(x: Any, min: float | None = None, max: float | None = None) -> Tensor:
    """Limit values to [min, max] (either bound may be None)."""
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    if min is not None and max is not None and min > max:
        raise ValueError(f"clip: min ({min}) must not exceed max ({max})")
    return Clip.apply(_unary_input(x, "clip"), lo=min, hi=max)


clamp = clip


def maximum(a: Any, b: Any) -> Tensor:
    """Element-wise max of a and b (gradient split 1/2-1/2 where equal)."""
    return _binary(Maximum, a, b, "maximum")


def minimum(a: Any, b: Any) -> Tensor:
    """Element-wise min of a and b (gradient split 1/2-1/2 where equal)."""
    return _binary(Minimum, a, b, "minimum")


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` is true, else ``b`` (all three broadcast)."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    if not backend.is_backend_array(cond):
        cond = backend.np.asarray(cond)
    if cond.dtype != backend.bool_:
        raise TypeError(f"where: condition must be boolean, got dtype {cond.dtype}")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    a, b = binary_operands(a, b, "where")
    if backend.device_of(cond) != a.device:
        raise RuntimeError(f"where: condition is on {backend.device_of(cond)} but the values are on {a.device}")
    try:
        backend.np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"where: shapes {cond.shape}, {a.shape} and {b.shape} cannot be broadcast together") from None
    return Where.apply(a, b, cond=cond)


def compare(kind: str, a: Any, b: Any) -> Tensor:
    """Element-wise comparison: a boolean tensor, never differentiable."""
    a, b = binary_operands(a, b, kind)
    xp = backend.array_module(a.data)
    fn = {"lt": xp.less, "le": xp.less_equal, "gt": xp.greater, "ge": xp.greater_equal,
          "eq": xp.equal, "ne": xp.not_equal}[kind]
    return Tensor._make(fn(a.data, b.data), False, None)


# --------------------------------------------------------------------------- reductions


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (int, tuple, or None for all)."""
    return Sum.apply(_unary_input(x, "sum"), axis=axis, keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``."""
    return Mean.apply(_float_input(x, "mean"), axis=axis, keepdims=keepdims)


def var(x: Any, axis: Any = None, keepdims: bool = False, correction: int = 1) -> Tensor:
    """Variance over ``axis``, dividing by n - correction (1: unbiased, PyTorch's default)."""
    return Var.apply(_float_input(x, "var"), axis=axis, keepdims=keepdims, correction=correction)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis`` (gradient split evenly among tied maxima)."""
    return Max.apply(_unary_input(x, "max"), axis=axis, keepdims=keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis`` (gradient split evenly among tied minima)."""
    return Min.apply(_unary_input(x, "min"), axis=axis, keepdims=keepdims)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``axis``, computed without overflow."""
    return LogSumExp.apply(_float_input(x, "logsumexp"), axis=axis, keepdims=keepdims)


def _one_axis(axis: int, ndim: int, op: str) -> int:
    if not isinstance(axis, int) or not -builtins.max(ndim, 1) <= axis < builtins.max(ndim, 1):
        raise ValueError(f"{op}: axis {axis!r} is out of range for a tensor with {ndim} dimensions")
    return axis % builtins.max(ndim, 1)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """e^x / sum(e^x) along ``axis``, shifted by the max so it never overflows."""
    x = _float_input(x, "softmax")
    return Softmax.apply(x, axis=_one_axis(axis, x.ndim, "softmax"))


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``: log-probabilities, stable for large logits."""
    x = _float_input(x, "log_softmax")
    return LogSoftmax.apply(x, axis=_one_axis(axis, x.ndim, "log_softmax"))


# --------------------------------------------------------------------------- shapes


def reshape(x: Any, *shape: Any) -> Tensor:
    """Same values in a new shape; one entry may be -1 (inferred)."""
    x = _unary_input(x, "reshape")
    shape = shape_args(shape)
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape=shape)


def transpose(x: Any, *axes: Any) -> Tensor:
    """Permute axes (reverse them when none are given; ``transpose(x, 0, 1)`` swaps two
    axes like PyTorch when exactly two are given for a tensor with more than 2 axes)."""
    x = _unary_input(x, "transpose")
    perm = shape_args(axes) if axes else None
    if perm is not None and len(perm) == 2 and x.ndim != 2:
        i, j = (_one_axis(a, x.ndim, "transpose") for a in perm)
        order = list(range(x.ndim))
        order[i], order[j] = order[j], order[i]
        perm = tuple(order)
    if perm is not None and len(perm) != x.ndim:
        raise ValueError(f"transpose: got {len(perm)} axes {perm} for a tensor with {x.ndim} dimensions (shape {x.shape})")
    return Transpose.apply(x, axes=perm)


def flatten(x: Any, start_axis: int = 0, end_axis: int = -1) -> Tensor:
    """Merge axes ``start_axis..end_axis`` into one (all of them by default)."""
    x = _unary_input(x, "flatten")
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _one_axis(start_axis, x.ndim, "flatten"), _one_axis(end_axis, x.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis}")
    merged = 1
    for n in x.shape[s:e + 1]:
        merged *= n
    return reshape(x, x.shape[:s] + (merged,) + x.shape[e + 1:])


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """Remove axes of size 1 (all of them, or only ``axis``)."""
    x = _unary_input(x, "squeeze")
    axes = normalize_axes(axis, x.ndim) if axis is not None else tuple(i for i, n in enumerate(x.shape) if n == 1)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} has size {x.shape[a]}, not 1 (shape {x.shape})")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def unsqueeze(x: Any, axis: int) -> Tensor:
    """Insert an axis of size 1 at position ``axis``."""
    x = _unary_input(x, "unsqueeze")
    axis = _one_axis(axis, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def broadcast_to(x: Any, *shape: Any) -> Tensor:
    """Copy ``x`` along new leading axes and size-1 axes to ``shape`` (a view)."""
    x = _unary_input(x, "broadcast_to")
    shape = shape_args(shape)
    if shape == x.shape:
        return x
    return BroadcastTo.apply(x, shape=shape)


expand = broadcast_to


def _same_device(tensors: Sequence[Any], op: str) -> list[Tensor]:
    if not tensors:
        raise ValueError(f"{op}: needs at least one tensor")
    ts = [_unary_input(t, op) for t in tensors]
    devices = {t.device for t in ts}
    if len(devices) > 1:
        raise RuntimeError(f"{op}: tensors are on different devices {sorted(devices)}")
    dtype = backend.result_type(*[t.dtype for t in ts])
    return [t.astype(dtype) for t in ts]


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    ts = _same_device(tensors, "concatenate")
    return Concatenate.apply(*ts, axis=_one_axis(axis, ts[0].ndim, "concatenate"))


cat = concatenate


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    ts = _same_device(tensors, "stack")
    return Stack.apply(*ts, axis=_one_axis(axis, ts[0].ndim + 1, "stack"))


def index_arrays(index: Any) -> Any:
    """Replace tensors and lists inside an index by arrays NumPy/CuPy understand."""
    if isinstance(index, tuple):
        return tuple(index_arrays(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return backend.np.asarray(index)
    return index


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]``: slices, ints, None, Ellipsis, integer arrays and boolean masks."""
    index = index_arrays(index)
    if _is_basic(index):
        return BasicGetItem.apply(x, index=index)
    xp = backend.array_module(x.data)
    if xp is not backend.np:  # indices must live on the tensor's device
        index = tuple(xp.asarray(i) if backend.is_backend_array(i) else i for i in index) \
            if isinstance(index, tuple) else xp.asarray(index)
    return GetItem.apply(x, index=index)


__all__ = [
    "add", "sub", "mul", "div", "pow", "neg", "matmul", "exp", "log", "sqrt", "abs", "tanh",
    "sigmoid", "relu", "leaky_relu", "clip", "clamp", "maximum", "minimum", "where", "sum",
    "mean", "var", "max", "min", "logsumexp", "softmax", "log_softmax", "reshape",
    "transpose", "flatten", "squeeze", "unsqueeze", "broadcast_to", "expand", "concatenate",
    "cat", "stack", "getitem", "compare", "Cast", "Clone", "ToDevice",
]
