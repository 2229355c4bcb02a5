"""The benchmark workloads, each written three ways from the same weights and data:

* ``minidl``: the public, idiomatic API a student would use (``nn.Sequential`` of
  ``nn.Linear``/``nn.ReLU``, ``F.cross_entropy``, ``optim.SGD``, ``zero_grad``);
* ``numpy``: the hand-written floor of :mod:`benchmarks.numpy_floor`;
* ``torch``: PyTorch on the CPU, when it is importable.

Every implementation class has ``train_step(x, y)`` (what is timed) and, where it makes
sense, ``loss_and_grads(x, y) -> (loss, [grad arrays])`` (what tests compare). A ``Case``
bundles the zero-argument step callables the timer interleaves.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim

from . import numpy_floor as floor

LR = 0.01
MLP_SIZES = (784, 256, 256, 10)


def torch_module() -> Any:
    """The torch module, or None when it is not installed."""
    if importlib.util.find_spec("torch") is None:
        return None
    import torch  # optional peer

    return torch


@dataclass
class Case:
    """One timed workload: a step callable per implementation, plus what the report says."""

    name: str
    title: str
    steps: dict[str, Callable[[], Any]]
    inner: int = 1  # calls per timed sample (for steps too short to time one by one)
    notes: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # impl -> reason


Steps = dict[str, Callable[[], Any]]  # implementation name -> zero-argument step
Skipped = dict[str, str]  # implementation name -> why it is missing


# --------------------------------------------------------------------------- the minidl API in use


def _load_params(params: Iterable[Any], arrays: Sequence[np.ndarray]) -> None:
    """Copy ``arrays`` into minidl parameters (in ``model.parameters()`` order)."""
    params = list(params)
    if len(params) != len(arrays):
        raise ValueError(f"model has {len(params)} parameters, expected {len(arrays)}")
    with md.no_grad():
        for p, a in zip(params, arrays):
            if p.shape != a.shape:
                raise ValueError(f"parameter shape {p.shape} != reference shape {a.shape}")
            p.copy_(a)


class MinidlNet:
    """A minidl model trained as a student would: ``F.cross_entropy`` and ``optim.SGD``."""

    def __init__(self, model: nn.Module, lr: float) -> None:
        self.model = model
        self.params = list(model.parameters())
        self.optimizer = optim.SGD(self.params, lr=lr)

    def train_step(self, x: md.Tensor, y: md.Tensor) -> None:
        self.optimizer.zero_grad()
        loss = F.cross_entropy(self.model(x), y)
        loss.backward()
        self.optimizer.step()

    def loss_and_grads(self, x: md.Tensor, y: md.Tensor) -> tuple[float, list[np.ndarray]]:
        self.optimizer.zero_grad()
        loss = F.cross_entropy(self.model(x), y)
        loss.backward()
        return loss.item(), [md.backend.to_numpy(p.grad) for p in self.params]


MINIDL_API = "nn.Sequential/Linear/ReLU, F.cross_entropy, optim.SGD"


def minidl_mlp(arrays: Sequence[np.ndarray], lr: float = LR) -> MinidlNet:
    """The MLP in minidl: ``nn.Sequential(Linear, ReLU, Linear, ReLU, Linear)`` holding ``arrays``."""
    n_layers = len(arrays) // 2
    layers: list[nn.Module] = []
    for i in range(n_layers):
        out_f, in_f = arrays[2 * i].shape
        layers.append(nn.Linear(in_f, out_f))
        if i < n_layers - 1:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    _load_params(model.parameters(), arrays)
    return MinidlNet(model, lr)


def minidl_cnn(arrays: Sequence[np.ndarray], lr: float = LR) -> MinidlNet:
    """conv8-relu-pool-conv16-relu-pool-flatten-fc10 in minidl, holding ``arrays``."""
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10),
    )
    _load_params(model.parameters(), arrays)
    return MinidlNet(model, lr)


# --------------------------------------------------------------------------- NumPy floor and torch


class NumpyNet:
    """The floor: ``loss_and_grads`` of numpy_floor plus in-place SGD."""

    def __init__(self, arrays: Sequence[np.ndarray], loss_and_grads: Callable, lr: float = LR) -> None:
        self.params = [a.copy() for a in arrays]
        self._loss_and_grads = loss_and_grads
        self.lr = lr

    def train_step(self, x: np.ndarray, y: np.ndarray) -> None:
        _, grads = self._loss_and_grads(self.params, x, y)
        floor.sgd_step(self.params, grads, self.lr)

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
        return self._loss_and_grads(self.params, x, y)


class TorchNet:
    """The same net in PyTorch (weights copied from the same arrays)."""

    def __init__(self, model: Any, lr: float = LR) -> None:
        torch = torch_module()
        self.torch, self.model = torch, model
        self.params = list(model.parameters())
        self.optimizer = torch.optim.SGD(self.params, lr=lr)

    def train_step(self, x: Any, y: Any) -> None:
        self.optimizer.zero_grad()
        loss = self.torch.nn.functional.cross_entropy(self.model(x), y)
        loss.backward()
        self.optimizer.step()

    def loss_and_grads(self, x: Any, y: Any) -> tuple[float, list[np.ndarray]]:
        self.optimizer.zero_grad()
        loss = self.torch.nn.functional.cross_entropy(self.model(x), y)
        loss.backward()
        return loss.item(), [p.grad.numpy().copy() for p in self.params]


def _torch_load(model: Any, arrays: Sequence[np.ndarray]) -> Any:
    torch = torch_module()
    with torch.no_grad():
        for p, a in zip(model.parameters(), arrays):
            p.copy_(torch.from_numpy(np.ascontiguousarray(a)))
    return model


def torch_mlp(arrays: Sequence[np.ndarray], lr: float = LR) -> TorchNet:
    torch = torch_module()
    n_layers = len(arrays) // 2
    layers: list[Any] = []
    for i in range(n_layers):
        out_f, in_f = arrays[2 * i].shape
        layers.append(torch.nn.Linear(in_f, out_f))
        if i < n_layers - 1:
            layers.append(torch.nn.ReLU())
    return TorchNet(_torch_load(torch.nn.Sequential(*layers), arrays), lr)


def torch_cnn(arrays: Sequence[np.ndarray], lr: float = LR) -> TorchNet:
    nn = torch_module().nn
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10),
    )
    return TorchNet(_torch_load(model, arrays), lr)


# --------------------------------------------------------------------------- data


mlp_data = floor.mlp_data
cnn_data = floor.cnn_data


def nets(kind: str, batch: int, seed: int = 0, impls: Sequence[str] = ("minidl", "numpy", "torch"),
         ) -> tuple[dict[str, Any], dict[str, tuple[Any, Any]], dict[str, str]]:
    """``({impl: net}, {impl: (x, y)}, {impl: skip reason})`` for ``kind`` in {"mlp", "cnn"},
    all built from the same weights and data."""
    arrays, x, y = (mlp_data if kind == "mlp" else cnn_data)(batch, seed)
    built: dict[str, Any] = {}
    inputs: dict[str, tuple[Any, Any]] = {}
    skipped: dict[str, str] = {}
    if "minidl" in impls:
        built["minidl"] = (minidl_mlp if kind == "mlp" else minidl_cnn)(arrays)
        inputs["minidl"] = (md.as_tensor(x), md.as_tensor(y))
    if "numpy" in impls:
        built["numpy"] = NumpyNet(arrays, floor.mlp_loss_and_grads if kind == "mlp" else floor.cnn_loss_and_grads)
        inputs["numpy"] = (x, y)
    torch = torch_module() if "torch" in impls else None
    if "torch" not in impls:
        pass
    elif torch is None:
        skipped["torch"] = "torch is not installed"
    else:
        built["torch"] = (torch_mlp if kind == "mlp" else torch_cnn)(arrays)
        inputs["torch"] = (torch.from_numpy(x), torch.from_numpy(y))
    return built, inputs, skipped


def _train_case(name: str, title: str, kind: str, batch: int) -> Case:
    built, inputs, skipped = nets(kind, batch)
    steps = {impl: _bind(net.train_step, *inputs[impl]) for impl, net in built.items()}
    notes = [f"minidl API: {MINIDL_API}"] if "minidl" in built else []
    return Case(name, title, steps, notes=notes, skipped=skipped)


def _bind(fn: Callable, *args: Any) -> Callable[[], Any]:
    return lambda: fn(*args)


def mlp_case(batch: int) -> Case:
    """(a) one SGD training step of the 784-256-256-10 MLP: forward, cross-entropy, backward, update."""
    return _train_case(f"mlp_b{batch}", f"MLP 784-256-256-10 SGD step, batch {batch}", "mlp", batch)


def cnn_case(batch: int = 64) -> Case:
    """(c) one SGD step of conv8-relu-pool-conv16-relu-pool-fc10 on (batch, 1, 28, 28)."""
    case = _train_case("cnn", f"CNN conv8-pool-conv16-pool-fc10 SGD step, batch {batch}", "cnn", batch)
    case.notes.append("NumPy floor: im2col via sliding_window_view + tensordot")
    return case


# --------------------------------------------------------------------------- (b) per-op overhead


def per_op_steps(n: int = 10, seed: int = 0) -> tuple[Steps, Skipped]:
    """``(x * 2 + 1).sum()`` forward + backward on ``n`` float32 elements; each step returns
    the gradient of x (as an array) so tests can compare."""
    x_np = np.random.default_rng(seed).standard_normal(n).astype(np.float32)
    x = md.tensor(x_np, requires_grad=True)

    def minidl_step() -> Any:
        x.grad = None
        (x * 2 + 1).sum().backward()
        return x.grad

    steps: dict[str, Callable[[], Any]] = {"minidl": minidl_step, "numpy": _bind(floor.per_op_step, x_np)}
    skipped: dict[str, str] = {}
    torch = torch_module()
    if torch is None:
        skipped["torch"] = "torch is not installed"
    else:
        xt = torch.tensor(x_np, requires_grad=True)

        def torch_step() -> Any:
            xt.grad = None
            (xt * 2 + 1).sum().backward()
            return xt.grad

        steps["torch"] = torch_step
    return steps, skipped


def per_op_case(n: int = 10, inner: int = 200) -> Case:
    steps, skipped = per_op_steps(n)
    return Case("per_op", f"per-op overhead: (x*2+1).sum() fwd+bwd, {n} elements", steps, inner=inner,
                skipped=skipped, notes=["4 ops (mul, add, sum, backward); time per whole step"])


# --------------------------------------------------------------------------- (e) activation statistics


def tanh_stats_data(width: int = 4096, depth: int = 6, batch: int = 16, sigma: float = 0.01,
                    seed: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
    """Lesson 02's setup: x ~ N(0, 1) of shape (batch, width), ``depth`` weights N(0, sigma^2)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, width), dtype=np.float32)
    weights = []
    for _ in range(depth):
        w = rng.standard_normal((width, width), dtype=np.float32)
        w *= np.float32(sigma)
        weights.append(w)
    return x, weights


