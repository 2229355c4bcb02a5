"""Stochastic gradient descent with optional momentum, dampening, Nesterov and L2 decay."""

from __future__ import annotations

from typing import Any, Iterable

from .. import backend
from .optimizer import Optimizer, _check_nonneg, required


class SGD(Optimizer):
    r"""SGD (PyTorch's ``torch.optim.SGD``), the lecture's form of momentum.

    For each parameter ``x`` (any shape) with gradient ``g`` (same shape)::

        g <- -g                      if maximize     (climb the objective instead of descending)
        g <- g + weight_decay * x                    (L2 regularization added to the gradient)
        v <- g                       on the first step (momentum > 0)
        v <- rho * v + (1 - dampening) * g          afterwards          (rho = momentum)
        d <- g + rho * v  if nesterov  else  v      (d = g when momentum == 0)
        x <- x - lr * d

    The step goes *against* the gradient: the DI504 deck's ``x += lr * dx`` climbs the loss.
    Nesterov is PyTorch's reformulation (look-ahead gradient expressed at the current point).
    """

    _state_names = frozenset({"momentum_buffer"})

    def __init__(self, params: Iterable[Any], lr: Any = required, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False) -> None:
        if lr is required:
            raise TypeError("SGD() missing required argument: lr")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        _check_nonneg("momentum value", group["momentum"])
        _check_nonneg("weight_decay value", group["weight_decay"])
        _check_nonneg("dampening value", group["dampening"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")

    def _update(self, x: Any, g: Any, state: dict, group: dict) -> None:
        lr, rho, dampening = group["lr"], group["momentum"], group["dampening"]
        if group["maximize"]:
            g = -g                                            # g <- -g  (maximize: climb the objective)
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * x                 # g <- g + weight_decay * x
        d = g
        if rho != 0:
            v = state.get("momentum_buffer")
            if v is None:
                v = state["momentum_buffer"] = backend.array_module(x).array(g, copy=True)  # v <- g (first step)
            else:
                v *= rho                                      # v <- rho * v + (1 - dampening) * g
                v += g if dampening == 0 else (1 - dampening) * g
            d = g + rho * v if group["nesterov"] else v       # d <- g + rho * v  or  v
        x -= lr * d                                           # x <- x - lr * d
