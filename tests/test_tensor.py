"""Tensor creation, dtype rules, conversion, in-place ops, printing, and clear errors."""

import datetime
import warnings

import numpy as np
import pytest

import minidl as md
from minidl import backend
from minidl.tensor import SUPPORTED_DTYPES

# ----------------------------------------------------------------------------- creation dtypes


@pytest.mark.parametrize("data, dtype", [
    (1.5, np.float32), ([[1.0, 2.0]], np.float32), ([1, 2], np.int64), (3, np.int64),
    ([True, False], np.bool_), ([1, 2.5], np.float32),
    (np.array([1.0, 2.0]), np.float64), (np.array([1, 2], dtype=np.int32), np.int32),
    (np.float64(2.0), np.float64), (np.array([1.0], dtype=np.float16), np.float16),
])
def test_tensor_dtype_follows_pytorch(data, dtype):
    assert md.tensor(data).dtype == dtype


def test_dtype_argument_overrides():
    assert md.tensor([1, 2], dtype=md.float64).dtype == np.float64
    assert md.tensor(np.ones(2), dtype="float32").dtype == np.float32


def test_tensor_copies_its_input_array():
    a = np.ones(3, dtype=np.float32)
    t = md.tensor(a)
    a[0] = 5
    assert t.numpy()[0] == 1.0


@pytest.mark.parametrize("factory", [md.zeros, md.ones, md.rand, md.randn])
def test_float_factories_default_to_float32_and_accept_both_shape_styles(factory):
    assert factory(2, 3).shape == (2, 3) and factory((2, 3)).shape == (2, 3)
    assert factory(2).dtype == np.float32
    assert factory(2, dtype=md.float64).dtype == np.float64
    assert factory(2, requires_grad=True).requires_grad


def test_other_factories():
    assert md.arange(3).dtype == np.int64 and md.arange(0.0, 1.0, 0.5).dtype == np.float32
    np.testing.assert_array_equal(md.arange(1, 7, 2).numpy(), [1, 3, 5])
    np.testing.assert_array_equal(md.eye(2).numpy(), np.eye(2))
    assert md.full((2, 2), 7.0).numpy().sum() == 28
    x = md.randn(3, dtype=md.float64)
    assert md.zeros_like(x).dtype == np.float64 and md.ones_like(x).shape == (3,)
    assert md.linspace(0, 1, 5).numpy()[-1] == 1.0
    assert sorted(md.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    r = md.randint(0, 3, (100,))
    assert r.dtype == np.int64 and set(r.tolist()) <= {0, 1, 2}


def test_manual_seed_makes_random_tensors_reproducible():
    md.manual_seed(42)
    a = md.randn(5).numpy()
    md.manual_seed(42)
    np.testing.assert_array_equal(a, md.randn(5).numpy())
    assert not np.array_equal(a, md.randn(5).numpy())


def test_randn_statistics():
    x = md.randn(200_000, dtype=md.float64).numpy()
    # 5 standard errors of the mean (1/sqrt(n)) and of the std (~1/sqrt(2n))
    assert abs(x.mean()) < 5 / np.sqrt(x.size)
    assert abs(x.std() - 1) < 5 / np.sqrt(2 * x.size)


# ----------------------------------------------------------------------------- dtype promotion


@pytest.mark.parametrize("other", [2.0, 2, np.float64(2.0), np.array(2.0), np.int64(2), True])
def test_float32_tensor_with_scalars_stays_float32(other):
    x = md.tensor([1.0, 2.0], requires_grad=True)
    for y in (x * other, other * x, x + other, other - x, x / other, x ** 2.0):
        assert y.dtype == np.float32
    (x * other).sum().backward()
    assert x.grad.dtype == np.float32


def test_float32_with_0d_float64_tensor_stays_float32():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    s = md.tensor(np.array(3.0))  # 0-d float64
    y = x * s
    assert y.dtype == np.float32


def test_float32_with_float64_tensor_promotes_and_gradient_keeps_each_dtype():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    w = md.tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = x * w
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, [3.0, 4.0])


def test_integer_tensor_with_float_scalar_gives_float32():
    i = md.tensor([1, 2])
    assert (i * 0.5).dtype == np.float32
    assert (i * 2).dtype == np.int64
    assert (i / 2).dtype == np.float32
    assert md.exp(i).dtype == np.float32


