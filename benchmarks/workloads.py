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
from typing import Any, Callable, Sequence

import numpy as np

import minidl as md

from . import numpy_floor as floor

LR = 0.01
MLP_SIZES = (784, 256, 256, 10)


def torch_module() -> Any:
    """The torch module, or None when it is not installed."""
    if importlib.util.find_spec("torch") is None:
        return None
    import torch  # noqa: PLC0415  (optional peer)

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


# --------------------------------------------------------------------------- the minidl API in use


def minidl_api() -> dict[str, Any]:
    """The pieces of minidl's public API the workloads need, and which of them exist.

    The benchmarks must use ``minidl.nn`` / ``minidl.optim`` as students do; while those
    are being written the MLP falls back to raw tensor ops, and says so in the report.
    """
    api: dict[str, Any] = {"nn": None, "F": None, "optim": None}
    try:
        import minidl.nn as nn  # noqa: PLC0415

        if all(hasattr(nn, n) for n in ("Sequential", "Linear", "ReLU")):
            api["nn"] = nn
        import minidl.nn.functional as F  # noqa: PLC0415

        if hasattr(F, "cross_entropy"):
            api["F"] = F
    except ImportError:
        pass
    try:
        import minidl.optim as optim  # noqa: PLC0415

        if hasattr(optim, "SGD"):
            api["optim"] = optim
    except ImportError:
        pass
    return api


def _as_param_tensors(arrays: Sequence[np.ndarray]) -> list[md.Tensor]:
    return [md.tensor(a, requires_grad=True) for a in arrays]


def _load_params(params: Sequence[Any], arrays: Sequence[np.ndarray]) -> None:
    """Copy ``arrays`` into minidl parameters (in ``model.parameters()`` order)."""
    params = list(params)
    if len(params) != len(arrays):
        raise ValueError(f"model has {len(params)} parameters, expected {len(arrays)}")
    with md.no_grad():
        for p, a in zip(params, arrays):
            if p.shape != a.shape:
                raise ValueError(f"parameter shape {p.shape} != reference shape {a.shape}")
            p.copy_(a)


def _cross_entropy_raw(logits: md.Tensor, target: md.Tensor) -> md.Tensor:
    """Mean cross-entropy from primitive ops (used only while F.cross_entropy is missing)."""
    n = logits.shape[0]
    return -(logits.log_softmax(axis=1)[md.arange(n), target]).mean()


class _RawLinear:
    def __init__(self, w: md.Tensor, b: md.Tensor) -> None:
        self.w, self.b = w, b

    def __call__(self, x: md.Tensor) -> md.Tensor:
        return x @ self.w.T + self.b


class MinidlNet:
    """A minidl model + SGD through the public API (raw-op fallback while nn/optim land)."""

    def __init__(self, model: Any, params: list[md.Tensor], lr: float, api: dict[str, Any]) -> None:
        self.model, self.params, self.api = model, params, api
        self.loss_fn = api["F"].cross_entropy if api["F"] is not None else _cross_entropy_raw
        self.optimizer = api["optim"].SGD(params, lr=lr) if api["optim"] is not None else None
        self.lr = lr

    def zero_grad(self) -> None:
        if self.optimizer is not None:
            self.optimizer.zero_grad()
        else:
            for p in self.params:
                p.grad = None

    def sgd_step(self) -> None:
        if self.optimizer is not None:
            self.optimizer.step()
        else:
            with md.no_grad():
                for p in self.params:
                    p.sub_(p.grad, alpha=self.lr)

    def train_step(self, x: md.Tensor, y: md.Tensor) -> None:
        self.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        self.sgd_step()

    def loss_and_grads(self, x: md.Tensor, y: md.Tensor) -> tuple[float, list[np.ndarray]]:
        self.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        return loss.item(), [md.backend.to_numpy(p.grad) for p in self.params]


def minidl_mlp(arrays: Sequence[np.ndarray], lr: float = LR) -> tuple[MinidlNet, str]:
    """The MLP in minidl: ``nn.Sequential(Linear, ReLU, Linear, ReLU, Linear)`` when nn
    exists. Returns the net and a description of the API it used."""
    api = minidl_api()
    n_layers = len(arrays) // 2
    if api["nn"] is not None:
        nn = api["nn"]
        layers: list[Any] = []
        for i in range(n_layers):
            out_f, in_f = arrays[2 * i].shape
            layers.append(nn.Linear(in_f, out_f))
            if i < n_layers - 1:
                layers.append(nn.ReLU())
        model = nn.Sequential(*layers)
        params = list(model.parameters())
        _load_params(params, arrays)
    else:
        params = _as_param_tensors(arrays)
        linears = [_RawLinear(params[2 * i], params[2 * i + 1]) for i in range(n_layers)]

        def model(x: md.Tensor) -> md.Tensor:
            for i, lin in enumerate(linears):
                x = lin(x)
                if i < n_layers - 1:
                    x = x.relu()
            return x

    used = ("nn.Sequential/Linear/ReLU" if api["nn"] else "raw tensor ops (minidl.nn not ready)")
    used += ", " + ("F.cross_entropy" if api["F"] else "log_softmax+indexing (F.cross_entropy not ready)")
    used += ", " + ("optim.SGD" if api["optim"] else "manual SGD (minidl.optim not ready)")
    return MinidlNet(model, params, lr, api), used


