"""minidl.metrics against scikit-learn (the oracle), plus the formulas on a hand-built case."""

import math
import warnings

import numpy as np
import pytest

import minidl as md
from minidl import metrics as M

sk = pytest.importorskip("sklearn.metrics")

AVERAGES = ["micro", "macro", "weighted", None]


def draw(seed, n=60, c=4):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, c, n)
    p = np.where(rng.random(n) < 0.6, t, rng.integers(0, c, n))
    return t, p


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("average", AVERAGES)
def test_multiclass_scores_match_sklearn(seed, average):
    t, p = draw(seed, c=3 + seed % 3)
    for ours, theirs in ((M.precision, sk.precision_score), (M.recall, sk.recall_score), (M.f1_score, sk.f1_score)):
        np.testing.assert_allclose(ours(t, p, average=average, zero_division=0.0),
                                   theirs(t, p, average=average, zero_division=0.0), rtol=1e-12)
    assert M.accuracy(t, p) == pytest.approx(sk.accuracy_score(t, p))
    np.testing.assert_array_equal(M.confusion_matrix(t, p), sk.confusion_matrix(t, p))


@pytest.mark.parametrize("seed", range(4))
def test_binary_and_pos_label_match_sklearn(seed):
    t, p = draw(seed, c=2)
    for pos in (0, 1):
        for ours, theirs in ((M.precision, sk.precision_score), (M.recall, sk.recall_score),
                             (M.f1_score, sk.f1_score)):
            assert ours(t, p, pos_label=pos) == pytest.approx(theirs(t, p, pos_label=pos))
    # specificity of class 1 is the recall of class 0
    assert M.specificity(t, p) == pytest.approx(sk.recall_score(t, p, pos_label=0))
    assert M.sensitivity is M.recall


def test_specificity_per_class_from_sklearn_multilabel_confusion_matrix():
    t, p = draw(7, c=4)
    mcm = sk.multilabel_confusion_matrix(t, p)  # per class [[tn, fp], [fn, tp]]
    tn, fp = mcm[:, 0, 0], mcm[:, 0, 1]
    np.testing.assert_allclose(M.specificity(t, p, average=None), tn / (tn + fp))
    assert M.specificity(t, p, average="macro") == pytest.approx(np.mean(tn / (tn + fp)))
    assert M.specificity(t, p, average="micro") == pytest.approx(tn.sum() / (tn + fp).sum())


def test_labels_argument_matches_sklearn():
    t, p = draw(3, c=5)
    labels = [4, 0, 2]
    for avg in AVERAGES:
        np.testing.assert_allclose(M.f1_score(t, p, labels=labels, average=avg, zero_division=0.0),
                                   sk.f1_score(t, p, labels=labels, average=avg, zero_division=0.0))
    np.testing.assert_array_equal(M.confusion_matrix(t, p, labels=labels), sk.confusion_matrix(t, p, labels=labels))
    for norm in ("true", "pred", "all"):
        np.testing.assert_allclose(M.confusion_matrix(t, p, normalize=norm), sk.confusion_matrix(t, p, normalize=norm))


@pytest.mark.parametrize("zd", [0.0, 1.0, math.nan])
def test_zero_division_matches_sklearn(zd):
    t = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([0, 0, 0, 0, 0, 1])  # class 2 never predicted (precision 0/0), class 2 recall 0
    t2 = np.array([0, 0, 0, 0])  # no positive sample at all: recall 0/0
    p2 = np.array([0, 0, 0, 0])
    for avg in ("macro", "weighted", None, "micro"):
        for ours, theirs in ((M.precision, sk.precision_score), (M.recall, sk.recall_score),
                             (M.f1_score, sk.f1_score)):
            np.testing.assert_allclose(ours(t, p, average=avg, zero_division=zd),
                                       theirs(t, p, average=avg, zero_division=zd))
    for ours, theirs in ((M.precision, sk.precision_score), (M.recall, sk.recall_score), (M.f1_score, sk.f1_score)):
        np.testing.assert_allclose(ours(t2, p2, zero_division=zd), theirs(t2, p2, zero_division=zd))


