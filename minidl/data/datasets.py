"""Datasets: seeded synthetic generators, the bundled 8x8 digits, and MNIST from IDX files.

Every generator returns NumPy arrays ``(X, y)``: X float32 (N, D), y int64 class labels
(float32 targets for regression), drawn from ``seed`` (or from minidl's global generator
when it is None, so ``md.manual_seed`` makes them reproducible). Wrap them with
``TensorDataset(X, y)`` or ``md.tensor``.

``load_digits`` reads the copy bundled with minidl (works offline): the test set of the UCI
"Optical Recognition of Handwritten Digits" data (E. Alpaydin and C. Kaynak, 1998,
https://doi.org/10.24432/C50P49), 1,797 images of 8x8 pixels with values 0..16 (counts of
"on" pixels in 4x4 blocks of a 32x32 bitmap), licensed CC BY 4.0; the file is scikit-learn's
``sklearn/datasets/data/digits.csv.gz`` unchanged (see DIGITS_LICENSE beside it).
"""

from __future__ import annotations

import gzip
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from minidl import backend

from ._util import generator, np

DIGITS_FILE = Path(__file__).with_name("digits.csv.gz")
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"


def _n(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int of at least {minimum}, got {value!r}")
    return int(value)


def _number(value: Any, name: str, minimum: float | None = 0.0) -> float:
    """``value`` as a float: a finite Python or NumPy number (>= ``minimum`` unless that is
    None), else a ValueError."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating))
            or not math.isfinite(value) or (minimum is not None and value < minimum)):
        raise ValueError(f"{name} must be a finite number" + ("" if minimum is None else f" >= {minimum:g}")
                         + f", got {value!r}")
    return float(value)


def _noise(value: Any) -> float:
    """The std of the Gaussian noise: None (no noise) or a finite number >= 0."""
    return 0.0 if value is None else _number(value, "noise (the std of Gaussian noise)")


def _finish(X: Any, y: Any, rng: Any, shuffle: bool) -> tuple[Any, Any]:
    if shuffle:
        p = rng.permutation(len(y))
        X, y = X[p], y[p]
    return X.astype(backend.float32), y.astype(backend.int64)


def make_moons(n_samples: int = 100, shuffle: bool = True, noise: float | None = None,
               seed: int | None = None) -> tuple[Any, Any]:
    """Two interleaving half circles, as ``sklearn.datasets.make_moons`` (class 0 on top)."""
    n = _n(n_samples, "n_samples", 2)
    n_out, n_in = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, math.pi, n_out), np.linspace(0, math.pi, n_in)
    X = np.vstack([np.stack([np.cos(t_out), np.sin(t_out)], 1), np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    rng = generator(seed)
    X = X + _noise(noise) * rng.standard_normal(X.shape)
    return _finish(X, y, rng, shuffle)


def make_circles(n_samples: int = 100, shuffle: bool = True, noise: float | None = None, seed: int | None = None,
                 factor: float = 0.8) -> tuple[Any, Any]:
    """A large circle (class 0) around a small one of radius ``factor`` (class 1), as scikit-learn's."""
    n = _n(n_samples, "n_samples", 2)
    if not 0 <= factor < 1:
        raise ValueError(f"factor has to be between 0 and 1, got {factor}")
    n_out, n_in = n // 2, n - n // 2
    t_out = np.linspace(0, 2 * math.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * math.pi, n_in, endpoint=False)
    X = np.vstack([np.stack([np.cos(t_out), np.sin(t_out)], 1), factor * np.stack([np.cos(t_in), np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    rng = generator(seed)
    X = X + _noise(noise) * rng.standard_normal(X.shape)
    return _finish(X, y, rng, shuffle)


def make_blobs(n_samples: int = 100, n_features: int = 2, centers: int | Any = 3, cluster_std: float = 1.0,
               center_box: tuple[float, float] = (-10.0, 10.0), shuffle: bool = True,
               seed: int | None = None) -> tuple[Any, Any]:
    """Gaussian clusters, as ``sklearn.datasets.make_blobs``: ``centers`` (a count, drawn
    uniformly in ``center_box``, or a (K, D) array); class k has n // K samples (the first
    n % K classes one more) around centre k with std ``cluster_std``."""
    n, d = _n(n_samples, "n_samples"), _n(n_features, "n_features")
    std = _number(cluster_std, "cluster_std")
    box = list(center_box) if isinstance(center_box, (list, tuple)) else []
    if len(box) != 2:
        raise ValueError(f"center_box must be a pair (min, max), got {center_box!r}")
    lo, hi = (_number(v, "center_box values", None) for v in box)
    if lo > hi:
        raise ValueError(f"center_box must be (min, max) with min <= max, got {center_box!r}")
    rng = generator(seed)
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        c = rng.uniform(lo, hi, size=(_n(centers, "centers"), d))
    else:
        c = np.asarray(centers, dtype=backend.float64)
        if c.ndim != 2 or c.shape[1] != d or c.shape[0] == 0:
            raise ValueError(f"centers must be an int or an array of shape (K >= 1, n_features={d}), got {c.shape}")
        if not np.all(np.isfinite(c)):
            raise ValueError("centers must be finite (no NaN or infinity)")
    k = c.shape[0]
    counts = np.full(k, n // k)
    counts[: n % k] += 1
    y = np.repeat(np.arange(k), counts)
    X = c[y] + std * rng.standard_normal((n, d))
    return _finish(X, y, rng, shuffle)


def make_spiral(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2,
                seed: int | None = None) -> tuple[Any, Any]:
    """Interleaved spiral arms (CS231n's toy problem): class k's points have radius r from 0
    to 1 and angle 4k + 4r (radians) plus Gaussian noise of std ``noise`` on the angle.
    Not linearly separable; samples are split evenly between classes, class by class."""
    n, k = _n(n_samples, "n_samples"), _n(n_classes, "n_classes", 2)
    rng = generator(seed)
    counts = np.full(k, n // k)
    counts[: n % k] += 1
    Xs, ys = [], []
    for c, m in enumerate(counts):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(4.0 * c, 4.0 * (c + 1), m) + _noise(noise) * rng.standard_normal(m)
        Xs.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        ys.append(np.full(m, c))
    return _finish(np.vstack(Xs), np.concatenate(ys), rng, False)


def make_xor(n_samples: int = 200, noise: float = 0.0, seed: int | None = None) -> tuple[Any, Any]:
    """Points uniform in [-1, 1]^2, class 1 where the two coordinates have opposite signs
    (the XOR of their signs), then Gaussian noise of std ``noise`` on X. No straight line
    separates the classes; one hidden layer can."""
    n = _n(n_samples, "n_samples")
    rng = generator(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = (X[:, 0] > 0) != (X[:, 1] > 0)
    return _finish(X + _noise(noise) * rng.standard_normal(X.shape), y, rng, False)


class HoursScores(NamedTuple):
    """``make_hours_scores``: hours studied (N,), exam scores (N,), and the true curve f."""

    hours: Any
    scores: Any
    curve: Callable[[Any], Any]


def _true_score(hours: Any) -> Any:
    """The noise-free score: 100 (1 - e^(-h/4)), an arc that rises fast and then levels off."""
    return 100.0 * (1.0 - np.exp(-np.asarray(hours, dtype=backend.float64) / 4.0))


def make_hours_scores(n: int = 20, noise: float = 5.0, seed: int | None = None) -> HoursScores:
    """The Training Tips deck's bias/variance data: hours studied h ~ U[0, 10] and score = f(h) + noise,
    where f(h) = 100 (1 - e^(-h/4)) curves, so a straight line can never fit it (bias) and a
    very flexible curve fits the noise (variance). Returns ``HoursScores(hours, scores,
    curve)`` with float64 arrays and ``curve(h)`` = f(h), for plotting and for measuring
    bias and variance against the truth."""
    m = _n(n, "n")
    rng = generator(seed)
    hours = np.sort(rng.uniform(0.0, 10.0, size=m))
    scores = _true_score(hours) + _noise(noise) * rng.standard_normal(m)
    return HoursScores(hours, scores, _true_score)


def make_regression(n: int = 100, n_features: int = 2, condition_number: float = 1.0, noise: float = 0.0,
                    seed: int | None = None, coef: bool = False) -> tuple[Any, ...]:
    """Linear regression data y = X w + noise whose loss has a chosen condition number.

    X is built as Z diag(s) Q^T with Z centred and orthogonal (Z^T Z = n I) and Q a random
    rotation, so the least-squares Hessian H = X^T X / n (also X's covariance) has
    eigenvalues s^2 spaced geometrically from 1 down to 1 / condition_number: exactly
    kappa = lambda_max / lambda_min = ``condition_number``, the number that sets how slowly
    gradient descent converges. Returns ``(X, y)`` (float32), or ``(X, y, w)`` with
    ``coef=True``.
    """
    m, d = _n(n, "n"), _n(n_features, "n_features")
    if m <= d:
        raise ValueError(f"make_regression needs more samples than features (n={m}, n_features={d})")
    kappa = _number(condition_number, "condition_number", 1.0)
    rng = generator(seed)
    Z = rng.standard_normal((m, d))
    Z -= Z.mean(axis=0)
    Z = np.linalg.qr(Z)[0] * math.sqrt(m)                     # centred, Z^T Z = n I
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    eig = np.geomspace(1.0, 1.0 / kappa, d) if d > 1 else np.ones(1)
    X = (Z * np.sqrt(eig)) @ Q.T
    w = rng.standard_normal(d)
    y = X @ w + _noise(noise) * rng.standard_normal(m)
    out = (X.astype(backend.float32), y.astype(backend.float32))
    return (*out, w.astype(backend.float32)) if coef else out


def load_digits(as_images: bool = False) -> tuple[Any, Any]:
    """The bundled 8x8 handwritten digits: X float32 (1797, 64) (or (1797, 1, 8, 8) with
    ``as_images=True``), pixel values 0..16, and y int64 labels 0..9 (about 180 of each)."""
    try:
        with gzip.open(DIGITS_FILE, "rt") as f:
            data = np.loadtxt(f, delimiter=",", dtype=backend.float32)
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"load_digits: the bundled file {DIGITS_FILE} is missing or damaged: {exc}") from exc
    if data.shape != (1797, 65):
        raise ValueError(f"load_digits: {DIGITS_FILE} has shape {data.shape}, expected (1797, 65)")
    X, y = np.ascontiguousarray(data[:, :64]), data[:, 64].astype(backend.int64)
    return (X.reshape(-1, 1, 8, 8) if as_images else X), y


# ---------------------------------------------------------------------- MNIST (IDX files)

_IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> Any:
    """Read one IDX file (MNIST's format; gzipped when the name ends in .gz) as a NumPy array.

    Layout: two zero bytes, a type byte (0x08 = uint8, ...), the number of dimensions, one
    big-endian 4-byte size per dimension, then the values. A file that is missing, cut short
    or malformed raises an error naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_idx: no such file: {path}")
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"read_idx: cannot read {path}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"read_idx: {path} has a truncated header ({ndim} dimensions, {len(raw)} bytes)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = header + math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"read_idx: {path} has {len(raw)} bytes but its header {shape} of {dtype} needs {expected}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def load_mnist(path: str | os.PathLike, train: bool = True, as_images: bool = False) -> tuple[Any, Any]:
    """MNIST (or Fashion-MNIST) from the IDX files you already have in folder ``path``.

    Reads ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (``t10k-...`` with
    ``train=False``), each plain or ``.gz``. Returns X float32 (N, 784) with pixel values
    0..255 (or (N, 1, 28, 28) with ``as_images=True``) and y int64. Nothing is downloaded.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"load_mnist: {folder} is not a folder (give the folder holding the IDX files)")
    prefix = "train" if train else "t10k"

    def find(stem: str) -> Path:
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
        raise FileNotFoundError(f"load_mnist: neither {stem} nor {stem}.gz is in {folder}")

    images_file, labels_file = find(f"{prefix}-images-idx3-ubyte"), find(f"{prefix}-labels-idx1-ubyte")
    images, labels = read_idx(images_file), read_idx(labels_file)
    if images.ndim != 3:
        raise ValueError(f"load_mnist: {images_file} holds shape {images.shape}, expected (N, rows, cols)")
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"load_mnist: {labels_file} holds shape {labels.shape}, expected ({len(images)},) "
                         f"to match {images_file}")
    n, h, w = images.shape
    X = images.astype(backend.float32)
    return (X.reshape(n, 1, h, w) if as_images else X.reshape(n, h * w)), labels.astype(backend.int64)
