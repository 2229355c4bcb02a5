"""Losses: NumPy references and gradcheck for every differentiable input (targets too),
cross-entropy fused-vs-composite (log_softmax + nll), stability at logits of 1e4, torch
oracle for every loss and reduction, bad targets by message."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minidl as md
from minidl import functional as L
from minidl import testing as T

REDUCTIONS = ["none", "mean", "sum"]
reduce_np = {"none": lambda a: a, "mean": np.mean, "sum": np.sum}


def same_shape_pair(elements_a=None, elements_b=None):
    return T.shapes(min_dims=1, max_dims=3).map(lambda s: (s, s))


# ----------------------------------------------------------------------------- regression

kink_free = T.away_from([0.0], margin=0.05)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_regression_losses(reduction, data):
    shape = data.draw(T.shapes(min_dims=1, max_dims=3), label="shape")
    x = data.draw(T.arrays(shape), label="x")
    # residuals away from the kinks of |r| (0) and of Huber (+-delta)
    r = data.draw(T.arrays(shape, elements=T.away_from([0.0, 0.7, -0.7], margin=0.05)), label="r")
    t = x - r
    red = reduce_np[reduction]
    T.check_op(lambda a, b: L.mse_loss(a, b, reduction), lambda a, b: red((a - b) ** 2), x, t)
    T.check_op(lambda a, b: L.l1_loss(a, b, reduction), lambda a, b: red(np.abs(a - b)), x, t)

    def huber(a, b):
        d = np.abs(a - b)
        return red(np.where(d < 0.7, 0.5 * d**2, 0.7 * (d - 0.35)))

    def pseudo(a, b):
        return red(0.7**2 * (np.sqrt(1 + ((a - b) / 0.7) ** 2) - 1))

    T.check_op(lambda a, b: L.huber_loss(a, b, reduction, delta=0.7), huber, x, t)
    T.check_op(lambda a, b: L.pseudo_huber_loss(a, b, reduction, delta=0.7), pseudo, x, t)


def test_pseudo_huber_limits():
    """delta^2 (sqrt(1 + (r/delta)^2) - 1) ~ r^2/2 for small r and ~ delta |r| for large r."""
    small = L.pseudo_huber_loss(md.tensor([1e-3]), md.tensor([0.0]), delta=2.0).item()
    large = L.pseudo_huber_loss(md.tensor([1e4]), md.tensor([0.0]), delta=2.0).item()
    assert small == pytest.approx(0.5e-6, rel=1e-3)
    assert large == pytest.approx(2.0 * 1e4, rel=1e-3)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_matches_torch(torch, name, reduction):
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((2, 3, 4)).astype(np.float32), rng.standard_normal((2, 3, 4)).astype(np.float32)
    xs, ts = md.tensor(x, requires_grad=True), md.tensor(t, requires_grad=True)
    xt, tt = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    y = getattr(L, name)(xs, ts, reduction=reduction)
    yt = getattr(torch.nn.functional, name)(xt, tt, reduction=reduction)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    yt.backward(torch.tensor(g))
    assert y.dtype == md.float32
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ts.grad, tt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_regression_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match=r"input shape \(4, 1\) and target shape \(4,\) differ"):
        L.mse_loss(md.randn(4, 1), md.randn(4))
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.l1_loss(md.randn(4), md.randn(4), reduction="avg")
    with pytest.raises(ValueError, match="delta must be positive"):
        L.huber_loss(md.randn(4), md.randn(4), delta=0.0)


# ----------------------------------------------------------------------------- cross-entropy / NLL


@st.composite
def class_case(draw):
    c = draw(st.integers(2, 5))
    n = draw(st.integers(1, 4))
    extra = draw(st.sampled_from([(), (2,), (2, 3)]))
    logits = draw(T.arrays((n, c) + extra, elements=T.floats(-4, 4)))
    target = draw(T.arrays((n,) + extra, elements=st.integers(0, c - 1), dtype="int64"))
    if draw(st.booleans()) and target.size > 1:
        target.reshape(-1)[0] = -100  # one ignored prediction
    weight = draw(st.none() | T.arrays((c,), elements=T.floats(0.2, 2.0)))
    return logits, target, weight


def ce_reference(x, t, weight=None, reduction="mean", label_smoothing=0.0, log_probs=False):
    c = x.shape[1]
    rows = np.moveaxis(x, 1, -1).reshape(-1, c)
    tt = t.reshape(-1)
    top = rows.max(1, keepdims=True)
    logp = rows if log_probs else rows - top - np.log(np.exp(rows - top).sum(1, keepdims=True))
    w = np.ones(c) if weight is None else weight
    keep = tt != -100
    safe = np.where(keep, tt, 0)
    tw = w[safe] * keep
    nll = -tw * logp[np.arange(len(tt)), safe]
    smooth = -(logp * w).sum(1) * keep / c
    losses = (1 - label_smoothing) * nll + label_smoothing * smooth
    if reduction == "none":
        return losses.reshape(t.shape)
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / tw.sum()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(case=class_case(), smoothing=st.sampled_from([0.0, 0.25]))
def test_cross_entropy_forward_and_gradient(reduction, case, smoothing):
    x, t, w = case
    if reduction == "mean" and np.all(t == -100):
        return
    weight = None if w is None else md.tensor(w)
    T.check_op(lambda a, b: L.cross_entropy(a, b, weight, reduction=reduction, label_smoothing=smoothing),
               lambda a, b: ce_reference(a, b, w, reduction, smoothing), x, t, grad=[True, False],
               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(case=class_case())
def test_nll_forward_and_gradient(reduction, case):
    x, t, w = case
    if reduction == "mean" and np.all(t == -100):
        return
    weight = None if w is None else md.tensor(w)
    T.check_op(lambda a, b: L.nll_loss(a, b, weight, reduction=reduction),
               lambda a, b: ce_reference(a, b, w, reduction, log_probs=True), x, t, grad=[True, False],
               rtol=1e-10, atol=1e-10)


@given(class_case())
def test_cross_entropy_equals_log_softmax_plus_nll(case):
    """Composite-vs-fused oracle: cross_entropy(x) == nll_loss(log_softmax(x, axis=1))."""
    x, t, w = case
    if np.all(t == -100):
        return
    weight = None if w is None else md.tensor(w)
    a, b = md.tensor(x, requires_grad=True), md.tensor(x, requires_grad=True)
    fused = L.cross_entropy(a, md.tensor(t), weight)
    composite = L.nll_loss(md.log_softmax(b, axis=1), md.tensor(t), weight)
    fused.backward()
    composite.backward()
    T.assert_close(fused, composite.numpy(), rtol=1e-12, atol=1e-12, what="loss")
    T.assert_close(a.grad, b.grad, rtol=1e-10, atol=1e-12, what="gradient")


def test_cross_entropy_stable_for_huge_logits():
    x = md.tensor([[1e4, 0.0, -1e4], [1e4, 1e4, 0.0]], requires_grad=True)
    loss = L.cross_entropy(x, md.tensor([0, 2]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0.0, 1e4 + np.log(2)], rtol=1e-6)
    loss.sum().backward()
    assert np.isfinite(x.grad).all()
    np.testing.assert_allclose(x.grad, [[0, 0, 0], [0.5, 0.5, -1]], atol=1e-6)


def test_cross_entropy_plain_gradient_is_softmax_minus_one_hot():
    """The lecture's dL/dz = (softmax(z) - onehot(y)) / N for the mean over N samples."""
    rng = np.random.default_rng(1)
    z = rng.standard_normal((5, 3))
    y = np.array([0, 2, 1, 1, 0])
    x = md.tensor(z, requires_grad=True)
    L.cross_entropy(x, md.tensor(y)).backward()
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(x.grad, (p - np.eye(3)[y]) / 5, rtol=1e-12, atol=1e-15)


