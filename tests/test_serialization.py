"""md.save / md.load: exact round trips of nested structures (int keys, tuples, scalars),
Module and optimizer-style state dicts, atomic writes, and every refusal with its message."""

import math
import os
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
