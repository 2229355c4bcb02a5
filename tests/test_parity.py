"""PyTorch parity: the same call gives PyTorch's shapes, values and gradients.

Each test states the PyTorch behaviour it pins down and checks it against torch itself (the
oracle tests skip without torch). Section 1: places where minidl used to give silently
different numbers. Section 2: PyTorch's keywords (``dim``/``keepdim``, with NumPy's
``axis``/``keepdims`` as aliases) and return types.
"""

import inspect
import random

import numpy as np
import pytest
from hypothesis import strategies as st

import minidl as md
import minidl.nn.functional as F
from minidl import testing as T
from minidl.tensor import NUMPY_ALIASES, Tensor, ValuesIndices

RNG = np.random.default_rng(13)


def _torch():
    return pytest.importorskip("torch")


def _pair(a, requires_grad=True):
    """The same float64 values as a minidl and a torch tensor."""
    torch = _torch()
    a = np.asarray(a, dtype=np.float64)
    return md.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def _close(ours, theirs, what=""):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = ours.numpy() if isinstance(ours, Tensor) else np.asarray(ours)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, torch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, err_msg=what)


def _grads_match(md_fn, th_fn, a, what=""):
    """Forward and gradient (random upstream) of md_fn and th_fn on the float64 array a."""
    x, tx = _pair(a)
    y, ty = md_fn(x), th_fn(tx)
    _close(y, ty, f"{what} forward")
    g = RNG.standard_normal(ty.shape)
    y.backward(g)
    ty.backward(_torch().tensor(g))
    _close(x.grad, tx.grad, f"{what} gradient")


# =========================================================================== 1. silent differences
# ----------------------------------------------------------------- transpose and permute


def test_transpose_swaps_two_dims_at_every_rank_like_torch():
    assert md.arange(6.).reshape(2, 3).transpose(0, 1).shape == (3, 2)  # the repro
    assert md.arange(6.).reshape(2, 3).transpose(-2, -1).shape == (3, 2)
    for shape in [(4,), (2, 3), (2, 3, 4), (2, 1, 3, 4)]:
        a = RNG.standard_normal(shape)
        for d0 in range(-len(shape), len(shape)):
            for d1 in range(-len(shape), len(shape)):
                _grads_match(lambda x: x.transpose(d0, d1), lambda t: t.transpose(d0, d1), a, f"{shape} {d0},{d1}")
                _close(md.transpose(md.tensor(a), d0, d1), _torch().tensor(a).transpose(d0, d1))


def test_permute_needs_every_dim():
    x = md.zeros(3, 4, 5, 6)
    with pytest.raises(ValueError, match="permute: dims .* each of the 4 dims"):
        x.permute(0, 2)  # torch raises too; it used to swap two axes
    with pytest.raises(ValueError, match="exactly once"):
        x.permute(0, 1, 1, 2)
    with pytest.raises(ValueError, match="exactly once"):
        x.permute(0, 1, 2, 4)
    assert x.permute(3, 1, 0, 2).shape == (6, 4, 3, 5)
    assert x.permute((3, 1, 0, 2)).shape == x.permute(dims=(3, 1, 0, 2)).shape == (6, 4, 3, 5)
    assert md.permute(x, (-1, 0, 1, 2)).shape == (6, 3, 4, 5)
    assert md.tensor(2.0).permute().shape == ()
    a = RNG.standard_normal((2, 3, 4))
    _grads_match(lambda t: t.permute(2, 0, 1), lambda t: t.permute(2, 0, 1), a, "permute")


def test_T_reverses_all_dims():
    assert md.zeros(2, 3, 4).T.shape == (4, 3, 2)
    assert md.zeros(5).T.shape == (5,)


# ----------------------------------------------------------------- indexing


def test_int_with_index_array_follows_torch():
    torch = _torch()
    assert md.zeros(4, 3, 5)[0, :, [0, 1]].shape == (3, 2)  # the repro (NumPy gives (2, 3))
    assert md.zeros(4, 3, 5, 6)[:, [0, 1], :, 0].shape == tuple(torch.zeros(4, 3, 5, 6)[:, [0, 1], :, 0].shape)
    assert md.zeros(4, 3, 5)[md.tensor(0), :, [0, 1]].shape == (3, 2)  # a 0-d int tensor is an int, as in torch