def tanh_stats_steps(width: int = 4096, depth: int = 6, batch: int = 16) -> tuple[Steps, Skipped]:
    """The forward pass h_l = tanh(h_{l-1} W_l) with each layer's (mean, std), three ways."""
    x_np, w_np = tanh_stats_data(width, depth, batch)
    x = md.as_tensor(x_np)
    ws = [md.as_tensor(w) for w in w_np]  # shared memory: no copy of the big weights

    def minidl_step() -> list[tuple[float, float]]:
        stats = []
        h = x
        for w in ws:
            h = (h @ w).tanh()
            stats.append((h.mean().item(), h.std(correction=0).item()))
        return stats

    steps: dict[str, Callable[[], Any]] = {"minidl": minidl_step, "numpy": _bind(floor.tanh_stats_forward, x_np, w_np)}
    skipped: dict[str, str] = {}
    torch = torch_module()
    if torch is None:
        skipped["torch"] = "torch is not installed"
    else:
        xt, wts = torch.from_numpy(x_np), [torch.from_numpy(w) for w in w_np]

        def torch_step() -> list[tuple[float, float]]:
            stats = []
            h = xt
            for w in wts:
                h = torch.tanh(h @ w)
                stats.append((h.mean().item(), h.std(correction=0).item()))
            return stats

        steps["torch"] = torch_step
    return steps, skipped


