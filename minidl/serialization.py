"""``md.save(obj, path)`` / ``md.load(path)``: checkpoints without pickle.

``obj`` is a dict (e.g. ``model.state_dict()`` or ``optimizer.state_dict()``) that may nest
dicts, lists and tuples. Dict keys are ``str`` or ``int`` (the key type is preserved, so an
optimizer's ``{"state": {0: {...}}}`` comes back with the int key 0). Leaves are tensors,
NumPy/CuPy arrays (and NumPy scalars), or Python ``int``/``float``/``bool``/``str``/``None``.

File format: a standard NumPy ``.npz`` (a zip of ``.npy`` files) holding one entry per array
(``a0``, ``a1``, ...) plus ``__minidl_structure__``, the UTF-8 JSON description of the
structure, in which arrays appear as references. Why not pickle: unpickling runs arbitrary
code, so loading a checkpoint from the internet would be running a program from the
internet. Here ``numpy.load(..., allow_pickle=False)`` only ever parses numbers and JSON.

``md.load`` returns the same structure with NumPy arrays (GPU arrays were copied to the host
when saved) and Python scalars; ``model.load_state_dict`` moves them back to the model's
device. Saving is atomic: the file is written to a temporary file in the same folder and
renamed over ``path`` only when complete, so a crash never leaves a half-written checkpoint.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from . import backend
from .tensor import Tensor

_STRUCTURE = "__minidl_structure__"
_FORMAT = "minidl-checkpoint"
_VERSION = 1
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


# ---------------------------------------------------------------------- npz files


def save_npz(file: Any, arrays: dict) -> None:
    """Write NumPy arrays to an open binary ``file`` as an uncompressed ``.npz``
    (``numpy.savez``). Object arrays (which NumPy could only store by pickling) are refused."""
    for name, a in arrays.items():
        if not isinstance(a, backend.np.ndarray):
            raise TypeError(f"save_npz: entry {name!r} is a {type(a).__name__}, expected a NumPy array")
        if a.dtype.hasobject:
            raise TypeError(f"save_npz: entry {name!r} has dtype object; minidl never pickles")
    backend.np.savez(file, **arrays)


def load_npz(path: Any) -> dict:
    """Read every array of an ``.npz`` file with ``allow_pickle=False`` (object arrays and
    pickles raise ``ValueError`` instead of being executed). Raises ``ValueError`` when the
    file is a plain ``.npy`` rather than an archive."""
    with open(path, "rb") as f:  # our own handle: closed even when numpy fails half-way
        data = backend.np.load(f, allow_pickle=False)
        if not isinstance(data, backend.np.lib.npyio.NpzFile):
            raise ValueError("not an .npz archive (a single .npy array)")
        with data:
            return {name: data[name] for name in data.files}


def bytes_to_array(b: bytes) -> Any:
    """``b`` as a uint8 NumPy array (to store text, e.g. JSON, inside an .npz)."""
    return backend.np.frombuffer(b, dtype=backend.np.uint8).copy()


def array_to_bytes(a: Any) -> bytes:
    """The raw bytes of a uint8 array (inverse of ``bytes_to_array``)."""
    if not isinstance(a, backend.np.ndarray) or a.dtype != backend.np.uint8 or a.ndim != 1:
        raise ValueError("expected a 1-D uint8 array")
    return a.tobytes()


# ---------------------------------------------------------------------- save


def _encode(obj: Any, arrays: dict, where: str) -> Any:
    """The JSON node for ``obj``; arrays are collected into ``arrays`` (name -> ndarray)."""
    if isinstance(obj, Tensor):
        obj = obj.data
    if backend.is_backend_array(obj) or isinstance(obj, backend.np.generic):
        a = backend.to_numpy(obj) if backend.is_backend_array(obj) else backend.np.asarray(obj)
        if a.dtype.hasobject:
            raise TypeError(f"md.save: {where} is an array of dtype object; only numeric/bool arrays can be saved")
        name = f"a{len(arrays)}"
        arrays[name] = a
        return {"t": "array", "ref": name}
    if obj is None:
        return {"t": "none"}
    if isinstance(obj, bool):
        return {"t": "bool", "v": obj}
    if isinstance(obj, int):
        return {"t": "int", "v": str(obj)}  # as a string: JSON readers may round big ints
    if isinstance(obj, float):
        return {"t": "float", "v": repr(obj)}  # repr round-trips exactly, nan and inf included
    if isinstance(obj, str):
        return {"t": "str", "v": obj}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError(f"md.save: key {k!r} of {where} is a {type(k).__name__}; keys must be str or int")
            key = {"k": "int", "v": str(k)} if isinstance(k, int) else {"k": "str", "v": k}
            items.append([key, _encode(v, arrays, f"{where}[{k!r}]")])
        return {"t": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {"t": kind, "items": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    raise TypeError(
        f"md.save: {where} is a {type(obj).__name__}; leaves must be tensors, arrays, int, float, bool, str "
        "or None (save a module's weights with md.save(model.state_dict(), path))"
    )


def save(obj: dict, path: str | os.PathLike) -> None:
    """Save a (nested) dict of tensors/arrays/scalars to ``path`` as an ``.npz`` (atomic)."""
    if not isinstance(obj, dict):
        raise TypeError(f"md.save: expected a dict (e.g. model.state_dict()), got {type(obj).__name__}")
    path = os.fspath(path)
    arrays: dict = {}
    root = _encode(obj, arrays, "obj")
    meta = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root}).encode("utf-8")
    arrays[_STRUCTURE] = bytes_to_array(meta)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"md.save: cannot write {path!r}: the folder {folder!r} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"md.save: cannot write {path!r}: it is a folder; give a file name such as "
                                f"{os.path.join(path, 'model.npz')!r}")
    fd, tmp = _create_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            save_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(path):  # overwriting: keep the old file's permissions
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def _create_beside(path: str) -> tuple[int, str]:
    """A new, empty temporary file in ``path``'s folder: ``(file descriptor, its path)``.

    Created with mode 0o666 filtered by the umask, like any file a program writes (unlike
    ``tempfile.mkstemp``'s private 0o600, which the rename would carry over to ``path``).
    """
    folder = os.path.dirname(os.path.abspath(path))
    for _ in range(100):
        tmp = os.path.join(folder, f".minidl-{secrets.token_hex(6)}.tmp")  # short: any file name fits
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"md.save: could not create a temporary file beside {path!r}")


# ---------------------------------------------------------------------- load


def _decode(node: Any, arrays: dict, used: set, path: str) -> Any:
    def bad(msg: str) -> ValueError:
        return ValueError(f"md.load: {path!r} has a malformed structure entry ({msg})")

    if not isinstance(node, dict) or "t" not in node:
        raise bad(f"expected a node object, got {node!r:.80}")
    t = node["t"]
    try:
        if t == "array":
            ref = node["ref"]
            if ref not in arrays:
                raise bad(f"array {ref!r} is referenced but missing from the archive")
            used.add(ref)
            return arrays[ref]
        if t == "none":
            return None
        if t == "bool":
            if not isinstance(node["v"], bool):
                raise bad("bool node without a bool")
            return node["v"]
        if t == "int":
            return int(node["v"])
        if t == "float":
            return float(node["v"])
        if t == "str":
            if not isinstance(node["v"], str):
                raise bad("str node without a string")
            return node["v"]
        if t == "dict":
            out = {}
            for key, value in node["items"]:
                if key["k"] == "int":
                    k: Any = int(key["v"])
                elif key["k"] == "str" and isinstance(key["v"], str):
                    k = key["v"]
                else:
                    raise bad(f"bad key {key!r:.80}")
                out[k] = _decode(value, arrays, used, path)
            return out
        if t in ("list", "tuple"):
            items = [_decode(v, arrays, used, path) for v in node["items"]]
            return items if t == "list" else tuple(items)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith("md.load"):
            raise
        raise bad(f"{type(exc).__name__}: {exc}") from None
    raise bad(f"unknown node type {t!r}")


def load(path: str | os.PathLike) -> dict:
    """Load what ``md.save`` wrote: the same structure with NumPy arrays and Python scalars.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` (naming the file) for
    anything that is not an intact minidl checkpoint: truncated/corrupt data, a non-npz file,
    an archive holding object arrays or pickles (refused, never executed), or a missing or
    malformed structure entry.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:  # FileNotFoundError / IsADirectoryError pass through
        magic = f.read(4)
    if magic not in _ZIP_MAGIC:
        raise ValueError(f"md.load: {path!r} is not an .npz archive (a minidl checkpoint); it starts with {magic!r}")
    try:
        arrays = load_npz(path)
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            raise ValueError(
                f"md.load: {path!r} contains object arrays or pickled data, which minidl refuses to load "
                f"(unpickling could run arbitrary code): {exc}"
            ) from None
        raise ValueError(f"md.load: {path!r} is truncated or corrupt: {exc}") from None
    except Exception as exc:  # zipfile.BadZipFile, EOFError, zlib.error, OSError ...
        raise ValueError(f"md.load: {path!r} is truncated or corrupt ({type(exc).__name__}: {exc})") from None
    if _STRUCTURE not in arrays:
        raise ValueError(
            f"md.load: {path!r} is an .npz without the {_STRUCTURE!r} entry: it was not written by md.save "
            "(for a plain .npz, use numpy.load(path, allow_pickle=False))"
        )
    try:
        meta = json.loads(array_to_bytes(arrays.pop(_STRUCTURE)).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"md.load: {path!r} has a corrupt structure entry: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT or "root" not in meta:
        raise ValueError(f"md.load: {path!r} has a structure entry that is not a minidl checkpoint description")
    if meta.get("version") != _VERSION:
        raise ValueError(f"md.load: {path!r} has format version {meta.get('version')!r}; this minidl reads {_VERSION}")
    for name, a in arrays.items():
        if a.dtype.hasobject:  # belt and braces: allow_pickle=False already refuses these
            raise ValueError(f"md.load: {path!r} entry {name!r} is an object array; refused")
    used: set = set()
    obj = _decode(meta["root"], arrays, used, path)
    if not isinstance(obj, dict):
        raise ValueError(f"md.load: {path!r} does not hold a dict at its root")
    extra = sorted(set(arrays) - used)
    if extra:
        raise ValueError(f"md.load: {path!r} holds arrays not described by its structure entry: {extra[:10]}")
    return obj


__all__ = ["save", "load"]