def _random_index(shape, rng):
    """A random index mixing ints, slices, None, Ellipsis, int lists/arrays and boolean masks."""
    parts, dim = [], 0
    used_ellipsis = False
    while dim < len(shape):
        kind = rng.choice(["int", "slice", "slice", "list", "array2d", "none", "ellipsis", "mask", "stop"])
        n = shape[dim]
        if kind == "int":
            parts.append(int(rng.integers(-n, n)))
            dim += 1
        elif kind == "slice":
            start, stop = sorted(int(v) for v in rng.integers(-n, n + 1, size=2))
            parts.append(slice(start, stop, int(rng.choice([1, 1, 2]))))
            dim += 1
        elif kind == "list":
            parts.append([int(v) for v in rng.integers(-n, n, size=int(rng.integers(1, 4)))])
            dim += 1
        elif kind == "array2d":
            parts.append(rng.integers(0, n, size=(2, int(rng.integers(1, 3)))))
            dim += 1
        elif kind == "none":
            parts.append(None)
        elif kind == "ellipsis" and not used_ellipsis:
            parts.append(Ellipsis)
            used_ellipsis = True
            dim = len(shape) - int(rng.integers(0, len(shape) - dim + 1))
        elif kind == "mask":
            parts.append(rng.random(n) < 0.6)
            dim += 1
        elif kind == "stop":
            break
    return tuple(parts)


def test_mixed_indexing_matches_torch_over_many_random_indices():
    torch = _torch()
    rng = np.random.default_rng(0)
    checked = mixed = 0
    for _ in range(600):
        shape = tuple(int(v) for v in rng.integers(1, 5, size=int(rng.integers(1, 5))))
        index = _random_index(shape, rng)
        if sum(isinstance(p, np.ndarray) and p.dtype == bool for p in index) > 1:
            continue  # two masks rarely broadcast; not what this test is about
        a = rng.standard_normal(shape)
        t_index = tuple(torch.tensor(p) if isinstance(p, np.ndarray) else p for p in index)
        try:
            expected = torch.tensor(a)[t_index]
        except (IndexError, RuntimeError):
            with pytest.raises(IndexError):
                md.tensor(a)[index]
            continue
        x, tx = _pair(a)
        y = x[index]
        assert y.shape == tuple(expected.shape), (shape, index)
        np.testing.assert_array_equal(y.numpy(), expected.numpy())
        g = rng.standard_normal(tuple(expected.shape))
        y.backward(g)
        tx[t_index].backward(torch.tensor(g))
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
        # assignment writes the same places
        v = rng.standard_normal(tuple(expected.shape))
        mine, theirs = md.tensor(a), torch.tensor(a)
        mine[index] = v
        theirs[t_index] = torch.tensor(v)
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
        checked += 1
        has_int = any(isinstance(p, int) for p in index)
        mixed += has_int and any(isinstance(p, (list, np.ndarray)) for p in index)
    assert checked > 300 and mixed > 50, (checked, mixed)


# ----------------------------------------------------------------- ** at a zero base


def test_pow_gradients_at_zero_base_like_torch():
    torch = _torch()
    x, tx = _pair([0.0, 2.0])
    (x**0).sum().backward()
    (tx**0).sum().backward()
    _close(x.grad, tx.grad, "x**0")
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])

    x, tx = _pair([0.0, 1.0, 2.0])
    (0**x).sum().backward()
    (0**tx).sum().backward()
    _close(x.grad, tx.grad, "0**x")
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])

    (x, y), (tx, ty) = zip(_pair(0.0), _pair(0.0))
    (x**y).backward()
    (tx**ty).backward()
    assert (float(x.grad), float(y.grad)) == (0.0, 0.0) == (tx.grad.item(), ty.grad.item())

    # elsewhere the usual values, including a negative base and 0 to a negative power
    a, b = np.array([0.0, 0.0, -2.0, 3.0, 0.0]), np.array([-1.0, 0.5, 2.0, 1.5, 0.0])
    (x, y), (tx, ty) = zip(_pair(a), _pair(b))
    (x**y).sum().backward()
    (tx**ty).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    np.testing.assert_array_equal(y.grad, ty.grad.numpy())
    del torch


# ----------------------------------------------------------------- NaN in max / min


@pytest.mark.parametrize("name", ["max", "min"])
def test_nan_propagates_in_max_min_gradients_like_torch(name):
    x, tx = _pair([np.nan, 1.0, 2.0])
    getattr(x, name)().backward()
    getattr(tx, name)().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    a = np.array([[np.nan, 1.0, np.nan], [1.0, 2.0, 2.0], [3.0, np.nan, 0.0]])
    _grads_match(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), a, f"{name}() two NaNs")
    _grads_match(lambda t: getattr(t, name)(1).values, lambda t: getattr(t, name)(1).values, a, f"{name}(1)")
    _close(getattr(md.tensor(a), name)(1).indices, getattr(_torch().tensor(a), name)(1).indices)