def tanh_stats_case(width: int = 4096, depth: int = 6, batch: int = 16) -> Case:
    steps, skipped = tanh_stats_steps(width, depth, batch)
    title = f"lesson 02 activation statistics: {depth} tanh layers of {width}, batch {batch}, forward"
    return Case("tanh_stats", title, steps, skipped=skipped)


# --------------------------------------------------------------------------- (f) long chain


def chain_steps(n_ops: int = 10_000, factor: float = 1.0001, n: int = 10) -> tuple[Steps, Skipped]:
    """y = x * factor * ... (``n_ops`` ops), then backward of y.sum(); returns dL/dx."""
    x_np = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    x = md.tensor(x_np, requires_grad=True)

    def minidl_step() -> Any:
        x.grad = None
        y = x
        for _ in range(n_ops):
            y = y * factor
        y.sum().backward()
        return x.grad

    steps: dict[str, Callable[[], Any]] = {
        "minidl": minidl_step, "numpy": _bind(floor.chain_forward_backward, x_np, n_ops, factor)}
    skipped: dict[str, str] = {}
    torch = torch_module()
    if torch is None:
        skipped["torch"] = "torch is not installed"
    else:
        xt = torch.tensor(x_np, requires_grad=True)

        def torch_step() -> Any:
            xt.grad = None
            y = xt
            for _ in range(n_ops):
                y = y * factor
            y.sum().backward()
            return xt.grad

        steps["torch"] = torch_step
    return steps, skipped


