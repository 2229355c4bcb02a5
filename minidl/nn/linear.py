"""nn.Linear, nn.Identity, nn.Flatten."""

from __future__ import annotations

from typing import Any

from .. import creation
from ..autograd import Function
from ..ops import binary_operands
from ..ops import flatten as _flatten
from ..ops.checks import require_tensor
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


class LinearFunction(Function):
    """The fused affine map y = x W^T + b (one graph node instead of transpose, matmul, add).

    x (..., in), W (out, in), b (out,) -> y (..., out). With g = dL/dy flattened to (M, out)
    and x to (M, in) (M = the product of the batch dims):

        dL/dx = g W        (M, out) @ (out, in)
        dL/dW = g^T x      (out, M) @ (M, in): each weight's gradient summed over the batch
        dL/db = sum_m g    (out,)
    """

    def forward(self, x: Any, w: Any, b: Any = None) -> Any:
        self.save(x, w)
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        y = x2 @ w.T
        if b is not None:
            y += b
        return y.reshape(x.shape[:-1] + (w.shape[0],)) if x.ndim != 2 else y

    def backward(self, gy: Any) -> tuple:
        x, w = self.saved
        g2 = gy.reshape(-1, gy.shape[-1]) if gy.ndim != 2 else gy
        needs = self.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            gx = g2 @ w
            if x.ndim != 2:
                gx = gx.reshape(x.shape)
        if needs[1]:
            x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            gw = g2.T @ x2
        if len(needs) > 2 and needs[2]:
            gb = g2.sum(axis=0)
        return (gx, gw, gb)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b (``torch.nn.functional.linear``).

    input (..., in_features), weight (out_features, in_features), bias (out_features,) ->
    (..., out_features). Gradients: dL/dx = g W, dL/dW = g^T x (summed over the batch),
    dL/db = sum of g over the batch, with g = dL/dy.
    """
    require_tensor(input, "input", "linear")
    if require_tensor(weight, "weight", "linear").ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {input.shape} has {input.shape[-1] if input.ndim else 0} features in its last "
            f"dimension, but the weight {weight.shape} expects in_features={weight.shape[1]}"
        )
    input, weight = binary_operands(input, weight, "linear")
    if bias is None:
        return LinearFunction.apply(input, weight)
    if bias.shape != (weight.shape[0],):
        raise ValueError(
            f"linear: bias must have shape ({weight.shape[0]},) to match the weight {weight.shape}, got {bias.shape}"
        )
    weight, bias = binary_operands(weight, bias, "linear")
    return LinearFunction.apply(input, weight, bias)


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
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
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

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return _flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
