"""md.save / md.load: exact round trips of nested structures (int keys, tuples, scalars),
Module and optimizer-style state dicts, atomic writes, and every refusal with its message."""

import errno
import math
import os
import signal
import stat
import subprocess
import sys
import threading
import zipfile

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
from minidl import serialization

EXECUTED = []


def _record_execution():  # what a hostile pickle would run
    EXECUTED.append(True)
    return "pwned"


class Hostile:
    def __reduce__(self):
        return (_record_execution, ())


def assert_same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b) and [type(k) for k in a] == [type(k) for k in b]
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


# ----------------------------------------------------------------------------- round trips


def test_nested_round_trip_is_exact(tmp_path):
    obj = {
        "weights": {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.zeros(0, np.float64)},
        "ints": np.array([1, -2], dtype=np.int64), "flags": np.array([True, False]),
        "scalar0d": np.array(3.5, dtype=np.float32),
        1: "int key", 0: {"nested": [1, 2.5, None, True, "s", (3, [4.0])]},
        "floats": [0.1, -0.0, float("inf"), float("nan"), 1e-310], "big": 2**70, "empty": {}, "t": (),
        "uni": "héllo ✓",
    }
    path = tmp_path / "ck.npz"
    md.save(obj, path)
    back = md.load(path)
    assert_same(obj, back)
    assert list(back) == list(obj)


def test_tensors_and_numpy_scalars_come_back_as_arrays(tmp_path):
    t = md.randn(3, 2, requires_grad=True)
    md.save({"t": t, "s": np.float32(2.5)}, tmp_path / "x.npz")
    back = md.load(tmp_path / "x.npz")
    assert isinstance(back["t"], np.ndarray) and back["t"].dtype == np.float32
    np.testing.assert_array_equal(back["t"], t.numpy())
    assert back["s"].dtype == np.float32 and back["s"].shape == ()


def test_optimizer_style_state_dict_round_trips_exactly(tmp_path):
    state = {"state": {0: {"momentum_buffer": np.ones((2, 3), np.float32), "step": 4},
                       1: {"momentum_buffer": np.zeros(3, np.float32), "step": 4}},
             "param_groups": [{"lr": 0.1, "momentum": 0.9, "nesterov": False, "betas": (0.9, 0.999),
                               "weight_decay": 0, "params": [0, 1]}]}
    md.save(state, tmp_path / "opt.npz")
    back = md.load(tmp_path / "opt.npz")
    assert_same(state, back)
    assert list(back["state"]) == [0, 1]


def test_module_state_dict_round_trip_gives_identical_outputs(tmp_path):
    def make():
        net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
        net.register_buffer("steps", md.tensor(np.array(7, dtype=np.int64)))
        return net

    a, b = make(), make()
    with md.no_grad():
        a.steps.fill_(42)
    x = md.randn(5, 4)
    md.save(a.state_dict(), tmp_path / "model.npz")
    b.load_state_dict(md.load(tmp_path / "model.npz"))
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert b.steps.item() == 42 and b.steps.dtype == np.int64


def test_batchnorm_buffers_round_trip(tmp_path):
    a = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    for _ in range(3):
        a(md.randn(8, 3) * 2 + 1)  # training steps update running_mean/var and the counter
    a.eval()
    md.save({"model": a.state_dict(), "epoch": 3}, tmp_path / "bn.npz")
    b = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).eval()
    ck = md.load(tmp_path / "bn.npz")
    b.load_state_dict(ck["model"])
    x = md.randn(5, 3)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert int(b[1].num_batches_tracked.item()) == 3 and ck["epoch"] == 3