def test_zero_division_warn_default_gives_zero_and_warns():
    with pytest.warns(RuntimeWarning, match="precision is ill-defined"):
        assert M.precision([0, 1, 1], [0, 0, 0]) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert M.precision([0, 1, 1], [0, 0, 0], zero_division=1.0) == 1.0
    with pytest.raises(ValueError, match="zero_division"):
        M.precision([0, 1], [0, 1], zero_division=0.5)


def test_logits_probabilities_and_tensors():
    t, p = draw(11, c=3)
    logits = np.eye(3)[p] * 3.0 - 1.0 + np.random.default_rng(0).normal(0, 0.1, (len(p), 3))
    assert M.accuracy(md.tensor(t), md.tensor(logits.astype(np.float32))) == pytest.approx(sk.accuracy_score(t, p))
    tb, pb = draw(12, c=2)
    probs = np.where(pb == 1, 0.8, 0.3)
    assert M.f1_score(tb, probs) == pytest.approx(sk.f1_score(tb, pb))
    assert M.f1_score(tb, probs, threshold=0.9) == pytest.approx(sk.f1_score(tb, np.zeros_like(pb), zero_division=0))
    binary_logits = np.where(pb == 1, 2.5, -1.5)  # outside [0, 1]: thresholded at 0
    assert M.recall(tb, binary_logits) == pytest.approx(sk.recall_score(tb, pb))
    assert M.precision(tb, binary_logits[:, None]) == pytest.approx(sk.precision_score(tb, pb))  # (n, 1) column
    assert M.accuracy(tb.astype(np.float64), pb.astype(np.float32)) == pytest.approx(sk.accuracy_score(tb, pb))


def test_hand_built_counts_follow_the_formulas():
    # TP=3, FN=1, FP=2, TN=4
    t = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    p = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0])
    assert M.accuracy(t, p) == pytest.approx(7 / 10)
    assert M.precision(t, p) == pytest.approx(3 / 5)
    assert M.recall(t, p) == pytest.approx(3 / 4)
    assert M.specificity(t, p) == pytest.approx(4 / 6)
    P, R = 3 / 5, 3 / 4
    assert M.f1_score(t, p) == pytest.approx(2 * P * R / (P + R))


def test_dice_equals_f1_on_masks():
    rng = np.random.default_rng(3)
    a = rng.random((2, 8, 8)) < 0.3
    b = rng.random((2, 8, 8)) < 0.4
    inter = (a & b).sum()
    assert M.dice(a, b) == pytest.approx(2 * inter / (a.sum() + b.sum()))
    assert M.dice(a, b) == pytest.approx(sk.f1_score(a.ravel(), b.ravel()))
    probs = np.where(b, 0.9, 0.1)
    assert M.dice(a, probs) == pytest.approx(M.dice(a, b))
    empty = np.zeros((4, 4), bool)
    assert M.dice(empty, empty) == 1.0 and M.dice(empty, empty, zero_division=0.0) == 0.0
    with pytest.raises(ValueError, match="different shapes"):
        M.dice(a, b[0])


def test_classification_report_matches_sklearn():
    t, p = draw(5, c=3)
    ours = M.classification_report(t, p, output_dict=True, zero_division=0.0)
    theirs = sk.classification_report(t, p, output_dict=True, zero_division=0.0)
    assert set(ours) == set(theirs)
    for k, v in theirs.items():
        if isinstance(v, dict):
            for m in v:
                assert ours[k][m] == pytest.approx(v[m]), (k, m)
        else:
            assert ours[k] == pytest.approx(v)
    names = ["cat", "dog", "eel"]
    assert M.classification_report(t, p, target_names=names, digits=3) == sk.classification_report(
        t, p, target_names=names, digits=3)
    sub = M.classification_report(t, p, labels=[0, 1], output_dict=True, zero_division=0.0)
    ref = sk.classification_report(t, p, labels=[0, 1], output_dict=True, zero_division=0.0)
    assert set(sub) == set(ref) and sub["micro avg"]["f1-score"] == pytest.approx(ref["micro avg"]["f1-score"])


