"""nn.Dropout: inverted dropout (PyTorch's convention)."""

from __future__ import annotations

from ..functional import _check_drop_probability, dropout
from ..tensor import Tensor
from .module import Module


class Dropout(Module):
    """Training: zero each element with probability ``p`` and scale the kept ones by
    1/(1 - p), so that E[y] = x (p = 1 zeroes everything); eval (``model.eval()``): the
    identity, never drops.

    The slide's original variant (no scaling in training, multiply by (1 - p) at test time)
    is ``F.dropout(x, p, training, mode="scale_at_test")``; both have the same expected
    activation. The mask comes from minidl's seeded generator (``md.manual_seed``).
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if inplace:
            raise ValueError("Dropout(inplace=True) is not supported by minidl; use inplace=False")
        _check_drop_probability(p, "Dropout")
        self.p = float(p)

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
