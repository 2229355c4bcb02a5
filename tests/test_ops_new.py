"""The ops of issue 13 (math and statistics, ordering, shape and indexing, F.one_hot, F.pad)
to the op bar: ``op_test`` on hypothesis shapes (forward vs NumPy, float64 gradcheck of every
input with a random upstream gradient, no input mutation, graph freed, float32 kept,
non-contiguous inputs), specific values (ties, zeros, NaN, errors), and PyTorch as the
oracle for forward and gradients."""

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minidl as md
import minidl.nn.functional as F
from minidl import testing as T
from tests.oracle import check_against_torch

# ----------------------------------------------------------------------------- strategies

# a grid that stays >= 0.1 from every integer and half-integer: the rounding ops' jumps
off_jumps = st.integers(-12, 12).map(lambda k: k * 0.25 + 0.1)
# distinct values (and distinct |values|) >= 0.01 from 0: sort/topk/norm(inf) without ties
spread = st.integers(-40, 40).map(lambda k: k * 0.125 + 0.01)


def dim_kwargs(shapes, keepdim=True, tuples=True):
    """``dim`` (None, an int, or a tuple of ints) and ``keepdim`` for the first shape."""
    ndim = len(shapes[0])
    if ndim == 0:
        dim = st.none()
    else:
        dim = st.none() | st.integers(-ndim, ndim - 1)
        if tuples:
            dim = dim | st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
    return st.fixed_dictionaries({"dim": dim, "keepdim": st.booleans() if keepdim else st.just(False)})


def one_dim(shapes):
    ndim = max(len(shapes[0]), 1)
    return st.integers(-ndim, ndim - 1)


def np_dims(dim, ndim):
    return None if dim is None else tuple(d % max(ndim, 1) for d in np.atleast_1d(dim))


# ----------------------------------------------------------------------------- math and statistics

test_sin = T.op_test(md.sin, np.sin)
test_cos = T.op_test(md.cos, np.cos)
test_sin_method = T.op_test(lambda x: x.sin() * x.cos(), lambda x: np.sin(x) * np.cos(x))
test_sign = T.op_test(md.sign, np.sign, elements=off_jumps)
test_floor = T.op_test(md.floor, np.floor, elements=off_jumps)
test_ceil = T.op_test(md.ceil, np.ceil, elements=off_jumps)
test_round = T.op_test(md.round, np.round, elements=off_jumps)
test_round_decimals = T.op_test(
    lambda x: x.round(decimals=1), lambda x: np.round(x, 1),
    elements=st.integers(-12, 12).map(lambda k: k * 0.25 + 0.01),
)

# zeros are frequent: prod's gradient must be right with none, one and several zeros
with_zeros = st.one_of(st.just(0.0), T.floats(-2, 2))
test_prod = T.op_test(
    lambda x, dim, keepdim: md.prod(x, dim=dim, keepdim=keepdim),
    lambda x, dim, keepdim: np.prod(x, axis=np_dims(dim, x.ndim), keepdims=keepdim),
    elements=with_zeros, kwargs=dim_kwargs, max_dims=3,
)
def one_dim_kwargs(shapes):
    return one_dim(shapes).map(lambda d: {"dim": d})


test_cumsum = T.op_test(
    lambda x, dim: x.cumsum(dim=dim),
    lambda x, dim: np.cumsum(x.reshape(1) if x.ndim == 0 else x, axis=dim).reshape(x.shape),
    kwargs=one_dim_kwargs,
)

# cumprod's backward splits each line at its first zero: zeros must be frequent here too
test_cumprod = T.op_test(
    lambda x, dim: x.cumprod(dim=dim),
    lambda x, dim: np.cumprod(x.reshape(1) if x.ndim == 0 else x, axis=dim).reshape(x.shape),
    elements=with_zeros, kwargs=one_dim_kwargs,
)


