"""The activations of issue 13 (softplus, SiLU, SELU, hardtanh, ReLU6, logsigmoid, softsign):
each function to the op bar (``op_test``), stable at extreme inputs, and each function and
module against PyTorch for forward and gradients."""

import numpy as np
import pytest
from hypothesis import strategies as st

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import testing as T
from minidl.ops.activation import SELU_ALPHA, SELU_SCALE

wide = T.floats(-30, 30)


def np_sigmoid(x):
    return np.exp(-np.logaddexp(0, -x))


def np_softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.logaddexp(0, beta * x) / beta)


def softplus_kwargs(shapes):
    return st.fixed_dictionaries({"beta": st.sampled_from([0.5, 1.0, 3.0]), "threshold": st.sampled_from([2.0, 20.0])})


# away from softplus's switch to the identity at beta x = threshold (a small jump in slope)
test_softplus = T.op_test(F.softplus, np_softplus, kwargs=softplus_kwargs,
                          elements=T.away_from([4.0, 2.0, 2 / 3], 1e-2, -30, 30))
test_silu = T.op_test(F.silu, lambda x: x * np_sigmoid(x), elements=wide)
test_selu = T.op_test(F.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
                      elements=T.away_from([0.0], 1e-2, -30, 30))
test_hardtanh = T.op_test(
    F.hardtanh, lambda x, min_val, max_val: np.clip(x, min_val, max_val),
    elements=T.away_from([-1.0, 1.0, -0.5, 2.0], 1e-2),
    kwargs=lambda s: st.sampled_from([{"min_val": -1.0, "max_val": 1.0}, {"min_val": -0.5, "max_val": 2.0}]),
)
test_relu6 = T.op_test(F.relu6, lambda x: np.clip(x, 0, 6), elements=T.away_from([0.0, 6.0], 1e-2, -3, 9))
test_logsigmoid = T.op_test(F.logsigmoid, lambda x: -np.logaddexp(0, -x), elements=wide)
test_softsign = T.op_test(F.softsign, lambda x: x / (1 + np.abs(x)), elements=wide)

ALL = [F.softplus, F.silu, F.selu, F.hardtanh, F.relu6, F.logsigmoid, F.softsign]


@pytest.mark.parametrize("f", ALL, ids=[f.__name__ for f in ALL])
@pytest.mark.parametrize("dtype", [md.float32, md.float64])
def test_finite_at_extreme_inputs(f, dtype):
    # pytest's filterwarnings = error: an overflow warning inside the op fails this test too
    x = md.tensor([-1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4], dtype=dtype, requires_grad=True)
    y = f(x)
    y.sum().backward()
    assert y.dtype == dtype and np.isfinite(y.numpy()).all() and np.isfinite(x.grad).all()


def test_logsigmoid_keeps_its_tail_where_the_naive_form_gives_minus_inf():
    x = md.tensor([-200.0, -1e4])
    np.testing.assert_allclose(F.logsigmoid(x).numpy(), [-200.0, -1e4], rtol=1e-6)
    np.testing.assert_allclose(F.softplus(md.tensor([1e4]), threshold=1e9).numpy(), [1e4])


def test_hardtanh_relu6_gradient_is_zero_at_the_bounds():
    x = md.tensor([-1.0, 0.0, 1.0, 6.0], requires_grad=True)
    F.hardtanh(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0, 0.0])
    x.grad = None
    F.relu6(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0, 0.0])


def test_integer_inputs_become_float32():
    assert F.silu(md.tensor([1, 2])).dtype == md.float32


@pytest.mark.parametrize("call", [
    lambda: F.softplus(md.ones(2), beta=0.0), lambda: nn.Softplus(beta=-1.0), lambda: F.hardtanh(md.ones(2), 1.0, 1.0),
    lambda: nn.Hardtanh(2.0, 1.0), lambda: nn.SiLU(inplace=True), lambda: nn.SELU(inplace=True),
    lambda: nn.ReLU6(inplace=True), lambda: F.silu(md.ones(2), inplace=True),
    lambda: nn.LeakyReLU(0.2, inplace=True), lambda: nn.ELU(inplace=True), lambda: F.relu(md.ones(2), inplace=True),
    lambda: F.leaky_relu(md.ones(2), inplace=True), lambda: F.elu(md.ones(2), inplace=True),
])
def test_bad_arguments(call):
    with pytest.raises(ValueError):
        call()


