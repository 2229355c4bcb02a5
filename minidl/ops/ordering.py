"""Ordering: the indices that sort an array, for ``sort``, ``argsort`` and ``topk``.

Sorting is differentiable only through its values: ``sort`` returns
``gather(x, dim, indices)`` (``indexing.Gather``), so each value's gradient flows back to
the entry it came from; the indices are integers and carry no gradient.

Ties and NaN (written once, tested):

* the sort is **stable**: equal values keep their original order, ascending or descending
  (PyTorch's ``stable=True``; its default unstable sort may order ties either way);
* NaN counts as larger than every number, as in PyTorch: last ascending, first descending;
* ``topk`` takes the first k of that stable descending (or ascending, ``largest=False``)
  order, so among tied values the earliest entries win. PyTorch does not promise which
  tied entries ``topk`` picks.
"""

from __future__ import annotations

from typing import Any

from .. import backend


def sort_indices(x: Any, axis: int, descending: bool) -> Any:
    """Indices that sort ``x`` along ``axis``, stably (see the module docstring).

    Descending without breaking stability (and without negating, which would overflow the
    smallest integer and not move NaN): sort the reversed array ascending, which lists equal
    values last-first, then reverse that order and map positions back (i -> n - 1 - i).
    """
    xp = backend.array_module(x)
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    backwards = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")
    return (n - 1) - xp.flip(backwards, axis)
