"""nn.Dropout: inverted dropout (PyTorch's convention)."""

from __future__ import annotations

from ..ops.activation import dropout
from ..tensor import Tensor
from .module import Module


class Dropout(Module):
    """Training: zero each element with probability ``p`` and scale the kept ones by
    1/(1 - p), so that E[y] = x; eval (``model.eval()``): the identity, never drops.

    The slide's original variant (no scaling in training, multiply by (1 - p) at test time)
    is ``F.dropout(x, p, training, mode="scale_at_test")``; both have the same expected
    activation. The mask comes from minidl's seeded generator (``md.manual_seed``).
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if inplace:
            raise ValueError("Dropout(inplace=True) is not supported by minidl; use inplace=False")
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise ValueError(
                f"Dropout: probability p={p!r} must be in [0, 1) (p is the probability of dropping a unit)"
            )
        self.p = float(p)

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
