"""Empty tensors follow torch (reductions, softmax, logsumexp), and a batched matmul whose
batch dims do not broadcast names both shapes (minidl/ops/reduction.py, ops/arithmetic.py)."""

import numpy as np
import pytest

import minidl as md


def _values(out):
    """``t.max(dim)`` may return a tensor or a (values, indices) pair: the values."""
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_over_a_nonempty_dim_of_an_empty_tensor_is_empty_like_torch(torch, op):
    x = md.zeros(0, 3, requires_grad=True)
    values = _values(getattr(x, op)(1))
    expected = getattr(torch.zeros(0, 3), op)(dim=1).values
    assert values.shape == tuple(expected.shape) == (0,)
    values.sum().backward()
    assert x.grad.shape == (0, 3)
    assert _values(getattr(md.zeros(2, 0, 3), op)(2)).shape == (2, 0)
    assert _values(getattr(md.zeros(0, 3), op)(axis=1, keepdims=True)).shape == (0, 1)


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("args,where", [((0,), "dim 0"), ((), "every dim")])
def test_max_over_an_empty_dim_is_a_clear_error_like_torch(torch, op, args, where):
    x = md.zeros(0, 3)
    with pytest.raises(ValueError, match=rf"{op}\(\) over {where} of an empty tensor \(shape \(0, 3\)\)"):
        getattr(x, op)(*args)
    with pytest.raises((IndexError, RuntimeError)):
        getattr(torch.zeros(0, 3), op)(*args)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_of_an_empty_tensor_keeps_its_shape_like_torch(torch, op, dim):
    x = md.zeros(2, 0, requires_grad=True)
    y = getattr(x, op)(dim)
    assert y.shape == tuple(getattr(torch.zeros(2, 0), op)(dim).shape) == (2, 0)
    y.sum().backward()
    assert x.grad.shape == (2, 0)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_logsumexp_of_an_empty_tensor_matches_torch(torch, dim):
    """The log of an empty sum is -inf: a (2, 0) tensor over dim 1 gives [-inf, -inf]."""
    x = md.zeros(2, 0, requires_grad=True)
    ours = x.logsumexp(dim)
    theirs = torch.zeros(2, 0).logsumexp(dim=(0, 1) if dim is None else dim)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours.sum().backward()
    assert x.grad.shape == (2, 0)
    assert x.logsumexp(1, keepdims=True).shape == (2, 1)


@pytest.mark.parametrize("a,b", [((2, 3, 4), (3, 4, 6)), ((2, 5, 3, 4), (3, 4, 6)), ((4, 2, 3), (3, 2, 3, 2))])
def test_batched_matmul_mismatch_names_both_shapes(torch, a, b):
    with pytest.raises(RuntimeError):
        torch.zeros(a) @ torch.zeros(b)
    x, y = md.zeros(*a, requires_grad=True), md.zeros(*b)
    with pytest.raises(ValueError, match=rf"matmul: shapes {a} and {b} do not match: their batch dims "
                                         rf"{a[:-2]} and {b[:-2]} must be equal or 1".replace("(", r"\(")
                                         .replace(")", r"\)")):
        x @ y
    assert x.grad is None


def test_broadcasting_batched_matmul_still_works(torch):
    a = np.random.default_rng(0).standard_normal((2, 1, 3, 4))
    b = np.random.default_rng(1).standard_normal((5, 4, 2))
    np.testing.assert_allclose((md.tensor(a) @ md.tensor(b)).numpy(),
                               (torch.tensor(a) @ torch.tensor(b)).numpy(), rtol=1e-12)
