"""Weight initialization, in place, with PyTorch's names, formulas and defaults.

Every function fills ``tensor`` in place (under ``no_grad``, so it works on Parameters),
using minidl's seeded generator (``md.manual_seed``), and returns the tensor.

Why the scale matters (the lecture's derivation)
------------------------------------------------
A unit computes z = sum_{i=1..N} w_i x_i. With w and x independent, zero-mean, and the x_i
(and w_i) identically distributed,

    Var(z) = N Var(w) Var(x).

So the activations keep their variance through a layer exactly when Var(w) = 1/N: too small
and the signal (and the gradient) shrinks geometrically with depth, too large and it grows.

* LeCun: Var(w) = 1/fan_in (keeps the forward signal; for tanh-like units around 0). The
  decks call this 1/N rule "Xavier"; Glorot and Bengio's own rule is the one below, and
  the two agree only when fan_in = fan_out.
* The older heuristic U[-1/sqrt(n), 1/sqrt(n)] (PyTorch's Linear/Conv default,
  ``kaiming_uniform_(w, a=sqrt(5))``) has Var(w) = 1/(3n): a third of LeCun's.
* Xavier/Glorot: the backward pass wants Var(w) = 1/fan_out; the compromise is
  Var(w) = 2 / (fan_in + fan_out). A uniform U[-s, s] has variance s^2/3, hence
  s = sqrt(6 / (fan_in + fan_out)).
* He/Kaiming: after a ReLU only half of a symmetric input survives:
  E[max(0, y)^2] = Var(y)/2, so Var(z) = N Var(w) Var(y)/2 and keeping the variance needs
  Var(w) = 2/fan_in, i.e. the gain sqrt(2).

Fans follow PyTorch: for a Linear weight (out, in), fan_in = in and fan_out = out; for a
conv weight (out, in, kh, kw), fan_in = in*kh*kw and fan_out = out*kh*kw.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..autograd import no_grad
from ..tensor import Tensor

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d", "sigmoid")


def _check_tensor(tensor: Any, fn: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init.{fn}: expected a Tensor or Parameter, got {type(tensor).__name__}")
    if not backend.is_float_dtype(tensor.dtype):
        raise TypeError(f"init.{fn}: needs a floating-point tensor, got dtype {tensor.dtype}")
    return tensor


def _fill(tensor: Tensor, values: Any) -> Tensor:
    with no_grad():
        tensor.copy_(values)
    return tensor


def _rng(tensor: Tensor) -> Any:
    return backend.rng(backend.array_module(tensor.data))


def _uniform_array(tensor: Tensor, a: float, b: float) -> Any:
    u = _rng(tensor).random(tensor.shape, dtype=tensor.dtype if tensor.dtype.itemsize >= 4 else backend.float32)
    return u * (b - a) + a


def _normal_array(tensor: Tensor, mean: float, std: float) -> Any:
    dtype = tensor.dtype if tensor.dtype.itemsize >= 4 else backend.float32
    return _rng(tensor).standard_normal(tensor.shape, dtype=dtype) * std + mean


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that multiplies the standard deviation for a given nonlinearity (PyTorch's
    table): linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2), leaky_relu sqrt(2 / (1 + a^2))
    (a = ``param``, default 0.01), selu 3/4.

    relu's sqrt(2) is He's factor 2 (E[max(0, y)^2] = Var(y)/2) under the square root.
    """
    if nonlinearity in _LINEAR_FNS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
        f"{[*_LINEAR_FNS, 'tanh', 'relu', 'leaky_relu', 'selu']}"
    )


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: Linear (out, in) -> (in, out); conv (out, in, *k) ->
    (in * prod(k), out * prod(k)). Needs at least 2 dimensions."""
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dimensions, got shape {shape}")
    receptive = 1
    for n in shape[2:]:
        receptive *= n
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor: Any, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not supported; expected 'fan_in' or 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _positive_fan(fan: int, fn: str, tensor: Tensor) -> int:
    if fan == 0:
        raise ValueError(f"init.{fn}: cannot initialize an empty tensor of shape {tensor.shape} (fan is 0)")
    return fan


# ---------------------------------------------------------------------- constants


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return _fill(_check_tensor(tensor, "zeros_"), 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return _fill(_check_tensor(tensor, "ones_"), 1)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _fill(_check_tensor(tensor, "constant_"), val)


# ---------------------------------------------------------------------- plain distributions


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Draw from U[a, b) (variance (b - a)^2 / 12, i.e. s^2/3 for U[-s, s])."""
    _check_tensor(tensor, "uniform_")
    if not a <= b:
        raise ValueError(f"init.uniform_: need a <= b, got a={a}, b={b}")
    return _fill(tensor, _uniform_array(tensor, a, b))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Draw from N(mean, std^2)."""
    _check_tensor(tensor, "normal_")
    if std < 0:
        raise ValueError(f"init.normal_: std must be >= 0, got {std}")
    return _fill(tensor, _normal_array(tensor, mean, std))


# ---------------------------------------------------------------------- scaled by the fans


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot & Bengio (2010): U[-s, s] with s = gain * sqrt(6 / (fan_in + fan_out)).

    Why: z = sum of N terms w_i x_i with independent zero-mean w and x has
    Var(z) = N Var(w) Var(x), so the forward pass keeps its variance when Var(w) = 1/fan_in and
    the backward pass (the same argument on the gradients) when Var(w) = 1/fan_out; Xavier
    takes the compromise Var(w) = 2 / (fan_in + fan_out). U[-s, s] has variance s^2/3, hence
    s = sqrt(6 / (fan_in + fan_out)) (times ``gain``).
    """
    _check_tensor(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / _positive_fan(fan_in + fan_out, "xavier_uniform_", tensor))
    bound = math.sqrt(3.0) * std
    return _fill(tensor, _uniform_array(tensor, -bound, bound))


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot & Bengio (2010): N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    Var(z) = N Var(w) Var(x) for a sum of N independent zero-mean products: Var(w) = 1/fan_in
    keeps the forward variance, 1/fan_out the backward one, and 2 / (fan_in + fan_out) is the
    compromise (see ``xavier_uniform_``).
    """
    _check_tensor(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / _positive_fan(fan_in + fan_out, "xavier_normal_", tensor))
    return _fill(tensor, _normal_array(tensor, 0.0, std))


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """He et al. (2015): U[-bound, bound] with bound = gain * sqrt(3 / fan), where
    gain = calculate_gain(nonlinearity, a) and fan is fan_in (keeps forward variance) or
    fan_out (keeps backward variance). Var = gain^2 / fan = 2 / fan for ReLU.

    ``kaiming_uniform_(w, a=sqrt(5))`` (PyTorch's Linear/Conv default) gives gain^2 = 1/3 and
    bound = 1/sqrt(fan_in): the lecture's classic U[-1/sqrt(n), 1/sqrt(n)].

    Why 2 for ReLU: E[max(0, y)^2] = Var(y)/2 for y symmetric around 0, so a ReLU layer gives
    Var(z) = N Var(w) Var(y) / 2, which stays constant when Var(w) = 2/N (see ``kaiming_normal_``).
    """
    _check_tensor(tensor, "kaiming_uniform_")
    fan = _positive_fan(_calculate_correct_fan(tensor, mode), "kaiming_uniform_", tensor)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return _fill(tensor, _uniform_array(tensor, -bound, bound))


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """He et al. (2015): N(0, std^2) with std = gain / sqrt(fan); for ReLU (gain sqrt(2))
    Var(w) = 2/fan_in.

    Why the 2: a ReLU layer's input is x = max(0, y) with y symmetric around 0, so
    E[x^2] = Var(y)/2 (half of y's mass is zeroed, the other half keeps its square). Then
    Var(z) = N Var(w) E[x^2] = N Var(w) Var(y) / 2, and the variance stays the same from layer
    to layer when Var(w) = 2/N. (The lecture slide's sigma = 2/sqrt(N) is a slip for sqrt(2/N).)
    """
    _check_tensor(tensor, "kaiming_normal_")
    fan = _positive_fan(_calculate_correct_fan(tensor, mode), "kaiming_normal_", tensor)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _fill(tensor, _normal_array(tensor, 0.0, std))


def lecun_normal_(tensor: Tensor) -> Tensor:
    """LeCun (1998): N(0, 1/fan_in), i.e. Var(w) = 1/N so that Var(z) = Var(x).

    (Not in torch.nn.init; this is the plain, non-truncated normal. Equals
    ``kaiming_normal_(w, nonlinearity="linear")``.)
    """
    _check_tensor(tensor, "lecun_normal_")
    fan_in = _positive_fan(_calculate_fan_in_and_fan_out(tensor)[0], "lecun_normal_", tensor)
    return _fill(tensor, _normal_array(tensor, 0.0, 1.0 / math.sqrt(fan_in)))


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Saxe et al. (2013): a (semi-)orthogonal matrix times ``gain``.

    The tensor is viewed as (rows, cols) = (shape[0], prod(shape[1:])); a Gaussian matrix is
    QR-factorized and Q's columns sign-corrected by diag(R) (so Q is uniformly distributed),
    as PyTorch does. Rows (rows <= cols) or columns (rows >= cols) come out orthonormal, so
    an orthogonal W preserves the norm of every vector: ||W x|| = ||x||.
    """
    _check_tensor(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(f"init.orthogonal_: needs at least 2 dimensions, got shape {tensor.shape}")
    if tensor.data.size == 0:
        return tensor
    xp = backend.array_module(tensor.data)
    rows = tensor.shape[0]
    cols = tensor.data.size // rows
    flat = _rng(tensor).standard_normal((rows, cols), dtype=backend.float64)
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diagonal(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape).astype(tensor.dtype))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0) -> Tensor:
    """N(mean, std^2) restricted to [a, b] (values outside are redrawn)."""
    _check_tensor(tensor, "trunc_normal_")
    if not a < b:
        raise ValueError(f"init.trunc_normal_: need a < b, got a={a}, b={b}")
    xp = backend.array_module(tensor.data)
    out = _normal_array(tensor, mean, std)
    bad = (out < a) | (out > b)
    for _ in range(1000):
        if not bool(bad.any()):
            break
        out = xp.where(bad, _normal_array(tensor, mean, std), out)
        bad = (out < a) | (out > b)
    else:
        raise ValueError(f"init.trunc_normal_: [a, b] = [{a}, {b}] holds almost no mass of N({mean}, {std}^2)")
    return _fill(tensor, out)


def layer_default_(weight: Tensor, bias: Tensor | None = None) -> None:
    """PyTorch's default initialization of Linear and Conv layers (their ``reset_parameters``).

    weight ~ kaiming_uniform_(a=sqrt(5)) = U[-1/sqrt(fan_in), 1/sqrt(fan_in)] and bias ~ the same
    interval, fan_in = in_features (Linear) or in_channels * kh * kw (Conv2d): the lecture's
    U[-1/sqrt(n), 1/sqrt(n)]. A layer with no inputs (fan_in = 0) has an empty weight and a
    zero bias, as in PyTorch.
    """
    fan_in, _ = _calculate_fan_in_and_fan_out(weight)
    if fan_in > 0:
        kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)


__all__ = [
    "calculate_gain", "zeros_", "ones_", "constant_", "uniform_", "normal_", "xavier_uniform_",
    "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "lecun_normal_", "orthogonal_",
    "trunc_normal_", "layer_default_",
]