def test_path_is_used_as_given_and_overwrite_works(tmp_path):
    path = str(tmp_path / "checkpoint.bin")
    md.save({"a": 1}, path)
    md.save({"a": 2}, path)
    assert md.load(path) == {"a": 2}
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.bin"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_saved_file_has_ordinary_permissions(tmp_path):
    """A new checkpoint gets 0o666 minus the umask, like any written file (not a temporary
    file's private 0o600); overwriting keeps the old file's mode."""
    mask = os.umask(0o022)
    try:
        md.save({"a": 1}, tmp_path / "new.npz")
        assert os.stat(tmp_path / "new.npz").st_mode & 0o777 == 0o644
        os.chmod(tmp_path / "new.npz", 0o640)
        md.save({"a": 2}, tmp_path / "new.npz")
        assert os.stat(tmp_path / "new.npz").st_mode & 0o777 == 0o640
    finally:
        os.umask(mask)


def test_save_errors_name_the_path_given(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot write .*nodir.*the folder .*nodir.* does not exist"):
        md.save({"a": 1}, tmp_path / "nodir" / "f.npz")
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        md.save({"a": 1}, tmp_path)
    assert os.listdir(tmp_path) == []


def test_long_file_names_save(tmp_path):
    """The temporary file's name does not grow with the target's: a 250-character name works."""
    path = tmp_path / ("n" * 246 + ".npz")
    md.save({"w": np.ones(2)}, path)
    np.testing.assert_array_equal(md.load(path)["w"], np.ones(2))
    assert os.listdir(tmp_path) == [path.name]


def test_file_is_a_plain_npz_readable_without_pickle(tmp_path):
    md.save({"w": np.ones(3)}, tmp_path / "x.npz")
    with np.load(tmp_path / "x.npz", allow_pickle=False) as f:
        assert "__minidl_structure__" in f.files and len(f.files) == 2


# ----------------------------------------------------------------------------- save errors


@pytest.mark.parametrize("obj,match", [
    ([1, 2], "expected a dict"),
    ({"x": object()}, r"obj\['x'\] is a object"),
    ({1.5: 1}, "keys must be str or int"),
    ({True: 1}, "keys must be str or int"),
    ({"a": {"b": [np.array([None, 1], dtype=object)]}}, r"obj\['a'\]\['b'\]\[0\] is an array of dtype object"),
    ({"m": nn.Linear(2, 2)}, "state_dict"),
])
def test_save_refuses_unsupported_values(tmp_path, obj, match):
    with pytest.raises(TypeError, match=match):
        md.save(obj, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    md.save({"w": np.ones(3)}, path)
    original = path.read_bytes()

    def broken(file, arrays):
        file.write(b"PK\x03\x04 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "save_npz", broken)
    with pytest.raises(OSError, match="disk full"):
        md.save({"w": np.zeros(3)}, path)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["ck.npz"]  # no temporary file left behind


# ----------------------------------------------------------------------------- load errors


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        md.load(tmp_path / "nope.npz")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.2])
def test_truncated_file(tmp_path, keep):
    path = tmp_path / "ck.npz"
    md.save({"w": np.arange(1000.0), "v": np.ones(50)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match=r"ck\.npz.*(truncated or corrupt|not an \.npz)"):
        md.load(path)


def test_corrupt_file(tmp_path):
    path = tmp_path / "ck.npz"
    md.save({"w": np.arange(1000.0)}, path)
    data = bytearray(path.read_bytes())
    data[len(data) - 40: len(data) - 20] = b"\xff" * 20  # smash the zip's central directory
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"ck\.npz.*truncated or corrupt"):
        md.load(path)


def test_flipped_bytes_inside_an_array_are_detected(tmp_path):
    path = tmp_path / "ck.npz"
    md.save({"w": np.zeros(1000)}, path)
    data = bytearray(path.read_bytes())
    start = bytes(data).index(b"\x00" * 64)  # inside the array's payload
    data[start + 10] = 0x7F
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"ck\.npz.*truncated or corrupt.*CRC"):
        md.load(path)


@pytest.mark.parametrize("content", [b"hello, not a checkpoint", b"", b"\x80\x04\x95 a pickle"])
def test_not_an_npz(tmp_path, content):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"x\.npz.*is not an \.npz archive"):
        md.load(path)


