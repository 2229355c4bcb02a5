"""Core ops against PyTorch CPU on the same values (skipped when torch is not importable).

Each case builds the same expression in minidl and in torch from identical float64 inputs,
with the same random upstream gradient, and compares the output and every input gradient.
"""

import numpy as np
import pytest

import minidl as md
from tests.oracle import check_against_torch

pytestmark = pytest.mark.oracle

rng = np.random.default_rng(0)
A = rng.standard_normal((4, 5))
B = rng.standard_normal((5, 3))
P = rng.uniform(0.5, 2.0, (4, 5))
V = rng.standard_normal(5)

# (name, inputs, minidl expression, torch expression taking the torch module first)
CASES = [
    ("add_broadcast", [A, V], lambda a, v: a + v, lambda th, a, v: a + v),
    ("sub_mul_div", [A, P], lambda a, p: (a - p) * a / p, lambda th, a, p: (a - p) * a / p),
    ("pow", [P, A], lambda p, a: p ** a, lambda th, p, a: p ** a),
    ("matmul", [A, B], lambda a, b: a @ b, lambda th, a, b: a @ b),
    ("matmul_vec", [A, V], lambda a, v: a @ v, lambda th, a, v: a @ v),
    ("exp_log_sqrt", [P], lambda p: p.exp() + p.log() + p.sqrt(), lambda th, p: p.exp() + p.log() + p.sqrt()),
    ("tanh_sigmoid_relu", [A], lambda a: a.tanh() + a.sigmoid() + a.relu(),
     lambda th, a: a.tanh() + a.sigmoid() + a.relu()),
    ("leaky_relu", [A], lambda a: md.leaky_relu(a, 0.1), lambda th, a: th.nn.functional.leaky_relu(a, 0.1)),
    ("clip", [A], lambda a: a.clip(-0.5, 0.5), lambda th, a: a.clamp(-0.5, 0.5)),
    ("maximum_minimum", [A, P], lambda a, p: md.maximum(a, p) + md.minimum(a, p),
     lambda th, a, p: th.maximum(a, p) + th.minimum(a, p)),
    ("sum_mean_axis", [A], lambda a: a.sum(axis=1) * a.mean(axis=1), lambda th, a: a.sum(dim=1) * a.mean(dim=1)),
    ("var_unbiased", [A], lambda a: a.var(axis=0), lambda th, a: a.var(dim=0)),
    ("var_biased", [A], lambda a: a.var(axis=1, correction=0), lambda th, a: a.var(dim=1, correction=0)),
    ("max_min", [A], lambda a: a.amax(axis=1) - a.amin(axis=0).sum(),
     lambda th, a: a.amax(dim=1) - a.amin(dim=0).sum()),
    ("logsumexp", [A], lambda a: md.logsumexp(a, axis=1), lambda th, a: a.logsumexp(dim=1)),
    ("softmax", [A], lambda a: md.softmax(a, axis=1), lambda th, a: a.softmax(dim=1)),
    ("log_softmax", [A], lambda a: md.log_softmax(a, axis=0), lambda th, a: a.log_softmax(dim=0)),
    ("reshape_transpose", [A], lambda a: a.reshape(2, 10).T * 2, lambda th, a: a.reshape(2, 10).T * 2),
    ("getitem", [A], lambda a: a[1:3, [0, 0, 4]], lambda th, a: a[1:3, [0, 0, 4]]),
    ("concat_stack", [A, P], lambda a, p: md.stack([md.concatenate([a, p], axis=1), md.concatenate([p, a], axis=1)]),
     lambda th, a, p: th.stack([th.cat([a, p], dim=1), th.cat([p, a], dim=1)])),
    ("where", [A, P], lambda a, p: md.where(a > 0, a, p), lambda th, a, p: th.where(a > 0, a, p)),
    # PyTorch's method names and the functions added beside them
    ("add_sub_alpha", [A, P], lambda a, p: a.add(p, alpha=2).sub(a, alpha=0.5).mul(p).div(p.add(1)).neg(),
     lambda th, a, p: a.add(p, alpha=2).sub(a, alpha=0.5).mul(p).div(p.add(1)).neg()),
    ("log1p_expm1_log2_log10", [P], lambda p: p.log1p() + p.expm1() + p.log2() + md.log10(p),
     lambda th, p: p.log1p() + p.expm1() + p.log2() + th.log10(p)),
    ("square_reciprocal_rsqrt", [P], lambda p: p.square() + p.reciprocal() + md.rsqrt(p),
     lambda th, p: p.square() + p.reciprocal() + th.rsqrt(p)),
    ("maximum_minimum_methods", [A, P], lambda a, p: a.maximum(p) - a.minimum(p),
     lambda th, a, p: a.maximum(p) - a.minimum(p)),
    ("clamp_min_max", [A], lambda a: a.clamp_min(-0.3) + a.clamp_max(0.2),
     lambda th, a: a.clamp_min(-0.3) + a.clamp_max(0.2)),
    ("mm_dot_outer", [A, B, V], lambda a, b, v: md.mm(a, b).sum() + v.dot(v) + md.outer(v, v).sum(0),
     lambda th, a, b, v: th.mm(a, b).sum() + v.dot(v) + th.outer(v, v).sum(0)),
    ("bmm", [rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5))], lambda x, y: x.bmm(y),
     lambda th, x, y: x.bmm(y)),
    ("select_unbind", [A], lambda a: a.select(1, -1) * md.stack(a.unbind(1), 1).select(0, 2).sum(),
     lambda th, a: a.select(1, -1) * th.stack(a.unbind(1), 1).select(0, 2).sum()),
    ("remainder", [A, P], lambda a, p: a % p + md.remainder(a, 0.7) + (-a) % p.detach(),
     lambda th, a, p: a % p + th.remainder(a, 0.7) + (-a) % p.detach()),
    ("median", [A], lambda a: a.median() + md.median(a, dim=1).values.sum() + a.median(0, keepdim=True).values,
     lambda th, a: a.median() + th.median(a, dim=1).values.sum() + a.median(0, keepdim=True).values),
    ("view_expand_as", [A, V], lambda a, v: a.view_as(md.zeros(20)) + v.expand_as(a).reshape_as(md.zeros(20)),
     lambda th, a, v: a.view_as(th.zeros(20)) + v.expand_as(a).reshape_as(th.zeros(20))),
]


