"""class_weights (scikit-learn's 'balanced'), oversample and undersample."""

import numpy as np
import pytest

import minidl as md
import minidl.data as data

Y = np.array([0] * 60 + [1] * 30 + [2] * 10)


def test_class_weights_formula_and_sklearn():
    w = data.class_weights(Y)
    np.testing.assert_allclose(w, [100 / (3 * 60), 100 / (3 * 30), 100 / (3 * 10)], rtol=1e-6)
    assert w.dtype == np.float32
    np.testing.assert_allclose((w[Y]).reshape(-1).sum(), 100, rtol=1e-5)   # every class carries n / C in total
    cw = pytest.importorskip("sklearn.utils.class_weight")
    np.testing.assert_allclose(w, cw.compute_class_weight("balanced", classes=np.arange(3), y=Y), rtol=1e-6)
    assert isinstance(data.class_weights(md.tensor(Y)), md.Tensor)
    with pytest.raises(ValueError, match=r"classes \[3\] have no samples"):
        data.class_weights(Y, n_classes=4)
    with pytest.raises(ValueError, match="out of range for n_classes=2"):
        data.class_weights(Y, n_classes=2)


def test_oversample_balances_and_keeps_every_original():
    X = np.arange(100, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
    Xo, yo = data.oversample(X, Y, seed=0)
    assert np.bincount(yo).tolist() == [60, 60, 60]
    assert set(Xo[:, 0].astype(int)) == set(range(100))                     # nothing dropped
    assert np.array_equal(Y[Xo[:, 0].astype(int)], yo)                      # rows keep their labels
    Xa, _ = data.oversample(X, Y, seed=0)
    assert np.array_equal(Xa, Xo)


def test_undersample_balances_without_repeats():
    X = np.arange(100)
    Xu, yu = data.undersample(X, Y, seed=0)
    assert np.bincount(yu).tolist() == [10, 10, 10] and len(set(Xu.tolist())) == 30
    assert np.array_equal(Y[Xu], yu)
    Xt, _ = data.undersample(md.tensor(X), md.tensor(Y), seed=0)
    assert isinstance(Xt, md.Tensor) and np.array_equal(Xt.numpy(), Xu)
    with pytest.raises(ValueError, match="X has 99 samples but y has 100"):
        data.undersample(X[:99], Y)


def test_class_weights_accept_numpy_int_n_classes():
    y = np.array([0, 0, 1])
    np.testing.assert_array_equal(data.class_weights(y, n_classes=np.int64(2)), data.class_weights(y, n_classes=2))
    for bad in (True, 0, 2.0):
        with pytest.raises(ValueError, match="n_classes must be a positive int"):
            data.class_weights(y, n_classes=bad)
