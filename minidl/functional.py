"""The public functions, in one place: ``md.exp(x)``, ``md.where(c, a, b)``, ``F.conv2d(...)``.

``minidl`` re-exports the tensor functions (``md.tanh``, ``md.cat``, ...) and
``minidl.nn.functional`` the layer functions (``F.relu``, ``F.cross_entropy``, ...); both are
these same objects. Each function checks its arguments (raising a clear error naming the
function), brings tensors to one dtype and device (``binary_operands``: the dtype rules of
``minidl/tensor.py``) and applies a ``Function`` from ``minidl/ops/``, where the forward and
backward math is. A function that is also a Tensor method (``md.tanh(x)`` is ``x.tanh()``)
is written once, as the method.

Sections: tensor math (arithmetic, element-wise, reductions, shapes, joining), activations
and dropout, linear / convolution / pooling, normalization, losses.
"""

from __future__ import annotations

from typing import Any, Sequence

from . import backend
from ._checks import is_count
from .ops.activation import ELU, GELU, SELU, Hardtanh, LogSigmoid, MaskedScale, Maxout, SiLU, Softplus, Softsign, Step
from .ops.arithmetic import Add, FloorDivide, Mul, Pow, Remainder, Sub
from .ops.conv import Conv2d, conv_padding, output_size, pair
from .ops.elementwise import Maximum, Minimum
from .ops.indexing import ConstantPad
from .ops.linear import LinearFunction
from .ops.loss import NLL, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, CrossEntropy
from .ops.normalization import BatchNorm, Standardize
from .ops.pooling import AvgPool2d, MaxPool2d
from .ops.shape import Concatenate, Stack
from .tensor import (
    Tensor,
    apply_binary,
    as_input,
    binary_operands,
    dim_aliases,
    matrix_product,
    one_axis,
    require_tensor,
    tensors_dtype,
    true_divide,
    where_values,
)


def _float_input(x: Any, op: str) -> Tensor:
    """Inputs of transcendental ops: integers are converted to float32 (as PyTorch does)."""
    return as_input(x, op)._as_float()


# =========================================================================== tensor math
# --------------------------------------------------------------------------- arithmetic


def add(input: Any, other: Any) -> Tensor:
    """input + other (broadcasting)."""
    return apply_binary(Add, input, other, "add")


def sub(input: Any, other: Any) -> Tensor:
    """input - other (broadcasting)."""
    return apply_binary(Sub, input, other, "sub")


def mul(input: Any, other: Any) -> Tensor:
    """input * other element-wise (broadcasting)."""
    return apply_binary(Mul, input, other, "mul")


def div(input: Any, other: Any) -> Tensor:
    """input / other (true division; integer tensors give float32)."""
    return true_divide(input, other)


def pow(input: Any, exponent: Any) -> Tensor:
    """input ** exponent (broadcasting); the gradient w.r.t. the exponent needs input > 0."""
    return apply_binary(Pow, input, exponent, "pow")


def neg(input: Any) -> Tensor:
    """-input."""
    return -as_input(input, "neg")


def floor_divide(input: Any, other: Any) -> Tensor:
    """input // other: floor(input / other); not differentiable (as in PyTorch)."""
    return apply_binary(FloorDivide, input, other, "floor_divide")


def remainder(input: Any, other: Any) -> Tensor:
    """input % other, with the sign of ``other`` (Python's and PyTorch's rule)."""
    return apply_binary(Remainder, input, other, "remainder")


def matmul(input: Any, other: Any) -> Tensor:
    """input @ other with NumPy's rules (1-D vectors, batched stacks)."""
    return matrix_product(input, other)


def mm(input: Any, mat2: Any) -> Tensor:
    """Matrix product of two 2-D tensors (no broadcasting)."""
    return as_input(input, "mm").mm(mat2)


def bmm(input: Any, mat2: Any) -> Tensor:
    """Batched matrix product (b, n, m) @ (b, m, p) -> (b, n, p)."""
    return as_input(input, "bmm").bmm(mat2)


def dot(input: Any, other: Any) -> Tensor:
    """sum_i x_i y_i of two 1-D tensors of the same length."""
    return as_input(input, "dot").dot(other)


def outer(input: Any, vec2: Any) -> Tensor:
    """(n,) and (m,) -> (n, m) with entries x_i y_j."""
    return as_input(input, "outer").outer(vec2)


# --------------------------------------------------------------------------- element-wise


def log1p(input: Any) -> Tensor:
    """ln(1 + x), accurate for tiny x."""
    return as_input(input, "log1p").log1p()


def expm1(input: Any) -> Tensor:
    """e^x - 1, accurate for tiny x."""
    return as_input(input, "expm1").expm1()


def log2(input: Any) -> Tensor:
    """Base-2 logarithm."""
    return as_input(input, "log2").log2()


def log10(input: Any) -> Tensor:
    """Base-10 logarithm."""
    return as_input(input, "log10").log10()


def square(input: Any) -> Tensor:
    """x * x."""
    return as_input(input, "square").square()


def reciprocal(input: Any) -> Tensor:
    """1 / x."""
    return as_input(input, "reciprocal").reciprocal()


def rsqrt(input: Any) -> Tensor:
    """1 / sqrt(x)."""
    return as_input(input, "rsqrt").rsqrt()


