"""DataLoader, as in PyTorch: batches of a dataset, epoch after epoch.

    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=0)
    for xb, yb in loader:      # xb: (32, ...) Tensor, yb: (32,) Tensor; the last batch may be smaller
        ...
    len(loader)                # batches per epoch: ceil(N / 32), or floor with drop_last=True

With ``shuffle=True`` every epoch (every ``for`` over the loader) is a fresh permutation, so
each sample is seen exactly once per epoch; the order comes from ``seed``, or, when it is
None, from minidl's global generator (``md.manual_seed``). Over a ``TensorDataset`` a batch
is one fancy index per tensor (``X[idx]``), not one Python call per sample.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import minidl as md
from minidl import backend

from ._util import check_index_range, index_array, np
from .dataset import fetches_batches
from .sampler import RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler


def default_collate(batch: list) -> Any:
    """Stack a list of samples into a batch along a new first dimension.

    Samples that are tuples/lists are collated field by field (a tuple comes back); dicts key
    by key. Tensors and arrays are stacked (dtype kept); Python floats give float32, ints
    int64, bools bool (minidl's tensor rules; PyTorch's default_collate makes Python floats
    float64). Fields of different shapes, or samples of different structure, are an error
    naming the sample.
    """
    if not batch:
        raise ValueError("default_collate: empty batch")
    first = batch[0]
    if isinstance(first, (tuple, list)):
        for k, s in enumerate(batch):
            if not isinstance(s, (tuple, list)) or len(s) != len(first):
                raise ValueError(f"default_collate: sample {k} is {_describe(s)} but sample 0 is a "
                                 f"{type(first).__name__} of {len(first)} fields")
        return tuple(_stack([s[j] for s in batch], f"field {j}") for j in range(len(first)))
    if isinstance(first, dict):
        for k, s in enumerate(batch):
            if not isinstance(s, dict) or s.keys() != first.keys():
                raise ValueError(f"default_collate: sample {k} does not have the keys {sorted(first)} of sample 0")
        return {key: _stack([s[key] for s in batch], f"key {key!r}") for key in first}
    return _stack(batch, "the sample")


def _describe(s: Any) -> str:
    return f"a {type(s).__name__} of {len(s)} fields" if isinstance(s, (tuple, list)) else f"a {type(s).__name__}"


def _stack(items: list, what: str) -> md.Tensor:
    first = items[0]
    if isinstance(first, (bool, int, float)):
        if not all(isinstance(v, (bool, int, float)) for v in items):
            kinds = sorted({type(v).__name__ for v in items})
            raise TypeError(f"default_collate: {what} mixes Python numbers with other types ({kinds})")
        return md.tensor(list(items))
    arrays: list[Any] = []
    for k, v in enumerate(items):
        if isinstance(v, md.Tensor):
            a = v.data
        elif backend.is_backend_array(v) or isinstance(v, np.generic):
            a = v
        else:
            raise TypeError(f"default_collate: {what} of sample {k} is a {type(v).__name__}; "
                            "expected a Tensor, an array or a Python number")
        if k and a.shape != arrays[0].shape:
            raise ValueError(f"default_collate: {what} of sample {k} has shape {tuple(a.shape)} but sample 0's has "
                             f"{tuple(arrays[0].shape)}: a batch needs samples of one shape (or pass a collate_fn)")
        arrays.append(a)
    xp = backend.array_module(arrays[0])
    devices = {backend.device_of(a) for a in arrays}
    if len(devices) > 1:
        raise ValueError(f"default_collate: {what} has samples on several devices {sorted(devices)}")
    return md.as_tensor(xp.stack([xp.asarray(a) for a in arrays]))


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size``.

    Arguments follow ``torch.utils.data.DataLoader``: ``shuffle`` (a fresh permutation each
    epoch), ``sampler`` (any ``Sampler`` or iterable of indices; exclusive with shuffle),
    ``drop_last`` (skip the last, smaller batch), ``collate_fn`` (list of samples -> batch;
    default ``default_collate``). ``seed`` replaces PyTorch's ``generator``: the shuffle
    order of every epoch follows from it. There are no worker processes.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, sampler: Any = None, *,
                 drop_last: bool = False, collate_fn: Callable[[list], Any] | None = None,
                 seed: int | None = None) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader needs a dataset with __len__ and __getitem__, got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = _positive_int(batch_size, "batch_size")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if sampler is not None and seed is not None:
            raise ValueError("DataLoader: seed only sets the shuffle order; give the sampler its own seed")
        if sampler is None:
            sampler = RandomSampler(dataset, seed=seed) if shuffle else SequentialSampler(dataset)
        elif not isinstance(sampler, Sampler):
            if not hasattr(sampler, "__iter__") or not hasattr(sampler, "__len__"):
                raise TypeError(f"DataLoader: sampler must be a Sampler or a sized iterable of indices (a list), "
                                f"got {type(sampler).__name__}")
            check_index_range(index_array(list(sampler), "sampler indices"), len(dataset), "sampler indices")
        elif isinstance(sampler, SubsetRandomSampler):
            check_index_range(sampler.indices, len(dataset), "SubsetRandomSampler indices")
        self.sampler = sampler
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.seed = seed

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _epoch_indices(self) -> Any:
        """This epoch's indices from the sampler, checked: ints within the dataset's range."""
        if isinstance(self.sampler, Sampler):
            idx = index_array(self.sampler.epoch_indices(), "sampler indices")
        else:
            idx = index_array(list(self.sampler), "sampler indices")
        check_index_range(idx, len(self.dataset), "sampler indices")
        return idx

    def __iter__(self) -> Iterator[Any]:
        idx = self._epoch_indices()
        n = len(idx)
        stop = n - n % self.batch_size if self.drop_last else n
        fast = self.collate_fn is None and fetches_batches(self.dataset)
        collate = self.collate_fn or default_collate
        for start in range(0, stop, self.batch_size):
            batch = idx[start:start + self.batch_size]
            if fast:
                yield self.dataset.get_batch(batch)
            else:
                yield collate([self.dataset[i] for i in batch.tolist()])

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, {len(self)} batches)")
