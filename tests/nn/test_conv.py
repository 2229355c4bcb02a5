"""conv2d and nn.Conv2d: NumPy loop reference, gradcheck of input/weight/bias on hypothesis
shapes with stride and padding, torch oracle, errors by message."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minidl as md
from minidl import testing as T
from minidl.functional import conv2d, max_pool2d


def conv2d_reference(x, w, b=None, stride=1, padding=0):
    """The lecture formula with explicit loops over output positions."""
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    y = np.zeros((n, o, oh, ow), dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]  # (N, C, kh, kw)
            y[:, :, i, j] = np.einsum("ncuv,ocuv->no", patch, w)
    if b is not None:
        y += b[None, :, None, None]
    return y


@st.composite
def conv_case(draw):
    n, c, o = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 1))
    stride = draw(st.sampled_from([(sh, sw), sh]))
    padding = draw(st.sampled_from([(ph, pw), ph]))
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    h = draw(st.integers(max(1, kh - 2 * ph), 6))
    w = draw(st.integers(max(1, kw - 2 * pw), 6))
    x = draw(T.arrays((n, c, h, w)))
    weight = draw(T.arrays((o, c, kh, kw)))
    bias = draw(T.arrays((o,)))
    return x, weight, bias, dict(stride=stride, padding=padding)


@given(conv_case())
def test_conv2d_forward_and_gradients(case):
    x, w, b, kw = case
    T.check_op(conv2d, conv2d_reference, x, w, b, kwargs=kw, rtol=1e-10, atol=1e-10)


@given(conv_case())
def test_conv2d_without_bias(case):
    x, w, _, kw = case
    T.check_op(conv2d, conv2d_reference, x, w, kwargs=kw, rtol=1e-10, atol=1e-10, noncontig=False)


def test_conv2d_output_shape_and_float32():
    x = md.randn(2, 3, 9, 7)
    w = md.randn(4, 3, 3, 2, requires_grad=True)
    y = conv2d(x, w, stride=2, padding=1)
    assert y.shape == (2, 4, 5, 4)
    assert y.dtype == md.float32
    y.sum().backward()
    assert w.grad.dtype == np.float32


def test_conv2d_gradient_only_for_weight():
    """An input that does not need a gradient gets none (backward skips col2im)."""
    x = md.randn(1, 2, 5, 5, dtype=md.float64)
    w = md.randn(3, 2, 3, 3, dtype=md.float64, requires_grad=True)
    conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad.shape == (3, 2, 3, 3)


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), ((1, 2), (2, 0))])
def test_conv2d_matches_torch(torch, op_threads, stride, padding):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3, 8, 7)).astype(np.float32)  # 5 samples: uneven chunks when split
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    xs, ws, bs = (md.tensor(a, requires_grad=True) for a in (x, w, b))
    y = conv2d(xs, ws, bs, stride=stride, padding=padding)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ws.grad, wt.grad.numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(bs.grad, bt.grad.numpy(), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("args,kwargs,error,match", [
    (((2, 3, 5, 5), (4, 2, 3, 3)), {}, ValueError, "input has 3 channels"),
    (((5, 5), (4, 3, 3, 3)), {}, ValueError, r"input must be 3-D \(C, H, W\) or 4-D"),
    (((1, 3, 5, 5), (4, 3, 3)), {}, ValueError, "weight must be 4-D"),
    (((1, 3, 2, 2), (4, 3, 3, 3)), {}, ValueError, "kernel size .* is larger than the padded input"),
    (((1, 3, 5, 5), (4, 3, 3, 3)), {"stride": 0}, ValueError, "stride must be >= 1"),
    (((1, 3, 5, 5), (4, 3, 3, 3)), {"padding": -1}, ValueError, "padding must be >= 0"),
    (((1, 3, 5, 5), (4, 3, 3, 3)), {"stride": (1, 2, 3)}, TypeError, "stride must be an int or a pair"),
])
def test_conv2d_errors(args, kwargs, error, match):
    x, w = md.randn(*args[0]), md.randn(*args[1])
    with pytest.raises(error, match=match):
        conv2d(x, w, **kwargs)


def test_conv2d_unsupported_options_are_errors():
    import minidl.nn as nn

    x, w = md.randn(1, 3, 5, 5), md.randn(4, 3, 3, 3)
    with pytest.raises(NotImplementedError, match="only dilation=1 and groups=1"):
        conv2d(x, w, None, 1, 0, 2)
    with pytest.raises(NotImplementedError, match="only dilation=1 and groups=1"):
        conv2d(x, w, groups=3)
    with pytest.raises(NotImplementedError, match="padding_mode='zeros'"):
        nn.Conv2d(3, 4, 3, padding_mode="reflect")
    assert nn.Conv2d(3, 4, 3, 1, 0, 1, 1, False).bias is None  # PyTorch's positional order


def test_conv2d_bias_and_dtype_errors():
    x, w = md.randn(1, 3, 5, 5), md.randn(4, 3, 3, 3)
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        conv2d(x, w, md.randn(3))
    with pytest.raises(TypeError, match="input dtype float64 and weight dtype float32 differ"):
        conv2d(x.double(), w)
    with pytest.raises(TypeError, match="input must be a floating-point tensor"):
        conv2d(md.tensor(np.ones((1, 3, 5, 5), dtype=np.int64)), w)


# ----------------------------------------------------------------------------- nn.Conv2d


def test_conv2d_module_matches_torch_with_same_weights(torch):
    import minidl.nn as nn

    conv = nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=1)
    tconv = torch.nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=1)
    with torch.no_grad():
        tconv.weight.copy_(torch.tensor(conv.weight.numpy()))
        tconv.bias.copy_(torch.tensor(conv.bias.numpy()))
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 8)).astype(np.float32)
    xs, xt = md.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = conv(xs), tconv(xt)
    g = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(conv.weight.grad, tconv.weight.grad.numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(conv.bias.grad, tconv.bias.grad.numpy(), rtol=1e-5, atol=1e-4)


def test_conv2d_module_gradcheck_float64():
    import minidl.nn as nn

    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1, dtype=md.float64)
    x = md.randn(2, 2, 5, 4, dtype=md.float64, requires_grad=True)
    assert md.gradcheck(lambda x, w, b: conv(x), [x, conv.weight, conv.bias])
    nobias = nn.Conv2d(2, 3, 2, bias=False, dtype=md.float64)
    assert nobias.bias is None
    assert md.gradcheck(lambda x, w: nobias(x), [x, nobias.weight])


def test_conv2d_module_parameters_and_default_init():
    """PyTorch's default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    import minidl.nn as nn

    conv = nn.Conv2d(64, 128, 3)
    assert conv.weight.shape == (128, 64, 3, 3) and conv.bias.shape == (128,)
    assert conv.weight.dtype == md.float32
    names = [name for name, _ in conv.named_parameters()]
    assert names == ["weight", "bias"]
    bound = 1 / np.sqrt(64 * 9)
    w = conv.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(conv.bias.numpy()).max() <= bound
    assert w.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)  # std of U(-b, b) is b / sqrt(3)
    assert abs(w.mean()) < 0.01 * bound


