"""Shared pytest setup: hypothesis profiles, seeding, the backend, and the optional torch oracle.

The backend every test starts on comes from the environment, so the same suite runs on the
GPU: ``MINIDL_BACKEND=cupy python -m pytest`` (without CuPy or a GPU it runs on NumPy, with
minidl's one warning). Tests marked ``gpu`` are skipped, with the reason, where CuPy or a GPU
is missing.
"""

import importlib.util
import os

import pytest

import minidl as md
from minidl.testing import register_profiles

register_profiles()

HAS_TORCH = importlib.util.find_spec("torch") is not None

_REQUESTED = os.environ.get("MINIDL_BACKEND", "").strip().lower() or "numpy"
BACKEND = "cupy" if _REQUESTED == "cupy" and md.cupy_available() else "numpy"
NO_GPU_REASON = "" if md.cupy_available() else f"no CuPy GPU backend: {md.backend.cupy_unavailable_reason()}"


def pytest_report_header(config):
    return f"minidl backend: {BACKEND} (MINIDL_BACKEND={os.environ.get('MINIDL_BACKEND', '')!r})"


def pytest_collection_modifyitems(config, items):
    """``@pytest.mark.gpu`` tests skip, with the reason, where CuPy or a GPU is missing."""
    if not NO_GPU_REASON:
        return
    skip = pytest.mark.skip(reason=NO_GPU_REASON)
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed_and_backend():
    """Every test starts on the session's backend (``MINIDL_BACKEND``; NumPy by default)
    with a fixed seed and grad mode on."""
    md.set_backend(BACKEND)
    md.manual_seed(0)
    with md.enable_grad():
        yield


@pytest.fixture
def torch():
    """The torch module, or skip the test when it is not installed (oracle tests)."""
    return pytest.importorskip("torch")


@pytest.fixture(params=["one thread", "split over 3 threads"])
def op_threads(request):
    """Run the test once as it is and once with every splittable CPU op cut over 3 threads
    (``backend.parallel_for`` with no size threshold), so the threaded paths meet the oracles."""
    saved = md.get_num_threads(), md.backend.PARALLEL_MIN_WORK
    if request.param == "split over 3 threads":
        md.set_num_threads(3)
        md.backend.PARALLEL_MIN_WORK = 0
    else:
        md.set_num_threads(1)
    yield request.param
    md.set_num_threads(saved[0])
    md.backend.PARALLEL_MIN_WORK = saved[1]


@pytest.fixture
def backend_name():
    """The backend this test run uses: ``"numpy"`` or ``"cupy"``."""
    return BACKEND


@pytest.fixture
def device():
    """The device new tensors are created on in this run: ``"cpu"`` or ``"cuda:0"``."""
    return "cuda:0" if BACKEND == "cupy" else "cpu"


@pytest.fixture
def xp():
    """The array module of this run (numpy or cupy), for building inputs on the device."""
    return md.backend.default_module()


@pytest.fixture
def on_gpu():
    """Run this test on the CuPy backend (skipped, with the reason, without a GPU)."""
    if NO_GPU_REASON:
        pytest.skip(NO_GPU_REASON)
    md.set_backend("cupy")
    yield
    md.set_backend(BACKEND)


def to_host(x):
    """NumPy values of a Tensor or an array on any device (for comparing with NumPy references)."""
    return md.backend.to_numpy(x.data if isinstance(x, md.Tensor) else x)