def test_cumprod_gradient_at_zeros_by_hand():
    # x = (2, 0, 3, 0, 5): y = (2, 0, 0, 0, 0). With g = 1: dL/dx_0 = y_0 / x_0 = 1 (y_1.. = 0);
    # dL/dx_1 = sum over i >= 1 of the products leaving x_1 out: 2 + 2*3 + 0 + 0 = 8; then 0, 0, 0.
    x = md.tensor([2.0, 0.0, 3.0, 0.0, 5.0], dtype=md.float64, requires_grad=True)
    x.cumprod(0).sum().backward()
    assert x.grad.tolist() == [1.0, 8.0, 0.0, 0.0, 0.0]


def test_sum_to_size_undoes_broadcasting():
    x = md.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    for size, dims in [((1, 4), (0, 1)), ((3, 1), (0, 2)), ((4,), (0, 1)), ((2, 1, 4), (1,)), ((2, 3, 4), ())]:
        want = x.numpy().sum(axis=dims, keepdims=True).reshape(size) if dims else x.numpy()
        assert x.sum_to_size(*size).shape == size and np.allclose(x.sum_to_size(size).numpy(), want)
    g = rng.standard_normal((3, 1))
    x.sum_to_size(3, 1).backward(md.tensor(g))
    np.testing.assert_allclose(x.grad, np.broadcast_to(g, (2, 3, 4)))  # the upstream gradient broadcast back
    for bad in [(5,), (2, 2, 3, 4), (3, 3)]:
        with pytest.raises(ValueError, match=r"sum_to_size: size .* is not expandable to this tensor's shape"):
            x.sum_to_size(bad)


def norm_kwargs(shapes):
    ps = st.sampled_from([1, 2, "fro", np.inf, 3])
    return dim_kwargs(shapes).flatmap(lambda kw: ps.map(lambda p: {**kw, "p": p}))


def np_norm(x, p, dim, keepdim):
    p = 2 if p == "fro" else p
    a = np.abs(x)
    axes = np_dims(dim, x.ndim)
    if p == np.inf:
        return np.max(a, axis=axes, keepdims=keepdim)
    return np.sum(a**p, axis=axes, keepdims=keepdim) ** (1 / p)


test_norm = T.op_test(lambda x, **kw: x.norm(**kw), np_norm, elements=spread, unique=True, kwargs=norm_kwargs)

# ----------------------------------------------------------------------------- ordering


def sort_kwargs(shapes):
    return st.fixed_dictionaries({"dim": one_dim(shapes), "descending": st.booleans()})


def np_sort(x, dim, descending):
    y = np.sort(x, axis=dim)
    return np.flip(y, axis=dim) if descending else y


test_sort_values = T.op_test(
    lambda x, **kw: md.sort(x, **kw).values, np_sort, elements=spread, unique=True, kwargs=sort_kwargs, min_dims=1,
)


@st.composite
def topk_kwargs(draw, shapes):
    shape = shapes[0]
    dim = draw(one_dim(shapes))
    return {"k": draw(st.integers(0, shape[dim])), "dim": dim, "largest": draw(st.booleans())}


def np_topk(x, k, dim, largest):
    y = np_sort(x, dim, largest)
    return np.take(y, np.arange(k), axis=dim)


test_topk_values = T.op_test(
    lambda x, **kw: x.topk(**kw).values, np_topk, elements=spread, unique=True, min_dims=1,
    kwargs=lambda s: topk_kwargs(s),
)

# ----------------------------------------------------------------------------- shape and indexing


def some_dims(shapes):
    ndim = len(shapes[0])
    return st.lists(st.integers(0, max(ndim - 1, 0)), max_size=ndim, unique=True).map(tuple)


test_flip = T.op_test(
    lambda x, dims: md.flip(x, dims), lambda x, dims: np.flip(x, dims) if dims else x.copy(), min_dims=1,
    kwargs=lambda s: some_dims(s).map(lambda d: {"dims": d}),
)


@st.composite
def roll_kwargs(draw, shapes):
    ndim = len(shapes[0])
    if draw(st.booleans()):
        return {"shifts": draw(st.integers(-5, 5)), "dims": None}
    dims = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return {"shifts": tuple(draw(st.integers(-5, 5)) for _ in dims), "dims": tuple(dims)}