def test_plain_npy_is_refused(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.ones(3))
    with pytest.raises(ValueError, match="not an .npz archive"):
        md.load(path)


def test_object_array_is_refused_and_never_executed(tmp_path):
    path = tmp_path / "evil.npz"
    structure = b'{"format": "minidl-checkpoint", "version": 1, "root": {"t": "dict", "items": []}}'
    np.savez(path, a0=np.array([Hostile()], dtype=object),
             __minidl_structure__=np.frombuffer(structure, dtype=np.uint8))
    with zipfile.ZipFile(path) as z:  # really holds a pickle
        assert any(name.startswith("a0") for name in z.namelist())
    EXECUTED.clear()
    with pytest.raises(ValueError, match=r"evil\.npz.*object arrays or pickled data.*refuses"):
        md.load(path)
    assert EXECUTED == []


def test_npz_without_structure_entry(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, w=np.ones(3))
    with pytest.raises(ValueError, match=r"plain\.npz.*without the '__minidl_structure__' entry"):
        md.load(path)


@pytest.mark.parametrize("structure,match", [
    (b"{not json", "corrupt structure entry"),
    (b"\xff\xfe", "corrupt structure entry"),
    (b'{"format": "other", "root": {}}', "not a minidl checkpoint description"),
    (b'{"format": "minidl-checkpoint", "version": 99, "root": {}}', "format version 99"),
    (b'{"format": "minidl-checkpoint", "version": 1, "root": {"t": "dict", "items": [[{"k": "str", "v": "w"}, '
     b'{"t": "array", "ref": "a7"}]]}}', "'a7' is referenced but missing"),
    (b'{"format": "minidl-checkpoint", "version": 1, "root": {"t": "weird"}}', "unknown node type 'weird'"),
    (b'{"format": "minidl-checkpoint", "version": 1, "root": {"t": "int", "v": "x"}}', "malformed structure"),
    (b'{"format": "minidl-checkpoint", "version": 1, "root": {"t": "dict", "items": [[{"k": "float", "v": 1}, '
     b'{"t": "none"}]]}}', "bad key"),
    (b'{"format": "minidl-checkpoint", "version": 1, "root": {"t": "list", "items": []}}', "does not hold a dict"),
    (b'{"format": "minidl-checkpoint", "version": 1, "root": {"t": "dict", "items": []}}', "not described"),
])
def test_malformed_structure_entry(tmp_path, structure, match):
    path = tmp_path / "bad.npz"
    np.savez(path, a0=np.ones(2), __minidl_structure__=np.frombuffer(structure, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"bad\.npz.*" + match):
        md.load(path)


def test_library_never_imports_pickle():
    import pathlib

    import minidl.serialization as s

    text = pathlib.Path(s.__file__).read_text()
    assert "import pickle" not in text and "allow_pickle=True" not in text


# ----------------------------------------------------------------------------- files that are not files

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, flock and kill -9 are POSIX")


@posix_only
def test_save_refuses_to_replace_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"refusing to replace .*pipe.*: it is a FIFO \(named pipe\), not a regular"):
        md.save({"a": 1}, fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["pipe"]  # no temporary file either


@pytest.mark.parametrize("target_exists", [True, False])
def test_save_refuses_to_replace_a_symlink(tmp_path, target_exists):
    target = tmp_path / "real.npz"
    if target_exists:
        md.save({"a": 1}, target)
    link = tmp_path / "link.npz"
    os.symlink(target, link)
    with pytest.raises(ValueError, match=r"refusing to replace .*link\.npz.*: it is a symbolic link"):
        md.save({"a": 2}, link)
    assert os.path.islink(link) and os.readlink(link) == str(target)
    if target_exists:
        assert md.load(target) == {"a": 1} and md.load(link) == {"a": 1}  # loading through a link is fine
    assert sorted(os.listdir(tmp_path)) == sorted(["link.npz"] + (["real.npz"] if target_exists else []))


def test_save_checks_the_target_again_just_before_the_rename(tmp_path, monkeypatch):
    """A symlink that appears at ``path`` while the file is written is not replaced either."""
    path = tmp_path / "ck.npz"
    real_save = serialization.save_npz

    def save_then_plant_a_link(file, arrays):
        real_save(file, arrays)
        os.symlink(tmp_path / "elsewhere", path)

    monkeypatch.setattr(serialization, "save_npz", save_then_plant_a_link)
    with pytest.raises(ValueError, match="symbolic link"):
        md.save({"a": 1}, path)
    assert os.listdir(tmp_path) == ["ck.npz"] and os.path.islink(path)


@posix_only
def test_load_of_a_fifo_fails_at_once(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    result = []

    def try_load():
        try:
            md.load(fifo)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            result.append(exc)

    t = threading.Thread(target=try_load, daemon=True)
    t.start()
    t.join(timeout=30)
    if t.is_alive():  # a hang: open a writer to release the reader, then fail
        with open(fifo, "wb"):
            pass
        t.join()
        pytest.fail("md.load blocked on a FIFO")
    assert len(result) == 1 and isinstance(result[0], ValueError)
    assert "is a FIFO (named pipe), not a regular file" in str(result[0])


def test_load_of_a_folder_names_it(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder, not a checkpoint file"):
        md.load(tmp_path)


def test_save_into_a_read_only_folder_names_the_target(tmp_path, monkeypatch):
    """Tests may run as root, where permission bits do not apply: simulate the refusal."""
    real_open = os.open

    def no_write_permission(name, flags, *args):
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", name)
        return real_open(name, flags, *args)

    monkeypatch.setattr(serialization.os, "open", no_write_permission)
    path = tmp_path / "ck.npz"
    with pytest.raises(PermissionError) as info:
        md.save({"a": 1}, path)
    message = str(info.value)
    assert f"cannot write {str(path)!r}: Permission denied" in message
    assert ".tmp" not in message and "minidl-" not in message
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permission bits")
def test_save_into_a_really_read_only_folder_names_the_target(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match=r"cannot write .*ro/ck\.npz.*Permission denied"):
            md.save({"a": 1}, folder / "ck.npz")
    finally:
        folder.chmod(0o700)


def test_a_failing_rename_names_the_target(tmp_path, monkeypatch):
    def no_rename(src, dst):
        raise OSError(errno.EBUSY, "Device or resource busy", src)

    monkeypatch.setattr(serialization.os, "replace", no_rename)
    path = tmp_path / "ck.npz"
    with pytest.raises(OSError, match=r"cannot write .*ck\.npz.*: Device or resource busy") as info:
        md.save({"a": 1}, path)
    assert info.value.errno == errno.EBUSY
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- leftovers of killed saves


def _leftover(tmp_path, target, age_s):
    name = serialization._temp_prefix(str(target)) + "0123456789ab.tmp"
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 half a checkpoint")
    old = os.path.getmtime(path) - age_s
    os.utime(path, (old, old))
    return path


def test_next_save_removes_stale_temp_files_of_that_target_only(tmp_path):
    target = tmp_path / "ck.npz"
    stale = _leftover(tmp_path, target, age_s=3600)
    fresh = tmp_path / (serialization._temp_prefix(str(target)) + "fedcba987654.tmp")
    fresh.write_bytes(b"being written right now")
    other = _leftover(tmp_path, tmp_path / "other.npz", age_s=3600)
    unrelated = tmp_path / ".minidl-notmine.tmp"
    unrelated.write_bytes(b"x")
    md.save({"a": 1}, target)
    assert not stale.exists()
    assert fresh.exists() and other.exists() and unrelated.exists()
    assert md.load(target) == {"a": 1}


@posix_only
def test_a_locked_temp_file_is_never_removed(tmp_path):
    import fcntl

    target = tmp_path / "ck.npz"
    busy = _leftover(tmp_path, target, age_s=3600)
    with open(busy, "rb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # what a save that is still writing holds
        md.save({"a": 1}, target)
        assert busy.exists()
    md.save({"a": 2}, target)
    assert not busy.exists()


def test_a_symlink_named_like_a_temp_file_is_left_alone(tmp_path):
    target = tmp_path / "ck.npz"
    keep = tmp_path / "precious"
    keep.write_bytes(b"keep me")
    link = tmp_path / (serialization._temp_prefix(str(target)) + "0123456789ab.tmp")
    os.symlink(keep, link)
    md.save({"a": 1}, target)
    assert os.path.islink(link) and keep.read_bytes() == b"keep me"


@posix_only
def test_temp_file_of_a_killed_save_is_cleaned_up_by_the_next_save(tmp_path):
    """A real ``kill -9`` in the middle of writing; the next save to that path cleans up."""
    target = tmp_path / "ck.npz"
    script = (
        "import os, signal, sys\n"
        "import minidl as md\n"
        "from minidl import serialization\n"
        "def killed(file, arrays):\n"
        "    file.write(b'PK half a file'); file.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "serialization.save_npz = killed\n"
        "md.save({'w': [1, 2]}, sys.argv[1])\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-c", script, str(target)], env=env, timeout=120, check=False)
    assert proc.returncode == -signal.SIGKILL
    (left,) = os.listdir(tmp_path)
    assert left.startswith(serialization._temp_prefix(str(target))) and not target.exists()
    old = os.path.getmtime(tmp_path / left) - 60
    os.utime(tmp_path / left, (old, old))
    md.save({"w": [3]}, target)
    assert os.listdir(tmp_path) == ["ck.npz"]


# ----------------------------------------------------------------------------- hostile structures


def _checkpoint_with(path, structure: bytes, **arrays):
    np.savez(path, __minidl_structure__=np.frombuffer(structure, dtype=np.uint8), **arrays)


@pytest.mark.parametrize("depth", [150, 5000])
def test_deeply_nested_structure_is_a_value_error(tmp_path, depth):
    node = '{"t": "none"}'
    for _ in range(depth):
        node = '{"t": "list", "items": [' + node + "]}"
    root = '{"t": "dict", "items": [[{"k": "str", "v": "x"}, ' + node + "]]}"
    path = tmp_path / "deep.npz"
    _checkpoint_with(path, ('{"format": "minidl-checkpoint", "version": 1, "root": ' + root + "}").encode())
    with pytest.raises(ValueError, match=r"deep\.npz.*nested (too deeply|more than 100 levels)"):
        md.load(path)


def test_zip_member_that_is_not_npy_is_a_value_error(tmp_path):
    path = tmp_path / "odd.npz"
    md.save({"w": np.ones(2)}, path)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("notes.txt", b"hello")
    with pytest.raises(ValueError, match=r"odd\.npz.*member 'notes\.txt' that is not a \.npy array"):
        md.load(path)


def test_save_of_a_deeply_nested_list_is_a_value_error(tmp_path):
    deep: list = []
    for _ in range(3000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than 100 levels deep"):
        md.save({"x": deep}, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_save_of_a_huge_int_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match=r"obj\['n'\] is an int of 16610 bits, too large to save"):
        md.save({"n": 10**5000}, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_nesting_up_to_the_limit_round_trips(tmp_path):
    obj: dict = {"leaf": 1}
    for _ in range(serialization.MAX_DEPTH - 1):
        obj = {"k": obj}
    md.save(obj, tmp_path / "x.npz")
    assert md.load(tmp_path / "x.npz") == obj


def test_an_empty_path_is_refused_up_front(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="md.save: path is empty") as info:
        md.save({"a": np.zeros(2)}, "")
    assert os.path.dirname(str(tmp_path)) not in str(info.value)  # no temporary folder named
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match="md.load: path is empty"):
        md.load("")