def nan_to_num(input: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """NaN, +inf and -inf replaced by finite values (by default 0 and the dtype's extremes)."""
    return as_input(input, "nan_to_num").nan_to_num(nan, posinf, neginf)


def isnan(input: Any) -> Tensor:
    """True where the value is NaN (not differentiable)."""
    return as_input(input, "isnan").isnan()


def isinf(input: Any) -> Tensor:
    """True where the value is infinite."""
    return as_input(input, "isinf").isinf()


def isfinite(input: Any) -> Tensor:
    """True where the value is neither NaN nor infinite."""
    return as_input(input, "isfinite").isfinite()


def isclose(input: Any, other: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    """True where |input - other| <= atol + rtol * |other|."""
    return as_input(input, "isclose").isclose(other, rtol, atol, equal_nan)


def allclose(input: Any, other: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """Whether every value of ``input`` is close to ``other`` (a Python bool)."""
    return as_input(input, "allclose").allclose(other, rtol, atol, equal_nan)


def equal(input: Any, other: Any) -> bool:
    """Whether both have the same shape and values (a Python bool)."""
    return as_input(input, "equal").equal(other)


def exp(input: Any) -> Tensor:
    """e^x."""
    return as_input(input, "exp").exp()


def log(input: Any) -> Tensor:
    """Natural logarithm."""
    return as_input(input, "log").log()


def sqrt(input: Any) -> Tensor:
    """Square root."""
    return as_input(input, "sqrt").sqrt()


def abs(input: Any) -> Tensor:
    """|x| (gradient 0 at 0)."""
    return as_input(input, "abs").abs()


def tanh(input: Any) -> Tensor:
    """Hyperbolic tangent; its Function is ``ops/elementwise.py``'s ``Tanh``."""
    return as_input(input, "tanh").tanh()


def sigmoid(input: Any) -> Tensor:
    """Logistic sigmoid 1 / (1 + e^-x), overflow-free."""
    return as_input(input, "sigmoid").sigmoid()


def relu(input: Any, inplace: bool = False) -> Tensor:
    """max(0, x) (gradient 0 at 0)."""
    if inplace:
        _no_inplace(inplace, "relu")
    return as_input(input, "relu").relu()


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    _no_inplace(inplace, "leaky_relu")
    return as_input(input, "leaky_relu").leaky_relu(negative_slope)


def clip(input: Any, min: float | None = None, max: float | None = None) -> Tensor:
    """Limit values to [min, max] (either bound may be None)."""
    return as_input(input, "clip").clip(min, max)


clamp = clip


def maximum(input: Any, other: Any) -> Tensor:
    """Element-wise max (gradient split 1/2-1/2 where equal)."""
    return apply_binary(Maximum, input, other, "maximum")


def minimum(input: Any, other: Any) -> Tensor:
    """Element-wise min (gradient split 1/2-1/2 where equal)."""
    return apply_binary(Minimum, input, other, "minimum")


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """``input`` where ``condition`` is true, else ``other`` (all three broadcast)."""
    return where_values(condition, input, other)


# --------------------------------------------------------------------------- reductions


# Each takes PyTorch's ``dim``/``keepdim`` or NumPy's ``axis``/``keepdims`` (``dim_aliases``).


@dim_aliases
def sum(input: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Sum over ``dim`` (int, tuple, or None for all)."""
    return as_input(input, "sum").sum(dim, keepdim)


@dim_aliases
def mean(input: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim``."""
    return as_input(input, "mean").mean(dim, keepdim)


@dim_aliases
def var(input: Any, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    """Variance over ``dim``, dividing by n - correction (1: unbiased, PyTorch's default)."""
    return as_input(input, "var").var(dim, unbiased, keepdim, correction=correction)


@dim_aliases
def std(input: Any, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    """Standard deviation: sqrt(var)."""
    return as_input(input, "std").std(dim, unbiased, keepdim, correction=correction)


@dim_aliases
def max(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    """``md.max(x)``: the largest value; ``md.max(x, dim)``: ``(values, indices)``;
    ``md.max(x, other)``: the element-wise maximum (see ``Tensor.max``)."""
    return as_input(input, "max").max(dim, keepdim)


@dim_aliases
def min(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    """``md.min(x)``, ``md.min(x, dim) -> (values, indices)``, ``md.min(x, other)`` (see ``Tensor.min``)."""
    return as_input(input, "min").min(dim, keepdim)


@dim_aliases
def amax(input: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (int, tuple, or None for all); gradient split evenly among ties."""
    return as_input(input, "amax").amax(dim, keepdim)


@dim_aliases
def amin(input: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (int, tuple, or None for all); gradient split evenly among ties."""
    return as_input(input, "amin").amin(dim, keepdim)


@dim_aliases
def argmax(input: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value along ``dim`` (of the flattened tensor for None), int64."""
    return as_input(input, "argmax").argmax(dim, keepdim)


@dim_aliases
def argmin(input: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value along ``dim`` (of the flattened tensor for None), int64."""
    return as_input(input, "argmin").argmin(dim, keepdim)


@dim_aliases
def logsumexp(input: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed without overflow."""
    return as_input(input, "logsumexp").logsumexp(dim, keepdim)


@dim_aliases
def softmax(input: Any, dim: int = -1) -> Tensor:
    """e^x_i / sum_j e^x_j along ``dim``, shifted by the max so it never overflows.

    ``dim`` defaults to the last dim. PyTorch has no default: without ``dim`` it warns that
    the implicit choice is deprecated and takes dim 0 for 0-, 1- and 3-D inputs, else dim 1,
    so for 3-D and 4-D inputs pass ``dim`` explicitly in code meant for both."""
    return as_input(input, "softmax").softmax(dim)


@dim_aliases
def log_softmax(input: Any, dim: int = -1) -> Tensor:
    """x_i - logsumexp(x) along ``dim``: log-probabilities, stable for large logits."""
    return as_input(input, "log_softmax").log_softmax(dim)


# --------------------------------------------------------------------------- shapes


def reshape(input: Any, *shape: Any) -> Tensor:
    """Same values in a new shape; one entry may be -1 (inferred)."""
    return as_input(input, "reshape").reshape(*shape)


def transpose(input: Any, dim0: int, dim1: int) -> Tensor:
    """Swap dims ``dim0`` and ``dim1`` (see ``Tensor.transpose``)."""
    return as_input(input, "transpose").transpose(dim0, dim1)


@dim_aliases
def permute(input: Any, dims: Sequence[int]) -> Tensor:
    """Reorder all dims (see ``Tensor.permute``)."""
    return as_input(input, "permute").permute(*dims)


@dim_aliases
def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one (all by default)."""
    return as_input(input, "flatten").flatten(start_dim, end_dim)


@dim_aliases
def squeeze(input: Any, dim: Any = None) -> Tensor:
    """Remove dims of size 1 (all of them, or those of ``dim`` that have size 1)."""
    return as_input(input, "squeeze").squeeze(dim)


@dim_aliases
def unsqueeze(input: Any, dim: int) -> Tensor:
    """Insert a dim of size 1 at position ``dim``."""
    return as_input(input, "unsqueeze").unsqueeze(dim)


def broadcast_to(input: Any, *shape: Any) -> Tensor:
    """Copy along new leading axes and size-1 axes to ``shape`` (a view)."""
    return as_input(input, "broadcast_to").broadcast_to(*shape)


expand = broadcast_to


# --------------------------------------------------------------------------- joining


def _same_device(tensors: Sequence[Any], op: str) -> list[Tensor]:
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got one Tensor (wrap it: [t])")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: needs at least one tensor")
    ts = [as_input(t, op) for t in tensors]
    devices = {t.device for t in ts}
    if len(devices) > 1:
        raise RuntimeError(f"{op}: tensors are on different devices {sorted(devices)}")
    dtype = tensors_dtype([t.dtype for t in ts])
    return [t.astype(dtype) for t in ts]


@dim_aliases
def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim (``torch.cat``; ``md.concatenate`` is the same)."""
    ts = _same_device(tensors, "cat")
    return Concatenate.apply(*ts, axis=one_axis(dim, ts[0].ndim, "cat"))


concatenate = cat


@dim_aliases
def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dim."""
    ts = _same_device(tensors, "stack")
    return Stack.apply(*ts, axis=one_axis(dim, ts[0].ndim + 1, "stack"))


# =========================================================================== activations and dropout


def elu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """ELU (``torch.nn.functional.elu``): x if x > 0 else alpha (e^x - 1)."""
    _no_inplace(inplace, "elu")
    return ELU.apply(_float_input(input, "elu"), alpha=float(alpha))


def gelu(input: Any, approximate: str = "none") -> Tensor:
    """GELU (``torch.nn.functional.gelu``): x Phi(x); ``approximate="tanh"`` for the tanh form."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(_float_input(input, "gelu"), approximate=approximate)


def step(input: Any) -> Tensor:
    """Heaviside step (1 where x >= 0, else 0); forward only, its backward raises."""
    return Step.apply(_float_input(input, "step"))


def maxout(input: Any, pieces: int) -> Tensor:
    """Max over consecutive groups of ``pieces`` features of the last axis:
    (..., out * pieces) -> (..., out). Gradient to the first maximal piece at ties."""
    x = _float_input(input, "maxout")
    if not isinstance(pieces, int) or pieces < 1:
        raise ValueError(f"maxout: pieces must be a positive int, got {pieces!r}")
    if x.ndim == 0 or x.shape[-1] % pieces:
        raise ValueError(f"maxout: last dimension of shape {x.shape} is not divisible by pieces={pieces}")
    return Maxout.apply(x, pieces=pieces)


def dropout_mask(x: Tensor, p: float, scale: float) -> Any:
    """A mask array like ``x``: 0 with probability p, ``scale`` otherwise (x's dtype and device)."""
    xp = backend.array_module(x.data)
    dtype = x.dtype
    keep = backend.rng(xp).random(x.shape, dtype=dtype if dtype.itemsize >= 4 else backend.float32) >= p
    return keep.astype(dtype) * dtype.type(scale)


def masked_scale(input: Tensor, mask: Any) -> Tensor:
    """input * mask for a fixed (non-differentiable) mask array; d/dinput = mask."""
    if isinstance(mask, Tensor):
        mask = mask.data
    if tuple(mask.shape) != tuple(input.shape):
        raise ValueError(f"masked_scale: mask shape {tuple(mask.shape)} differs from input shape {input.shape}")
    return MaskedScale.apply(input, mask=mask.astype(input.dtype, copy=False))


def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False, *,
            mode: str = "inverted") -> Tensor:
    """Dropout, two conventions with the same expected activation E[y] = x:

    * ``mode="inverted"`` (PyTorch's, ``nn.Dropout``): training: y = x * m / (1 - p) with
      m ~ Bernoulli(1 - p); test: y = x (nothing to do at inference).
    * ``mode="scale_at_test"`` (the lecture slide's original variant): training: y = x * m
      (no scaling); test: y = (1 - p) x, so the test activation equals the training
      expectation E[x m] = (1 - p) x.

    ``p`` is the probability of *dropping* a unit, in [0, 1]; p = 1 drops everything (zero
    output and gradient), as in PyTorch. The signature is PyTorch's
    (``inplace`` must stay False: autograd needs the input), plus the keyword ``mode``.
    """
    if inplace:
        raise ValueError("dropout(inplace=True) is not supported by minidl; use inplace=False")
    x = _float_input(input, "dropout")
    _check_drop_probability(p, "dropout")
    if mode not in ("inverted", "scale_at_test"):
        raise ValueError(f"dropout: mode must be 'inverted' or 'scale_at_test', got {mode!r}")
    p = float(p)
    if not training:
        if mode == "inverted" or p == 0:
            return x
        return x * x.dtype.type(1 - p)
    if p == 0:
        return x
    if p == 1:  # every unit dropped (1/(1 - p) would be infinite)
        return MaskedScale.apply(x, mask=backend.array_module(x.data).zeros(x.shape, dtype=x.dtype))
    scale = 1.0 / (1.0 - p) if mode == "inverted" else 1.0
    return MaskedScale.apply(x, mask=dropout_mask(x, p, scale))


def _check_drop_probability(p: Any, op: str) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"{op}: probability p={p!r} must be in [0, 1] (p is the probability of dropping a unit)")



# =========================================================================== linear, convolution, pooling


def identity(input: Any) -> Any:
    """The input itself (``nn.Identity``'s function)."""
    return input


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b (``torch.nn.functional.linear``).

    input (..., in_features), weight (out_features, in_features), bias (out_features,) ->
    (..., out_features). Gradients: dL/dx = g W, dL/dW = g^T x (summed over the batch),
    dL/db = sum of g over the batch, with g = dL/dy.
    """
    x, w = require_tensor(input, "input", "linear").data, require_tensor(weight, "weight", "linear").data
    if w.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} has {x.shape[-1] if x.ndim else 0} features in its last "
            f"dimension, but the weight {w.shape} expects in_features={w.shape[1]}"
        )
    if bias is not None and bias.shape != (w.shape[0],):
        raise ValueError(
            f"linear: bias must have shape ({w.shape[0]},) to match the weight {tuple(w.shape)}, got {bias.shape}"
        )
    alike = x.dtype is w.dtype and type(x) is type(w)  # one dtype, one array type: the usual case
    if bias is not None:
        alike = alike and type(bias.data) is type(w) and bias.data.dtype is w.dtype
    if not alike:  # promote dtypes and check devices by the general rules
        input, weight = binary_operands(input, weight, "linear")
        if bias is not None:
            weight, bias = binary_operands(weight, bias, "linear")
    if bias is None:
        return LinearFunction.apply(input, weight)
    return LinearFunction.apply(input, weight, bias)



def _check_float(t: Any, name: str, op: str) -> Tensor:
    if require_tensor(t, name, op).dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating-point tensor, got dtype {t.dtype}")
    return t


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution like ``torch.nn.functional.conv2d``.

    input (N, C, H, W), or one unbatched image (C, H, W) as in PyTorch (the result is then
    (O, OH, OW)); weight (O, C, kh, kw), bias (O,) or None; ``stride`` and
    ``padding`` are ints or pairs (zero padding; ``padding`` may also be ``"valid"``, no
    padding, or ``"same"``, output size = input size, stride 1 and odd kernels). Returns (N, O, OH, OW),
    OH = (H + 2 padding - kh) // stride + 1. ``dilation`` and ``groups`` exist for
    PyTorch's argument order; only 1 is supported.
    """
    op = "conv2d"
    if pair(dilation, "dilation", op, 1) != (1, 1) or groups != 1:
        raise NotImplementedError(f"{op}: only dilation=1 and groups=1 are supported, got dilation={dilation!r}, "
                                  f"groups={groups!r}")
    x, w = _check_float(input, "input", op), _check_float(weight, "weight", op)
    if x.ndim == 3:  # one unbatched image: a batch of one, and the batch dimension taken off again
        return conv2d(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    stride = pair(stride, "stride", op, 1)
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"{op}: weight must be 4-D (out_channels, in_channels, kh, kw), got shape {w.shape}")
    padding = conv_padding(padding, tuple(w.shape[2:]), stride, op)
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"{op}: input has {x.shape[1]} channels (shape {x.shape}) but weight expects "
                         f"{w.shape[1]} (weight shape {w.shape})")
    if x.dtype != w.dtype:
        raise TypeError(f"{op}: input dtype {x.dtype} and weight dtype {w.dtype} differ")
    if x.device != w.device:
        raise RuntimeError(f"{op}: input is on {x.device} but weight is on {w.device}")
    h, wd = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    if h < w.shape[2] or wd < w.shape[3]:
        raise ValueError(f"{op}: kernel size {tuple(w.shape[2:])} is larger than the padded input "
                         f"({h}, {wd}) (input shape {x.shape}, padding {padding})")
    inputs = [x, w]
    if bias is not None:
        b = _check_float(bias, "bias", op)
        if b.shape != (w.shape[0],):
            raise ValueError(f"{op}: bias must have shape ({w.shape[0]},), got {b.shape}")
        if b.dtype != x.dtype:
            raise TypeError(f"{op}: bias dtype {b.dtype} differs from input dtype {x.dtype}")
        inputs.append(b)
    return Conv2d.apply(*inputs, stride=stride, padding=padding)



def check_pool_options(op: str, ceil_mode: bool, **options: tuple[Any, Any]) -> None:
    """Raise for PyTorch pooling options minidl does not implement: ``ceil_mode=True`` and any
    ``name=(value, default)`` in ``options`` whose value is not the default."""
    if ceil_mode:
        raise NotImplementedError(f"{op}: ceil_mode=True is not supported (output sizes round down); pad the input "
                                  "so the windows fit, or choose a stride that divides it")
    for name, (value, default) in options.items():
        if value != default:
            raise NotImplementedError(f"{op}: {name}={value!r} is not supported, only {name}={default!r}")


def _pool_args(op: str, input: Any, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool = False,
               **options: tuple[Any, Any]) -> tuple:
    check_pool_options(op, ceil_mode, **options)
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim != 4:
        raise ValueError(f"{op}: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point tensor, got dtype {input.dtype}")
    kernel = pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else pair(stride, "stride", op, 1)
    padding = pair(padding, "padding", op, 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    h, w = input.shape[2], input.shape[3]
    oh, ow = output_size(h, kernel[0], stride[0], padding[0]), output_size(w, kernel[1], stride[1], padding[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"{op}: kernel {kernel} is larger than the padded input ({h + 2 * padding[0]}, "
                         f"{w + 2 * padding[1]}) (input shape {input.shape})")
    return kernel, stride, padding


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """Max pooling like ``torch.nn.functional.max_pool2d``: (N, C, H, W) -> (N, C, OH, OW), or
    an unbatched (C, H, W) -> (C, OH, OW).

    Gradient at ties: all of it goes to the first maximum (row-major) of each window.
    ``dilation``, ``ceil_mode`` and ``return_indices`` exist for PyTorch's argument order;
    only their defaults are supported.
    """
    if isinstance(input, Tensor) and input.ndim == 3:  # unbatched: as a batch of one
        return max_pool2d(input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode,
                          return_indices).squeeze(0)
    kernel, stride, padding = _pool_args("max_pool2d", input, kernel_size, stride, padding, ceil_mode,
                                         dilation=(pair(dilation, "dilation", "max_pool2d", 1), (1, 1)),
                                         return_indices=(return_indices, False))
    return MaxPool2d.apply(input, kernel=kernel, stride=stride, padding=padding)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Average pooling like ``torch.nn.functional.avg_pool2d``: (N, C, H, W) -> (N, C, OH, OW),
    or an unbatched (C, H, W) -> (C, OH, OW).

    ``count_include_pad=True`` (PyTorch's default) divides every window by kh*kw, zero padding
    included; ``False`` divides by the number of the window's pixels inside the image.
    ``ceil_mode`` and ``divisor_override`` only take their defaults.
    """
    if isinstance(input, Tensor) and input.ndim == 3:  # unbatched: as a batch of one
        return avg_pool2d(input.unsqueeze(0), kernel_size, stride, padding, ceil_mode, count_include_pad,
                          divisor_override).squeeze(0)
    kernel, stride, padding = _pool_args("avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                                         divisor_override=(divisor_override, None))
    return AvgPool2d.apply(input, kernel=kernel, stride=stride, padding=padding,
                           count_include_pad=bool(count_include_pad))



# =========================================================================== normalization


def _as_array(t: Any) -> Any:
    return t.data if isinstance(t, Tensor) else t


def _update_running(running: Any, batch: Any, momentum: float) -> None:
    """running = (1 - momentum) running + momentum batch, in place (``running`` is a
    Tensor buffer or an array)."""
    arr = _as_array(running)
    arr[...] = (1 - momentum) * arr + momentum * batch.astype(arr.dtype)


def batch_norm(input: Tensor, running_mean: Any, running_var: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalization like ``torch.nn.functional.batch_norm``.

    input (N, C) or (N, C, L) or (N, C, H, W); running_mean/running_var (C,) tensors updated
    in place when ``training`` (or None: no running statistics; then batch statistics are
    used in both modes); weight/bias (C,) or None (gamma = 1, beta = 0).
    """
    op = "batch_norm"
    if require_tensor(input, "input", op).dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point Tensor, got dtype {input.dtype}")
    if input.ndim < 2:
        raise ValueError(f"{op}: input must be (N, C) or (N, C, ...), got shape {input.shape}")
    c = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"{op}: {name} must have shape ({c},) for input with {c} channels "
                             f"(shape {input.shape}), got {tuple(t.shape)}")
    xp = backend.array_module(input.data)
    dtype = input.dtype
    use_batch = training or running_mean is None or running_var is None
    axes = (0,) + tuple(range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    if use_batch:
        m = input.data.size // c
        if m <= 1:  # x - mu = 0 for every input: the output would be beta whatever x is
            raise ValueError(f"{op}: expected more than 1 value per channel when training, got input of "
                             f"shape {input.shape} (batch statistics need at least 2 values per channel)")
        x = input.data
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)  # biased, for normalizing
        gamma = weight if weight is not None else Tensor(xp.ones(c, dtype=dtype))
        beta = bias if bias is not None else Tensor(xp.zeros(c, dtype=dtype))
        y = BatchNorm.apply(input, gamma, beta, mean=mean, var=var, eps=eps)
        if training and running_mean is not None and running_var is not None:  # only once y exists
            _update_running(running_mean, mean.reshape(-1), momentum)
            _update_running(running_var, var.reshape(-1) * dtype.type(m / (m - 1)), momentum)  # unbiased
        return y
    # eval: fixed statistics, composed of primitive ops (y is affine in x)
    rm = _as_array(running_mean).astype(dtype, copy=False).reshape(shape)
    rv = _as_array(running_var).astype(dtype, copy=False).reshape(shape)
    inv_std = Tensor(1 / xp.sqrt(rv + dtype.type(eps)))
    y = (input - Tensor(rm)) * inv_std
    if weight is not None:
        y = y * reshape(weight, shape)
    if bias is not None:
        y = y + reshape(bias, shape)
    return y


def _normalize(x: Tensor, axes: tuple, eps: float) -> Tensor:
    """(x - mean) / sqrt(var + eps) over ``axes`` (biased variance): the fused op above.
    Composed of primitive ops it reads::

        mu = md.mean(x, dim=axes, keepdim=True)
        var = md.var(x, dim=axes, keepdim=True, correction=0)
        return (x - mu) / md.sqrt(var + eps)
    """
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        raise TypeError("normalization: input must be a floating-point Tensor")
    return Standardize.apply(x, axes=tuple(a % x.ndim for a in axes), eps=float(eps))


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Layer norm like ``torch.nn.functional.layer_norm``: normalize over the last
    len(normalized_shape) axes of each sample, y = xhat * weight + bias (weight, bias of
    shape normalized_shape)."""
    require_tensor(input, "input", "layer_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape or len(shape) > input.ndim:
        raise ValueError(f"layer_norm: normalized_shape {shape} does not match the last axes of input "
                         f"shape {input.shape}")
    y = _normalize(input, tuple(range(input.ndim - len(shape), input.ndim)), eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def _channel_affine(y: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    shape = (1, y.shape[1]) + (1,) * (y.ndim - 2)
    if weight is not None:
        y = y * reshape(weight, shape)
    if bias is not None:
        y = y + reshape(bias, shape)
    return y


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Group norm like ``torch.nn.functional.group_norm``: input (N, C, *), channels split
    into ``num_groups`` groups of C / num_groups; each (sample, group) is normalized over its
    channels and positions; then a per-channel affine map."""
    if require_tensor(input, "input", "group_norm").ndim < 2:
        raise ValueError(f"group_norm: input must be (N, C, ...), got shape {input.shape}")
    n, c = input.shape[:2]
    if num_groups < 1 or c % num_groups:
        raise ValueError(f"group_norm: num_channels {c} must be divisible by num_groups {num_groups}")
    grouped = reshape(input, (n, num_groups, -1))
    y = reshape(_normalize(grouped, (2,), eps), input.shape)
    return _channel_affine(y, weight, bias)


def instance_norm(input: Tensor, running_mean: Any = None, running_var: Any = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """Instance norm (per sample and channel, over the spatial axes), like
    ``torch.nn.functional.instance_norm`` with its defaults: the instance statistics are used
    in both modes (running statistics are not supported)."""
    if running_mean is not None or running_var is not None or not use_input_stats:
        raise NotImplementedError("instance_norm: running statistics are not supported (use_input_stats=True, "
                                  "running_mean=None, running_var=None)")
    if require_tensor(input, "input", "instance_norm").ndim < 3:
        raise ValueError(f"instance_norm: input must be (N, C, L) or (N, C, H, W), got shape {input.shape}")
    if input.shape[2:] and all(s == 1 for s in input.shape[2:]):
        raise ValueError(f"instance_norm: expected more than 1 spatial element per channel, got input of "
                         f"shape {input.shape}")
    y = _normalize(input, tuple(range(2, input.ndim)), eps)
    return _channel_affine(y, weight, bias)



# =========================================================================== losses


_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str, op: str, extra: tuple = ()) -> None:
    if reduction not in _REDUCTIONS + extra:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS + extra}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _on_device_of(input: Tensor, other: Any, op: str, name: str) -> None:
    """``other`` (a Tensor or array) must be on ``input``'s device."""
    data = other.data if isinstance(other, Tensor) else other
    if type(data) is backend.np.ndarray and type(input.data) is backend.np.ndarray:
        return  # both on the CPU
    if backend.is_backend_array(data) and backend.device_of(data) != input.device:
        raise RuntimeError(f"{op}: input is on {input.device} but {name} is on {backend.device_of(data)}; "
                           "move one with .to()")


def _regression_pair(input: Any, target: Any, op: str) -> tuple[Tensor, Tensor]:
    input, target = require_tensor(input, "input", op), require_tensor(target, "target", op)
    _on_device_of(input, target, op, "target")
    if input.shape != target.shape:
        raise ValueError(f"{op}: input shape {input.shape} and target shape {target.shape} differ "
                         "(regression losses need equal shapes; reshape one, e.g. target.reshape(input.shape))")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {input.dtype}")
    if target.dtype != input.dtype:
        target = target.astype(input.dtype)
    return input, target


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """(input - target)^2, reduced."""
    _check_reduction(reduction, "mse_loss")
    input, target = _regression_pair(input, target, "mse_loss")
    r = input - target
    return _reduce(r * r, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """|input - target|, reduced (gradient 0 where input == target, like PyTorch)."""
    _check_reduction(reduction, "l1_loss")
    input, target = _regression_pair(input, target, "l1_loss")
    return _reduce(abs(input - target), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """r^2 / 2 where |r| < delta, else delta (|r| - delta / 2); r = input - target.
    Quadratic near 0, linear (gradient +-delta) in the tails; both pieces meet with equal
    value and slope at |r| = delta."""
    _check_reduction(reduction, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    input, target = _regression_pair(input, target, "huber_loss")
    r = input - target
    a = abs(r)
    quadratic = r * r * 0.5
    linear = (a - 0.5 * delta) * delta
    return _reduce(where(a.data < a.dtype.type(delta), quadratic, linear), reduction)


def pseudo_huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """The lecture's pseudo-Huber loss delta^2 (sqrt(1 + (r / delta)^2) - 1), r = input - target:
    ~ r^2 / 2 for small r, ~ delta |r| for large r, smooth everywhere (no PyTorch
    counterpart)."""
    _check_reduction(reduction, "pseudo_huber_loss")
    if not delta > 0:
        raise ValueError(f"pseudo_huber_loss: delta must be positive, got {delta}")
    input, target = _regression_pair(input, target, "pseudo_huber_loss")
    z = (input - target) / delta
    # sqrt(1 + z^2) - 1 == z^2 / (sqrt(1 + z^2) + 1); the right side avoids cancellation
    # for small z (in float32 the left side loses all digits below |z| ~ 1e-3)
    z2 = z * z
    return _reduce(z2 / (sqrt(z2 + 1.0) + 1.0) * (delta * delta), reduction)


#: The unsigned integer dtype of each integer width (for reading targets as unsigned).
_UNSIGNED = {size: backend.np.dtype(f"u{size}") for size in (1, 2, 4, 8)}


def _class_targets(input: Tensor, target: Any, op: str, ignore_index: int) -> tuple[int, bool]:
    """Validate integer class targets; return the number of classes C and whether no target
    can equal ``ignore_index`` (all in [0, C) and ignore_index outside it).

    input (N, C) or (N, C, d1, ...) (or (C,)), target (N,) or (N, d1, ...) (or ()) of
    integers in [0, C) or equal to ignore_index.
    """
    x = require_tensor(input, "input", op).data
    t = require_tensor(target, "target", op).data
    _on_device_of(input, target, op, "target")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point (logits/log-probabilities), got dtype {x.dtype}")
    if x.ndim < 1:
        raise ValueError(f"{op}: input must be (N, C) or (N, C, d1, ...), got a scalar")
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices (e.g. int64), got dtype {t.dtype}; "
                        "convert with target.long()")
    shape = x.shape
    expected = (shape[0],) + shape[2:] if x.ndim >= 2 else ()
    if t.shape != expected:
        raise ValueError(f"{op}: target shape {t.shape} does not match input shape {shape}: "
                         f"expected target shape {expected} (input is (N, C, ...), target (N, ...))")
    c = shape[1] if x.ndim >= 2 else shape[0]
    # The usual case in one reduction: read as unsigned integers, negative targets become
    # huge (two's complement), so max < C says that every target is in [0, C).
    if t.size == 0 or int(t.view(_UNSIGNED[t.dtype.itemsize]).max()) < c:
        return c, not 0 <= ignore_index < c
    bad = (t != ignore_index) & ((t < 0) | (t >= c))
    if bool(bad.any()):
        value = int(t[bad].reshape(-1)[0])
        raise IndexError(f"{op}: target {value} is out of bounds: class indices must be in [0, {c - 1}] "
                         f"for input with C = {c} classes (or equal ignore_index = {ignore_index})")
    return c, False


def _class_weights(weight: Tensor | None, c: int, like: Any, op: str) -> Any:
    xp = backend.array_module(like)
    if weight is None:
        return xp.ones(c, dtype=like.dtype)
    w = weight.data if isinstance(weight, Tensor) else weight
    if backend.is_backend_array(w) and backend.device_of(w) != backend.device_of(like):
        raise RuntimeError(f"{op}: input is on {backend.device_of(like)} but weight is on {backend.device_of(w)}")
    if tuple(w.shape) != (c,):
        raise ValueError(f"{op}: weight must have shape ({c},) (one weight per class), got {tuple(w.shape)}")
    return xp.asarray(w).astype(like.dtype, copy=False)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy on logits, like ``torch.nn.functional.cross_entropy``: input (N, C) or
    (N, C, d1, ...) (or (C,) for one sample), target integer classes (N,) / (N, d1, ...).
    Fused log-softmax + NLL (see the module docstring); logits of 1e4 are fine."""
    op = "cross_entropy"
    _check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    c, none_ignored = _class_targets(input, target, op, ignore_index)
    w = None if weight is None else _class_weights(weight, c, input.data, op)
    return CrossEntropy.apply(input, target, weight=w, ignore_index=None if none_ignored else ignore_index,
                              reduction=reduction, label_smoothing=float(label_smoothing))


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood on log-probabilities, like ``torch.nn.functional.nll_loss``."""
    op = "nll_loss"
    _check_reduction(reduction, op)
    c, _ = _class_targets(input, target, op, ignore_index)
    w = _class_weights(weight, c, input.data, op)
    return NLL.apply(input, target, weight=w, ignore_index=ignore_index, reduction=reduction)


def _elementwise_weight(weight: Any, input: Tensor, op: str, name: str = "weight") -> Any:
    if weight is None:
        return None
    w = weight.data if isinstance(weight, Tensor) else weight
    _on_device_of(input, w, op, name)
    try:
        backend.np.broadcast_shapes(tuple(w.shape), input.shape)
    except ValueError:
        raise ValueError(f"{op}: {name} of shape {tuple(w.shape)} cannot be broadcast to input shape "
                         f"{input.shape}") from None
    return w.astype(input.dtype, copy=False)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on probabilities in [0, 1], like PyTorch (logs clamped at -100)."""
    op = "binary_cross_entropy"
    _check_reduction(reduction, op)
    input, target = _regression_pair(input, target, op)
    x = input.data
    if bool(((x < 0) | (x > 1)).any()):
        raise ValueError(f"{op}: all elements of input must be probabilities in [0, 1]; got values in "
                         f"[{float(x.min())}, {float(x.max())}] (use binary_cross_entropy_with_logits on logits)")
    w = _elementwise_weight(weight, input, op)
    return _reduce(BinaryCrossEntropy.apply(input, target, weight=w), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable op, like PyTorch's (``pos_weight``
    broadcasts against the last (class) axis, weighting the positive term)."""
    op = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, op)
    input, target = _regression_pair(input, target, op)
    w = _elementwise_weight(weight, input, op)
    pw = _elementwise_weight(pos_weight, input, op, "pos_weight")
    out = BinaryCrossEntropyWithLogits.apply(input, target, weight=w, pos_weight=pw)
    if out.shape != input.shape:  # a weight with more axes than the input
        raise ValueError(f"{op}: weights made the loss shape {out.shape} differ from input shape {input.shape}")
    return _reduce(out, reduction)


def kl_div(input: Tensor, target: Tensor, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence like ``torch.nn.functional.kl_div``: ``input`` holds log q, ``target``
    p (or log p when ``log_target``); pointwise p (log p - log q), 0 where p = 0.
    ``reduction="batchmean"`` divides the sum by the batch size input.shape[0] (the true KL
    per sample); "mean" divides by the number of elements, as PyTorch does."""
    op = "kl_div"
    _check_reduction(reduction, op, ("batchmean",))
    input, target = _regression_pair(input, target, op)
    if log_target:
        pointwise = exp(target) * (target - input)
    else:
        positive = target.data > 0
        safe = where(positive, target, 1.0)  # log(1) = 0 where p = 0: no log(0)
        pointwise = where(positive, target * (log(safe) - input), 0.0)
    if reduction == "batchmean":
        n = input.shape[0] if input.ndim else 1
        return pointwise.sum() / float(n)
    return _reduce(pointwise, reduction)


# =========================================================================== more tensor ops
# The ops a PyTorch student reaches for, with PyTorch's names and keywords (``dim=``,
# ``keepdim=``, ``descending=``, ``largest=`` ...). Tensor functions that are also methods
# are written once, as the method (``minidl/tensor.py``); the Functions with their forward
# and backward are in ``ops/numeric.py``, ``ops/ordering.py``, ``ops/indexing.py`` and
# ``ops/activation.py``.
# --------------------------------------------------------------------------- math and statistics


def sin(input: Any) -> Tensor:
    """sin x;  d/dx = cos x."""
    return as_input(input, "sin").sin()


def cos(input: Any) -> Tensor:
    """cos x;  d/dx = -sin x."""
    return as_input(input, "cos").cos()


def sign(input: Any) -> Tensor:
    """-1, 0 or 1 for negative, zero, positive entries (gradient 0)."""
    return as_input(input, "sign").sign()


def floor(input: Any) -> Tensor:
    """The largest integer <= x (gradient 0)."""
    return as_input(input, "floor").floor()


def ceil(input: Any) -> Tensor:
    """The smallest integer >= x (gradient 0)."""
    return as_input(input, "ceil").ceil()


def round(input: Any, *, decimals: int = 0) -> Tensor:
    """Round to ``decimals`` places, halves to even (0.5 -> 0, 1.5 -> 2), as PyTorch (gradient 0)."""
    return as_input(input, "round").round(decimals)


@dim_aliases
def prod(input: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Product over ``dim`` (None: all entries); its gradient is right with zeros in the input
    (see ``ops.numeric.Prod``)."""
    return as_input(input, "prod").prod(dim, keepdim)


@dim_aliases
def cumsum(input: Any, dim: int) -> Tensor:
    """Running sum along ``dim``."""
    return as_input(input, "cumsum").cumsum(dim)


@dim_aliases
def cumprod(input: Any, dim: int) -> Tensor:
    """Running product along ``dim``; its gradient is right with zeros in the input."""
    return as_input(input, "cumprod").cumprod(dim)


@dim_aliases
def norm(input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """The vector p-norm over ``dim`` (p = 1, 2, "fro", inf or any p >= 1; None: all
    entries). At a zero norm the gradient is 0, as PyTorch's; with p = inf tied maxima
    share the gradient evenly."""
    return as_input(input, "norm").norm(p, dim, keepdim)


# --------------------------------------------------------------------------- ordering


@dim_aliases
def sort(input: Any, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """``(values, indices)`` sorted along ``dim``: always stable, NaN counted largest (see
    ``ops/ordering.py``)."""
    return as_input(input, "sort").sort(dim, descending, stable)


@dim_aliases
def argsort(input: Any, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The int64 indices that sort ``input`` along ``dim`` (stable)."""
    return as_input(input, "argsort").argsort(dim, descending, stable)


@dim_aliases
def topk(input: Any, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
    """``(values, indices)`` of the ``k`` largest (or smallest) entries along ``dim``; among
    equal values the earliest entries win."""
    return as_input(input, "topk").topk(k, dim, largest, sorted)


# --------------------------------------------------------------------------- shape and indexing


@dim_aliases
def narrow(input: Any, dim: int, start: int, length: int) -> Tensor:
    """Entries ``start .. start + length - 1`` along ``dim`` (a view)."""
    return as_input(input, "narrow").narrow(dim, start, length)


def movedim(input: Any, source: Any, destination: Any) -> Tensor:
    """Move dim(s) ``source`` to ``destination``, the others keeping their order."""
    return as_input(input, "movedim").movedim(source, destination)


moveaxis = movedim


def swapaxes(input: Any, axis0: int, axis1: int) -> Tensor:
    """Swap two dims (``transpose``)."""
    return as_input(input, "swapaxes").transpose(axis0, axis1)


swapdims = swapaxes


@dim_aliases
def unflatten(input: Any, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dim ``dim`` into ``sizes``."""
    return as_input(input, "unflatten").unflatten(dim, sizes)


@dim_aliases
def index_select(input: Any, dim: int, index: Any) -> Tensor:
    """The slices at positions ``index`` (1-D, int) along ``dim``."""
    return as_input(input, "index_select").index_select(dim, index)


def masked_select(input: Any, mask: Any) -> Tensor:
    """The entries where ``mask`` is true, as 1-D."""
    return as_input(input, "masked_select").masked_select(mask)


@dim_aliases
def diff(input: Any, n: int = 1, dim: int = -1) -> Tensor:
    """Differences of neighbours along ``dim``, ``n`` times."""
    return as_input(input, "diff").diff(n, dim)


@dim_aliases
def median(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    """The lower median (PyTorch's): a 0-d tensor, or ``(values, indices)`` along ``dim``."""
    return as_input(input, "median").median(dim, keepdim)


@dim_aliases
def select(input: Any, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, that dimension removed."""
    return as_input(input, "select").select(dim, index)


@dim_aliases
def unbind(input: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Every slice along ``dim``, that dimension removed."""
    return as_input(input, "unbind").unbind(dim)


def nonzero(input: Any, *, as_tuple: bool = False) -> Any:
    """Indices of the nonzero entries: int64 (count, ndim), or one tensor per dimension."""
    return as_input(input, "nonzero").nonzero(as_tuple=as_tuple)


@dim_aliases
def count_nonzero(input: Any, dim: Any = None) -> Tensor:
    """How many entries over ``dim`` are nonzero (int64)."""
    return as_input(input, "count_nonzero").count_nonzero(dim)


def numel(input: Any) -> int:
    """The number of entries."""
    return as_input(input, "numel").numel()


@dim_aliases
def flip(input: Any, dims: Any) -> Tensor:
    """Reverse the entries along ``dims`` (an int or a tuple)."""
    return as_input(input, "flip").flip(dims)


@dim_aliases
def roll(input: Any, shifts: Any, dims: Any = None) -> Tensor:
    """Shift entries cyclically by ``shifts`` along ``dims`` (None: the flattened tensor)."""
    return as_input(input, "roll").roll(shifts, dims)


@dim_aliases
def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``tensor`` along ``dim`` (views): of size ``split_size_or_sections`` (an
    int; the last may be smaller) or of the listed sizes."""
    return as_input(tensor, "split").split(split_size_or_sections, dim)


@dim_aliases
def chunk(input: Any, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``chunks`` pieces of ceil(n / chunks) entries along ``dim`` (fewer if they run out)."""
    return as_input(input, "chunk").chunk(chunks, dim)


@dim_aliases
def gather(input: Any, dim: int, index: Any) -> Tensor:
    """out[..., i, ...] = input[..., index[..., i, ...], ...] along ``dim`` (``torch.gather``)."""
    return as_input(input, "gather").gather(dim, index)


@dim_aliases
def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Tensor:
    """A copy of ``input`` with ``src`` added at the positions ``index`` names along ``dim``."""
    return as_input(input, "scatter_add").scatter_add(dim, index, src)


def masked_fill(input: Any, mask: Any, value: Any) -> Tensor:
    """``value`` where ``mask`` is True, else ``input`` (the mask broadcasts)."""
    return as_input(input, "masked_fill").masked_fill(mask, value)


def tril(input: Any, diagonal: int = 0) -> Tensor:
    """The lower triangle (j - i <= diagonal) of the last two dims; zeros above."""
    return as_input(input, "tril").tril(diagonal)


def triu(input: Any, diagonal: int = 0) -> Tensor:
    """The upper triangle (j - i >= diagonal) of the last two dims; zeros below."""
    return as_input(input, "triu").triu(diagonal)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Class indices (int, shape S) -> int64 one-hot rows (shape S + (num_classes,)), as
    ``torch.nn.functional.one_hot``; ``num_classes=-1`` uses max + 1. Not differentiable."""
    t = as_input(tensor, "one_hot")
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects integer class indices (int64), got dtype {t.dtype}; convert with .long()")
    if not is_count(num_classes, -1):
        raise ValueError(f"one_hot: num_classes must be -1 or a non-negative int, got {num_classes!r}")
    xp = backend.array_module(t.data)
    if num_classes == -1:
        if t.data.size == 0:
            raise ValueError("one_hot: cannot infer the number of classes of an empty tensor; pass num_classes")
        num_classes = int(t.data.max()) + 1
    if t.data.size and int(t.data.min()) < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {int(t.data.min())}")
    if t.data.size and int(t.data.max()) >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes={num_classes}, "
                         f"got {int(t.data.max())}")
    out = (t.data[..., None] == xp.arange(num_classes)).astype(backend.int64)
    return Tensor._make(out, False, None)


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad with a constant, as ``torch.nn.functional.pad``: ``pad`` lists (before, after)
    amounts starting from the **last** dim: ``(left, right)`` pads the last dim,
    ``(left, right, top, bottom)`` the last two, and so on. Negative amounts crop. Only
    ``mode="constant"`` (value ``value``, default 0); the gradient is the un-padded part."""
    x = as_input(input, "pad")
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is supported, got mode={mode!r}")
    amounts = [int(a) for a in pad]
    if len(amounts) % 2 or len(amounts) // 2 > x.ndim:
        raise ValueError(f"pad: pad must hold (before, after) pairs for at most {x.ndim} dims (last dim first), "
                         f"got {tuple(pad)} for shape {x.shape}")
    widths = [(0, 0)] * x.ndim
    for k in range(len(amounts) // 2):
        widths[x.ndim - 1 - k] = (amounts[2 * k], amounts[2 * k + 1])
    out_shape = tuple(n + b + a for n, (b, a) in zip(x.shape, widths))
    if any(n < 0 for n in out_shape):
        raise ValueError(f"pad: padding {tuple(pad)} of shape {x.shape} gives the negative size {out_shape}")
    return ConstantPad.apply(x, widths=tuple(widths), value=0 if value is None else value)


# --------------------------------------------------------------------------- more activations


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/beta) log(1 + e^{beta x}), the identity where beta x > threshold; computed as
    max(t, 0) + log(1 + e^-|t|) (t = beta x), so it never overflows."""
    if not beta > 0:
        raise ValueError(f"softplus: beta must be positive, got {beta!r}")
    return Softplus.apply(_float_input(input, "softplus"), beta=float(beta), threshold=float(threshold))


def silu(input: Any, inplace: bool = False) -> Tensor:
    """SiLU (swish): x sigma(x)."""
    _no_inplace(inplace, "silu")
    return SiLU.apply(_float_input(input, "silu"))


def selu(input: Any, inplace: bool = False) -> Tensor:
    """SELU: scale (x if x > 0 else alpha (e^x - 1)), alpha ~ 1.6733, scale ~ 1.0507."""
    _no_inplace(inplace, "selu")
    return SELU.apply(_float_input(input, "selu"))


def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clipped to [min_val, max_val]; gradient 1 strictly inside, 0 at and beyond the bounds."""
    _no_inplace(inplace, "hardtanh")
    if not min_val < max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must be below max_val ({max_val})")
    return Hardtanh.apply(_float_input(input, "hardtanh"), min_val=float(min_val), max_val=float(max_val))


def relu6(input: Any, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6) = hardtanh(x, 0, 6) (gradient 0 at 0 and at 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def logsigmoid(input: Any) -> Tensor:
    """log sigma(x) = min(x, 0) - log(1 + e^-|x|): finite for every x (the naive form gives -inf)."""
    return LogSigmoid.apply(_float_input(input, "logsigmoid"))


def softsign(input: Any) -> Tensor:
    """x / (1 + |x|)."""
    return Softsign.apply(_float_input(input, "softsign"))


def _no_inplace(inplace: bool, op: str) -> None:
    if inplace:
        raise ValueError(f"{op}(inplace=True) is not supported by minidl (autograd needs the input); "
                         "use inplace=False")
