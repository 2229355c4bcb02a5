"""Batch/layer/group/instance norm: NumPy references, gradcheck with random upstream
gradients (train mode), fused-vs-composite oracle, running statistics and eval mode vs torch,
errors by message."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minidl as md
from minidl import testing as T
from minidl.functional import batch_norm, group_norm, instance_norm, layer_norm

EPS = 1e-5


def bn_reference(x, w, b):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)  # biased
    return (x - mu) / np.sqrt(var + EPS) * w.reshape(shape) + b.reshape(shape)


def bn_train(x, w, b):
    return batch_norm(x, None, None, w, b, training=True)


@st.composite
def bn_case(draw):
    c = draw(st.integers(1, 3))
    rest = draw(st.sampled_from([(), (3,), (2, 3)]))
    n = draw(st.integers(2 if not rest else 1, 4))
    # values on a grid with at least two distinct values per channel keep sigma away from 0
    x = draw(T.arrays((n, c) + rest, elements=st.integers(-20, 20).map(lambda k: k * 0.15)))
    axes = (0,) + tuple(range(2, x.ndim))
    if np.any(x.std(axis=axes) < 0.1):
        x = x + np.random.default_rng(0).standard_normal(x.shape)
    return x, draw(T.arrays((c,))), draw(T.arrays((c,)))


@given(bn_case())
def test_batch_norm_train_forward_and_gradients(case):
    x, w, b = case
    T.check_op(bn_train, bn_reference, x, w, b, rtol=1e-9, atol=1e-9, grad_atol=1e-4)


@given(bn_case())
def test_batch_norm_fused_equals_composite(case):
    """The fused op equals the same formula written with primitive ops, values and gradients."""
    x, w, b = case
    xs = [md.tensor(a, requires_grad=True) for a in (x, w, b)]
    xc = [md.tensor(a, requires_grad=True) for a in (x, w, b)]
    fused = bn_train(*xs)
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu = md.mean(xc[0], axis=axes, keepdims=True)
    var = md.var(xc[0], axis=axes, keepdims=True, correction=0)
    composite = (xc[0] - mu) / md.sqrt(var + EPS) * xc[1].reshape(shape) + xc[2].reshape(shape)
    g = np.random.default_rng(0).standard_normal(x.shape)
    fused.backward(g)
    composite.backward(g)
    T.assert_close(fused, composite.numpy(), rtol=1e-10, atol=1e-10, what="forward")
    for a, c in zip(xs, xc):
        T.assert_close(a.grad, c.grad, rtol=1e-8, atol=1e-10, what="gradient")


def test_batch_norm_running_stats_and_eval_match_torch_over_steps(torch):
    rng = np.random.default_rng(0)
    c = 3
    rm, rv = md.zeros(c), md.ones(c)
    w, b = md.tensor(rng.standard_normal(c).astype(np.float32)), md.tensor(rng.standard_normal(c).astype(np.float32))
    trm, trv = torch.zeros(c), torch.ones(c)
    for step in range(4):
        x = (rng.standard_normal((5, c, 4)) * (step + 1) + step).astype(np.float32)
        y = batch_norm(md.tensor(x), rm, rv, w, b, training=True, momentum=0.1)
        yt = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, torch.tensor(w.numpy()),
                                            torch.tensor(b.numpy()), training=True, momentum=0.1)
        np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-6, atol=1e-6)
    x = rng.standard_normal((2, c, 4)).astype(np.float32)
    y = batch_norm(md.tensor(x), rm, rv, w, b, training=False)
    yt = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, torch.tensor(w.numpy()), torch.tensor(b.numpy()))
    np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-5, atol=1e-5)


def test_running_var_uses_unbiased_batch_variance():
    x = np.array([[1.0], [2.0], [4.0]])
    rm, rv = md.zeros(1, dtype=md.float64), md.ones(1, dtype=md.float64)
    batch_norm(md.tensor(x), rm, rv, training=True, momentum=0.5)
    assert rm.numpy()[0] == pytest.approx(0.5 * 7 / 3)
    assert rv.numpy()[0] == pytest.approx(0.5 * 1 + 0.5 * x.var(ddof=1))
    assert x.var(ddof=1) != pytest.approx(x.var())


def test_eval_uses_running_stats_independent_of_batch_and_leaves_buffers():
    rng = np.random.default_rng(1)
    rm, rv = md.tensor(rng.standard_normal(4)), md.tensor(rng.random(4) + 0.5)
    before = rm.numpy().copy(), rv.numpy().copy()
    x = rng.standard_normal((6, 4, 3))
    whole = batch_norm(md.tensor(x), rm, rv, training=False).numpy()
    alone = batch_norm(md.tensor(x[:1]), rm, rv, training=False).numpy()
    np.testing.assert_allclose(whole[:1], alone, rtol=1e-12)
    expected = (x - rm.numpy()[None, :, None]) / np.sqrt(rv.numpy()[None, :, None] + EPS)
    np.testing.assert_allclose(whole, expected, rtol=1e-12)
    np.testing.assert_array_equal(rm.numpy(), before[0])
    np.testing.assert_array_equal(rv.numpy(), before[1])


def test_eval_gradients_through_fixed_statistics():
    rng = np.random.default_rng(2)
    rm, rv = md.tensor(rng.standard_normal(3)), md.tensor(rng.random(3) + 0.5)
    inputs = [md.tensor(rng.standard_normal(s), requires_grad=True) for s in ((4, 3), (3,), (3,))]
    assert md.gradcheck(lambda x, w, b: batch_norm(x, rm, rv, w, b, training=False), inputs)


def test_batch_norm_float32_stays_float32():
    x = md.randn(4, 3, 2, 2, requires_grad=True)
    rm, rv = md.zeros(3), md.ones(3)
    y = batch_norm(x, rm, rv, md.ones(3), md.zeros(3), training=True)
    y.backward(np.ones(y.shape, dtype=np.float32))
    assert y.dtype == md.float32 and x.grad.dtype == np.float32
    assert rm.dtype == md.float32 and rv.dtype == md.float32


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="expected more than 1 value per channel when training"):
        batch_norm(md.randn(1, 3), md.zeros(3), md.ones(3), training=True)
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        batch_norm(md.randn(4, 3), None, None, md.ones(2), training=True)
    with pytest.raises(ValueError, match="input must be"):
        batch_norm(md.randn(4), None, None, training=True)


# ----------------------------------------------------------------------------- layer/group/instance


def layer_norm_reference(x, w, b, k):
    axes = tuple(range(x.ndim - k, x.ndim))
    mu, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + EPS) * w + b


@given(st.data())
def test_layer_norm_forward_and_gradients(data):
    shape = data.draw(T.shapes(min_dims=2, max_dims=3, min_side=2), label="shape")
    k = data.draw(st.integers(1, 2), label="k")
    x = data.draw(T.arrays(shape, elements=st.integers(-20, 20).map(lambda v: v * 0.15)), label="x")
    x = x + np.random.default_rng(0).standard_normal(shape)  # keep sigma away from 0
    w, b = (data.draw(T.arrays(shape[-k:]), label=n) for n in "wb")
    T.check_op(lambda x, w, b: layer_norm(x, shape[-k:], w, b), lambda x, w, b: layer_norm_reference(x, w, b, k),
               x, w, b, rtol=1e-9, atol=1e-9, grad_atol=1e-4)


def test_group_and_instance_norm_gradients():
    rng = np.random.default_rng(3)
    x = md.tensor(rng.standard_normal((2, 4, 3, 2)), requires_grad=True)
    w, b = md.tensor(rng.standard_normal(4), requires_grad=True), md.tensor(rng.standard_normal(4), requires_grad=True)
    assert md.gradcheck(lambda x, w, b: group_norm(x, 2, w, b), [x, w, b])
    assert md.gradcheck(lambda x, w, b: instance_norm(x, weight=w, bias=b), [x, w, b])


@pytest.mark.parametrize("name", ["layer_norm", "group_norm", "instance_norm"])
def test_norms_match_torch(torch, name):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 5, 2)).astype(np.float32)
    wshape = (5, 2) if name == "layer_norm" else (4,)
    w = rng.standard_normal(wshape).astype(np.float32)
    b = rng.standard_normal(wshape).astype(np.float32)
    ours = [md.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    tf = torch.nn.functional
    if name == "layer_norm":
        y, yt = layer_norm(ours[0], (5, 2), ours[1], ours[2]), tf.layer_norm(theirs[0], (5, 2), theirs[1], theirs[2])
    elif name == "group_norm":
        y, yt = group_norm(ours[0], 2, ours[1], ours[2]), tf.group_norm(theirs[0], 2, theirs[1], theirs[2])
    else:
        y = instance_norm(ours[0], weight=ours[1], bias=ours[2])
        yt = tf.instance_norm(theirs[0], weight=theirs[1], bias=theirs[2])
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_norm_errors():
    with pytest.raises(ValueError, match="normalized_shape"):
        layer_norm(md.randn(2, 3), (4,))
    with pytest.raises(ValueError, match="num_channels 6 must be divisible by num_groups 4"):
        group_norm(md.randn(2, 6, 3), 4)
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        instance_norm(md.randn(2, 3, 1, 1))
    with pytest.raises(NotImplementedError, match="running statistics are not supported"):
        instance_norm(md.randn(2, 3, 4, 4), md.zeros(3), md.ones(3))


# ----------------------------------------------------------------------------- modules


@pytest.mark.parametrize("name,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (5, 3, 4)),
                                        ("BatchNorm2d", (4, 3, 3, 2))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_modules_match_torch_over_steps(torch, name, shape, momentum):
    """Train steps (outputs, gradients of input/gamma/beta, running buffers), then eval."""
    import minidl.nn as nn

    rng = np.random.default_rng(0)
    ours, theirs = getattr(nn, name)(3, momentum=momentum), getattr(torch.nn, name)(3, momentum=momentum)
    gamma, beta = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    ours.weight.data[...] = gamma
    ours.bias.data[...] = beta
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    for step in range(3):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        xs, xt = md.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yt = ours(xs), theirs(xt)
        g = rng.standard_normal(shape).astype(np.float32)
        y.backward(g)
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-5, atol=1e-6)
        assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked) == step + 1
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((1,) + shape[1:]).astype(np.float32)  # one sample: fine in eval
    expected = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(md.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_batchnorm_module_eval_leaves_buffers_and_batch_independent():
    import minidl.nn as nn

    bn = nn.BatchNorm2d(2)
    bn(md.randn(4, 2, 3, 3) * 3 + 1)
    bn.eval()
    buffers = [bn.running_mean.numpy().copy(), bn.running_var.numpy().copy(), int(bn.num_batches_tracked.item())]
    x = md.randn(5, 2, 3, 3)
    whole = bn(x).numpy()
    np.testing.assert_allclose(whole[2:3], bn(x[2:3]).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(bn.running_mean.numpy(), buffers[0])
    np.testing.assert_array_equal(bn.running_var.numpy(), buffers[1])
    assert int(bn.num_batches_tracked.item()) == buffers[2]


def test_batchnorm_module_state_dict_holds_buffers():
    import minidl.nn as nn

    keys = set(nn.BatchNorm1d(4).state_dict())
    assert {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"} <= keys


def test_batchnorm_module_gradcheck_train_mode():
    import minidl.nn as nn

    bn = nn.BatchNorm2d(2, dtype=md.float64)
    bn.weight.data[...] = [1.5, -0.5]
    x = md.randn(3, 2, 2, 2, dtype=md.float64, requires_grad=True)
    assert md.gradcheck(lambda x, w, b: bn(x), [x, bn.weight, bn.bias], atol=1e-4)


def test_batchnorm_module_errors():
    import minidl.nn as nn

    with pytest.raises(ValueError, match="expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(md.randn(1, 3))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4-D \(N, C, H, W\) input"):
        nn.BatchNorm2d(3)(md.randn(4, 3))
    with pytest.raises(ValueError, match="expected 3 channels"):
        nn.BatchNorm1d(3)(md.randn(4, 2))
    bn = nn.BatchNorm1d(3)
    bn.eval()
    assert bn(md.randn(1, 3)).shape == (1, 3)  # eval: a single sample is fine


def test_batchnorm_without_affine_or_running_stats(torch):
    import minidl.nn as nn

    x = np.random.default_rng(0).standard_normal((4, 3, 2)).astype(np.float32)
    ours, theirs = nn.BatchNorm1d(3, affine=False, track_running_stats=False), \
        torch.nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(ours.parameters()) == [] and ours.running_mean is None
    ours.eval()
    theirs.eval()  # no running stats: batch statistics even in eval, like PyTorch
    np.testing.assert_allclose(ours(md.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda m: m.LayerNorm((5, 2)),
    lambda m: m.GroupNorm(2, 4),
    lambda m: m.InstanceNorm2d(4),
    lambda m: m.InstanceNorm2d(4, affine=True),
])
def test_other_norm_modules_match_torch(torch, make):
    import minidl.nn as nn

    ours, theirs = make(nn), make(torch.nn)
    rng = np.random.default_rng(5)
    params = list(ours.parameters())
    for p, q in zip(params, theirs.parameters()):
        value = rng.standard_normal(p.shape).astype(np.float32)
        p.data[...] = value
        with torch.no_grad():
            q.copy_(torch.tensor(value))
    x = rng.standard_normal((3, 4, 5, 2)).astype(np.float32)
    xs, xt = md.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = ours(xs), theirs(xt)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    for p, q in zip(params, theirs.parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_other_norm_module_errors():
    import minidl.nn as nn

    with pytest.raises(ValueError, match="num_channels 5 must be divisible by num_groups 2"):
        nn.GroupNorm(2, 5)
    with pytest.raises(ValueError, match="track_running_stats=True is not supported"):
        nn.InstanceNorm2d(3, track_running_stats=True)
    with pytest.raises(ValueError, match=r"expected input \(N, 3, H, W\)"):
        nn.InstanceNorm2d(3)(md.randn(2, 3, 4))


def test_group_norm_special_cases_are_layer_and_instance_norm():
    """CLAIMS NORM-9: GroupNorm with G = 1 is LayerNorm over (C, H, W); with G = C it is
    InstanceNorm."""
    x = md.randn(2, 4, 3, 5, dtype=md.float64)
    T.assert_close(group_norm(x, 1), layer_norm(x, (4, 3, 5)).numpy(), rtol=1e-12, atol=1e-12, what="G=1")
    T.assert_close(group_norm(x, 4), instance_norm(x).numpy(), rtol=1e-12, atol=1e-12, what="G=C")


@given(st.data())
def test_standardize_fused_equals_composite(data):
    """Layer/group/instance norm's fused standardization equals mean/var/sqrt/div composed."""
    from minidl.functional import _normalize

    shape = data.draw(T.shapes(min_dims=2, max_dims=4, min_side=2), label="shape")
    axes = tuple(sorted(data.draw(st.sets(st.integers(1, len(shape) - 1), min_size=1), label="axes")))
    x = np.random.default_rng(0).standard_normal(shape) * 2 + 1
    a, b = md.tensor(x, requires_grad=True), md.tensor(x, requires_grad=True)
    fused = _normalize(a, axes, EPS)
    composite = (b - md.mean(b, axis=axes, keepdims=True)) / md.sqrt(
        md.var(b, axis=axes, keepdims=True, correction=0) + EPS)
    g = np.random.default_rng(1).standard_normal(shape)
    fused.backward(g)
    composite.backward(g)
    T.assert_close(fused, composite.numpy(), rtol=1e-10, atol=1e-10, what="forward")
    T.assert_close(a.grad, b.grad, rtol=1e-8, atol=1e-10, what="gradient")
    assert md.gradcheck(lambda t: _normalize(t, axes, EPS), [md.tensor(x, requires_grad=True)])


