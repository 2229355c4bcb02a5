"""Activations beyond ``elementwise.py``: ELU, GELU (exact and tanh), the step function,
maxout (fused), dropout's masked multiply, and softplus, SiLU, SELU, hardtanh, log-sigmoid
and softsign. Each ``Function`` has its derivative in its docstring, beside the code that
computes it.

Their public functions (``F.elu``, ``F.gelu``, ``F.step``, ``F.maxout``, ``F.dropout``,
``F.softplus``, ``F.silu``, ``F.selu``, ``F.hardtanh``, ``F.logsigmoid``, ``F.softsign``) are
in ``minidl/functional.py``.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..autograd import Function

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# --------------------------------------------------------------------------- erf


def erf(x: Any) -> Any:
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x e^{-t^2} dt, element-wise on an
    array, accurate to float64 rounding (NumPy has no erf; this keeps minidl free of SciPy).

    * |x| < 3: the everywhere-positive series (no cancellation)
      erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (1*3*5*...*(2n+1));
    * |x| >= 3: erf(x) = 1 - erfc(x) with Laplace's continued fraction
      erfc(x) = e^{-x^2}/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))).

    Computed in float64 (absolute error below 2e-15 against ``math.erf``, tested) and
    returned in ``x``'s dtype.
    """
    xp = backend.array_module(x)
    a = xp.abs(x).astype(backend.float64)
    small = xp.minimum(a, 3.0)
    # series, 100 terms: at |x| = 3 the terms fall below 1e-17 of the sum well before that
    x2 = small * small
    term = small.copy()
    total = small.copy()
    for n in range(1, 100):
        term = term * (2.0 * x2 / (2 * n + 1))
        total = total + term
        if n % 8 == 0 and bool((term <= 1e-17 * total).all()):
            break  # every remaining term is below float64 resolution
    out = (2.0 / math.sqrt(math.pi)) * xp.exp(-x2) * total
    if bool((a >= 3.0).any()):
        big = xp.maximum(a, 3.0)
        f = big.copy()
        for k in range(60, 0, -1):
            f = big + (k / 2.0) / f
        tail = 1.0 - xp.exp(-big * big) / (math.sqrt(math.pi) * f)
        out = xp.where(a < 3.0, out, tail)
    return (xp.sign(x) * out).astype(x.dtype)


# --------------------------------------------------------------------------- Functions


class ELU(Function):
    """y = x for x > 0, alpha (e^x - 1) for x <= 0 (Clevert et al., 2015).

    dy/dx = 1 for x > 0, alpha e^x = y + alpha for x <= 0.
    """

    def forward(self, x: Any, alpha: float) -> Any:
        xp = backend.array_module(x)
        a = x.dtype.type(alpha)
        neg = a * xp.expm1(xp.minimum(x, 0))  # expm1 is exact for small |x|; min avoids overflow
        y = xp.where(x > 0, x, neg)
        self.alpha = a
        self.save(x, y)
        return y

    def backward(self, gy: Any) -> tuple:
        x, y = self.saved
        xp = backend.array_module(x)
        return (gy * xp.where(x > 0, x.dtype.type(1), y + self.alpha),)


class GELU(Function):
    """Gaussian error linear unit (Hendrycks & Gimpel, 2016): y = x Phi(x), where
    Phi(x) = (1 + erf(x / sqrt 2)) / 2 is the standard normal CDF.

    dy/dx = Phi(x) + x phi(x), with phi(x) = e^{-x^2/2} / sqrt(2 pi).

    ``approximate="tanh"``: y = x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3);
    dy/dx = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    """

    def forward(self, x: Any, approximate: str) -> Any:
        xp = backend.array_module(x)
        t = x.dtype.type
        self.approximate = approximate
        if approximate == "tanh":
            u = t(_SQRT_2_OVER_PI) * (x + t(0.044715) * x * x * x)
            th = xp.tanh(u)
            self.save(x, th)
            return t(0.5) * x * (t(1) + th)
        cdf = t(0.5) * (t(1) + erf(x * t(_INV_SQRT_2)))
        self.save(x, cdf)
        return x * cdf

    def backward(self, gy: Any) -> tuple:
        x, s = self.saved
        xp = backend.array_module(x)
        t = x.dtype.type
        if self.approximate == "tanh":
            th = s
            du = t(_SQRT_2_OVER_PI) * (t(1) + t(3 * 0.044715) * x * x)
            return (gy * (t(0.5) * (t(1) + th) + t(0.5) * x * (t(1) - th * th) * du),)
        pdf = t(_INV_SQRT_2PI) * xp.exp(t(-0.5) * x * x)
        return (gy * (s + x * pdf),)


