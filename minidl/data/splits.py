"""Splitting data: PyTorch's ``random_split``, the Crash Course deck's four-way split, scikit-learn's K-folds.

The Crash Course deck's four sets, for when training data and deployment data differ:

    train      what the model learns from
    train-dev  held out from the *training* distribution: train -> train-dev gap = variance
    dev        from the *deployment* distribution: train-dev -> dev gap = data mismatch;
               used to choose hyperparameters
    test       deployment distribution, touched once at the end

A stratified split keeps every class's share in every part, to within one sample per class.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from minidl import backend

from ._util import check_seed, generator, labels, n_rows, np, take
from .dataset import Subset


def random_split(dataset: Any, lengths: Sequence[int | float], seed: int | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths.

    ``lengths`` are sample counts that add up to ``len(dataset)``, or fractions that sum to 1
    (given as floats; PyTorch's rule: each gets ``floor(n * f)`` and the leftover samples go
    one each to the first parts, in order).
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    for i, v in enumerate(lengths):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or v < 0:
            raise ValueError(f"random_split: lengths[{i}] = {v!r}; expected a non-negative count or fraction")
    total = sum(lengths)
    if any(isinstance(v, (float, np.floating)) for v in lengths):  # fractions
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            raise ValueError(f"random_split: fractions {lengths} sum to {total:g}; they must sum to 1")
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        counts = [int(v) for v in lengths]
        if sum(counts) != n:
            raise ValueError(f"random_split: lengths {counts} add up to {sum(counts)}, but the dataset has {n} samples")
    perm = generator(seed).permutation(n)
    out, start = [], 0
    for c in counts:
        out.append(Subset(dataset, perm[start:start + c]))
        start += c
    return out


class Split(NamedTuple):
    """The four parts of ``train_dev_test_split``, each an ``(X, y)`` pair."""

    train: tuple
    train_dev: tuple
    dev: tuple
    test: tuple


def _part_size(value: Any, n: int, name: str) -> int:
    """A part's sample count: a fraction of n in [0, 1) (rounded up, as scikit-learn does) or a count."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a fraction in [0, 1) or a sample count, got {value!r}")
    if isinstance(value, (float, np.floating)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name}={value} must be a fraction in [0, 1) (or an int count)")
        return math.ceil(value * n)
    if not 0 <= value <= n:
        raise ValueError(f"{name}={value} samples is not between 0 and the {n} samples")
    return int(value)


def train_dev_test_split(X: Any, y: Any, dev: float = 0.15, test: float = 0.15, train_dev: float = 0.0,
                         stratify: bool = False, seed: int | None = None) -> Split:
    """Shuffle and split ``(X, y)`` into train, train-dev, dev and test parts.

    ``dev``, ``test`` and ``train_dev`` are fractions of all N samples (rounded up) or counts;
    train gets the rest. The train-dev part is carved out of what would otherwise be training
    data: same distribution as train, never trained on. With ``stratify=True`` each part keeps
    each class's share of y to within one sample (a class needs at least as many members as
    there are non-empty parts). Returns ``Split(train, train_dev, dev, test)``, each an ``(X, y)``
    pair of the kind given (arrays or Tensors); an empty part has zero rows.

        train, train_dev, dev, test = train_dev_test_split(X, y, dev=0.1, test=0.1, train_dev=0.1, seed=0)
    """
    n = n_rows(X, "X")
    if n_rows(y, "y") != n:
        raise ValueError(f"X has {n} samples but y has {n_rows(y, 'y')}")
    sizes = {name: _part_size(v, n, name) for name, v in (("test", test), ("dev", dev), ("train_dev", train_dev))}
    n_train = n - sum(sizes.values())
    if n_train <= 0:
        raise ValueError(f"dev + test + train_dev take {sum(sizes.values())} of the {n} samples "
                         f"({sizes}); the fractions must sum to less than 1 to leave training data")
    sizes["train"] = n_train
    rng = generator(seed)
    order = ["test", "dev", "train_dev", "train"]
    if stratify:
        parts = _stratified_parts(labels(y), [sizes[k] for k in order], rng)
    else:
        perm = rng.permutation(n)
        bounds = np.cumsum([0] + [sizes[k] for k in order])
        parts = [np.sort(perm[bounds[i]:bounds[i + 1]]) for i in range(len(order))]
    # keep the shuffled order within each part (np.sort above only fixes which samples go where)
    parts = [rng.permutation(p) for p in parts]
    got = {name: (take(X, idx), take(y, idx)) for name, idx in zip(order, parts)}
    return Split(got["train"], got["train_dev"], got["dev"], got["test"])


def _stratified_parts(y: Any, sizes: list[int], rng: Any) -> list[Any]:
    """Indices of each part: part s gets n_c * t_s / n samples of class c, rounded down or up
    so that every class is used up and every part has its size (a rounding that always
    exists; found as a small max-flow), then drawn at random within each class."""
    classes, y_enc, counts = np.unique(y, return_inverse=True, return_counts=True)
    n, used = len(y), [s for s in sizes if s > 0]
    for c, k in zip(classes, counts):
        if k < len(used):
            raise ValueError(f"stratify: class {c} has {k} member(s), fewer than the {len(used)} non-empty parts; "
                             "stratifying needs at least one member per part for every class")
    for s in used:
        if s < len(classes):
            raise ValueError(f"stratify: a part of {s} samples cannot hold the {len(classes)} classes")
    ideal = np.outer(counts, sizes) / n                       # (classes, parts), rows sum to n_c, columns to t_s
    alloc = _round_keeping_sums(ideal, counts, np.asarray(sizes), rng)
    parts: list[list[Any]] = [[] for _ in sizes]
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(y_enc == c))
        start = 0
        for s, k in enumerate(alloc[c]):
            parts[s].append(members[start:start + k])
            start += k
    return [np.concatenate(p).astype(backend.int64) for p in parts]


