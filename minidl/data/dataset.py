"""Datasets, as in PyTorch: anything with ``__len__`` and ``__getitem__(i)``.

    ds = TensorDataset(X, y)       # X (N, ...) and y (N,): sample i is (X[i], y[i])
    ds[3]                          # (Tensor, Tensor)
    Subset(ds, [0, 5, 7])          # a view on some samples
    ConcatDataset([ds_a, ds_b])    # one after the other

A dataset that can fetch a whole batch at once with one fancy index defines
``get_batch(indices)``; the DataLoader then makes one call per batch instead of one per
sample (``TensorDataset`` and ``Subset`` of one do).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import Any

import minidl as md
from minidl import backend

from ._util import check_index_range, index_array, np, to_array


class Dataset:
    """Base class: subclasses define ``__len__`` and ``__getitem__(index) -> sample``.

    A sample is a tuple of Tensors, arrays or Python numbers (or a single one); the
    DataLoader stacks samples into batches along a new first dimension.
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


def _check_index(index: Any, n: int, owner: str) -> int:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"{owner} index must be an int, got {type(index).__name__}")
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"{owner} index {i} is out of range for {n} samples")
    return i + n if i < 0 else i


class TensorDataset(Dataset):
    """Samples are rows of the given tensors: ``ds[i] == (t[i] for t in tensors)``.

    Arrays (NumPy/CuPy) and lists are wrapped as Tensors (arrays without copying). Every
    tensor must have the same size N in its first dimension.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        ts = [t if isinstance(t, md.Tensor) else md.as_tensor(to_array(t, f"tensor {k}"))
              for k, t in enumerate(tensors)]
        for k, t in enumerate(ts):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {k} is a scalar; "
                                 "every tensor needs a first (sample) dimension")
        sizes = [t.shape[0] for t in ts]
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in ts)
            raise ValueError(f"TensorDataset: size mismatch between tensors: first dimensions {sizes} "
                             f"(shapes {shapes})")
        self.tensors: tuple[md.Tensor, ...] = tuple(ts)

    def __len__(self) -> int:
        return int(self.tensors[0].shape[0])

    def __getitem__(self, index: int) -> tuple[md.Tensor, ...]:
        i = _check_index(index, len(self), "TensorDataset")
        return tuple(md.as_tensor(t.data[i]) for t in self.tensors)

    def get_batch(self, indices: Any) -> tuple[md.Tensor, ...]:
        """The samples at ``indices`` (a NumPy int array), already stacked: one fancy index
        per tensor (``t[indices]``), moved to each tensor's device."""
        out = []
        for t in self.tensors:
            xp = backend.array_module(t.data)
            out.append(md.as_tensor(t.data[indices if xp is np else xp.asarray(indices)]))
        return tuple(out)


class Subset(Dataset):
    """The samples ``dataset[indices[0]], dataset[indices[1]], ...``."""

    def __init__(self, dataset: Any, indices: Sequence[int] | Any) -> None:
        idx = index_array(indices, "Subset indices")
        n = len(dataset)
        check_index_range(idx, n, "Subset indices")
        self.dataset = dataset
        self.indices = [int(i) for i in idx % max(n, 1)]
        self._idx = np.asarray(self.indices, dtype=backend.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[_check_index(index, len(self), "Subset")]]

    def get_batch(self, indices: Any) -> Any:
        """Batched fetch, when the wrapped dataset has one (see ``TensorDataset.get_batch``)."""
        if not fetches_batches(self.dataset):
            raise TypeError(f"the dataset inside this Subset ({type(self.dataset).__name__}) has no get_batch")
        return self.dataset.get_batch(self._idx[indices])


class ConcatDataset(Dataset):
    """Datasets one after another: indices 0..len(a)-1 are ``a``'s, then ``b``'s, ..."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        if not isinstance(datasets, Iterable):
            raise TypeError(f"ConcatDataset needs an iterable of datasets, got {type(datasets).__name__}")
        parts = list(datasets)
        if not parts:
            raise ValueError("ConcatDataset needs at least one dataset")
        sizes: list[int] = []
        total = 0
        for k, d in enumerate(parts):
            if not hasattr(d, "__len__") or not hasattr(d, "__getitem__"):
                raise TypeError(f"ConcatDataset: datasets[{k}] is of type {type(d).__name__}; expected a dataset "
                                "(with __len__ and __getitem__)")
            total += len(d)
            sizes.append(total)
        self.datasets, self.cumulative_sizes = parts, sizes

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        i = _check_index(index, len(self), "ConcatDataset")
        k = bisect.bisect_right(self.cumulative_sizes, i)
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][i - start]


def fetches_batches(dataset: Any) -> bool:
    """True when ``dataset.get_batch(indices)`` works (the DataLoader's fast path)."""
    if isinstance(dataset, Subset):
        return fetches_batches(dataset.dataset)
    return callable(getattr(dataset, "get_batch", None))
