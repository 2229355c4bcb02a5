"""RMSprop: step sizes from a leaky average of squared gradients."""

from __future__ import annotations

from typing import Any, Iterable

from .. import backend
from ._scratch import grad_with_l2, scratch
from .optimizer import Optimizer, _check_nonneg


class RMSprop(Optimizer):
    r"""RMSprop (PyTorch's ``torch.optim.RMSprop``).

    For each parameter ``x`` with gradient ``g``::

        g   <- g + weight_decay * x
        s   <- alpha * s + (1 - alpha) * g * g                 (s_0 = 0)
        m   <- alpha * m + (1 - alpha) * g        if centered  (m_0 = 0)
        den  = sqrt(s - m * m) + eps  if centered  else  sqrt(s) + eps
        b   <- momentum * b + g / den;  x <- x - lr * b      if momentum > 0
        x   <- x - lr * g / den                               otherwise
    """

    _state_names = frozenset({"step", "square_avg", "momentum_buffer", "grad_avg"})

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))
        self._scratch: dict = {}

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        _check_nonneg("alpha value", group["alpha"])
        _check_nonneg("epsilon value", group["eps"])
        _check_nonneg("weight_decay value", group["weight_decay"])
        _check_nonneg("momentum value", group["momentum"])

    def _update(self, x: Any, g: Any, state: dict, group: dict) -> None:
        xp = backend.array_module(x)
        a = group["alpha"]
        if "square_avg" not in state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(x)
            if group["momentum"] > 0:
                state["momentum_buffer"] = xp.zeros_like(x)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(x)
        sc = self._scratch.setdefault(id(x), {})
        tmp, den = scratch(sc, "g", x), scratch(sc, "d", x)
        state["step"] += 1
        g = grad_with_l2(xp, x, g, group["weight_decay"], tmp)
        s = state["square_avg"]
        s *= a
        xp.multiply(g, g, out=den)
        den *= 1 - a
        s += den
        if group["centered"]:
            m = state["grad_avg"]
            m *= a
            xp.multiply(g, 1 - a, out=den)
            m += den
            xp.multiply(m, m, out=den)
            xp.subtract(s, den, out=den)
            xp.sqrt(den, out=den)
        else:
            xp.sqrt(s, out=den)
        den += group["eps"]
        xp.divide(g, den, out=den)
        if group["momentum"] > 0:
            b = state["momentum_buffer"]
            b *= group["momentum"]
            b += den
            xp.multiply(b, group["lr"], out=den)
        else:
            den *= group["lr"]
        x -= den
