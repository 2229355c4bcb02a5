"""random_split, train_dev_test_split, KFold and StratifiedKFold (scikit-learn as the oracle)."""

import numpy as np
import pytest

import minidl as md
import minidl.data as data


def test_random_split_lengths_and_fractions():
    ds = data.TensorDataset(np.arange(10))
    a, b = data.random_split(ds, [7, 3], seed=0)
    got = sorted([a[i][0].item() for i in range(7)] + [b[i][0].item() for i in range(3)])
    assert got == list(range(10))
    parts = data.random_split(ds, [0.5, 0.25, 0.25], seed=0)  # floor 5, 2, 2; the leftover goes to the first
    assert [len(p) for p in parts] == [6, 2, 2]
    same = data.random_split(ds, [0.5, 0.25, 0.25], seed=0)
    assert parts[0].indices == same[0].indices
    with pytest.raises(ValueError, match="sum to 0.9; they must sum to 1"):
        data.random_split(ds, [0.5, 0.4])
    with pytest.raises(ValueError, match="add up to 9, but the dataset has 10"):
        data.random_split(ds, [5, 4])


def test_train_dev_test_split_sizes_and_disjointness():
    X = np.arange(200, dtype=np.float32).reshape(100, 2)
    y = np.arange(100)
    sp = data.train_dev_test_split(X, y, dev=0.1, test=0.2, train_dev=0.15, seed=0)
    assert sp._fields == ("train", "train_dev", "dev", "test")
    assert [len(p[1]) for p in sp] == [55, 15, 10, 20]
    ids = np.concatenate([p[1] for p in sp])
    assert np.array_equal(np.sort(ids), y)
    for Xp, yp in sp:
        assert np.array_equal(Xp[:, 0], 2 * yp)  # rows stay paired with their labels
    t = data.train_dev_test_split(md.tensor(X), md.tensor(y), seed=0)
    assert isinstance(t.train[0], md.Tensor) and len(t.train_dev[1]) == 0
    with pytest.raises(ValueError, match="must sum to less than 1"):
        data.train_dev_test_split(X, y, dev=0.5, test=0.5)
    with pytest.raises(ValueError, match="X has 100 samples but y has 99"):
        data.train_dev_test_split(X, y[:99])


def test_stratified_split_keeps_proportions_within_one_per_class():
    rng = np.random.default_rng(0)
    y = rng.choice(5, size=503, p=[0.5, 0.2, 0.15, 0.1, 0.05])
    X = np.arange(len(y))
    fr = {"test": 0.2, "dev": 0.15, "train_dev": 0.1}
    sp = data.train_dev_test_split(X, y, dev=fr["dev"], test=fr["test"], train_dev=fr["train_dev"],
                                   stratify=True, seed=1)
    counts = np.bincount(y)
    sizes = {name: len(getattr(sp, name)[1]) for name in sp._fields}
    assert sizes["test"] == np.ceil(0.2 * 503) and sizes["dev"] == np.ceil(0.15 * 503)
    for name in sp._fields:
        got = np.bincount(getattr(sp, name)[1], minlength=5)
        ideal = counts * sizes[name] / len(y)
        assert np.all(np.abs(got - ideal) < 1), (name, got, ideal)
    assert np.array_equal(np.sort(np.concatenate([p[0] for p in sp])), X)


def test_stratify_with_too_small_class_is_an_error():
    y = np.array([0] * 20 + [1] * 2)
    with pytest.raises(ValueError, match="class 1 has 2 member"):
        data.train_dev_test_split(np.zeros((22, 1)), y, dev=0.2, test=0.2, stratify=True)
    with pytest.raises(ValueError, match="class 1 has only 2"):
        list(data.StratifiedKFold(3).split(np.zeros((22, 1)), y))


def test_kfold_matches_sklearn():
    sk = pytest.importorskip("sklearn.model_selection")
    X = np.zeros((23, 2))
    ours = [(tr.tolist(), va.tolist()) for tr, va in data.KFold(5).split(X)]
    theirs = [(tr.tolist(), va.tolist()) for tr, va in sk.KFold(5).split(X)]
    assert ours == theirs
    shuffled = list(data.KFold(5, shuffle=True, seed=0).split(X))
    assert [len(v) for _, v in shuffled] == [len(v) for _, v in sk.KFold(5).split(X)]
    assert np.array_equal(np.sort(np.concatenate([v for _, v in shuffled])), np.arange(23))
    with pytest.raises(ValueError, match="shuffle is False"):
        data.KFold(3, seed=0)
    with pytest.raises(ValueError, match="greater than the number of samples"):
        list(data.KFold(30).split(X))


def test_stratified_kfold_matches_sklearn():
    sk = pytest.importorskip("sklearn.model_selection")
    rng = np.random.default_rng(2)
    y = rng.permutation(np.repeat([3, 1, 7], [35, 19, 7]))
    X = np.zeros((61, 1))
    ours = [(tr.tolist(), va.tolist()) for tr, va in data.StratifiedKFold(4).split(X, y)]
    theirs = [(tr.tolist(), va.tolist()) for tr, va in sk.StratifiedKFold(4).split(X, y)]
    assert ours == theirs
    for (_, va), (_, va_sk) in zip(data.StratifiedKFold(4, shuffle=True, seed=0).split(X, y),
                                   sk.StratifiedKFold(4, shuffle=True, random_state=0).split(X, y)):
        for c in (1, 3, 7):  # the same class counts per fold as scikit-learn, different samples
            assert (y[va] == c).sum() == (y[va_sk] == c).sum()


def test_stratified_rounding_always_keeps_every_sum():
    from minidl.data.splits import _round_keeping_sums

    rng = np.random.default_rng(0)
    for _ in range(300):
        counts = rng.integers(1, 40, size=rng.integers(1, 12))
        n = counts.sum()
        cuts = np.sort(rng.integers(0, n + 1, size=rng.integers(1, 4)))
        sizes = np.diff(np.concatenate([[0], cuts, [n]]))
        ideal = np.outer(counts, sizes) / n
        got = _round_keeping_sums(ideal, counts, sizes, rng)
        assert np.array_equal(got.sum(1), counts) and np.array_equal(got.sum(0), sizes)
        assert np.all(np.abs(got - ideal) < 1) and np.all(got >= 0)
