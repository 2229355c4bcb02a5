"""Classification metrics with scikit-learn's names, argument order ``(y_true, y_pred)`` and defaults.

With the counts of one class taken as "positive" (one-vs-rest for many classes)::

    accuracy    = (TP + TN) / (TP + TN + FP + FN)      (multi-class: fraction of correct labels)
    precision   = TP / (TP + FP)
    recall      = TP / (TP + FN)       = sensitivity, the true-positive rate
    specificity = TN / (TN + FP)       the true-negative rate (not in scikit-learn)
    F1          = 2 P R / (P + R)      = 2 TP / (2 TP + FP + FN)
    Dice(A, B)  = 2 |A ∩ B| / (|A| + |B|), which for binary masks is F1

Inputs (``y_true`` and ``y_pred``: Tensors, NumPy/CuPy arrays or lists) are turned into labels:

- integer or bool arrays are labels;
- a 2-D ``y_pred`` with more than one column is scores per class (logits or probabilities): its
  argmax along dim 1 is the label;
- other float arrays (1-D, or one column) are labels when every value is a whole number,
  probabilities thresholded at ``threshold`` (default 0.5) when they lie in [0, 1], and
  logits thresholded at 0 otherwise (sigmoid(z) > 0.5 exactly when z > 0).

``average`` (as in scikit-learn): ``"binary"`` reports the class ``pos_label`` only (two
classes at most); ``"micro"`` pools the counts of all classes (for single-label data micro
precision = recall = F1 = accuracy); ``"macro"`` is the unweighted mean over classes;
``"weighted"`` weights each class by its support (number of true samples); ``None`` returns one
value per class, in the order of ``labels`` (default: the sorted labels seen in either array).

``zero_division``: a ratio whose denominator is 0 (precision with no predicted positives,
recall with no true positives, F1 when TP + FP + FN = 0) is set to this value: ``"warn"``
(default) gives 0.0 and a ``UndefinedMetricWarning``-like ``RuntimeWarning``; 0.0 or 1.0 give
that value silently; ``nan`` gives nan, and such classes are left out of macro/weighted means.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from . import backend
from .tensor import Tensor

__all__ = [
    "accuracy",
    "accuracy_score",
    "classification_report",
    "confusion_matrix",
    "dice",
    "f1_score",
    "lower_is_better",
    "precision",
    "precision_score",
    "recall",
    "recall_score",
    "sensitivity",
    "specificity",
]

np = backend.np
_AVERAGES = ("binary", "micro", "macro", "weighted", None)


def _host(a: Any) -> Any:
    if isinstance(a, Tensor):
        a = a.data
    if backend.is_backend_array(a):
        return backend.to_numpy(a)
    return np.asarray(a)


def _labels_of(a: Any, threshold: float, name: str) -> Any:
    """Labels from labels, per-class scores (argmax) or 1-D probabilities/logits (threshold)."""
    a = _host(a)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected numeric labels or scores, got dtype {a.dtype}")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: contains nan or inf; expected finite labels or scores")
    if a.ndim == 2 and a.shape[1] > 1:
        return a.argmax(axis=1)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{name}: expected labels of shape (n,) or scores of shape (n, C), got shape {a.shape}")
    if a.dtype.kind in "biu":
        return a.astype(np.int64)
    if np.all(a == np.round(a)):
        return a.astype(np.int64)
    if a.min() >= 0.0 and a.max() <= 1.0:
        return (a >= threshold).astype(np.int64)
    return (a > 0.0).astype(np.int64)


def _check_threshold(threshold: Any) -> None:
    """Refuse a threshold that is not a finite real number in [0, 1] (it cuts probabilities)."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)):
        raise TypeError(f"threshold must be a number in [0, 1], got {type(threshold).__name__}")
    if not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must be a finite number in [0, 1], got {threshold!r}")


