"""Preprocessing with statistics fitted on the training set only (scikit-learn's API).

The Crash Course deck's recipe, on a data matrix X of shape (N, D), one row per sample:

    StandardScaler   (X - mean) / std             every feature: mean 0, std 1 (std with 1/N)
    MinMaxScaler     (X - min) / (max - min)      values in feature_range, [0, 1] by default
    MeanNormalizer   (X - mean) / (max - min)     mean 0, range exactly 1 (values in [-1, 1])
    PCA              (X - mean) V                 V: eigenvectors of the covariance, sorted by
                                                  eigenvalue, largest first: decorrelated features
    ZCAWhitening     (X - mean) V diag(1/sqrt(E + eps)) V^T    covariance -> identity, no rotation

``fit(X_train)`` stores the statistics; ``transform(X)`` applies those same numbers to any
data (dev, test, inference), so no information from the evaluation data leaks into training.
``fit_transform``, ``inverse_transform``, ``state_dict`` / ``load_state_dict`` (saves with
``md.save``) as in scikit-learn and PyTorch. Statistics are computed in float64; outputs keep
the input's float dtype (integers become float32) and kind (array or Tensor). The fitted
statistics live on the device of the data they were fitted on (on the CPU after
``load_state_dict``); transforming data on another device is an error naming both.
A feature that is constant on the training set gets a scale of 1 (as in scikit-learn), so it
maps to 0 instead of dividing by zero.
"""

from __future__ import annotations

from typing import Any, TypeVar

from minidl import backend

from ._util import float_array, like, np, to_array


class NotFittedError(ValueError, AttributeError):
    """A transformer was used before ``fit`` (scikit-learn's exception of the same name)."""


def _nonzero_scale(scale: Any) -> Any:
    """Scales that are (numerically) zero become 1: a constant feature is left unscaled."""
    xp = backend.array_module(scale)
    return xp.where(scale < 10 * np.finfo(backend.float64).eps, 1.0, scale)


_Fitted = TypeVar("_Fitted", bound="Transformer")