def test_amax_with_nan_sends_the_gradient_to_the_nans():
    # torch's amax(dim) gives NaN gradients to the whole row holding a NaN; minidl keeps
    # max()'s rule for every dim (the NaN entries share the gradient, the others get 0)
    x = md.tensor([[np.nan, 1.0, np.nan], [1.0, 2.0, 2.0]], requires_grad=True)
    x.amax(1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.5, 0.0, 0.5], [0.0, 0.5, 0.5]])


# ----------------------------------------------------------------- squeeze and 0-d dims


def test_squeeze_leaves_a_dim_that_is_not_1_like_torch():
    torch = _torch()
    for shape in [(2, 3), (2, 1, 3), (1, 3, 1)]:
        a = np.zeros(shape)
        for d in range(-len(shape), len(shape)):
            assert md.tensor(a).squeeze(d).shape == tuple(torch.tensor(a).squeeze(d).shape)
        assert md.tensor(a).squeeze((0, -1)).shape == tuple(torch.tensor(a).squeeze((0, -1)).shape)
    assert md.ones(2, 3).squeeze(1).shape == (2, 3)


@pytest.mark.parametrize("dim", [0, -1])
def test_zero_d_tensors_take_dim_0_and_minus_1(dim):
    for name in ["sum", "mean", "logsumexp", "amax", "amin"]:
        _grads_match(lambda t: getattr(t, name)(dim), lambda t: getattr(t, name)(dim), 3.0, f"{name}({dim})")
    _grads_match(lambda t: t.sum(dim, keepdim=True), lambda t: t.sum(dim, keepdim=True), 3.0, "sum keepdim")
    _grads_match(lambda t: t.squeeze(dim), lambda t: t.squeeze(dim), 3.0, "squeeze")
    _grads_match(lambda t: t.max(dim).values, lambda t: t.max(dim).values, 3.0, "max(dim)")
    assert md.tensor(3.0).argmax(dim).shape == () and md.tensor(3.0).transpose(dim, 0).shape == ()
    assert md.tensor(3.0).unsqueeze(dim).shape == (1,)
    with pytest.raises(ValueError, match="out of range"):
        md.tensor(3.0).sum(1)
    with pytest.raises(ValueError, match="out of range"):
        md.tensor(3.0).squeeze(1)


# ----------------------------------------------------------------- clip and linspace


def test_clip_with_min_above_max_returns_max_like_torch():
    a = np.array([-1.0, 1.0, 5.0])
    _grads_match(lambda t: t.clip(3.0, 0.0), lambda t: t.clamp(3.0, 0.0), a, "clip(3, 0)")
    _grads_match(lambda t: md.clamp(t, 3.0, 0.0), lambda t: t.clamp(3.0, 0.0), a, "md.clamp(3, 0)")


def test_integer_linspace_truncates_toward_zero_like_torch():
    torch = _torch()
    np.testing.assert_array_equal(md.linspace(-5, 5, 4, dtype=md.int64).numpy(), [-5, -1, 1, 5])
    rng = random.Random(1)
    for _ in range(300):
        start, end = rng.uniform(-20, 20), rng.uniform(-20, 20)
        steps = rng.randint(0, 9)
        for dtype, th_dtype in [(md.int64, torch.int64), (md.int32, torch.int32)]:
            ours = md.linspace(start, end, steps, dtype=dtype)
            theirs = torch.linspace(start, end, steps, dtype=th_dtype)
            assert ours.dtype == dtype
            # where the exact value is an integer, torch's SIMD rounding (a fused multiply-add) may
            # land one below it; everywhere else the values are equal
            lo, hi = int(start), int(end)
            exact = np.array([lo + (hi - lo) * i / max(steps - 1, 1) for i in range(steps)])
            near_integer = np.abs(exact - np.round(exact)) < 1e-9
            same = ours.numpy() == theirs.numpy()
            assert (same | near_integer).all(), (start, end, steps, ours, theirs)
            assert (np.abs(ours.numpy() - np.trunc(exact)) <= near_integer).all()
    with pytest.raises(TypeError, match="bool"):
        md.linspace(0, 1, 3, dtype=md.bool_)


# =========================================================================== 2. keywords and return types
# ----------------------------------------------------------------- dim= / keepdim= with NumPy's aliases

