"""Adagrad: per-coordinate step sizes from the running sum of squared gradients."""

from __future__ import annotations

from typing import Any, Iterable

from .. import backend
from .optimizer import Optimizer, _check_nonneg


class Adagrad(Optimizer):
    r"""Adagrad (PyTorch's ``torch.optim.Adagrad``).

    For each parameter ``x`` with gradient ``g`` at step ``t = 1, 2, ...``::

        g    <- -g                               if maximize
        g    <- g + weight_decay * x
        lr_t  = lr / (1 + (t - 1) * lr_decay)
        G_t   = G_{t-1} + g * g                  (G_0 = initial_accumulator_value)
        x    <- x - lr_t * g / (sqrt(G_t) + eps)

    ``G_t`` sums the squares of *all* past gradients of that coordinate, up to and including
    step t. The Training Tips deck's Adagrad slide writes ``sum_{i=0}^t (g_t^i)^2`` (reused index, the same term
    summed); the sum is over time, ``sum_{k<=t} (g_k)^2``, so constant gradients give steps
    ``lr / sqrt(t)``.
    """

    _state_names = frozenset({"step", "sum"})

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        _check_nonneg("lr_decay value", group["lr_decay"])
        _check_nonneg("weight_decay value", group["weight_decay"])
        _check_nonneg("initial_accumulator_value", group["initial_accumulator_value"])
        _check_nonneg("epsilon value", group["eps"])

    def _update(self, x: Any, g: Any, state: dict, group: dict) -> None:
        xp = backend.array_module(x)
        if "sum" not in state:
            state["step"] = 0
            state["sum"] = xp.full(x.shape, group["initial_accumulator_value"], dtype=x.dtype)
        state["step"] += 1
        t = state["step"]
        if group["maximize"]:
            g = -g                                            # g <- -g  (maximize: climb the objective)
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * x                 # g <- g + weight_decay * x
        lr_t = group["lr"] / (1 + (t - 1) * group["lr_decay"])  # lr_t = lr / (1 + (t - 1) * lr_decay)
        G = state["sum"]
        G += g * g                                            # G_t = G_{t-1} + g * g
        x -= lr_t * g / (xp.sqrt(G) + group["eps"])           # x <- x - lr_t * g / (sqrt(G_t) + eps)
