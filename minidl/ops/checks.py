"""Argument checks shared by functions and layers, so the same mistake reads the same everywhere."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor


def require_tensor(value: Any, name: str, op: str) -> Tensor:
    """``value`` itself if it is a Tensor, else a TypeError naming ``op`` and ``name``.

    Layers take tensors only (as in PyTorch): a list or None is refused at once, instead of
    failing later inside the op with an AttributeError.
    """
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__} "
                        "(make one with md.tensor(data))")
    return value
