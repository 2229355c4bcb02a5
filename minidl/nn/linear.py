"""nn.Linear, nn.Identity, nn.Flatten."""

from __future__ import annotations

from typing import Any

from .. import creation
from .._checks import is_count
from ..functional import flatten, linear
from ..tensor import Tensor, dim_aliases
from . import init
from .module import Module, Parameter


class Linear(Module):
    """Fully connected layer y = x W^T + b, weight (out_features, in_features) like PyTorch.

    input (..., in_features) -> output (..., out_features).

    Default initialization (PyTorch's ``reset_parameters``): ``kaiming_uniform_(W, a=sqrt(5))``,
    which is exactly U[-1/sqrt(fan_in), 1/sqrt(fan_in)] (gain^2 = 2/(1 + 5) = 1/3, bound =
    sqrt(3) * gain / sqrt(fan_in) = 1/sqrt(fan_in)), with fan_in = in_features; the bias is
    drawn from the same interval. This is the lecture's U[-1/sqrt(n), 1/sqrt(n)]. Note (a deck
    slip): that rule is the *older heuristic* Glorot & Bengio criticised, not their proposal.
    Its variance is 1/(3n), a third of the 1/n that keeps Var(z) = n Var(w) Var(x) constant,
    so in a deep plain stack the activation variance shrinks about 3x per layer; Xavier's
    U[-sqrt(6/(n_in + n_out)), +sqrt(6/(n_in + n_out))] (``init.xavier_uniform_``) and He's
    N(0, 2/n) (``init.kaiming_normal_``) fix that. The default is kept for PyTorch parity.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if not is_count(v, 0):
                raise ValueError(f"Linear: {name} must be a non-negative int, got {v!r}")
        self.in_features = in_features
        self.out_features = out_features
        dtype = dtype or "float32"
        self.weight = Parameter(creation.zeros(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.zeros(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight, bias ~ U[-1/sqrt(fan_in), 1/sqrt(fan_in)] (PyTorch's default, see init.layer_default_)."""
        init.layer_default_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input unchanged (accepts and ignores constructor arguments, as PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Flatten(Module):
    """Merge dims ``start_dim..end_dim``: (N, C, H, W) -> (N, C*H*W) with the defaults."""

    @dim_aliases
    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