def test_cross_entropy_all_ignored_mean_is_nan_like_torch():
    """0 / 0 loss, as PyTorch; its gradient is zero (not NaN), as PyTorch's."""
    x = md.randn(2, 3, requires_grad=True)
    loss = L.cross_entropy(x, md.tensor([-100, -100]))
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2, 2)])
@pytest.mark.parametrize("ignored", [False, True])
def test_cross_entropy_and_nll_match_torch(torch, reduction, smoothing, weighted, shape, ignored):
    """Every combination, including the plain case (no weight, smoothing or ignored target)
    that cross_entropy computes as softmax minus one-hot."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    t = rng.integers(0, 4, (shape[0],) + shape[2:])
    if ignored:
        t.reshape(-1)[1] = -100
    w = (rng.random(4) + 0.2).astype(np.float32) if weighted else None
    tf = torch.nn.functional
    for ours_fn, theirs_fn, kw in [(L.cross_entropy, tf.cross_entropy, {"label_smoothing": smoothing}),
                                   (L.nll_loss, tf.nll_loss, {})]:
        xs, xt = md.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y = ours_fn(xs, md.tensor(t), None if w is None else md.tensor(w), reduction=reduction, **kw)
        yt = theirs_fn(xt, torch.tensor(t), None if w is None else torch.tensor(w), reduction=reduction, **kw)
        g = rng.standard_normal(y.shape).astype(np.float32)
        y.backward(g)
        yt.backward(torch.tensor(g))
        assert y.dtype == md.float32 and xs.grad.dtype == np.float32
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn", [L.cross_entropy, L.nll_loss])
def test_class_target_errors(fn):
    x = md.randn(3, 4)
    with pytest.raises(IndexError, match=r"target 7 is out of bounds.*\[0, 3\].*C = 4"):
        fn(x, md.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match="target -2 is out of bounds"):
        fn(x, md.tensor([0, -2, 1]))
    with pytest.raises(ValueError, match=r"target shape \(3, 1\) does not match input shape \(3, 4\)"):
        fn(x, md.tensor([[0], [1], [2]]))
    with pytest.raises(TypeError, match="target must hold integer class indices"):
        fn(x, md.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        fn(x, md.tensor([0, 1, 2]), md.ones(3))
    with pytest.raises(ValueError, match="reduction must be one of"):
        fn(x, md.tensor([0, 1, 2]), reduction="batchmean")


# ----------------------------------------------------------------------------- binary / KL


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_binary_cross_entropy_losses(reduction, data):
    shape = data.draw(T.shapes(min_dims=1, max_dims=3), label="shape")
    p = data.draw(T.arrays(shape, elements=T.floats(0.05, 0.95)), label="p")
    y = data.draw(T.arrays(shape, elements=T.floats(0.0, 1.0)), label="y")
    x = data.draw(T.arrays(shape, elements=T.floats(-5, 5)), label="x")
    red = reduce_np[reduction]
    T.check_op(lambda a, b: L.binary_cross_entropy(a, b, reduction=reduction),
               lambda a, b: red(-(b * np.log(a) + (1 - b) * np.log(1 - a))), p, y)
    pos_weight = np.linspace(0.5, 2.0, shape[-1])
    weight = np.linspace(0.3, 1.3, shape[-1])

    def bce_logits_ref(a, b):
        sig = 1 / (1 + np.exp(-a))
        return red(-weight * (pos_weight * b * np.log(sig) + (1 - b) * np.log(1 - sig)))

    T.check_op(lambda a, b: L.binary_cross_entropy_with_logits(a, b, md.tensor(weight), reduction,
                                                               pos_weight=md.tensor(pos_weight)),
               bce_logits_ref, x, y, rtol=1e-9, atol=1e-12)


def test_binary_cross_entropy_clamps_logs_and_logits_are_stable():
    p = md.tensor([0.0, 1.0, 1.0], requires_grad=True)
    loss = L.binary_cross_entropy(p, md.tensor([1.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [100.0, 100.0, 0.0])
    loss.sum().backward()
    assert np.isfinite(p.grad).all()
    x = md.tensor([1e4, -1e4, 50.0], requires_grad=True)
    loss = L.binary_cross_entropy_with_logits(x, md.tensor([0.0, 1.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [1e4, 1e4, np.log1p(np.exp(-50.0))], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, -1.0, 0.0], atol=1e-6)


def test_binary_cross_entropy_errors():
    with pytest.raises(ValueError, match="must be probabilities in \\[0, 1\\]"):
        L.binary_cross_entropy(md.tensor([0.5, 1.5]), md.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="differ"):
        L.binary_cross_entropy_with_logits(md.randn(3, 2), md.randn(3))
    with pytest.raises(ValueError, match="pos_weight of shape \\(3,\\) cannot be broadcast"):
        L.binary_cross_entropy_with_logits(md.randn(4, 2), md.rand(4, 2), pos_weight=md.ones(3))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum", "batchmean"])
@given(data=st.data())
def test_kl_div(reduction, data):
    shape = data.draw(T.shapes(min_dims=1, max_dims=3), label="shape")
    logq = data.draw(T.arrays(shape, elements=T.floats(-3, 0)), label="logq")
    p = data.draw(T.arrays(shape, elements=T.floats(0.05, 1.0)), label="p")

    def ref(a, b, log_target=False):
        pointwise = np.exp(b) * (b - a) if log_target else b * (np.log(b) - a)
        if reduction == "batchmean":
            return pointwise.sum() / a.shape[0]
        return reduce_np[reduction](pointwise)

    T.check_op(lambda a, b: L.kl_div(a, b, reduction), ref, logq, p)
    T.check_op(lambda a, b: L.kl_div(a, b, reduction, log_target=True),
               lambda a, b: ref(a, b, True), logq, np.log(p))


def test_kl_div_zero_target_contributes_zero():
    """p log p -> 0 as p -> 0: a zero target gives loss 0 and a finite gradient (0 for the
    target there, where PyTorch gives NaN)."""
    q, p = md.tensor([-1.0, -2.0], requires_grad=True), md.tensor([0.0, 0.5], requires_grad=True)
    loss = L.kl_div(q, p, reduction="sum")
    assert loss.item() == pytest.approx(0.5 * (np.log(0.5) + 2.0))
    loss.backward()
    np.testing.assert_allclose(q.grad, [0.0, -0.5])
    np.testing.assert_allclose(p.grad, [0.0, np.log(0.5) + 1 + 2.0])


@pytest.mark.filterwarnings("ignore:reduction")
@pytest.mark.parametrize("reduction", ["none", "mean", "sum", "batchmean"])
def test_binary_and_kl_match_torch(torch, reduction):
    rng = np.random.default_rng(0)
    tf = torch.nn.functional
    x = rng.standard_normal((4, 3)).astype(np.float32)
    y = rng.random((4, 3)).astype(np.float32)
    p = (1 / (1 + np.exp(-x))).astype(np.float32)
    w = (rng.random((4, 3)) + 0.5).astype(np.float32)
    pw = (rng.random(3) + 0.5).astype(np.float32)
    logq = np.log(rng.dirichlet(np.ones(3), 4)).astype(np.float32)
    target = rng.dirichlet(np.ones(3), 4).astype(np.float32)
    cases = [(lambda a, b, r: L.kl_div(a, b, r), lambda a, b, r: tf.kl_div(a, b, reduction=r), logq, target),
             (lambda a, b, r: L.kl_div(a, b, r, log_target=True),
              lambda a, b, r: tf.kl_div(a, b, reduction=r, log_target=True), logq, np.log(target))]
    if reduction != "batchmean":
        cases += [
            (lambda a, b, r: L.binary_cross_entropy(a, b, md.tensor(w), r),
             lambda a, b, r: tf.binary_cross_entropy(a, b, torch.tensor(w), reduction=r), p, y),
            (lambda a, b, r: L.binary_cross_entropy_with_logits(a, b, md.tensor(w), r, md.tensor(pw)),
             lambda a, b, r: tf.binary_cross_entropy_with_logits(a, b, torch.tensor(w), reduction=r,
                                                                 pos_weight=torch.tensor(pw)), x, y),
        ]
    for ours, theirs, a, b in cases:
        a1, b1 = md.tensor(a, requires_grad=True), md.tensor(b, requires_grad=True)
        a2, b2 = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        out, out_t = ours(a1, b1, reduction), theirs(a2, b2, reduction)
        g = rng.standard_normal(out.shape).astype(np.float32)
        out.backward(g)
        out_t.backward(torch.tensor(g))
        assert out.dtype == md.float32
        np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a1.grad, a2.grad.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b1.grad, b2.grad.numpy(), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- modules


@pytest.mark.filterwarnings("ignore:reduction")
@pytest.mark.parametrize("name,kwargs,kind", [
    ("MSELoss", {}, "regression"), ("L1Loss", {"reduction": "sum"}, "regression"),
    ("HuberLoss", {"delta": 0.5}, "regression"),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 2}, "classes"),
    ("CrossEntropyLoss", {"weight": "w"}, "classes"), ("NLLLoss", {"reduction": "none"}, "classes"),
    ("BCELoss", {}, "probabilities"), ("BCEWithLogitsLoss", {"pos_weight": "pw"}, "binary"),
    ("KLDivLoss", {"reduction": "batchmean"}, "kl"), ("KLDivLoss", {"log_target": True}, "kl"),
])
def test_loss_modules_match_torch(torch, name, kwargs, kind):
    import minidl.nn as nn

    rng = np.random.default_rng(0)
    w, pw = (rng.random(4) + 0.5).astype(np.float32), (rng.random(4) + 0.5).astype(np.float32)
    ours_kw = {k: md.tensor(w if v == "w" else pw) if v in ("w", "pw") else v for k, v in kwargs.items()}
    theirs_kw = {k: torch.tensor(w if v == "w" else pw) if v in ("w", "pw") else v for k, v in kwargs.items()}
    x = rng.standard_normal((5, 4)).astype(np.float32)
    differentiable_target = True
    if kind == "regression":
        t = rng.standard_normal((5, 4)).astype(np.float32)
    elif kind == "classes":
        t, differentiable_target = rng.integers(0, 4, 5), False
        if name == "NLLLoss":
            x = x - np.log(np.exp(x).sum(1, keepdims=True))
    elif kind == "probabilities":
        x, t = 1 / (1 + np.exp(-x)), rng.random((5, 4)).astype(np.float32)
    elif kind == "binary":
        t = rng.random((5, 4)).astype(np.float32)
    else:
        x = np.log(rng.dirichlet(np.ones(4), 5)).astype(np.float32)
        t = rng.dirichlet(np.ones(4), 5).astype(np.float32)
        if kwargs.get("log_target"):
            t = np.log(t)
    xs, xt = md.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ts = md.tensor(t, requires_grad=differentiable_target)
    tt = torch.tensor(t, requires_grad=differentiable_target)
    y, yt = getattr(nn, name)(**ours_kw)(xs, ts), getattr(torch.nn, name)(**theirs_kw)(xt, tt)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    if differentiable_target:
        np.testing.assert_allclose(ts.grad, tt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_pseudo_huber_module_and_gradcheck():
    import minidl.nn as nn

    loss = nn.PseudoHuberLoss(delta=0.5, reduction="sum")
    x, t = md.randn(3, 2, dtype=md.float64, requires_grad=True), md.randn(3, 2, dtype=md.float64, requires_grad=True)
    assert md.gradcheck(lambda a, b: loss(a, b), [x, t])
    r = x.numpy() - t.numpy()
    assert loss(x, t).item() == pytest.approx((0.25 * (np.sqrt(1 + (r / 0.5) ** 2) - 1)).sum())
