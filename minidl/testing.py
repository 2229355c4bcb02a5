"""Test helpers for ops and layers: hypothesis strategies and an op-test factory.

Public, so users can test their own ops to the same bar as minidl's. One line per op:

    from minidl import testing as T
    test_exp = T.op_test(md.exp, np.exp)
    test_mul = T.op_test(lambda a, b: a * b, np.multiply, n_inputs=2)
    test_log = T.op_test(md.log, np.log, elements=T.floats(0.1, 10))

``op_test`` returns a hypothesis-driven pytest function that, for each drawn example, runs
``check_op``, which checks the bar every op meets:

1. forward equals the NumPy reference (float64);
2. ``md.gradcheck`` passes for *every* input, with a random upstream gradient;
3. the inputs are not mutated by forward or backward;
4. the graph is freed after backward (a second backward raises) and no intermediate tensor
   outlives the output (weak reference check, no garbage collector);
5. in float32 the output and every gradient stay float32 and match the reference;
6. non-contiguous inputs (strided views) give the same values and gradients.

Shapes are drawn with broadcasting (size-1 axes, missing leading axes) unless
``broadcast=False``. Hypothesis profiles: ``register_profiles()`` defines ``fast`` (the
default) and ``thorough``; ``HYPOTHESIS_PROFILE=thorough pytest`` selects the latter.
"""

from __future__ import annotations

import os
import weakref
from typing import Any, Callable, Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from . import backend
from .gradcheck import gradcheck
from .tensor import Tensor, tensor

np = backend.np

__all__ = [
    "floats", "shapes", "broadcastable_shapes", "arrays", "noncontiguous", "check_op", "op_test",
    "register_profiles", "away_from", "assert_close",
]


# --------------------------------------------------------------------------- profiles


def register_profiles() -> None:
    """Register ``fast`` (default) and ``thorough`` profiles; load $HYPOTHESIS_PROFILE."""
    slow = [HealthCheck.too_slow, HealthCheck.data_too_large]
    settings.register_profile("fast", max_examples=12, deadline=None, suppress_health_check=slow)
    settings.register_profile("thorough", max_examples=200, deadline=None, suppress_health_check=slow)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))


# --------------------------------------------------------------------------- strategies


def floats(min_value: float = -3.0, max_value: float = 3.0) -> st.SearchStrategy:
    """Finite float64 values in [min_value, max_value] (no NaN/Inf, no subnormals)."""
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False,
                     allow_subnormal=False, width=64)


def away_from(points: Sequence[float], margin: float = 1e-2, min_value: float = -3.0,
              max_value: float = 3.0) -> st.SearchStrategy:
    """Floats at least ``margin`` from each of ``points`` (kinks such as 0 for relu/abs,
    where central differences straddle the non-differentiable point)."""
    return floats(min_value, max_value).filter(lambda v: all(abs(v - p) >= margin for p in points))


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy:
    """Array shapes, including 0-d and size-1 axes."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(n: int = 2, min_dims: int = 0, max_dims: int = 4, max_side: int = 4) -> st.SearchStrategy:
    """Tuples of ``n`` shapes that broadcast together (some axes 1, some missing)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side
    ).map(lambda b: tuple(b.input_shapes))


def arrays(shape: Any, elements: st.SearchStrategy | None = None, unique: bool = False,
           dtype: Any = "float64") -> st.SearchStrategy:
    """NumPy arrays of ``shape`` (a tuple or a strategy) with ``elements``."""
    return hnp.arrays(np.dtype(dtype), shape, elements=elements if elements is not None else floats(), unique=unique)


def noncontiguous(a: Any) -> Any:
    """The same values as ``a`` in a strided (non-contiguous) view of a bigger buffer."""
    a = np.asarray(a)
    if a.ndim == 0 or a.size < 2:
        return a.copy()
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    big[..., ::2] = a
    view = big[..., ::2]
    assert not view.flags.c_contiguous
    return view


# --------------------------------------------------------------------------- checks


def assert_close(actual: Any, expected: Any, rtol: float = 1e-7, atol: float = 1e-9, what: str = "") -> None:
    """Like ``numpy.testing.assert_allclose`` but also checks shapes, and accepts tensors."""
    if isinstance(actual, Tensor):
        actual = actual.numpy()
    else:
        actual = backend.to_numpy(actual if backend.is_backend_array(actual) else np.asarray(actual))
    expected = np.asarray(expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}: shape {actual.shape}, expected {expected.shape}")
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def _call(op: Callable, inputs: Sequence[Tensor], kwargs: dict) -> Tensor:
    out = op(*inputs, **kwargs)
    if not isinstance(out, Tensor):
        raise AssertionError(f"the op must return a Tensor, got {type(out).__name__}")
    return out


