"""RMSprop: step sizes from a leaky average of squared gradients."""

from __future__ import annotations

from typing import Any, Iterable

from .. import backend
from .optimizer import Optimizer, _check_nonneg


class RMSprop(Optimizer):
    r"""RMSprop (PyTorch's ``torch.optim.RMSprop``).

    For each parameter ``x`` with gradient ``g``::

        g   <- -g                                             if maximize
        g   <- g + weight_decay * x
        s   <- alpha * s + (1 - alpha) * g * g                 (s_0 = 0)
        m   <- alpha * m + (1 - alpha) * g        if centered  (m_0 = 0)
        den  = sqrt(s - m * m) + eps  if centered  else  sqrt(s) + eps
        b   <- momentum * b + g / den;  x <- x - lr * b      if momentum > 0
        x   <- x - lr * g / den                               otherwise
    """

    _state_names = frozenset({"step", "square_avg", "momentum_buffer", "grad_avg"})

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        _check_nonneg("alpha value", group["alpha"])
        _check_nonneg("epsilon value", group["eps"])
        _check_nonneg("weight_decay value", group["weight_decay"])
        _check_nonneg("momentum value", group["momentum"])

    def _update(self, x: Any, g: Any, state: dict, group: dict) -> None:
        xp = backend.array_module(x)
        a, eps = group["alpha"], group["eps"]
        if "square_avg" not in state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(x)
            if group["momentum"] > 0:
                state["momentum_buffer"] = xp.zeros_like(x)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(x)
        state["step"] += 1
        if group["maximize"]:
            g = -g                                            # g <- -g  (maximize: climb the objective)
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * x                 # g <- g + weight_decay * x
        s = state["square_avg"]
        s *= a                                                # s <- alpha * s + (1 - alpha) * g * g
        s += (1 - a) * (g * g)
        if group["centered"]:
            m = state["grad_avg"]
            m *= a                                            # m <- alpha * m + (1 - alpha) * g
            m += (1 - a) * g
            den = xp.sqrt(s - m * m) + eps                    # den = sqrt(s - m * m) + eps
        else:
            den = xp.sqrt(s) + eps                            # den = sqrt(s) + eps
        if group["momentum"] > 0:
            b = state["momentum_buffer"]
            b *= group["momentum"]                            # b <- momentum * b + g / den
            b += g / den
            x -= group["lr"] * b                              # x <- x - lr * b
        else:
            x -= group["lr"] * g / den                        # x <- x - lr * g / den
