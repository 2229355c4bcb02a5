"""The array backend: the only module in minidl that imports NumPy or CuPy.

Everything else asks this module for an *array module* (``xp``): ``numpy`` on the CPU,
``cupy`` on an NVIDIA GPU. The two share an API, so an op written as ``xp.exp(x)`` runs on
either. Which one new tensors are created on is the *backend*:

    md.set_backend("cupy")       # new tensors live on the GPU
    MINIDL_BACKEND=cupy python train.py

An existing array always says for itself where it lives: ``array_module(a)`` and
``device_of(a)`` look at the array, never at the global setting, so a NumPy tensor keeps
working after the backend switches.

Random numbers come from one seeded generator per backend (``manual_seed`` seeds both), so
a seeded script gives the same numbers every run.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import warnings
import weakref
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "np", "xp", "set_backend", "get_backend", "cupy_available", "array_module",
    "device_of", "to_device", "manual_seed", "rng", "float32", "float64", "int64",
    "bool_", "is_float_dtype", "as_dtype", "scatter_add",
]

float32 = np.dtype("float32")
float64 = np.dtype("float64")
float16 = np.dtype("float16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

_cupy: ModuleType | None = None
_cupy_error: str | None = None
_cupy_checked = False


def _load_cupy() -> ModuleType | None:
    """Import CuPy once, and only when it is asked for (importing it is slow)."""
    global _cupy, _cupy_error, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy  # type: ignore[import-not-found]  # optional dependency, imported lazily

            cupy.cuda.runtime.getDeviceCount()
            _cupy = cupy
        except Exception as exc:  # ImportError, or CUDA present but no device/driver
            _cupy_error = f"{type(exc).__name__}: {exc}"
    return _cupy


def cupy_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    return _load_cupy() is not None


def cupy_unavailable_reason() -> str:
    """Why the CuPy backend cannot be used ('' when it can)."""
    _load_cupy()
    return "" if _cupy is not None else (_cupy_error or "cupy is not installed")


# --------------------------------------------------------------------------- backend choice

_BACKENDS = ("numpy", "cupy")
_backend = "numpy"
xp: ModuleType = np  # the array module new tensors are created with


def set_backend(name: str) -> None:
    """Choose where new tensors are created: ``"numpy"`` (CPU) or ``"cupy"`` (GPU)."""
    global _backend, xp
    if name not in _BACKENDS:
        raise ValueError(f"unknown backend {name!r}; expected one of {_BACKENDS}")
    if name == "cupy":
        cp = _load_cupy()
        if cp is None:
            raise RuntimeError(
                "the cupy backend is not available "
                f"({cupy_unavailable_reason()}); install minidl[gpu] on a machine with an NVIDIA GPU"
            )
        xp = cp
    else:
        xp = np
    _backend = name


def get_backend() -> str:
    """The current backend's name, ``"numpy"`` or ``"cupy"``."""
    return _backend


# --------------------------------------------------------------------------- arrays and devices


def array_module(a: Any) -> ModuleType:
    """``numpy`` or ``cupy``: the module that owns array ``a``."""
    if type(a) is np.ndarray or _cupy is None:
        return np
    return _cupy.get_array_module(a)


def is_backend_array(a: Any) -> bool:
    """True for a NumPy array or (when CuPy is loaded) a CuPy array."""
    if isinstance(a, np.ndarray):
        return True
    return _cupy is not None and isinstance(a, _cupy.ndarray)


def device_of(a: Any) -> str:
    """``"cpu"`` for a NumPy array, ``"cuda:N"`` for a CuPy array on GPU N."""
    if type(a) is np.ndarray or not is_backend_array(a):
        return "cpu"
    return f"cuda:{a.device.id}"


def normalize_device(device: str) -> str:
    """Turn ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"gpu"`` into ``"cpu"`` / ``"cuda:N"``."""
    if not isinstance(device, str):
        raise TypeError(f"device must be a string like 'cpu' or 'cuda', got {type(device).__name__}")
    d = device.strip().lower()
    if d == "cpu":
        return "cpu"
    if d in ("cuda", "gpu"):
        return "cuda:0"
    if d.startswith("cuda:") and d[5:].isdigit():
        return d
    raise ValueError(f"unknown device {device!r}; expected 'cpu', 'cuda' or 'cuda:N'")


def to_device(a: Any, device: str) -> Any:
    """Return array ``a`` on ``device`` (the same object when it is already there)."""
    device = normalize_device(device)
    if device == device_of(a):
        return a
    if device == "cpu":
        return a.get()  # cupy -> numpy
    cp = _load_cupy()
    if cp is None:
        raise RuntimeError(f"cannot move an array to {device}: {cupy_unavailable_reason()}")
    with cp.cuda.Device(int(device.split(":")[1])):
        return cp.asarray(a)


def default_module() -> ModuleType:
    """The array module of the current backend (where new arrays are made)."""
    return xp


def module_for_device(device: str | None) -> ModuleType:
    """The array module for ``device``; the current backend's when ``device`` is None."""
    if device is None:
        return xp
    if normalize_device(device) == "cpu":
        return np
    cp = _load_cupy()
    if cp is None:
        raise RuntimeError(f"device {device!r} is not available: {cupy_unavailable_reason()}")
    return cp


def synchronize(device: str = "cuda") -> None:
    """Wait until the GPU has finished all queued work (as ``torch.cuda.synchronize``); a
    no-op without CuPy. GPU ops return before their kernels finish: time with this."""
    cp = _load_cupy()
    if cp is not None:
        device = normalize_device(device)
        if device != "cpu":
            cp.cuda.Device(int(device.split(":")[1])).synchronize()


def device_name(device: str = "cuda") -> str:
    """The GPU's name (e.g. ``"NVIDIA H200"``), or ``"cpu"``."""
    device = normalize_device(device)
    cp = _load_cupy()
    if device == "cpu" or cp is None:
        return "cpu"
    props = cp.cuda.runtime.getDeviceProperties(int(device.split(":")[1]))
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


# --------------------------------------------------------------------------- dtypes


def as_dtype(dtype: Any) -> np.dtype:
    """Normalize ``md.float32``, ``"float32"``, ``np.float32`` ... to a NumPy dtype object."""
    try:
        return np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"not a dtype: {dtype!r}") from exc


def is_float_dtype(dtype: np.dtype) -> bool:
    """True for floating-point dtypes (the only ones that can carry gradients)."""
    return dtype.kind == "f"


def result_type(*dtypes: np.dtype) -> np.dtype:
    """NumPy's promotion of array dtypes (float32 with float64 gives float64)."""
    return np.result_type(*dtypes)


# --------------------------------------------------------------------------- random numbers

_seed: int | None = None  # None until md.manual_seed is called: fresh entropy each run
_np_rng = np.random.default_rng()
_cp_rng: Any = None


def manual_seed(seed: int) -> None:
    """Seed the random generators of every backend, as ``torch.manual_seed`` does."""
    global _np_rng, _cp_rng, _seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    _seed = int(seed)
    _np_rng = np.random.default_rng(_seed)
    _cp_rng = None  # re-created from _seed on first use on the GPU


def rng(module: ModuleType | None = None) -> Any:
    """The seeded generator (``numpy.random.Generator``-like) of ``module`` (default: backend)."""
    global _cp_rng
    module = module or xp
    if module is np:
        return _np_rng
    if _cp_rng is None:
        _cp_rng = module.random.default_rng(_seed)
    return _cp_rng


# --------------------------------------------------------------------------- helpers for ops


def scatter_add(target: Any, index: Any, values: Any) -> None:
    """``target[index] += values`` in place, *accumulating* over repeated indices.

    Plain ``target[index] += values`` keeps only one contribution per repeated index; the
    gradient of ``x[[0, 0]]`` must count both.
    """
    module = array_module(target)
    if module is np:
        np.add.at(target, index, values)
    elif hasattr(module.add, "at"):  # CuPy >= 13: ufunc.at (what CuPy recommends over cupyx.scatter_add)
        module.add.at(target, index, values)
    else:  # older CuPy
        import cupyx  # type: ignore[import-not-found]  # CuPy's companion package

        cupyx.scatter_add(target, index, values)


def quiet_float_warnings(**kinds: Any) -> contextlib.AbstractContextManager:
    """Silence the floating-point warnings named in ``kinds`` (``over=``, ``divide=``,
    ``invalid=``, as ``numpy.errstate``) inside a ``with`` block, where an inf or NaN result
    is the intended one (exp overflowing to inf, log(0) = -inf, 0/0 in a variance of one
    value). Only NumPy warns; CuPy computes the same values silently, so arrays of both
    kinds work inside the block. Ops use this rather than ``xp.errstate``, which CuPy lacks."""
    return np.errstate(**kinds)


def array_repr(a: Any, prefix: str = "") -> str:
    """NumPy's printout of ``a`` (for ``Tensor.__repr__``)."""
    return np.array2string(to_numpy(a), separator=", ", prefix=prefix)


def to_numpy(a: Any) -> np.ndarray:
    """A NumPy array holding ``a`` (copied from the GPU when ``a`` is a CuPy array)."""
    if isinstance(a, np.ndarray):
        return a
    if is_backend_array(a):
        return a.get()
    return np.asarray(a)


# --------------------------------------------------------------------------- reused memory for large temporaries


class _ScratchPool:
    """Memory blocks for large CPU temporaries, kept for reuse instead of given back to the OS.

    Why: glibc's malloc returns the freed top of its heap to the operating system once it
    exceeds a threshold (about twice the largest block freed), and each page taken back costs
    a page fault (about a microsecond) on its next use. A CNN step allocates and frees the
    same few megabyte-sized arrays (im2col columns, conv outputs, their gradients) every step,
    so without reuse it faults thousands of pages per step. This pool is minidl's own,
    for the arrays its ops ask for through ``scratch_empty``; it changes no setting of the
    process's allocator. CuPy keeps a pool of this kind on the GPU by default.

    How: ``empty(shape, dtype)`` of at least ``min_bytes`` takes an idle block of exactly that
    size (or makes one) and returns an array on it. The block comes back to the pool when the
    last array using its memory (the array or any view of it) is freed, which a
    ``weakref.finalize`` on the block's one owning array reports. At most ``limit_bytes`` of
    idle blocks are kept; ``clear()`` drops them all.
    """

    def __init__(self, min_bytes: int = 1 << 18, limit_bytes: int = 256 << 20) -> None:
        self.min_bytes = min_bytes
        self.limit_bytes = limit_bytes
        self.idle_bytes = 0
        self._idle: dict[int, list[np.ndarray]] = {}
        self._lock = threading.Lock()

    def empty(self, shape: tuple, dtype: Any) -> np.ndarray:
        dtype = np.dtype(dtype)
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        if nbytes < self.min_bytes:
            return np.empty(shape, dtype)
        with self._lock:
            blocks = self._idle.get(nbytes)
            block: np.ndarray | None = blocks.pop() if blocks else None
            if block is not None:
                self.idle_bytes -= nbytes
        if block is None:
            block = np.empty(nbytes, np.uint8)
        # The owner's base is a memoryview, so NumPy makes every view of the result point to
        # the owner (never to ``block``): the owner dies exactly when its last view does.
        owner = np.frombuffer(block.data, dtype, count)
        weakref.finalize(owner, self._give_back, block).atexit = False
        return owner.reshape(shape)

    def _give_back(self, block: np.ndarray) -> None:
        with self._lock:
            if self.idle_bytes + block.nbytes <= self.limit_bytes:
                self._idle.setdefault(block.nbytes, []).append(block)
                self.idle_bytes += block.nbytes

    def clear(self) -> None:
        """Drop every idle block (their memory goes back to the C allocator)."""
        with self._lock:
            self._idle.clear()
            self.idle_bytes = 0


