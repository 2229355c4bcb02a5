"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` (in place on ``.grad``)."""

from __future__ import annotations

import math
from typing import Any, Iterable

from .. import backend
from ..tensor import Tensor


def _grads(parameters: Any) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> float:
    r"""Rescale all gradients together so that their joint norm is at most ``max_norm``.

    ``total = (sum_i ||g_i||_p^p)^(1/p)`` over all parameters (``max_i max |g_i|`` for
    ``norm_type=inf``); every ``g_i`` is multiplied by ``min(1, max_norm / (total + 1e-6))``.
    Returns the total norm *before* clipping as a Python float (PyTorch returns a 0-d tensor).
    A NaN or infinite gradient makes the total non-finite, and, as in PyTorch, that spreads to
    every gradient (NaN) so the step cannot go unnoticed; ``error_if_nonfinite=True`` raises
    instead.
    """
    grads = _grads(parameters)
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    if norm_type == math.inf:
        peaks = [float(backend.array_module(g).abs(g).max()) if g.size else 0.0 for g in grads]
        total = math.nan if any(math.isnan(v) for v in peaks) else max(peaks)  # Python's max skips NaN
    else:
        # summed on the device, one transfer to the host at the end (not one per gradient)
        total = float(sum((backend.array_module(g).abs(g.astype("float64")) ** norm_type).sum() for g in grads))
        total = total ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is non-finite ({total})")
    coef = max_norm / (total + 1e-6)
    if coef < 1 or math.isnan(coef):
        with backend.quiet_float_warnings(invalid="ignore"):  # inf * 0 -> NaN is the intended result
            for g in grads:
                g *= coef
    return total


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamp every gradient entry to ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        backend.array_module(g).clip(g, -clip_value, clip_value, out=g)
