"""The backend: selection, devices, RNG, and the rule that only backend.py imports numpy/cupy."""

import ast
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import minidl as md
from minidl import backend

PACKAGE = pathlib.Path(md.__file__).parent


def test_only_backend_imports_numpy_or_cupy():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "backend.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in ("numpy", "cupy", "cupyx"):
                    offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} imports {name}")
    assert not offenders, "only minidl/backend.py may import numpy/cupy:\n" + "\n".join(offenders)


def test_no_pickle_anywhere_in_the_library():
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        assert "import pickle" not in text and "allow_pickle=True" not in text, path


def test_default_backend_is_numpy():
    assert md.get_backend() == "numpy"
    assert md.zeros(2).device == "cpu"


def test_unknown_backend_is_rejected():
    with pytest.raises(ValueError, match="unknown backend 'torch'.*numpy.*cupy"):
        md.set_backend("torch")


def test_cupy_backend_without_gpu_is_a_clear_error():
    if md.cupy_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="cupy backend is not available"):
        md.set_backend("cupy")
    assert md.get_backend() == "numpy"


def test_environment_variable_selects_the_backend():
    code = "import minidl as md; print(md.get_backend())"
    env = {**os.environ, "MINIDL_BACKEND": "numpy"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "numpy"
    env["MINIDL_BACKEND"] = "nonsense"
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "unknown backend 'nonsense'" in bad.stderr


def test_device_helpers():
    a = np.zeros(2)
    assert backend.device_of(a) == "cpu"
    assert backend.array_module(a) is np
    assert backend.to_device(a, "cpu") is a
    assert backend.normalize_device("CUDA") == "cuda:0"
    with pytest.raises(ValueError, match="unknown device"):
        backend.normalize_device("gpu0")


def test_seed_must_be_an_int():
    with pytest.raises(TypeError, match="seed must be an int"):
        md.manual_seed(1.5)


def test_scatter_add_accumulates_repeats():
    t = np.zeros(3)
    backend.scatter_add(t, np.array([0, 0, 2]), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(t, [3.0, 0.0, 3.0])


# --------------------------------------------------------------------------- scratch pool


def _address(a):
    return a.__array_interface__["data"][0]


def test_scratch_block_is_reused_only_after_its_last_view_dies():
    pool = backend._ScratchPool(min_bytes=1024)
    a = pool.empty((64, 64), np.float32)
    first = _address(a)
    view = a.T[1:]  # a view keeps the block in use after ``a`` itself is gone
    del a
    assert pool.idle_bytes == 0
    b = pool.empty((64, 64), np.float32)
    assert not np.shares_memory(b, view)
    view[...] = 1.0
    b[...] = 2.0
    assert (view == 1.0).all()
    del view
    assert pool.idle_bytes == 64 * 64 * 4
    c = pool.empty((32, 128), np.float32)  # same size, other shape: the same block
    assert _address(c) == first and c.shape == (32, 128) and c.dtype == np.float32
    assert c.flags.writeable and pool.idle_bytes == 0


def test_scratch_pool_skips_small_arrays_and_keeps_at_most_its_limit():
    pool = backend._ScratchPool(min_bytes=1024, limit_bytes=5000)
    small = pool.empty((10,), np.float64)
    assert small.base is None  # a plain array
    a, b = pool.empty((1000,), np.float32), pool.empty((1000,), np.float32)
    del a, b
    assert pool.idle_bytes == 4000  # the second block would pass the 5000-byte limit
    pool.clear()
    assert pool.idle_bytes == 0
    assert backend.scratch_empty(np, (3, 4), np.float64).shape == (3, 4)
