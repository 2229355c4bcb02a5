"""Generators, the bundled digits (checksum), and IDX/MNIST reading on tiny files."""

import gzip
import hashlib

import numpy as np
import pytest

import minidl.data as data
from minidl.data import datasets


def test_bundled_digits_file_checksum_and_content():
    digest = hashlib.sha256(datasets.DIGITS_FILE.read_bytes()).hexdigest()
    assert digest == datasets.DIGITS_SHA256 == "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
    assert (datasets.DIGITS_FILE.parent / "DIGITS_LICENSE").read_text().count("CC BY 4.0") == 1
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and np.array_equal(X, np.round(X))
    assert np.array_equal(np.unique(y), np.arange(10)) and np.bincount(y).min() >= 170
    Xi, yi = data.load_digits(as_images=True)
    assert Xi.shape == (1797, 1, 8, 8) and np.array_equal(Xi.reshape(1797, 64), X) and np.array_equal(yi, y)


def test_digits_match_sklearn():
    skd = pytest.importorskip("sklearn.datasets")
    X, y = data.load_digits()
    ref = skd.load_digits()
    assert np.array_equal(X, ref.data) and np.array_equal(y, ref.target)


@pytest.mark.parametrize("name", ["make_moons", "make_circles"])
def test_moons_and_circles_match_sklearn_without_noise(name):
    skd = pytest.importorskip("sklearn.datasets")
    X, y = getattr(data, name)(101, shuffle=False)
    Xs, ys = getattr(skd, name)(101, shuffle=False)
    np.testing.assert_allclose(X, Xs, atol=1e-6)
    assert np.array_equal(y, ys) and X.dtype == np.float32 and y.dtype == np.int64


def test_generators_are_seeded_and_shaped():
    for make in (data.make_moons, data.make_circles, data.make_blobs, data.make_spiral, data.make_xor):
        X1, y1 = make(seed=3)
        X2, y2 = make(seed=3)
        X3, _ = make(seed=4)
        assert np.array_equal(X1, X2) and np.array_equal(y1, y2) and X1.shape[1] == 2
        assert make in (data.make_circles, data.make_moons) or not np.array_equal(X1, X3)
        assert X1.dtype == np.float32 and y1.dtype == np.int64
    X, y = data.make_spiral(300, 3, seed=0)
    assert np.bincount(y).tolist() == [100, 100, 100] and np.abs(X).max() <= 1.5
    X, y = data.make_xor(500, seed=0)
    assert np.array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))


def test_blobs_centres_and_counts():
    centers = np.array([[0.0, 0.0], [10.0, 10.0], [-10.0, 5.0]])
    X, y = data.make_blobs(3001, centers=centers, cluster_std=0.5, seed=0)
    assert np.bincount(y).tolist() == [1001, 1000, 1000]
    for k in range(3):
        assert np.abs(X[y == k].mean(0) - centers[k]).max() < 0.05
        assert np.abs(X[y == k].std(0) - 0.5).max() < 0.03


def test_hours_scores_returns_the_true_curve():
    d = data.make_hours_scores(200, noise=5.0, seed=0)
    assert d.hours.shape == d.scores.shape == (200,) and d.hours.min() >= 0 and d.hours.max() <= 10
    resid = d.scores - d.curve(d.hours)
    assert abs(resid.std() - 5.0) < 0.7 and abs(resid.mean()) < 1.2
    assert np.all(np.diff(d.curve(np.linspace(0, 10, 50))) > 0)   # rises, ...
    assert np.all(np.diff(d.curve(np.linspace(0, 10, 50)), 2) < 0)  # ... and bends: no straight line fits
    np.testing.assert_array_equal(data.make_hours_scores(20, 0.0, seed=1).scores,
                                  d.curve(data.make_hours_scores(20, 0.0, seed=1).hours))


@pytest.mark.parametrize("kappa", [1.0, 10.0, 1000.0])
def test_regression_has_the_condition_number(kappa):
    X, y, w = data.make_regression(300, 4, condition_number=kappa, seed=0, coef=True)
    X64 = X.astype(np.float64)
    e = np.linalg.eigvalsh(X64.T @ X64 / len(X))
    assert abs(e.max() / e.min() / kappa - 1) < 1e-3
    np.testing.assert_allclose(X @ w, y, rtol=1e-4, atol=1e-4)     # noise 0: y is exactly linear
    with pytest.raises(ValueError, match="condition_number must be a finite number >= 1"):
        data.make_regression(10, 2, condition_number=0.5)