def test_conv2d_module_errors():
    import minidl.nn as nn

    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        nn.Conv2d(0, 4, 3)
    with pytest.raises(ValueError, match="input has 2 channels"):
        nn.Conv2d(3, 4, 3)(md.randn(1, 2, 5, 5))


def _conv_step(x, w, b):
    xt, wt, bt = (md.tensor(a, requires_grad=True) for a in (x, w, b))
    y = conv2d(xt, wt, bt, stride=1, padding=1)
    out = max_pool2d(y.relu(), 2)
    out.backward(md.tensor(np.cos(np.arange(out.numel()).reshape(out.shape)).astype(x.dtype)))
    return y.data, out.data, xt.grad, wt.grad, bt.grad


def test_conv_with_reused_memory_equals_plain_arrays_and_keeps_earlier_results():
    """conv2d and pooling take their large temporaries from ``backend.scratch_pool``: the
    numbers equal those computed on plain arrays (the pool turned off), and results still
    held from an earlier step are not overwritten by later steps reusing the memory."""
    from minidl import backend

    rng = np.random.default_rng(3)
    shapes = ((64, 8, 14, 14), (16, 8, 3, 3), (16,))
    data = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(3)]
    pool = backend.scratch_pool
    saved = pool.min_bytes, pool.limit_bytes
    try:
        pool.min_bytes, pool.limit_bytes = 1 << 62, 0  # off: every array is a plain one
        plain = [[a.copy() for a in _conv_step(*d)] for d in data]
        pool.min_bytes, pool.limit_bytes = 1024, 256 << 20
        held = [_conv_step(*d) for d in data]  # each step reuses the memory of the previous ones
        assert pool.idle_bytes > 0  # the freed temporaries went back to the pool
    finally:
        pool.min_bytes, pool.limit_bytes = saved
    for results, expected in zip(held, plain):
        for got, want in zip(results, expected):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("shape,kernel,padding", [
    ((2, 3, 6, 5), (3, 3), (1, 1)),
    ((1, 2, 4, 7), (2, 3), (0, 2)),
    ((3, 1, 5, 5), (1, 1), (0, 0)),
    ((2, 2, 8, 8), (5, 5), (2, 2)),
    ((1, 4, 3, 9), (3, 1), (2, 0)),
])
def test_conv2d_stride1_flat_input_grad_equals_plain_col2im(shape, kernel, padding):
    """The stride-1 fast input gradient (flattened rows) gives the plain col2im's numbers."""
    from minidl.ops.conv import Conv2d

    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((3, shape[1]) + kernel)
    fn = Conv2d()
    y = fn.forward(x, w, stride=(1, 1), padding=padding)
    gy = rng.standard_normal(y.shape)
    flat, plain = fn.input_grad_flat(gy, w), fn.input_grad(gy, w)
    assert flat.shape == plain.shape == shape
    np.testing.assert_allclose(flat, plain, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(plain, conv2d_input_grad_reference(gy, w, shape, padding), rtol=1e-10, atol=1e-10)


def conv2d_input_grad_reference(gy, w, x_shape, padding):
    """dL/dx by the lecture's scatter loop: each output position adds w * g to its window."""
    ph, pw = padding
    n, c, h, wd = x_shape
    _, _, kh, kw = w.shape
    dx = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    for i in range(gy.shape[2]):
        for j in range(gy.shape[3]):
            dx[:, :, i:i + kh, j:j + kw] += np.einsum("no,ocuv->ncuv", gy[:, :, i, j], w)
    return dx[:, :, ph:ph + h, pw:pw + wd]


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 0), ((1, 2), (0, 2))])
def test_conv2d_gradients_when_the_batch_is_split_over_threads(op_threads, stride, padding):
    """Central differences (float64) through the threaded forward and backward, 5 samples."""
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((5, 2, 6, 5)), rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(3)
    T.check_op(conv2d, conv2d_reference, x, w, b, kwargs=dict(stride=stride, padding=padding),
               rtol=1e-10, atol=1e-10)


