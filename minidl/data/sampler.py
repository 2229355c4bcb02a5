"""Samplers, as in PyTorch: each epoch they give the order in which samples are visited.

``iter(sampler)`` yields Python ints; ``sampler.epoch_indices()`` gives the same epoch as
one int64 NumPy array, which the DataLoader slices into batches. Random samplers draw
from ``seed`` (the same sequence of epochs every run) or, when it is None, from minidl's
global generator (so ``md.manual_seed`` makes them reproducible). Each epoch is a fresh draw.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from minidl import backend

from ._util import check_seed, generator, index_array, np, to_array


class Sampler:
    """Base class: subclasses define ``epoch_indices()`` (an int array) and ``__len__``."""

    def epoch_indices(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define epoch_indices")

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices().tolist())

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class _Seeded(Sampler):
    """A sampler with its own generator (from ``seed``), or a fresh one per epoch drawn
    from minidl's global generator."""

    def __init__(self, seed: int | None) -> None:
        self.seed = check_seed(seed)
        self._gen = None if self.seed is None else generator(self.seed)

    def _rng(self) -> Any:
        return self._gen if self._gen is not None else generator(None)


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def epoch_indices(self) -> Any:
        return np.arange(len(self.data_source), dtype=backend.int64)

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(_Seeded):
    """A random permutation each epoch (or ``num_samples`` draws with ``replacement=True``)."""

    def __init__(self, data_source: Any, replacement: bool = False, num_samples: int | None = None,
                 seed: int | None = None) -> None:
        super().__init__(seed)
        self.data_source = data_source
        self.replacement = bool(replacement)
        if num_samples is not None and (isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer))
                                        or num_samples <= 0):
            raise ValueError(f"num_samples must be a positive int, got {num_samples!r}")
        if num_samples is not None and not replacement and num_samples > len(data_source):
            raise ValueError(f"num_samples={num_samples} exceeds the {len(data_source)} samples "
                             "(pass replacement=True to draw more)")
        self._num_samples = None if num_samples is None else int(num_samples)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def epoch_indices(self) -> Any:
        n, rng = len(self.data_source), self._rng()
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples, dtype=backend.int64)
        return rng.permutation(n)[: self.num_samples].astype(backend.int64)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(_Seeded):
    """The given ``indices`` (ints: floats and bools are refused) in a random order each
    epoch. A DataLoader checks them against its dataset's length."""

    def __init__(self, indices: Sequence[int] | Any, seed: int | None = None) -> None:
        idx = index_array(indices, "SubsetRandomSampler indices")
        super().__init__(seed)
        self.indices = idx

    def epoch_indices(self) -> Any:
        return self.indices[self._rng().permutation(len(self.indices))]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(_Seeded):
    """``num_samples`` indices drawn with probability ``weights[i] / sum(weights)``.

    With ``replacement=False`` no index repeats within an epoch (so at most as many draws as
    non-zero weights). Give each sample the weight of its class, ``class_weights(y)[y]``, and
    batches come out class-balanced on average.
    """

    def __init__(self, weights: Any, num_samples: int, replacement: bool = True, seed: int | None = None) -> None:
        super().__init__(seed)
        w = backend.to_numpy(to_array(weights, "weights")).astype(backend.float64)
        if w.ndim != 1 or w.size == 0:
            raise ValueError(f"weights must be a non-empty 1-D sequence, got shape {tuple(w.shape)}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("weights must be finite, non-negative and not all zero")
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples <= 0:
            raise ValueError(f"num_samples must be a positive int, got {num_samples!r}")
        if not replacement and num_samples > int(np.count_nonzero(w)):
            raise ValueError(f"num_samples={num_samples} without replacement needs that many non-zero weights; "
                             f"there are {int(np.count_nonzero(w))}")
        self.weights = w
        self.num_samples = int(num_samples)
        self.replacement = bool(replacement)

    def epoch_indices(self) -> Any:
        p = self.weights / self.weights.sum()
        idx = self._rng().choice(len(p), size=self.num_samples, replace=self.replacement, p=p)
        return idx.astype(backend.int64)

    def __len__(self) -> int:
        return self.num_samples
