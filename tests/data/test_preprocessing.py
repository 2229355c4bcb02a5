"""Transformers fitted on train only, checked against scikit-learn and the deck's equations."""

import numpy as np
import pytest

import minidl as md
import minidl.data as data


def _data(n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((d, d)) * np.linspace(3.0, 0.3, d)
    return rng.standard_normal((n, d)) @ A.T + np.arange(d) * 5.0, rng.standard_normal((9, d)) @ A.T


PAIRS = [
    ("StandardScaler", lambda: data.StandardScaler(), "preprocessing", lambda m: m.StandardScaler()),
    ("StandardScaler no mean", lambda: data.StandardScaler(with_mean=False), "preprocessing",
     lambda m: m.StandardScaler(with_mean=False)),
    ("MinMaxScaler", lambda: data.MinMaxScaler((-1, 2)), "preprocessing", lambda m: m.MinMaxScaler((-1, 2))),
    ("PCA", lambda: data.PCA(), "decomposition", lambda m: m.PCA()),
    ("PCA 2 whiten", lambda: data.PCA(2, whiten=True), "decomposition", lambda m: m.PCA(2, whiten=True)),
    ("PCA 0.9", lambda: data.PCA(0.9), "decomposition", lambda m: m.PCA(0.9)),
]


@pytest.mark.parametrize("name, ours, module, theirs", PAIRS, ids=[p[0] for p in PAIRS])
def test_agrees_with_sklearn(name, ours, module, theirs):
    sk = pytest.importorskip(f"sklearn.{module}")
    Xtr, Xte = _data()
    a, b = ours().fit(Xtr), theirs(sk).fit(Xtr)
    np.testing.assert_allclose(a.transform(Xte), b.transform(Xte), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(a.inverse_transform(a.transform(Xte)), b.inverse_transform(b.transform(Xte)),
                               rtol=1e-10, atol=1e-10)
    if name not in ("PCA 2 whiten", "PCA 0.9"):                 # nothing dropped: the inverse is exact
        np.testing.assert_allclose(a.inverse_transform(a.transform(Xte)), Xte, atol=1e-9)
    for attr in ("mean_", "var_", "scale_", "data_min_", "data_max_", "min_", "components_",
                 "explained_variance_", "explained_variance_ratio_", "singular_values_"):
        if hasattr(b, attr) and getattr(b, attr) is not None and hasattr(a, attr):
            np.testing.assert_allclose(getattr(a, attr), getattr(b, attr), rtol=1e-10, atol=1e-12, err_msg=attr)


def test_float32_digits_agree_with_sklearn_and_stay_float32():
    sk = pytest.importorskip("sklearn.decomposition")
    skp = pytest.importorskip("sklearn.preprocessing")
    X, _ = data.load_digits()
    Xtr, Xte = X[:1000], X[1000:]
    s = data.StandardScaler().fit(Xtr)
    out = s.transform(Xte)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, skp.StandardScaler().fit(Xtr.astype(np.float64)).transform(Xte), atol=1e-4)
    p = data.PCA(20).fit(Xtr)
    q = sk.PCA(20).fit(Xtr.astype(np.float64))
    np.testing.assert_allclose(p.explained_variance_ratio_, q.explained_variance_ratio_, rtol=1e-6)
    np.testing.assert_allclose(p.components_[:10], q.components_[:10], atol=1e-6)   # well-separated eigenvalues
    np.testing.assert_allclose(p.transform(Xte)[:, :10], q.transform(Xte)[:, :10], atol=1e-3)


def test_mean_normalizer_is_the_deck_formula():
    Xtr, Xte = _data()
    m = data.MeanNormalizer().fit(Xtr)
    Z = m.transform(Xtr)
    np.testing.assert_allclose(Z, (Xtr - Xtr.mean(0)) / (Xtr.max(0) - Xtr.min(0)), rtol=1e-12)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.max(0) - Z.min(0), 1, atol=1e-12)
    assert Z.min() >= -1 and Z.max() <= 1
    np.testing.assert_allclose(m.inverse_transform(m.transform(Xte)), Xte, atol=1e-10)


