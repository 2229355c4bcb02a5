"""Tensor factories: ``md.zeros``, ``md.randn``, ``md.arange`` ... (PyTorch's names).

Shapes may be given as ``zeros(2, 3)`` or ``zeros((2, 3))``. Floating-point factories
default to float32; ``dtype=`` changes it. New tensors are made on the current backend
(``md.set_backend``) unless ``device=`` says otherwise. Random ones use the seeded
generator (``md.manual_seed``).
"""

from __future__ import annotations

import numbers
from typing import Any

from . import backend
from .tensor import Tensor, shape_args


def _make(array: Any, requires_grad: bool) -> Tensor:
    return Tensor(array, requires_grad=requires_grad)


def _float(dtype: Any) -> Any:
    return backend.float32 if dtype is None else backend.as_dtype(dtype)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False, device: str | None = None) -> Tensor:
    """A tensor of zeros."""
    xp = backend.module_for_device(device)
    return _make(xp.zeros(shape_args(shape), dtype=_float(dtype)), requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False, device: str | None = None) -> Tensor:
    """A tensor of ones."""
    xp = backend.module_for_device(device)
    return _make(xp.ones(shape_args(shape), dtype=_float(dtype)), requires_grad)


def full(shape: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False,
         device: str | None = None) -> Tensor:
    """A tensor filled with ``fill_value``; without ``dtype``, the dtype follows the value as in
    ``torch.full``: bool for True/False, int64 for integers, float32 for other numbers."""
    if dtype is None:
        if isinstance(fill_value, bool) or getattr(getattr(fill_value, "dtype", None), "kind", "") == "b":
            dtype = backend.bool_
        elif isinstance(fill_value, numbers.Integral):
            dtype = backend.int64
    xp = backend.module_for_device(device)
    return _make(xp.full(shape_args((shape,)), fill_value, dtype=_float(dtype)), requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``t``'s shape, dtype and device."""
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``t``'s shape, dtype and device."""
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with ``t``'s shape, dtype and device."""
    return t.new_full(t.shape, fill_value, dtype=dtype, requires_grad=requires_grad)


def empty(*shape: Any, dtype: Any = None, requires_grad: bool = False, device: str | None = None) -> Tensor:
    """PyTorch's uninitialised tensor. minidl fills it with zeros, so no stale memory is ever
    read (a student printing ``empty`` sees zeros, not garbage); code that relies on
    overwriting it works the same."""
    return zeros(*shape, dtype=dtype, requires_grad=requires_grad, device=device)


def empty_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``empty`` with ``t``'s shape, dtype and device (zeros, as ``empty``)."""
    return zeros_like(t, dtype=dtype, requires_grad=requires_grad)


def rand_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples from [0, 1) with ``t``'s shape, dtype and device."""
    return rand(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)


def randn_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples with ``t``'s shape, dtype and device."""
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False, device: str | None = None) -> Tensor:
    """``start, start + step, ...`` up to (excluding) ``stop``; int64 for ints, else float32."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        all_ints = all(isinstance(v, int) for v in (start, stop, step))
        dtype = backend.int64 if all_ints else backend.float32
    xp = backend.module_for_device(device)
    return _make(xp.arange(start, stop, step, dtype=backend.as_dtype(dtype)), requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None,
             requires_grad: bool = False, device: str | None = None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    An integer ``dtype`` gives PyTorch's integers: start and end are truncated to integers,
    the values start + i * step (from the end for the second half) are truncated toward zero.
    """
    xp = backend.module_for_device(device)
    dtype = _float(dtype)
    if dtype == backend.bool_:
        raise TypeError("linspace: dtype bool is not supported (use a float or integer dtype)")
    if dtype.kind == "f":
        return _make(xp.linspace(start, end, int(steps), dtype=dtype), requires_grad)
    lo, hi, n = int(start), int(end), int(steps)
    step = (hi - lo) / (n - 1) if n > 1 else 0.0
    i = xp.arange(n, dtype=backend.float64)
    values = xp.where(i < n // 2, lo + step * i, hi - step * (n - 1 - i)) if n != 1 else xp.full(1, lo)
    return _make(values.astype(dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False,
        device: str | None = None) -> Tensor:
    """The n x m identity matrix."""
    xp = backend.module_for_device(device)
    return _make(xp.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False, device: str | None = None) -> Tensor:
    """Uniform samples from [0, 1)."""
    xp = backend.module_for_device(device)
    dtype = _float(dtype)
    return _make(backend.rng(xp).random(shape_args(shape), dtype=dtype), requires_grad)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False, device: str | None = None) -> Tensor:
    """Standard normal samples N(0, 1)."""
    xp = backend.module_for_device(device)
    dtype = _float(dtype)
    return _make(backend.rng(xp).standard_normal(shape_args(shape), dtype=dtype), requires_grad)


def randint(low: Any = 0, high: Any = None, size: Any = None, *, dtype: Any = None,
            device: str | None = None) -> Tensor:
    """Integers drawn uniformly from [low, high), int64 unless ``dtype`` says otherwise.

    PyTorch's two forms: ``md.randint(high, size)`` (low = 0) and ``md.randint(low, high, size)``;
    ``size`` is a tuple (``md.randint(10, (3, 4))``).
    """
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    if size is None:
        raise TypeError("randint: missing size, e.g. md.randint(10, (3,)) or md.randint(0, 10, (3,))")
    if not low < high:
        raise ValueError(f"randint: low ({low}) must be less than high ({high})")
    xp = backend.module_for_device(device)
    values = backend.rng(xp).integers(low, high, size=shape_args((size,)), dtype=backend.int64)
    return _make(values if dtype is None else values.astype(backend.as_dtype(dtype)), False)


def from_numpy(array: Any) -> Tensor:
    """A CPU tensor sharing ``array``'s memory and dtype (``torch.from_numpy``): changes to one
    show in the other. ``md.tensor`` copies instead."""
    if not isinstance(array, backend.np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: dtype {array.dtype} is not supported (expected bool, integer or float)")
    return Tensor(array)


def randperm(n: int, device: str | None = None) -> Tensor:
    """A random permutation of 0..n-1, int64."""
    xp = backend.module_for_device(device)
    g = backend.rng(xp)
    # CuPy's Generator has no permutation: the order that sorts n uniform draws is a uniform permutation
    perm = g.permutation(n) if hasattr(g, "permutation") else xp.argsort(g.random(n))
    return _make(perm.astype(backend.int64), False)
