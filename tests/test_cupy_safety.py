"""Code on arrays uses only what NumPy and CuPy both provide, checked without a GPU.

Two checks that CI on the CPU runs:

* an ``ast`` scan of minidl/ for NumPy-only calls (``errstate``/``seterr`` on any module,
  ``stride_tricks`` reached through NumPy rather than the array's own module, ``backend.np.f``
  for functions that would be applied to a device array);
* a stand-in: the whole engine runs a training step (layers, losses, optimizers, data
  transforms) with every array's module replaced by a "cupy-like" wrapper of NumPy that
  lacks the NumPy-only names (``errstate`` first of all: CuPy has none), so
  ``xp.errstate(...)`` anywhere on the hot path fails here as it would on the GPU.
"""

from __future__ import annotations

import ast
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minidl as md
import minidl.data as data
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import backend

PACKAGE = Path(__file__).resolve().parents[1] / "minidl"

# NumPy names CuPy does not have (cupyx.errstate exists, cupy.errstate does not)
NUMPY_ONLY = {"errstate", "seterr", "geterr", "seterrcall", "nditer", "ndindex", "frompyfunc", "asfarray"}
# names of backend.np that array code may use: dtypes, constants, and helpers on shapes or
# host values (never a function given a device array)
HOST_SAFE_NP = {"ndarray", "generic", "dtype", "uint8", "nan", "inf", "broadcast_shapes", "asarray", "cumsum",
                "finfo", "integer", "floating", "bool_"}
# modules that work on the host by design (they convert to NumPy first, or only see NumPy)
HOST_MODULES = {"gradcheck.py", "serialization.py", "testing.py", "viz.py"}