def test_pca_is_sorted_and_decorrelates_and_whitening_gives_identity():
    Xtr, _ = _data(n=400, d=6)
    p = data.PCA().fit(Xtr)
    assert np.all(np.diff(p.explained_variance_) <= 0)  # largest first (the Crash Course deck's eig does not sort)
    C = np.cov(p.transform(Xtr).T)
    np.testing.assert_allclose(C, np.diag(p.explained_variance_), atol=1e-9)
    assert abs(p.explained_variance_ratio_.sum() - 1) < 1e-12
    k = data.PCA(2).fit(Xtr)
    np.testing.assert_allclose(np.trace(np.cov(k.transform(Xtr).T)), p.explained_variance_[:2].sum(), rtol=1e-10)
    w = data.PCA(whiten=True).fit(Xtr)
    np.testing.assert_allclose(np.cov(w.transform(Xtr).T), np.eye(6), atol=1e-9)
    # the deck's 1/N covariance: same eigenvectors, eigenvalues times (N - 1) / N
    Xc = Xtr - Xtr.mean(0)
    E = np.linalg.eigvalsh(Xc.T @ Xc / len(Xtr))[::-1]
    np.testing.assert_allclose(p.explained_variance_ * (len(Xtr) - 1) / len(Xtr), E, rtol=1e-10)


def test_zca_whitens_without_rotating():
    Xtr, Xte = _data(n=300, d=5)
    z = data.ZCAWhitening(eps=0).fit(Xtr)
    Z = z.transform(Xtr)
    np.testing.assert_allclose(np.cov(Z.T), np.eye(5), atol=1e-9)
    np.testing.assert_allclose(z.whitening_, z.whitening_.T, atol=1e-12)   # symmetric: no rotation
    pw = data.PCA(whiten=True).fit(Xtr)
    np.testing.assert_allclose(Z, pw.transform(Xtr) @ pw.components_, atol=1e-9)
    np.testing.assert_allclose(z.inverse_transform(z.transform(Xte)), Xte, atol=1e-9)
    eps = data.ZCAWhitening(eps=1e-2).fit(Xtr)
    d = np.diag(eps.components_ @ np.cov(eps.transform(Xtr).T) @ eps.components_.T)
    np.testing.assert_allclose(d, eps.eigenvalues_ / (eps.eigenvalues_ + 1e-2), rtol=1e-9)


def test_statistics_come_from_fit_only():
    Xtr, Xte = _data()
    s = data.StandardScaler().fit(Xtr)
    before = s.mean_.copy()
    out = s.transform(Xte)
    np.testing.assert_array_equal(s.mean_, before)
    np.testing.assert_allclose(out, (Xte - Xtr.mean(0)) / Xtr.std(0), rtol=1e-12)
    assert np.abs(out.mean(0)).max() > 1e-3                   # test data is not re-centred on itself


def test_constant_feature_and_tensors():
    X = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]], dtype=np.float32)
    for t in (data.StandardScaler(), data.MinMaxScaler(), data.MeanNormalizer()):
        out = t.fit_transform(md.tensor(X))
        assert isinstance(out, md.Tensor) and out.dtype == md.float32
        assert np.all(np.isfinite(out.numpy())) and np.all(out.numpy()[:, 1] == out.numpy()[0, 1])


@pytest.mark.parametrize("cls", [data.StandardScaler, data.MinMaxScaler, data.MeanNormalizer, data.PCA,
                                 data.ZCAWhitening])
def test_clear_errors(cls):
    X = np.random.default_rng(0).standard_normal((10, 3))
    t = cls()
    with pytest.raises(data.NotFittedError, match="not fitted yet"):
        t.transform(X)
    t.fit(X)
    with pytest.raises(ValueError, match=f"X has 2 features, but {cls.__name__} is expecting 3"):
        t.transform(X[:, :2])
    with pytest.raises(ValueError, match=r"2-D array.*got shape \(3,\)"):
        t.transform(X[0])
    with pytest.raises(ValueError, match="NaN"):
        cls().fit(np.array([[1.0, np.nan, 0.0], [0.0, 1.0, 2.0]]))


@pytest.mark.parametrize("make", [data.StandardScaler, lambda: data.MinMaxScaler((-2, 2)), data.MeanNormalizer,
                                  lambda: data.PCA(2, whiten=True), data.ZCAWhitening])
