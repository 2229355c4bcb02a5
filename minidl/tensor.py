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

A floating tensor with a plain Python int or float (``x * 2.5``, ``x + 1``, ``x - 1``) is
recorded as a "wrapped number" op, as in PyTorch: ``MulScalar``/``AddScalar``/``SubScalar``
keep the number on the node instead of making a 0-d constant tensor for it (same values;
one graph object fewer per op).
"""

from __future__ import annotations

import builtins
import functools
import inspect
import math
import numbers
import weakref
from typing import Any, Callable, Iterator, NamedTuple, ParamSpec, Sequence, TypeVar

from . import autograd, backend
from ._checks import is_count
from .autograd import Function, RemovableHandle, VersionCounter, run_backward
from .ops.arithmetic import (
    Add,
    AddScalar,
    Div,
    FloorDivide,
    MatMul,
    Mul,
    MulScalar,
    Neg,
    Pow,
    Remainder,
    Sub,
    SubScalar,
)
from .ops.elementwise import (
    Abs,
    Cast,
    Clip,
    Clone,
    Exp,
    Expm1,
    LeakyReLU,
    Log,
    Log1p,
    Maximum,
    Minimum,
    ReLU,
    Sigmoid,
    Sqrt,
    Tanh,
    ToDevice,
    Where,
)
from .ops.indexing import Flip, Gather, MaskedFill, Repeat, Roll, ScatterAdd, Triangle
from .ops.numeric import Ceil, Cos, Cumprod, Cumsum, Floor, Norm, Prod, Round, Sign, Sin
from .ops.ordering import sort_indices
from .ops.reduction import LogSoftmax, LogSumExp, Max, Mean, Min, Softmax, Std, Sum, Var, normalize_axes
from .ops.shape import BasicGetItem, BroadcastTo, GetItem, Reshape, Transpose, is_basic_index

_SCALARS = (int, float, bool)

# ---------------------------------------------------------------------- PyTorch's and NumPy's names

#: NumPy's spelling -> PyTorch's, for the same argument. Every function and method that takes
#: one of PyTorch's names (``dim``, ``keepdim``, ...) accepts NumPy's too, through ``dim_aliases``.
NUMPY_ALIASES = {"axis": "dim", "keepdims": "keepdim", "axes": "dims", "start_axis": "start_dim", "end_axis": "end_dim"}

_P = ParamSpec("_P")
_R = TypeVar("_R")


def dim_aliases(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorator: ``fn``, written with PyTorch's names (``dim``, ``keepdim``, ``dims``,
    ``start_dim``, ``end_dim``), also accepts NumPy's (``axis``, ``keepdims``, ``axes``,
    ``start_axis``, ``end_axis``) as keywords: ``x.sum(axis=1, keepdims=True)`` is
    ``x.sum(dim=1, keepdim=True)``. One argument given under both names is a ``TypeError``.
    The signature (``help``, ``inspect.signature``) shows PyTorch's names only, and so does the
    static type: the wrapper is typed as ``fn`` itself, which keeps mypy checking every call's
    keywords (a typo such as ``kepdim=`` is caught) at the price of
    mypy not knowing the NumPy aliases. That is a choice: the aliases are a run-time courtesy.
    """
    params = inspect.signature(fn).parameters
    positional = [name for name, p in params.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    # (numpy name, torch name, how many positional arguments reach the torch name) for the names fn has
    pairs = [(np_name, pt_name, positional.index(pt_name) if pt_name in positional else 1 << 30)
             for np_name, pt_name in NUMPY_ALIASES.items() if pt_name in params]
    if not pairs:
        raise TypeError(f"dim_aliases: {fn.__qualname__} has none of the parameters {sorted(NUMPY_ALIASES.values())}")
    name = fn.__qualname__

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            for np_name, pt_name, position in pairs:
                if np_name in kwargs:
                    if pt_name in kwargs or len(args) > position:
                        raise TypeError(f"{name}() got {pt_name}= and its NumPy alias {np_name}= together; "
                                        f"pass one of them")
                    kwargs[pt_name] = kwargs.pop(np_name)
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class ValuesIndices(NamedTuple):
    """``(values, indices)``, what ``t.max(dim)`` and ``t.min(dim)`` return (``torch.return_types``):
    ``values, indices = t.max(dim=1)`` or ``t.max(dim=1).values``."""

    values: "Tensor"
    indices: "Tensor"


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __slots__ = ("data", "grad", "requires_grad", "_creator", "_vc", "_hooks", "__weakref__")

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
        self.grad: Any = None  # a backend array of data's shape and dtype once backward reaches it
        self.requires_grad = bool(requires_grad)
        self._creator: Function | None = None
        self._vc: VersionCounter | None = None  # made on first use: see _version
        self._hooks: dict | None = None  # a leaf's gradient hooks (register_hook)

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
        t._vc = None  # (no _hooks: op outputs keep theirs on the creator; read with getattr)
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
        """All dims reversed (the matrix transpose for 2-D)."""
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> "Tensor":
        """The last two dims swapped: the transpose of each matrix in a batch (..., n, m) -> (..., m, n)."""
        if self.ndim < 2:
            raise ValueError(f"mT needs a matrix or a batch of matrices (2 or more dims), got shape {self.shape}")
        return self.transpose(-2, -1)

    @dim_aliases
    def size(self, dim: int | None = None) -> Any:
        """The shape (a tuple), or the size of ``dim``."""
        return self.shape if dim is None else self.shape[one_axis(dim, self.ndim, "size")]

    def dim(self) -> int:
        """The number of dims (``ndim``)."""
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # ------------------------------------------------------------------ autograd

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Compute the gradient of this tensor w.r.t. every leaf that requires grad.

        ``gradient`` is d(something)/d(self), of this tensor's shape; it defaults to 1 for a
        single-element tensor. Leaves *accumulate* into ``.grad``; call ``zero_grad`` between steps.
        """
        grad = gradient
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad and has no graph: it was "
                "computed under md.no_grad() or only from tensors with requires_grad=False"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without gradient= needs a single-element tensor, got shape "
                    f"{self.shape}; reduce it first (e.g. .sum() or .mean()) or pass "
                    "gradient=<array of the same shape>"
                )
            xp = backend.array_module(self.data)
            grad = xp.ones(self.shape, dtype=self.dtype)
        else:
            if isinstance(grad, Tensor):
                grad = grad.data
            if not backend.is_backend_array(grad):
                grad = backend.array_module(self.data).asarray(grad, dtype=self.dtype)
            if backend.device_of(grad) != self.device:
                raise RuntimeError(f"backward(): gradient is on {backend.device_of(grad)} but the tensor is on "
                                   f"{self.device}")
            if grad.shape != self.shape:
                raise RuntimeError(f"backward(): gradient has shape {grad.shape}, expected the tensor's shape "
                                   f"{self.shape}")
            if grad.dtype != self.dtype:
                grad = grad.astype(self.dtype)
        run_backward(self, grad, retain_graph)

    def register_hook(self, hook: Callable[["Tensor"], Any]) -> RemovableHandle:
        """Call ``hook(grad)`` in every backward with this tensor's gradient (a Tensor), before
        it flows on (an op's output) or is added to ``.grad`` (a leaf: once, with the sum over
        all its uses). A hook that returns a Tensor replaces the gradient; ``None`` keeps it.
        Returns a handle: ``handle.remove()`` takes the hook off. PyTorch's
        ``Tensor.register_hook``: ``h.register_hook(lambda g: print(g.norm()))`` watches the
        gradient reaching ``h``; ``lambda g: g.clamp(-1, 1)`` clips it."""
        if not callable(hook):
            raise TypeError(f"register_hook: hook must be callable, got {type(hook).__name__}")
        if not self.requires_grad:
            raise RuntimeError("register_hook: this tensor does not require grad, so no gradient will reach it; "
                               "make it with requires_grad=True (or call .requires_grad_())")
        owner: Any = self if self._creator is None else self._creator
        if getattr(owner, "_hooks", None) is None:
            owner._hooks = {}
        handle = RemovableHandle(owner._hooks)
        owner._hooks[handle.id] = hook
        return handle

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

    def contiguous(self) -> "Tensor":
        """This tensor if its memory is C-ordered (row-major, no gaps), else a C-ordered copy."""
        return self if self.data.flags.c_contiguous else Clone.apply(self)

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
            raise RuntimeError(f"in-place op: operand is on {backend.device_of(data)} but the tensor is on "
                               f"{self.device}")
        return data

    def add_(self, other: Any, alpha: builtins.float = 1) -> "Tensor":
        """``self += alpha * other`` in place."""
        self._check_inplace("add_")
        other = self._operand_array(other)
        if alpha == 1:
            self.data += other
        else:
            self.data += alpha * other
        return self._bump()

    def sub_(self, other: Any, alpha: builtins.float = 1) -> "Tensor":
        """``self -= alpha * other`` in place (an integer tensor stays integer: ``t -= 1``)."""
        self._check_inplace("sub_")
        other = self._operand_array(other)
        if alpha == 1:
            self.data -= other
        else:
            self.data -= alpha * other
        return self._bump()

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

    def fill_(self, value: builtins.float) -> "Tensor":
        self._check_inplace("fill_")
        self.data.fill(value)
        return self._bump()

    def zero_(self) -> "Tensor":
        return self.fill_(0)

    def clamp_(self, min: builtins.float | None = None, max: builtins.float | None = None) -> "Tensor":
        self._check_inplace("clamp_")
        backend.array_module(self.data).clip(self.data, min, max, out=self.data)
        return self._bump()

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace("item assignment")
        index = index_arrays(index)
        ints_first = split_int_index(index)
        if ints_first is None:
            self.data[index] = self._operand_array(value)
        else:  # into the view the ints select (as __getitem__ reads)
            self.data[ints_first[0]][ints_first[1]] = self._operand_array(value)
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
        if _wraps_number(self, other):
            return AddScalar.apply(self, c=other)
        return apply_binary(Add, self, other, "add")

    def __radd__(self, other: Any) -> "Tensor":
        if _wraps_number(self, other):
            return AddScalar.apply(self, c=other)  # c + x == x + c, exactly
        return apply_binary(Add, other, self, "add")

    def __sub__(self, other: Any) -> "Tensor":
        if _wraps_number(self, other):
            return SubScalar.apply(self, c=other)
        return apply_binary(Sub, self, other, "sub")

    def __rsub__(self, other: Any) -> "Tensor":
        return apply_binary(Sub, other, self, "sub")

    def __mul__(self, other: Any) -> "Tensor":
        if _wraps_number(self, other):
            return MulScalar.apply(self, c=other)
        return apply_binary(Mul, self, other, "mul")

    def __rmul__(self, other: Any) -> "Tensor":
        if _wraps_number(self, other):
            return MulScalar.apply(self, c=other)  # c * x == x * c, exactly
        return apply_binary(Mul, other, self, "mul")

    def __truediv__(self, other: Any) -> "Tensor":
        return true_divide(self, other)

    def __rtruediv__(self, other: Any) -> "Tensor":
        return true_divide(other, self)

    def __floordiv__(self, other: Any) -> "Tensor":
        return apply_binary(FloorDivide, self, other, "floor_divide")

    def __rfloordiv__(self, other: Any) -> "Tensor":
        return apply_binary(FloorDivide, other, self, "floor_divide")

    def __mod__(self, other: Any) -> "Tensor":
        return apply_binary(Remainder, self, other, "remainder")

    def __rmod__(self, other: Any) -> "Tensor":
        return apply_binary(Remainder, other, self, "remainder")

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
        """``x[index]``: slices, ints, None, Ellipsis, integer arrays and boolean masks, with
        PyTorch's meaning where ints and index arrays mix (see ``split_int_index``)."""
        index = index_arrays(index)
        if is_basic_index(index):
            return BasicGetItem.apply(self, index=index)
        ints_first = split_int_index(index)
        if ints_first is not None:
            return self[ints_first[0]][ints_first[1]]
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

    def __float__(self) -> builtins.float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __iter__(self) -> Iterator["Tensor"]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    @dim_aliases
    def any(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        """True where any entry over ``dim`` (all dims by default) is nonzero: a bool tensor
        (``if t.any():`` works, through ``__bool__``)."""
        axes = normalize_axes(dim, self.ndim)
        return Tensor._make(self.data.astype(backend.bool_).any(axis=axes, keepdims=keepdim), False, None)

    @dim_aliases
    def all(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        """True where every entry over ``dim`` (all dims by default) is nonzero: a bool tensor."""
        axes = normalize_axes(dim, self.ndim)
        return Tensor._make(self.data.astype(backend.bool_).all(axis=axes, keepdims=keepdim), False, None)

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

    def leaky_relu(self, negative_slope: builtins.float = 0.01) -> "Tensor":
        """x for x > 0, negative_slope * x otherwise."""
        return LeakyReLU.apply(self._as_float(), negative_slope=float(negative_slope))

    def clip(self, min: builtins.float | None = None, max: builtins.float | None = None) -> "Tensor":
        """Limit values to [min, max] (either bound may be None). With min > max every value
        becomes max, as in PyTorch (min(max(x, min), max))."""
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        lo, hi = _python_number(min, "clip", "min"), _python_number(max, "clip", "max")
        fractional = isinstance(lo, builtins.float) or isinstance(hi, builtins.float)
        x = self._as_float() if fractional and self.dtype.kind in "iu" else self  # int with 0.5: float32, as torch
        return Clip.apply(x, lo=lo, hi=hi)

    clamp = clip

    def clamp_min(self, min: builtins.float) -> "Tensor":
        """max(x, min): ``clamp(min=min)``."""
        return self.clip(min=min)

    def clamp_max(self, max: builtins.float) -> "Tensor":
        """min(x, max): ``clamp(max=max)``."""
        return self.clip(max=max)

    def log1p(self) -> "Tensor":
        """ln(1 + x), accurate for tiny x (``ops/elementwise.py``'s ``Log1p``)."""
        return Log1p.apply(self._as_float())

    def expm1(self) -> "Tensor":
        """e^x - 1, accurate for tiny x (``Expm1``)."""
        return Expm1.apply(self._as_float())

    def log2(self) -> "Tensor":
        """log2 x = ln x / ln 2."""
        return self.log() / math.log(2.0)

    def log10(self) -> "Tensor":
        """log10 x = ln x / ln 10."""
        return self.log() / math.log(10.0)

    def square(self) -> "Tensor":
        """x * x (integers stay integers, as in PyTorch); the gradient is 2x."""
        return self * self

    def reciprocal(self) -> "Tensor":
        """1 / x (integer tensors give float32)."""
        return true_divide(1, self)

    def rsqrt(self) -> "Tensor":
        """1 / sqrt(x)."""
        return self.sqrt().reciprocal()

    def maximum(self, other: Any) -> "Tensor":
        """Element-wise max with ``other`` (``md.maximum``)."""
        return apply_binary(Maximum, self, other, "maximum")

    def minimum(self, other: Any) -> "Tensor":
        """Element-wise min with ``other`` (``md.minimum``)."""
        return apply_binary(Minimum, self, other, "minimum")

    def where(self, condition: Any, other: Any) -> "Tensor":
        """This tensor where ``condition`` is true, else ``other`` (``md.where(condition, self, other)``)."""
        return where_values(condition, self, other)

    def nan_to_num(self, nan: builtins.float = 0.0, posinf: builtins.float | None = None,
                   neginf: builtins.float | None = None) -> "Tensor":
        """NaN -> ``nan``, +inf -> ``posinf`` and -inf -> ``neginf`` (by default the dtype's
        largest and smallest finite values, as PyTorch); the gradient passes where a value is
        kept and is 0 where one was replaced."""
        if self.dtype.kind != "f":
            return self.clone()
        info = backend.np.finfo(self.dtype)
        high = info.max if posinf is None else posinf
        low = info.min if neginf is None else neginf
        data = self.data
        xp = backend.array_module(data)
        out = self.where(~xp.isnan(data), nan)
        out = out.where(~(xp.isinf(data) & (data > 0)), float(high))
        return out.where(~(xp.isinf(data) & (data < 0)), float(low))

    # not differentiable: boolean answers about each value
    def isnan(self) -> "Tensor":
        """True where the value is NaN."""
        return Tensor._make(backend.array_module(self.data).isnan(self.data), False, None)

    def isinf(self) -> "Tensor":
        """True where the value is +inf or -inf."""
        return Tensor._make(backend.array_module(self.data).isinf(self.data), False, None)

    def isfinite(self) -> "Tensor":
        """True where the value is neither NaN nor infinite."""
        return Tensor._make(backend.array_module(self.data).isfinite(self.data), False, None)

    def isclose(self, other: Any, rtol: builtins.float = 1e-5, atol: builtins.float = 1e-8,
                equal_nan: bool = False) -> "Tensor":
        """True where |x - other| <= atol + rtol * |other| (``torch.isclose``; broadcasting)."""
        a, b = binary_operands(self, other, "isclose")
        xp = backend.array_module(a.data)
        return Tensor._make(xp.isclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan), False, None)

    def allclose(self, other: Any, rtol: builtins.float = 1e-5, atol: builtins.float = 1e-8,
                 equal_nan: bool = False) -> bool:
        """Whether every value is close to ``other`` (``isclose(...).all()``), as a Python bool."""
        return bool(self.isclose(other, rtol, atol, equal_nan).all())

    def equal(self, other: "Tensor") -> bool:
        """Whether ``other`` has the same shape and the same values (``torch.equal``)."""
        other = require_tensor(other, "other", "equal")
        return self.shape == other.shape and bool((self == other).all())

    # ------------------------------------------------------------------ PyTorch's method names
    # for operators: ``x.add(y)`` is ``x + y``, so its gradient is the operator's.

    def add(self, other: Any, *, alpha: Any = 1) -> "Tensor":
        """self + alpha * other (``torch.add``)."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, *, alpha: Any = 1) -> "Tensor":
        """self - alpha * other (``torch.sub``)."""
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other: Any) -> "Tensor":
        """self * other."""
        return self * other

    def div(self, other: Any) -> "Tensor":
        """self / other (true division)."""
        return self / other

    def neg(self) -> "Tensor":
        """-self."""
        return -self

    negative = neg
    multiply, divide, subtract = mul, div, sub

    def floor_divide(self, other: Any) -> "Tensor":
        """self // other: floor(self / other); not differentiable (as in PyTorch)."""
        return self // other

    def remainder(self, other: Any) -> "Tensor":
        """self % other, with the sign of ``other`` (Python's and PyTorch's rule)."""
        return self % other

    def eq(self, other: Any) -> "Tensor":
        """self == other, element-wise (bool)."""
        return compare("eq", self, other)

    def ne(self, other: Any) -> "Tensor":
        """self != other, element-wise (bool)."""
        return compare("ne", self, other)

    def lt(self, other: Any) -> "Tensor":
        """self < other, element-wise (bool)."""
        return compare("lt", self, other)

    def le(self, other: Any) -> "Tensor":
        """self <= other, element-wise (bool)."""
        return compare("le", self, other)

    def gt(self, other: Any) -> "Tensor":
        """self > other, element-wise (bool)."""
        return compare("gt", self, other)

    def ge(self, other: Any) -> "Tensor":
        """self >= other, element-wise (bool)."""
        return compare("ge", self, other)

    def mm(self, mat2: Any) -> "Tensor":
        """Matrix product of two 2-D tensors (``torch.mm``: no broadcasting, no vectors)."""
        _require_ndims("mm", (self, 2), (mat2, 2))
        return matrix_product(self, mat2)

    def bmm(self, mat2: Any) -> "Tensor":
        """Batched matrix product: (b, n, m) @ (b, m, p) -> (b, n, p) (``torch.bmm``)."""
        _require_ndims("bmm", (self, 3), (mat2, 3))
        if self.shape[0] != mat2.shape[0]:
            raise ValueError(f"bmm: batch sizes differ: {self.shape} and {mat2.shape}")
        return matrix_product(self, mat2)

    def dot(self, other: Any) -> "Tensor":
        """sum_i x_i y_i of two 1-D tensors of the same length (a 0-d tensor)."""
        _require_ndims("dot", (self, 1), (other, 1))
        if self.shape != other.shape:
            raise ValueError(f"dot: the vectors have different lengths: {self.shape} and {other.shape}")
        return matrix_product(self, other)

    def outer(self, vec2: Any) -> "Tensor":
        """(n,) and (m,) -> (n, m) with entries x_i y_j."""
        _require_ndims("outer", (self, 1), (vec2, 1))
        return self.reshape(-1, 1) * vec2.reshape(1, -1)

    def pow(self, exponent: Any) -> "Tensor":
        """self ** exponent (broadcasting)."""
        return apply_binary(Pow, self, exponent, "pow")

    # Reductions take PyTorch's ``dim`` (an int, a tuple of ints, or None for all dims) and
    # ``keepdim`` (keep the reduced dims with size 1), or NumPy's ``axis``/``keepdims``.

    @dim_aliases
    def sum(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        """Sum over ``dim`` (int, tuple, or None for all)."""
        return Sum.apply(self, axis=dim, keepdims=keepdim)

    @dim_aliases
    def mean(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        """Mean over ``dim``."""
        return Mean.apply(self._as_float(), axis=dim, keepdims=keepdim)

    @dim_aliases
    def var(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: int | None = None) -> "Tensor":
        """Variance over ``dim``, dividing by n - correction (1: unbiased, PyTorch's default;
        0 for NumPy's). PyTorch's two spellings: ``correction=`` or the older ``unbiased``
        (the second positional argument, as in ``x.var(0, False)``)."""
        return Var.apply(self._as_float(), axis=dim, keepdims=keepdim, correction=_correction(unbiased, correction))

    @dim_aliases
    def std(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: int | None = None) -> "Tensor":
        """sqrt of ``var`` (same arguments); the gradient is 0 where the result is 0."""
        return Std.apply(self._as_float(), axis=dim, keepdims=keepdim, correction=_correction(unbiased, correction))

    @dim_aliases
    def amax(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        """Maximum over ``dim`` (int, tuple, or None for all). The gradient is split evenly among
        tied maxima; where the maximum is NaN it goes to the NaN entries."""
        return Max.apply(self, axis=dim, keepdims=keepdim)

    @dim_aliases
    def amin(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        """Minimum over ``dim`` (int, tuple, or None for all); gradient as ``amax``."""
        return Min.apply(self, axis=dim, keepdims=keepdim)

    @dim_aliases
    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """PyTorch's three ``max``:

        * ``t.max()``: the largest value, a 0-d tensor (gradient as ``amax``);
        * ``t.max(dim)``: ``(values, indices)`` along one dim (a ``ValuesIndices`` named tuple);
          the gradient goes to the entry at ``indices`` (the first maximum; a NaN counts as
          the maximum);
        * ``t.max(other)``: the element-wise maximum with a tensor (``md.maximum``).
        """
        if isinstance(dim, Tensor):
            return apply_binary(Maximum, self, dim, "max")
        if dim is None:
            return Max.apply(self, axis=None, keepdims=keepdim)
        indices = self._arg("argmax", dim, True, caller="max")
        return ValuesIndices(self._pick(indices, dim, keepdim), indices if keepdim else indices.squeeze(dim))

    @dim_aliases
    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        """PyTorch's three ``min``: ``t.min()``, ``t.min(dim) -> (values, indices)`` and
        ``t.min(other)`` (see ``max``)."""
        if isinstance(dim, Tensor):
            return apply_binary(Minimum, self, dim, "min")
        if dim is None:
            return Min.apply(self, axis=None, keepdims=keepdim)
        indices = self._arg("argmin", dim, True, caller="min")
        return ValuesIndices(self._pick(indices, dim, keepdim), indices if keepdim else indices.squeeze(dim))

    def _pick(self, indices: "Tensor", dim: int, keepdim: bool) -> "Tensor":
        """The entries at ``indices`` along ``dim`` (``indices`` has this shape with size 1 at
        ``dim``), as a differentiable op: the gradient goes back to exactly those entries."""
        if self.ndim == 0:
            return self
        xp = backend.array_module(self.data)
        d = one_axis(dim, self.ndim, "max")
        index = tuple(indices.data if a == d else xp.arange(n).reshape((-1,) + (1,) * (self.ndim - a - 1))
                      for a, n in enumerate(self.shape))
        picked = GetItem.apply(self, index=index)
        return picked if keepdim else picked.squeeze(d)

    @dim_aliases
    def argmax(self, dim: int | None = None, keepdim: bool = False) -> "Tensor":
        """The index of the largest value along ``dim`` (of the flattened tensor for None; the
        first one at ties; a NaN counts as the largest), int64, never differentiable."""
        return self._arg("argmax", dim, keepdim)

    @dim_aliases
    def argmin(self, dim: int | None = None, keepdim: bool = False) -> "Tensor":
        """The index of the smallest value along ``dim`` (see ``argmax``)."""
        return self._arg("argmin", dim, keepdim)

    def _arg(self, op: str, dim: int | None, keepdim: bool, caller: str | None = None) -> "Tensor":
        """argmax/argmin; ``caller`` names the public op in errors (``max(dim)`` uses argmax)."""
        if self.data.size == 0 and (dim is None or self.shape[one_axis(dim, self.ndim, op)] == 0):
            where = "every dim" if dim is None else f"dim {dim}"
            raise ValueError(f"{caller or op}() over {where} of an empty tensor (shape {self.shape})")
        if dim is None or self.ndim == 0:
            if dim is not None:
                one_axis(dim, 0, op)
            index = getattr(self.data.reshape(-1), op)()
            shape = (1,) * self.ndim if keepdim else ()
        else:
            d = one_axis(dim, self.ndim, op)
            index = getattr(self.data, op)(axis=d)
            shape = self.shape[:d] + (1,) * keepdim + self.shape[d + 1:]
        return Tensor._make(index.astype(backend.int64, copy=False).reshape(shape), False, None)

    @dim_aliases
    def logsumexp(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        """log(sum(exp(x))) over ``dim``, computed without overflow."""
        return LogSumExp.apply(self._as_float(), axis=dim, keepdims=keepdim)

    @dim_aliases
    def softmax(self, dim: int = -1) -> "Tensor":
        """e^x / sum(e^x) along ``dim``, shifted by the max so it never overflows."""
        x = self._as_float()
        return Softmax.apply(x, axis=one_axis(dim, x.ndim, "softmax"))

    @dim_aliases
    def log_softmax(self, dim: int = -1) -> "Tensor":
        """x - logsumexp(x) along ``dim``: log-probabilities, stable for large logits."""
        x = self._as_float()
        return LogSoftmax.apply(x, axis=one_axis(dim, x.ndim, "log_softmax"))

    # ------------------------------------------------------------------ shapes

    def reshape(self, *shape: Any) -> "Tensor":
        """Same values in a new shape; one entry may be -1 (inferred)."""
        new_shape = shape_args(shape)
        if new_shape == self.shape:
            return self
        return Reshape.apply(self, shape=new_shape)

    view = reshape

    def view_as(self, other: "Tensor") -> "Tensor":
        """``reshape`` to ``other``'s shape."""
        return self.reshape(require_tensor(other, "other", "view_as").shape)

    reshape_as = view_as

    def expand_as(self, other: "Tensor") -> "Tensor":
        """``expand`` (broadcast, no copy) to ``other``'s shape."""
        return self.expand(require_tensor(other, "other", "expand_as").shape)

    def type_as(self, other: "Tensor") -> "Tensor":
        """This tensor in ``other``'s dtype (``astype``; the gradient comes back in this dtype)."""
        return self.astype(require_tensor(other, "other", "type_as").dtype)

    @dim_aliases
    def select(self, dim: int, index: int) -> "Tensor":
        """The slice at ``index`` along ``dim``, that dimension removed (``x.select(1, 0)`` is
        ``x[:, 0]``)."""
        axis = one_axis(dim, self.ndim, "select")
        n = self.shape[axis]
        if not is_count(index, -n) or index >= n:
            raise IndexError(f"select: index {index!r} is out of range for dim {dim} of size {n}")
        return self[(slice(None),) * axis + (index,)]

    @dim_aliases
    def unbind(self, dim: int = 0) -> tuple["Tensor", ...]:
        """Every slice along ``dim``, that dimension removed: ``(x.select(dim, 0), ...)``."""
        axis = one_axis(dim, self.ndim, "unbind")
        return tuple(self.select(axis, i) for i in range(self.shape[axis]))

    def new_zeros(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        """Zeros of ``size`` with this tensor's dtype and device (or ``dtype``)."""
        return self.new_full(shape_args(size), 0, dtype=dtype, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        """Ones of ``size`` with this tensor's dtype and device (or ``dtype``)."""
        return self.new_full(shape_args(size), 1, dtype=dtype, requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        """``fill_value`` everywhere, of ``size``, with this tensor's dtype and device."""
        xp = backend.array_module(self.data)
        dtype = self.dtype if dtype is None else backend.as_dtype(dtype)
        return Tensor(xp.full(shape_args((size,)), fill_value, dtype=dtype), requires_grad=requires_grad)

    def new_tensor(self, data: Any, *, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        """``md.tensor(data)`` with this tensor's dtype and device (or ``dtype``)."""
        return tensor(data, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad,
                      device=self.device)

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        """The indices of the nonzero entries: an int64 tensor (count, ndim), one row each in
        row-major order, or with ``as_tuple`` one int64 tensor per dimension (for indexing)."""
        xp = backend.array_module(self.data)
        rows = xp.argwhere(self.data).astype(backend.int64)
        if as_tuple:
            return tuple(Tensor._make(rows[:, d], False, None) for d in range(rows.shape[1]))
        return Tensor._make(rows, False, None)

    @dim_aliases
    def count_nonzero(self, dim: Any = None) -> "Tensor":
        """How many entries over ``dim`` (all by default) are nonzero: int64."""
        xp = backend.array_module(self.data)
        counted = xp.count_nonzero(self.data, axis=normalize_axes(dim, self.ndim))
        return Tensor._make(xp.asarray(counted, dtype=backend.int64), False, None)

    def nelement(self) -> int:
        """The number of entries (``numel``)."""
        return self.numel()

    def transpose(self, dim0: int, dim1: int) -> "Tensor":
        """Swap dims ``dim0`` and ``dim1`` (PyTorch's ``transpose``, at every rank: on a matrix
        ``x.transpose(0, 1)`` is ``x.T``). To reorder all dims use ``permute``."""
        i, j = one_axis(dim0, self.ndim, "transpose"), one_axis(dim1, self.ndim, "transpose")
        order = list(range(self.ndim))
        if order:  # (a 0-d tensor takes dims 0 and -1 and stays as it is)
            order[i], order[j] = order[j], order[i]
        return Transpose.apply(self, axes=tuple(order))

    swapaxes = swapdims = transpose

    def movedim(self, source: Any, destination: Any) -> "Tensor":
        """Move dim(s) ``source`` to position(s) ``destination``, the others keeping their order
        (``x.movedim(0, -1)`` puts the first dim last). A ``permute`` underneath."""
        src = [source] if isinstance(source, int) else list(source)
        dst = [destination] if isinstance(destination, int) else list(destination)
        if len(src) != len(dst):
            raise ValueError(f"movedim: source {source!r} and destination {destination!r} name different numbers "
                             "of dims")
        src = [one_axis(d, self.ndim, "movedim") for d in src]
        dst = [one_axis(d, self.ndim, "movedim") for d in dst]
        if len(set(src)) != len(src) or len(set(dst)) != len(dst):
            raise ValueError(f"movedim: repeated dim in source {source!r} or destination {destination!r}")
        rest = iter(d for d in range(self.ndim) if d not in src)
        placed = dict(zip(dst, src))
        return self.permute([placed[i] if i in placed else next(rest) for i in range(self.ndim)])

    moveaxis = movedim

    @dim_aliases
    def narrow(self, dim: int, start: int, length: int) -> "Tensor":
        """The entries ``start .. start + length - 1`` along ``dim`` (a view, as ``x[:, 2:5]``)."""
        axis = one_axis(dim, self.ndim, "narrow")
        n = self.shape[axis]
        start = start + n if is_count(start, -n) and start < 0 else start
        if not is_count(start, 0) or not is_count(length, 0) or start + length > n:
            raise IndexError(f"narrow: start {start!r} and length {length!r} do not fit in dim {dim} of size {n}")
        return self[(slice(None),) * axis + (slice(start, start + length),)]

    @dim_aliases
    def unflatten(self, dim: int, sizes: Sequence[int]) -> "Tensor":
        """Split dim ``dim`` into ``sizes`` (one may be -1): the inverse of ``flatten``."""
        axis = one_axis(dim, self.ndim, "unflatten")
        return self.reshape(self.shape[:axis] + tuple(sizes) + self.shape[axis + 1:])

    @dim_aliases
    def index_select(self, dim: int, index: "Tensor") -> "Tensor":
        """The slices at the int64 positions ``index`` (1-D) along ``dim``, in that order
        (repeats allowed: their gradients add up)."""
        axis = one_axis(dim, self.ndim, "index_select")
        positions = index.data if isinstance(index, Tensor) else index
        if not backend.is_backend_array(positions) or positions.ndim > 1 or positions.dtype.kind not in "iu":
            raise TypeError(f"index_select: index must be a 1-D integer tensor, got {index!r:.60}")
        return self[(slice(None),) * axis + (Tensor._make(positions.reshape(-1), False, None),)]

    def masked_select(self, mask: "Tensor") -> "Tensor":
        """The entries where the boolean ``mask`` (broadcast with this tensor) is true, as 1-D."""
        m = require_tensor(mask, "mask", "masked_select")
        if m.dtype != backend.bool_:
            raise TypeError(f"masked_select: mask must be a bool tensor, got dtype {m.dtype}")
        check_broadcast("masked_select", self.shape, m.shape)
        shape = backend.np.broadcast_shapes(self.shape, m.shape)
        return self.expand(shape)[m.expand(shape)]

    @dim_aliases
    def diff(self, n: int = 1, dim: int = -1) -> "Tensor":
        """Differences of neighbours along ``dim``, ``n`` times: x[1:] - x[:-1]."""
        if not is_count(n, 0):
            raise ValueError(f"diff: n must be an int >= 0, got {n!r}")
        axis = one_axis(dim, self.ndim, "diff")
        out = self
        for _ in range(n):
            lead = (slice(None),) * axis
            out = out[lead + (slice(1, None),)] - out[lead + (slice(None, -1),)]
        return out

    @dim_aliases
    def permute(self, *args: Any, dims: Any = None) -> "Tensor":
        """Reorder all dims: ``y = x.permute(2, 0, 1)`` has ``y.shape[i] == x.shape[dims[i]]``.
        The dims must name every dim once (``x.permute((2, 0, 1))``, ``x.permute(dims=...)`` too)."""
        if dims is not None and args:
            raise TypeError("permute() got the dims both positionally and as dims=; pass them once")
        order = shape_args(args if dims is None else (dims,))
        if len(order) != self.ndim or sorted(a % max(self.ndim, 1) for a in order) != list(range(self.ndim)) \
                or not all(-self.ndim <= a < self.ndim for a in order):
            raise ValueError(f"permute: dims {order} must name each of the {self.ndim} dims of shape {self.shape} "
                             "exactly once (to swap two dims use transpose(dim0, dim1))")
        return Transpose.apply(self, axes=tuple(a % self.ndim for a in order))

    def t(self) -> "Tensor":
        """The matrix transpose of a tensor with at most 2 dims (0-d and 1-D come back unchanged)."""
        if self.ndim > 2:
            raise ValueError(f"t() needs at most 2 dims, got shape {self.shape}; use transpose(dim0, dim1) or mT")
        return self.transpose(0, 1) if self.ndim == 2 else self

    @dim_aliases
    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        """Merge dims ``start_dim..end_dim`` into one (all of them by default)."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = one_axis(start_dim, self.ndim, "flatten"), one_axis(end_dim, self.ndim, "flatten")
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        merged = 1
        for n in self.shape[s:e + 1]:
            merged *= n
        return self.reshape(self.shape[:s] + (merged,) + self.shape[e + 1:])

    @dim_aliases
    def squeeze(self, dim: Any = None) -> "Tensor":
        """Remove dims of size 1: all of them, or those of ``dim`` (an int or a tuple) that have
        size 1 (a named dim of another size stays, as in PyTorch)."""
        shape = self.shape
        dims = range(self.ndim) if dim is None else normalize_axes(dim, self.ndim)
        gone = {d for d in dims if shape[d] == 1}
        if not gone:
            return self
        return self.reshape(tuple(n for i, n in enumerate(shape) if i not in gone))

    @dim_aliases
    def unsqueeze(self, dim: int) -> "Tensor":
        """Insert a dim of size 1 at position ``dim`` (in [-ndim - 1, ndim])."""
        d = one_axis(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def broadcast_to(self, *shape: Any) -> "Tensor":
        """Copy along new leading axes and size-1 axes to ``shape`` (a view)."""
        new_shape = shape_args(shape)
        if new_shape == self.shape:
            return self
        return BroadcastTo.apply(self, shape=new_shape)

    def expand(self, *sizes: Any) -> "Tensor":
        """``broadcast_to``, with PyTorch's -1 for "keep this dim's size" (``x.expand(-1, 4)``
        on a (3, 1) tensor gives (3, 4)); -1 cannot be used for a new leading dim."""
        shape = shape_args(sizes)
        extra = len(shape) - self.ndim
        if -1 in shape and extra >= 0:  # (fewer sizes than dims: broadcast_to says so)
            if -1 in shape[:extra]:
                raise ValueError(f"expand: -1 (keep the size) is only allowed for existing dims; "
                                 f"got sizes {shape} for a tensor of shape {self.shape}")
            shape = tuple(self.shape[i - extra] if n == -1 else n for i, n in enumerate(shape))
        return self.broadcast_to(shape)

    def sum_to_size(self, *size: Any) -> "Tensor":
        """The sum that undoes broadcasting to this shape: summed over the leading dims that
        ``size`` lacks, and with keepdim over each dim where ``size`` has 1 and this tensor
        does not (``x.sum_to_size(1, 4)`` of a (2, 3, 4) tensor sums dims 0 and 1). ``size``
        must broadcast to this tensor's shape; the gradient is the upstream one broadcast back."""
        shape = shape_args(size)
        extra = self.ndim - len(shape)
        if extra < 0 or any(n not in (1, m) for n, m in zip(shape, self.shape[extra:])):
            raise ValueError(f"sum_to_size: size {shape} is not expandable to this tensor's shape {self.shape}")
        out = self.sum(dim=tuple(range(extra))) if extra else self
        kept = tuple(i for i, n in enumerate(shape) if n == 1 and out.shape[i] != 1)
        return out.sum(dim=kept, keepdim=True) if kept else out

    def matmul(self, other: Any) -> "Tensor":
        """self @ other with NumPy's rules (1-D vectors, batched stacks)."""
        return matrix_product(self, other)

    # ------------------------------------------------------------------ math, ordering, indexing
    # PyTorch's names and keywords (``dim=``, ``keepdim=``, ``descending=`` ...). The Functions
    # are in ``ops/numeric.py``, ``ops/ordering.py`` and ``ops/indexing.py``; the same
    # operations as functions (``md.sort(x)``) are in ``minidl/functional.py``.

    def sin(self) -> "Tensor":
        """sin x (integers become float32)."""
        return Sin.apply(self._as_float())

    def cos(self) -> "Tensor":
        """cos x (integers become float32)."""
        return Cos.apply(self._as_float())

    def sign(self) -> "Tensor":
        """-1, 0 or 1 (gradient 0)."""
        return Sign.apply(self)

    def floor(self) -> "Tensor":
        """The largest integer <= x (gradient 0; integer tensors unchanged)."""
        return Floor.apply(self)

    def ceil(self) -> "Tensor":
        """The smallest integer >= x (gradient 0; integer tensors unchanged)."""
        return Ceil.apply(self)

    def round(self, decimals: int = 0) -> "Tensor":
        """Round to ``decimals`` places, halves to even as PyTorch (gradient 0)."""
        if isinstance(decimals, bool) or not isinstance(decimals, int):
            raise TypeError(f"round: decimals must be an int, got {decimals!r}")
        return Round.apply(self, decimals=decimals)

    @dim_aliases
    def prod(self, dim: Any = None, keepdim: bool = False) -> "Tensor":
        """Product over ``dim`` (None: all); the gradient is right with zeros in the input."""
        return Prod.apply(self, axis=_dims(dim, self.ndim, "prod"), keepdims=bool(keepdim))

    def _cumulative(self, op: type[Function], dim: int, name: str) -> "Tensor":
        """``op`` (Cumsum, Cumprod) along ``dim``; a 0-d tensor is its own running sum or product."""
        axis = one_axis(dim, self.ndim, name)
        if self.ndim == 0:
            return op.apply(self.reshape(1), axis=0).reshape(())
        return op.apply(self, axis=axis)

    @dim_aliases
    def cumsum(self, dim: int) -> "Tensor":
        """Running sum along ``dim``: y_i = x_0 + ... + x_i."""
        return self._cumulative(Cumsum, dim, "cumsum")

    @dim_aliases
    def cumprod(self, dim: int) -> "Tensor":
        """Running product along ``dim``: y_i = x_0 * ... * x_i; the gradient is right with
        zeros in the input (see ``ops.numeric.Cumprod``)."""
        return self._cumulative(Cumprod, dim, "cumprod")

    @dim_aliases
    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> "Tensor":
        """The vector p-norm over ``dim`` (None: all entries, the Frobenius norm for p=2 or
        "fro"); p = 1, 2, "fro", inf or any p >= 1. Gradient 0 where the norm is 0."""
        if p == "fro":
            p = 2
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not p >= 1:
            raise ValueError(f"norm: p must be 'fro', inf or a number >= 1, got {p!r}")
        x = self._as_float()
        return Norm.apply(x, p=float(p), axis=_dims(dim, x.ndim, "norm"), keepdims=bool(keepdim))

    @dim_aliases
    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> "ValuesIndices":
        """``(values, indices)`` sorted along ``dim``; always stable (equal values keep their
        order, whatever ``stable`` says), NaN counted largest. Values carry gradients."""
        if self.ndim == 0:
            one_axis(dim, 0, "sort")
            zero = backend.array_module(self.data).zeros((), dtype=backend.int64)
            return ValuesIndices(self.clone(), Tensor._make(zero, False, None))
        axis = one_axis(dim, self.ndim, "sort")
        index = sort_indices(self.data, axis, bool(descending))
        return ValuesIndices(Gather.apply(self, index=index, dim=axis), Tensor._make(index, False, None))

    @dim_aliases
    def median(self, dim: Any = None, keepdim: bool = False) -> Any:
        """The *lower* median, as PyTorch's: of an even count the smaller of the two middle
        values (NumPy's ``median`` averages them). Without ``dim``, a 0-d tensor over all the
        entries; with ``dim``, ``(values, indices)`` along it. The gradient goes to the entry
        picked (the earliest of equal ones, by the stable sort)."""
        if dim is None:
            return self.reshape(-1).median(0).values
        if self.ndim == 0:
            one_axis(dim, 0, "median")
            zero = backend.array_module(self.data).zeros((), dtype=backend.int64)
            return ValuesIndices(self.clone(), Tensor._make(zero, False, None))
        axis = one_axis(dim, self.ndim, "median")
        n = self.shape[axis]
        if n == 0:
            raise ValueError(f"median: dim {dim} of shape {self.shape} is empty, so it has no median")
        xp = backend.array_module(self.data)
        pick = xp.take(sort_indices(self.data, axis, False), [(n - 1) // 2], axis=axis)  # the lower middle
        values = Gather.apply(self, index=pick, dim=axis)
        if not keepdim:
            values, pick = values.squeeze(axis), pick.squeeze(axis)
        return ValuesIndices(values, Tensor._make(pick, False, None))

    @dim_aliases
    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> "Tensor":
        """The indices ``sort`` would return (stable)."""
        return self.sort(dim, descending, stable).indices

    @dim_aliases
    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> "ValuesIndices":
        """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) entries
        along ``dim``, best first (also with ``sorted=False``). Among equal values the earliest
        entries win. Values carry gradients."""
        n = self.shape[one_axis(dim, self.ndim, "topk")] if self.ndim else 1
        if not is_count(k, 0) or k > n:
            raise ValueError(f"topk: k must be an int in [0, {n}] for dim {dim} of shape {self.shape}, got {k!r}")
        if self.ndim == 0:  # one entry: as a 1-element tensor, then back to 0-d when k = 1
            v, i = self.reshape(1).topk(k, 0, largest, sorted)
            return ValuesIndices(v.reshape(()), i.reshape(())) if k else ValuesIndices(v, i)
        axis = one_axis(dim, self.ndim, "topk")
        index = sort_indices(self.data, axis, bool(largest))[(slice(None),) * axis + (slice(0, k),)]
        return ValuesIndices(Gather.apply(self, index=index, dim=axis), Tensor._make(index, False, None))

    @dim_aliases
    def flip(self, *args: Any, dims: Any = None) -> "Tensor":
        """Reverse the order of entries along ``dims`` (``x.flip(0)``, ``x.flip(0, 1)``,
        ``x.flip((0, 1))``, ``x.flip(dims=(0, 1))``)."""
        if args and dims is not None:
            raise TypeError("flip() got its dims both positionally and as dims=")
        if dims is not None:
            args = (dims,)
        axes = tuple(one_axis(d, self.ndim, "flip") for d in shape_args(args))
        if len(set(axes)) != len(axes):
            raise ValueError(f"flip: dims {args} name a dimension twice")
        return Flip.apply(self, dims=axes) if self.ndim else self.clone()

    @dim_aliases
    def roll(self, shifts: Any, dims: Any = None) -> "Tensor":
        """Shift entries cyclically by ``shifts`` along ``dims`` (ints or tuples of the same
        length); ``dims=None`` rolls the flattened tensor and keeps the shape."""
        shift = (shifts,) if isinstance(shifts, int) else tuple(shifts)
        if dims is None:
            if len(shift) != 1:
                raise ValueError(f"roll: with dims=None, shifts must be one int, got {shifts!r}")
            return Roll.apply(self, shifts=(int(shift[0]),), dims=None)
        axes = (dims,) if isinstance(dims, int) else tuple(dims)
        if len(axes) != len(shift):
            raise ValueError(f"roll: shifts {shifts!r} and dims {dims!r} must have the same length")
        axes = tuple(one_axis(d, self.ndim, "roll") for d in axes)
        return Roll.apply(self, shifts=tuple(int(n) for n in shift), dims=axes)

    def repeat(self, *sizes: Any) -> "Tensor":
        """Tile the whole tensor ``sizes[d]`` times along each dim (PyTorch's ``repeat``, i.e.
        NumPy's ``tile``; for ``numpy.repeat``'s entry-by-entry copies see
        ``repeat_interleave`` in PyTorch). ``len(sizes)`` >= ndim; extra sizes add leading dims."""
        reps = shape_args(sizes)
        if len(reps) < self.ndim:
            raise ValueError(f"repeat: got {len(reps)} sizes {reps} for a tensor with {self.ndim} dimensions "
                             f"(shape {self.shape}); give at least one size per dimension")
        if any(n < 0 for n in reps):
            raise ValueError(f"repeat: sizes must be non-negative, got {reps}")
        return Repeat.apply(self, sizes=reps)

    @dim_aliases
    def split(self, split_size: Any, dim: int = 0) -> tuple["Tensor", ...]:
        """Views of consecutive pieces along ``dim``: an int gives pieces of that size (the
        last may be smaller); a list gives the size of each piece (they must add up). The
        argument is named ``split_size`` as in ``torch.Tensor.split`` (``md.split`` calls it
        ``split_size_or_sections``, as ``torch.split`` does)."""
        axis = one_axis(dim, self.ndim, "split")
        if self.ndim == 0:
            raise ValueError("split: a 0-d tensor has no dimension to split")
        n = self.shape[axis]
        if isinstance(split_size, int) and not isinstance(split_size, bool):
            size = split_size
            if size < 0 or (size == 0 and n != 0):
                raise ValueError(f"split: split_size must be positive, got {size}")
            sizes = ([size] * (n // size) + ([n % size] if n % size else []) if size else []) or [0]
        else:
            sizes = [int(k) for k in split_size]
            if any(k < 0 for k in sizes) or sum(sizes) != n:
                raise ValueError(f"split: sections {sizes} must be non-negative and add up to {n}, the size of "
                                 f"dim {dim} (shape {self.shape})")
        pieces, start = [], 0
        for k in sizes:
            pieces.append(self[(slice(None),) * axis + (slice(start, start + k),)])
            start += k
        return tuple(pieces)

    @dim_aliases
    def chunk(self, chunks: int, dim: int = 0) -> tuple["Tensor", ...]:
        """Split into ``chunks`` pieces of ceil(n / chunks) entries along ``dim`` (fewer
        pieces when they run out first, as in PyTorch)."""
        if not is_count(chunks, 1):
            raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
        if self.ndim == 0:
            raise ValueError("chunk: a 0-d tensor has no dimension to split")
        axis = one_axis(dim, self.ndim, "chunk")
        n = self.shape[axis]
        if n == 0:  # PyTorch gives ``chunks`` empty pieces
            return tuple(self[(slice(None),) * axis + (slice(0, 0),)] for _ in range(chunks))
        return self.split(-(-n // chunks), axis)

    @dim_aliases
    def gather(self, dim: int, index: Any) -> "Tensor":
        """y[..., i, ...] = x[..., index[..., i, ...], ...] along ``dim`` (``torch.gather``):
        ``index`` holds int64 positions, has x's number of dims and sizes no larger than x's
        (except along ``dim``); y has index's shape. Duplicate positions add their gradients."""
        axis = one_axis(dim, self.ndim, "gather")
        idx = _index_along(self, index, axis, "gather", bound=self.shape)
        if self.ndim == 0:
            return Gather.apply(self.reshape(1), index=idx.reshape(1), dim=0).reshape(())
        return Gather.apply(self, index=idx, dim=axis)

    @dim_aliases
    def scatter_add(self, dim: int, index: Any, src: Any) -> "Tensor":
        """A copy of x with src[..., i, ...] added at x[..., index[..., i, ...], ...] along
        ``dim`` (``torch.scatter_add``); repeated positions add up. Gradients flow to x and src."""
        if not isinstance(src, Tensor):
            raise TypeError(f"scatter_add: src must be a Tensor, got {type(src).__name__}")
        if src.dtype != self.dtype:
            raise TypeError(f"scatter_add: src dtype {src.dtype} differs from the tensor's {self.dtype}")
        if src.device != self.device:
            raise RuntimeError(f"scatter_add: src is on {src.device} but the tensor is on {self.device}")
        axis = one_axis(dim, self.ndim, "scatter_add")
        idx = _index_along(self, index, axis, "scatter_add", bound=self.shape)
        if src.ndim != idx.ndim or any(i > s for i, s in zip(idx.shape, src.shape)):
            raise ValueError(f"scatter_add: index of shape {idx.shape} must have src's {src.ndim} dims and be no "
                             f"larger than src (shape {src.shape}) in every dim")
        if self.ndim == 0:
            return ScatterAdd.apply(self.reshape(1), src.reshape(1), index=idx.reshape(1), dim=0).reshape(())
        return ScatterAdd.apply(self, src, index=idx, dim=axis)

    def masked_fill(self, mask: Any, value: Any) -> "Tensor":
        """``value`` where the boolean ``mask`` (broadcast against x) is True, else x.
        ``value`` is a number or a 0-d tensor (used as a constant: no gradient reaches it)."""
        m = mask.data if isinstance(mask, Tensor) else mask
        if isinstance(m, backend.np.generic):  # a 0-d comparison may hold a NumPy scalar
            m = backend.np.asarray(m)
        if not backend.is_backend_array(m) or m.dtype != backend.bool_:
            raise TypeError(f"masked_fill: mask must be a boolean tensor, got {getattr(m, 'dtype', type(m).__name__)}")
        if backend.device_of(m) != self.device:
            raise RuntimeError(f"masked_fill: mask is on {backend.device_of(m)} but the tensor is on {self.device}")
        if isinstance(value, Tensor):
            if value.ndim != 0:
                raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"masked_fill: value must be a number, got {type(value).__name__}")
        check_broadcast("masked_fill", self.shape, m.shape)
        return MaskedFill.apply(self, mask=m, value=value)

    def tril(self, diagonal: int = 0) -> "Tensor":
        """Keep entries on and below the ``diagonal``-th diagonal of the last two dims (j - i
        <= diagonal), zero the rest."""
        return self._triangle(diagonal, upper=False, op="tril")

    def triu(self, diagonal: int = 0) -> "Tensor":
        """Keep entries on and above the ``diagonal``-th diagonal of the last two dims (j - i
        >= diagonal), zero the rest."""
        return self._triangle(diagonal, upper=True, op="triu")

    def _triangle(self, diagonal: int, upper: bool, op: str) -> "Tensor":
        if self.ndim < 2:
            raise ValueError(f"{op}: input must have at least 2 dimensions, got shape {self.shape}")
        if isinstance(diagonal, bool) or not isinstance(diagonal, int):
            raise TypeError(f"{op}: diagonal must be an int, got {diagonal!r}")
        return Triangle.apply(self, diagonal=diagonal, upper=upper)

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

    # ------------------------------------------------------------------ casts named after builtins
    # Last in the class on purpose: below these definitions, ``int`` and ``bool`` in the class
    # body would name the methods, not the builtin types.

    def int(self) -> "Tensor":
        """Cast to int32 (as ``torch.Tensor.int``; ``long()`` gives int64)."""
        return self.astype(backend.int32)

    def bool(self) -> "Tensor":
        """Cast to bool (nonzero is True)."""
        return self.astype(backend.bool_)


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
    """The dtype PyTorch would give Python data: floats -> float32, ints -> int64, bools -> bool.

    In a list, NumPy scalars and arrays keep their own dtype and the entries' dtypes are
    joined by PyTorch's rule (``tensors_dtype``): ``[np.float64(1.5), 2.0]`` is float64,
    ``[np.int32(1), 2]`` int64 and ``[np.int32(1), 2.0]`` float32, as ``torch.tensor`` gives.
    """
    np = backend.np
    probe = np.asarray(data)
    kind = probe.dtype.kind
    if kind not in "biuf":
        raise TypeError(f"cannot make a tensor from {type(data).__name__} holding {probe.dtype}; expected numbers")
    if kind == "b":
        return backend.bool_
    if isinstance(data, (np.generic, np.ndarray)):
        return probe.dtype
    if isinstance(data, (list, tuple)):
        entries = _entry_dtypes(data)
        return tensors_dtype(list(entries)) if entries else backend.float32  # [] is float32, as in PyTorch
    return backend.float32 if kind == "f" else backend.int64


def _entry_dtypes(data: list | tuple) -> set:
    """The dtypes of the numbers in nested lists, as PyTorch reads them: a Python float is
    float32, an int int64, a bool bool; NumPy scalars and arrays (and anything else with a
    dtype) are their own dtype."""
    python = {bool: backend.bool_, int: backend.int64, float: backend.float32}
    dtypes: set[Any] = set()
    todo: list[list | tuple] = [data]
    while todo:
        items = todo.pop()
        types = set(map(type, items))  # one pass in C; most lists hold Python numbers only
        dtypes.update(python[t] for t in types if t in python)
        if not types <= python.keys():
            for x in items:
                if isinstance(x, (list, tuple)):
                    todo.append(x)
                elif type(x) not in python:
                    dtype = getattr(x, "dtype", None)  # (not `or`: a NumPy dtype has len 0, so is falsy)
                    dtypes.add(backend.as_dtype(backend.np.asarray(x).dtype if dtype is None else dtype))
    return dtypes


SUPPORTED_DTYPES = "bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, float32, float64"


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: str | None = None) -> Tensor:
    """Make a leaf tensor from Python numbers/lists, a NumPy/CuPy array or another tensor.

    ``md.tensor([[1., 2.]])`` is float32, ``md.tensor([1, 2])`` is int64; arrays and NumPy
    scalars keep their dtype, also inside a list (``[np.float64(1.5), 2.0]`` is float64, as
    in PyTorch); ``dtype=`` overrides. The data is copied (like ``torch.tensor``). Only numeric
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
    if backend.is_backend_array(value) and type(value) is not type(like.data) and like.device == "cpu":
        raise RuntimeError(f"operands are on different devices ({backend.device_of(value)} and cpu); "
                           "move one with .to()")
    kind = "f" if type(value) is float else "i" if type(value) is int else (
        value.dtype.kind if hasattr(value, "dtype") else backend.np.asarray(value).dtype.kind)
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


def _python_number(value: Any, op: str, name: str) -> Any:
    """A bound such as clip's as a Python int or float (None stays None), so that it does not
    change the tensor's dtype (a NumPy float64 scalar would promote float32 under NumPy's rules,
    not PyTorch's)."""
    if value is None:
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return builtins.float(value)
    raise TypeError(f"{op}: {name} must be a number or None, got {type(value).__name__}")


def binary_operands(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """``a`` and ``b`` as tensors of one dtype on one device (the dtype rules above)."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.data.dtype is b.data.dtype or a.data.dtype == b.data.dtype:
            if type(a.data) is not type(b.data) and a.device != b.device:
                raise RuntimeError(f"{op}: operands are on different devices ({a.device} and {b.device}); "
                                   "move one with .to()")
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


def tensors_dtype(dtypes: Sequence[Any]) -> Any:
    """The dtype that dimensioned tensors of ``dtypes`` share when joined (``cat``, ``stack``),
    by PyTorch's rule: the highest category wins (float > integer > bool) and keeps its own
    dtype, so float16 with int64 stays float16 (NumPy's rule would give float64)."""
    top = builtins.max(_CATEGORY.get(d.kind, 3) for d in dtypes)
    return backend.result_type(*[d for d in dtypes if _CATEGORY.get(d.kind, 3) == top])


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


def where_values(condition: Any, input: Any, other: Any) -> Tensor:
    """``input`` where ``condition`` is true, else ``other`` (all three broadcast): ``md.where``
    and ``Tensor.where``, once."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    if not backend.is_backend_array(cond):
        cond = backend.np.asarray(cond)
    if cond.dtype != backend.bool_:
        raise TypeError(f"where: condition must be boolean, got dtype {cond.dtype}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Tensor(input)
    a, b = binary_operands(input, other, "where")
    if backend.device_of(cond) != a.device:
        raise RuntimeError(f"where: condition is on {backend.device_of(cond)} but the values are on {a.device}")
    check_broadcast("where", cond.shape, a.shape, b.shape)
    return Where.apply(a, b, cond=cond)


def check_broadcast(op: str, *shapes: tuple) -> None:
    """Raise a ``ValueError`` naming ``op`` when ``shapes`` do not broadcast together."""
    try:
        backend.np.broadcast_shapes(*shapes)
    except ValueError:
        listed = ", ".join(str(s) for s in shapes[:-1]) + f" and {shapes[-1]}"
        raise ValueError(f"{op}: shapes {listed} cannot be broadcast together") from None


def _wraps_number(t: Tensor, x: Any) -> bool:
    """True when ``t`` is floating and ``x`` a plain Python int or float (not a bool, not a
    NumPy scalar): ``t`` op ``x`` is then a "wrapped number" op (``MulScalar``, ``AddScalar``,
    ``SubScalar``), the number taking ``t``'s dtype."""
    kind = type(x)
    return (kind is float or kind is int) and t.data.dtype.kind == "f"


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


def _require_ndims(op: str, *pairs: tuple[Any, int]) -> None:
    """Each ``(tensor, ndim)``: a Tensor with exactly that many dimensions."""
    for i, (t, ndim) in enumerate(pairs):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: argument {i} must be a Tensor, got {type(t).__name__}")
        if t.ndim != ndim:
            shapes = tuple(getattr(p[0], "shape", None) for p in pairs)
            raise ValueError(f"{op}: expects {ndim}-D tensors, got shapes {shapes}")


def one_axis(axis: int, ndim: int, op: str) -> int:
    """``axis`` as an index in [0, ndim) (negative counts from the end; a 0-d tensor takes 0
    and -1, as in PyTorch), or a ``ValueError``."""
    bound = ndim if ndim > 1 else 1
    if not isinstance(axis, int) or not -bound <= axis < bound:
        raise ValueError(f"{op}: dim {axis!r} is out of range for a tensor with {ndim} dimensions "
                         f"(expected a dim in [{-bound}, {bound - 1}])")
    return axis % bound


def _correction(unbiased: Any, correction: int | None) -> int:
    """``var``'s divisor n - correction from PyTorch's two spellings (default 1: unbiased)."""
    if unbiased is not None and correction is not None:
        raise TypeError("var/std: pass unbiased= or correction=, not both")
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _is_int(i: Any) -> bool:
    """An int in an index: Python and NumPy ints, and 0-d integer arrays (from 0-d tensors:
    PyTorch reads those as ints)."""
    if backend.is_backend_array(i):
        return i.ndim == 0 and i.dtype.kind in "iu"
    return isinstance(i, numbers.Integral) and not isinstance(i, bool)  # NumPy ints are Integral, NumPy bools not


def split_int_index(index: Any) -> tuple[tuple, tuple] | None:
    """PyTorch's indexing where ints and index arrays mix, as two NumPy indexes applied in turn.

    NumPy counts an int as one more index array, so in ``x[0, :, [0, 1]]`` (x of shape (4, 3, 5))
    the int and the list are separated by a slice and their dim goes first: (2, 3). PyTorch
    first selects with the ints (dropping their dims), then indexes with the arrays: (3, 2).
    Returns ``(ints_and_slices, arrays)`` for ``x[ints_and_slices][arrays]`` (the first a view),
    or None when the index has no such mix (then NumPy's single index means the same).
    """
    if not isinstance(index, tuple):
        return None
    arrays = [i for i in index if backend.is_backend_array(i) and i.ndim > 0]
    if not arrays or not any(_is_int(i) for i in index):
        return None
    first: list[Any] = []
    then: list[Any] = []
    for i in index:
        if _is_int(i):
            first.append(int(i))  # its dim is gone in the view
        elif backend.is_backend_array(i) and i.ndim > 0:
            k = i.ndim if i.dtype == backend.bool_ else 1  # a boolean mask covers i.ndim dims
            first.extend([slice(None)] * k)
            then.append(i)
        elif i is Ellipsis:
            first.append(i)
            then.append(i)
        else:  # a slice or None: applied in the view, kept whole afterwards
            first.append(i)
            then.append(slice(None))
    return tuple(first), tuple(then)


def index_arrays(index: Any) -> Any:
    """Replace tensors and lists inside an index by arrays NumPy/CuPy understand."""
    if isinstance(index, tuple):
        return tuple(index_arrays(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return backend.np.asarray(index)
    return index


# ---------------------------------------------------------------------- math, ordering and indexing helpers


def _dims(dim: Any, ndim: int, op: str) -> Any:
    """``dim`` (None, an int or a tuple of ints) checked against ``ndim``, in the form the
    reductions take (None for all dims)."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(one_axis(d, ndim, op) for d in dims)


def _index_along(x: Tensor, index: Any, axis: int, op: str, bound: tuple) -> Any:
    """``index`` for gather/scatter_add as an int64 array on x's device: x's number of dims,
    no larger than x except along ``axis``, positions in [0, size of ``axis``)."""
    idx = index.data if isinstance(index, Tensor) else index
    if not backend.is_backend_array(idx):
        idx = backend.np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must hold integers (int64), got dtype {idx.dtype}")
    if backend.device_of(idx) != x.device:
        raise RuntimeError(f"{op}: index is on {backend.device_of(idx)} but the tensor is on {x.device}")
    if idx.ndim != x.ndim:
        raise ValueError(f"{op}: index of shape {idx.shape} must have as many dims as the tensor (shape {x.shape})")
    if any(i > n for d, (i, n) in enumerate(zip(idx.shape, bound)) if d != axis):
        raise ValueError(f"{op}: index of shape {idx.shape} is larger than the tensor (shape {x.shape}) outside dim "
                         f"{axis}")
    n = bound[axis] if x.ndim else 1
    if idx.size and bool(((idx < 0) | (idx >= n)).any()):
        bad = int(idx[(idx < 0) | (idx >= n)].reshape(-1)[0])
        raise IndexError(f"{op}: index {bad} is out of bounds for dim {axis} with size {n} (shape {x.shape})")
    return idx.astype(backend.int64, copy=False)