def chain_case(n_ops: int = 10_000) -> Case:
    import gc

    steps, skipped = chain_steps(n_ops)
    note = (f"{len(gc.get_objects()):,} GC-tracked objects live in this process (importing torch adds ~145k); "
            "minidl's graph is Python objects (3 per op outlive the collector's first passes: the Function, "
            "the output Tensor and the inputs tuple; the Python number is kept on the node, as PyTorch's "
            "wrapped numbers, not as a 0-d constant tensor), so building a long chain triggers full garbage "
            "collections in some steps, which makes this workload's times bimodal (backward itself "
            "allocates none); PyTorch's graph lives in C++")
    return Case("chain", f"{n_ops:,}-op chain y = x*c*c*..., forward + backward (10 elements)", steps,
                skipped=skipped, notes=[note])


# --------------------------------------------------------------------------- (h) fit on the digits


FIT_SIZES = (64, 128, 128, 10)
FIT_BATCH, FIT_LR = 32, 1e-3


def fit_data(n_train: int | None = None) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The bundled digits scaled to [0, 1] (X / 16), the training part of a fixed stratified
    split (``train_dev_test_split(..., stratify=True, seed=0)``, its first ``n_train`` rows when
    given), and the initial weights of minidl's 64-128-128-10 MLP after ``md.manual_seed(0)``."""
    from minidl import data

    X, y = data.load_digits()
    X = X / 16
    (x_train, y_train), _, _, _ = data.train_dev_test_split(X, y, stratify=True, seed=0)
    if n_train is not None:
        x_train, y_train = x_train[:n_train], y_train[:n_train]
    md.manual_seed(0)
    arrays = [md.backend.to_numpy(p.data).copy() for p in _digits_mlp().parameters()]
    return np.ascontiguousarray(x_train, dtype=np.float32), np.asarray(y_train, dtype=np.int64), arrays


def _digits_mlp() -> nn.Module:
    sizes = FIT_SIZES
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def fit_steps(epochs: int = 5, n_train: int | None = None) -> tuple[Steps, Skipped]:
    """Training from the same initial weights for ``epochs`` epochs, two ways; each step
    returns ``{"loss": [...], "accuracy": [...]}`` per epoch (sample-weighted means).

    * ``minidl``: ``train.fit(model, nn.CrossEntropyLoss(), optim.Adam(lr=1e-3),
      DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=0), epochs, verbose=0)``
      (its default metric, accuracy, computed once per epoch on the epoch's outputs);
    * ``torch``: the loop a PyTorch user writes, over the same permutations (drawn once
      from the same seeded sampler), with the running loss (``loss.item()``) and correct
      count per batch.

    Both reset the weights to the initial ones and build a fresh optimizer at every call.
    """
    from minidl import data, train

    x_np, y_np, arrays = fit_data(n_train)
    dataset = data.TensorDataset(x_np, y_np)
    model = _digits_mlp()
    params = list(model.parameters())
    loss_fn = nn.CrossEntropyLoss()

    def minidl_step() -> dict[str, list[float]]:
        _load_params(params, arrays)
        loader = data.DataLoader(dataset, batch_size=FIT_BATCH, shuffle=True, seed=0)
        history = train.fit(model, loss_fn, optim.Adam(params, lr=FIT_LR), loader, epochs=epochs, verbose=0)
        return {"loss": history["loss"], "accuracy": history["accuracy"]}

    steps: dict[str, Callable[[], Any]] = {"minidl": minidl_step}
    skipped: dict[str, str] = {"numpy": "no hand-written floor for a whole fit"}
    torch = torch_module()
    if torch is None:
        skipped["torch"] = "torch is not installed"
        return steps, skipped
    sampler = data.RandomSampler(dataset, seed=0)  # what DataLoader(shuffle=True, seed=0) draws from
    perms = [torch.from_numpy(sampler.epoch_indices()) for _ in range(epochs)]
    xt, yt = torch.from_numpy(x_np), torch.from_numpy(y_np)
    tnet = torch_mlp(arrays)
    tmodel, tparams, tloss_fn = tnet.model, tnet.params, torch.nn.CrossEntropyLoss()

    def torch_step() -> dict[str, list[float]]:
        _torch_load(tmodel, arrays)
        opt = torch.optim.Adam(tparams, lr=FIT_LR)
        out_hist: dict[str, list[float]] = {"loss": [], "accuracy": []}
        n = len(xt)
        for perm in perms:
            tmodel.train()
            loss_sum, correct = 0.0, 0
            for i in range(0, n, FIT_BATCH):
                idx = perm[i:i + FIT_BATCH]
                xb, yb = xt[idx], yt[idx]
                opt.zero_grad()
                out = tmodel(xb)
                loss = tloss_fn(out, yb)
                loss.backward()
                opt.step()
                loss_sum += loss.item() * len(idx)
                correct += int((out.argmax(dim=1) == yb).sum().item())
            out_hist["loss"].append(loss_sum / n)
            out_hist["accuracy"].append(correct / n)
        return out_hist

    steps["torch"] = torch_step
    return steps, skipped