def test_reprs():
    assert repr(nn.Softplus(beta=2.0)) == "Softplus(beta=2.0, threshold=20.0)"
    assert repr(nn.Hardtanh(-2.0, 2.0)) == "Hardtanh(min_val=-2.0, max_val=2.0)"
    assert repr(nn.ReLU6()) == "ReLU6()"


# ----------------------------------------------------------------------------- PyTorch oracle

MODULES = [
    ("Softplus", lambda: nn.Softplus(), lambda th: th.nn.Softplus()),
    ("Softplus_beta", lambda: nn.Softplus(beta=2.0, threshold=5.0), lambda th: th.nn.Softplus(beta=2.0, threshold=5.0)),
    ("SiLU", lambda: nn.SiLU(), lambda th: th.nn.SiLU()),
    ("SELU", lambda: nn.SELU(), lambda th: th.nn.SELU()),
    ("Hardtanh", lambda: nn.Hardtanh(), lambda th: th.nn.Hardtanh()),
    ("Hardtanh_bounds", lambda: nn.Hardtanh(-0.5, 2.0), lambda th: th.nn.Hardtanh(-0.5, 2.0)),
    ("ReLU6", lambda: nn.ReLU6(), lambda th: th.nn.ReLU6()),
    ("LogSigmoid", lambda: nn.LogSigmoid(), lambda th: th.nn.LogSigmoid()),
    ("Softsign", lambda: nn.Softsign(), lambda th: th.nn.Softsign()),
]
# values on both sides of every kink and bound, exactly at them (0, +-1, 6), and far out
X = np.concatenate([np.random.default_rng(0).uniform(-8, 8, 40), [-1.0, 0.0, 1.0, 6.0, 2.5, -40.0, 40.0, -0.5, 2.0]])


@pytest.mark.oracle
@pytest.mark.parametrize("name, make, make_ref", MODULES, ids=[m[0] for m in MODULES])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_modules_against_torch(torch, name, make, make_ref, dtype):
    xn = X.astype(dtype)
    gn = np.random.default_rng(1).standard_normal(xn.shape).astype(dtype)
    x, tx = md.tensor(xn, requires_grad=True), torch.tensor(xn, requires_grad=True)
    y, ty = make()(x), make_ref(torch)(tx)
    y.backward(gn)
    ty.backward(torch.from_numpy(gn))
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == "float64" else dict(rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **tol, err_msg=f"{name}: forward")
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), **tol, err_msg=f"{name}: gradient")


@pytest.mark.oracle
def test_functional_names_against_torch(torch):
    tf = torch.nn.functional
    pairs = [(F.softplus, tf.softplus), (F.silu, tf.silu), (F.selu, tf.selu), (F.hardtanh, tf.hardtanh),
             (F.relu6, tf.relu6), (F.logsigmoid, tf.logsigmoid), (F.softsign, tf.softsign)]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours(md.tensor(X)).numpy(), theirs(torch.from_numpy(X)).numpy(),
                                   rtol=1e-12, atol=1e-14, err_msg=ours.__name__)


def test_every_activation_takes_torchs_inplace_false():
    """Code written for PyTorch passes inplace=False (positionally too, as nn.LeakyReLU(0.2, False))."""
    x = md.tensor([-1.0, 2.0])
    for layer in [nn.LeakyReLU(0.2, False), nn.ELU(1.0, False), nn.ReLU(False), nn.SiLU(False)]:
        assert layer(x).shape == (2,)
    for y in [F.relu(x, inplace=False), F.leaky_relu(x, 0.2, False), F.elu(x, 1.0, False)]:
        assert y.shape == (2,)