test_roll = T.op_test(
    lambda x, shifts, dims: x.roll(shifts, dims), lambda x, shifts, dims: np.roll(x, shifts, dims),
    min_dims=1, kwargs=lambda s: roll_kwargs(s),
)


def repeat_kwargs(shapes):
    ndim = len(shapes[0])
    return st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim + 2).map(lambda r: {"sizes": tuple(r)})


test_repeat = T.op_test(
    lambda x, sizes: x.repeat(*sizes),
    lambda x, sizes: np.tile(x.reshape((1,) * (len(sizes) - x.ndim) + x.shape), sizes),
    kwargs=repeat_kwargs, max_dims=3, max_side=3,
)


@st.composite
def split_kwargs(draw, shapes):
    shape = shapes[0]
    dim = draw(st.integers(0, len(shape) - 1))
    n = shape[dim]
    if draw(st.booleans()):
        return {"sections": draw(st.integers(1, n + 1)), "dim": dim}
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    return {"sections": [b - a for a, b in zip([0] + cuts, cuts + [n])], "dim": dim}


def weighted_join(pieces, dim):
    """Each piece scaled by its position, then joined: the gradient must reach the right piece."""
    return [p * (i + 1) for i, p in enumerate(pieces)], dim


def md_split(x, sections, dim):
    pieces, dim = weighted_join(md.split(x, sections, dim), dim)
    return md.cat(pieces, dim)


def np_split(x, sections, dim):
    n = x.shape[dim]
    if isinstance(sections, int):
        bounds = list(range(sections, n, sections))
    else:
        bounds = list(np.cumsum(sections)[:-1])
    pieces, dim = weighted_join(np.split(x, bounds, axis=dim), dim)
    return np.concatenate(pieces, axis=dim)


test_split = T.op_test(md_split, np_split, min_dims=1, kwargs=lambda s: split_kwargs(s))


@st.composite
def chunk_kwargs(draw, shapes):
    shape = shapes[0]
    dim = draw(st.integers(0, len(shape) - 1))
    return {"chunks": draw(st.integers(1, shape[dim] + 2)), "dim": dim}


def md_chunk(x, chunks, dim):
    pieces, dim = weighted_join(x.chunk(chunks, dim), dim)
    return md.cat(pieces, dim)


def np_chunk(x, chunks, dim):
    return np_split(x, -(-x.shape[dim] // chunks), dim)


test_chunk = T.op_test(md_chunk, np_chunk, min_dims=1, kwargs=lambda s: chunk_kwargs(s))


def np_gather(x, dim, index):
    where = list(np.indices(index.shape, sparse=True))
    where[dim] = index
    return x[tuple(where)]


@st.composite
def gather_kwargs(draw, shapes):
    """A ``dim`` and an int64 ``index``: x's ndim, sizes <= x's except along dim, repeats likely."""
    shape = shapes[0]
    dim = draw(st.integers(0, len(shape) - 1))
    index_shape = tuple(draw(st.integers(1, 4)) if d == dim else draw(st.integers(1, n)) for d, n in enumerate(shape))
    index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[dim] - 1)))
    return {"dim": dim, "index": index}


test_gather = T.op_test(
    lambda x, dim, index: x.gather(dim, md.tensor(index)), np_gather, min_dims=1, kwargs=lambda s: gather_kwargs(s),
)


@st.composite
def scatter_shapes(draw):
    x_shape = draw(T.shapes(min_dims=1, max_dims=3))
    src_shape = tuple(draw(st.integers(1, 4)) for _ in x_shape)
    return x_shape, src_shape


@st.composite
def scatter_kwargs(draw, shapes):
    x_shape, src_shape = shapes
    dim = draw(st.integers(0, len(x_shape) - 1))
    index_shape = tuple(draw(st.integers(1, s)) if d == dim else draw(st.integers(1, min(s, n)))
                        for d, (n, s) in enumerate(zip(x_shape, src_shape)))
    index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, x_shape[dim] - 1)))
    return {"dim": dim, "index": index}