def test_errors():
    with pytest.raises(ValueError, match="average='binary' needs two classes"):
        M.f1_score([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="average must be"):
        M.f1_score([0, 1], [0, 1], average="sample")
    with pytest.raises(ValueError, match="different numbers of samples"):
        M.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="pos_label=2"):
        M.precision([0, 1], [1, 0], pos_label=2)


def test_sample_weight_is_validated():
    t, p = [0, 1, 1], [0, 1, 0]
    assert M.accuracy(t, p, sample_weight=[1, 1, 2]) == pytest.approx(
        sk.accuracy_score(t, p, sample_weight=[1, 1, 2]))
    assert M.accuracy(t, p, normalize=False, sample_weight=np.array([0.5, 2.0, 1.0])) == pytest.approx(2.5)
    for bad, msg in (([2], "shape"), ([[1, 1, 1]], "shape"), ([1, 2, 3, 4], "shape"),
                     ([np.nan, 1, 1], "finite"), ([np.inf, 1, 1], "finite"), ([-1, 2, 2], "non-negative"),
                     ([0, 0, 0], "positive")):
        with pytest.raises(ValueError, match=msg):
            M.accuracy(t, p, sample_weight=bad)
    with pytest.raises(TypeError, match="sample_weight"):
        M.accuracy(t, p, sample_weight=["a", "b", "c"])


def test_nan_empty_and_threshold_are_refused():
    with pytest.raises(ValueError, match="nan or inf"):
        M.accuracy([0, 1], [[np.nan, 1.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="nan or inf"):
        M.f1_score([[0.2, np.inf], [0.0, 1.0]], [0, 1])
    for f in (M.accuracy, M.precision, M.recall, M.f1_score, M.specificity, M.confusion_matrix,
              M.classification_report):
        with pytest.raises(ValueError, match="empty"):
            f([], [])
    with pytest.raises(ValueError, match="nan or inf"):
        M.dice(np.array([1, 0]), np.array([np.nan, 0.2]))
    for bad in (np.nan, 1.5, -0.1, np.inf):
        with pytest.raises(ValueError, match=r"threshold must be a finite number in \[0, 1\]"):
            M.accuracy([0, 1], [0.2, 0.7], threshold=bad)
        with pytest.raises(ValueError, match="threshold"):
            M.dice(np.array([1, 0]), np.array([0.9, 0.2]), threshold=bad)
    with pytest.raises(TypeError, match="threshold"):
        M.precision([0, 1], [0.2, 0.7], threshold="0.5")
    assert M.accuracy([0, 1], [0.2, 0.7], threshold=np.float32(0.8)) == 0.5


def test_weighted_without_support_and_confusion_matrix_labels_match_sklearn():
    assert M.precision([0, 0], [1, 1], average="weighted", zero_division=np.nan) == 0.0
    for labels in (None, [0], [1], [1, 2]):
        for zd in (np.nan, 0.0, 1.0):
            for ours, theirs in ((M.precision, sk.precision_score), (M.recall, sk.recall_score),
                                 (M.f1_score, sk.f1_score)):
                got = ours([0, 0], [1, 1], labels=labels, average="weighted", zero_division=zd)
                want = theirs([0, 0], [1, 1], labels=labels, average="weighted", zero_division=zd)
                assert got == want or (math.isnan(got) and math.isnan(want)), (labels, zd, got, want)
    with pytest.raises(ValueError, match="none of labels"):
        M.confusion_matrix([0, 1], [0, 1], labels=[5, 6])
    with pytest.raises(ValueError, match="none of labels"):
        M.confusion_matrix([0, 0], [0, 1], labels=[1, 6])  # in y_pred only, like scikit-learn
    np.testing.assert_array_equal(M.confusion_matrix([0, 1], [0, 1], labels=[1, 6]),
                                  sk.confusion_matrix([0, 1], [0, 1], labels=[1, 6]))
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="digits must be a non-negative int"):
            M.classification_report([0, 1], [0, 1], digits=bad)
    assert M.classification_report([0, 1], [0, 1], digits=np.int64(0)) == sk.classification_report(
        [0, 1], [0, 1], digits=0)