REDUCTIONS = ["sum", "mean", "var", "std", "amax", "amin", "logsumexp"]


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions_take_dim_and_keepdim_like_torch(name):
    a = RNG.standard_normal((3, 4, 2))
    for dim in [None, 0, -1, (0, 2)] if name != "logsumexp" else [0, -1, (0, 2)]:
        for keepdim in [False, True] if dim is not None else [False]:
            kw = {} if dim is None else {"dim": dim, "keepdim": keepdim}
            _grads_match(lambda t: getattr(t, name)(**kw), lambda t: getattr(t, name)(**kw), a, f"{name}({kw})")
            kw.pop("keepdim", None)
            # the function, and NumPy's spelling, give the same numbers
            x = md.tensor(a)
            ref = getattr(x, name)(**kw, keepdim=keepdim).numpy()
            np.testing.assert_array_equal(getattr(md, name)(x, **kw, keepdim=keepdim).numpy(), ref)
            alias = {} if dim is None else {"axis": dim}
            np.testing.assert_array_equal(getattr(x, name)(**alias, keepdims=keepdim).numpy(), ref)


def test_var_takes_torchs_unbiased_positional_and_correction():
    a = RNG.standard_normal((4, 3))
    x, tx = md.tensor(a), _torch().tensor(a)
    _close(x.var(0, False), tx.var(0, False))  # the second positional argument is unbiased
    _close(x.var(1, True, True), tx.var(1, True, True))
    _close(x.std(dim=0, correction=0), tx.std(dim=0, correction=0))
    _close(md.var(x, 1, keepdim=True), tx.var(1, keepdim=True))
    with pytest.raises(TypeError, match="not both"):
        x.var(0, True, correction=1)


def test_any_all_take_dim_and_return_bool_tensors_like_torch():
    a = RNG.standard_normal((3, 4)) > 0.5
    x, tx = md.tensor(a), _torch().tensor(a)
    for kw in [{}, {"dim": 1}, {"dim": 0, "keepdim": True}]:
        for name in ["any", "all"]:
            ours, theirs = getattr(x, name)(**kw), getattr(tx, name)(**kw)
            assert ours.dtype == md.bool_
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert bool(md.tensor([0, 1]).any()) and not md.tensor([0, 1]).all()


@pytest.mark.parametrize("call", [
    lambda x: x.sum(1, axis=1), lambda x: x.sum(dim=1, axis=1), lambda x: x.mean(keepdim=True, keepdims=True),
    lambda x: md.sum(x, 0, axis=0), lambda x: x.softmax(dim=0, axis=0), lambda x: F.softmax(x, 1, axis=1),
    lambda x: md.cat([x, x], dim=0, axis=0), lambda x: x.flatten(0, start_axis=0), lambda x: x.argmax(0, axis=0),
    lambda x: x.max(dim=1, axis=1), lambda x: x.permute(dims=(1, 0), axes=(1, 0)),
])
def test_both_spellings_at_once_is_a_clear_type_error(call):
    with pytest.raises(TypeError, match=r"\(\) got (dim|keepdim|start_dim|dims)= and its NumPy alias"):
        call(md.ones(2, 3))


def _public_callables():
    for name, fn in sorted(vars(md).items()):
        if callable(fn) and not isinstance(fn, type) and not name.startswith("_"):
            yield f"md.{name}", fn
    for name, fn in sorted(vars(F).items()):
        if callable(fn) and not isinstance(fn, type) and not name.startswith("_"):
            yield f"F.{name}", fn
    for name, fn in sorted(vars(Tensor).items()):
        if callable(fn) and not name.startswith("_"):
            yield f"Tensor.{name}", fn


def test_every_function_with_a_dim_takes_the_numpy_alias_and_no_function_takes_numpy_names_only():
    checked = 0
    for name, fn in _public_callables():
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            continue
        numpy_names = [p for p in params if p in NUMPY_ALIASES]
        assert not numpy_names, f"{name} takes NumPy's {numpy_names}; write PyTorch's names with @dim_aliases"
        if any(p in NUMPY_ALIASES.values() for p in params):
            assert hasattr(fn, "__wrapped__"), f"{name} takes a dim but not NumPy's alias (decorate with @dim_aliases)"
            checked += 1
    assert checked >= 40, checked


def test_modules_with_a_dim_take_the_numpy_alias_too():
    import minidl.nn as nn
    assert nn.Softmax(axis=0).dim == 0 and nn.LogSoftmax(axis=1).dim == 1
    assert nn.Flatten(start_axis=2).start_dim == 2
    with pytest.raises(TypeError, match="Softmax.__init__"):
        nn.Softmax(dim=0, axis=0)


