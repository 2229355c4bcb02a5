"""Argument checks shared across minidl: one definition of "a count".

A count is a Python int of at least some minimum, and a bool is not one (Python treats
``True`` as 1, so ``Linear(True, 4)`` would otherwise build a 1-input layer). Layers, tensor
methods and the training tools check their whole-number arguments with :func:`is_count`, so
they agree on what they accept; each raises its own error, naming the argument and what it
expected. This module imports nothing from minidl, so any module may use it.
"""

from __future__ import annotations


def is_count(value: object, minimum: int) -> bool:
    """Whether ``value`` is a Python int (not a bool) and ``value >= minimum``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum
