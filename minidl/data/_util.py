"""Small helpers shared by the data modules: arrays in and out, and seeded generators.

The data side works on backend arrays (NumPy, or CuPy on the GPU). Every public function
accepts arrays or Tensors and gives back the kind it was given: a Tensor in, a Tensor out
(never tracking gradients: data preparation is not part of the model's graph).
"""

from __future__ import annotations

from typing import Any

import minidl as md
from minidl import backend

np = backend.np


def to_array(x: Any, name: str = "X") -> Any:
    """The backend array behind ``x`` (a Tensor's data, an array as it is, a list via NumPy)."""
    if isinstance(x, md.Tensor):
        return x.data
    if backend.is_backend_array(x):
        return x
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array or a Tensor, got {type(x).__name__}: {exc}") from exc
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {a.dtype} from {type(x).__name__}")
    return a


def like(result: Any, template: Any) -> Any:
    """``result`` (an array) as a Tensor when ``template`` was a Tensor, else as it is."""
    return md.as_tensor(result) if isinstance(template, md.Tensor) else result


def check_seed(seed: Any, name: str = "seed") -> int | None:
    """``seed`` as an int, or None; anything else is a TypeError."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{name} must be an int or None, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"{name} must be non-negative, got {seed}")
    return int(seed)


def generator(seed: int | None = None) -> Any:
    """A NumPy random generator (on the CPU: index draws are small).

    With a ``seed`` it is always the same; with None its seed is drawn from minidl's global
    generator, so ``md.manual_seed(0)`` makes the whole script reproducible.
    """
    seed = check_seed(seed)
    if seed is None:
        seed = int(md.randint(0, 2**62, (1,)).item())
    return np.random.default_rng(seed)


def float_array(a: Any, name: str = "X") -> Any:
    """``a`` as floating point: float arrays keep their dtype, integers become float32."""
    if a.dtype.kind == "f":
        return a
    if a.dtype.kind in "biu":
        return a.astype(backend.float32)
    raise TypeError(f"{name} must hold numbers, got dtype {a.dtype}")


def labels(y: Any, name: str = "y") -> Any:
    """``y`` as a 1-D integer NumPy array of class labels (copied to the CPU if needed)."""
    a = backend.to_numpy(to_array(y, name))
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one class label per sample), got shape {tuple(a.shape)}")
    if a.dtype.kind == "f":
        if not np.all(a == np.round(a)):
            raise ValueError(f"{name} must hold integer class labels, got non-integer floats")
        a = a.astype(backend.int64)
    elif a.dtype.kind not in "biu":
        raise TypeError(f"{name} must hold integer class labels, got dtype {a.dtype}")
    return a


def index_array(indices: Any, name: str = "indices") -> Any:
    """``indices`` as a 1-D int64 NumPy array. Python or NumPy ints (a range, a list, an
    array, a scalar) are accepted; floats and bools are a TypeError (no silent truncation)."""
    if isinstance(indices, range):
        return np.asarray(indices, dtype=backend.int64)
    if isinstance(indices, (list, tuple)) and any(isinstance(v, (bool, np.bool_)) for v in indices):
        raise TypeError(f"{name} must be integers, got a bool among them")
    a = backend.to_numpy(to_array(indices, name)).reshape(-1)
    if a.size and a.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got dtype {a.dtype}")
    return a.astype(backend.int64)


def check_index_range(indices: Any, n: int, name: str = "indices") -> None:
    """Refuse indices (an int array) outside [-n, n), the indices a dataset of n samples accepts."""
    if indices.size and (int(indices.min()) < -n or int(indices.max()) >= n):
        bad = int(indices.min()) if int(indices.min()) < -n else int(indices.max())
        raise IndexError(f"{name}: index {bad} is out of range for a dataset of {n} samples "
                         f"(expected indices in [-{n}, {n}))")


def take(x: Any, index: Any) -> Any:
    """Rows ``index`` (a NumPy int array) of ``x``, keeping its kind (Tensor or array) and device."""
    a = to_array(x)
    if backend.array_module(a) is not np:
        index = backend.array_module(a).asarray(index)
    return like(a[index], x)


def n_rows(x: Any, name: str) -> int:
    """The number of samples (first dimension) of ``x``."""
    shape = to_array(x, name).shape
    if len(shape) == 0:
        raise ValueError(f"{name} must have at least one dimension (samples first), got a scalar")
    return int(shape[0])