def test_max_with_dim_on_an_empty_tensor_like_torch():
    torch = _torch()
    values, indices = md.zeros(0, 3).max(dim=1)
    assert values.shape == indices.shape == tuple(torch.zeros(0, 3).max(dim=1).values.shape) == (0,)
    with pytest.raises(ValueError, match=r"max\(\) over dim 0 of an empty tensor"):
        md.zeros(0, 3).max(dim=0)


def test_softmax_cat_stack_flatten_unsqueeze_take_dim():
    torch = _torch()
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    x, y, tx, ty = md.tensor(a), md.tensor(b), torch.tensor(a), torch.tensor(b)
    _close(md.cat([x, y], dim=1), torch.cat([tx, ty], dim=1))
    _close(md.cat((x, y), axis=-1), torch.cat([tx, ty], dim=-1))
    _close(md.concatenate([x, y], dim=0), torch.cat([tx, ty], dim=0))
    _close(md.stack([x, y], dim=2), torch.stack([tx, ty], dim=2))
    _close(x.softmax(dim=0), tx.softmax(dim=0))
    _close(F.log_softmax(x, dim=1), torch.log_softmax(tx, dim=1))
    _close(md.softmax(x, axis=0), tx.softmax(dim=0))
    _close(x.unsqueeze(dim=1), tx.unsqueeze(dim=1))
    _close(md.tensor(np.zeros((2, 3, 4))).flatten(start_dim=1), torch.zeros(2, 3, 4).flatten(start_dim=1))
    assert x.size(dim=1) == 3 == x.size(-1) and x.size() == (2, 3)
    with pytest.raises(TypeError, match="list or tuple"):
        md.cat(x)


# ----------------------------------------------------------------- max(dim) / min(dim) and friends


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_return_values_and_indices_like_torch(name):
    a = np.array([[1.0, 5.0, 5.0], [2.0, 2.0, 2.0], [0.0, -1.0, 3.0]])  # ties: torch takes the first
    x, tx = md.tensor(a), _torch().tensor(a)
    for dim in [0, 1, -1]:
        for keepdim in [False, True]:
            ours, theirs = getattr(x, name)(dim, keepdim), getattr(tx, name)(dim, keepdim)
            assert isinstance(ours, ValuesIndices) and ours._fields == ("values", "indices")
            _close(ours.values, theirs.values)
            _close(ours.indices, theirs.indices)
            assert ours.indices.dtype == md.int64
            values, indices = getattr(md, name)(x, dim=dim, keepdim=keepdim)
            _close(values, theirs.values)
            _grads_match(lambda t: getattr(t, name)(dim, keepdim)[0], lambda t: getattr(t, name)(dim, keepdim)[0],
                         a, f"{name}({dim}) gradient goes to the index")
    assert isinstance(x.max(), Tensor) and x.max().shape == ()
    _close(x.max(1)[0], tx.max(1)[0])  # [0] is the values, not row 0
    _grads_match(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), a, f"{name}() splits ties")
    # md.max(a, b) is the element-wise maximum, as torch.max(a, b)
    b = RNG.standard_normal((3, 3))
    _close(getattr(md, name)(x, md.tensor(b)), getattr(_torch(), name)(tx, _torch().tensor(b)))


def test_argmax_argmin_take_dim_and_keepdim_like_torch():
    torch = _torch()
    a = RNG.standard_normal((3, 4, 5))
    x, tx = md.tensor(a), torch.tensor(a)
    for dim in [None, 0, 1, -1]:
        for keepdim in [False, True]:
            for name in ["argmax", "argmin"]:
                ours = getattr(md, name)(x, dim, keepdim)
                _close(ours, getattr(torch, name)(tx, dim, keepdim))
                _close(getattr(x, name)(dim=dim, keepdim=keepdim), getattr(tx, name)(dim=dim, keepdim=keepdim))
                assert ours.dtype == md.int64 and not ours.requires_grad
    assert x.argmax(axis=1).shape == (3, 5)
    logits = md.tensor([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0]])
    np.testing.assert_array_equal(logits.argmax(dim=1).numpy(), [1, 0])  # the first natural PyTorch loop


def test_backward_takes_gradient():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).backward(gradient=md.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [3.0, 30.0])
    (x * 3).backward(np.array([1.0, 1.0]), retain_graph=False)
    np.testing.assert_allclose(x.grad, [6.0, 33.0])


