"""Invariants that keep minidl fast and lean (no timing here: see ``python -m benchmarks``).

* float32 stays float32 through forward, backward and optimizer steps: a silent upcast to
  float64 doubles memory traffic and hides behind correct-looking numbers.
* No graph is kept alive after ``backward()``: the Functions and intermediate tensors of a
  step die as soon as the loss is dropped, with the garbage collector *off* (so no
  reference cycle is needed to be broken), otherwise memory grows step after step.
* Gradients handed to leaves are arrays the leaf owns (an optimizer may update them in
  place) and optimizer steps update parameters in place.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import minidl as md
from minidl.autograd import Function


def _nn():
    nn = pytest.importorskip("minidl.nn")
    if not all(hasattr(nn, n) for n in ("Sequential", "Linear", "ReLU")):
        pytest.skip("minidl.nn.Sequential/Linear/ReLU not available yet")
    return nn


def _optim():
    optim = pytest.importorskip("minidl.optim")
    if not hasattr(optim, "SGD"):
        pytest.skip("minidl.optim.SGD not available yet")
    return optim


def _cross_entropy():
    try:
        import minidl.nn.functional as F
    except ImportError:
        F = None
    if F is not None and hasattr(F, "cross_entropy"):
        return F.cross_entropy

    def raw(logits, target):
        return -(logits.log_softmax(axis=1)[md.arange(logits.shape[0]), target]).mean()

    return raw


def graph_nodes(t: md.Tensor) -> tuple[list[Function], list[md.Tensor]]:
    """Every Function reachable from ``t`` and every tensor they take as input."""
    fns, tensors, seen = [], [], set()
    stack = [t._creator] if t._creator is not None else []
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        fns.append(fn)
        for x in fn.inputs:
            tensors.append(x)
            if x._creator is not None:
                stack.append(x._creator)
    return fns, tensors


def _batch(n=8, d=12, classes=4):
    rng = np.random.default_rng(0)
    x = md.tensor(rng.standard_normal((n, d)).astype(np.float32))
    y = md.tensor(rng.integers(0, classes, size=n))
    return x, y


# ----------------------------------------------------------------------------- float32 stays float32


def test_raw_mlp_float32_everywhere_including_intermediate_gradients():
    """Every tensor in the graph, every intermediate gradient and every leaf gradient is
    float32, even with NumPy float64 scalars and 0-d arrays mixed in."""
    x, y = _batch()
    w1 = md.tensor(np.random.default_rng(1).standard_normal((12, 16)).astype(np.float32), requires_grad=True)
    w2 = md.tensor(np.random.default_rng(2).standard_normal((16, 4)).astype(np.float32), requires_grad=True)
    h = (x @ w1 * np.float64(0.5) + np.array(0.1)).tanh()
    h = h - h.mean(axis=0) / (h.var(axis=0) + 1e-5).sqrt() * 2.0
    logits = (h @ w2).relu() + h.sigmoid().sum(axis=1, keepdims=True) ** 2
    loss = -(logits.log_softmax(axis=1)[md.arange(8), y]).mean() + 0.01 * (w1 * w1).sum()
    fns, tensors = graph_nodes(loss)
    assert fns
    for t in tensors:
        if t.dtype.kind == "f":
            assert t.dtype == md.float32, f"a {fns and t._creator and t._creator.name} output is {t.dtype}"
            if t._creator is not None:
                t.retain_grad()
    assert loss.dtype == md.float32
    loss.backward()
    for t in tensors:
        if t.dtype.kind == "f" and t.grad is not None:
            assert t.grad.dtype == np.float32, f"gradient of a {t.shape} tensor is {t.grad.dtype}"
    assert w1.grad.dtype == np.float32 and w2.grad.dtype == np.float32


def test_nn_mlp_and_sgd_stay_float32():
    nn, optim = _nn(), _optim()
    md.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    x, y = _batch()
    loss_fn = _cross_entropy()
    for _ in range(3):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        assert loss.dtype == md.float32
        loss.backward()
        for p in model.parameters():
            assert p.dtype == md.float32 and p.grad.dtype == np.float32
        opt.step()
    for p in model.parameters():
        assert p.dtype == md.float32, "an optimizer step upcast a parameter"


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("Adam", {"lr": 1e-3}),
    ("AdamW", {"lr": 1e-3, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 1e-3}),
    ("Adagrad", {"lr": 1e-2}),
])
def test_optimizer_state_and_updates_stay_float32(name, kwargs):
    """Bias corrections like 1 - beta**t are Python floats: they must not upcast."""
    optim = _optim()
    if not hasattr(optim, name):
        pytest.skip(f"minidl.optim.{name} not available yet")
    p = md.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    opt = getattr(optim, name)([p], **kwargs)
    for _ in range(3):
        opt.zero_grad()
        ((p * p).sum() * 0.5).backward()
        opt.step()
        assert p.dtype == md.float32 and p.data.dtype == np.float32
    state = opt.state_dict() if hasattr(opt, "state_dict") else {}
    for arr in _arrays_in(state):
        if arr.dtype.kind == "f" and arr.ndim > 0:
            assert arr.dtype == np.float32, f"{name} keeps a {arr.dtype} state buffer"


def _arrays_in(obj):
    if isinstance(obj, np.ndarray):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _arrays_in(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _arrays_in(v)
    elif isinstance(obj, md.Tensor):
        yield obj.data


# ----------------------------------------------------------------------------- no graph kept alive


def _alive(refs):
    return [r() for r in refs if r() is not None]


def test_raw_graph_is_freed_without_the_garbage_collector():
    x, y = _batch()
    w = md.tensor(np.ones((12, 4), dtype=np.float32), requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        logits = (x @ w).relu() + 1.0
        loss = -(logits.log_softmax(axis=1)[md.arange(8), y]).mean()
        fns, tensors = graph_nodes(loss)
        refs = [weakref.ref(f) for f in fns] + [weakref.ref(t) for t in tensors if t._creator is not None]
        del fns, tensors
        loss.backward()
        assert loss._creator.inputs is None  # released by backward
        del loss, logits
        assert not _alive(refs), f"kept alive after backward: {_alive(refs)}"
    finally:
        gc.enable()
    assert w.grad is not None


def test_nn_training_step_keeps_no_graph_alive():
    nn, optim = _nn(), _optim()
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = _batch()
    loss_fn = _cross_entropy()
    gc.collect()
    gc.disable()
    try:
        refs = []
        for _ in range(3):
            opt.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            fns, tensors = graph_nodes(loss)
            refs += [weakref.ref(f) for f in fns] + [weakref.ref(t) for t in tensors if t._creator is not None]
            refs.append(weakref.ref(out))
            del fns, tensors
            loss.backward()
            opt.step()
            del loss, out
        assert not _alive(refs), f"kept alive after backward: {[type(o).__name__ for o in _alive(refs)]}"
    finally:
        gc.enable()


def test_retain_graph_keeps_it_until_the_loss_is_dropped():
    x = md.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    gc.disable()
    try:
        loss = (x * 2).sum()
        ref = weakref.ref(loss._creator)
        loss.backward(retain_graph=True)
        loss.backward()
        assert ref() is not None and ref().inputs is None
        del loss
        assert ref() is None
    finally:
        gc.enable()
    np.testing.assert_array_equal(x.grad, [4, 4, 4])


# ----------------------------------------------------------------------------- no needless copies, safe ownership


def test_leaf_gradients_are_owned_writable_and_distinct():
    """A gradient may be handed to a leaf without a copy, but never memory that another
    leaf, the caller's ``grad`` or a read-only broadcast view holds."""
    a = md.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    b = md.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    c = md.tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    bias = md.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    g = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = a + b + c.T + bias  # Add hands the same array to a, b and (transposed) c
    out.backward(g)
    grads = [a.grad, b.grad, c.grad, bias.grad]
    for i, gi in enumerate(grads):
        assert gi.flags.writeable, i
        assert not np.shares_memory(gi, g), f"grad {i} aliases the caller's grad"
        for j in range(i):
            assert not np.shares_memory(gi, grads[j]), f"grads {j} and {i} share memory"
    np.testing.assert_array_equal(c.grad, g.T)
    np.testing.assert_array_equal(bias.grad, g.sum(axis=0))
    a.grad += 1  # in place, as an optimizer might: nothing else changes
    np.testing.assert_array_equal(b.grad, g)
    np.testing.assert_array_equal(g, np.arange(6).reshape(2, 3))


