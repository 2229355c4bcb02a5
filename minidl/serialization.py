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

Safety rules (each refusal raises a clear error and changes nothing):

* ``md.save`` replaces only a regular file: a folder, symbolic link, FIFO, device or socket
  at ``path`` is refused (as root, renaming over ``/dev/null`` would replace the device).
  ``md.load`` reads only a regular file (a symlink to one is fine); a FIFO fails at once
  instead of waiting for a writer.
* Structures nest at most ``MAX_DEPTH`` (100) levels, on save and on load: a hostile file
  nested 5,000 deep is a ``ValueError``, never a ``RecursionError``.
* Temporary files are named ``.minidl-<hash of the target's name>-<random>.tmp`` beside the
  target. A save killed half-way (``kill -9``) leaves its temporary file behind; the next
  save *to the same path* removes such leftovers: files matching that target's pattern that
  are regular files, older than a few seconds, and not locked. A save holds an exclusive
  ``flock`` on its temporary file until the rename, so one still being written (by another
  thread or process) is never removed; where ``flock`` does not exist (Windows), only
  leftovers older than an hour are removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import stat
import time
from typing import Any, BinaryIO, Callable

try:
    import fcntl
except ImportError:  # Windows: no flock, see _STALE_AFTER_S
    fcntl = None  # type: ignore[assignment]

from . import backend
from .tensor import Tensor

_STRUCTURE = "__minidl_structure__"
_FORMAT = "minidl-checkpoint"
_VERSION = 1
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
MAX_DEPTH = 100  # nesting levels of a saved structure (state dicts use fewer than 10)
_STALE_AFTER_S = 5.0 if fcntl is not None else 3600.0  # unlocked leftovers older than this are removed


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a regular file"


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


def load_npz(file: Any) -> dict:
    """Read every array of an ``.npz`` file with ``allow_pickle=False`` (object arrays and
    pickles raise ``ValueError`` instead of being executed). Raises ``ValueError`` when the
    file is a plain ``.npy`` rather than an archive."""
    with open(file, "rb") as f:  # a path or an open descriptor; closed even when numpy fails half-way
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