def test_dim_t_mT_contiguous_int_bool_pow():
    torch = _torch()
    a = RNG.standard_normal((2, 3, 4))
    x, tx = md.tensor(a), torch.tensor(a)
    assert x.dim() == 3 == tx.dim()
    _close(x.mT, tx.mT)
    _close(x[0].t(), tx[0].t())
    assert md.ones(3).t().shape == (3,) and md.tensor(1.0).t().shape == ()
    with pytest.raises(ValueError, match="at most 2 dims"):
        x.t()
    with pytest.raises(ValueError, match="2 or more dims"):
        md.ones(3).mT
    _grads_match(lambda t: t.mT * 2, lambda t: t.mT * 2, a, "mT")
    view = x.transpose(0, 2)
    assert not view.data.flags.c_contiguous
    c = view.contiguous()
    assert c.data.flags.c_contiguous and c.shape == view.shape and c.contiguous() is c
    np.testing.assert_array_equal(c.numpy(), view.numpy())
    _grads_match(lambda t: t.transpose(0, 2).contiguous(), lambda t: t.transpose(0, 2).contiguous(), a, "contiguous")
    f = md.tensor([1.7, -1.7, 0.0])
    assert f.int().dtype == md.int32 and f.int().tolist() == torch.tensor([1.7, -1.7, 0.0]).int().tolist()
    assert f.bool().dtype == md.bool_ and f.bool().tolist() == [True, True, False]
    _grads_match(lambda t: t.pow(3), lambda t: t.pow(3), a, "pow(3)")
    _grads_match(lambda t: md.pow(t, 2.0), lambda t: torch.pow(t, 2.0), a, "md.pow")


def test_from_numpy_shares_memory():
    a = np.arange(6.0).reshape(2, 3)
    t = md.from_numpy(a)
    assert t.dtype == md.float64 and t.shape == (2, 3) and t.device == "cpu"
    a[0, 0] = 99.0
    assert t[0, 0].item() == 99.0
    with pytest.raises(TypeError, match="numpy.ndarray"):
        md.from_numpy([1.0, 2.0])
    with pytest.raises(TypeError, match="not supported"):
        md.from_numpy(np.array(["a"]))


def test_randint_takes_torchs_two_overloads():
    md.manual_seed(0)
    for r in [md.randint(5, (200,)), md.randint(5, size=(200,)), md.randint(high=5, size=(200,))]:
        assert r.dtype == md.int64 and r.shape == (200,)
        assert r.numpy().min() == 0 and r.numpy().max() == 4
    r = md.randint(2, 5, (10, 20))
    assert r.shape == (10, 20) and r.numpy().min() == 2 and r.numpy().max() == 4
    assert md.randint(low=-3, high=-1, size=(50,)).numpy().max() == -2
    assert md.randint(3, (4,), dtype=md.float32).dtype == md.float32
    with pytest.raises(TypeError, match="missing size"):
        md.randint(5)
    with pytest.raises(ValueError, match="less than high"):
        md.randint(5, 5, (2,))


def test_inference_mode_turns_recording_off_like_no_grad():
    w = md.ones(2, requires_grad=True)
    with md.inference_mode():
        y = w * 2
        assert not md.is_grad_enabled()
    assert not y.requires_grad and md.is_grad_enabled()

    @md.inference_mode()
    def evaluate():
        return w * 2

    assert not evaluate().requires_grad
    with md.no_grad(), md.inference_mode(False):
        assert not md.is_grad_enabled()  # mode=False leaves the grad mode as it is
    with md.inference_mode(False):
        assert (w * 2).requires_grad


# ----------------------------------------------------------------- op_test for the new keywords


def dim_kwargs(shapes, several=True):
    """PyTorch's ``dim`` (None, an int, a tuple) and ``keepdim`` for the first shape."""
    ndim = len(shapes[0])
    bound = max(ndim, 1)
    one = st.integers(-bound, bound - 1)
    dim = st.none() | one
    if several and ndim:
        dim = dim | st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
    return st.fixed_dictionaries({"dim": dim, "keepdim": st.booleans()})


def _np(fn):
    """A NumPy reference taking PyTorch's keywords (a 0-d input with dim 0/-1 reduces nothing)."""
    def reference(x, dim=None, keepdim=False):
        axis = () if x.ndim == 0 and dim is not None else dim
        return fn(x, axis=axis, keepdims=keepdim)
    return reference


spread = st.integers(-40, 40).map(lambda k: k * 0.125 + 0.01)  # distinct: max/min gradients need no ties

