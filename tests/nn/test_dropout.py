"""Dropout: inverted (nn.Dropout, PyTorch's) and the slide's scale-at-test variant; eval
never drops; both keep the expected activation; gradcheck with a fixed mask."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import testing as T
from minidl.functional import masked_scale


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), True, "0.5"])
def test_bad_probability_is_a_clear_error(p):
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        F.dropout(md.ones(3), p)


@pytest.mark.parametrize("mode", ["inverted", "scale_at_test"])
def test_p_one_drops_everything_like_torch(mode):
    x = md.randn(4, 5, requires_grad=True)
    y = F.dropout(x, 1.0, mode=mode)
    np.testing.assert_array_equal(y.numpy(), np.zeros((4, 5), np.float32))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((4, 5), np.float32))
    assert nn.Dropout(1).eval()(x) is x  # eval: identity, as for any p


def test_bad_mode_and_inplace():
    with pytest.raises(ValueError, match="'inverted' or 'scale_at_test'"):
        F.dropout(md.ones(3), 0.5, mode="upscale")
    with pytest.raises(ValueError, match="inplace=True"):
        F.dropout(md.ones(3), 0.5, True, True)


def test_inverted_training_drops_about_p_and_scales_kept_units():
    p = 0.3
    x = md.ones(200, 500)
    y = nn.Dropout(p)(x).numpy()
    kept = y != 0
    n = y.size
    assert abs((1 - kept.mean()) - p) < 6 * math.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)
    assert y.dtype == np.float32


def test_scale_at_test_training_does_not_scale():
    y = F.dropout(md.full((100, 100), 2.0), 0.5, mode="scale_at_test").numpy()
    assert set(np.unique(y).tolist()) == {0.0, 2.0}


def test_eval_never_drops():
    layer = nn.Dropout(0.9).eval()
    x = md.randn(50, 50)
    for _ in range(3):
        assert layer(x) is x
    assert F.dropout(x, 0.9, training=False) is x
    np.testing.assert_allclose(F.dropout(x, 0.9, training=False, mode="scale_at_test").numpy(),
                               x.numpy() * np.float32(0.1), rtol=1e-6)
    assert F.dropout(x, 0.9, training=False, mode="scale_at_test").dtype == np.float32


def test_model_eval_switches_dropout_off():
    net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    x = md.randn(8, 4)
    net.eval()
    np.testing.assert_array_equal(net(x).numpy(), net[0](x).numpy())
    net.train()
    assert (net(md.ones(64, 4) * 10).numpy() == 0).any()


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_both_modes_have_the_same_expected_activation_as_at_test_time(p):
    """E[train output] == test output, for each convention (the reason both exist)."""
    x = md.tensor(np.linspace(0.5, 2.0, 8, dtype=np.float32))
    reps = 4000
    big = md.broadcast_to(x, (reps, 8))
    for mode in ("inverted", "scale_at_test"):
        train_mean = F.dropout(big, p, training=True, mode=mode).numpy().mean(axis=0)
        test = F.dropout(x, p, training=False, mode=mode).numpy()
        # per-unit std of one training sample is scale * x * sqrt(p (1 - p)); 6 standard errors
        scale = 1 / (1 - p) if mode == "inverted" else 1.0
        tol = 6 * scale * x.numpy() * math.sqrt(p * (1 - p) / reps)
        assert np.all(np.abs(train_mean - test) < tol), (mode, train_mean, test)
    # and the two test-time outputs differ exactly by the factor (1 - p)
    np.testing.assert_allclose(F.dropout(x, p, False, mode="scale_at_test").numpy(), (1 - p) * x.numpy(), rtol=1e-6)


def test_p_zero_is_identity():
    x = md.randn(3, 3)
    assert F.dropout(x, 0.0) is x


def test_seeded_masks_are_reproducible():
    md.manual_seed(7)
    a = F.dropout(md.ones(10, 10), 0.5).numpy()
    md.manual_seed(7)
    np.testing.assert_array_equal(a, F.dropout(md.ones(10, 10), 0.5).numpy())
    assert not np.array_equal(a, F.dropout(md.ones(10, 10), 0.5).numpy())


def test_gradient_is_the_mask():
    x = md.randn(20, 30, requires_grad=True)
    y = F.dropout(x, 0.25)
    y.sum().backward()
    mask = y.numpy() / x.numpy()
    np.testing.assert_allclose(x.grad, mask, rtol=1e-5)
    assert x.grad.dtype == np.float32
    assert np.unique(x.grad).tolist() == [0.0, np.float32(1 / 0.75)]


@given(shape=T.shapes(min_dims=1, max_dims=3), p=st.sampled_from([0.1, 0.5, 0.7]),
       mode=st.sampled_from(["inverted", "scale_at_test"]))
def test_dropout_gradcheck_with_fixed_mask(shape, p, mode):
    x = md.randn(*shape, dtype=md.float64, requires_grad=True)

    def f(x):
        md.manual_seed(11)  # the same mask on every call of gradcheck
        return F.dropout(x, p, mode=mode)

    assert md.gradcheck(f, [x])


@given(shape=T.shapes(min_dims=0, max_dims=3))
def test_masked_scale_op_bar(shape):
    mask = (np.random.default_rng(0).random(shape) > 0.5) * 2.0
    x = np.random.default_rng(1).standard_normal(shape)
    T.check_op(lambda t: masked_scale(t, mask), lambda a: a * mask, x)


def test_masked_scale_shape_error():
    with pytest.raises(ValueError, match="mask shape"):
        masked_scale(md.ones(3), np.ones(4))


def test_same_scaling_convention_as_torch(torch):
    xn = np.random.default_rng(0).standard_normal((50, 50)).astype(np.float32)
    ref = torch.nn.functional.dropout(torch.from_numpy(xn), 0.4, training=True).numpy()
    ours = F.dropout(md.tensor(xn), 0.4).numpy()
    for y in (ref, ours):
        kept = y != 0
        np.testing.assert_allclose(y[kept], xn[kept] / 0.6, rtol=1e-6)
    assert repr(nn.Dropout(0.4)) == "Dropout(p=0.4)"