# ----------------------------------------------------------------------------- refused inputs change nothing


def _buffers(bn):
    return {name: np.array(b.data) for name, b in bn.named_buffers()}


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("bad", [
    lambda: md.randn(1, 3),            # one value per channel in training
    lambda: md.randn(4, 2),            # wrong channel count
    lambda: md.randn(4, 3, 2, 2),      # wrong rank
    lambda: [[1.0, 2.0, 3.0]] * 4,     # not a tensor
])
def test_failed_batchnorm_forward_changes_no_buffer(momentum, bad):
    import minidl.nn as nn

    bn = nn.BatchNorm1d(3, momentum=momentum)
    bn(md.randn(8, 3))
    before = _buffers(bn)
    with pytest.raises((ValueError, TypeError)):
        bn(bad())
    after = _buffers(bn)
    assert after.keys() == before.keys()
    for name in before:
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)


def test_cumulative_average_ignores_failed_calls(torch):
    """momentum=None: refused batches neither count nor move running_mean, so the statistics
    equal those of torch fed only the good batches. (torch itself counts a refused 1-sample
    batch in num_batches_tracked before raising; minidl deliberately does not.)"""
    import minidl.nn as nn

    rng = np.random.default_rng(3)
    batches = [rng.standard_normal((6, 3)).astype(np.float32) for _ in range(3)]
    ours, theirs = nn.BatchNorm1d(3, momentum=None), torch.nn.BatchNorm1d(3, momentum=None)
    for x in batches:
        ours(md.tensor(x))
        theirs(torch.tensor(x))
        for _ in range(2):
            with pytest.raises(ValueError):
                ours(md.randn(1, 3))
    assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked) == 3
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bad", [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], None])
@pytest.mark.parametrize("make,name", [
    (lambda nn: nn.BatchNorm1d(3), "BatchNorm1d"),
    (lambda nn: nn.BatchNorm2d(3), "BatchNorm2d"),
    (lambda nn: nn.LayerNorm(3), "LayerNorm"),
    (lambda nn: nn.GroupNorm(1, 3), "GroupNorm"),
    (lambda nn: nn.InstanceNorm2d(3), "InstanceNorm2d"),
])
def test_non_tensor_input_to_norm_layers_is_a_clear_type_error(make, name, bad):
    import minidl.nn as nn

    with pytest.raises(TypeError, match=rf"^{name}: input must be a Tensor, got {type(bad).__name__} "
                                        r"\(make one with md.tensor\(data\)\)$"):
        make(nn)(bad)