def minidl_cnn(arrays: Sequence[np.ndarray], lr: float = LR) -> MinidlNet | None:
    """conv8-relu-pool-conv16-relu-pool-flatten-fc10 in minidl (None until nn.Conv2d exists)."""
    api = minidl_api()
    nn = api["nn"]
    if nn is None or not all(hasattr(nn, n) for n in ("Conv2d", "MaxPool2d", "Flatten")):
        return None
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10),
    )
    params = list(model.parameters())
    _load_params(params, arrays)
    return MinidlNet(model, params, lr, api)


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
    if "minidl" not in impls:
        pass
    elif kind == "mlp":
        built["minidl"], used = minidl_mlp(arrays)
        built["minidl"].api_used = used
    else:
        net = minidl_cnn(arrays)
        if net is None:
            skipped["minidl"] = "minidl.nn.Conv2d/MaxPool2d/Flatten not available yet"
        else:
            built["minidl"] = net
    if "minidl" in built:
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
    notes = [f"minidl API: {built['minidl'].api_used}"] if hasattr(built.get("minidl"), "api_used") else []
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


def per_op_steps(n: int = 10, seed: int = 0) -> tuple[dict[str, Callable[[], Any]], dict[str, str]]:
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


def tanh_stats_steps(width: int = 4096, depth: int = 6, batch: int = 16) -> tuple[dict[str, Callable[[], Any]], dict[str, str]]:
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
    return Case("tanh_stats", f"lesson 02 activation statistics: {depth} tanh layers of {width}, batch {batch}, forward",
                steps, skipped=skipped)


# --------------------------------------------------------------------------- (f) long chain


def chain_steps(n_ops: int = 10_000, factor: float = 1.0001, n: int = 10) -> tuple[dict[str, Callable[[], Any]], dict[str, str]]:
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
    import gc  # noqa: PLC0415

    steps, skipped = chain_steps(n_ops)
    note = (f"{len(gc.get_objects()):,} GC-tracked objects live in this process (importing torch adds ~145k); "
            "minidl's graph is Python objects (4 per op), so a long chain triggers full garbage collections "
            "whose cost grows with everything else alive; PyTorch's graph lives in C++")
    return Case("chain", f"{n_ops:,}-op chain y = x*c*c*..., forward + backward (10 elements)", steps,
                skipped=skipped, notes=[note])


# --------------------------------------------------------------------------- (g) GPU


def gpu_case(batch: int = 128) -> Case:
    """The MLP step on the CuPy backend (and PyTorch CUDA when present); every step ends
    with a device synchronize so the clock measures finished work."""
    if not md.cupy_available():
        reason = f"no CuPy GPU backend: {md.backend.cupy_unavailable_reason()}"
        return Case("mlp_gpu", f"MLP SGD step on the GPU, batch {batch}", {}, skipped={"minidl": reason, "torch": reason})
    import cupy  # noqa: PLC0415  (benchmarks may import array libraries)

    arrays, x, y = mlp_data(batch)
    gpu_arrays = [cupy.asarray(a) for a in arrays]
    previous = md.get_backend()
    md.set_backend("cupy")
    try:
        net, used = minidl_mlp(gpu_arrays)
    finally:
        md.set_backend(previous)
    xg, yg = md.as_tensor(cupy.asarray(x)), md.as_tensor(cupy.asarray(y))

    def minidl_step() -> None:
        net.train_step(xg, yg)
        cupy.cuda.Device().synchronize()

    def floor_step(params: list = [a.copy() for a in gpu_arrays], xc: Any = cupy.asarray(x), yc: Any = cupy.asarray(y)) -> None:
        floor_gpu_mlp_step(params, xc, yc)
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
                notes=[f"minidl API: {used}", "'numpy' column: the floor's math on CuPy arrays"], skipped=skipped)


def floor_gpu_mlp_step(params: list, x: Any, y: Any) -> None:
    """The MLP floor on CuPy arrays (the same formulas as numpy_floor.mlp_loss_and_grads)."""
    import cupy  # noqa: PLC0415

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
