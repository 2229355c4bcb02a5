"""Devices in practice: moving models, optimizer state, checkpoints, mixing, seeding, batches.

Without a GPU the device logic is tested with ``FakeGpuArray``: a NumPy array that says it
lives on ``cuda:0`` (``.device.id``, ``.get()``, as a CuPy array), so ``device_of``,
``to_device(..., "cpu")`` and every same-device check see a second device. The ``gpu``
tests repeat the checks on a real GPU and compare with the same computation on NumPy.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

import minidl as md
import minidl.data  # noqa: F401  (md.data)
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import backend

DEVICE_ERROR = r"devices?|is on (cpu|cuda)"  # "different devices", "input is on cuda:0 but weight is on cpu"


class FakeGpuArray(np.ndarray):
    """A NumPy array that reports device ``cuda:0`` and copies to the host with ``.get()``."""

    device = types.SimpleNamespace(id=0)

    def get(self) -> np.ndarray:
        return np.array(self.view(np.ndarray))


def fake_gpu(shape=(2, 3), dtype="float32") -> md.Tensor:
    return md.Tensor._make(md.randn(*shape).numpy().astype(dtype).view(FakeGpuArray), False, None)


def test_the_fake_reports_a_second_device():
    t = fake_gpu()
    assert t.device == "cuda:0" and md.ones(2).device == "cpu"
    assert type(backend.to_device(t.data, "cpu")) is np.ndarray


BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "lt": lambda a, b: a < b,
    "eq": lambda a, b: a == b, "maximum": md.maximum, "minimum": md.minimum,
    "where": lambda a, b: md.where(a > 0, a, b), "cat": lambda a, b: md.cat([a, b]),
    "stack": lambda a, b: md.stack([a, b]), "mse_loss": F.mse_loss, "l1_loss": F.l1_loss,
    "huber_loss": F.huber_loss,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("order", ["cpu_first", "gpu_first"])
def test_mixing_devices_in_one_op_is_a_clear_error(name, order):
    a, b = md.randn(2, 3), fake_gpu()
    if order == "gpu_first":
        a, b = b, a
    with pytest.raises(RuntimeError, match=DEVICE_ERROR):
        BINARY[name](a, b)


def test_a_0d_gpu_array_with_a_cpu_tensor_is_a_device_error():
    with pytest.raises(RuntimeError, match=DEVICE_ERROR):
        md.randn(2) + np.array(2.0, dtype="float32").view(FakeGpuArray)


@pytest.mark.parametrize("case", ["matmul", "linear", "conv2d", "cross_entropy", "bce", "module"])
def test_layer_functions_refuse_mixed_devices(case):
    x = fake_gpu((2, 4))
    with pytest.raises(RuntimeError, match=DEVICE_ERROR):
        if case == "matmul":
            md.randn(3, 2) @ x
        elif case == "linear":
            F.linear(x, md.randn(3, 4), md.randn(3))
        elif case == "conv2d":
            F.conv2d(fake_gpu((1, 1, 4, 4)), md.randn(2, 1, 3, 3))
        elif case == "cross_entropy":
            F.cross_entropy(x, md.tensor([0, 1]))
        elif case == "bce":
            F.binary_cross_entropy(x.sigmoid(), md.ones(2, 4))
        else:
            nn.Linear(4, 3)(x)


def test_backward_with_a_grad_on_another_device_is_an_error():
    x = md.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=DEVICE_ERROR):
        (x * 2).backward(fake_gpu((3,)))


def test_a_checkpoint_saved_on_the_gpu_loads_on_the_cpu(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    gpu_state = {k: backend.to_numpy(v.data if isinstance(v, md.Tensor) else v).view(FakeGpuArray)
                 for k, v in model.state_dict().items()}
    md.save({"model": gpu_state}, tmp_path / "ckpt.mdl")
    loaded = md.load(tmp_path / "ckpt.mdl")["model"]
    assert all(type(v) is np.ndarray for v in loaded.values())
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    fresh.load_state_dict(loaded)
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(backend.to_numpy(v.data if isinstance(v, md.Tensor) else v), gpu_state[k].get())


@pytest.mark.parametrize("opt", ["SGD", "Adam", "RMSprop"])
def test_optimizer_state_saved_on_the_gpu_loads_onto_cpu_parameters(opt):
    kwargs = {"momentum": 0.9} if opt != "Adam" else {}
    p = nn.Parameter(md.randn(3))
    o = getattr(md.optim, opt)([p], lr=0.1, **kwargs)
    p.grad = np.ones(3, dtype="float32")
    o.step()
    sd = o.state_dict()
    sd["state"] = {i: {k: (v.view(FakeGpuArray) if isinstance(v, np.ndarray) else v) for k, v in s.items()}
                   for i, s in sd["state"].items()}
    o2 = getattr(md.optim, opt)([p], lr=0.1, **kwargs)
    o2.load_state_dict(sd)
    for v in o2.state[p].values():
        assert not isinstance(v, np.ndarray) or type(v) is np.ndarray


def test_optimizer_state_follows_a_parameter_that_moved():
    p = nn.Parameter(md.randn(3))
    o = md.optim.Adam([p], lr=0.1)
    p.grad = np.ones(3, dtype="float32")
    o.step()
    reference = md.optim.Adam([nn.Parameter(md.tensor(p.numpy().copy()))], lr=0.1)
    reference.load_state_dict(o.state_dict())
    # as if the state had been made on the GPU and the model then moved to the CPU
    o.state[p] = {k: (v.view(FakeGpuArray) if isinstance(v, np.ndarray) else v) for k, v in o.state[p].items()}
    o.step()
    assert all(type(v) is np.ndarray for v in o.state[p].values() if hasattr(v, "shape"))
    q = reference.param_groups[0]["params"][0]
    q.grad = np.ones(3, dtype="float32")
    reference.step()
    np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_optimizer_state_is_made_on_the_parameters_device(device):
    p = nn.Parameter(md.randn(3))
    o = md.optim.Adam([p], lr=0.1)
    p.grad = md.ones(3).data
    o.step()
    assert {backend.device_of(v) for v in o.state[p].values() if backend.is_backend_array(v)} == {device}


def test_dataloader_batches_move_with_to_as_in_pytorch(device):
    model = nn.Linear(3, 2).to(device)
    dev = next(iter(model.parameters())).device
    loader = md.data.DataLoader(md.data.TensorDataset(md.randn(10, 3), md.arange(10)), batch_size=4)
    for xb, yb in loader:
        xb, yb = xb.to(dev), yb.to(dev)
        assert F.cross_entropy(model(xb), yb.clamp(0, 1)).device == dev


def test_manual_seed_reproduces_a_run(device):
    def run():
        md.manual_seed(7)
        model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 1))
        x = md.randn(16, 4)
        loss = (model(x) ** 2).mean()
        loss.backward()
        return loss.item(), md.backend.to_numpy(model[0].weight.grad)

    (l1, g1), (l2, g2) = run(), run()
    assert l1 == l2
    np.testing.assert_array_equal(g1, g2)


# --------------------------------------------------------------------------- on a real GPU


@pytest.mark.gpu
def test_model_and_optimizer_on_the_gpu_match_numpy(on_gpu):
    def run(device):
        md.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
        with md.no_grad():
            for p in model.parameters():
                p.data = backend.to_device(backend.np.linspace(-1, 1, p.numel()).reshape(p.shape), "cpu")
        model.to(device)
        opt = md.optim.Adam(model.parameters(), lr=0.01)
        x = md.tensor(np.linspace(-2, 2, 20).reshape(4, 5), device=device)
        y = md.tensor([0, 1, 2, 0], device=device)
        for _ in range(3):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        assert all(p.device == backend.normalize_device(device) for p in model.parameters())
        assert all(backend.device_of(v) == backend.normalize_device(device)
                   for s in opt.state.values() for v in s.values() if backend.is_backend_array(v))
        return [p.numpy() for p in model.parameters()]

    for a, b in zip(run("cpu"), run("cuda")):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
def test_gpu_checkpoint_loads_as_numpy(on_gpu, tmp_path):
    model = nn.Linear(3, 2).to("cuda")
    opt = md.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(md.randn(4, 3, device="cuda")).sum().backward()
    opt.step()
    md.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "c.mdl")
    ck = md.load(tmp_path / "c.mdl")
    assert all(type(v) is np.ndarray for v in ck["model"].values())
    cpu_model = nn.Linear(3, 2).to("cpu")
    cpu_model.load_state_dict(ck["model"])
    cpu_opt = md.optim.SGD(cpu_model.parameters(), lr=0.1, momentum=0.9)
    cpu_opt.load_state_dict(ck["opt"])
    np.testing.assert_array_equal(cpu_model.weight.numpy(), model.weight.numpy())
    model.to("cpu")  # the optimizer's state follows on the next step
    model(md.randn(4, 3, device="cpu")).sum().backward()
    opt.step()
    assert all(type(v) is np.ndarray for s in opt.state.values() for v in s.values() if hasattr(v, "shape"))


@pytest.mark.gpu
def test_mixing_cpu_and_gpu_is_a_clear_error(on_gpu):
    with pytest.raises(RuntimeError, match=DEVICE_ERROR):
        F.linear(md.randn(2, 4, device="cuda"), md.randn(3, 4, device="cpu"))
    with pytest.raises(RuntimeError, match=DEVICE_ERROR):
        md.randn(2, device="cpu") + md.randn(2, device="cuda")


@pytest.mark.gpu
def test_seeded_gpu_runs_repeat(on_gpu):
    md.manual_seed(11)
    a = (md.randn(100) + md.rand(100)).numpy()
    drop = nn.Dropout(0.5)(md.ones(100)).numpy()
    md.manual_seed(11)
    np.testing.assert_array_equal(a, (md.randn(100) + md.rand(100)).numpy())
    np.testing.assert_array_equal(drop, nn.Dropout(0.5)(md.ones(100)).numpy())


@pytest.mark.gpu
@pytest.mark.parametrize("op", ["sigmoid_exp", "conv_pool", "logsumexp_var"])
def test_gpu_gradients_match_the_same_computation_on_numpy(on_gpu, op):
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((2, 1, 6, 6))
    w_np = rng.standard_normal((3, 1, 3, 3))
    up = rng.standard_normal((2,))

    def run(device):
        x = md.tensor(x_np, requires_grad=True, device=device)
        w = md.tensor(w_np, requires_grad=True, device=device)
        if op == "sigmoid_exp":
            y = (x.sigmoid() * x.exp()).sum(axis=(1, 2, 3)) + (w * 0).sum()
        elif op == "conv_pool":
            y = F.max_pool2d(F.conv2d(x, w, padding=1), 2).tanh().sum(axis=(1, 2, 3))
        else:
            y = x.reshape(2, -1).logsumexp(axis=1) + x.reshape(2, -1).var(axis=1) + (w * 0).sum()
        (y * md.tensor(up, device=device)).sum().backward()
        assert md.gradcheck(lambda a: (a.sigmoid() * a).sum(), [md.tensor(x_np[0, 0, 0], requires_grad=True,
                                                                           device=device)])
        return x.grad, w.grad

    for g_cpu, g_gpu in zip(run("cpu"), run("cuda")):
        np.testing.assert_allclose(backend.to_numpy(g_gpu), backend.to_numpy(g_cpu), rtol=1e-9, atol=1e-12)