def np_scatter_add(x, src, dim, index):
    y = x.copy()
    where = list(np.indices(index.shape, sparse=True))
    where[dim] = index
    np.add.at(y, tuple(where), src[tuple(slice(0, n) for n in index.shape)])
    return y


test_scatter_add = T.op_test(
    lambda x, src, dim, index: md.scatter_add(x, dim, md.tensor(index), src), np_scatter_add, n_inputs=2,
    shapes=scatter_shapes(), kwargs=lambda s: scatter_kwargs(s),
)
# the mask broadcasts both ways (a smaller mask, or a mask that makes the output bigger)
test_masked_fill = T.op_test(
    lambda x, m, value: x.masked_fill(m > 0, value), lambda x, m, value: np.where(m > 0, value, x),
    n_inputs=2, grad=[True, False], elements=[T.floats(), T.away_from([0.0], 1e-3)],
    kwargs=lambda s: st.sampled_from([-1.5, 0.0, 7.0]).map(lambda v: {"value": v}),
)
test_tril = T.op_test(
    lambda x, diagonal: md.tril(x, diagonal), lambda x, diagonal: np.tril(x, diagonal), min_dims=2,
    kwargs=lambda s: st.integers(-3, 3).map(lambda k: {"diagonal": k}),
)
test_triu = T.op_test(
    lambda x, diagonal: x.triu(diagonal=diagonal), lambda x, diagonal: np.triu(x, diagonal), min_dims=2,
    kwargs=lambda s: st.integers(-3, 3).map(lambda k: {"diagonal": k}),
)


@st.composite
def pad_kwargs(draw, shapes):
    shape = shapes[0]
    k = draw(st.integers(0, len(shape)))
    amounts = []
    for n in reversed(shape[len(shape) - k:]):  # last dim first
        before = draw(st.integers(-1, 2))
        after = draw(st.integers(-1, 2).filter(lambda a, b=before, n=n: n + b + a >= 0))
        amounts += [before, after]
    return {"pad": tuple(amounts), "value": draw(st.sampled_from([None, 0.5]))}


def np_pad(x, pad, value):
    if x.ndim == 0:
        return x.copy()
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    y = np.pad(x, [(max(b, 0), max(a, 0)) for b, a in widths], constant_values=0 if value is None else value)
    crop = tuple(slice(max(-b, 0), y.shape[d] - max(-a, 0)) for d, (b, a) in enumerate(widths))
    return y[crop]


test_pad = T.op_test(lambda x, pad, value: F.pad(x, pad, value=value), np_pad, kwargs=lambda s: pad_kwargs(s))


# ----------------------------------------------------------------------------- specific values


def test_rounding_ops_have_zero_gradient_and_round_half_to_even():
    x = md.tensor([-1.5, -0.5, 0.0, 0.5, 1.5, 2.5, 2.7], dtype=md.float64, requires_grad=True)
    np.testing.assert_array_equal(x.round().numpy(), [-2, -0, 0, 0, 2, 2, 3])
    (x.sign() + x.floor() + x.ceil() + x.round()).sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros(7))


def test_rounding_keeps_integer_dtype():
    i = md.tensor([1, -2, 3])
    for y in (i.floor(), i.ceil(), i.round(), i.sign()):
        assert y.dtype == md.int64
    np.testing.assert_array_equal(i.sign().numpy(), [1, -1, 1])


@pytest.mark.parametrize("values, expected", [
    ([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]),          # no zero: y / x_i
    ([2.0, 0.0, 4.0], [0.0, 8.0, 0.0]),           # one zero: only it gets the product of the others
    ([0.0, 3.0, 0.0], [0.0, 0.0, 0.0]),           # two zeros: every product of the others has a zero
])
def test_prod_gradient_with_zeros(values, expected):
    x = md.tensor(values, dtype=md.float64, requires_grad=True)
    x.prod().backward()
    np.testing.assert_array_equal(x.grad, expected)


