"""nn.Linear / F.linear, nn.Identity, nn.Flatten: NumPy reference, gradcheck (input, weight
and bias) on hypothesis shapes, PyTorch oracle, default initialization statistics."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import testing as T


@st.composite
def linear_shapes(draw, bias=True):
    batch = draw(st.lists(st.integers(1, 4), min_size=0, max_size=2).map(tuple))
    n_in, n_out = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    shapes = ((*batch, n_in), (n_out, n_in))
    return shapes + ((n_out,),) if bias else shapes


test_linear_op = T.op_test(lambda x, w, b: F.linear(x, w, b), lambda x, w, b: x @ w.T + b,
                           shapes=linear_shapes(), n_inputs=3, rtol=1e-6)
test_linear_op_no_bias = T.op_test(lambda x, w: F.linear(x, w), lambda x, w: x @ w.T,
                                   shapes=linear_shapes(bias=False), n_inputs=2, rtol=1e-6)


@given(shapes=linear_shapes())
def test_linear_module_gradcheck_all_parameters(shapes):
    xs, ws, _ = shapes
    layer = nn.Linear(ws[1], ws[0]).double()
    x = md.randn(*xs, dtype=md.float64, requires_grad=True)
    assert md.gradcheck(lambda x, w, b: F.linear(x, w, b), [x, layer.weight, layer.bias])


def test_linear_shapes_and_repr():
    layer = nn.Linear(5, 3)
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (3,)
    assert layer.weight.dtype == np.float32
    assert layer(md.randn(7, 5)).shape == (7, 3)
    assert layer(md.randn(2, 4, 5)).shape == (2, 4, 3)
    assert layer(md.randn(5)).shape == (3,)
    assert nn.Linear(5, 3, bias=False).bias is None
    assert [n for n, _ in nn.Linear(5, 3, bias=False).named_parameters()] == ["weight"]


def test_linear_errors():
    with pytest.raises(ValueError, match="in_features=5"):
        nn.Linear(5, 3)(md.randn(2, 4))
    with pytest.raises(ValueError, match="non-negative int"):
        nn.Linear(2.5, 3)
    with pytest.raises(ValueError, match="bias must have shape"):
        F.linear(md.randn(2, 3), md.randn(4, 3), md.randn(3))


def test_linear_float32_stays_float32():
    layer = nn.Linear(4, 2)
    x = md.randn(3, 4, requires_grad=True)
    y = layer(x * 2.0)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32 and layer.weight.grad.dtype == np.float32


def test_linear_default_init_is_uniform_one_over_sqrt_fan_in():
    layer = nn.Linear(400, 500)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    n = w.size
    # U[-s, s]: mean 0, variance s^2/3; tolerances are 6 standard errors of the estimates
    assert abs(w.mean()) < 6 * bound / math.sqrt(3 * n)
    var_se = math.sqrt((bound**4 / 5 - bound**4 / 9) / n)  # sd of the sample mean of w^2
    assert abs(w.var() - bound**2 / 3) < 6 * var_se
    assert np.abs(w).max() > 0.99 * bound  # really uses the whole interval


def test_linear_with_no_inputs_has_a_zero_bias_like_torch():
    """in_features = 0: nothing to draw for the empty weight, and the bias interval
    [-1/sqrt(0), ...] is taken as [0, 0] (PyTorch's rule), so the layer outputs zeros."""
    layer = nn.Linear(0, 3)
    assert layer.weight.shape == (3, 0)
    np.testing.assert_array_equal(layer.bias.numpy(), np.zeros(3, dtype=np.float32))
    np.testing.assert_array_equal(layer(md.zeros(2, 0)).numpy(), np.zeros((2, 3), dtype=np.float32))


def test_linear_seeded_init_is_reproducible():
    md.manual_seed(3)
    a = nn.Linear(3, 2).weight.numpy().copy()
    md.manual_seed(3)
    np.testing.assert_array_equal(a, nn.Linear(3, 2).weight.numpy())


def test_linear_against_torch(torch):
    layer = nn.Linear(6, 4)
    ref = torch.nn.Linear(6, 4)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.numpy()))
        ref.bias.copy_(torch.from_numpy(layer.bias.numpy()))
    xn = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    gn = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    x = md.tensor(xn, requires_grad=True)
    tx = torch.tensor(xn, requires_grad=True)
    y, ty = layer(x), ref(tx)
    y.backward(gn)
    ty.backward(torch.from_numpy(gn))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.weight.grad, ref.weight.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.bias.grad, ref.bias.grad.numpy(), rtol=1e-5, atol=1e-5)
    # state_dict keys/shapes are PyTorch's, so weights transfer both ways
    sd = {k: v.detach().numpy() for k, v in ref.state_dict().items()}
    assert list(sd) == list(layer.state_dict())
    nn.Linear(6, 4).load_state_dict(sd)


def test_identity():
    x = md.randn(2, 3)
    assert nn.Identity(54, unused="x")(x) is x


@given(shape=T.shapes(min_dims=2, max_dims=4), data=st.data())
def test_flatten_matches_torch_semantics(shape, data):
    nd = len(shape)
    start = data.draw(st.integers(-nd, nd - 1))
    end = data.draw(st.integers(start % nd, nd - 1))
    x = np.random.default_rng(0).standard_normal(shape)
    y = nn.Flatten(start, end)(md.tensor(x))
    s, e = start % nd, end % nd
    expected = x.reshape(shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:])
    np.testing.assert_array_equal(y.numpy(), expected)


def test_flatten_default_keeps_batch():
    assert nn.Flatten()(md.randn(2, 3, 4, 5)).shape == (2, 60)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


@pytest.mark.parametrize("bad", [[1.0, 2.0, 3.0], None, np.ones(3, np.float32)])
def test_non_tensor_input_is_the_same_clear_type_error_as_conv2d(bad):
    """Linear, F.linear and conv2d refuse a list, None or a bare array with one message form."""
    kind = type(bad).__name__
    with pytest.raises(TypeError, match=rf"^linear: input must be a Tensor, got {kind} \(make one with md.tensor"):
        nn.Linear(3, 2)(bad)
    with pytest.raises(TypeError, match=rf"^linear: input must be a Tensor, got {kind}"):
        F.linear(bad, md.zeros(2, 3))
    with pytest.raises(TypeError, match=rf"^conv2d: input must be a Tensor, got {kind} \(make one with md.tensor"):
        F.conv2d(bad, md.zeros(1, 1, 1, 1))


def test_non_tensor_input_error_matches_torch_kind(torch):
    with pytest.raises(TypeError):
        torch.nn.Linear(3, 2)([1.0, 2.0, 3.0])


def test_linear_with_mixed_dtypes_promotes_by_the_dtype_rules():
    """The fast path (one dtype) is skipped when dtypes differ: the general rules promote,
    and each gradient keeps its own tensor's dtype."""
    import minidl.nn.functional as F

    x = md.tensor(np.ones((2, 3)), dtype=md.float64)
    w = md.tensor(np.full((4, 3), 0.5, dtype=np.float32), requires_grad=True)
    b = md.zeros(4, requires_grad=True)
    y = F.linear(x, w, b)
    assert y.dtype == md.float64
    np.testing.assert_array_equal(y.numpy(), np.full((2, 4), 1.5))
    y.sum().backward()
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad, np.full((4, 3), 2.0))
    assert F.linear(md.ones(2, 3), w, md.zeros(4, dtype=md.float64)).dtype == md.float64