class Step(Function):
    """Heaviside step: y = 1 for x >= 0, else 0. **Not differentiable**: its derivative is 0
    everywhere except at 0 (where it does not exist), so it gives gradient descent no signal;
    this is why the perceptron's step was replaced by sigmoid-like units. Forward only
    (for plots); backward raises."""

    def forward(self, x: Any) -> Any:
        return (x >= 0).astype(x.dtype)

    def backward(self, gy: Any) -> tuple:
        raise RuntimeError(
            "Step is not differentiable: its derivative is 0 almost everywhere (and undefined at 0), "
            "so it gives gradient descent no signal; use a sigmoid/tanh/ReLU to train"
        )


class Maxout(Function):
    """Max over groups of ``pieces`` consecutive features (Goodfellow et al., 2013).

    x: (..., out * pieces) -> y: (..., out), y_j = max_k x_{j*pieces + k}.

    dy_j/dx_i = 1 for the winning piece i of unit j, 0 for the others. **Ties**: the whole
    gradient goes to the *first* maximal piece (the one ``argmax`` returns), as max-pooling
    in PyTorch does; (``md.max`` splits it evenly instead: both are valid subgradients).
    """

    def forward(self, x: Any, pieces: int) -> Any:
        xp = backend.array_module(x)
        grouped = x.reshape(x.shape[:-1] + (x.shape[-1] // pieces, pieces))
        idx = grouped.argmax(axis=-1)
        self.idx, self.pieces, self.in_shape = idx, pieces, x.shape
        return xp.take_along_axis(grouped, idx[..., None], axis=-1)[..., 0]

    def backward(self, gy: Any) -> tuple:
        xp = backend.array_module(gy)
        winner = self.idx[..., None] == xp.arange(self.pieces)  # one-hot of the winning piece
        g = xp.where(winner, gy[..., None], gy.dtype.type(0))
        return (g.reshape(self.in_shape),)


class MaskedScale(Function):
    """y = x * m with a fixed mask m (dropout: m is 0 for dropped units and the scale for
    kept ones);  dy/dx = m."""

    def forward(self, x: Any, mask: Any) -> Any:
        self.mask = mask
        return x * mask

    def backward(self, gy: Any) -> tuple:
        return (gy * self.mask,)


# --------------------------------------------------------------------------- more activations
# PyTorch's softplus, SiLU, SELU, hardtanh (ReLU6 is hardtanh(0, 6)), logsigmoid, softsign.
# Each is written in a form that cannot overflow: e^t is only ever taken of t <= 0.


def _log1p_exp_neg_abs(x: Any) -> Any:
    """log(1 + e^-|x|), in (0, log 2]: never overflows (e^-|x| <= 1)."""
    xp = backend.array_module(x)
    return xp.log1p(xp.exp(-xp.abs(x)))


def _sigmoid(x: Any) -> Any:
    """sigma(x) = 1 / (1 + e^-x) with e^t taken of t = -|x| <= 0 only (see ``ops.Sigmoid``)."""
    xp = backend.array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Softplus(Function):
    """y = (1/beta) log(1 + e^{beta x}), a smooth ReLU; y = x where beta x > threshold
    (PyTorch's switch back to the identity, where the two agree to float precision).

    Stable form: log(1 + e^t) = max(t, 0) + log(1 + e^-|t|), so e^t is never taken of a large
    t (the naive form overflows at t = 89 in float32).

    dy/dx = sigma(beta x) (1 where beta x > threshold).
    """

    __slots__ = ("beta", "threshold")

    def forward(self, x: Any, beta: float, threshold: float) -> Any:
        xp = backend.array_module(x)
        b = x.dtype.type(beta)
        self.beta, self.threshold = b, x.dtype.type(threshold)
        t = b * x
        self.save(x)
        return xp.where(t > self.threshold, x, (xp.maximum(t, 0) + _log1p_exp_neg_abs(t)) / b)

    def backward(self, gy: Any) -> tuple:
        (x,) = self.saved
        t = self.beta * x
        return (gy * backend.array_module(x).where(t > self.threshold, x.dtype.type(1), _sigmoid(t)),)


class SiLU(Function):
    """SiLU / swish: y = x sigma(x);  dy/dx = sigma(x) (1 + x (1 - sigma(x))).

    sigma is computed overflow-free (e^t of t <= 0 only)."""

    def forward(self, x: Any) -> Any:
        s = _sigmoid(x)
        self.save(x, s)
        return x * s

    def backward(self, gy: Any) -> tuple:
        x, s = self.saved
        return (gy * s * (1 + x * (1 - s)),)


#: SELU's constants (Klambauer et al., 2017): with them, activations of a wide net with
#: LeCun-normal weights keep mean 0 and variance 1 from layer to layer.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class SELU(Function):
    """y = scale x for x > 0, scale alpha (e^x - 1) for x <= 0 (the constants above);
    dy/dx = scale for x > 0, scale alpha e^x for x <= 0.

    e^x is taken of min(x, 0) only (expm1: exact near 0, no overflow for large x)."""

    def forward(self, x: Any) -> Any:
        xp = backend.array_module(x)
        t = x.dtype.type
        self.save(x)
        return t(SELU_SCALE) * xp.where(x > 0, x, t(SELU_ALPHA) * xp.expm1(xp.minimum(x, 0)))

    def backward(self, gy: Any) -> tuple:
        (x,) = self.saved
        xp = backend.array_module(x)
        t = x.dtype.type
        return (gy * t(SELU_SCALE) * xp.where(x > 0, t(1), t(SELU_ALPHA) * xp.exp(xp.minimum(x, 0))),)


class Hardtanh(Function):
    """y = min(max(x, min_val), max_val);  dy/dx = 1 for min_val < x < max_val, else 0.

    Unlike ``clamp`` (gradient 1 at the bounds too), the gradient is 0 *at* the bounds, as
    PyTorch's hardtanh and relu6 have it."""

    __slots__ = ("lo", "hi")

    def forward(self, x: Any, min_val: float, max_val: float) -> Any:
        self.lo, self.hi = x.dtype.type(min_val), x.dtype.type(max_val)
        self.save(x)
        return backend.array_module(x).clip(x, self.lo, self.hi)

    def backward(self, gy: Any) -> tuple:
        (x,) = self.saved
        return (gy * ((x > self.lo) & (x < self.hi)),)


class LogSigmoid(Function):
    """y = log sigma(x) = -log(1 + e^-x), computed as min(x, 0) - log(1 + e^-|x|): the naive
    log(sigma(x)) becomes log(0) = -inf once sigma(x) underflows (x below about -104 in
    float32), where this form gives about x; dy/dx = 1 - sigma(x) = sigma(-x)."""

    def forward(self, x: Any) -> Any:
        self.save(x)
        return backend.array_module(x).minimum(x, 0) - _log1p_exp_neg_abs(x)

    def backward(self, gy: Any) -> tuple:
        (x,) = self.saved
        return (gy * _sigmoid(-x),)


class Softsign(Function):
    """y = x / (1 + |x|), in (-1, 1), saturating polynomially rather than exponentially;
    dy/dx = 1 / (1 + |x|)^2. (Nothing here can overflow.)"""

    def forward(self, x: Any) -> Any:
        d = 1 + backend.array_module(x).abs(x)
        self.save(d)
        return x / d

    def backward(self, gy: Any) -> tuple:
        (d,) = self.saved
        return (gy / (d * d),)