def test_norm_gradient_at_zero_is_zero_and_inf_norm_ties_share():
    x = md.tensor([[0.0, 0.0], [3.0, -3.0]], dtype=md.float64, requires_grad=True)
    for p in (1, 2, 3, float("inf")):
        x.grad = None
        x.norm(p=p, dim=1).sum().backward()
        assert np.isfinite(x.grad).all()
        np.testing.assert_array_equal(x.grad[0], [0.0, 0.0])
    np.testing.assert_allclose(x.grad[1], [0.5, -0.5])  # p = inf: the tie shares the gradient


def test_sort_is_stable_both_ways_and_nan_is_largest():
    x = md.tensor([1.0, 3.0, 3.0, 2.0, 3.0])
    np.testing.assert_array_equal(x.sort().indices.numpy(), [0, 3, 1, 2, 4])
    np.testing.assert_array_equal(x.sort(descending=True).indices.numpy(), [1, 2, 4, 3, 0])
    n = md.tensor([1.0, np.nan, 3.0])
    np.testing.assert_array_equal(n.argsort().numpy(), [0, 2, 1])
    np.testing.assert_array_equal(n.argsort(descending=True).numpy(), [1, 2, 0])
    big = md.tensor([np.iinfo(np.int64).min, 0, 5])  # descending without negation: no overflow
    np.testing.assert_array_equal(big.sort(descending=True).values.numpy(), [5, 0, np.iinfo(np.int64).min])