def _round_keeping_sums(ideal: Any, row_sums: Any, col_sums: Any, rng: Any) -> Any:
    """Round every entry of ``ideal`` down or up so rows and columns keep their integer sums.

    Start from the floors; the missing units form a 0/1 transport problem (row c needs r_c
    more, column s needs d_s more, only where the entry is fractional), solved with
    augmenting paths. Rows are tried in random order so no class is always favoured.
    """
    floor = np.floor(ideal + 1e-9).astype(backend.int64)
    need_r = (row_sums - floor.sum(1)).tolist()
    need_c = (col_sums - floor.sum(0)).tolist()
    frac = (ideal - floor) > 1e-9
    n_r, n_c = ideal.shape
    give = np.zeros_like(floor)
    for r in rng.permutation(n_r).tolist():
        for _ in range(need_r[r]):
            # BFS from row r over rows/columns: row -> column where give may rise, column -> row where it may fall
            parent: dict[tuple[str, int], tuple[str, int] | None] = {("r", r): None}
            queue, end = deque([("r", r)]), None
            while queue and end is None:
                kind, i = queue.popleft()
                if kind == "r":
                    for s in range(n_c):
                        if frac[i, s] and give[i, s] == 0 and ("c", s) not in parent:
                            parent[("c", s)] = (kind, i)
                            if need_c[s] > 0:
                                end = ("c", s)
                                break
                            queue.append(("c", s))
                else:
                    for q in range(n_r):
                        if give[q, i] == 1 and ("r", q) not in parent:
                            parent[("r", q)] = (kind, i)
                            queue.append(("r", q))
            if end is None:
                raise RuntimeError("stratified rounding failed (please report: it should always exist)")
            need_c[end[1]] -= 1
            node: tuple[str, int] | None = end
            while node is not None and parent[node] is not None:
                prev = parent[node]
                assert prev is not None
                if node[0] == "c":
                    give[prev[1], node[1]] = 1
                else:
                    give[node[1], prev[1]] = 0
                node = prev
    return floor + give


def _check_n_splits(n_splits: Any) -> int:
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise ValueError(f"n_splits must be an int of at least 2, got {n_splits!r}")
    return int(n_splits)


class KFold:
    """K-fold cross-validation indices, as ``sklearn.model_selection.KFold``.

    The samples (shuffled first when ``shuffle=True``) are cut into ``n_splits`` consecutive
    folds; the first ``n % n_splits`` folds have one sample more. ``split`` yields
    ``(train_idx, val_idx)`` for each fold in turn, both sorted int64 arrays.
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False, seed: int | None = None) -> None:
        self.n_splits = _check_n_splits(n_splits)
        self.shuffle = bool(shuffle)
        self.seed = check_seed(seed)
        if not shuffle and seed is not None:
            raise ValueError(f"{type(self).__name__}: setting a seed has no effect since shuffle is False; "
                             "pass shuffle=True")

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.n_splits

    def _test_folds(self, X: Any, y: Any) -> Any:
        n = n_rows(X, "X")
        if self.n_splits > n:
            raise ValueError(f"{type(self).__name__}: cannot have n_splits={self.n_splits} greater than the "
                             f"number of samples n={n}")
        order = generator(self.seed).permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        folds = np.empty(n, dtype=backend.int64)
        folds[order] = np.repeat(np.arange(self.n_splits), sizes)
        return folds

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[Any, Any]]:
        """Yield ``(train_idx, val_idx)`` for each of the ``n_splits`` folds."""
        folds = self._test_folds(X, y)
        for k in range(self.n_splits):
            yield np.flatnonzero(folds != k), np.flatnonzero(folds == k)


class StratifiedKFold(KFold):
    """K folds that keep the class proportions of y, as ``sklearn.model_selection.StratifiedKFold``.

    scikit-learn's allocation: sort the labels and deal them to the folds in turn, so each
    fold gets each class's share to within one sample; within a class the samples go to their
    folds in order (shuffled when ``shuffle=True``). Unshuffled, the folds equal
    scikit-learn's. Unlike scikit-learn (which only warns), a class with fewer members than
    ``n_splits`` is an error.
    """

    def _test_folds(self, X: Any, y: Any) -> Any:
        if y is None:
            raise ValueError("StratifiedKFold.split needs the labels y")
        y = labels(y)
        if len(y) != n_rows(X, "X"):
            raise ValueError(f"X has {n_rows(X, 'X')} samples but y has {len(y)}")
        classes, first, inverse = np.unique(y, return_index=True, return_inverse=True)
        _, by_appearance = np.unique(first, return_inverse=True)   # classes numbered by first appearance
        y_enc = by_appearance[inverse]
        counts = np.bincount(y_enc)
        if counts.min() < self.n_splits:
            bad = classes[np.flatnonzero(by_appearance == np.argmin(counts))[0]]
            raise ValueError(f"StratifiedKFold: n_splits={self.n_splits} cannot be greater than the number of "
                             f"members in each class; class {bad} has only {int(counts.min())}")
        y_order = np.sort(y_enc)
        allocation = np.asarray([np.bincount(y_order[i::self.n_splits], minlength=len(counts))
                                 for i in range(self.n_splits)])
        rng = generator(self.seed) if self.shuffle else None
        folds = np.empty(len(y), dtype=backend.int64)
        for k in range(len(counts)):
            for_class = np.repeat(np.arange(self.n_splits), allocation[:, k])
            if rng is not None:
                rng.shuffle(for_class)
            folds[y_enc == k] = for_class
        return folds