def test_float_tensor_with_integer_tensor_or_list_keeps_the_float_dtype():
    x = md.tensor([1.0, 2.0])
    assert (x * md.tensor([1, 2])).dtype == np.float32
    assert (x * [1, 2]).dtype == np.float32
    assert (md.tensor([1, 2]) + md.tensor([True, False])).dtype == np.int64
    assert (x * np.array([1.0, 2.0])).dtype == np.float64  # a real float64 array does promote


def test_float32_survives_a_whole_training_step():
    md.manual_seed(0)
    w = md.randn(3, 2, requires_grad=True)
    b = md.zeros(2, requires_grad=True)
    x = md.tensor(np.random.default_rng(0).standard_normal((4, 3)))  # float64 data ...
    x = x.float()                                                 # ... converted once
    y = md.tensor(np.array([0, 1, 1, 0]))
    logits = (x @ w + b).tanh() * np.float64(2.0) + np.array(0.5)
    loss = -(logits.log_softmax(axis=1)[md.arange(4), y]).mean() + 1e-3 * (w * w).sum()
    assert loss.dtype == np.float32
    loss.backward()
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32
    with md.no_grad():
        w -= 0.1 * w.grad
        b.sub_(b.grad, alpha=np.float64(0.1))
    assert w.dtype == np.float32 and b.dtype == np.float32


# ----------------------------------------------------------------------------- properties


