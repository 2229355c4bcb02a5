"""``Tensor``: an array plus the bookkeeping autograd needs.

A tensor holds

* ``data``: the values, a NumPy (CPU) or CuPy (GPU) array;
* ``requires_grad``: whether gradients should flow to it;
* ``grad``: after ``backward()``, the gradient of the loss w.r.t. this tensor, an array of
  the same shape and dtype (only leaves keep it, unless ``retain_grad()`` was called);
* the ``Function`` that created it (``None`` for leaves), through which backward runs.

Dtype rules (written down once, tested in tests/test_tensor.py)
----------------------------------------------------------------
* ``md.tensor(1.5)`` and lists of Python floats give **float32**; Python ints give int64;
  bools give bool. A NumPy/CuPy array keeps its dtype (as ``torch.from_numpy`` does).
* Tensor with Python scalar, NumPy scalar or 0-d array: the **tensor's dtype wins**
  (``f32 * np.float64(2)`` stays float32; NumPy alone would give float64). An integer
  tensor with a float scalar gives float32.
* Tensor with tensor: NumPy's promotion (float32 with float64 gives float64), except that a
  0-d tensor does not promote a tensor with dimensions of the same kind (PyTorch's rule).
* Gradients always have the dtype of their tensor.
"""

from __future__ import annotations

import weakref
from typing import Any, Iterator, Sequence

from . import autograd, backend
from .autograd import Function, VersionCounter, run_backward

