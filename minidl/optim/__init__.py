"""``minidl.optim``: optimizers (SGD, Adagrad, RMSprop, Adam, AdamW) and LR schedules."""

from __future__ import annotations

from typing import Any

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD


def param_groups_weight_decay(model: Any, weight_decay: float = 1e-2) -> list[dict]:
    """Two param groups from a model: weight decay on weights, none on biases/normalization.

    Rule: a trainable parameter with ``ndim <= 1`` (biases, BatchNorm/LayerNorm scales and
    shifts) goes to the group with ``weight_decay=0``; every other one (Linear/Conv weight
    matrices and kernels) to the group with ``weight_decay=weight_decay``. Parameters with
    ``requires_grad=False`` are left out. Returns ``[{"params": decay, "weight_decay": wd},
    {"params": no_decay, "weight_decay": 0.0}]`` (empty groups dropped).
    """
    decay: list[Any] = []
    no_decay: list[Any] = []
    for p in model.parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 else decay).append(p)
    groups = []
    if decay:
        groups.append({"params": decay, "weight_decay": float(weight_decay)})
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups


__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "lr_scheduler", "param_groups_weight_decay"]