def check_op(op: Callable[..., Tensor], reference: Callable[..., Any], *arrays: Any,
             kwargs: dict | None = None, grad: bool | Sequence[bool] = True, float32: bool = True,
             noncontig: bool = True, rtol: float = 1e-7, atol: float = 1e-9,
             grad_atol: float = 1e-5, grad_rtol: float = 1e-3, name: str | None = None) -> None:
    """Check one op on concrete float64 NumPy ``arrays`` against the NumPy ``reference``.

    ``grad`` may be a list saying which inputs are differentiable (e.g. not an index).
    Raises ``AssertionError`` (or ``GradcheckError``) describing the first failure.
    """
    kwargs = kwargs or {}
    name = name or getattr(op, "__name__", repr(op))
    arrays = tuple(np.array(a, dtype=np.float64) if not isinstance(a, np.ndarray) else a for a in arrays)
    wants: list[bool] = list(grad) if isinstance(grad, (list, tuple)) else [bool(grad)] * len(arrays)
    originals = [a.copy() for a in arrays]

    # 1. forward against NumPy, float64
    inputs = [tensor(a, requires_grad=bool(w and a.dtype.kind == "f")) for a, w in zip(arrays, wants)]
    out = _call(op, inputs, kwargs)
    expected = np.asarray(reference(*arrays, **kwargs))
    assert_close(out, expected, rtol=rtol, atol=atol, what=f"{name}: forward vs NumPy")
    if out.dtype != np.float64 and expected.dtype == np.float64:
        raise AssertionError(f"{name}: float64 inputs gave a {out.dtype} output")

    if any(t.requires_grad for t in inputs):
        # 2. gradients of every input, random upstream gradient
        gradcheck(lambda *xs: _call(op, xs, kwargs), inputs, atol=grad_atol, rtol=grad_rtol)

        # 4. graph freed after backward; no intermediate outlives the output
        out = _call(op, inputs, kwargs)
        upstream = np.random.default_rng(1).standard_normal(out.shape)
        fn_ref = weakref.ref(out.grad_fn) if out.grad_fn is not None else None
        out.backward(upstream)
        if out.grad_fn is not None:
            try:
                out.backward(upstream)
            except RuntimeError:
                pass
            else:
                raise AssertionError(f"{name}: a second backward through a freed graph did not raise")
        grads64 = [None if t.grad is None else t.grad.copy() for t in inputs]
        del out
        if fn_ref is not None and fn_ref() is not None:
            raise AssertionError(f"{name}: the graph is still alive after the output was deleted (reference cycle?)")

        # 6. non-contiguous inputs give the same values and gradients
        if noncontig:
            nc_inputs = [tensor(noncontiguous(a), requires_grad=t.requires_grad) for a, t in zip(arrays, inputs)]
            for t, a in zip(nc_inputs, arrays):
                t.data = noncontiguous(a)  # tensor() copies; keep the strided view
            nc_out = _call(op, nc_inputs, kwargs)
            assert_close(nc_out, expected, rtol=rtol, atol=atol, what=f"{name}: forward on non-contiguous inputs")
            nc_out.backward(upstream)
            for i, (t, g) in enumerate(zip(nc_inputs, grads64)):
                if g is not None:
                    assert_close(t.grad, g, rtol=1e-7, atol=1e-9,
                                 what=f"{name}: gradient of input {i} on non-contiguous inputs")

    # 3. inputs not mutated
    for i, (a, orig) in enumerate(zip(arrays, originals)):
        if not np.array_equal(a, orig, equal_nan=True):
            raise AssertionError(f"{name}: input {i} was modified in place")

    # 5. float32 stays float32 and stays close
    if float32:
        in32 = [tensor(a.astype(np.float32) if a.dtype.kind == "f" else a, requires_grad=t.requires_grad)
                for a, t in zip(arrays, inputs)]
        out32 = _call(op, in32, kwargs)
        if expected.dtype.kind == "f" and out32.dtype != np.float32:
            raise AssertionError(f"{name}: float32 inputs gave a {out32.dtype} output")
        scale = max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
        assert_close(out32.numpy().astype(np.float64), expected, rtol=2e-4, atol=2e-5 * scale,
                     what=f"{name}: float32 forward vs NumPy")
        if out32.requires_grad:
            out32.backward(np.ones(out32.shape, dtype=np.float32))
            for i, t in enumerate(in32):
                if t.requires_grad and t.grad is not None and t.grad.dtype != np.float32:
                    raise AssertionError(f"{name}: gradient of float32 input {i} is {t.grad.dtype}")


def op_test(op: Callable[..., Tensor], reference: Callable[..., Any], n_inputs: int = 1, *,
            elements: st.SearchStrategy | Sequence[st.SearchStrategy] | None = None,
            shapes: st.SearchStrategy | None = None, broadcast: bool = True,
            kwargs: Callable[[tuple], st.SearchStrategy] | dict | None = None,
            unique: bool = False, min_dims: int = 0, max_dims: int = 4, max_side: int = 4,
            **check_kwargs: Any) -> Callable[..., None]:
    """Build a hypothesis test that runs ``check_op`` on drawn inputs.

    * ``shapes``: a strategy of tuples of input shapes; by default ``n_inputs`` mutually
      broadcastable shapes (or identical ones with ``broadcast=False``).
    * ``elements``: one strategy for all inputs, or one per input.
    * ``kwargs``: a dict, or a function of the drawn shapes returning a strategy of dicts
      (e.g. an ``axis`` valid for the drawn ndim).
    * ``unique=True`` draws distinct values (max/min gradients are only defined without ties).
    * extra keyword arguments go to ``check_op`` (``rtol``, ``grad_atol``, ``grad`` ...).
    """
    if shapes is None:
        if broadcast and n_inputs > 1:
            shapes = broadcastable_shapes(n_inputs, min_dims=min_dims, max_dims=max_dims, max_side=max_side)
        else:
            shapes = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, max_side=max_side).map(
                lambda s: (s,) * n_inputs)
    per_input: list[Any] = list(elements) if isinstance(elements, (list, tuple)) else [elements] * n_inputs

    @given(data=st.data())
    def test(data: st.DataObject) -> None:
        drawn_shapes = data.draw(shapes, label="shapes")
        arrays_ = [data.draw(arrays(s, per_input[i], unique=unique), label=f"input{i}")
                   for i, s in enumerate(drawn_shapes)]
        if kwargs is None:
            kw = {}
        elif isinstance(kwargs, dict):
            kw = kwargs
        else:
            kw = data.draw(kwargs(tuple(drawn_shapes)), label="kwargs")
        check_op(op, reference, *arrays_, kwargs=kw, **check_kwargs)

    test.__name__ = f"test_{getattr(op, '__name__', 'op')}"
    return test
