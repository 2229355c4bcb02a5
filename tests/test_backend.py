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


# names of ``backend.np`` that code outside backend.py may use: types, dtypes, constants and
# helpers on shapes or host (Python/NumPy) values, never a function applied to a device array
_HOST_SAFE_NP = {"ndarray", "generic", "dtype", "uint8", "nan", "inf", "broadcast_shapes", "asarray", "cumsum",
                 "random", "zeros", "ndindex", "abs", "where", "isnan", "unravel_index", "argmax", "savez",
                 "load", "lib", "frombuffer", "finfo"}
# files whose NumPy use is host-side by design (they convert to NumPy first)
_HOST_FILES = {"gradcheck.py", "serialization.py", "testing.py", "viz.py"}
_NUMPY_ONLY = {"errstate", "seterr", "stride_tricks"}  # CuPy has no errstate; as_strided only via xp.lib


def test_array_code_uses_only_what_numpy_and_cupy_both_provide():
    """An ast scan of minidl/ (backend.py excepted): no ``*.errstate`` / ``seterr`` at all
    (use ``backend.quiet_float_warnings``), and outside the host-side files, ``backend.np.X``
    only for the host-safe names above (``backend.np.exp(a)`` on a CuPy array would fail)."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "backend.py" and path.parent == PACKAGE:
            continue
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Attribute):
                continue
            if node.attr in _NUMPY_ONLY and not (node.attr == "stride_tricks" and _is_xp_lib(node.value)):
                offenders.append(f"{rel}:{node.lineno} .{node.attr}")
            value = node.value
            if isinstance(value, ast.Attribute) and value.attr == "np" and isinstance(value.value, ast.Name) \
                    and value.value.id == "backend" and node.attr not in _HOST_SAFE_NP and path.name not in _HOST_FILES:
                offenders.append(f"{rel}:{node.lineno} backend.np.{node.attr}")
    assert not offenders, offenders


def _is_xp_lib(node: ast.expr) -> bool:
    """``xp.lib`` (the array module's own, which CuPy has too), not ``backend.np.lib``."""
    return isinstance(node, ast.Attribute) and node.attr == "lib" and isinstance(node.value, ast.Name) \
        and node.value.id == "xp"


def test_the_cupy_safety_scan_catches_a_relapse(tmp_path):
    bad = ast.parse("with xp.errstate(over='ignore'):\n    y = backend.np.exp(x)\n")
    attrs = {n.attr for n in ast.walk(bad) if isinstance(n, ast.Attribute)}
    assert "errstate" in attrs & _NUMPY_ONLY and "exp" not in _HOST_SAFE_NP


def test_minidl_backend_cupy_without_cupy_falls_back_to_numpy_with_one_warning():
    if backend.cupy_available():
        pytest.skip("CuPy with a GPU is available here: MINIDL_BACKEND=cupy really selects it")
    code = ("import warnings\nwith warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n    import minidl as md\n"
            "print(md.get_backend(), len(w), w[0].category.__name__, str(w[0].message))")
    env = {**os.environ, "MINIDL_BACKEND": "cupy"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    backend_name, count, category, message = out.stdout.strip().split(" ", 3)
    assert (backend_name, count, category) == ("numpy", "1", "RuntimeWarning")
    assert message.startswith("MINIDL_BACKEND=cupy, but CuPy cannot be used (") and "NumPy" in message


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