#: The pool behind ``scratch_empty`` (see ``_ScratchPool``): ``scratch_pool.clear()`` frees
#: its idle blocks, ``scratch_pool.limit_bytes = 0`` turns reuse off.
scratch_pool = _ScratchPool()


def scratch_empty(xp: ModuleType, shape: tuple, dtype: Any) -> Any:
    """An uninitialised array for an op's large temporary or output, on ``xp``'s device.

    On NumPy, arrays of 256 KiB and more come from ``scratch_pool`` (reused across steps);
    on CuPy, from CuPy's own memory pool (``cupy.empty``).
    """
    if xp is np:
        return scratch_pool.empty(shape, dtype)
    return xp.empty(shape, dtype=dtype)


# --------------------------------------------------------------------------- threads for large CPU ops


def _default_num_threads() -> int:
    """``MINIDL_NUM_THREADS``, else ``OMP_NUM_THREADS`` (what PyTorch and most BLAS builds
    read; for a nested list such as "4,2", its first number), else the CPUs this process
    may run on, at most 8. A bad ``MINIDL_NUM_THREADS`` raises, as a bad ``MINIDL_BACKEND``
    does; a bad ``OMP_NUM_THREADS`` belongs to other libraries too, so it only warns."""
    for name in ("MINIDL_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if not value:
            continue
        first = value.split(",")[0].strip() if name == "OMP_NUM_THREADS" else value
        count = int(first) if first.isdigit() else 0
        if count >= 1:
            return count
        problem = f"{name} must be a whole number of threads >= 1, got {value!r}"
        if name == "MINIDL_NUM_THREADS":
            raise ValueError(problem)
        warnings.warn(f"{problem}; minidl uses one thread per CPU instead", RuntimeWarning, stacklevel=2)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(8, cpus))


