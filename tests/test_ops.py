"""Every differentiable op against NumPy and central differences (minidl.testing.op_test).

Each ``op_test`` line checks, on hypothesis-drawn shapes (broadcasting, size-1 axes, 0-d):
forward vs NumPy, gradcheck of every input with a random upstream gradient, no input
mutation, graph freed after backward, float32 preserved, non-contiguous inputs.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minidl as md
from minidl import testing as T

# ----------------------------------------------------------------------------- strategies

nonzero = T.away_from([0.0], margin=0.3)
positive = T.floats(0.2, 5.0)
no_kink = T.away_from([0.0], margin=1e-2)


def axis_kwargs(shapes, keepdims=True):
    """An ``axis`` (None, an int or a tuple of ints, negative ones included) for the first shape."""
    ndim = len(shapes[0])
    if ndim == 0:
        axis = st.none()
    else:
        one = st.integers(-ndim, ndim - 1)
        axis = st.none() | one | st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
    return st.fixed_dictionaries({"axis": axis, "keepdims": st.booleans() if keepdims else st.just(False)})


def one_axis_kwargs(shapes):
    ndim = max(len(shapes[0]), 1)
    return st.fixed_dictionaries({"axis": st.integers(-ndim, ndim - 1)})


# distinct value grids, so maximum/minimum never see ties (ties are tested separately)
grid_a = st.integers(-6, 6).map(lambda k: k * 0.5 + 0.1)
grid_b = st.integers(-6, 6).map(lambda k: k * 0.5 + 0.35)

# ----------------------------------------------------------------------------- arithmetic

test_add = T.op_test(lambda a, b: a + b, np.add, n_inputs=2)
test_sub = T.op_test(lambda a, b: a - b, np.subtract, n_inputs=2)
test_mul = T.op_test(lambda a, b: a * b, np.multiply, n_inputs=2)
test_div = T.op_test(lambda a, b: a / b, np.divide, n_inputs=2, elements=[T.floats(), nonzero])
test_pow_tensor = T.op_test(lambda a, b: a**b, np.power, n_inputs=2, elements=[positive, T.floats(-2, 2)])
test_pow_scalar = T.op_test(lambda a: a**3, lambda a: a**3)
test_pow_fractional = T.op_test(lambda a: a**0.5, np.sqrt, elements=positive)
test_rpow = T.op_test(lambda a: 2.0**a, lambda a: 2.0**a)
test_neg = T.op_test(lambda a: -a, np.negative)
test_rsub_scalar = T.op_test(lambda a: 1.5 - a, lambda a: 1.5 - a)
test_rdiv_scalar = T.op_test(lambda a: 2.0 / a, lambda a: 2.0 / a, elements=nonzero)
test_add_scalar = T.op_test(lambda a: a + 3 + 0.5, lambda a: a + 3.5)


@st.composite
def matmul_shapes(draw):
    """(a_shape, b_shape) covering 1-D x 1-D, 1-D x N-D, N-D x 1-D, 2-D and batched broadcasting."""
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    kind = draw(st.sampled_from(["mm", "vv", "vm", "mv", "batched", "vbatched", "batchedv"]))
    batch_a, batch_b = draw(T.broadcastable_shapes(2, min_dims=1, max_dims=2, max_side=3))
    return {
        "mm": ((n, k), (k, m)),
        "vv": ((k,), (k,)),
        "vm": ((k,), (k, m)),
        "mv": ((n, k), (k,)),
        "batched": (batch_a + (n, k), batch_b + (k, m)),
        "vbatched": ((k,), batch_b + (k, m)),
        "batchedv": (batch_a + (n, k), (k,)),
    }[kind]


# a tensor and a plain Python number (PyTorch's "wrapped number": MulScalar, AddScalar)
scalar_kwargs = st.fixed_dictionaries({"c": st.sampled_from([2.5, -3, 0.0, 1e-3])})
test_mul_python_number = T.op_test(lambda a, c: a * c, lambda a, c: a * c, kwargs=lambda shapes: scalar_kwargs)
test_rmul_python_number = T.op_test(lambda a, c: c * a, lambda a, c: c * a, kwargs=lambda shapes: scalar_kwargs)
test_add_python_number = T.op_test(lambda a, c: a + c, lambda a, c: a + c, kwargs=lambda shapes: scalar_kwargs)
test_radd_python_number = T.op_test(lambda a, c: c + a, lambda a, c: c + a, kwargs=lambda shapes: scalar_kwargs)
test_sub_python_number = T.op_test(lambda a, c: a - c, lambda a, c: a - c, kwargs=lambda shapes: scalar_kwargs)


@pytest.mark.parametrize("dtype", [md.float32, md.float64])
@pytest.mark.parametrize("expr", ["x * c", "c * x", "x + c", "c + x", "x - c"])
def test_python_numbers_give_the_bits_of_a_constant_tensor_and_its_gradient(expr, dtype):
    """The wrapped-number ops compute exactly what the op with a 0-d constant of the tensor's
    dtype computes, forward and backward; and their graph node saves nothing."""
    rng = np.random.default_rng(0)
    data, upstream = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    results = []
    for c in (0.1, md.tensor(np.asarray(0.1, dtype=dtype))):  # a number; the same as a 0-d tensor
        x = md.tensor(data, dtype=dtype, requires_grad=True)
        y = eval(expr, {"x": x, "c": c})
        y.backward(md.tensor(upstream, dtype=dtype))
        results.append((y.numpy(), x.grad.copy(), y.grad_fn))
    (y_num, g_num, fn_num), (y_ten, g_ten, fn_ten) = results
    assert y_num.dtype == dtype and g_num.dtype == dtype
    np.testing.assert_array_equal(y_num, y_ten)
    np.testing.assert_array_equal(g_num, g_ten)
    assert type(fn_num).__name__ in ("MulScalar", "AddScalar", "SubScalar") and fn_num.name == fn_ten.name
    assert fn_num.saved == ()


def test_python_numbers_with_integer_tensors_and_numpy_scalars_keep_the_general_rules():
    """Integer and bool tensors, bools and NumPy scalars take the general path (dtype rules)."""
    i = md.tensor([1, 2, 3])
    assert (i * 2).dtype == md.int64 and (i * 2.5).dtype == md.float32
    np.testing.assert_array_equal((i * 2.5).numpy(), [2.5, 5.0, 7.5])
    x = md.tensor([1.0, 2.0], requires_grad=True)
    assert type((x * True).grad_fn).__name__ == "Mul"
    assert type((x * np.float64(2.0)).grad_fn).__name__ == "Mul" and (x * np.float64(2.0)).dtype == md.float32


test_matmul = T.op_test(md.matmul, np.matmul, n_inputs=2, shapes=matmul_shapes())
test_matmul_operator = T.op_test(lambda a, b: a @ b, np.matmul, n_inputs=2, shapes=matmul_shapes())

# ----------------------------------------------------------------------------- element-wise

test_exp = T.op_test(md.exp, np.exp)
test_log = T.op_test(md.log, np.log, elements=positive)
test_sqrt = T.op_test(md.sqrt, np.sqrt, elements=positive)
test_log1p = T.op_test(md.log1p, np.log1p, elements=positive)
test_expm1 = T.op_test(md.expm1, np.expm1, elements=T.floats(-5, 5))
test_log2 = T.op_test(md.log2, np.log2, elements=positive)
test_log10 = T.op_test(md.log10, np.log10, elements=positive)
test_square = T.op_test(md.square, np.square)
test_reciprocal = T.op_test(md.reciprocal, np.reciprocal, elements=nonzero)
test_rsqrt = T.op_test(md.rsqrt, lambda x: 1 / np.sqrt(x), elements=positive)
test_abs = T.op_test(md.abs, np.abs, elements=no_kink)
test_tanh = T.op_test(md.tanh, np.tanh)
test_sigmoid = T.op_test(md.sigmoid, lambda x: 1 / (1 + np.exp(-x)), elements=T.floats(-20, 20))
test_relu = T.op_test(md.relu, lambda x: np.maximum(x, 0), elements=no_kink)
test_leaky_relu = T.op_test(
    md.leaky_relu, lambda x, negative_slope: np.where(x > 0, x, negative_slope * x), elements=no_kink,
    kwargs=lambda s: st.fixed_dictionaries({"negative_slope": st.sampled_from([0.01, 0.1, 0.3])}),
)
test_clip = T.op_test(
    md.clip, lambda x, min, max: np.clip(x, min, max), elements=T.away_from([-1.0, 1.0], 1e-2),
    kwargs={"min": -1.0, "max": 1.0},
)
test_clip_lower_only = T.op_test(
    md.clip, lambda x, min: np.maximum(x, min), elements=T.away_from([0.5], 1e-2), kwargs={"min": 0.5},
)
test_maximum = T.op_test(md.maximum, np.maximum, n_inputs=2, elements=[grid_a, grid_b])
test_minimum = T.op_test(md.minimum, np.minimum, n_inputs=2, elements=[grid_a, grid_b])
test_where = T.op_test(
    lambda a, b, c: md.where(c > 0, a, b), lambda a, b, c: np.where(c > 0, a, b),
    n_inputs=3, grad=[True, True, False], elements=[T.floats(), T.floats(), T.away_from([0.0], 1e-3)],
)

# ----------------------------------------------------------------------------- reductions

test_sum = T.op_test(lambda x, **kw: x.sum(**kw), lambda x, **kw: np.sum(x, **kw), kwargs=axis_kwargs)
test_mean = T.op_test(lambda x, **kw: x.mean(**kw), lambda x, **kw: np.mean(x, **kw), kwargs=axis_kwargs)


def var_kwargs(shapes):
    def with_correction(kw):
        axes = range(len(shapes[0])) if kw["axis"] is None else np.atleast_1d(kw["axis"])
        n = int(np.prod([shapes[0][a] for a in axes])) if len(shapes[0]) else 1
        return st.fixed_dictionaries({**{k: st.just(v) for k, v in kw.items()},
                                      "correction": st.sampled_from([0, 1] if n > 1 else [0])})
    return axis_kwargs(shapes).flatmap(with_correction)


test_var = T.op_test(
    lambda x, correction, **kw: x.var(correction=correction, **kw),
    lambda x, correction, **kw: np.var(x, ddof=correction, **kw), kwargs=var_kwargs,
)


def test_std_gradient_is_zero_on_a_constant_slice_like_torch():
    """sqrt's 1 / (2 y) is infinite at y = 0; std's gradient there is 0 (PyTorch), not NaN."""
    x = md.tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]], requires_grad=True)
    x.std(dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.0, 0.0], [-0.5, 0.0, 0.5]])
    x = md.tensor([2.0], requires_grad=True)  # n - correction = 0: NaN value and gradient, as torch
    x.std().backward()
    assert np.isnan(x.grad).all()


# distinct values at least 2 * eps apart: the max/min gradient is only defined without ties
spread = st.integers(-40, 40).map(lambda k: k * 0.125 + 0.01)
test_amax = T.op_test(lambda x, **kw: x.amax(**kw), lambda x, **kw: np.max(x, **kw), kwargs=axis_kwargs,
                      unique=True, elements=spread)
test_amin = T.op_test(lambda x, **kw: x.amin(**kw), lambda x, **kw: np.min(x, **kw), kwargs=axis_kwargs,
                      unique=True, elements=spread)
# std's gradient (x - mean) / ((n - correction) std): values 0.125 apart keep std far from its kink at 0
test_std = T.op_test(
    lambda x, correction, **kw: x.std(correction=correction, **kw),
    lambda x, correction, **kw: np.std(x, ddof=correction, **kw), kwargs=var_kwargs, unique=True,
    elements=spread,
)
test_logsumexp = T.op_test(
    md.logsumexp, lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims)),
    kwargs=axis_kwargs,
)


def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


test_softmax = T.op_test(md.softmax, np_softmax, kwargs=one_axis_kwargs, min_dims=1)
test_log_softmax = T.op_test(md.log_softmax, lambda x, axis: np.log(np_softmax(x, axis)), kwargs=one_axis_kwargs,
                             min_dims=1)

# ----------------------------------------------------------------------------- shapes


def reshape_kwargs(shapes):
    shape = shapes[0]
    size = int(np.prod(shape))
    targets = [(size,), (1, size), tuple(reversed(shape)), (-1,), shape + (1,)]
    return st.sampled_from(targets).map(lambda s: {"shape": s})


test_reshape = T.op_test(lambda x, shape: x.reshape(shape), lambda x, shape: np.reshape(x, shape),
                         kwargs=reshape_kwargs)
test_transpose = T.op_test(
    lambda x, axes: md.permute(x, axes),
    lambda x, axes: np.transpose(x, axes),
    kwargs=lambda s: st.permutations(list(range(len(s[0])))).map(lambda p: {"axes": tuple(p)}),
)
test_T = T.op_test(lambda x: x.T, lambda x: x.T)


def flatten_kwargs(shapes):
    ndim = max(len(shapes[0]), 1)
    return st.tuples(st.integers(0, ndim - 1), st.integers(0, ndim - 1)).map(
        lambda p: {"start_axis": min(p), "end_axis": max(p)})


def np_flatten(x, start_axis, end_axis):
    if x.ndim == 0:
        return x.reshape(1)
    return x.reshape(x.shape[:start_axis] + (-1,) + x.shape[end_axis + 1:])


test_flatten = T.op_test(md.flatten, np_flatten, kwargs=flatten_kwargs)
test_squeeze = T.op_test(md.squeeze, np.squeeze)
test_unsqueeze = T.op_test(
    md.unsqueeze, lambda x, axis: np.expand_dims(x, axis),
    kwargs=lambda s: st.integers(-len(s[0]) - 1, len(s[0])).map(lambda a: {"axis": a}),
)


def broadcast_kwargs(shapes):
    return st.integers(1, 3).map(lambda lead: {"shape": (lead,) + tuple(3 if n == 1 else n for n in shapes[0])})


test_broadcast_to = T.op_test(lambda x, shape: md.broadcast_to(x, shape), lambda x, shape: np.broadcast_to(x, shape),
                              kwargs=broadcast_kwargs)


@st.composite
def concat_shapes(draw):
    base = draw(T.shapes(min_dims=1, max_dims=3))
    axis = draw(st.integers(0, len(base) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=3, max_size=3))
    return tuple(base[:axis] + (n,) + base[axis + 1:] for n in sizes)


test_concatenate = T.op_test(
    lambda *xs, axis: md.concatenate(xs, axis=axis), lambda *xs, axis: np.concatenate(xs, axis=axis),
    n_inputs=3, shapes=concat_shapes(),
    kwargs=lambda s: st.just({"axis": next(i for i in range(len(s[0])) if len({x[i] for x in s}) > 1)
                              if len({tuple(x) for x in s}) > 1 else 0}),
)
test_stack = T.op_test(
    lambda *xs, axis: md.stack(xs, axis=axis), lambda *xs, axis: np.stack(xs, axis=axis), n_inputs=3,
    broadcast=False, kwargs=lambda s: st.integers(-len(s[0]) - 1, len(s[0])).map(lambda a: {"axis": a}),
)

test_getitem_basic = T.op_test(
    lambda x, index: x[index], lambda x, index: x[index], min_dims=1,
    kwargs=lambda s: hnp.basic_indices(s[0], allow_newaxis=True).map(lambda i: {"index": i}),
)
test_getitem_integer_arrays = T.op_test(  # repeated indices must accumulate
    lambda x, index: x[index], lambda x, index: x[index], min_dims=1,
    kwargs=lambda s: hnp.integer_array_indices(s[0]).map(lambda i: {"index": i}),
)
test_getitem_mask = T.op_test(
    lambda x, index: x[index], lambda x, index: x[index], min_dims=1,
    kwargs=lambda s: hnp.arrays(bool, s[0]).map(lambda m: {"index": m}),
)
test_getitem_mixed = T.op_test(
    lambda x: x[1:, [0, 0, 1]], lambda x: x[1:, [0, 0, 1]],
    shapes=st.tuples(st.integers(2, 4), st.integers(2, 4)).map(lambda s: (s,)),
)


# ----------------------------------------------------------------------------- specific values


def test_getitem_repeated_index_accumulates():
    x = md.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


def test_max_ties_split_gradient_evenly():
    x = md.tensor([[1.0, 5.0, 5.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.amax(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    y = md.tensor([3.0, 3.0], requires_grad=True)
    y.max().backward()
    np.testing.assert_allclose(y.grad, [0.5, 0.5])


def test_maximum_minimum_ties_split_half_half():
    a = md.tensor([1.0, 2.0], requires_grad=True)
    b = md.tensor([1.0, 0.0], requires_grad=True)
    (md.maximum(a, b) + md.minimum(a, b)).sum().backward()
    np.testing.assert_allclose(a.grad, [1.0, 1.0])
    np.testing.assert_allclose(b.grad, [1.0, 1.0])
    a.grad = b.grad = None
    md.maximum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad, [0.5, 1.0])
    np.testing.assert_allclose(b.grad, [0.5, 0.0])


def test_relu_abs_gradient_at_zero_is_zero():
    x = md.tensor([0.0], requires_grad=True)
    (x.relu() + x.abs()).sum().backward()
    assert x.grad[0] == 0.0


@pytest.mark.parametrize("op", [md.softmax, md.log_softmax])
def test_softmax_family_stable_for_huge_logits(op):
    x = md.tensor([[1e4, 0.0, -1e4], [1000.0, 1000.0, 1000.0]], requires_grad=True)
    y = op(x)
    assert np.isfinite(y.numpy()).all()
    y.sum().backward()
    assert np.isfinite(x.grad).all()
    probs = md.softmax(x).numpy()
    np.testing.assert_allclose(probs[0], [1, 0, 0], atol=1e-7)
    np.testing.assert_allclose(probs[1], [1 / 3] * 3, rtol=1e-6)


def test_logsumexp_stable_and_handles_minus_inf():
    x = md.tensor([1e4, 1e4], dtype=md.float64)
    np.testing.assert_allclose(md.logsumexp(x).item(), 1e4 + np.log(2))
    ninf = md.tensor([-np.inf, -np.inf], dtype=md.float64)
    assert md.logsumexp(ninf).item() == -np.inf


@pytest.mark.parametrize("op, low, high", [(md.sigmoid, 0.0, 1.0), (md.tanh, -1.0, 1.0), (md.exp, 0.0, np.inf)])
def test_saturating_ops_exact_limits_without_warnings(op, low, high):
    # filterwarnings = error turns any overflow RuntimeWarning into a failure
    x = md.tensor([-1000.0, 1000.0], requires_grad=True)
    y = op(x)
    np.testing.assert_array_equal(y.numpy(), [low, high])
    if op is not md.exp:
        y.sum().backward()
        np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_sigmoid_tails_keep_relative_precision():
    x = md.tensor([-30.0, 30.0], dtype=md.float64)
    np.testing.assert_allclose(md.sigmoid(x).numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-12)


def test_cast_is_differentiable_and_grad_keeps_source_dtype():
    x = md.tensor([1.0, 2.0], dtype=md.float64, requires_grad=True)
    y = x.astype(md.float32)
    assert y.dtype == md.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, [2.0, 4.0])


def test_clone_copies_memory_and_passes_gradient():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    assert not np.shares_memory(x.data, y.data)
    (y * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_comparisons_are_boolean_and_not_differentiable():
    x = md.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r, expected in [(x > 2, [0, 0, 1]), (x >= 2, [0, 1, 1]), (x < 2, [1, 0, 0]),
                        (x <= 2, [1, 1, 0]), (x == 2, [0, 1, 0]), (x != 2, [1, 0, 1])]:
        assert r.dtype == md.bool_ and not r.requires_grad
        np.testing.assert_array_equal(r.numpy(), np.array(expected, dtype=bool))


@given(T.arrays(T.shapes(min_dims=1)))
def test_std_is_sqrt_of_var(a):
    x = md.tensor(a)
    np.testing.assert_allclose(x.std(correction=0).numpy(), np.std(a), rtol=1e-10, atol=1e-12)


def test_sigmoid_is_exact_in_both_tails_and_never_overflows():
    x = np.array([-1000.0, -745.0, -80.0, -30.0, -1.0, 0.0, 1.0, 30.0, 80.0, 1000.0])
    with np.errstate(over="raise"):
        got64 = md.sigmoid(md.tensor(x, dtype=md.float64)).numpy()
        got32 = md.sigmoid(md.tensor(x, dtype=md.float32)).numpy()
    expected = np.array([float(1 / (1 + __import__("math").exp(-v))) if v > -700 else 0.0 for v in x])
    expected[1] = 5e-324  # e^-745 is the smallest subnormal float64
    np.testing.assert_allclose(got64, expected, rtol=1e-15, atol=0)
    np.testing.assert_allclose(got32, expected.astype(np.float32), rtol=2e-7, atol=0)
    assert got64[0] == 0.0 and got64[-1] == 1.0 and got64[5] == 0.5
# a % 1.5 jumps at every multiple of 1.5: keep the central differences off the jumps
test_remainder = T.op_test(lambda a: a % 1.5, lambda a: np.remainder(a, 1.5),
                           elements=T.away_from([k * 1.5 for k in range(-2, 3)], margin=0.05))