def test_conv_results_do_not_depend_on_the_thread_count():
    """The same step with 1, 2 and 3 threads: forward equal bit for bit (each sample is
    computed alike), gradients equal up to the order of the weight gradient's sum."""
    rng = np.random.default_rng(5)
    data = [rng.standard_normal(s).astype(np.float32) for s in ((7, 8, 14, 14), (16, 8, 3, 3), (16,))]
    saved = md.get_num_threads(), md.backend.PARALLEL_MIN_WORK
    try:
        md.backend.PARALLEL_MIN_WORK = 0
        results = []
        for count in (1, 2, 3):
            md.set_num_threads(count)
            results.append([a.copy() for a in _conv_step(*data)])
    finally:
        md.set_num_threads(saved[0])
        md.backend.PARALLEL_MIN_WORK = saved[1]
    for other in results[1:]:
        for got, want in zip(other[:3], results[0][:3]):  # y, pooled output, dL/dx
            np.testing.assert_array_equal(got, want)
        for got, want in zip(other[3:], results[0][3:]):  # dL/dw, dL/db
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_string_padding_same_and_valid_match_torch():
    """padding="same" keeps H and W (stride 1, odd kernels: (k - 1) / 2 each side), "valid" is 0."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 5))
    torch = pytest.importorskip("torch")
    for padding in ("same", "valid"):
        ours = conv2d(md.tensor(x), md.tensor(w), padding=padding)
        theirs = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=padding)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
    assert conv2d(md.tensor(x), md.tensor(w), padding="same").shape == (2, 4, 7, 6)
    layer = md.nn.Conv2d(3, 4, (3, 5), padding="same")
    assert layer.padding == (1, 2) and layer(md.tensor(x, dtype=md.float32)).shape == (2, 4, 7, 6)
    with pytest.raises(ValueError, match="needs stride 1"):
        md.nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        conv2d(md.tensor(x), md.tensor(w), padding="full")
    with pytest.raises(NotImplementedError, match="even kernel size"):
        md.nn.Conv2d(3, 4, 2, padding="same")


def test_unbatched_image_matches_torch(torch):
    """A (C, H, W) input is one image, as in PyTorch: (O, OH, OW) out, the same numbers and
    gradients as the batch of one."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 6, 5)).astype(np.float32)
    layer = md.nn.Conv2d(3, 4, 3, padding=1)
    tlayer = torch.nn.Conv2d(3, 4, 3, padding=1)
    with torch.no_grad():
        tlayer.weight.copy_(torch.tensor(layer.weight.numpy()))
        tlayer.bias.copy_(torch.tensor(layer.bias.numpy()))
    xs, xt = md.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = layer(xs), tlayer(xt)
    assert y.shape == tuple(yt.shape) == (4, 6, 5)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.weight.grad, tlayer.weight.grad.numpy(), rtol=1e-5, atol=1e-4)