def test_properties():
    x = md.zeros(2, 3, requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dtype == md.float32
    assert x.device == "cpu" and x.is_leaf and x.requires_grad and x.grad is None
    assert len(x) == 2 and x.numel() == 6 and x.size(1) == 3
    y = x * 2
    assert not y.is_leaf and y.grad_fn.name == "Mul"


def test_conversion():
    x = md.tensor([[1.5, 2.5]])
    assert isinstance(x.numpy(), np.ndarray) and x.tolist() == [[1.5, 2.5]]
    assert md.tensor(3.5).item() == 3.5 and float(md.tensor([2.0])) == 2.0
    with pytest.raises(ValueError, match="single-element"):
        x.item()
    np.testing.assert_array_equal(np.asarray(x), x.numpy())
    assert x.to("cpu") is x and x.cpu() is x
    assert x.to(md.float64).dtype == np.float64 and x.double().dtype == np.float64
    assert x.long().dtype == np.int64


def test_numpy_scalar_on_the_left_keeps_the_graph():
    x = md.tensor([1.0], requires_grad=True)
    y = np.float64(2.0) * x
    assert isinstance(y, md.Tensor) and y.requires_grad


def test_repr():
    assert repr(md.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(md.tensor([1.0], requires_grad=True))
    assert "grad_fn=<Mul>" in repr(md.tensor([1.0], requires_grad=True) * 2)
    assert "dtype=float64" in repr(md.tensor(np.ones(1)))


def test_bool_and_iteration():
    assert bool(md.tensor([1.0])) and not bool(md.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(md.tensor([1.0, 2.0]))
    rows = list(md.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert len(rows) == 2 and rows[1].tolist() == [3.0, 4.0]


def test_tensors_hash_by_identity():
    a, b = md.tensor([1.0]), md.tensor([1.0])
    assert len({a, b}) == 2 and a in {a}


def test_setitem_in_place():
    x = md.zeros(3)
    x[1] = 5.0
    x[md.tensor([0, 2])] = md.tensor([1.0, 2.0])
    assert x.tolist() == [1.0, 5.0, 2.0]


# ----------------------------------------------------------------------------- clear errors


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not match"):
        md.ones(2, 3) @ md.ones(4, 5)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        md.matmul(md.tensor(1.0), md.ones(2))


def test_broadcast_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        md.ones(2, 3) + md.ones(4)
    with pytest.raises(ValueError, match=r"mul: shapes"):
        md.ones(2, 3) * md.ones(2)


def test_shape_op_errors_are_clear():
    with pytest.raises(ValueError, match=r"cannot reshape a tensor of shape \(2, 3\).*into \(4,\)"):
        md.ones(2, 3).reshape(4)
    with pytest.raises(ValueError, match="out of range"):
        md.ones(2).sum(axis=3)
    with pytest.raises(ValueError, match="concatenate: shapes"):
        md.concatenate([md.ones(2, 3), md.ones(3, 2)], axis=0)
    with pytest.raises(ValueError, match="stack: all shapes must be equal"):
        md.stack([md.ones(2), md.ones(3)])
    with pytest.raises(IndexError, match=r"shape \(3,\)"):
        md.ones(3)[5]


def test_unsupported_operand_is_a_type_error():
    with pytest.raises(TypeError, match="unsupported operand type str"):
        md.ones(2) + "a"
    with pytest.raises(TypeError, match="cannot make a tensor"):
        md.tensor("hello")
    with pytest.raises(TypeError, match="not a dtype"):
        md.ones(2, dtype="no-such-dtype")


class _FakeGPUArray(np.ndarray):
    """A NumPy array that claims to live on a GPU (to test device checks without one)."""


@pytest.fixture
def fake_gpu(monkeypatch):
    real = backend.device_of
    monkeypatch.setattr(backend, "device_of", lambda a: "cuda:0" if isinstance(a, _FakeGPUArray) else real(a))

    def make(values):
        t = md.tensor(values)
        t.data = t.data.view(_FakeGPUArray)
        return t
    return make


def test_mixing_devices_is_a_clear_error(fake_gpu):
    cpu = md.tensor([1.0, 2.0])
    gpu = fake_gpu([1.0, 2.0])
    assert gpu.device == "cuda:0"
    for op in (lambda: cpu + gpu, lambda: gpu * cpu, lambda: md.concatenate([cpu, gpu]),
               lambda: md.maximum(cpu, gpu)):
        with pytest.raises(RuntimeError, match=r"different devices.*cpu.*cuda:0|different devices.*cuda:0.*cpu"):
            op()
    with pytest.raises(RuntimeError, match="cuda:0"):
        cpu.add_(gpu)


def test_moving_to_gpu_without_cupy_is_a_clear_error():
    if md.cupy_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="cupy|cuda"):
        md.tensor([1.0]).to("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        md.tensor([1.0]).to("tpu")


# ----------------------------------------------------------------------------- unsupported dtypes

@pytest.mark.parametrize("data,shown", [
    (np.array(["a", "b"]), "<U1"),
    (np.array([object(), 1], dtype=object), "object"),
    (np.array(["2020-01-01"], dtype="datetime64[D]"), "datetime64[D]"),
    (np.array([datetime.timedelta(1)], dtype="timedelta64[s]"), "timedelta64[s]"),
    (np.array([1 + 2j]), "complex128"),
    (np.complex64(1j), "complex64"),
])
def test_tensor_of_an_unsupported_array_is_refused_at_once(data, shown):
    with pytest.raises(TypeError) as info:
        md.tensor(data)
    message = str(info.value)
    assert f"of dtype {shown}; supported dtypes: {SUPPORTED_DTYPES}" in message
    assert "float32" in message and "int64" in message and "bool" in message


@pytest.mark.parametrize("data", [["a", "b"], "abc", [1 + 2j], [datetime.date(2020, 1, 1)]])
def test_tensor_of_unsupported_python_data_names_the_supported_dtypes(data):
    with pytest.raises(TypeError, match="supported dtypes: bool, int8"):
        md.tensor(data)


def test_unsupported_dtype_argument_is_refused():
    with pytest.raises(TypeError, match="from dtype= complex64; supported dtypes"):
        md.tensor([1.0, 2.0], dtype="complex64")


def test_torch_refuses_the_same_string_array(torch):
    with pytest.raises(TypeError, match="supported types"):
        torch.tensor(np.array(["a"]))


@pytest.mark.parametrize("data, expected", [
    ([np.float64(1.5)], "float64"), ([np.float64(1.5), 2.0], "float64"), ([2.0, np.float64(1.5)], "float64"),
    ([np.float32(1.5)], "float32"), ([np.float32(1), np.float64(2)], "float64"), ([np.int32(1)], "int32"),
    ([np.int32(1), 2], "int64"), ([np.int32(1), 2.0], "float32"), ([np.float16(1), 2.0], "float32"),
    ([[np.float64(1)], [2.0]], "float64"), ([np.array([1.0, 2.0])], "float64"), ([np.uint8(3)], "uint8"),
    ([[1.0, 2.0], [3.0, 4.0]], "float32"), ([1, 2], "int64"), ([True, 2], "int64"), ([True, 2.5], "float32"),
    ([True, False], "bool"), ([], "float32"), ([[]], "float32"), ([(1, 2), (3, np.float16(1))], "float16"),
])
def test_tensor_infers_list_dtypes_as_torch_does(data, expected):
    """Python floats are float32 and ints int64, NumPy scalars and arrays keep their dtype, and
    the entries join by PyTorch's rule (float beats int, keeping its own dtype)."""
    assert md.tensor(data).dtype == expected
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():  # torch warns that a list of arrays is slow to convert
        warnings.simplefilter("ignore", UserWarning)
        assert str(torch.tensor(data).dtype) == f"torch.{expected}"