def test_sum_backward_gives_leaves_writable_gradients():
    x = md.tensor(np.ones((4, 5), dtype=np.float32), requires_grad=True)
    x.sum().backward()
    assert x.grad.flags.writeable
    x.grad *= 3  # must not fail (broadcast views are read-only) nor touch anything else
    np.testing.assert_array_equal(x.grad, np.full((4, 5), 3))


def test_linear_weight_gradient_is_c_contiguous():
    """x @ W.T (a Linear layer): dL/dW reaches W C-ordered like W, so W -= lr * grad runs
    on contiguous memory (a Fortran-ordered gradient makes that update several times slower)."""
    x, _ = _batch()
    w = md.tensor(np.ones((4, 12), dtype=np.float32), requires_grad=True)
    (x @ w.T).sum().backward()
    assert w.grad.flags.c_contiguous
    np.testing.assert_allclose(w.grad, np.broadcast_to(x.numpy().sum(axis=0), (4, 12)), rtol=1e-6)


def test_optimizer_updates_parameters_in_place():
    nn, optim = _nn(), _optim()
    model = nn.Sequential(nn.Linear(12, 4))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = _batch()
    arrays = [p.data for p in model.parameters()]
    for _ in range(2):
        opt.zero_grad()
        _cross_entropy()(model(x), y).backward()
        opt.step()
    assert all(p.data is a for p, a in zip(model.parameters(), arrays)), "SGD.step replaced a parameter's array"


