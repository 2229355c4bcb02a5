"""Adam and AdamW: bias-corrected first and second moment estimates."""

from __future__ import annotations

from typing import Any, Iterable

from .. import backend
from .optimizer import Optimizer, _check_betas, _check_nonneg


class Adam(Optimizer):
    r"""Adam (PyTorch's ``torch.optim.Adam``), the lecture's algorithm box.

    For each parameter ``x`` with gradient ``g`` at step ``t = 1, 2, ...``::

        g      <- -g                     if maximize       (climb the objective instead)
        g      <- g + weight_decay * x                    (L2 added to the gradient)
                  or, with decoupled_weight_decay (AdamW):
        x      <- (1 - lr * weight_decay) * x             (the gradient is left as it is)
        m      <- beta1 * m + (1 - beta1) * g              (first moment,  m_0 = 0)
        v      <- beta2 * v + (1 - beta2) * g * g          (second moment, v_0 = 0)
        m_hat   = m / (1 - beta1**t)                       (bias corrections)
        v_hat   = v / (1 - beta2**t)       (amsgrad: v_max <- max(v_max, v); v_hat = v_max / (1 - beta2**t))
        x      <- x - lr * m_hat / (sqrt(v_hat) + eps)

    The Training Tips deck's Adam slide (the algorithm box beside it is right) squares ``m_{t-1}``, ``g_t``
    and ``v_{t-1}``, drops the exponent ``t`` from the bias corrections and puts ``eps`` inside
    the square root; the box's equations above are what is implemented (and what PyTorch does).
    """

    _state_names = frozenset({"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"})
    _filled_on_load = {"maximize": False, "decoupled_weight_decay": False}

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        _check_betas(group["betas"])
        group["betas"] = tuple(float(b) for b in group["betas"])
        _check_nonneg("epsilon value", group["eps"])
        _check_nonneg("weight_decay value", group["weight_decay"])

    def _update(self, x: Any, g: Any, state: dict, group: dict) -> None:
        xp = backend.array_module(x)
        b1, b2 = group["betas"]
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        if "exp_avg" not in state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(x)
            state["exp_avg_sq"] = xp.zeros_like(x)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(x)
        state["step"] += 1
        t = state["step"]
        if group["maximize"]:
            g = -g                                            # g <- -g  (maximize: climb the objective)
        if group["decoupled_weight_decay"]:
            if wd != 0:
                x *= 1 - lr * wd                              # x <- (1 - lr * weight_decay) * x   (AdamW)
        elif wd != 0:
            g = g + wd * x                                    # g <- g + weight_decay * x
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= b1                                               # m <- beta1 * m + (1 - beta1) * g
        m += (1 - b1) * g
        v *= b2                                               # v <- beta2 * v + (1 - beta2) * g * g
        v += (1 - b2) * g * g
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"]                       # v_max <- max(v_max, v)
            xp.maximum(v, state["exp_avg_sq"], out=v)
        m_hat = m / (1 - b1 ** t)                             # m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - b2 ** t)                             # v_hat = v / (1 - beta2**t)
        denom = xp.sqrt(v_hat)                                # x <- x - lr * m_hat / (sqrt(v_hat) + eps),
        del v_hat                                             #   divided in place in the temporaries
        denom += eps                                          #   (fewer large allocations per step)
        m_hat /= denom
        m_hat *= lr
        x -= m_hat


class AdamW(Adam):
    r"""AdamW (PyTorch's ``torch.optim.AdamW``): Adam with *decoupled* weight decay, that is
    ``Adam(..., decoupled_weight_decay=True)`` with a default ``weight_decay`` of 0.01.

    Before the Adam step, ``x <- (1 - lr * weight_decay) * x``; the gradient is not changed,
    so the decay is not rescaled by ``1 / sqrt(v_hat)`` (with plain SGD the two are the same).
    The Training Tips deck's weight-decay middle step ``w - dL/dw + lambda w`` drops ``lr`` and has the wrong
    sign: it is ``w - lr (dL/dw + lambda w) = (1 - lr lambda) w - lr dL/dw``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        if group["decoupled_weight_decay"] is not True:
            raise ValueError("AdamW: decoupled_weight_decay must be True (AdamW always decouples the decay; "
                             "Adam adds weight_decay * x to the gradient)")

    def _loaded_group(self, i: int, saved: dict, params: list) -> dict:
        # an Adam state dict loads into AdamW, which stays decoupled (as torch.optim.AdamW does)
        return super()._loaded_group(i, {**saved, "decoupled_weight_decay": True}, params)