def _pair(y_true: Any, y_pred: Any, threshold: float) -> tuple[Any, Any]:
    """Labels of ``y_true`` and ``y_pred``; refuses a bad threshold, unequal lengths and no samples."""
    _check_threshold(threshold)
    t = _labels_of(y_true, threshold, "y_true")
    p = _labels_of(y_pred, threshold, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred have different numbers of samples: {t.shape[0]} vs {p.shape[0]}")
    if t.size == 0:
        raise ValueError("y_true and y_pred are empty: expected at least one sample")
    return t, p


def _sample_weight(sample_weight: Any, n: int) -> Any:
    """``sample_weight`` as float64 of shape (n,): finite, non-negative, with a positive sum."""
    w = _host(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight: expected numbers, got dtype {w.dtype}")
    if w.shape != (n,):
        raise ValueError(f"sample_weight: expected shape ({n},), one weight per sample, got shape {w.shape}")
    w = w.astype(np.float64)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("sample_weight: expected finite non-negative weights, got nan, inf or a negative value")
    if w.sum() <= 0:
        raise ValueError("sample_weight: all weights are 0; expected at least one positive weight")
    return w


#: A logged quantity whose name holds one of these improves by going down (losses, errors, times).
LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "seconds", "time")


def lower_is_better(key: str) -> bool:
    """Whether the logged quantity ``key`` ("val_loss", "val_accuracy", ...) is better when lower:
    True when its name holds one of ``LOWER_IS_BETTER``, False otherwise (accuracy, F1, Dice ...).
    ``"lr"`` is neither better high nor low: a ValueError. ``History.best``, ``EarlyStopping``
    and ``viz.plot_history`` decide "best" with this rule."""
    if key == "lr":
        raise ValueError(f"{key!r} has no best value (it is neither a loss nor a metric)")
    return any(w in key for w in LOWER_IS_BETTER)


def accuracy(y_true: Any, y_pred: Any, normalize: bool = True, sample_weight: Any = None,
             threshold: float = 0.5) -> float:
    """Fraction (``normalize=True``) or number of samples whose predicted label is the true one.

    ``sample_weight`` (optional): one finite non-negative weight per sample, not all 0."""
    t, p = _pair(y_true, y_pred, threshold)
    w = np.ones(t.shape[0]) if sample_weight is None else _sample_weight(sample_weight, t.shape[0])
    correct = float(np.sum(w * (t == p)))
    return correct / float(np.sum(w)) if normalize else correct


accuracy_score = accuracy


def confusion_matrix(y_true: Any, y_pred: Any, labels: Sequence[int] | None = None,
                     normalize: str | None = None, threshold: float = 0.5) -> Any:
    """``C[i, j]`` = number of samples of true class ``labels[i]`` predicted as ``labels[j]``
    (rows: truth, columns: prediction, as in scikit-learn). ``normalize``: None (counts),
    ``"true"`` (rows sum to 1), ``"pred"`` (columns) or ``"all"``. A NumPy array. As in
    scikit-learn, at least one of ``labels`` must occur in ``y_true``."""
    t, p = _pair(y_true, y_pred, threshold)
    labs = _label_set(t, p, labels)
    if labels is not None and not np.any(np.isin(labs, t)):
        raise ValueError(f"confusion_matrix: none of labels {labs.tolist()} occurs in y_true; "
                         "expected at least one of them to")
    index = {int(v): i for i, v in enumerate(labs)}
    k = len(labs)
    keep = np.array([int(a) in index and int(b) in index for a, b in zip(t, p)], dtype=bool)
    ti = np.array([index[int(v)] for v in t[keep]], dtype=np.int64)
    pi = np.array([index[int(v)] for v in p[keep]], dtype=np.int64)
    cm = np.bincount(ti * k + pi, minlength=k * k).reshape(k, k).astype(np.int64)
    if normalize is None:
        return cm
    if normalize not in ("true", "pred", "all"):
        raise ValueError(f"confusion_matrix: normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    axis = {"true": 1, "pred": 0, "all": None}[normalize]
    tot = cm.sum(axis=axis, keepdims=axis is not None)
    return np.divide(cm, tot, out=np.zeros(cm.shape), where=tot > 0)


def _label_set(t: Any, p: Any, labels: Sequence[int] | None) -> Any:
    if labels is None:
        return np.unique(np.concatenate([t, p]))
    labs = np.asarray(list(labels), dtype=np.int64)
    if labs.size == 0:
        raise ValueError("labels must not be empty")
    return labs


def _counts(t: Any, p: Any, labs: Any) -> tuple[Any, Any, Any, Any]:
    """Per-label one-vs-rest TP, FP, FN, TN (float64 arrays)."""
    tp = np.array([np.sum((t == c) & (p == c)) for c in labs], dtype=np.float64)
    fp = np.array([np.sum((t != c) & (p == c)) for c in labs], dtype=np.float64)
    fn = np.array([np.sum((t == c) & (p != c)) for c in labs], dtype=np.float64)
    tn = t.shape[0] - tp - fp - fn
    return tp, fp, fn, tn


def _check_zero_division(zero_division: Any) -> None:
    ok = zero_division == "warn" or (isinstance(zero_division, (int, float)) and not isinstance(zero_division, bool)
                                     and (zero_division in (0, 1) or math.isnan(zero_division)))
    if not ok:
        raise ValueError(f"zero_division must be 'warn', 0.0, 1.0 or nan, got {zero_division!r}")


def _ratio(num: Any, den: Any, zero_division: Any, what: str) -> Any:
    out = np.empty_like(num)
    nz = den > 0
    out[nz] = num[nz] / den[nz]
    if np.any(~nz):
        if zero_division == "warn":
            warnings.warn(f"{what} is ill-defined and set to 0.0 for labels with no {_NO[what]}; "
                          "use zero_division to choose the value", RuntimeWarning, stacklevel=4)
            out[~nz] = 0.0
        else:
            out[~nz] = float(zero_division)
    return out


_NO = {"precision": "predicted samples", "recall": "true samples", "specificity": "negative samples",
       "F-score": "true or predicted samples"}


def _score(kind: str, y_true: Any, y_pred: Any, labels: Sequence[int] | None, pos_label: int, average: str | None,
           zero_division: Any, threshold: float) -> Any:
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
    _check_zero_division(zero_division)
    t, p = _pair(y_true, y_pred, threshold)
    present = np.unique(np.concatenate([t, p]))
    if average == "binary":
        if present.size > 2:
            raise ValueError(f"average='binary' needs two classes, but the data hold {present.size} "
                             f"({present.tolist()}); choose average='macro', 'micro', 'weighted' or None")
        if present.size == 2 and pos_label not in present.tolist():
            raise ValueError(f"pos_label={pos_label} is not a valid label: it should be one of {present.tolist()}")
        labs = np.array([pos_label], dtype=np.int64)
    else:
        labs = _label_set(t, p, labels)
    tp, fp, fn, tn = _counts(t, p, labs)
    if average == "micro":
        tp, fp, fn, tn = (np.array([a.sum()]) for a in (tp, fp, fn, tn))
    num, den, what = {
        "precision": (tp, tp + fp, "precision"),
        "recall": (tp, tp + fn, "recall"),
        "specificity": (tn, tn + fp, "specificity"),
        "f1": (2 * tp, 2 * tp + fp + fn, "F-score"),
    }[kind]
    per = _ratio(num, den, zero_division, what)
    if average in ("binary", "micro"):
        return float(per[0])
    if average is None:
        return per
    if average == "macro":
        w = np.ones_like(per)
    else:  # weighted by support; specificity is weighted by the number of negatives
        w = (tp + fn) if kind != "specificity" else (tn + fp)
    keep = ~np.isnan(per)
    if not np.any(keep):
        return float("nan")
    w = w[keep]
    if w.sum() == 0:  # the classes left all have weight 0: their plain mean, as scikit-learn
        w = np.ones_like(w)
    return float(np.sum(per[keep] * w) / np.sum(w))


def precision(y_true: Any, y_pred: Any, labels: Sequence[int] | None = None, pos_label: int = 1,
              average: str | None = "binary", zero_division: Any = "warn", threshold: float = 0.5) -> Any:
    """TP / (TP + FP): of the samples predicted as a class, the fraction that are."""
    return _score("precision", y_true, y_pred, labels, pos_label, average, zero_division, threshold)


def recall(y_true: Any, y_pred: Any, labels: Sequence[int] | None = None, pos_label: int = 1,
           average: str | None = "binary", zero_division: Any = "warn", threshold: float = 0.5) -> Any:
    """TP / (TP + FN), the sensitivity: of the samples of a class, the fraction found."""
    return _score("recall", y_true, y_pred, labels, pos_label, average, zero_division, threshold)


sensitivity = recall
precision_score = precision
recall_score = recall


def specificity(y_true: Any, y_pred: Any, labels: Sequence[int] | None = None, pos_label: int = 1,
                average: str | None = "binary", zero_division: Any = "warn", threshold: float = 0.5) -> Any:
    """TN / (TN + FP): of the samples *not* of a class, the fraction not predicted as it.
    For two classes it is the recall of the other class. ``average="weighted"`` weights each
    class by its number of negatives."""
    return _score("specificity", y_true, y_pred, labels, pos_label, average, zero_division, threshold)


def f1_score(y_true: Any, y_pred: Any, labels: Sequence[int] | None = None, pos_label: int = 1,
             average: str | None = "binary", zero_division: Any = "warn", threshold: float = 0.5) -> Any:
    """2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall."""
    return _score("f1", y_true, y_pred, labels, pos_label, average, zero_division, threshold)


def dice(y_true: Any, y_pred: Any, threshold: float = 0.5, zero_division: float = 1.0) -> float:
    """Dice coefficient 2|A ∩ B| / (|A| + |B|) of two binary masks of any (equal) shape.

    ``y_pred`` may be a probability map (thresholded at ``threshold``) or a bool/0-1 mask. It
    equals ``f1_score`` of the flattened masks. Two empty masks agree perfectly: the result is
    then ``zero_division`` (default 1.0, the segmentation convention). ``threshold`` must be a
    finite number in [0, 1]; float masks must be finite."""
    _check_threshold(threshold)
    a, b = _host(y_true), _host(y_pred)
    if a.shape != b.shape:
        raise ValueError(f"dice: masks have different shapes {a.shape} and {b.shape}")
    for name, m in (("y_true", a), ("y_pred", b)):
        if m.dtype.kind not in "biuf":
            raise TypeError(f"dice: {name} must be a numeric or bool mask, got dtype {m.dtype}")
        if m.dtype.kind == "f" and not np.all(np.isfinite(m)):
            raise ValueError(f"dice: {name} contains nan or inf; expected finite probabilities or 0/1 values")
    a = a.astype(bool) if a.dtype.kind in "biu" else a >= threshold
    b = b.astype(bool) if b.dtype.kind in "biu" else b >= threshold
    den = float(a.sum() + b.sum())
    return 2.0 * float((a & b).sum()) / den if den > 0 else float(zero_division)


def classification_report(y_true: Any, y_pred: Any, labels: Sequence[int] | None = None,
                          target_names: Sequence[str] | None = None, digits: int = 2, output_dict: bool = False,
                          zero_division: Any = "warn", threshold: float = 0.5) -> Any:
    """Precision, recall, F1 and support per class, plus accuracy and the macro and weighted
    averages, as scikit-learn's text table (or, with ``output_dict=True``, its dict).
    ``digits`` (a non-negative int) is the number of decimals in the table."""
    if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)) or digits < 0:
        raise ValueError(f"classification_report: digits must be a non-negative int, got {digits!r}")
    t, p = _pair(y_true, y_pred, threshold)
    labs = _label_set(t, p, labels)
    names = [str(v) for v in labs] if target_names is None else [str(n) for n in target_names]
    if len(names) != len(labs):
        raise ValueError(f"classification_report: {len(names)} target_names for {len(labs)} labels")
    kw = {"labels": labs.tolist(), "zero_division": zero_division, "threshold": threshold}
    with warnings.catch_warnings():
        if zero_division == "warn":
            warnings.simplefilter("ignore", RuntimeWarning)
        per = [precision(t, p, average=None, **kw), recall(t, p, average=None, **kw),
               f1_score(t, p, average=None, **kw)]
        support = np.array([np.sum(t == c) for c in labs])
        rep: dict[str, Any] = {}
        for i, n in enumerate(names):
            rep[n] = {"precision": float(per[0][i]), "recall": float(per[1][i]), "f1-score": float(per[2][i]),
                      "support": float(support[i])}
        all_labels = set(labs.tolist()) >= set(np.unique(np.concatenate([t, p])).tolist())
        if all_labels:
            rep["accuracy"] = accuracy(t, p)
        else:
            rep["micro avg"] = {m: float(f(t, p, average="micro", **kw)) for m, f in
                                (("precision", precision), ("recall", recall), ("f1-score", f1_score))}
            rep["micro avg"]["support"] = float(support.sum())
        for avg in ("macro", "weighted"):
            rep[f"{avg} avg"] = {m: float(f(t, p, average=avg, **kw)) for m, f in
                                 (("precision", precision), ("recall", recall), ("f1-score", f1_score))}
            rep[f"{avg} avg"]["support"] = float(support.sum())
    if output_dict:
        return rep
    width = max(len("weighted avg"), *(len(n) for n in names), digits)

    def row(name: str, r: Mapping[str, float]) -> str:
        nums = "".join(f" {r[k]:>9.{digits}f}" for k in ("precision", "recall", "f1-score"))
        return f"{name:>{width}} {nums} {int(r['support']):>9}"

    lines = [f"{'':>{width}} " + "".join(f" {h:>9}" for h in ("precision", "recall", "f1-score", "support")), ""]
    lines += [row(n, rep[n]) for n in names]
    lines.append("")
    if "accuracy" in rep:
        lines.append(f"{'accuracy':>{width}} " + " " * 20 + f" {rep['accuracy']:>9.{digits}f} {int(support.sum()):>9}")
    lines += [row(k, rep[k]) for k in ("micro avg", "macro avg", "weighted avg") if k in rep]
    return "\n".join(lines) + "\n"