def test_gradient_accumulates_in_place_across_backward_calls():
    w = md.tensor(np.ones((3, 4), dtype=np.float32), requires_grad=True)
    x = md.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    (w * x).sum().backward()
    first = w.grad
    (w * x).sum().backward()
    assert w.grad is first, "the second backward allocated a new .grad instead of adding in place"
    np.testing.assert_array_equal(w.grad, 2 * x.numpy())


def test_in_place_accumulation_never_corrupts_a_gradient_still_in_flight():
    """a + (2a + 3a): Add hands the same upstream array to the leaf ``a`` and to the pending
    branch; accumulating the branch's contributions in place into that array would change
    what the branch still has to read."""
    a = md.tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    g = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    out = a + (a * 2.0 + a * 3.0)
    out.backward(g)
    np.testing.assert_array_equal(a.grad, 6 * g)
    np.testing.assert_array_equal(g, [1, 2, 3, 4])
    b = md.tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    (b * 1.0).backward(b.grad if b.grad is not None else g)
    (b + b).backward(b.grad)  # the caller's grad is b's own .grad: must not be changed while read
    np.testing.assert_array_equal(b.grad, g + 2 * g)


@pytest.mark.parametrize("batch", [2, 16, 40])
def test_linear_matmul_orientation_gives_the_same_numbers(batch):
    """x @ W.T with a small batch is computed as (W @ x.T).T (faster in BLAS): same values,
    same gradients, weight gradient still C-ordered."""
    rng = np.random.default_rng(batch)
    x_np = rng.standard_normal((batch, 30)).astype(np.float32)
    w_np = rng.standard_normal((20, 30)).astype(np.float32)
    g_np = rng.standard_normal((batch, 20)).astype(np.float32)
    x = md.tensor(x_np, requires_grad=True)
    w = md.tensor(w_np, requires_grad=True)
    out = x @ w.T
    np.testing.assert_allclose(out.numpy(), x_np @ w_np.T, rtol=1e-5, atol=1e-5)
    out.backward(g_np)
    np.testing.assert_allclose(x.grad, g_np @ w_np, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(w.grad, g_np.T @ x_np, rtol=1e-5, atol=1e-5)
    assert w.grad.flags.c_contiguous and w.grad.dtype == np.float32