@pytest.mark.parametrize("name, arrays, ours, theirs", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(torch, name, arrays, ours, theirs):
    check_against_torch(torch, name, arrays, ours, theirs)


def test_float32_matches_torch_float32(torch):
    a = rng.standard_normal((8, 16)).astype(np.float32)
    w = rng.standard_normal((16, 4)).astype(np.float32)
    x_md, w_md = md.tensor(a, requires_grad=True), md.tensor(w, requires_grad=True)
    x_th, w_th = torch.tensor(a, requires_grad=True), torch.tensor(w, requires_grad=True)
    loss_md = (x_md @ w_md).tanh().log_softmax(axis=1).mean()
    loss_th = (x_th @ w_th).tanh().log_softmax(dim=1).mean()
    loss_md.backward()
    loss_th.backward()
    assert loss_md.dtype == np.float32 and w_md.grad.dtype == np.float32
    np.testing.assert_allclose(loss_md.item(), loss_th.item(), rtol=1e-6)
    np.testing.assert_allclose(w_md.grad, w_th.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_boolean_and_index_answers_match_torch(torch):
    """isnan/isinf/isfinite, isclose/allclose/equal, nonzero and count_nonzero, comparisons by
    name, and the new_* / *_like constructors: the same values, dtypes and shapes as PyTorch."""
    x = np.array([[0.0, np.nan, 1.0], [np.inf, -2.0, 0.0]])
    m, t = md.tensor(x), torch.tensor(x)
    for name in ("isnan", "isinf", "isfinite"):
        np.testing.assert_array_equal(getattr(m, name)().numpy(), getattr(torch, name)(t).numpy())
        np.testing.assert_array_equal(getattr(md, name)(m).numpy(), getattr(t, name)().numpy())
    y = np.array([[0.0, 0.0, 1.0 + 1e-9], [3.0, -2.0, 0.0]])
    np.testing.assert_array_equal(m.isclose(md.tensor(y)).numpy(), t.isclose(torch.tensor(y)).numpy())
    np.testing.assert_array_equal(md.isclose(m, md.tensor(y), equal_nan=True).numpy(),
                                  torch.isclose(t, torch.tensor(y), equal_nan=True).numpy())
    a = np.array([1.0, 2.0, 3.0])
    assert md.allclose(md.tensor(a), md.tensor(a + 1e-9)) is torch.allclose(torch.tensor(a), torch.tensor(a + 1e-9))
    assert md.tensor(a).allclose(md.tensor(a + 1e-3)) is False
    assert md.equal(md.tensor(a), md.tensor(a)) and not md.tensor(a).equal(md.tensor(a[:2]))
    z = np.array([[0, 3, 0], [5, 0, 7]])
    np.testing.assert_array_equal(md.tensor(z).nonzero().numpy(), torch.tensor(z).nonzero().numpy())
    assert md.tensor(z).nonzero().dtype == md.int64
    for ours, theirs in zip(md.nonzero(md.tensor(z), as_tuple=True), torch.tensor(z).nonzero(as_tuple=True)):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert md.count_nonzero(md.tensor(z)).item() == torch.count_nonzero(torch.tensor(z)).item() == 3
    np.testing.assert_array_equal(md.tensor(z).count_nonzero(dim=0).numpy(),
                                  torch.tensor(z).count_nonzero(dim=0).numpy())
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        np.testing.assert_array_equal(getattr(md.tensor(z), name)(3).numpy(), getattr(torch.tensor(z), name)(3).numpy())
    base, tbase = md.ones(2, dtype=md.float64), torch.ones(2, dtype=torch.float64)
    for ours, theirs in [(base.new_zeros(2, 3), tbase.new_zeros(2, 3)), (base.new_ones((3,)), tbase.new_ones((3,))),
                         (base.new_full((2,), 7), tbase.new_full((2,), 7)),
                         (base.new_tensor([1, 2]), tbase.new_tensor([1, 2])),
                         (md.full_like(base, 4), torch.full_like(tbase, 4)),
                         (md.empty_like(base), torch.zeros_like(tbase)), (md.empty(2, 2), torch.zeros(2, 2))]:
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "") and ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert md.rand_like(base).dtype == md.randn_like(base).dtype == md.float64 and md.randn_like(base).shape == (2,)
    assert md.numel(md.zeros(2, 3)) == md.zeros(2, 3).nelement() == 6
    assert md.tensor(z).type_as(base).dtype == md.float64


@pytest.mark.parametrize("call, error, match", [
    (lambda: md.mm(md.zeros(2, 3), md.zeros(3)), ValueError,
     r"mm: expects 2-D tensors, got shapes \(\(2, 3\), \(3,\)\)"),
    (lambda: md.bmm(md.zeros(2, 2, 3), md.zeros(3, 3, 1)), ValueError, "bmm: batch sizes differ"),
    (lambda: md.dot(md.zeros(3), md.zeros(4)), ValueError, "dot: the vectors have different lengths"),
    (lambda: md.outer(md.zeros(3), [1.0]), TypeError, "outer: argument 1 must be a Tensor, got list"),
    (lambda: md.zeros(2, 3).select(1, 3), IndexError, "select: index 3 is out of range for dim 1 of size 3"),
    (lambda: md.zeros(2, 3).select(0, True), IndexError, "select: index True is out of range"),
    (lambda: md.zeros(2, 3).narrow(1, 2, 2), IndexError, "narrow: start 2 and length 2 do not fit in dim 1 of size 3"),
    (lambda: md.zeros(2, 3).movedim((0, 1), 0), ValueError, "movedim: source .* name different numbers of dims"),
    (lambda: md.zeros(2, 3).index_select(0, md.tensor([0.5])), TypeError, "index_select: index must be a 1-D integer"),
    (lambda: md.zeros(2, 3).masked_select(md.ones(3)), TypeError, "masked_select: mask must be a bool tensor"),
    (lambda: md.zeros(2, 3).masked_select(md.ones(2, dtype=md.bool_)), ValueError, "cannot be broadcast"),
    (lambda: md.zeros(3).diff(n=-1), ValueError, "diff: n must be an int >= 0, got -1"),
])
def test_new_functions_refuse_bad_arguments_clearly(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_floor_divide_and_remainder_follow_python_and_torch(torch):
    a, b = np.array([7, -7, 7, -7]), np.array([2, 2, -2, -2])
    for x, y in [(a, b), (a.astype(np.float32), b.astype(np.float32))]:
        ours, theirs = (md.tensor(x), md.tensor(y)), (torch.tensor(x), torch.tensor(y))
        np.testing.assert_array_equal((ours[0] // ours[1]).numpy(), (theirs[0] // theirs[1]).numpy())
        np.testing.assert_array_equal((ours[0] % ours[1]).numpy(), (theirs[0] % theirs[1]).numpy())
    np.testing.assert_array_equal((7 // md.tensor(b)).numpy(), (7 // torch.tensor(b)).numpy())
    np.testing.assert_array_equal(md.tensor(a).floor_divide(3).numpy(), torch.tensor(a).floor_divide(3).numpy())
    x = md.tensor([7.0, -7.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"floor_divide \(//\) has no derivative, as in PyTorch"):
        (x // 2).sum().backward()
    with pytest.raises(ZeroDivisionError, match=r"remainder \(%\): integer division by zero"):
        md.tensor([1, 2]) % md.tensor([1, 0])


SHAPE_CASES = [
    ("movedim", lambda th, a: a.movedim(0, -1) if th is None else a.movedim(0, -1)),
    ("movedim_many", lambda th, a: a.movedim((0, 1), (2, 0))),
    ("swapaxes", lambda th, a: a.swapaxes(0, 2) * 1.5),
    ("narrow", lambda th, a: a.narrow(1, -3, 2)),
    ("unflatten", lambda th, a: a.unflatten(2, (2, 2))),
    ("index_select", lambda th, a: a.index_select(1, (md if th is None else th).tensor([3, 0, 3]))),
    ("masked_select", lambda th, a: a.masked_select((md if th is None else th).tensor([True, False, True, True]))),
    ("diff", lambda th, a: a.diff() + a.diff(n=2, dim=0).sum()),
]


@pytest.mark.parametrize("name, expr", SHAPE_CASES, ids=[c[0] for c in SHAPE_CASES])
def test_shape_methods_match_torch(torch, name, expr):
    x = rng.standard_normal((3, 5, 4))
    check_against_torch(torch, name, [x], lambda a: expr(None, a), lambda th, a: expr(th, a))


def test_tensor_where_and_nan_to_num_match_torch(torch):
    x = np.array([1.5, np.nan, np.inf, -np.inf, -2.0], dtype=np.float32)
    g = np.array([1.0, 2.0, 3.0, 4.0, 5.0], dtype=np.float32)
    for kwargs in ({}, {"nan": -1.0, "posinf": 9.0}, {"neginf": -7.0}):
        ours, theirs = md.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yt = ours.nan_to_num(**kwargs), theirs.nan_to_num(**kwargs)
        y.backward(g)
        yt.backward(torch.tensor(g))
        np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
        np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())  # 0 where a value was replaced
    np.testing.assert_array_equal(md.tensor([3, 4]).nan_to_num().numpy(), [3, 4])
    np.testing.assert_array_equal(md.nan_to_num(md.tensor(x), nan=2.0).numpy(), torch.tensor(x).nan_to_num(nan=2.0))
    a, b = rng.standard_normal(4), rng.standard_normal(4)
    check_against_torch(torch, "Tensor.where", [a, b], lambda p, q: p.where(p > 0, q),
                        lambda th, p, q: p.where(p > 0, q))