class _Workers:
    """Threads that run slices of one large CPU operation next to the calling thread.

    Why: NumPy's BLAS uses every core for a large matmul, but its element-wise loops and
    copies run on one core, and so do the many small matmuls of a batched conv. PyTorch
    splits such work over its threads (intra-op parallelism); ``parallel_for`` does the
    same for the few ops where it pays (conv and pooling, split over the batch). NumPy
    releases the GIL inside its loops, so Python threads do run them at the same time.

    How: ``num_threads - 1`` daemon threads, started on first use, each waiting on its
    own queue. ``run`` hands chunk i to worker i, runs chunk 0 itself, and waits for the
    rest (a hand-off costs about 30 us, so only work far larger than that is split). It
    runs everything in the calling thread instead when threads are off (1), when called
    from a worker (no nesting), or when another thread is using the workers right now
    (no waiting, no deadlock).
    """

    def __init__(self) -> None:
        self.num_threads = _default_num_threads()
        self._queues: list[Any] = []
        self._done: Any = None
        self._busy = threading.Lock()
        self._local = threading.local()  # .is_worker on worker threads

    def _start(self) -> None:
        import queue  # the standard library's; imported here as only this code needs it

        self._done = queue.SimpleQueue()
        while len(self._queues) < self.num_threads - 1:
            q: Any = queue.SimpleQueue()
            threading.Thread(target=self._serve, args=(q,), name=f"minidl-worker-{len(self._queues)}",
                             daemon=True).start()
            self._queues.append(q)

    def _serve(self, tasks: Any) -> None:
        self._local.is_worker = True
        while True:
            body, start, stop, results, i = tasks.get()
            try:
                results[i] = body(start, stop)
            except BaseException as exc:  # re-raised in the calling thread
                results[i] = _Failure(exc)
            body = results = None  # hold nothing of the op (its arrays, its graph node) while idle
            self._done.put(None)

    def run(self, count: int, body: Any, chunks: int) -> list:
        if chunks <= 1 or getattr(self._local, "is_worker", False) or not self._busy.acquire(blocking=False):
            return [body(0, count)]
        try:
            if len(self._queues) < chunks - 1:
                self._start()
            bounds = [count * i // chunks for i in range(chunks + 1)]
            results: list = [None] * chunks
            for i in range(1, chunks):
                self._queues[i - 1].put((body, bounds[i], bounds[i + 1], results, i))
            try:
                results[0] = body(bounds[0], bounds[1])
            finally:
                for _ in range(1, chunks):
                    self._done.get()  # every chunk has finished before any array is touched again
        finally:
            self._busy.release()
        for r in results:
            if isinstance(r, _Failure):
                raise r.exc
        return results

    def _after_fork(self) -> None:  # a forked child has none of the parent's threads
        self._queues, self._done = [], None
        self._busy = threading.Lock()


class _Failure:
    """An exception raised in a worker, carried back to the caller."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_workers = _Workers()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_workers._after_fork)

#: Below this many elements of work an op is not split: the hand-off would cost more than it saves.
PARALLEL_MIN_WORK = 1 << 17


def set_num_threads(count: int) -> None:
    """How many threads minidl's large CPU ops may use (as ``torch.set_num_threads``).

    1 turns the splitting off. The default is ``MINIDL_NUM_THREADS``, else
    ``OMP_NUM_THREADS``, else the number of CPUs (at most 8). It does not change the BLAS's
    own threads, which NumPy's matmul uses.
    """
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError(f"set_num_threads: count must be an int, got {type(count).__name__}")
    if count < 1:
        raise ValueError(f"set_num_threads: count must be >= 1, got {count}")
    _workers.num_threads = count


def get_num_threads() -> int:
    """The number of threads minidl's large CPU ops may use (see ``set_num_threads``)."""
    return _workers.num_threads


def parallel_for(xp: ModuleType, count: int, body: Any, work: int) -> list:
    """``[body(start, stop) for each chunk]``: ``range(count)`` cut into contiguous chunks,
    run at once on ``get_num_threads()`` threads. The result list is in chunk order.

    ``body`` must touch only the slice ``[start:stop]`` of what it writes (samples of a
    batch, say), so chunks never race. ``work`` is the number of array elements the whole
    call touches: under ``PARALLEL_MIN_WORK`` it is one chunk, as it is on CuPy (the GPU
    runs the whole batch at once) and with ``count`` < 2. One chunk is ``body(0, count)``:
    the plain, sequential computation, which the threaded one must equal.
    """
    chunks = min(_workers.num_threads, count) if xp is np and work >= PARALLEL_MIN_WORK else 1
    if chunks <= 1:
        return [body(0, count)]
    return _workers.run(count, body, chunks)


# --------------------------------------------------------------------------- the backend at import


def _backend_from_environment() -> None:
    """Start on the backend named by the environment variable ``MINIDL_BACKEND`` (``numpy``
    or ``cupy``; unset or empty: numpy). ``MINIDL_BACKEND=cupy`` where CuPy or a GPU is
    missing falls back to NumPy with one ``RuntimeWarning`` saying why, so a script written
    for the GPU still runs on a laptop; ``md.set_backend("cupy")`` in code raises instead."""
    name = os.environ.get("MINIDL_BACKEND", "").strip().lower()
    if not name:
        return
    if name not in _BACKENDS:
        raise ValueError(f"MINIDL_BACKEND: unknown backend {name!r}; expected one of {_BACKENDS}")
    if name == "cupy" and not cupy_available():
        warnings.warn(f"MINIDL_BACKEND=cupy, but CuPy cannot be used ({cupy_unavailable_reason()}); "
                      "running on NumPy (CPU) instead", RuntimeWarning, stacklevel=2)
        return
    set_backend(name)


_backend_from_environment()