@pytest.mark.parametrize("fn", [
    lambda x: batch_norm(x, None, None, training=True),
    lambda x: layer_norm(x, 3),
    lambda x: group_norm(x, 1),
])
def test_non_tensor_input_to_norm_functions_is_a_clear_type_error(fn):
    with pytest.raises(TypeError, match="input must be a Tensor, got list"):
        fn([[1.0, 2.0, 3.0]])


@pytest.mark.parametrize("make", [
    lambda m: m.BatchNorm1d(3, bias=False), lambda m: m.BatchNorm2d(3, bias=False),
    lambda m: m.LayerNorm([3, 4, 4], bias=False), lambda m: m.GroupNorm(3, 3, bias=False),
    lambda m: m.InstanceNorm2d(3, affine=True, bias=False),
])
def test_bias_false_keeps_only_the_scale_as_in_torch(torch, make):
    """bias=False: a learnable weight and no shift; same parameters, repr and numbers as PyTorch."""
    ours, theirs = make(md.nn), make(torch.nn)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()] == ["weight"]
    assert repr(ours).split("  [")[0] == repr(theirs)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3) if isinstance(ours, md.nn.BatchNorm1d) else (2, 3, 4, 4)).astype(np.float32)
    w = rng.uniform(0.5, 2.0, ours.weight.shape).astype(np.float32)
    ours.weight.data[...] = w
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
    np.testing.assert_allclose(ours(md.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda m: m.BatchNorm1d(3), lambda m: m.BatchNorm2d(3, affine=False), lambda m: m.LayerNorm(3),
    lambda m: m.LayerNorm(3, elementwise_affine=False), lambda m: m.GroupNorm(1, 3),
    lambda m: m.GroupNorm(1, 3, affine=False), lambda m: m.InstanceNorm2d(3),
    lambda m: m.InstanceNorm2d(3, affine=True),
])
def test_norm_reprs_match_torch(torch, make):
    assert repr(make(md.nn)).split("  [")[0] == repr(make(torch.nn))
