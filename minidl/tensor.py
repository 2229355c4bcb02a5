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
from .ops.arithmetic import Add, Div, MatMul, Mul, Neg, Pow, Sub
from .ops.elementwise import (
    Abs, Cast, Clip, Clone, Exp, LeakyReLU, Log, ReLU, Sigmoid, Sqrt, Tanh, ToDevice,
)
from .ops.reduction import LogSoftmax, LogSumExp, Max, Mean, Min, Softmax, Sum, Var, normalize_axes
from .ops.shape import BasicGetItem, BroadcastTo, GetItem, Reshape, Transpose, is_basic_index

_SCALARS = (int, float, bool)


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

    @staticmethod
    def _make(data: Any, requires_grad: bool, creator: Function | None) -> "Tensor":
        """Fast constructor for op outputs: no validation, ``data`` is already an array.

        ``Function.apply`` builds every op's output with this, reached through its first
        input (so autograd never imports this module); it always makes a plain ``Tensor``,
        also when reached through a subclass such as ``nn.Parameter``.
        """
        t = object.__new__(Tensor)
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
        return self.transpose()

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
            return ToDevice.apply(self, device=device)
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
        return Cast.apply(self, dtype=dtype)

    def float(self) -> "Tensor":
        return self.astype(backend.float32)

    def double(self) -> "Tensor":
        return self.astype(backend.float64)

    def long(self) -> "Tensor":
        return self.astype(backend.int64)

    def clone(self) -> "Tensor":
        """A copy with its own memory, still connected to the graph."""
        return Clone.apply(self)

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
        self.data[index_arrays(index)] = self._operand_array(value)
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
    # Each operator brings its operands to one dtype and device (``binary_operands``, the
    # dtype rules above) and applies the op's Function from ``minidl/ops/``.

    def __add__(self, other: Any) -> "Tensor":
        return apply_binary(Add, self, other, "add")

    def __radd__(self, other: Any) -> "Tensor":
        return apply_binary(Add, other, self, "add")

    def __sub__(self, other: Any) -> "Tensor":
        return apply_binary(Sub, self, other, "sub")

    def __rsub__(self, other: Any) -> "Tensor":
        return apply_binary(Sub, other, self, "sub")

    def __mul__(self, other: Any) -> "Tensor":
        return apply_binary(Mul, self, other, "mul")

    def __rmul__(self, other: Any) -> "Tensor":
        return apply_binary(Mul, other, self, "mul")

    def __truediv__(self, other: Any) -> "Tensor":
        return true_divide(self, other)

    def __rtruediv__(self, other: Any) -> "Tensor":
        return true_divide(other, self)

    def __pow__(self, other: Any) -> "Tensor":
        return apply_binary(Pow, self, other, "pow")

    def __rpow__(self, other: Any) -> "Tensor":
        return apply_binary(Pow, other, self, "pow")

    def __matmul__(self, other: Any) -> "Tensor":
        return matrix_product(self, other)

    def __rmatmul__(self, other: Any) -> "Tensor":
        return matrix_product(other, self)

    def __neg__(self) -> "Tensor":
        return Neg.apply(self)

    def __pos__(self) -> "Tensor":
        return self

    def __abs__(self) -> "Tensor":
        return Abs.apply(self)

    def __getitem__(self, index: Any) -> "Tensor":
        """``x[index]``: slices, ints, None, Ellipsis, integer arrays and boolean masks."""
        index = index_arrays(index)
        if is_basic_index(index):
            return BasicGetItem.apply(self, index=index)
        xp = backend.array_module(self.data)
        if xp is not backend.np:  # indices must live on the tensor's device
            index = tuple(xp.asarray(i) if backend.is_backend_array(i) else i for i in index) \
                if isinstance(index, tuple) else xp.asarray(index)
        return GetItem.apply(self, index=index)

    # comparisons: values only, never differentiable
    def __lt__(self, other: Any) -> "Tensor":
        return compare("lt", self, other)

    def __le__(self, other: Any) -> "Tensor":
        return compare("le", self, other)

    def __gt__(self, other: Any) -> "Tensor":
        return compare("gt", self, other)

    def __ge__(self, other: Any) -> "Tensor":
        return compare("ge", self, other)

    def __eq__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return compare("eq", self, other)

    def __ne__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return compare("ne", self, other)

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
    # ``md.exp(x)`` (minidl/functional.py) is ``x.exp()``; the Function it applies, with its
    # forward and backward, is in ``minidl/ops/`` (here ``ops/elementwise.py``'s ``Exp``).

    def _as_float(self) -> "Tensor":
        """Inputs of transcendental ops: integers are converted to float32 (as PyTorch does)."""
        return self if self.data.dtype.kind == "f" else self.astype(backend.float32)

    def exp(self) -> "Tensor":
        """e^x."""
        return Exp.apply(self._as_float())

    def log(self) -> "Tensor":
        """Natural logarithm."""
        return Log.apply(self._as_float())

    def sqrt(self) -> "Tensor":
        """Square root."""
        return Sqrt.apply(self._as_float())

    def abs(self) -> "Tensor":
        """|x| (gradient 0 at 0)."""
        return Abs.apply(self)

    def tanh(self) -> "Tensor":
        """Hyperbolic tangent."""
        return Tanh.apply(self._as_float())

    def sigmoid(self) -> "Tensor":
        """Logistic sigmoid 1 / (1 + e^-x), overflow-free."""
        return Sigmoid.apply(self._as_float())

    def relu(self) -> "Tensor":
        """max(0, x) (gradient 0 at 0)."""
        return ReLU.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> "Tensor":
        """x for x > 0, negative_slope * x otherwise."""
        return LeakyReLU.apply(self._as_float(), negative_slope=float(negative_slope))

    def clip(self, min: float | None = None, max: float | None = None) -> "Tensor":
        """Limit values to [min, max] (either bound may be None)."""
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        if min is not None and max is not None and min > max:
            raise ValueError(f"clip: min ({min}) must not exceed max ({max})")
        return Clip.apply(self, lo=min, hi=max)

    clamp = clip

    def sum(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        """Sum over ``axis`` (int, tuple, or None for all)."""
        return Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        """Mean over ``axis``."""
        return Mean.apply(self._as_float(), axis=axis, keepdims=keepdims)

    def var(self, axis: Any = None, keepdims: bool = False, correction: int = 1) -> "Tensor":
        """Variance over ``axis``, dividing by n - correction (1: unbiased, PyTorch's default;
        0 for NumPy's)."""
        return Var.apply(self._as_float(), axis=axis, keepdims=keepdims, correction=correction)

    def std(self, axis: Any = None, keepdims: bool = False, correction: int = 1) -> "Tensor":
        """sqrt of ``var``."""
        return self.var(axis, keepdims, correction).sqrt()

    def max(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        """Maximum over ``axis`` (gradient split evenly among tied maxima)."""
        return Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        """Minimum over ``axis`` (gradient split evenly among tied minima)."""
        return Min.apply(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis: int | None = None) -> "Tensor":
        return Tensor._make(self.data.argmax(axis=axis), False, None)

    def argmin(self, axis: int | None = None) -> "Tensor":
        return Tensor._make(self.data.argmin(axis=axis), False, None)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        """log(sum(exp(x))) over ``axis``, computed without overflow."""
        return LogSumExp.apply(self._as_float(), axis=axis, keepdims=keepdims)

    def softmax(self, axis: int = -1) -> "Tensor":
        """e^x / sum(e^x) along ``axis``, shifted by the max so it never overflows."""
        x = self._as_float()
        return Softmax.apply(x, axis=one_axis(axis, x.ndim, "softmax"))

    def log_softmax(self, axis: int = -1) -> "Tensor":
        """x - logsumexp(x) along ``axis``: log-probabilities, stable for large logits."""
        x = self._as_float()
        return LogSoftmax.apply(x, axis=one_axis(axis, x.ndim, "log_softmax"))

    # ------------------------------------------------------------------ shapes

    def reshape(self, *shape: Any) -> "Tensor":
        """Same values in a new shape; one entry may be -1 (inferred)."""
        new_shape = shape_args(shape)
        if new_shape == self.shape:
            return self
        return Reshape.apply(self, shape=new_shape)

    view = reshape

    def transpose(self, *axes: Any) -> "Tensor":
        """Permute axes (reverse them when none are given; ``x.transpose(0, 1)`` swaps two
        axes like PyTorch when exactly two are given for a tensor with more than 2 axes)."""
        perm = shape_args(axes) if axes else None
        if perm is not None and len(perm) == 2 and self.ndim != 2:
            i, j = (one_axis(a, self.ndim, "transpose") for a in perm)
            order = list(range(self.ndim))
            order[i], order[j] = order[j], order[i]
            perm = tuple(order)
        if perm is not None and len(perm) != self.ndim:
            raise ValueError(f"transpose: got {len(perm)} axes {perm} for a tensor with {self.ndim} dimensions "
                             f"(shape {self.shape})")
        return Transpose.apply(self, axes=perm)

    def permute(self, *axes: int) -> "Tensor":
        return self.transpose(*axes)

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> "Tensor":
        """Merge axes ``start_axis..end_axis`` into one (all of them by default)."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = one_axis(start_axis, self.ndim, "flatten"), one_axis(end_axis, self.ndim, "flatten")
        if s > e:
            raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis}")
        merged = 1
        for n in self.shape[s:e + 1]:
            merged *= n
        return self.reshape(self.shape[:s] + (merged,) + self.shape[e + 1:])

    def squeeze(self, axis: Any = None) -> "Tensor":
        """Remove axes of size 1 (all of them, or only ``axis``)."""
        shape = self.shape
        axes = normalize_axes(axis, self.ndim) if axis is not None else tuple(i for i, n in enumerate(shape) if n == 1)
        for a in axes:
            if shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} has size {shape[a]}, not 1 (shape {shape})")
        return self.reshape(tuple(n for i, n in enumerate(shape) if i not in axes))

    def unsqueeze(self, axis: int) -> "Tensor":
        """Insert an axis of size 1 at position ``axis``."""
        axis = one_axis(axis, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def broadcast_to(self, *shape: Any) -> "Tensor":
        """Copy along new leading axes and size-1 axes to ``shape`` (a view)."""
        new_shape = shape_args(shape)
        if new_shape == self.shape:
            return self
        return BroadcastTo.apply(self, shape=new_shape)

    expand = broadcast_to

    def matmul(self, other: Any) -> "Tensor":
        """self @ other with NumPy's rules (1-D vectors, batched stacks)."""
        return matrix_product(self, other)

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


# ---------------------------------------------------------------------- dtype promotion
# The dtype rules of the module docstring, implemented: every binary op and every public
# function with two operands goes through ``binary_operands``.


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
        global _last_constant
        last = _last_constant
        if last is not None and last[0] is value and last[1] is dtype:  # (the value object itself)
            return last[2]
        constant = Tensor._make(backend.np.asarray(value, dtype=dtype), False, None)
        if type(value) is float or type(value) is int:
            _last_constant = (value, dtype, constant)
        return constant
    return Tensor._make(backend.array_module(like.data).asarray(value, dtype=dtype), False, None)


#: The last Python-number constant made on the CPU, reused while the same number object and
#: dtype come again (``y = y * c`` in a loop): one constant tensor instead of one per op, so
#: long graphs hold fewer objects for the garbage collector to scan. Safe to share: a
#: constant never requires grad and nothing changes it in place. (value, dtype, tensor)
_last_constant: tuple[Any, Any, Tensor] | None = None


def _is_scalar_like(x: Any) -> bool:
    """Python/NumPy scalars and 0-d arrays: they take the other operand's dtype."""
    if isinstance(x, _SCALARS) or isinstance(x, backend.np.generic):
        return True
    return backend.is_backend_array(x) and x.ndim == 0


def binary_operands(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """``a`` and ``b`` as tensors of one dtype on one device (the dtype rules above)."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.data.dtype is b.data.dtype or a.data.dtype == b.data.dtype:
            if type(a.data) is not type(b.data) and a.device != b.device:
                raise RuntimeError(f"{op}: operands are on different devices ({a.device} and {b.device}); move one with .to()")
            return a, b
        return _promote(a, b, op)
    if isinstance(a, Tensor):
        other = _constant(b, a) if _is_scalar_like(b) else _wrap(b, a, op)
        return (a, other) if other.dtype == a.dtype else (a.astype(other.dtype), other)
    if isinstance(b, Tensor):
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


def as_input(x: Any, op: str) -> Tensor:
    """A public function's tensor argument: tensors as they are; arrays, numbers and lists
    wrapped (by the dtype rules above); anything else is a ``TypeError`` naming ``op``."""
    if isinstance(x, Tensor):
        return x
    if backend.is_backend_array(x) or isinstance(x, (list, tuple, *_SCALARS)):
        return Tensor(x)
    raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")


def require_tensor(value: Any, name: str, op: str) -> Tensor:
    """``value`` itself if it is a Tensor, else a TypeError naming ``op`` and ``name``.

    Layers take tensors only (as in PyTorch): a list or None is refused at once, instead of
    failing later inside the op with an AttributeError.
    """
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__} "
                        "(make one with md.tensor(data))")
    return value


def check_broadcast(op: str, *shapes: tuple) -> None:
    """Raise a ``ValueError`` naming ``op`` when ``shapes`` do not broadcast together."""
    try:
        backend.np.broadcast_shapes(*shapes)
    except ValueError:
        listed = ", ".join(str(s) for s in shapes[:-1]) + f" and {shapes[-1]}"
        raise ValueError(f"{op}: shapes {listed} cannot be broadcast together") from None


def apply_binary(cls: type[Function], a: Any, b: Any, op: str) -> Tensor:
    """``cls`` applied to ``a`` and ``b`` after promotion (and a clear broadcasting error)."""
    a, b = binary_operands(a, b, op)
    if a.shape != b.shape and a.ndim and b.ndim:
        check_broadcast(op, a.shape, b.shape)
    return cls.apply(a, b)


def true_divide(a: Any, b: Any) -> Tensor:
    """a / b (true division; integer tensors give float32)."""
    a, b = binary_operands(a, b, "div")
    if a.dtype.kind != "f":
        a, b = a.astype(backend.float32), b.astype(backend.float32)
    if a.shape != b.shape and a.ndim and b.ndim:
        check_broadcast("div", a.shape, b.shape)
    return Div.apply(a, b)


def matrix_product(a: Any, b: Any) -> Tensor:
    """a @ b with NumPy's rules (1-D vectors, batched stacks)."""
    a, b = binary_operands(a, b, "matmul")
    return MatMul.apply(a, b)


def compare(kind: str, a: Any, b: Any) -> Tensor:
    """Element-wise comparison (``kind`` is "lt", "le", "gt", "ge", "eq" or "ne"): a boolean
    tensor, never differentiable."""
    a, b = binary_operands(a, b, kind)
    xp = backend.array_module(a.data)
    fn = {"lt": xp.less, "le": xp.less_equal, "gt": xp.greater, "ge": xp.greater_equal,
          "eq": xp.equal, "ne": xp.not_equal}[kind]
    return Tensor._make(fn(a.data, b.data), False, None)


def one_axis(axis: int, ndim: int, op: str) -> int:
    """``axis`` as an index in [0, ndim) (negative counts from the end), or a ``ValueError``."""
    bound = ndim if ndim > 1 else 1
    if not isinstance(axis, int) or not -bound <= axis < bound:
        raise ValueError(f"{op}: axis {axis!r} is out of range for a tensor with {ndim} dimensions")
    return axis % bound


def index_arrays(index: Any) -> Any:
    """Replace tensors and lists inside an index by arrays NumPy/CuPy understand."""
    if isinstance(index, tuple):
        return tuple(index_arrays(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return backend.np.asarray(index)
    return index
