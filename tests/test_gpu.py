"""The CuPy backend: the same numbers as NumPy, devices kept apart. Skipped without a GPU."""

import numpy as np
import pytest

import minidl as md
from minidl import backend

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not md.cupy_available(), reason=f"no CuPy GPU backend: {backend.cupy_unavailable_reason()}"),
]


@pytest.fixture
def on_gpu():
    md.set_backend("cupy")
    yield
    md.set_backend("numpy")


def test_backend_switch_creates_gpu_tensors(on_gpu):
    x = md.randn(3, 4)
    assert x.device == "cuda:0" and md.get_backend() == "cupy"


def test_ops_and_gradients_match_numpy(on_gpu):
    rng = np.random.default_rng(0)
    a_np, b_np = rng.standard_normal((5, 4)), rng.standard_normal((4, 3))

    def run(device):
        a = md.tensor(a_np, requires_grad=True, device=device)
        b = md.tensor(b_np, requires_grad=True, device=device)
        y = ((a @ b).tanh().sigmoid() * 2 + a.sum(axis=1, keepdims=True)).log_softmax(axis=1)
        loss = y[md.arange(5, device=device), md.tensor([0, 1, 2, 0, 1], device=device)].sum()
        loss.backward()
        return loss.item(), backend.to_numpy(a.grad), backend.to_numpy(b.grad)

    cpu, gpu = run("cpu"), run("cuda")
    np.testing.assert_allclose(gpu[0], cpu[0], rtol=1e-10)
    np.testing.assert_allclose(gpu[1], cpu[1], rtol=1e-10)
    np.testing.assert_allclose(gpu[2], cpu[2], rtol=1e-10)


def test_to_and_back_is_differentiable(on_gpu):
    x = md.tensor([1.0, 2.0], device="cpu", requires_grad=True)
    y = (x.to("cuda") * 3).cpu().sum()
    y.backward()
    assert isinstance(x.grad, np.ndarray)
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_mixing_devices_is_an_error(on_gpu):
    with pytest.raises(RuntimeError, match="different devices"):
        md.ones(2, device="cpu") + md.ones(2, device="cuda")


def test_seeded_rng_on_gpu(on_gpu):
    md.manual_seed(3)
    a = md.randn(4).numpy()
    md.manual_seed(3)
    np.testing.assert_array_equal(a, md.randn(4).numpy())


def test_gradcheck_on_gpu(on_gpu):
    x = md.tensor(np.linspace(-1, 1, 4), requires_grad=True, device="cuda")
    assert md.gradcheck(lambda t: (t.exp() * t).sum(), [x])