def _idx(shape, values, dtype_code=0x08):
    header = bytes([0, 0, dtype_code, len(shape)]) + b"".join(int(s).to_bytes(4, "big") for s in shape)
    return header + np.asarray(values, dtype=np.uint8).tobytes()


def _write_mnist(folder, prefix, n=3, gz=False, labels_n=None):
    imgs = np.arange(n * 28 * 28, dtype=np.int64).reshape(n, 28, 28) % 256
    labs = np.arange(labels_n if labels_n is not None else n) % 10
    for name, blob in ((f"{prefix}-images-idx3-ubyte", _idx((n, 28, 28), imgs)),
                       (f"{prefix}-labels-idx1-ubyte", _idx((len(labs),), labs))):
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(blob))
        else:
            (folder / name).write_bytes(blob)
    return imgs, labs


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_reads_tiny_idx_files(tmp_path, gz):
    imgs, labs = _write_mnist(tmp_path, "t10k", n=3, gz=gz)
    X, y = data.load_mnist(tmp_path, train=False)
    assert X.shape == (3, 784) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.array_equal(X.reshape(3, 28, 28), imgs) and np.array_equal(y, labs)
    Xi, _ = data.load_mnist(tmp_path, train=False, as_images=True)
    assert Xi.shape == (3, 1, 28, 28)


def test_idx_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        data.load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        data.load_mnist(tmp_path / "nope")
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="bad.*not an IDX file"):
        data.read_idx(bad)
    cut = tmp_path / "cut"
    cut.write_bytes(_idx((2, 3), np.arange(6))[:-2])
    with pytest.raises(ValueError, match="cut has 16 bytes but its header \\(2, 3\\).*needs 18"):
        data.read_idx(cut)
    half = tmp_path / "half.gz"
    half.write_bytes(gzip.compress(_idx((2, 3), np.arange(6)))[:-6])
    with pytest.raises(ValueError, match="half.gz"):
        data.read_idx(half)
    _write_mnist(tmp_path, "train", n=3, labels_n=2)
    with pytest.raises(ValueError, match=r"labels-idx1-ubyte holds shape \(2,\), expected \(3,\)"):
        data.load_mnist(tmp_path)


def test_read_idx_other_types(tmp_path):
    p = tmp_path / "f.idx"
    vals = np.array([1.5, -2.0, 3.25], dtype=">f4")
    p.write_bytes(bytes([0, 0, 0x0D, 1]) + (3).to_bytes(4, "big") + vals.tobytes())
    a = data.read_idx(p)
    assert a.dtype == np.float32 and a.tolist() == [1.5, -2.0, 3.25]


@pytest.mark.parametrize("make", [data.make_moons, data.make_circles, data.make_spiral, data.make_xor,
                                  data.make_hours_scores, data.make_regression])
def test_non_finite_or_negative_noise_is_refused(make):
    for bad in (np.nan, np.inf, -0.1, True, "0.1"):
        with pytest.raises(ValueError, match=r"noise \(the std of Gaussian noise\) must be a finite number >= 0"):
            make(noise=bad, seed=0)
    a, b = make(noise=np.float32(0.1), seed=0)[:2], make(noise=0.1, seed=0)[:2]
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-6)


def test_blob_and_regression_arguments_are_checked():
    for kw, msg in ((dict(cluster_std=np.nan), "cluster_std must be a finite number"),
                    (dict(cluster_std=-1.0), "cluster_std must be a finite number >= 0"),
                    (dict(centers=np.array([[0.0, np.nan]])), "centers must be finite"),
                    (dict(centers=np.zeros((0, 2))), r"shape \(K >= 1"),
                    (dict(center_box=(10.0, -10.0)), "min <= max"),
                    (dict(center_box=(0.0, np.inf)), "center_box values must be a finite number"),
                    (dict(center_box=(1.0,)), "center_box must be a pair")):
        with pytest.raises(ValueError, match=msg):
            data.make_blobs(20, seed=0, **kw)
    X, _ = data.make_blobs(20, cluster_std=np.float32(0.0), centers=np.ones((1, 2)), seed=0)
    np.testing.assert_array_equal(X, np.ones((20, 2)))
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="condition_number must be a finite number >= 1"):
            data.make_regression(10, 2, condition_number=bad)
    X, _ = data.make_regression(50, 2, condition_number=np.float64(4.0), seed=0)
    e = np.linalg.eigvalsh(X.astype(np.float64).T @ X / 50)
    assert e.max() / e.min() == pytest.approx(4.0, rel=1e-3)