def test_state_dict_round_trip_through_md_save(make, tmp_path):
    Xtr, Xte = _data()
    a = make().fit(Xtr)
    md.save(a.state_dict(), tmp_path / "t.npz")
    b = make()
    b.load_state_dict(md.load(tmp_path / "t.npz"))
    np.testing.assert_array_equal(b.transform(Xte), a.transform(Xte))
    bad = dict(a.state_dict())
    bad.pop(next(iter(bad)))
    c = make()
    with pytest.raises(KeyError, match="missing keys"):
        c.load_state_dict(bad)
    with pytest.raises(data.NotFittedError):
        c.transform(Xte)                                        # a failed load changes nothing


def test_pca_state_with_other_component_count_is_refused():
    Xtr, _ = _data()
    state = data.PCA(3).fit(Xtr).state_dict()
    with pytest.raises(ValueError, match="3 components but this PCA keeps n_components=2"):
        data.PCA(2).load_state_dict(state)


def _snapshot(t):
    return {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v) for k, v in vars(t).items()}


def _assert_unchanged(t, before):
    after = vars(t)
    assert set(after) == set(before)
    for k, v in before.items():
        np.testing.assert_array_equal(after[k], v, err_msg=k)


def test_refused_refit_changes_nothing():
    rng = np.random.default_rng(1)
    X = rng.random((20, 5))
    p = data.PCA(3).fit(X)
    before, out = _snapshot(p), p.transform(X)
    with pytest.raises(ValueError, match="at least 2 samples"):
        p.fit(rng.random((1, 4)))
    with pytest.raises(ValueError, match="n_components=3 must be between"):
        p.fit(rng.random((2, 4)))                               # fails after the mean was computed
    _assert_unchanged(p, before)
    np.testing.assert_array_equal(p.transform(X), out)
    z = data.ZCAWhitening(eps=0).fit(X)
    before, out = _snapshot(z), z.transform(X)
    singular = np.column_stack([X[:, :3], X[:, 0], X[:, 0]])   # repeated columns: zero eigenvalues
    with pytest.raises(ValueError, match="singular"):
        z.fit(singular)
    _assert_unchanged(z, before)
    np.testing.assert_array_equal(z.transform(X), out)
    for t in (data.StandardScaler(), data.MinMaxScaler(), data.MeanNormalizer()):
        t.fit(X)
        before = _snapshot(t)
        with pytest.raises(ValueError, match="NaN"):
            t.fit(np.full((3, 5), np.nan))
        _assert_unchanged(t, before)


@pytest.mark.parametrize("make", [data.StandardScaler, data.MinMaxScaler, data.MeanNormalizer,
                                  lambda: data.PCA(2), data.ZCAWhitening])
def test_refused_load_state_dict_changes_nothing(make):
    Xtr, Xte = _data()
    good = make().fit(Xtr)
    st = good.state_dict()
    other = make().fit(Xtr[::-1] * 2.0 + 1.0)
    before, out = _snapshot(other), other.transform(Xte)
    first = next(iter(st))
    bads = [({**st, "n_samples_seen_": None}, ValueError, "n_samples_seen_ must be a positive int"),
            ({**st, "n_samples_seen_": -3}, ValueError, "n_samples_seen_"),
            ({**st, "n_features_in_": True}, ValueError, "n_features_in_"),
            ({**st, first: np.full_like(st[first], np.nan)}, ValueError, "NaN or infinity"),
            ({**st, first: np.full_like(st[first], np.inf)}, ValueError, "NaN or infinity")]
    if "scale_" in st:
        bads.append(({**st, "scale_": np.zeros_like(st["scale_"])}, ValueError, "scale_ must be positive"))
    for bad, exc, msg in bads:
        with pytest.raises(exc, match=msg):
            other.load_state_dict(bad)
        _assert_unchanged(other, before)
        np.testing.assert_array_equal(other.transform(Xte), out)
    other.load_state_dict({**st, "n_samples_seen_": np.int64(60), "n_features_in_": np.int32(4)})
    assert other.n_samples_seen_ == 60 and type(other.n_samples_seen_) is int
    np.testing.assert_array_equal(other.transform(Xte), good.transform(Xte))


def test_non_finite_settings_are_refused():
    for rng_ in ((0, np.inf), (-np.inf, 1), (np.nan, 1)):
        with pytest.raises(ValueError, match="feature_range must be finite"):
            data.MinMaxScaler(rng_)
    for eps in (np.inf, np.nan, -1.0):
        with pytest.raises(ValueError, match="eps must be a finite non-negative number"):
            data.ZCAWhitening(eps=eps)
    assert data.ZCAWhitening(eps=np.float32(0.1)).eps == pytest.approx(0.1)
