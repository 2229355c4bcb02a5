"""Numerical gradient checking: is an op's ``backward`` the derivative of its ``forward``?

For a function f of inputs x_1..x_k with output y, pick a *random* upstream gradient G
(shaped like y) and compare, for every entry j of every input that requires grad,

    analytical:  (dL/dx)_j from backward(G), with L = sum(G * f(x))
    numerical:   (L(x + eps e_j) - L(x - eps e_j)) / (2 eps)      (central difference)

A random G matters: with G = ones, an op whose outputs always sum to a constant (batchnorm,
softmax) has dL/dx = 0 and a *wrong* backward that returns zeros would pass.
Central differences have error O(eps^2), so in float64 with eps = 1e-6 they agree with a
correct backward to ~1e-8.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from . import backend
from .autograd import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when analytical and numerical gradients disagree."""


def _outputs(fn: Callable, inputs: Sequence[Tensor]) -> list[Tensor]:
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: the function must return tensors, got {type(o).__name__}")
    return outs


def _fn_name(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def gradcheck(fn: Callable[..., Any], inputs: Sequence[Tensor] | Tensor, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0) -> bool:
    """Check ``fn``'s gradients for every input with ``requires_grad`` against central
    differences; return True, or raise ``GradcheckError`` naming the worst entry.

    ``inputs`` must be float64 tensors (float32 central differences are too coarse).
    An entry passes when |analytical - numerical| <= atol + rtol * |numerical|.
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    for i in checked:
        if inputs[i].dtype != backend.float64:
            raise TypeError(
                f"gradcheck: input {i} is {inputs[i].dtype}; central differences need float64 "
                "(make inputs with dtype=md.float64)"
            )
    name = _fn_name(fn)
    rng = backend.np.random.default_rng(seed)  # local: does not disturb md.manual_seed

    saved_grads = [inputs[i].grad for i in checked]
    for i in checked:
        inputs[i].grad = None
    outs = _outputs(fn, inputs)
    upstream = [backend.array_module(o.data).asarray(rng.standard_normal(o.shape)).astype(o.dtype) for o in outs]
    loss = None
    for o, g in zip(outs, upstream):
        if not o.requires_grad:
            continue
        term = (o * Tensor(g)).sum()
        loss = term if loss is None else loss + term
    analytical = []
    if loss is not None:
        loss.backward()
    for i in checked:
        g = inputs[i].grad
        analytical.append(backend.to_numpy(g) if g is not None else backend.np.zeros(inputs[i].shape))
        inputs[i].grad = saved_grads[checked.index(i)]

    def objective() -> float:
        with no_grad():
            return float(sum(float((backend.to_numpy(o.data).astype(backend.float64) * backend.to_numpy(g)).sum())
                             for o, g in zip(_outputs(fn, inputs), upstream)))

    for pos, i in enumerate(checked):
        x = inputs[i].data
        numerical = backend.np.zeros(x.shape)
        flat_index = list(backend.np.ndindex(x.shape))
        for idx in flat_index:
            original = x[idx].item()
            x[idx] = original + eps
            plus = objective()
            x[idx] = original - eps
            minus = objective()
            x[idx] = original
            numerical[idx] = (plus - minus) / (2 * eps)
        a = analytical[pos]
        err = backend.np.abs(a - numerical)
        allowed = atol + rtol * backend.np.abs(numerical)
        bad = ~(err <= allowed)  # NaN counts as bad
        if bad.any():
            excess = backend.np.where(backend.np.isnan(err), backend.np.inf, err - allowed)
            worst = backend.np.unravel_index(int(backend.np.argmax(excess)), x.shape) if x.ndim else ()
            raise GradcheckError(
                f"gradcheck failed for {name}: input {i} (shape {x.shape}) has {int(bad.sum())} of "
                f"{x.size} entries wrong; worst at index {tuple(int(j) for j in worst)}: "
                f"analytical {a[worst]:.6g}, numerical {numerical[worst]:.6g}, "
                f"|difference| {err[worst]:.3g} > allowed {allowed[worst]:.3g} "
                f"(atol={atol}, rtol={rtol}, eps={eps})"
            )
    return True