class Transformer:
    """Shared machinery: input checks, fitted state, state dicts. Subclasses list their
    fitted array attributes in ``_state`` and implement ``_fit`` (returns the fitted
    attributes as a dict; ``fit`` assigns them only once all checks passed, so a refused
    fit changes nothing) / ``_transform`` / ``_inverse`` on float64 arrays."""

    _state: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.n_features_in_: int | None = None
        self.n_samples_seen_: int | None = None

    # ------------------------------------------------------------------ inputs

    def _matrix(self, X: Any, what: str) -> Any:
        a = to_array(X, "X")
        if a.ndim != 2:
            raise ValueError(f"{type(self).__name__}.{what}: expected a 2-D array (n_samples, n_features), "
                             f"got shape {tuple(a.shape)}" + ("; reshape a single sample with X.reshape(1, -1)"
                                                              if a.ndim == 1 else ""))
        return float_array(a)

    def _check_fitted(self, what: str) -> None:
        if self.n_features_in_ is None:
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet; call fit(X_train) "
                                 f"before {what}")

    def _fitted_input(self, X: Any, what: str, n_features: int | None = None) -> Any:
        self._check_fitted(what)
        a = self._matrix(X, what)
        expected = self.n_features_in_ if n_features is None else n_features
        if a.shape[1] != expected:
            raise ValueError(f"X has {a.shape[1]} features, but {type(self).__name__} is expecting {expected} "
                             f"features as input ({what})")
        stats_device = backend.device_of(getattr(self, self._state[0]))
        if backend.device_of(a) != stats_device:
            raise ValueError(f"{type(self).__name__}.{what}: X is on {backend.device_of(a)} but the fitted "
                             f"statistics are on {stats_device}")
        return a

    def _stat(self, name: str, like_array: Any) -> Any:
        """Fitted statistic ``name`` in the dtype of ``like_array`` (float32 data stays float32)."""
        return getattr(self, name).astype(like_array.dtype, copy=False)

    # ------------------------------------------------------------------ API

    def fit(self: _Fitted, X: Any, y: Any = None) -> _Fitted:
        """Learn the statistics from ``X`` (N, D), the training data. Returns self."""
        a = self._matrix(X, "fit")
        if a.shape[0] == 0:
            raise ValueError(f"{type(self).__name__}.fit: X has no samples (shape {tuple(a.shape)})")
        xp = backend.array_module(a)
        a64 = a.astype(backend.float64)
        if not bool(xp.isfinite(a64).all()):
            raise ValueError(f"{type(self).__name__}.fit: X contains NaN or infinity")
        fitted = self._fit(a64)
        for name, value in fitted.items():
            setattr(self, name, value)
        self.n_features_in_, self.n_samples_seen_ = int(a.shape[1]), int(a.shape[0])
        return self

    def transform(self, X: Any) -> Any:
        """Apply the fitted statistics to ``X`` (N, D): same kind, dtype and device as X."""
        a = self._fitted_input(X, "transform")
        return like(self._transform(a), X)

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> Any:
        """Map transformed data back to the original feature space."""
        a = self._fitted_input(X, "inverse_transform", self._n_out())
        return like(self._inverse(a), X)

    def _n_out(self) -> int:
        assert self.n_features_in_ is not None
        return self.n_features_in_

    def state_dict(self) -> dict[str, Any]:
        """The fitted statistics (arrays) and counts, for ``md.save``."""
        self._check_fitted("state_dict")
        state: dict[str, Any] = {name: getattr(self, name) for name in self._state}
        state["n_features_in_"], state["n_samples_seen_"] = self.n_features_in_, self.n_samples_seen_
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore fitted statistics saved by ``state_dict``. Everything is checked first (keys,
        positive int counts, shapes, finite statistics, a positive ``scale_``, which is divided
        by); on error nothing changes."""
        if not isinstance(state, dict):
            raise TypeError(f"load_state_dict expects a dict, got {type(state).__name__}")
        expected = set(self._state) | {"n_features_in_", "n_samples_seen_"}
        if set(state) != expected:
            missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, unexpected keys {extra}")
        counts = {}
        for key in ("n_features_in_", "n_samples_seen_"):
            v = state[key]
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"{type(self).__name__}.load_state_dict: {key} must be a positive int, got {v!r}")
            counts[key] = int(v)
        d = counts["n_features_in_"]
        arrays = {name: to_array(state[name], name).astype(backend.float64) for name in self._state}
        extra_attrs = self._check_state(arrays, d)
        for name, a in arrays.items():
            if not bool(backend.array_module(a).isfinite(a).all()):
                raise ValueError(f"{type(self).__name__}.load_state_dict: {name} contains NaN or infinity")
        if "scale_" in arrays and not bool((arrays["scale_"] > 0).all()):
            raise ValueError(f"{type(self).__name__}.load_state_dict: scale_ must be positive (it is divided by)")
        for name, value in {**arrays, **extra_attrs}.items():
            setattr(self, name, value)
        self.n_features_in_, self.n_samples_seen_ = d, counts["n_samples_seen_"]

    def _check_state(self, arrays: dict[str, Any], d: int) -> dict[str, Any]:
        """Check the shapes of the loaded arrays; return further attributes to set with them."""
        for name, a in arrays.items():
            if a.shape != (d,):
                raise ValueError(f"{type(self).__name__}.load_state_dict: {name} has shape {tuple(a.shape)}, "
                                 f"expected ({d},)")
        return {}

    def _fit(self, X: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _transform(self, X: Any) -> Any:
        raise NotImplementedError

    def _inverse(self, X: Any) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        fitted = f"fitted on {self.n_samples_seen_} x {self.n_features_in_}" if self.n_features_in_ else "not fitted"
        return f"{type(self).__name__}({fitted})"


class StandardScaler(Transformer):
    """z = (x - mean_) / scale_ per feature; scale_ = sqrt(var_), var_ with 1/N (as scikit-learn).

    Fitted attributes: ``mean_``, ``var_``, ``scale_`` (D,). ``with_mean=False`` skips the
    centring, ``with_std=False`` the scaling.
    """

    _state = ("mean_", "var_", "scale_")
    # the fitted statistics, set by fit() (declared for readers and type checkers)
    mean_: Any
    var_: Any
    scale_: Any

    def __init__(self, *, with_mean: bool = True, with_std: bool = True) -> None:
        super().__init__()
        self.with_mean, self.with_std = bool(with_mean), bool(with_std)

    def _fit(self, X: Any) -> dict[str, Any]:
        mean = X.mean(axis=0)
        var = ((X - mean) ** 2).mean(axis=0)
        return {"mean_": mean, "var_": var, "scale_": _nonzero_scale(backend.array_module(X).sqrt(var))}

    def _transform(self, X: Any) -> Any:
        if self.with_mean:
            X = X - self._stat("mean_", X)
        return X / self._stat("scale_", X) if self.with_std else X

    def _inverse(self, X: Any) -> Any:
        if self.with_std:
            X = X * self._stat("scale_", X)
        return X + self._stat("mean_", X) if self.with_mean else X


class MinMaxScaler(Transformer):
    """x' = (x - data_min_) / (data_max_ - data_min_) * (hi - lo) + lo, i.e. x * scale_ + min_.

    Values of the training data land in ``feature_range`` = (lo, hi); new data may fall
    outside unless ``clip=True``. Fitted: ``data_min_``, ``data_max_``, ``data_range_``,
    ``scale_``, ``min_`` (D,).
    """

    _state = ("data_min_", "data_max_", "data_range_", "scale_", "min_")
    # the fitted statistics, set by fit() (declared for readers and type checkers)
    data_min_: Any
    data_max_: Any
    data_range_: Any
    scale_: Any
    min_: Any

    def __init__(self, feature_range: tuple[float, float] = (0, 1), *, clip: bool = False) -> None:
        super().__init__()
        try:
            lo, hi = (float(v) for v in feature_range)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"feature_range must be a pair (min, max), got {feature_range!r}") from exc
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError("feature_range must be finite, with the minimum smaller than the maximum; "
                             f"got {feature_range}")
        self.feature_range, self.clip = (lo, hi), bool(clip)

    def _fit(self, X: Any) -> dict[str, Any]:
        lo, hi = self.feature_range
        data_min, data_max = X.min(axis=0), X.max(axis=0)
        scale = (hi - lo) / _nonzero_scale(data_max - data_min)
        return {"data_min_": data_min, "data_max_": data_max, "data_range_": data_max - data_min,
                "scale_": scale, "min_": lo - data_min * scale}

    def _transform(self, X: Any) -> Any:
        out = X * self._stat("scale_", X) + self._stat("min_", X)
        return backend.array_module(out).clip(out, *self.feature_range) if self.clip else out

    def _inverse(self, X: Any) -> Any:
        return (X - self._stat("min_", X)) / self._stat("scale_", X)


class MeanNormalizer(Transformer):
    """x' = (x - mean_) / (data_max_ - data_min_): the Crash Course deck's "(X - mean)/(max - min)".

    Mean normalisation, not min-max scaling: on the training data every feature has mean 0
    and a range of exactly 1, so its values lie within [-1, 1]. Fitted: ``mean_``,
    ``data_min_``, ``data_max_``, ``scale_`` (the range; 1 for a constant feature) (D,).
    """

    _state = ("mean_", "data_min_", "data_max_", "scale_")
    # the fitted statistics, set by fit() (declared for readers and type checkers)
    mean_: Any
    data_min_: Any
    data_max_: Any
    scale_: Any

    def _fit(self, X: Any) -> dict[str, Any]:
        data_min, data_max = X.min(axis=0), X.max(axis=0)
        return {"mean_": X.mean(axis=0), "data_min_": data_min, "data_max_": data_max,
                "scale_": _nonzero_scale(data_max - data_min)}

    def _transform(self, X: Any) -> Any:
        return (X - self._stat("mean_", X)) / self._stat("scale_", X)

    def _inverse(self, X: Any) -> Any:
        return X * self._stat("scale_", X) + self._stat("mean_", X)


def _sorted_eigh(C: Any) -> tuple[Any, Any]:
    """Eigenvalues of the symmetric matrix C, largest first, and their eigenvectors as columns.

    ``eigh`` is for symmetric matrices and returns its eigenvalues ascending; the Crash Course deck uses
    ``eig``, which does not sort at all, so "the first K columns" need not be the top K.
    Each eigenvector's sign is fixed so that its largest-magnitude entry is positive
    (scikit-learn's convention for PCA), which makes the result unique.
    """
    xp = backend.array_module(C)
    E, V = xp.linalg.eigh(C)
    order = xp.argsort(E)[::-1]
    E, V = xp.clip(E[order], 0.0, None), V[:, order]        # round-off can leave tiny negatives
    biggest = xp.argmax(xp.abs(V), axis=0)
    signs = xp.sign(V[biggest, xp.arange(V.shape[1])])
    return E, V * xp.where(signs == 0, 1.0, signs)


class PCA(Transformer):
    """Principal component analysis, as ``sklearn.decomposition.PCA`` (its numbers too).

    With the training data centred, Xc = X - mean_, and its covariance C = Xc^T Xc / (N - 1)
    = V diag(E) V^T (eigenvalues E sorted largest first):

        transform(X) = (X - mean_) V[:, :K]                 covariance of the result: diag(E[:K])
        whiten=True:   (X - mean_) V[:, :K] / sqrt(E[:K])    covariance: the identity

    ``components_`` = V[:, :K]^T (K, D) (each row's largest entry positive),
    ``explained_variance_`` = E[:K], ``explained_variance_ratio_`` = E[:K] / sum(E): the share
    of the total variance each kept direction carries. ``n_components``: None keeps
    min(N, D); an int K keeps K; a float in (0, 1) keeps the fewest components whose ratios add
    up to more than it. The Crash Course deck divides by N, not N - 1: its eigenvalues are
    ``explained_variance_ * (N - 1) / N``; the eigenvectors are the same.
    """

    _state = ("mean_", "components_", "explained_variance_", "explained_variance_ratio_", "singular_values_")
    # the fitted statistics, set by fit() (declared for readers and type checkers)
    mean_: Any
    components_: Any
    explained_variance_: Any
    explained_variance_ratio_: Any
    singular_values_: Any

    def __init__(self, n_components: float | None = None, *, whiten: bool = False) -> None:
        super().__init__()
        if n_components is not None:
            if isinstance(n_components, bool) or not isinstance(n_components, (int, float, np.integer, np.floating)):
                raise TypeError(f"n_components must be None, an int or a float in (0, 1), got {n_components!r}")
            if isinstance(n_components, (float, np.floating)) and not 0 < n_components < 1:
                raise ValueError(f"a float n_components must be in (0, 1), got {n_components}")
            if isinstance(n_components, (int, np.integer)) and n_components < 1:
                raise ValueError(f"n_components must be at least 1, got {n_components}")
        self.n_components, self.whiten = n_components, bool(whiten)

    def _fit(self, X: Any) -> dict[str, Any]:
        xp = backend.array_module(X)
        n, d = X.shape
        if n < 2:
            raise ValueError("PCA.fit needs at least 2 samples (the covariance divides by N - 1)")
        mean = X.mean(axis=0)
        Xc = X - mean
        E, V = _sorted_eigh(Xc.T @ Xc / (n - 1))
        ratio = E / E.sum() if float(E.sum()) > 0 else xp.zeros_like(E)
        k = self.n_components
        if k is None:
            k = min(n, d)
        elif isinstance(k, (float, np.floating)):
            k = int(np.searchsorted(backend.to_numpy(xp.cumsum(ratio)), k, side="right")) + 1
            k = min(k, min(n, d))
        elif k > min(n, d):
            raise ValueError(f"n_components={k} must be between 0 and min(n_samples, n_features)={min(n, d)}")
        return {"mean_": mean, "components_": V[:, :k].T, "explained_variance_": E[:k],
                "explained_variance_ratio_": ratio[:k], "singular_values_": xp.sqrt(E[:k] * (n - 1)),
                "n_components_": int(k)}

    def _scale(self, X: Any) -> Any:
        s = self._stat("explained_variance_", X) ** 0.5
        return backend.array_module(s).maximum(s, np.finfo(s.dtype).eps)   # as scikit-learn: never divide by 0

    def _transform(self, X: Any) -> Any:
        out = (X - self._stat("mean_", X)) @ self._stat("components_", X).T
        return out / self._scale(X) if self.whiten else out

    def _inverse(self, X: Any) -> Any:
        if self.whiten:
            X = X * self._scale(X)
        return X @ self._stat("components_", X) + self._stat("mean_", X)

    def _n_out(self) -> int:
        return int(self.components_.shape[0])

    def _check_state(self, arrays: dict[str, Any], d: int) -> dict[str, Any]:
        k = arrays["components_"].shape[0] if arrays["components_"].ndim == 2 else -1
        shapes = {"mean_": (d,), "components_": (k, d), "explained_variance_": (k,),
                  "explained_variance_ratio_": (k,), "singular_values_": (k,)}
        for name, a in arrays.items():
            if a.shape != shapes[name] or k < 1:
                raise ValueError(f"PCA.load_state_dict: {name} has shape {tuple(a.shape)}, expected "
                                 f"{shapes[name]} for {d} features")
        if isinstance(self.n_components, (int, np.integer)) and k != self.n_components:
            raise ValueError(f"PCA.load_state_dict: the state has {k} components but this PCA keeps "
                             f"n_components={self.n_components}")
        return {"n_components_": int(k)}


class ZCAWhitening(Transformer):
    """ZCA ("zero-phase") whitening: W = V diag(1 / sqrt(E + eps)) V^T, x' = (x - mean_) W.

    The covariance C = Xc^T Xc / (N - 1) = V diag(E) V^T of the training data becomes the
    identity (up to eps / E for small eigenvalues), like PCA whitening, but the result is
    rotated back onto the original axes, so whitened images still look like images. ``eps``
    keeps directions of (almost) zero variance from being blown up. Equals
    ``PCA(whiten=True)`` followed by the rotation ``@ components_`` when eps = 0.
    Fitted: ``mean_`` (D,), ``eigenvalues_`` (D,) sorted largest first, ``components_``
    (D, D) (rows are eigenvectors), ``whitening_`` = W and ``dewhitening_`` = W^-1 (D, D).
    """

    _state = ("mean_", "eigenvalues_", "components_", "whitening_", "dewhitening_")
    # the fitted statistics, set by fit() (declared for readers and type checkers)
    mean_: Any
    eigenvalues_: Any
    components_: Any
    whitening_: Any
    dewhitening_: Any

    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        if (isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating))
                or not 0 <= eps < float("inf")):
            raise ValueError(f"eps must be a finite non-negative number, got {eps!r}")
        self.eps = float(eps)

    def _fit(self, X: Any) -> dict[str, Any]:
        n = X.shape[0]
        if n < 2:
            raise ValueError("ZCAWhitening.fit needs at least 2 samples (the covariance divides by N - 1)")
        xp = backend.array_module(X)
        mean = X.mean(axis=0)
        Xc = X - mean
        E, V = _sorted_eigh(Xc.T @ Xc / (n - 1))
        if self.eps == 0 and float(E.min()) <= 0:
            raise ValueError("ZCAWhitening: the training covariance is singular (a zero eigenvalue); use eps > 0")
        return {"mean_": mean, "eigenvalues_": E, "components_": V.T,
                "whitening_": (V / xp.sqrt(E + self.eps)) @ V.T, "dewhitening_": (V * xp.sqrt(E + self.eps)) @ V.T}

    def _transform(self, X: Any) -> Any:
        return (X - self._stat("mean_", X)) @ self._stat("whitening_", X)

    def _inverse(self, X: Any) -> Any:
        return X @ self._stat("dewhitening_", X) + self._stat("mean_", X)

    def _check_state(self, arrays: dict[str, Any], d: int) -> dict[str, Any]:
        shapes = {"mean_": (d,), "eigenvalues_": (d,), "components_": (d, d), "whitening_": (d, d),
                  "dewhitening_": (d, d)}
        for name, a in arrays.items():
            if a.shape != shapes[name]:
                raise ValueError(f"ZCAWhitening.load_state_dict: {name} has shape {tuple(a.shape)}, "
                                 f"expected {shapes[name]}")
        return {}