test_sum_dim = T.op_test(lambda x, **kw: x.sum(**kw), _np(np.sum), kwargs=dim_kwargs)
test_mean_dim = T.op_test(lambda x, **kw: md.mean(x, **kw), _np(np.mean), kwargs=dim_kwargs)
test_var_dim = T.op_test(lambda x, **kw: x.var(**kw, correction=0), _np(np.var), kwargs=dim_kwargs)
test_amax_dim = T.op_test(lambda x, **kw: x.amax(**kw), _np(np.max), kwargs=dim_kwargs, unique=True, elements=spread)
test_amin_dim = T.op_test(lambda x, **kw: md.amin(x, **kw), _np(np.min), kwargs=dim_kwargs, unique=True,
                          elements=spread)
test_logsumexp_dim = T.op_test(lambda x, **kw: x.logsumexp(**kw),
                               _np(lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))),
                               kwargs=lambda s: dim_kwargs(s).filter(lambda kw: kw["dim"] is not None))


def _np_max_dim(fn):
    def reference(x, dim, keepdim):
        return fn(x, axis=None if x.ndim == 0 else dim, keepdims=keepdim and x.ndim > 0)
    return reference


test_max_dim_values = T.op_test(lambda x, dim, keepdim: x.max(dim, keepdim).values, _np_max_dim(np.max),
                                kwargs=lambda s: dim_kwargs(s, several=False).filter(lambda kw: kw["dim"] is not None),
                                unique=True, elements=spread)
test_min_dim_values = T.op_test(lambda x, dim, keepdim: md.min(x, dim=dim, keepdim=keepdim)[0], _np_max_dim(np.min),
                                kwargs=lambda s: dim_kwargs(s, several=False).filter(lambda kw: kw["dim"] is not None),
                                unique=True, elements=spread)


def _swap(x, dim0, dim1):
    return np.swapaxes(x, dim0, dim1) if x.ndim else x


test_transpose_dims = T.op_test(
    lambda x, dim0, dim1: x.transpose(dim0, dim1), _swap,
    kwargs=lambda s: st.fixed_dictionaries({"dim0": st.integers(-max(len(s[0]), 1), max(len(s[0]), 1) - 1),
                                            "dim1": st.integers(-max(len(s[0]), 1), max(len(s[0]), 1) - 1)}),
)
test_mT = T.op_test(lambda x: x.mT, lambda x: np.swapaxes(x, -1, -2), min_dims=2)
test_softmax_dim = T.op_test(lambda x, dim: x.softmax(dim=dim),
                             lambda x, dim: np.exp(x - x.max(dim, keepdims=True))
                             / np.exp(x - x.max(dim, keepdims=True)).sum(dim, keepdims=True),
                             kwargs=lambda s: st.fixed_dictionaries({"dim": st.integers(-len(s[0]), len(s[0]) - 1)}),
                             min_dims=1)
test_squeeze_dim = T.op_test(  # a dim of another size than 1 stays
    lambda x, dim: x.squeeze(dim=dim),
    lambda x, dim: np.squeeze(x, axis=dim % x.ndim) if x.ndim and x.shape[dim] == 1 else x,
    kwargs=lambda s: st.fixed_dictionaries({"dim": st.integers(-max(len(s[0]), 1), max(len(s[0]), 1) - 1)}),
)
test_unsqueeze_dim = T.op_test(
    lambda x, dim: md.unsqueeze(x, dim=dim), lambda x, dim: np.expand_dims(x, dim),
    kwargs=lambda s: st.fixed_dictionaries({"dim": st.integers(-len(s[0]) - 1, len(s[0]))}),
)
test_flatten_dims = T.op_test(lambda x: x.flatten(start_dim=1), lambda x: x.reshape(x.shape[0], -1), min_dims=2)
test_cat_dim = T.op_test(lambda a, b: md.cat([a, b], dim=-1), lambda a, b: np.concatenate([a, b], axis=-1),
                         n_inputs=2, broadcast=False, min_dims=1)
test_stack_dim = T.op_test(lambda a, b: md.stack([a, b], dim=0), lambda a, b: np.stack([a, b], axis=0),
                           n_inputs=2, broadcast=False)
test_getitem_int_and_array = T.op_test(  # ints apply first (PyTorch), then the index array
    lambda x: x[1, :, [0, 2, 0]], lambda x: x[1][:, [0, 2, 0]],
    shapes=st.tuples(st.integers(2, 3), st.integers(1, 3), st.integers(3, 4)).map(lambda s: (s,)),
)
test_pow_method = T.op_test(lambda a, b: a.pow(b), np.power, n_inputs=2, elements=[T.floats(0.1, 3), T.floats(-2, 2)])


# ----------------------------------------------------------------- the README's PyTorch-style loop