Number = (int, float, bool)


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __slots__ = ("data", "grad", "requires_grad", "_creator", "_vc", "__weakref__")

    # Make NumPy defer to Tensor's operators: ``np.float64(2) * t`` calls ``t.__rmul__``
    # instead of converting ``t`` to an array and silently dropping the graph.
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, device: str | None = None) -> None:
        array = _to_array(data, dtype, device)
        if requires_grad and not backend.is_float_dtype(array.dtype):
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {array.dtype}; "
                "pass dtype=md.float32 (or md.float64)"
            )
        self.data = array
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._creator: Function | None = None
        self._vc: VersionCounter | None = None  # made on first use: see _version

    @classmethod
    def _make(cls, data: Any, requires_grad: bool, creator: Function | None) -> "Tensor":
        """Fast constructor for op outputs: no validation, ``data`` is already an array."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = requires_grad
        t._creator = creator
        t._vc = None
        return t

    @property
    def _version(self) -> VersionCounter:
        """The counter of in-place changes of this tensor's memory (shared with its views).

        Created on first use: most tensors are never changed in place nor viewed, and a
        tensor without a counter is at version 0. Keeping the graph free of one counter
        object per tensor makes every op cheaper and gives the garbage collector less to
        scan in deep graphs.
        """
        counter = self._vc
        if counter is None:
            counter = self._vc = VersionCounter()
        return counter

    @_version.setter
    def _version(self, counter: VersionCounter) -> None:
        self._vc = counter

    # ------------------------------------------------------------------ properties

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def device(self) -> str:
        """``"cpu"`` or ``"cuda:N"``."""
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded op (inputs and parameters)."""
        return self._creator is None

    @property
    def grad_fn(self) -> Function | None:
        """The op that made this tensor (``None`` for leaves)."""
        return self._creator

    @property
    def T(self) -> "Tensor":
        """All axes reversed (the matrix transpose for 2-D)."""
        return ops.transpose(self)

    def size(self, axis: int | None = None) -> Any:
        return self.shape if axis is None else self.shape[axis]

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # ------------------------------------------------------------------ autograd

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Compute the gradient of this tensor w.r.t. every leaf that requires grad.

        ``grad`` is d(something)/d(self); it defaults to 1 for a single-element tensor.
        Leaves *accumulate* into ``.grad``; call ``zero_grad`` between steps.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad and has no graph: it was "
                "computed under md.no_grad() or only from tensors with requires_grad=False"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without grad= needs a single-element tensor, got shape "
                    f"{self.shape}; reduce it first (e.g. .sum() or .mean()) or pass "
                    "grad=<array of the same shape>"
                )
            xp = backend.array_module(self.data)
            grad = xp.ones(self.shape, dtype=self.dtype)
        else:
            if isinstance(grad, Tensor):
                grad = grad.data
            if not backend.is_backend_array(grad):
                grad = backend.array_module(self.data).asarray(grad, dtype=self.dtype)
            if backend.device_of(grad) != self.device:
                raise RuntimeError(f"backward(): grad is on {backend.device_of(grad)} but the tensor is on {self.device}")
            if grad.shape != self.shape:
                raise RuntimeError(f"backward(): grad has shape {grad.shape}, expected the tensor's shape {self.shape}")
            if grad.dtype != self.dtype:
                grad = grad.astype(self.dtype)
        run_backward(self, grad, retain_graph)

    def retain_grad(self) -> "Tensor":
        """Keep ``.grad`` on this non-leaf tensor after backward (for inspecting layers)."""
        if self._creator is not None:
            self._creator._retained = weakref.ref(self)
        elif not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        return self

    def detach(self) -> "Tensor":
        """The same values (shared memory) cut from the graph: no grad flows through it."""
        t = Tensor._make(self.data, False, None)
        t._version = self._version
        return t

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` on a leaf in place; returns ``self``."""
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor; use .detach()")
        if requires_grad and not backend.is_float_dtype(self.dtype):
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def zero_grad(self) -> None:
        self.grad = None

    # ------------------------------------------------------------------ conversion

    def numpy(self) -> Any:
        """The values as a NumPy array (copied from the GPU if needed; shared on the CPU)."""
        return backend.to_numpy(self.data)

    def item(self) -> Any:
        """The single value as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a single-element tensor, got shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def to(self, target: Any) -> "Tensor":
        """Move to a device (``"cpu"``, ``"cuda"``) or cast to a dtype; differentiable."""
        if isinstance(target, str) and not _is_dtype_name(target):
            device = backend.normalize_device(target)
            if device == self.device:
                return self
            return ops.ToDevice.apply(self, device=device)
        return self.astype(target)

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self) -> "Tensor":
        return self.to("cuda")

    def astype(self, dtype: Any) -> "Tensor":
        """Cast to ``dtype`` (differentiable between float dtypes)."""
        dtype = backend.as_dtype(dtype)
        if dtype == self.dtype:
            return self
        return ops.Cast.apply(self, dtype=dtype)

    def float(self) -> "Tensor":
        return self.astype(backend.float32)

    def double(self) -> "Tensor":
        return self.astype(backend.float64)

    def long(self) -> "Tensor":
        return self.astype(backend.int64)

    def clone(self) -> "Tensor":
        """A copy with its own memory, still connected to the graph."""
        return ops.Clone.apply(self)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        """Let ``np.asarray(t)`` and matplotlib read CPU tensors (values only, no graph)."""
        if self.device != "cpu":
            raise TypeError(f"cannot convert a tensor on {self.device} to NumPy implicitly; call .numpy()")
        return self.data if dtype is None else self.data.astype(dtype)

    # ------------------------------------------------------------------ in-place changes

    def _check_inplace(self, op: str) -> None:
        if autograd.is_grad_enabled() and self.requires_grad:
            kind = "a leaf tensor" if self.is_leaf else "a tensor in the graph"
            raise RuntimeError(
                f"in-place {op} on {kind} that requires grad (shape {self.shape}) would hide "
                "the change from autograd; do it inside `with md.no_grad():` (as optimizers "
                "do) or use the out-of-place op"
            )

    def _bump(self) -> "Tensor":
        self._version.value += 1
        return self

    def _operand_array(self, other: Any) -> Any:
        data = other.data if isinstance(other, Tensor) else other
        if backend.is_backend_array(data) and backend.device_of(data) != self.device:
            raise RuntimeError(f"in-place op: operand is on {backend.device_of(data)} but the tensor is on {self.device}")
        return data

    def add_(self, other: Any, alpha: float = 1.0) -> "Tensor":
        """``self += alpha * other`` in place."""
        self._check_inplace("add_")
        other = self._operand_array(other)
        if alpha == 1:
            self.data += other
        else:
            self.data += alpha * other
        return self._bump()

    def sub_(self, other: Any, alpha: float = 1.0) -> "Tensor":
        """``self -= alpha * other`` in place."""
        return self.add_(other, alpha=-alpha)

    def mul_(self, other: Any) -> "Tensor":
        self._check_inplace("mul_")
        self.data *= self._operand_array(other)
        return self._bump()

    def div_(self, other: Any) -> "Tensor":
        self._check_inplace("div_")
        self.data /= self._operand_array(other)
        return self._bump()

    def copy_(self, src: Any) -> "Tensor":
        """Overwrite the values with ``src`` (broadcast to this shape, cast to this dtype)."""
        self._check_inplace("copy_")
        xp = backend.array_module(self.data)
        xp.copyto(self.data, xp.asarray(self._operand_array(src)), casting="unsafe")
        return self._bump()

    def fill_(self, value: float) -> "Tensor":
        self._check_inplace("fill_")
        self.data.fill(value)
        return self._bump()

    def zero_(self) -> "Tensor":
        return self.fill_(0)

    def clamp_(self, min: float | None = None, max: float | None = None) -> "Tensor":
        self._check_inplace("clamp_")
        backend.array_module(self.data).clip(self.data, min, max, out=self.data)
        return self._bump()

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace("item assignment")
        self.data[ops.index_arrays(index)] = self._operand_array(value)
        self._bump()

    def __iadd__(self, other: Any) -> "Tensor":
        return self.add_(other)

    def __isub__(self, other: Any) -> "Tensor":
        return self.sub_(other)

    def __imul__(self, other: Any) -> "Tensor":
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> "Tensor":
        return self.div_(other)

    # ------------------------------------------------------------------ operators

    def __add__(self, other: Any) -> "Tensor":
        return ops.add(self, other)

    def __radd__(self, other: Any) -> "Tensor":
        return ops.add(other, self)

    def __sub__(self, other: Any) -> "Tensor":
        return ops.sub(self, other)

    def __rsub__(self, other: Any) -> "Tensor":
        return ops.sub(other, self)

    def __mul__(self, other: Any) -> "Tensor":
        return ops.mul(self, other)

    def __rmul__(self, other: Any) -> "Tensor":
        return ops.mul(other, self)

    def __truediv__(self, other: Any) -> "Tensor":
        return ops.div(self, other)

    def __rtruediv__(self, other: Any) -> "Tensor":
        return ops.div(other, self)

    def __pow__(self, other: Any) -> "Tensor":
        return ops.pow(self, other)

    def __rpow__(self, other: Any) -> "Tensor":
        return ops.pow(other, self)

    def __matmul__(self, other: Any) -> "Tensor":
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> "Tensor":
        return ops.matmul(other, self)

    def __neg__(self) -> "Tensor":
        return ops.neg(self)

    def __pos__(self) -> "Tensor":
        return self

    def __abs__(self) -> "Tensor":
        return ops.abs(self)

    def __getitem__(self, index: Any) -> "Tensor":
        return ops.getitem(self, index)

    # comparisons: values only, never differentiable
    def __lt__(self, other: Any) -> "Tensor":
        return ops.compare("lt", self, other)

    def __le__(self, other: Any) -> "Tensor":
        return ops.compare("le", self, other)

    def __gt__(self, other: Any) -> "Tensor":
        return ops.compare("gt", self, other)

    def __ge__(self, other: Any) -> "Tensor":
        return ops.compare("ge", self, other)

    def __eq__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return ops.compare("eq", self, other)

    def __ne__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return ops.compare("ne", self, other)

    __hash__ = object.__hash__  # tensors hash by identity (usable in sets and dicts)

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __iter__(self) -> Iterator["Tensor"]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def any(self) -> bool:
        return bool(self.data.any())

    def all(self) -> bool:
        return bool(self.data.all())

    # ------------------------------------------------------------------ math methods

    def exp(self) -> "Tensor":
        return ops.exp(self)

    def log(self) -> "Tensor":
        return ops.log(self)

    def sqrt(self) -> "Tensor":
        return ops.sqrt(self)

    def abs(self) -> "Tensor":
        return ops.abs(self)

    def tanh(self) -> "Tensor":
        return ops.tanh(self)

    def sigmoid(self) -> "Tensor":
        return ops.sigmoid(self)

    def relu(self) -> "Tensor":
        return ops.relu(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> "Tensor":
        return ops.leaky_relu(self, negative_slope)

    def clip(self, min: float | None = None, max: float | None = None) -> "Tensor":
        return ops.clip(self, min, max)

    clamp = clip

    def sum(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        return ops.sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        return ops.mean(self, axis, keepdims)

    def var(self, axis: Any = None, keepdims: bool = False, correction: int = 1) -> "Tensor":
        """Variance; ``correction=1`` (unbiased, PyTorch's default), 0 for NumPy's."""
        return ops.var(self, axis, keepdims, correction)

    def std(self, axis: Any = None, keepdims: bool = False, correction: int = 1) -> "Tensor":
        return ops.sqrt(ops.var(self, axis, keepdims, correction))

    def max(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        return ops.max(self, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        return ops.min(self, axis, keepdims)

    def argmax(self, axis: int | None = None) -> "Tensor":
        return Tensor._make(self.data.argmax(axis=axis), False, None)

    def argmin(self, axis: int | None = None) -> "Tensor":
        return Tensor._make(self.data.argmin(axis=axis), False, None)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        return ops.logsumexp(self, axis, keepdims)

    def softmax(self, axis: int = -1) -> "Tensor":
        return ops.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> "Tensor":
        return ops.log_softmax(self, axis)

    def reshape(self, *shape: Any) -> "Tensor":
        return ops.reshape(self, *shape)

    view = reshape

    def transpose(self, *axes: Any) -> "Tensor":
        return ops.transpose(self, *axes)

    def permute(self, *axes: int) -> "Tensor":
        return ops.transpose(self, *axes)

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> "Tensor":
        return ops.flatten(self, start_axis, end_axis)

    def squeeze(self, axis: Any = None) -> "Tensor":
        return ops.squeeze(self, axis)

    def unsqueeze(self, axis: int) -> "Tensor":
        return ops.unsqueeze(self, axis)

    def broadcast_to(self, *shape: Any) -> "Tensor":
        return ops.broadcast_to(self, *shape)

    expand = broadcast_to

    def matmul(self, other: Any) -> "Tensor":
        return ops.matmul(self, other)

    # ------------------------------------------------------------------ printing

    def __repr__(self) -> str:
        body = backend.array_repr(self.data, prefix="tensor(")
        extras = []
        if self.dtype not in (backend.float32, backend.int64, backend.bool_):
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self._creator is not None:
            extras.append(f"grad_fn=<{self._creator.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"


# ---------------------------------------------------------------------- conversion helpers


def _to_array(data: Any, dtype: Any = None, device: str | None = None) -> Any:
    """Turn Python data, arrays or tensors into a backend array (see the dtype rules above)."""
    if isinstance(data, Tensor):
        data = data.data
    dtype = None if dtype is None else backend.as_dtype(dtype)
    if backend.is_backend_array(data):
        array = data if device is None else backend.to_device(data, device)
        if dtype is not None and array.dtype != dtype:
            array = array.astype(dtype)
        return array
    xp = backend.module_for_device(device)
    if dtype is None:
        dtype = _python_dtype(data)
    try:
        array = xp.asarray(backend.np.asarray(data, dtype=dtype) if xp is not backend.np else data, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot make a tensor from {type(data).__name__}: {exc}") from exc
    if array.dtype.kind not in "biuf":
        raise TypeError(f"cannot make a tensor of dtype {array.dtype} from {type(data).__name__}; expected numbers")
    return array


def _python_dtype(data: Any) -> Any:
    """The dtype PyTorch would give Python data: floats -> float32, ints -> int64, bools -> bool."""
    probe = backend.np.asarray(data)
    kind = probe.dtype.kind
    if kind == "f":
        # NumPy scalars/arrays nested in lists keep float64 in NumPy; Python floats are float32 here
        return backend.float32 if not isinstance(data, backend.np.generic) else probe.dtype
    if kind in "iu":
        return backend.int64 if not isinstance(data, backend.np.generic) else probe.dtype
    if kind == "b":
        return backend.bool_
    raise TypeError(f"cannot make a tensor from {type(data).__name__} holding {probe.dtype}; expected numbers")


SUPPORTED_DTYPES = "bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, float32, float64"


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: str | None = None) -> Tensor:
    """Make a leaf tensor from Python numbers/lists, a NumPy/CuPy array or another tensor.

    ``md.tensor([[1., 2.]])`` is float32, ``md.tensor([1, 2])`` is int64; arrays keep their
    dtype; ``dtype=`` overrides. The data is copied (like ``torch.tensor``). Only numeric
    and bool dtypes (``SUPPORTED_DTYPES``) are accepted: strings, objects, dates and complex
    numbers are refused at once.
    """
    for source, what in ((getattr(data, "dtype", None), f"{type(data).__name__} of dtype"), (dtype, "dtype=")):
        if source is not None and backend.as_dtype(source).kind not in "biuf":
            raise TypeError(f"md.tensor: cannot make a tensor from {what} {backend.as_dtype(source)}; "
                            f"supported dtypes: {SUPPORTED_DTYPES}")
    try:
        t = Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)
    except TypeError as exc:
        if not str(exc).startswith("cannot make a tensor"):
            raise
        raise TypeError(f"md.tensor: {exc}; supported dtypes: {SUPPORTED_DTYPES}") from None
    if t.data is data or (isinstance(data, Tensor) and t.data is data.data):
        t.data = t.data.copy()
    return t


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """Wrap without copying when possible (a backend array of the right dtype is shared)."""
    if isinstance(data, Tensor) and (dtype is None or backend.as_dtype(dtype) == data.dtype):
        return data
    return Tensor(data, dtype=dtype)


def _is_dtype_name(name: str) -> bool:
    try:
        backend.as_dtype(name)
    except TypeError:
        return False
    return True


def shape_args(shape: Sequence[Any]) -> tuple:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike, as PyTorch does. Sizes must be integers
    (Python or NumPy ints): ``zeros(2.5, 3)`` is refused, not rounded; so are bools."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    sizes = []
    for n in shape:
        try:
            if isinstance(n, bool):
                raise TypeError
            sizes.append(n.__index__())  # ints and NumPy ints; floats have no __index__
        except (TypeError, AttributeError):
            raise TypeError(f"sizes must be integers, got {n!r} ({type(n).__name__}) in {tuple(shape)!r}") from None
    return tuple(sizes)


autograd._make_tensor = Tensor._make  # Function.apply builds its outputs with this

from . import ops  # noqa: E402  (ops needs Tensor defined first)