def test_sort_returns_named_tuple_and_indices_carry_no_gradient():
    x = md.tensor([[2.0, 1.0, 3.0]], requires_grad=True)
    result = md.sort(x, dim=1, descending=True)
    values, indices = result
    assert values is result.values and indices is result.indices
    assert indices.dtype == md.int64 and not indices.requires_grad and values.requires_grad
    (values * md.tensor([[1.0, 10.0, 100.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad, [[10.0, 100.0, 1.0]])


def test_topk_ties_take_the_earliest_entries():
    x = md.tensor([1.0, 3.0, 3.0, 2.0, 3.0], requires_grad=True)
    values, indices = x.topk(2)
    np.testing.assert_array_equal(indices.numpy(), [1, 2])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 1, 0, 0])
    np.testing.assert_array_equal(md.topk(x, 2, largest=False).indices.numpy(), [0, 3])


def test_zero_dim_ordering():
    x = md.tensor(2.0, requires_grad=True)
    v, i = x.sort()
    assert v.shape == () and i.item() == 0
    v, i = x.topk(1)
    assert v.shape == () and i.shape == ()
    assert x.cumsum(0).shape == ()


def test_split_chunk_follow_torch_sizes():
    x = md.arange(10.0)
    assert [p.shape[0] for p in x.split(4)] == [4, 4, 2]
    assert [p.shape[0] for p in md.split(x, [2, 0, 8])] == [2, 0, 8]
    assert [p.shape[0] for p in x.chunk(4)] == [3, 3, 3, 1]
    assert [p.shape[0] for p in md.arange(5).chunk(4)] == [2, 2, 1]  # fewer pieces, as torch
    assert np.shares_memory(x.split(4)[1].data, x.data)  # views, as torch


def test_repeat_is_torch_repeat_not_numpy_repeat():
    x = md.tensor([1, 2])
    np.testing.assert_array_equal(x.repeat(2).numpy(), [1, 2, 1, 2])
    assert x.repeat(3, 2).shape == (3, 4)


def test_one_hot_int64_and_inferred_classes():
    y = F.one_hot(md.tensor([[0, 2], [1, 0]]))
    assert y.dtype == md.int64 and y.shape == (2, 2, 3)
    np.testing.assert_array_equal(y.numpy()[0], [[1, 0, 0], [0, 0, 1]])
    assert F.one_hot(md.tensor([1]), num_classes=4).shape == (1, 4)


def test_pad_order_is_last_dim_first():
    x = md.ones(2, 3)
    assert F.pad(x, (1, 2)).shape == (2, 6)
    assert F.pad(x, (1, 2, 0, 1)).shape == (3, 6)
    np.testing.assert_array_equal(F.pad(x, (1, 0), value=-1.0).numpy()[:, 0], [-1.0, -1.0])


@pytest.mark.parametrize("call, error", [
    (lambda: F.one_hot(md.tensor([0.0, 1.0])), TypeError),
    (lambda: F.one_hot(md.tensor([0, 3]), num_classes=3), ValueError),
    (lambda: F.one_hot(md.tensor([-1, 0])), ValueError),
    (lambda: F.one_hot(md.tensor([], dtype=md.int64)), ValueError),
    (lambda: F.pad(md.ones(2), (1,)), ValueError),
    (lambda: F.pad(md.ones(2), (1, 1, 1, 1)), ValueError),
    (lambda: F.pad(md.ones(2), (1, 1), mode="reflect"), NotImplementedError),
    (lambda: F.pad(md.ones(2), (-2, -1)), ValueError),
    (lambda: md.ones(2, 3).gather(1, md.tensor([[0.5]])), TypeError),
    (lambda: md.ones(2, 3).gather(1, md.tensor([[3]])), IndexError),
    (lambda: md.ones(2, 3).gather(1, md.tensor([0])), ValueError),
    (lambda: md.ones(2, 3).gather(0, md.tensor([[0, 0, 0, 0]])), ValueError),
    (lambda: md.ones(2, 3).scatter_add(0, md.tensor([[0]]), md.ones(1, 1, dtype=md.float64)), TypeError),
    (lambda: md.ones(2, 3).masked_fill(md.ones(2, 3), 0.0), TypeError),
    (lambda: md.ones(2, 3).masked_fill(md.ones(4) > 0, 0.0), ValueError),
    (lambda: md.ones(3).tril(), ValueError),
    (lambda: md.ones(3).topk(4), ValueError),
    (lambda: md.ones(2, 3).repeat(2), ValueError),
    (lambda: md.ones(4).split([1, 2]), ValueError),
    (lambda: md.ones(4).chunk(0), ValueError),
    (lambda: md.ones(3).norm(p=0.5), ValueError),
    (lambda: md.ones(3).flip(0, 0), ValueError),
    (lambda: md.ones(3).roll((1, 2), 0), ValueError),
    (lambda: md.ones(3).cumsum(1), ValueError),
])
def test_bad_arguments_raise_clear_errors(call, error):
    with pytest.raises(error):
        call()


# ----------------------------------------------------------------------------- PyTorch oracle

rng = np.random.default_rng(0)
A = rng.standard_normal((4, 5))
B = rng.standard_normal((3, 5))
Z = np.array([[2.0, 0.0, 3.0, 1.5], [0.0, 2.0, 0.0, 1.0], [1.0, 2.0, 3.0, -4.0]])  # zeros in prod
TIES = np.array([[1.0, 3.0, 3.0, 2.0, 3.0], [0.5, 0.5, -1.0, 0.5, 2.0]])
IDX = np.array([[0, 4, 4], [1, 1, 0], [3, 2, 2], [0, 0, 0]])
MASK = rng.standard_normal((4, 1)) > 0
W = [1.0, 10.0, 100.0, 1000.0]

# (name, inputs, minidl expression, torch expression taking the torch module first)
CASES = [
    ("sin_cos", [A], lambda a: a.sin() * md.cos(a), lambda th, a: a.sin() * th.cos(a)),
    ("rounding", [A * 3], lambda a: a.sign() + a.floor() + md.ceil(a) + a.round() + a * 0.5,
     lambda th, a: a.sign() + a.floor() + th.ceil(a) + a.round() + a * 0.5),
    ("prod_zeros", [Z], lambda z: z.prod(dim=1) + md.prod(z, 0, keepdim=True).sum() + z.prod(),
     lambda th, z: z.prod(dim=1) + th.prod(z, 0, keepdim=True).sum() + z.prod()),
    ("cumsum", [A], lambda a: a.cumsum(dim=1) * md.cumsum(a, 0), lambda th, a: a.cumsum(dim=1) * th.cumsum(a, 0)),
    ("cumprod_zeros", [Z], lambda z: z.cumprod(dim=1) * md.cumprod(z, 0),
     lambda th, z: z.cumprod(dim=1) * th.cumprod(z, 0)),
    ("sum_to_size", [A], lambda a: (a * a).sum_to_size(1, 5) * 2, lambda th, a: (a * a).sum_to_size(1, 5) * 2),
    ("norm_p", [A], lambda a: a.norm(p=1, dim=1) + a.norm(dim=0).sum() + a.norm(p=float("inf"), dim=1)
     + md.norm(a, p=3, dim=(0, 1)) + a.norm(p="fro"),
     lambda th, a: a.norm(p=1, dim=1) + a.norm(dim=0).sum() + a.norm(p=float("inf"), dim=1)
     + th.norm(a, p=3, dim=(0, 1)) + a.norm(p="fro")),
    ("norm_zero_rows", [np.array([[0.0, 0.0, 0.0], [3.0, -3.0, 1.0]])],
     lambda z: z.norm(dim=1, keepdim=True) + z.norm(p=1, dim=1, keepdim=True)
     + z.norm(p=float("inf"), dim=1, keepdim=True),
     lambda th, z: z.norm(dim=1, keepdim=True) + z.norm(p=1, dim=1, keepdim=True)
     + z.norm(p=float("inf"), dim=1, keepdim=True)),
    ("sort", [A], lambda a: a.sort(dim=1).values * md.sort(a, 0, descending=True)[0],
     lambda th, a: a.sort(dim=1).values * th.sort(a, 0, descending=True)[0]),
    ("sort_ties_stable", [TIES], lambda t: t.sort(dim=1, descending=True, stable=True).values * md.tensor(W + [1e4]),
     lambda th, t: t.sort(dim=1, descending=True, stable=True).values * th.tensor(W + [1e4], dtype=th.float64)),
    ("topk", [A], lambda a: a.topk(3, dim=1).values + md.topk(a, 2, dim=0, largest=False).values.sum(),
     lambda th, a: a.topk(3, dim=1).values + th.topk(a, 2, dim=0, largest=False).values.sum()),
    ("flip_roll", [A],
     lambda a: a.flip(0) * md.flip(a, (0, 1)) + a.roll(2, 1) + md.roll(a, (1, -1), (0, 1)) + a.roll(3),
     lambda th, a: a.flip(0) * th.flip(a, (0, 1)) + a.roll(2, 1) + th.roll(a, (1, -1), (0, 1)) + a.roll(3)),
    ("repeat", [B], lambda b: b.repeat(2, 1, 3), lambda th, b: b.repeat(2, 1, 3)),
    ("split_chunk", [A],
     lambda a: md.cat([p * (i + 1) for i, p in enumerate(a.split([1, 3], 0) + md.chunk(a, 3, 0))], 0),
     lambda th, a: th.cat([p * (i + 1) for i, p in enumerate(a.split([1, 3], 0) + th.chunk(a, 3, 0))], 0)),
    ("gather", [A], lambda a: a.gather(1, md.tensor(IDX)) * md.gather(a, 0, md.tensor(IDX[:2, :3] % 4)).sum(),
     lambda th, a: a.gather(1, th.tensor(IDX)) * th.gather(a, 0, th.tensor(IDX[:2, :3] % 4)).sum()),
    # (src as large as index: torch's backward refuses a larger src, which its forward accepts)
    ("scatter_add", [A, B[:, :3]], lambda a, b: a.scatter_add(1, md.tensor(IDX[:3]), b) ** 2,
     lambda th, a, b: a.scatter_add(1, th.tensor(IDX[:3]), b) ** 2),
    ("masked_fill", [A], lambda a: a.masked_fill(md.tensor(MASK), -2.0) * md.masked_fill(a, md.tensor(~MASK), 0.5),
     lambda th, a: a.masked_fill(th.tensor(MASK), -2.0) * th.masked_fill(a, th.tensor(~MASK), 0.5)),
    ("tril_triu", [A], lambda a: a.tril() + md.triu(a, 1) * 2 + a.tril(-2) * 3 + md.tril(a.reshape(2, 2, 5), 1).sum(),
     lambda th, a: a.tril() + th.triu(a, 1) * 2 + a.tril(-2) * 3 + th.tril(a.reshape(2, 2, 5), 1).sum()),
    ("pad", [A], lambda a: F.pad(a, (1, 2, -1, 1), value=0.5),
     lambda th, a: th.nn.functional.pad(a, (1, 2, -1, 1), value=0.5)),
]


@pytest.mark.oracle
@pytest.mark.parametrize("name, arrays, ours, theirs", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(torch, name, arrays, ours, theirs):
    check_against_torch(torch, name, arrays, ours, theirs)


@pytest.mark.oracle
def test_indices_match_torch(torch):
    a, t = md.tensor(TIES), torch.tensor(TIES)
    for dim in (0, 1):
        for descending in (False, True):
            ours = md.sort(a, dim=dim, descending=descending, stable=True)
            theirs = torch.sort(t, dim=dim, descending=descending, stable=True)
            np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
            np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
            np.testing.assert_array_equal(a.argsort(dim, descending, stable=True).numpy(),
                                          t.argsort(dim=dim, descending=descending, stable=True).numpy())
    b = md.tensor(A)
    for largest in (True, False):  # no ties in A: the indices are defined
        np.testing.assert_array_equal(b.topk(3, dim=1, largest=largest).indices.numpy(),
                                      torch.tensor(A).topk(3, dim=1, largest=largest).indices.numpy())
    labels = np.array([[2, 0], [1, 3]])
    ours = F.one_hot(md.tensor(labels))
    theirs = torch.nn.functional.one_hot(torch.tensor(labels))
    assert ours.dtype == md.int64 and theirs.dtype == torch.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(F.one_hot(md.tensor(labels), 6).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(labels), 6).numpy())


def test_numpy_aliases_through_dim_aliases():
    x = md.tensor([[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]])
    pairs = [
        (x.prod(axis=1, keepdims=True), x.prod(dim=1, keepdim=True)),
        (md.cumsum(x, axis=0), md.cumsum(x, dim=0)),
        (x.norm(p=1, axis=1), x.norm(p=1, dim=1)),
        (md.sort(x, axis=0).values, md.sort(x, dim=0).values),
        (x.argsort(axis=1, descending=True), x.argsort(dim=1, descending=True)),
        (md.topk(x, 2, axis=1).indices, md.topk(x, 2, dim=1).indices),
        (x.flip(axes=(0, 1)), x.flip(dims=(0, 1))),
        (md.flip(x, axes=1), md.flip(x, 1)),
        (x.roll(1, axes=1), x.roll(1, dims=1)),
        (x.gather(axis=1, index=md.tensor([[0], [2]])), x.gather(1, md.tensor([[0], [2]]))),
        (md.split(x, 1, axis=1)[2], x.split(1, dim=1)[2]),
        (x.chunk(2, axis=1)[1], md.chunk(x, 2, dim=1)[1]),
    ]
    for ours, expected in pairs:
        np.testing.assert_array_equal(ours.numpy(), expected.numpy())
    with pytest.raises(TypeError):
        x.cumsum(dim=0, axis=0)
    with pytest.raises(TypeError):
        md.sort(x, 0, axis=0)


def test_split_keyword_names_follow_torch():
    x = md.arange(10.0)
    assert [p.shape for p in x.split(split_size=3)] == [(3,), (3,), (3,), (1,)]  # torch.Tensor.split's name
    assert [p.shape for p in md.split(x, split_size_or_sections=[4, 6])] == [(4,), (6,)]  # torch.split's name