def _encode(obj: Any, arrays: dict, where: str, depth: int = 0) -> Any:
    """The JSON node for ``obj``; arrays are collected into ``arrays`` (name -> ndarray)."""
    if depth > MAX_DEPTH:
        raise ValueError(f"md.save: obj is nested more than {MAX_DEPTH} levels deep (at {where[:120]}...); "
                         "a checkpoint holds a state dict, not a deep structure")
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
        try:
            return {"t": "int", "v": str(obj)}  # as a string: JSON readers may round big ints
        except ValueError:  # Python refuses to print ints of more than 4300 digits
            raise ValueError(f"md.save: {where} is an int of {obj.bit_length()} bits, too large to save "
                             "(store it as a float or a string)") from None
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
            items.append([key, _encode(v, arrays, f"{where}[{k!r}]", depth + 1)])
        return {"t": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {"t": kind, "items": [_encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]}
    raise TypeError(
        f"md.save: {where} is a {type(obj).__name__}; leaves must be tensors, arrays, int, float, bool, str "
        "or None (save a module's weights with md.save(model.state_dict(), path))"
    )


def save(obj: dict, path: str | os.PathLike) -> None:
    """Save a (nested) dict of tensors/arrays/scalars to ``path`` as an ``.npz`` (atomic).

    Only a regular file (or nothing) at ``path`` is replaced; leftovers of killed saves to
    ``path`` are removed first (see the module docstring for the rule). An empty ``path`` is a
    ``ValueError``, raised before anything is touched.
    """
    if not isinstance(obj, dict):
        raise TypeError(f"md.save: expected a dict (e.g. model.state_dict()), got {type(obj).__name__}")
    arrays: dict = {}
    root = _encode(obj, arrays, "obj")
    meta = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root}).encode("utf-8")
    arrays[_STRUCTURE] = bytes_to_array(meta)
    write_atomically(path, lambda f: save_npz(f, arrays))


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], Any], what: str = "md.save",
                     example: str = "model.npz") -> None:
    """Call ``write(f)`` on a new temporary file beside ``path``, then rename it over ``path``:
    readers see the old file or the whole new one, never half of it (``md.save``, and the
    training history's JSON and CSV files).

    Only a regular file (or nothing) at ``path`` is replaced; leftovers of killed writes to
    ``path`` are removed first (see the module docstring for the rule). On any failure the
    temporary file is removed and ``path`` is left as it was; errors name ``what`` and ``path``
    (``example`` is the file name suggested when ``path`` is empty or a folder).
    """
    path = os.fspath(path)
    if not path:
        raise ValueError(f"{what}: path is empty; give a file name such as {example!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{what}: cannot write {path!r}: the folder {folder!r} does not exist")
    _check_replaceable(path, what, example)
    _remove_stale_temps(path)
    try:
        fd, tmp = _create_beside(path)
    except OSError as exc:
        raise _naming(exc, path, folder, what) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            _lock(f.fileno())  # "being written": _remove_stale_temps keeps it
            write(f)
            f.flush()
            os.fsync(f.fileno())
            _check_replaceable(path, what, example)  # again, just before the rename
            if os.path.exists(path):  # overwriting: keep the old file's permissions
                os.chmod(tmp, os.stat(path).st_mode & 0o7777)
            if fcntl is not None:  # POSIX renames an open file: rename while still locked
                os.replace(tmp, path)
        if fcntl is None:
            os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.remove(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise _naming(exc, path, folder, what) from exc
        raise


def _check_replaceable(path: str, what: str, example: str) -> None:
    """Refuse anything at ``path`` but a regular file (the symlink itself is looked at)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{what}: cannot write {path!r}: it is a folder; give a file name such as "
                                f"{os.path.join(path, example)!r}")
    if not stat.S_ISREG(mode):
        raise ValueError(f"{what}: refusing to replace {path!r}: it is {_kind(mode)}, not a regular file "
                         f"({what} only ever replaces a file it wrote)")


def _naming(exc: OSError, path: str, folder: str, what: str) -> OSError:
    """The same kind of OSError, naming the target ``path`` rather than the temporary file."""
    if str(exc).startswith(what):
        return exc
    reason = exc.strerror or str(exc)
    msg = f"{what}: cannot write {path!r}: {reason} (the file is written to a temporary file in {folder!r} first)"
    return OSError(exc.errno, msg) if exc.errno is not None else type(exc)(msg)


def _lock(fd: int) -> None:
    """Best effort: a file system without ``flock`` (some network mounts) still saves; its
    temporary files are then protected by the age rule alone."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pass


def _temp_prefix(path: str) -> str:
    """The start of every temporary file name of a save to ``path`` (short: any file name fits)."""
    digest = hashlib.sha256(os.path.basename(path).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f".minidl-{digest}-"


def _create_beside(path: str) -> tuple[int, str]:
    """A new, empty temporary file in ``path``'s folder: ``(file descriptor, its path)``.

    Created with mode 0o666 filtered by the umask, like any file a program writes (unlike
    ``tempfile.mkstemp``'s private 0o600, which the rename would carry over to ``path``).
    """
    folder = os.path.dirname(os.path.abspath(path))
    for _ in range(100):
        tmp = os.path.join(folder, f"{_temp_prefix(path)}{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"md.save: could not create a temporary file beside {path!r}")


def _remove_stale_temps(path: str) -> None:
    """Remove temporary files that killed saves to ``path`` left behind.

    Only files named like this target's temporary files (``_temp_prefix`` + 12 hex digits +
    ``.tmp``) are considered, and only regular files older than ``_STALE_AFTER_S`` seconds
    that no running save holds locked. Anything that cannot be checked is left alone.
    """
    folder = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(re.escape(_temp_prefix(path)) + r"[0-9a-f]{12}\.tmp")
    try:
        names = [n for n in os.listdir(folder) if pattern.fullmatch(n)]
    except OSError:
        return
    now = time.time()
    for name in names:
        leftover = os.path.join(folder, name)
        try:
            fd = os.open(leftover, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < _STALE_AFTER_S:
                continue
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # a save is writing it
            os.remove(leftover)
        except OSError:
            continue
        finally:
            os.close(fd)


# ---------------------------------------------------------------------- load


def _decode(node: Any, arrays: dict, used: set, path: str, depth: int = 0) -> Any:
    def bad(msg: str) -> ValueError:
        return ValueError(f"md.load: {path!r} has a malformed structure entry ({msg})")

    if depth > MAX_DEPTH:
        raise bad(f"nested more than {MAX_DEPTH} levels deep")

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
                out[k] = _decode(value, arrays, used, path, depth + 1)
            return out
        if t in ("list", "tuple"):
            items = [_decode(v, arrays, used, path, depth + 1) for v in node["items"]]
            return items if t == "list" else tuple(items)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith("md.load"):
            raise
        raise bad(f"{type(exc).__name__}: {exc}") from None
    raise bad(f"unknown node type {t!r}")


def _open_regular(path: str) -> int:
    """A read-only descriptor of ``path``, checked to be a regular file *after* opening it
    (no race), opened non-blocking so that a FIFO cannot make it wait for a writer."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        return fd  # (O_NONBLOCK changes nothing for regular files)
    os.close(fd)
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"md.load: {path!r} is a folder, not a checkpoint file")
    raise ValueError(f"md.load: {path!r} is {_kind(mode)}, not a regular file (a checkpoint written by md.save)")


def load(path: str | os.PathLike) -> dict:
    """Load what ``md.save`` wrote: the same structure with NumPy arrays and Python scalars.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` (naming the file) for
    anything that is not an intact minidl checkpoint: truncated/corrupt data, a non-npz file,
    an archive holding object arrays or pickles (refused, never executed), or a missing or
    malformed structure entry. An empty ``path`` is a ``ValueError``.
    """
    path = os.fspath(path)
    if not path:
        raise ValueError("md.load: path is empty; give the name of a file written by md.save")
    fd = _open_regular(path)
    try:
        magic = os.read(fd, 4)
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    if magic not in _ZIP_MAGIC:
        os.close(fd)
        raise ValueError(f"md.load: {path!r} is not an .npz archive (a minidl checkpoint); it starts with {magic!r}")
    try:
        arrays = load_npz(fd)  # reads from (and closes) the descriptor checked above
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
    for name, a in arrays.items():
        if not backend.is_backend_array(a):  # a zip member not named .npy comes back as raw bytes
            raise ValueError(f"md.load: {path!r} holds a member {name!r} that is not a .npy array; refused")
    try:
        meta = json.loads(array_to_bytes(arrays.pop(_STRUCTURE)).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"md.load: {path!r} has a corrupt structure entry: {exc}") from None
    except RecursionError:
        raise ValueError(f"md.load: {path!r} has a structure entry nested too deeply (more than "
                         f"{MAX_DEPTH} levels is refused)") from None
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
