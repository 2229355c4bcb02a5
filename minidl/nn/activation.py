"""Activation layers (PyTorch names and defaults). Each calls its function in
``minidl/functional.py``; the math (forward and backward) lives in the ops:
``minidl/ops/elementwise.py`` (sigmoid, tanh, relu, leaky_relu), ``minidl/ops/reduction.py``
(softmax, log_softmax) and ``minidl/ops/activation.py`` (ELU, GELU, step, maxout)."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from .._checks import is_count
from ..tensor import Tensor, dim_aliases
from .linear import Linear
from .module import Module


class Sigmoid(Module):
    """sigma(x) = 1 / (1 + e^-x); sigma' = sigma (1 - sigma) <= 1/4 (saturates for large |x|)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x) = 2 sigma(2x) - 1, zero-centred; tanh' = 1 - tanh^2 <= 1."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class ReLU(Module):
    """max(0, x); derivative 1 for x > 0, 0 otherwise (0 at x = 0, as PyTorch)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        if inplace:
            raise ValueError(
                "ReLU(inplace=True) is not supported by minidl (autograd needs the input); use inplace=False"
            )

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise (keeps a small gradient for x < 0)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        _refuse_inplace(inplace, "LeakyReLU")
        self.negative_slope = negative_slope

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, alpha (e^x - 1) otherwise: smooth, saturating to -alpha."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        _refuse_inplace(inplace, "ELU")
        self.alpha = alpha

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(Module):
    """x Phi(x) (Phi the standard normal CDF); ``approximate="tanh"`` for the tanh formula."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Step(Module):
    """Heaviside step (1 for x >= 0, else 0), the perceptron's activation. Forward only, for
    plots: its derivative is 0 almost everywhere, so backward raises a clear error."""

    def forward(self, input: Tensor) -> Tensor:
        return F.step(input)


class Softmax(Module):
    """e^x_i / sum_j e^x_j along ``dim`` (max-shifted, overflow-free)."""

    @dim_aliases
    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """x_i - logsumexp(x) along ``dim``."""

    @dim_aliases
    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Maxout(Module):
    """Maxout unit layer (Goodfellow et al., 2013): y_j = max_{k < pieces} (W_{jk} x + b_{jk}).

    A ``Linear(in_features, out_features * pieces)`` followed by a max over each group of
    ``pieces`` consecutive outputs: (..., in) -> (..., out). Two pieces can represent ReLU
    (max(w x, 0)) and leaky ReLU; more pieces approximate any convex function.
    Ties: the gradient goes to the first maximal piece (see ``ops.activation.Maxout``).
    """

    def __init__(self, in_features: int, out_features: int, pieces: int, bias: bool = True,
                 device: str | None = None, dtype: Any = None) -> None:
        super().__init__()
        if not is_count(pieces, 1):
            raise ValueError(f"Maxout: pieces must be a positive int, got {pieces!r}")
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        self.linear = Linear(in_features, out_features * pieces, bias=bias, device=device, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.maxout(self.linear(input), self.pieces)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}"


__all__ = ["Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "Step", "Softmax", "LogSoftmax", "Maxout"]


# --------------------------------------------------------------------------- more activations
# The math and its stable forms are in ``minidl/ops/activation.py`` (Softplus ... Softsign).


def _refuse_inplace(inplace: bool, name: str) -> None:
    if inplace:
        raise ValueError(f"{name}(inplace=True) is not supported by minidl (autograd needs the input); "
                         "use inplace=False")


class Softplus(Module):
    """(1/beta) log(1 + e^{beta x}), a smooth ReLU (the identity where beta x > threshold);
    derivative sigma(beta x)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        if not beta > 0:
            raise ValueError(f"Softplus: beta must be positive, got {beta!r}")
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class SiLU(Module):
    """x sigma(x) (swish); derivative sigma(x) (1 + x (1 - sigma(x)))."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        _refuse_inplace(inplace, "SiLU")

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input)


class SELU(Module):
    """scale (x if x > 0 else alpha (e^x - 1)) with the self-normalizing constants."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        _refuse_inplace(inplace, "SELU")

    def forward(self, input: Tensor) -> Tensor:
        return F.selu(input)


class Hardtanh(Module):
    """x clipped to [min_val, max_val]; derivative 1 strictly inside, else 0."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        _refuse_inplace(inplace, "Hardtanh")
        if not min_val < max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must be below max_val ({max_val})")
        self.min_val, self.max_val = min_val, max_val

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Hardtanh):
    """min(max(x, 0), 6) = Hardtanh(0, 6)."""

    def __init__(self, inplace: bool = False) -> None:
        _refuse_inplace(inplace, "ReLU6")
        super().__init__(0.0, 6.0)

    def extra_repr(self) -> str:
        return ""


class LogSigmoid(Module):
    """log sigma(x) = min(x, 0) - log(1 + e^-|x|), finite for every x; derivative sigma(-x)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.logsigmoid(input)


class Softsign(Module):
    """x / (1 + |x|); derivative 1 / (1 + |x|)^2."""

    def forward(self, input: Tensor) -> Tensor:
        return F.softsign(input)


__all__ += ["Softplus", "SiLU", "SELU", "Hardtanh", "ReLU6", "LogSigmoid", "Softsign"]
