"""max_pool2d / avg_pool2d and their modules: NumPy loop references, gradcheck on hypothesis
shapes (tie-free values for max), the documented tie rule, torch oracle, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minidl as md
from minidl import testing as T
from minidl.functional import avg_pool2d, max_pool2d


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def pool_reference(x, kernel_size, stride=None, padding=0, kind="max", count_include_pad=True):
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(stride if stride is not None else kernel_size)
    ph, pw = _pair(padding)
    fill = -np.inf if kind == "max" else 0.0
    inside = np.pad(np.ones(x.shape[2:]), ((ph, ph), (pw, pw)))  # 1 for image pixels, 0 for padding
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    oh, ow = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    y = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            if kind == "max":
                y[:, :, i, j] = win.max(axis=(2, 3))
            else:
                count = kh * kw if count_include_pad else inside[i * sh:i * sh + kh, j * sw:j * sw + kw].sum()
                y[:, :, i, j] = win.sum(axis=(2, 3)) / count
    return y


@st.composite
def pool_case(draw, unique):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.none() | st.integers(1, 3) | st.tuples(st.integers(1, 3), st.integers(1, 2)))
    padding = draw(st.sampled_from([0, (kh // 2, kw // 2), (0, kw // 2)]))
    h, w = draw(st.integers(kh, 6)), draw(st.integers(kw, 6))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    # distinct values on a 0.02 grid: no ties, and far apart compared with gradcheck's eps
    elements = st.integers(-150, 150).map(lambda k: k * 0.02) if unique else None
    x = draw(T.arrays(shape, elements=elements, unique=unique))
    return x, dict(kernel_size=(kh, kw), stride=stride, padding=padding)


@given(pool_case(unique=True))
def test_max_pool2d_forward_and_gradient(case):
    x, kw = case
    T.check_op(max_pool2d, lambda a, **k: pool_reference(a, kind="max", **k), x, kwargs=kw)


@given(pool_case(unique=False), st.booleans())
def test_avg_pool2d_forward_and_gradient(case, count_include_pad):
    x, kw = case
    kw = dict(kw, count_include_pad=count_include_pad)
    T.check_op(avg_pool2d, lambda a, **k: pool_reference(a, kind="avg", **k), x, kwargs=kw)


def test_max_pool2d_tie_gradient_goes_to_first_maximum():
    """Documented rule: at ties the whole gradient goes to the first (row-major) maximum."""
    x = md.tensor(np.array([[[[1.0, 3.0], [3.0, 3.0]]]]), requires_grad=True)
    max_pool2d(x, 2).backward(np.array([[[[5.0]]]]))
    np.testing.assert_array_equal(x.grad, [[[[0.0, 5.0], [0.0, 0.0]]]])


def test_max_pool2d_constant_input_overlapping_windows():
    """Overlapping windows of a constant image each send their gradient to their own first entry."""
    x = md.ones(1, 1, 3, 3, dtype=md.float64, requires_grad=True)
    max_pool2d(x, 2, stride=1).sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])


def test_max_pool2d_large_window_index_path():
    """Windows of more than 256 entries store the argmax offset in int64 instead of uint8."""
    x = np.random.default_rng(0).permutation(17 * 18).reshape(1, 1, 17, 18).astype(np.float64)
    t = md.tensor(x, requires_grad=True)
    y = max_pool2d(t, 17, stride=1)
    assert y.shape == (1, 1, 1, 2)
    np.testing.assert_array_equal(y.numpy()[0, 0, 0], [x[0, 0, :, :17].max(), x[0, 0, :, 1:].max()])
    y.sum().backward()
    expected = np.zeros_like(x)
    for j in range(2):
        window = x[0, 0, :, j:j + 17]
        u, v = np.unravel_index(window.argmax(), window.shape)
        expected[0, 0, u, v + j] += 1
    np.testing.assert_array_equal(t.grad, expected)


def test_pool_keeps_float32():
    x = md.randn(2, 3, 6, 6, requires_grad=True)
    for fn in (max_pool2d, avg_pool2d):
        y = fn(x, 2)
        assert y.dtype == md.float32 and y.shape == (2, 3, 3, 3)
        y.sum().backward()
        assert x.grad.dtype == np.float32
        x.grad = None


@pytest.mark.parametrize("name,options", [("max_pool2d", {}), ("avg_pool2d", {}),
                                          ("avg_pool2d", {"count_include_pad": False})])
@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 2, 1), ((3, 2), 1, (1, 0))])
def test_pool_matches_torch(torch, op_threads, name, options, kernel, stride, padding):
    rng = np.random.default_rng(0)
    x = rng.permutation(5 * 3 * 7 * 6).reshape(5, 3, 7, 6).astype(np.float32) / 10  # tie-free; 5: uneven chunks
    ours = {"max_pool2d": max_pool2d, "avg_pool2d": avg_pool2d}[name]
    xs = md.tensor(x, requires_grad=True)
    y = ours(xs, kernel, stride, padding, **options)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    yt = getattr(torch.nn.functional, name)(xt, kernel, stride, padding, **options)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("fn", [max_pool2d, avg_pool2d])
def test_pool_errors(fn):
    with pytest.raises(ValueError, match=r"input must be 3-D \(C, H, W\) or 4-D"):
        fn(md.randn(4, 4), 2)
    with pytest.raises(ValueError, match="padding .* must be at most half the kernel size"):
        fn(md.randn(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match="kernel .* is larger than the padded input"):
        fn(md.randn(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        fn(md.randn(1, 1, 4, 4), 0)
    with pytest.raises(NotImplementedError, match="ceil_mode=True is not supported"):
        fn(md.randn(1, 1, 5, 5), 2, ceil_mode=True)


def test_pool_unsupported_options_fail_when_the_layer_is_built():
    import minidl.nn as nn

    for make, match in [(lambda: nn.MaxPool2d(2, ceil_mode=True), "ceil_mode=True"),
                        (lambda: nn.MaxPool2d(2, dilation=2), r"dilation=\(2, 2\) is not supported"),
                        (lambda: nn.MaxPool2d(2, return_indices=True), "return_indices=True is not supported"),
                        (lambda: nn.AvgPool2d(2, divisor_override=3), "divisor_override=3 is not supported")]:
        with pytest.raises(NotImplementedError, match=match):
            make()
    assert nn.MaxPool2d(2, dilation=(1, 1)).dilation == (1, 1)


def test_pool_modules_match_functional_and_torch(torch):
    import minidl.nn as nn

    x = np.random.default_rng(0).permutation(2 * 3 * 8 * 8).reshape(2, 3, 8, 8).astype(np.float32)
    for ours, theirs in [(nn.MaxPool2d(3, stride=2, padding=1), torch.nn.MaxPool2d(3, stride=2, padding=1)),
                         (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
                         (nn.AvgPool2d(3, 2, 1, count_include_pad=False),
                          torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False))]:
        xs, xt = md.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yt = ours(xs), theirs(xt)
        y.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-6)
        assert list(ours.parameters()) == []
    assert nn.MaxPool2d(2).stride == 2  # stride defaults to kernel_size


@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 2, 1), ((3, 2), 1, (1, 0))])
def test_max_pool2d_gradient_when_the_batch_is_split_over_threads(op_threads, kernel, stride, padding):
    """Central differences through the threaded forward and backward (tie-free values)."""
    x = np.random.default_rng(6).permutation(5 * 2 * 6 * 5).reshape(5, 2, 6, 5) * 0.02
    kw = dict(kernel_size=kernel, stride=stride, padding=padding)
    T.check_op(max_pool2d, lambda a, **k: pool_reference(a, kind="max", **k), x, kwargs=kw)


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_unbatched_pool_matches_torch(torch, name):
    rng = np.random.default_rng(2)
    x = rng.permutation(3 * 6 * 6).reshape(3, 6, 6).astype(np.float32) / 10  # (C, H, W), tie-free
    xs, xt = md.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = {"max_pool2d": max_pool2d, "avg_pool2d": avg_pool2d}[name](xs, 3, 2, 1)
    yt = getattr(torch.nn.functional, name)(xt, 3, 2, 1)
    assert y.shape == tuple(yt.shape) == (3, 3, 3)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-6, atol=1e-6)
