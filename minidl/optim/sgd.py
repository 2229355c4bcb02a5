"""Stochastic gradient descent with optional momentum, dampening, Nesterov and L2 decay."""

from __future__ import annotations

from typing import Any, Iterable

from .. import backend
from ._scratch import grad_with_l2, scratch
from .optimizer import Optimizer, _check_nonneg, required


class SGD(Optimizer):
    r"""SGD (PyTorch's ``torch.optim.SGD``), the lecture's form of momentum.

    For each parameter ``x`` (any shape) with gradient ``g`` (same shape)::

        g <- g + weight_decay * x                    (L2 regularization added to the gradient)
        v <- g                       on the first step (momentum > 0)
        v <- rho * v + (1 - dampening) * g          afterwards          (rho = momentum)
        d <- g + rho * v  if nesterov  else  v      (d = g when momentum == 0)
        x <- x - lr * d

    The step goes *against* the gradient: deck 003's ``x += lr * dx`` climbs the loss.
    Nesterov is PyTorch's reformulation (look-ahead gradient expressed at the current point).
    """

    _state_names = frozenset({"momentum_buffer"})

    def __init__(self, params: Iterable[Any], lr: float = required, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False) -> None:
        if lr is required:
            raise TypeError("SGD() missing required argument: lr")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))
        self._scratch: dict = {}

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        _check_nonneg("momentum value", group["momentum"])
        _check_nonneg("weight_decay value", group["weight_decay"])
        _check_nonneg("dampening value", group["dampening"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")

    def _update(self, x: Any, g: Any, state: dict, group: dict) -> None:
        xp = backend.array_module(x)
        sc = self._scratch.setdefault(id(x), {})
        tmp = scratch(sc, "g", x)
        lr, rho = group["lr"], group["momentum"]
        d = grad_with_l2(xp, x, g, group["weight_decay"], tmp)
        if rho != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = xp.array(d, copy=True)
                state["momentum_buffer"] = buf
            else:
                buf *= rho
                if group["dampening"] == 0:
                    buf += d
                else:
                    step = scratch(sc, "s", x)
                    xp.multiply(d, 1 - group["dampening"], out=step)
                    buf += step
            if group["nesterov"]:
                upd = scratch(sc, "u", x)
                xp.multiply(buf, rho, out=upd)
                upd += d
                upd *= lr
                x -= upd
                return
            d = buf
        upd = scratch(sc, "u", x)
        xp.multiply(d, lr, out=upd)
        x -= upd
