"""Class imbalance: weight the rare classes up, or resample to equal class counts.

    w = class_weights(y)                 # n / (C * count_c), scikit-learn's "balanced"
    nn.CrossEntropyLoss(weight=md.tensor(w))
    sampler = WeightedRandomSampler(w[y], num_samples=len(y))   # balanced batches on average
    X_bal, y_bal = oversample(X, y, seed=0)                     # every class as big as the largest
"""

from __future__ import annotations

from typing import Any

from minidl import backend

from ._util import generator, labels, like, n_rows, np, take


def _counts(y: Any, n_classes: int | None) -> Any:
    if n_classes is not None and (isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer))
                                  or n_classes < 1):
        raise ValueError(f"n_classes must be a positive int, got {n_classes!r}")
    if len(y) == 0:
        raise ValueError("y is empty")
    if y.min() < 0:
        raise ValueError(f"class labels must be 0, 1, ..., C - 1; got {int(y.min())}")
    c = int(y.max()) + 1 if n_classes is None else int(n_classes)
    if y.max() >= c:
        raise ValueError(f"label {int(y.max())} is out of range for n_classes={c}")
    return np.bincount(y, minlength=c)


def class_weights(y: Any, n_classes: int | None = None) -> Any:
    """w_c = n / (C * n_c) for labels 0..C-1 (C = ``n_classes`` or max(y) + 1): scikit-learn's
    ``compute_class_weight("balanced")``. Each class then carries the same total weight n / C.
    float32 (C,), an array or a Tensor like y. Every class needs at least one sample."""
    yl = labels(y)
    counts = _counts(yl, n_classes)
    if (counts == 0).any():
        missing = np.flatnonzero(counts == 0).tolist()
        raise ValueError(f"class_weights: classes {missing} have no samples in y (their weight would be infinite)")
    w = (len(yl) / (len(counts) * counts)).astype(backend.float32)
    return like(w, y)


def _resample(X: Any, y: Any, seed: int | None, over: bool) -> tuple[Any, Any]:
    yl = labels(y)
    if n_rows(X, "X") != len(yl):
        raise ValueError(f"X has {n_rows(X, 'X')} samples but y has {len(yl)}")
    classes, counts = np.unique(yl, return_counts=True)
    if len(classes) == 0:
        raise ValueError("y is empty")
    rng = generator(seed)
    target = counts.max() if over else counts.min()
    keep = []
    for c in classes:
        members = np.flatnonzero(yl == c)
        if over:  # every original sample, plus random copies up to the largest class's count
            keep.append(np.concatenate([members, rng.choice(members, size=target - len(members), replace=True)]))
        else:     # a random subset the size of the smallest class
            keep.append(np.sort(rng.choice(members, size=target, replace=False)))
    idx = np.concatenate(keep).astype(backend.int64)
    idx = rng.permutation(idx) if over else np.sort(idx)
    return take(X, idx), take(y, idx)


def oversample(X: Any, y: Any, seed: int | None = None) -> tuple[Any, Any]:
    """Random oversampling: each class gets random repeats of its own samples until it is as
    large as the largest class. Returns ``(X, y)`` shuffled, of the kind given."""
    return _resample(X, y, seed, over=True)


def undersample(X: Any, y: Any, seed: int | None = None) -> tuple[Any, Any]:
    """Random undersampling: each class keeps a random subset the size of the smallest class
    (in the original order). Returns ``(X, y)`` of the kind given."""
    return _resample(X, y, seed, over=False)