def _is_backend_np(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "np" and isinstance(node.value, ast.Name) \
        and node.value.id == "backend"


def scan(source: str, name: str = "<source>") -> list[str]:
    """The NumPy-only uses in ``source`` (``file:line what``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute):
            continue
        if node.attr in ("errstate", "seterr", "geterr", "seterrcall"):
            found.append(f"{name}:{node.lineno} .{node.attr} (CuPy has none: use backend.quiet_float_warnings)")
        if node.attr == "stride_tricks":
            lib = node.value
            owner = lib.value if isinstance(lib, ast.Attribute) and lib.attr == "lib" else None
            if not (isinstance(owner, ast.Name) and owner.id == "xp"):
                found.append(f"{name}:{node.lineno} stride_tricks not through the array's own module (xp.lib)")
        if _is_backend_np(node.value) and node.attr not in HOST_SAFE_NP:
            found.append(f"{name}:{node.lineno} backend.np.{node.attr}")
    return found


def test_no_numpy_only_calls_in_the_package():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "backend.py":
            continue
        hits = scan(path.read_text(), path.relative_to(PACKAGE).as_posix())
        if path.name in HOST_MODULES and path.parent == PACKAGE:
            hits = [h for h in hits if "backend.np." not in h]
        offenders += hits
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("bad", [
    "with xp.errstate(over='ignore'):\n    y = xp.exp(x)\n",
    "with backend.np.errstate(divide='ignore'):\n    pass\n",
    "v = backend.np.lib.stride_tricks.as_strided(x, shape, strides)\n",
    "y = backend.np.exp(x)\n",
])
def test_the_scan_catches_a_relapse(bad):
    assert scan(bad)


def test_the_scan_lets_device_safe_code_through():
    ok = "xp = backend.array_module(x)\nv = xp.lib.stride_tricks.as_strided(x, s, t)\nn = backend.np.nan\n"
    assert scan(ok) == []


# --------------------------------------------------------------------------- the stand-in


# the methods cupy.random.Generator has (no permutation, shuffle, choice, normal(...) is there)
CUPY_GENERATOR = {"random", "standard_normal", "integers", "uniform", "normal", "binomial", "beta", "gamma",
                  "exponential", "poisson", "standard_exponential", "standard_gamma"}


class CupyLikeGenerator:
    """A NumPy Generator showing only what ``cupy.random.Generator`` has."""

    def __init__(self, seed: Any) -> None:
        self._g = np.random.default_rng(seed)

    def __getattr__(self, name: str) -> Any:
        if name not in CUPY_GENERATOR:
            raise AttributeError(f"'cupy.random.Generator' object has no attribute {name!r}")
        return getattr(self._g, name)


class CupyLike(types.ModuleType):
    """NumPy without the names CuPy lacks: ``xp.errstate`` raises AttributeError as on a GPU,
    and ``xp.random.default_rng`` gives a generator with CuPy's methods only."""

    def __init__(self) -> None:
        super().__init__("cupy_like")
        self.random = types.SimpleNamespace(default_rng=CupyLikeGenerator)

    def __getattr__(self, name: str) -> Any:
        if name in NUMPY_ONLY:
            raise AttributeError(f"module 'cupy' has no attribute {name!r} (NumPy-only)")
        return getattr(np, name)


@pytest.fixture
def cupy_like(monkeypatch):
    """Every array's module is the CuPy-like wrapper (arrays stay NumPy arrays on the CPU)."""
    fake = CupyLike()
    monkeypatch.setattr(backend, "array_module", lambda a: fake)
    monkeypatch.setattr(backend, "module_for_device", lambda device=None: fake)
    monkeypatch.setattr(backend, "default_module", lambda: fake)
    monkeypatch.setattr(backend, "xp", fake)
    yield fake


def test_random_tensors_on_the_stand_in(cupy_like):
    md.manual_seed(0)
    perm = md.randperm(50).numpy()
    assert sorted(perm.tolist()) == list(range(50)) and perm.dtype == np.int64
    assert md.randn(3, 4).shape == (3, 4) and md.rand(5).dtype == md.float32
    assert md.randint(0, 3, (10,)).numpy().max() < 3
    assert nn.Dropout(0.5)(md.ones(100)).shape == (100,)
    for init in (nn.init.xavier_uniform_, nn.init.kaiming_normal_, nn.init.orthogonal_, nn.init.trunc_normal_):
        assert np.all(np.isfinite(init(md.zeros(4, 5)).numpy()))


def test_the_stand_in_lacks_errstate(cupy_like):
    assert backend.array_module(np.zeros(1)) is cupy_like
    with pytest.raises(AttributeError, match="errstate"):
        cupy_like.errstate(over="ignore")


def _train_steps(opt_name: str) -> list[float]:
    md.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3), nn.GELU(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(4, 16), nn.LayerNorm(16), nn.Tanh(), nn.Dropout(0.1), nn.Linear(16, 3),
    )
    opt = {"sgd": lambda p: md.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
           "adam": lambda p: md.optim.Adam(p, lr=1e-2, amsgrad=True),
           "adamw": lambda p: md.optim.AdamW(p, lr=1e-2),
           "rmsprop": lambda p: md.optim.RMSprop(p, lr=1e-2, momentum=0.5, centered=True),
           "adagrad": lambda p: md.optim.Adagrad(p, lr=1e-2)}[opt_name](model.parameters())
    x = md.randn(8, 1, 10, 10)
    y = md.tensor([0, 1, 2, 0, 1, 2, 0, -100])
    losses = []
    for _ in range(3):
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y, ignore_index=-100) + F.cross_entropy(out, y.clamp(0, 2), label_smoothing=0.1)
        loss = loss + F.mse_loss(out.sigmoid(), md.zeros(8, 3)) + F.l1_loss(out, md.zeros(8, 3))
        p = out.softmax(axis=1)[:, 0]
        loss = loss + F.binary_cross_entropy(p, md.ones(8)) + F.binary_cross_entropy_with_logits(out[:, 1], md.ones(8))
        loss = loss + F.huber_loss(out, md.zeros(8, 3)) + (out.exp() * 1e-3).mean() + out.logsumexp(axis=1).mean()
        loss = loss + F.nll_loss(out.log_softmax(axis=1), y.clamp(0, 2)) + out.var(axis=0).sum()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("opt_name", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_a_training_step_runs_on_the_stand_in_with_the_same_numbers(opt_name, monkeypatch):
    reference = _train_steps(opt_name)
    fake = CupyLike()
    monkeypatch.setattr(backend, "array_module", lambda a: fake)
    monkeypatch.setattr(backend, "module_for_device", lambda device=None: fake)
    monkeypatch.setattr(backend, "default_module", lambda: fake)
    monkeypatch.setattr(backend, "xp", fake)
    assert np.all(np.isfinite(reference))
    np.testing.assert_allclose(_train_steps(opt_name), reference, rtol=1e-6)


def test_edge_values_on_the_stand_in(cupy_like):
    x = md.tensor([-1000.0, 0.0, 1000.0])
    np.testing.assert_array_equal(x.sigmoid().numpy(), [0.0, 0.5, 1.0])
    assert x.exp().numpy()[2] == np.inf
    assert md.tensor([[-np.inf, -np.inf]]).logsumexp(axis=1).item() == -np.inf
    assert np.isnan(md.tensor([1.0]).var().item())
    assert F.binary_cross_entropy(md.tensor([0.0]), md.tensor([1.0])).item() == pytest.approx(100.0)


def test_data_transforms_and_preprocessing_on_the_stand_in(cupy_like):
    imgs = md.rand(4, 1, 8, 8)
    augment = data.Compose([data.RandomCrop(8, padding=1, seed=0), data.RandomHorizontalFlip(seed=1),
                            data.RandomRotation(10, seed=2), data.RandomAffine(5, translate=(0.1, 0.1), seed=3),
                            data.ColorJitter(0.2, 0.2, seed=4), data.GaussianNoise(0.05, seed=5),
                            data.Normalize(0.5, 0.25)])
    assert augment(imgs).shape == (4, 1, 8, 8)
    X = md.randn(20, 3)
    for scaler in (data.StandardScaler(), data.MinMaxScaler(), data.PCA(2), data.ZCAWhitening()):
        assert np.all(np.isfinite(scaler.fit_transform(X).numpy()))
    loader = data.DataLoader(data.TensorDataset(X, md.arange(20)), batch_size=8, shuffle=True)
    assert sum(len(xb) for xb, _ in loader) == 20
