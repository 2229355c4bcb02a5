"""Scratch buffers for in-place updates (one per parameter, not part of the saved state)."""

from __future__ import annotations

from typing import Any

from .. import backend


def scratch(store: dict, key: str, like: Any) -> Any:
    """Return a preallocated array shaped/typed like ``like`` (reused across steps)."""
    buf = store.get(key)
    if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
        buf = backend.array_module(like).empty_like(like)
        store[key] = buf
    return buf


def grad_with_l2(xp: Any, x: Any, g: Any, weight_decay: float, tmp: Any) -> Any:
    """``g + weight_decay * x`` written into ``tmp`` (``g`` itself when weight_decay == 0)."""
    if weight_decay == 0:
        return g
    xp.multiply(x, weight_decay, out=tmp)
    xp.add(tmp, g, out=tmp)
    return tmp
