"""nn.utils.clip_grad_norm_ / clip_grad_value_ vs closed forms and PyTorch."""

import math

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn


def params_with_grads(seed=0, scale=3.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    ps = []
    for shape in [(3, 4), (4,), (2, 2, 2)]:
        p = md.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
        p.grad = (scale * rng.standard_normal(shape)).astype(dtype)
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_closed_form(norm_type, max_norm):
    ps = params_with_grads()
    before = [p.grad.copy() for p in ps]
    flat = np.concatenate([g.ravel() for g in before])
    want_total = np.abs(flat).max() if norm_type == math.inf else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
    assert total == pytest.approx(want_total, rel=1e-12)
    coef = min(1.0, max_norm / (want_total + 1e-6))
    for p, g in zip(ps, before):
        np.testing.assert_allclose(p.grad, g * coef, rtol=1e-12)
    if max_norm < want_total:
        flat2 = np.concatenate([p.grad.ravel() for p in ps])
        n2 = np.abs(flat2).max() if norm_type == math.inf else (np.abs(flat2) ** norm_type).sum() ** (1 / norm_type)
        assert n2 == pytest.approx(max_norm, rel=1e-5)


@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_clip_grad_norm_matches_torch(torch, norm_type):
    ps = params_with_grads(dtype=np.float32)
    tps = []
    for p in ps:
        t = torch.nn.Parameter(torch.from_numpy(np.array(p.data)))
        t.grad = torch.from_numpy(p.grad.copy())
        tps.append(t)
    total = nn.utils.clip_grad_norm_(ps, 1.0, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, 1.0, norm_type)
    assert total == pytest.approx(float(ttotal), rel=1e-5)
    for p, t in zip(ps, tps):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-5, atol=1e-7)
        assert p.grad.dtype == np.float32


def test_clip_grad_value_matches_torch(torch):
    ps = params_with_grads(dtype=np.float32)
    tps = []
    for p in ps:
        t = torch.nn.Parameter(torch.from_numpy(np.array(p.data)))
        t.grad = torch.from_numpy(p.grad.copy())
        tps.append(t)
    nn.utils.clip_grad_value_(ps, 0.7)
    torch.nn.utils.clip_grad_value_(tps, 0.7)
    for p, t in zip(ps, tps):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())


def test_clip_grad_value_closed_form_and_skips_none():
    ps = params_with_grads()
    ps.append(md.tensor([1.0], requires_grad=True))
    before = [p.grad.copy() for p in ps[:3]]
    nn.utils.clip_grad_value_(ps, 0.5)
    for p, g in zip(ps, before):
        np.testing.assert_array_equal(p.grad, np.clip(g, -0.5, 0.5))
    assert ps[3].grad is None


def test_clip_grad_norm_nonfinite_error():
    p = md.tensor([1.0, 2.0], requires_grad=True)
    p.grad = np.array([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_norm_nonfinite_spreads_like_torch():
    """Without error_if_nonfinite, a bad gradient cannot go unnoticed (as in PyTorch): a NaN
    makes the coefficient NaN and every gradient NaN; an inf makes it 0, so finite entries
    become 0 and the inf itself NaN (inf * 0)."""
    p, q = md.tensor([1.0, 2.0], requires_grad=True), md.tensor([3.0], requires_grad=True)
    p.grad, q.grad = np.array([np.nan, 1.0], dtype=np.float32), np.array([0.5], dtype=np.float32)
    assert np.isnan(nn.utils.clip_grad_norm_([p, q], 1.0))
    assert np.isnan(p.grad).all() and np.isnan(q.grad).all()
    p.grad, q.grad = np.array([np.inf, 1.0], dtype=np.float32), np.array([0.5], dtype=np.float32)
    assert nn.utils.clip_grad_norm_([p, q], 1.0) == np.inf
    assert np.isnan(p.grad[0]) and p.grad[1] == 0.0 and q.grad[0] == 0.0


def test_clip_grad_norm_nonfinite_matches_torch(torch):
    for bad in (np.nan, np.inf):
        g = np.array([bad, 1.0, -2.0], dtype=np.float32)
        p = md.tensor(np.zeros(3, np.float32), requires_grad=True)
        p.grad = g.copy()
        t = torch.nn.Parameter(torch.zeros(3))
        t.grad = torch.tensor(g)
        ours = nn.utils.clip_grad_norm_([p], 1.0)
        theirs = torch.nn.utils.clip_grad_norm_([t], 1.0)
        np.testing.assert_array_equal(p.grad, t.grad.numpy())
        assert (np.isnan(ours) and np.isnan(theirs.item())) or ours == theirs.item()


def test_clip_grad_norm_inf_sees_a_nan_in_any_gradient():
    """max over the gradients' peaks must not skip a NaN (Python's max would, order-dependently)."""
    p, q = md.tensor([0.0, 0.0], requires_grad=True), md.tensor([0.0], requires_grad=True)
    p.grad, q.grad = np.array([3.0, 4.0], dtype=np.float32), np.array([np.nan], dtype=np.float32)
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p, q], 1.0, norm_type=float("inf"), error_if_nonfinite=True)
    assert np.isnan(nn.utils.clip_grad_norm_([p, q], 1.0, norm_type=float("inf")))
    assert np.isnan(p.grad).all() and np.isnan(q.grad).all()