def test_readme_pytorch_style_loop_runs_unchanged_under_torch(tmp_path, monkeypatch):
    """The README's loop is plain PyTorch: with torch imported in minidl's place it runs too
    (tests/test_readme.py runs it with minidl)."""
    import pathlib
    import re

    _torch()
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("### A PyTorch-style training and evaluation loop", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    for ours, theirs in [("minidl.nn.functional", "torch.nn.functional"), ("minidl.nn", "torch.nn"),
                         ("minidl.optim", "torch.optim"), ("import minidl as md", "import torch as md")]:
        assert ours in code
        code = code.replace(ours, theirs)
    assert "minidl" not in code
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md (PyTorch-style loop, under torch)", "exec"), {})


# ----------------------------------------------------------------- dtypes and values an outside sweep found
# (each of these differed from torch 2.13 before the fix)


def test_inplace_subtraction_keeps_an_integer_tensor_integer():
    a = md.tensor([5, 6])
    a -= 1  # sub_ used to multiply by the float -1.0, which cannot be cast back to int64
    assert a.dtype == md.int64 and a.tolist() == [4, 5]
    a.sub_(md.tensor([1, 1]))
    a.sub_(1, alpha=2)
    assert a.tolist() == [1, 2]
    f = md.tensor([1.0, 2.0])
    f.sub_(md.tensor([2.0, 2.0]), alpha=0.5)
    assert f.tolist() == [0.0, 1.0]


def test_clamp_dtype_follows_torch():
    torch = _torch()
    for data, bounds in [([1, 2, 3], (0.5, 1.5)), ([1, 2, 3], (0, 2)), ([1.0, 2.0], (np.float64(0.5), None)),
                         ([1, 2, 3], (np.float64(1.5), None)), ([1.0, 5.0], (None, np.int64(3)))]:
        ours, theirs = md.tensor(data).clamp(*bounds), torch.tensor(data).clamp(*[
            None if b is None else b.item() if isinstance(b, np.generic) else b for b in bounds])
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (data, bounds)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(TypeError, match="clip: min must be a number"):
        md.tensor([1.0]).clamp("0")


def test_cat_and_stack_promote_like_torch():
    torch = _torch()
    for dtypes in [("float32", "int64"), ("float16", "int64"), ("float32", "float64"), ("bool", "int32"),
                   ("uint8", "int8"), ("float16", "float32", "int64")]:
        ours = md.cat([md.tensor([1], dtype=d) for d in dtypes])
        theirs = torch.cat([torch.tensor([1], dtype=getattr(torch, d)) for d in dtypes])
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), dtypes
        assert md.stack([md.tensor([1], dtype=d) for d in dtypes]).dtype == ours.dtype


def test_full_takes_its_dtype_from_the_fill_value_like_torch():
    torch = _torch()
    for value in [3, True, 2.5, np.int32(2), np.float64(1.0)]:
        theirs = torch.full((2,), value.item() if isinstance(value, np.generic) else value).dtype
        assert str(md.full((2,), value).dtype) == str(theirs).replace("torch.", ""), value
    assert md.full((2,), 3, dtype=md.float64).dtype == md.float64


def test_integer_sums_products_and_cumsums_are_int64_like_torch():
    u = md.tensor(np.array([200, 100], dtype=np.uint8))
    for result in (u.sum(), u.prod(), u.cumsum(0), md.tensor([True, True]).sum()):
        assert result.dtype == md.int64
    assert u.sum().item() == 300 and u.cumsum(0).tolist() == [200, 300]


def test_sign_of_nan_is_zero_like_torch():
    np.testing.assert_array_equal(md.tensor([float("nan"), -2.0, 0.0, 3.0]).sign().numpy(), [0.0, -1.0, 0.0, 1.0])
    assert md.tensor([1, -3]).sign().tolist() == [1, -1]


def test_a_dim_given_twice_is_refused_like_torch():
    x = md.randn(2, 3)
    for dims in [(0, 0), (1, -1)]:
        with pytest.raises(ValueError, match="appears more than once"):
            x.sum(dim=dims)


def test_expand_takes_minus_one_for_keep_this_size_like_torch():
    a = RNG.standard_normal((3, 1))
    for sizes in [(-1, 4), (2, -1, 4), (2, 3, -1), (3, 4)]:
        _grads_match(lambda t: t.expand(*sizes), lambda t: t.expand(*sizes), a, f"expand{sizes}")
    with pytest.raises(ValueError, match="only allowed for existing dims"):
        md.tensor(a).expand(-1, 3, 4)
