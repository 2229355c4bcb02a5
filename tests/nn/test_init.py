"""nn.init: statistics on large tensors (tolerances from the sample size), fans and gains
against PyTorch, in-place semantics, errors."""

import math

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
from minidl.nn import init

SHAPES = [(300, 200), (64, 32, 3, 3), (500, 40)]


def fans(shape):
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def check_normal(w, mean, std):
    w = w.numpy().astype(np.float64)
    n = w.size
    assert abs(w.mean() - mean) < 6 * std / math.sqrt(n), (w.mean(), mean)
    assert abs(w.std() - std) < 6 * std / math.sqrt(2 * n), (w.std(), std)


def check_uniform(w, a, b):
    w = w.numpy().astype(np.float64)
    n = w.size
    assert w.min() >= a and w.max() <= b
    s = (b - a) / 2
    assert abs(w.mean() - (a + b) / 2) < 6 * s / math.sqrt(3 * n)
    var = s * s / 3  # U[-s, s] has variance s^2/3
    se = math.sqrt((s**4 / 5 - var**2) / n)
    assert abs(w.var() - var) < 6 * se, (w.var(), var)


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_linear_and_conv(shape):
    assert init._calculate_fan_in_and_fan_out(md.zeros(*shape)) == fans(shape)


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init._calculate_fan_in_and_fan_out(md.zeros(5))


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_torch(torch, shape):
    assert init._calculate_fan_in_and_fan_out(md.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))


@pytest.mark.parametrize("name,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                        ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_gains_match_torch(torch, name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-15)


def test_gain_values_and_errors():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "x")


@pytest.mark.parametrize("shape", SHAPES)
def test_xavier_uniform(shape):
    fi, fo = fans(shape)
    s = 2.0 * math.sqrt(6 / (fi + fo))
    check_uniform(init.xavier_uniform_(md.zeros(*shape), gain=2.0), -s, s)


@pytest.mark.parametrize("shape", SHAPES)
def test_xavier_normal(shape):
    fi, fo = fans(shape)
    check_normal(init.xavier_normal_(md.zeros(*shape)), 0.0, math.sqrt(2 / (fi + fo)))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming_normal_relu(shape, mode):
    fan = fans(shape)[0 if mode == "fan_in" else 1]
    w = init.kaiming_normal_(md.zeros(*shape), mode=mode, nonlinearity="relu")
    check_normal(w, 0.0, math.sqrt(2 / fan))  # He: Var(w) = 2 / fan


@pytest.mark.parametrize("shape", SHAPES)
def test_kaiming_uniform_default_and_linear_default(shape):
    fi, _ = fans(shape)
    bound = math.sqrt(2) * math.sqrt(3 / fi)  # a=0: leaky_relu with slope 0 is ReLU, gain sqrt(2)
    check_uniform(init.kaiming_uniform_(md.zeros(*shape)), -bound, bound)
    # a = sqrt(5) (PyTorch's Linear/Conv default) is U[-1/sqrt(fan_in), 1/sqrt(fan_in)]
    check_uniform(init.kaiming_uniform_(md.zeros(*shape), a=math.sqrt(5)), -1 / math.sqrt(fi), 1 / math.sqrt(fi))


@pytest.mark.parametrize("shape", SHAPES)
def test_lecun_normal(shape):
    check_normal(init.lecun_normal_(md.zeros(*shape)), 0.0, 1 / math.sqrt(fans(shape)[0]))


def test_plain_distributions_and_constants():
    check_normal(init.normal_(md.zeros(400, 300), mean=1.5, std=0.2), 1.5, 0.2)
    check_uniform(init.uniform_(md.zeros(400, 300), -0.5, 2.0), -0.5, 2.0)
    assert (init.zeros_(md.ones(3, 2)).numpy() == 0).all()
    assert (init.ones_(md.zeros(3)).numpy() == 1).all()
    assert (init.constant_(md.zeros(2, 2), 0.25).numpy() == 0.25).all()
    w = init.trunc_normal_(md.zeros(300, 300), std=1.0, a=-1.0, b=1.5)
    assert w.numpy().min() >= -1.0 and w.numpy().max() <= 1.5


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (8, 4, 3, 3)])
def test_orthogonal(shape):
    w = init.orthogonal_(md.zeros(*shape), gain=2.0).numpy().reshape(shape[0], -1).astype(np.float64)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-5)


def test_in_place_on_parameters_keeps_object_and_dtype():
    layer = nn.Linear(10, 5)
    w = layer.weight
    arr = w.data
    out = init.kaiming_normal_(layer.weight, nonlinearity="relu")
    assert out is w and w.data is arr and w.dtype == np.float32 and w.requires_grad
    d = md.zeros(10, 10, dtype=md.float64)
    assert init.xavier_uniform_(d).dtype == np.float64


def test_init_is_seeded():
    md.manual_seed(1)
    a = init.normal_(md.zeros(5, 5)).numpy().copy()
    md.manual_seed(1)
    np.testing.assert_array_equal(a, init.normal_(md.zeros(5, 5)).numpy())


def test_init_errors():
    with pytest.raises(ValueError, match="'fan_in' or 'fan_out'"):
        init.kaiming_uniform_(md.zeros(3, 3), mode="fan_avg")
    with pytest.raises(TypeError, match="floating-point"):
        init.normal_(md.zeros(3, 3, dtype=md.int64))
    with pytest.raises(TypeError, match="expected a Tensor"):
        init.normal_(np.zeros(3))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(md.zeros(4))
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(md.zeros(2), 1.0, 0.0)
    with pytest.raises(ValueError, match="fan is 0"):
        init.kaiming_uniform_(md.zeros(3, 0))


def test_same_std_as_torch_initializers(torch):
    """Same formula as PyTorch: sample stds of ours and theirs agree on big tensors."""
    shape = (256, 128, 3)
    pairs = [
        (lambda t: init.xavier_uniform_(t, gain=1.5), lambda t: torch.nn.init.xavier_uniform_(t, gain=1.5)),
        (init.xavier_normal_, torch.nn.init.xavier_normal_),
        (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)),
         lambda t: torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5))),
        (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
         lambda t: torch.nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")),
    ]
    n = int(np.prod(shape))
    for ours, theirs in pairs:
        a = ours(md.zeros(*shape)).numpy().std()
        b = theirs(torch.zeros(*shape)).numpy().std()
        assert abs(a - b) < 8 * b / math.sqrt(2 * n)
