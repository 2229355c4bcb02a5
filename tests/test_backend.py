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


# --------------------------------------------------------------------------- threads for large CPU ops


@pytest.fixture
def threads():
    """Restore the thread count and the split threshold after a test that changes them."""
    saved = backend.get_num_threads(), backend.PARALLEL_MIN_WORK
    yield
    backend.set_num_threads(saved[0])
    backend.PARALLEL_MIN_WORK = saved[1]


def test_parallel_for_covers_the_range_once_in_contiguous_chunks_on_several_threads(threads):
    import threading

    backend.set_num_threads(3)
    seen = []

    def body(start, stop):
        seen.append(threading.get_ident())
        return (start, stop)

    chunks = backend.parallel_for(np, 10, body, work=backend.PARALLEL_MIN_WORK)
    assert chunks == [(0, 3), (3, 6), (6, 10)]  # in chunk order, whichever thread finished first
    assert len(set(seen)) == 3  # the caller and two workers
    assert backend.parallel_for(np, 2, body, work=1 << 30) == [(0, 1), (1, 2)]  # never more chunks than items


def test_parallel_for_keeps_small_work_and_one_thread_in_the_calling_thread(threads):
    import threading

    caller = threading.get_ident()
    body = lambda start, stop: (start, stop, threading.get_ident())  # noqa: E731
    backend.set_num_threads(4)
    assert backend.parallel_for(np, 8, body, work=backend.PARALLEL_MIN_WORK - 1) == [(0, 8, caller)]
    backend.set_num_threads(1)
    assert backend.parallel_for(np, 8, body, work=1 << 30) == [(0, 8, caller)]


def test_parallel_for_reraises_a_workers_error_after_every_chunk_finished(threads):
    backend.set_num_threads(2)
    finished = []

    def body(start, stop):
        if start > 0:
            raise ValueError(f"chunk {start}:{stop} failed")
        finished.append(start)

    with pytest.raises(ValueError, match="chunk 5:10 failed"):
        backend.parallel_for(np, 10, body, work=1 << 30)
    assert finished == [0]
    assert backend.parallel_for(np, 4, lambda a, b: b - a, work=1 << 30) == [2, 2]  # the workers still serve


def test_parallel_for_nested_in_a_chunk_runs_in_that_thread(threads):
    import threading

    backend.set_num_threads(2)

    def inner(start, stop):
        return threading.get_ident()

    def outer(start, stop):
        return threading.get_ident(), backend.parallel_for(np, 4, inner, work=1 << 30)

    results = backend.parallel_for(np, 4, outer, work=1 << 30)
    worker_ident, worker_inner = results[1]
    assert worker_inner == [worker_ident]  # a worker never waits on the workers
    assert results[0][1][0] == results[0][0]  # the caller's nested call: workers busy, so in place


@pytest.mark.parametrize("bad,error", [(0, ValueError), (-2, ValueError), (2.0, TypeError), (True, TypeError)])
def test_set_num_threads_rejects_bad_counts_and_changes_nothing(threads, bad, error):
    backend.set_num_threads(3)
    with pytest.raises(error, match="set_num_threads: count"):
        md.set_num_threads(bad)
    assert md.get_num_threads() == 3


CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


@pytest.mark.parametrize("env,expected", [
    ({"MINIDL_NUM_THREADS": "3", "OMP_NUM_THREADS": "5"}, "3 no warning"),
    ({"OMP_NUM_THREADS": "5,2"}, "5 no warning"),
    ({"OMP_NUM_THREADS": "0"}, f"{min(8, CPUS)} OMP_NUM_THREADS must be a whole number "
                               "of threads >= 1, got '0'; minidl uses one thread per CPU instead"),
])
def test_thread_count_comes_from_the_environment(env, expected):
    code = ("import warnings\nwith warnings.catch_warnings(record=True) as w:\n    warnings.simplefilter('always')\n"
            "    import minidl as md\nprint(md.get_num_threads(), w[0].message if w else 'no warning')")
    base = {k: v for k, v in os.environ.items() if k not in ("MINIDL_NUM_THREADS", "OMP_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True)
    assert out.stdout.strip() == expected, out.stderr


def test_a_bad_minidl_num_threads_fails_the_import_naming_the_variable():
    env = {**os.environ, "MINIDL_NUM_THREADS": "two"}
    out = subprocess.run([sys.executable, "-c", "import minidl"], env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert "ValueError: MINIDL_NUM_THREADS must be a whole number of threads >= 1, got 'two'" in out.stderr