def fit_case(epochs: int = 5, n_train: int | None = None) -> Case:
    steps, skipped = fit_steps(epochs, n_train)
    n = len(fit_data(n_train)[0])
    title = f"digits MLP 64-128-128-10, `fit` for {epochs} epochs (Adam, batch 32, {n} samples)"
    return Case("fit_digits", title, steps, skipped=skipped,
                notes=["time per whole fit; PyTorch: the hand-written loop over the same batches"])


# --------------------------------------------------------------------------- (g) GPU


def gpu_case(batch: int = 128) -> Case:
    """The MLP step on the CuPy backend (and PyTorch CUDA when present); every step ends
    with a device synchronize so the clock measures finished work."""
    if not md.cupy_available():
        reason = f"no CuPy GPU backend: {md.backend.cupy_unavailable_reason()}"
        return Case("mlp_gpu", f"MLP SGD step on the GPU, batch {batch}", {},
                    skipped={"minidl": reason, "torch": reason})
    import cupy  # benchmarks may import array libraries

    arrays, x, y = mlp_data(batch)
    gpu_arrays = [cupy.asarray(a) for a in arrays]
    previous = md.get_backend()
    md.set_backend("cupy")
    try:
        net = minidl_mlp(gpu_arrays)
    finally:
        md.set_backend(previous)
    xg, yg = md.as_tensor(cupy.asarray(x)), md.as_tensor(cupy.asarray(y))

    def minidl_step() -> None:
        net.train_step(xg, yg)
        cupy.cuda.Device().synchronize()

    floor_params, xc, yc = [a.copy() for a in gpu_arrays], cupy.asarray(x), cupy.asarray(y)

    def floor_step() -> None:
        floor_gpu_mlp_step(floor_params, xc, yc)
        cupy.cuda.Device().synchronize()

    steps: dict[str, Callable[[], Any]] = {"minidl": minidl_step, "numpy": floor_step}
    skipped: dict[str, str] = {}
    torch = torch_module()
    if torch is None or not torch.cuda.is_available():
        skipped["torch"] = "torch with CUDA is not available"
    else:
        tnet = torch_mlp(arrays)
        tnet.model.cuda()
        tnet.optimizer = torch.optim.SGD(tnet.model.parameters(), lr=LR)
        xt, yt = torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda()

        def torch_step() -> None:
            tnet.train_step(xt, yt)
            torch.cuda.synchronize()

        steps["torch"] = torch_step
    return Case("mlp_gpu", f"MLP SGD step on the GPU (CuPy), batch {batch}", steps,
                notes=[f"minidl API: {MINIDL_API}", "'numpy' column: the floor's math on CuPy arrays"], skipped=skipped)


def floor_gpu_mlp_step(params: list, x: Any, y: Any) -> None:
    """The MLP floor on CuPy arrays (the same formulas as numpy_floor.mlp_loss_and_grads)."""
    import cupy

    weights, biases = params[0::2], params[1::2]
    acts = [x]
    a = x
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = a @ w.T + b
        if i < len(weights) - 1:
            a = cupy.maximum(z, 0)
            acts.append(a)
    shifted = z - z.max(axis=1, keepdims=True)
    e = cupy.exp(shifted)
    dz = e / e.sum(axis=1, keepdims=True)
    dz[cupy.arange(len(y)), y] -= 1
    dz /= len(y)
    for i in reversed(range(len(weights))):
        gw, gb = dz.T @ acts[i], dz.sum(axis=0)
        if i > 0:
            dz = (dz @ weights[i]) * (acts[i] > 0)
        weights[i] -= LR * gw
        biases[i] -= LR * gb
