"""Activations: ELU, GELU, Step, Maxout (new ops) to the op bar, every activation module
against PyTorch, maxout fused vs its composition, erf against math.erf."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import testing as T
from minidl.ops.activation import erf

no_kink = T.away_from([0.0], margin=1e-2)


def np_erf(x):
    return np.vectorize(math.erf)(x)


def np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def np_gelu(x):
    return x * 0.5 * (1 + np_erf(x / math.sqrt(2)))


def np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


# ----------------------------------------------------------------------------- erf


def test_erf_matches_math_erf_in_float64():
    x = np.concatenate([np.linspace(-10, 10, 20001), [0.0, 2.9999999, 3.0, 3.0000001, -3.0, 1e-300]])
    np.testing.assert_allclose(erf(x), np_erf(x), rtol=0, atol=2e-15)
    assert erf(x.astype(np.float32)).dtype == np.float32
    assert erf(np.array([np.inf, -np.inf])).tolist() == [1.0, -1.0]


# ----------------------------------------------------------------------------- op bar

test_elu = T.op_test(F.elu, np_elu, elements=no_kink)
test_elu_alpha = T.op_test(lambda x: F.elu(x, alpha=0.3), lambda x: np_elu(x, 0.3), elements=no_kink)
test_gelu = T.op_test(F.gelu, np_gelu, elements=T.floats(-5, 5), rtol=1e-12, atol=1e-14)
test_gelu_tanh = T.op_test(lambda x: F.gelu(x, approximate="tanh"), np_gelu_tanh, elements=T.floats(-5, 5))


@st.composite
def maxout_shapes(draw):
    batch = draw(st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple))
    return ((*batch, draw(st.integers(1, 3)) * draw(st.sampled_from([1, 2, 3]))),)


def _np_maxout(x, pieces):
    return x.reshape(x.shape[:-1] + (x.shape[-1] // pieces, pieces)).max(axis=-1)


grid = st.integers(-24, 24).map(lambda k: k * 0.125 + 0.01)  # distinct values stay >= 0.125 apart


@given(data=st.data())
def test_maxout_op(data):
    pieces = data.draw(st.sampled_from([1, 2, 3]))
    batch = data.draw(st.lists(st.integers(1, 3), max_size=2).map(tuple))
    shape = (*batch, data.draw(st.integers(1, 3)) * pieces)
    x = data.draw(T.arrays(shape, grid, unique=True))  # no near-ties: the gradient is unique
    T.check_op(lambda t: F.maxout(t, pieces), lambda a: _np_maxout(a, pieces), x)


def test_elu_and_gelu_keep_float32():
    x = md.randn(4, 3, requires_grad=True)
    for f in (F.elu, F.gelu, lambda t: F.gelu(t, "tanh")):
        y = f(x)
        y.backward(np.ones((4, 3), np.float32))
        assert y.dtype == np.float32 and x.grad.dtype == np.float32


def test_gelu_bad_approximate():
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        F.gelu(md.randn(2), approximate="fast")
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        nn.GELU("erf")


# ----------------------------------------------------------------------------- step


def test_step_forward_and_backward_error():
    x = md.tensor([-2.0, -1e-9, 0.0, 0.5], requires_grad=True)
    y = nn.Step()(x)
    assert y.numpy().tolist() == [0.0, 0.0, 1.0, 1.0] and y.dtype == np.float32
    with pytest.raises(RuntimeError, match="not differentiable.*0 almost everywhere"):
        y.sum().backward()


def test_step_matches_torch_heaviside(torch):
    xn = np.array([-2.0, -0.0, 0.0, 1e-30, 3.0], dtype=np.float32)
    ref = torch.heaviside(torch.from_numpy(xn), torch.tensor(1.0)).numpy()
    np.testing.assert_array_equal(F.step(md.tensor(xn)).numpy(), ref)


def test_step_without_grad_is_fine_for_plots():
    with md.no_grad():
        assert F.step(md.linspace(-1, 1, 5)).numpy().tolist() == [0, 0, 1, 1, 1]


# ----------------------------------------------------------------------------- maxout


def test_maxout_module_equals_composition_of_primitives():
    layer = nn.Maxout(5, 3, pieces=4)
    x = md.randn(7, 5, requires_grad=True)
    y = layer(x)
    assert y.shape == (7, 3)
    g = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    y.backward(g)
    fused = [x.grad.copy(), layer.linear.weight.grad.copy(), layer.linear.bias.grad.copy()]
    x.grad = None
    layer.zero_grad()
    z = layer.linear(x)  # composite: linear, reshape, max over the pieces axis
    comp = md.max(z.reshape(7, 3, 4), dim=-1).values
    np.testing.assert_array_equal(comp.numpy(), y.numpy())
    comp.backward(g)
    for a, b in zip(fused, [x.grad, layer.linear.weight.grad, layer.linear.bias.grad]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@given(shape=maxout_shapes())
def test_maxout_module_gradcheck_all_parameters(shape):
    (xs,) = shape
    layer = nn.Maxout(xs[-1], 2, pieces=3).double()
    x = md.randn(*xs, dtype=md.float64, requires_grad=True)

    def f(x, w, b):
        return F.maxout(F.linear(x, w, b), 3)

    assert md.gradcheck(f, [x, layer.linear.weight, layer.linear.bias])


def test_maxout_ties_go_to_the_first_maximal_piece():
    x = md.tensor([[1.0, 3.0, 3.0, -1.0, 2.0, 2.0]], requires_grad=True)
    y = F.maxout(x, 3)
    assert y.numpy().tolist() == [[3.0, 2.0]]
    y.backward(np.array([[1.0, 10.0]], np.float32))
    assert x.grad.tolist() == [[0.0, 1.0, 0.0, 0.0, 10.0, 0.0]]


def test_maxout_two_pieces_can_be_relu():
    layer = nn.Maxout(1, 1, pieces=2)
    layer.load_state_dict({"linear.weight": [[1.0], [0.0]], "linear.bias": [0.0, 0.0]})
    x = md.linspace(-2, 2, 9).reshape(9, 1)
    np.testing.assert_array_equal(layer(x).numpy(), F.relu(x).numpy())


def test_maxout_two_pieces_contain_leaky_relu_with_twice_the_parameters():
    w1, b1, alpha = np.array([[1.5, -0.5]], np.float32), np.array([0.25], np.float32), 0.01
    layer = nn.Maxout(2, 1, pieces=2)
    layer.load_state_dict({"linear.weight": np.concatenate([w1, alpha * w1]),
                           "linear.bias": np.concatenate([b1, alpha * b1])})
    x = md.randn(50, 2)
    expected = F.leaky_relu(F.linear(x, md.tensor(w1), md.tensor(b1)), alpha)
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)
    assert layer.num_parameters() == 2 * nn.Linear(2, 1).num_parameters()


def test_maxout_errors():
    with pytest.raises(ValueError, match="not divisible by pieces=2"):
        F.maxout(md.randn(2, 5), 2)
    with pytest.raises(ValueError, match="positive int"):
        nn.Maxout(3, 2, pieces=0)


def test_maxout_against_torch_composition(torch):
    layer = nn.Maxout(4, 3, pieces=2)
    lin = torch.nn.Linear(4, 6)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(layer.linear.weight.numpy()))
        lin.bias.copy_(torch.from_numpy(layer.linear.bias.numpy()))
    xn = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    gn = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    x, tx = md.tensor(xn, requires_grad=True), torch.tensor(xn, requires_grad=True)
    y = layer(x)
    ty = lin(tx).view(5, 3, 2).max(dim=-1).values
    y.backward(gn)
    ty.backward(torch.from_numpy(gn))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.linear.weight.grad, lin.weight.grad.numpy(), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- modules vs torch

MODULES = [
    ("Sigmoid", lambda: nn.Sigmoid(), lambda t: t.nn.Sigmoid()),
    ("Tanh", lambda: nn.Tanh(), lambda t: t.nn.Tanh()),
    ("ReLU", lambda: nn.ReLU(), lambda t: t.nn.ReLU()),
    ("LeakyReLU", lambda: nn.LeakyReLU(), lambda t: t.nn.LeakyReLU()),
    ("LeakyReLU0.2", lambda: nn.LeakyReLU(0.2), lambda t: t.nn.LeakyReLU(0.2)),
    ("ELU", lambda: nn.ELU(), lambda t: t.nn.ELU()),
    ("ELU0.5", lambda: nn.ELU(alpha=0.5), lambda t: t.nn.ELU(alpha=0.5)),
    ("GELU", lambda: nn.GELU(), lambda t: t.nn.GELU()),
    ("GELUtanh", lambda: nn.GELU(approximate="tanh"), lambda t: t.nn.GELU(approximate="tanh")),
    ("Softmax0", lambda: nn.Softmax(dim=0), lambda t: t.nn.Softmax(dim=0)),
    ("Softmax1", lambda: nn.Softmax(dim=1), lambda t: t.nn.Softmax(dim=1)),
    ("LogSoftmax", lambda: nn.LogSoftmax(dim=1), lambda t: t.nn.LogSoftmax(dim=1)),
    ("Identity", lambda: nn.Identity(), lambda t: t.nn.Identity()),
]


@pytest.mark.parametrize("name,make,make_ref", MODULES, ids=[m[0] for m in MODULES])
def test_activation_modules_against_torch(torch, name, make, make_ref):
    rng = np.random.default_rng(0)
    xn = (rng.standard_normal((6, 5)) * 3).astype(np.float32)
    xn[0, :3] = [0.0, 30.0, -30.0]  # a kink and saturation
    gn = rng.standard_normal((6, 5)).astype(np.float32)
    x, tx = md.tensor(xn, requires_grad=True), torch.tensor(xn, requires_grad=True)
    y, ty = make()(x), make_ref(torch)(tx)
    (y * md.tensor(gn)).sum().backward()
    ty.backward(torch.from_numpy(gn))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_functional_names_against_torch(torch):
    xn = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    tx = torch.from_numpy(xn)
    tf = torch.nn.functional
    pairs = [(F.sigmoid(md.tensor(xn)), torch.sigmoid(tx)), (F.tanh(md.tensor(xn)), torch.tanh(tx)),
             (F.relu(md.tensor(xn)), tf.relu(tx)), (F.leaky_relu(md.tensor(xn), 0.1), tf.leaky_relu(tx, 0.1)),
             (F.elu(md.tensor(xn), 2.0), tf.elu(tx, 2.0)), (F.gelu(md.tensor(xn)), tf.gelu(tx)),
             (F.softmax(md.tensor(xn), dim=0), tf.softmax(tx, dim=0)),
             (F.log_softmax(md.tensor(xn), dim=-1), tf.log_softmax(tx, dim=-1))]
    for ours, ref in pairs:
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


def test_reprs():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.ELU()) == "ELU(alpha=1.0)"
    assert repr(nn.Step()) == "Step()"
    assert repr(nn.Maxout(4, 3, 2)).startswith(
        "Maxout(  # 30 parameters\n  in_features=4, out_features=3, pieces=2\n  (linear): Linear")
