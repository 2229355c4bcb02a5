"""The autograd engine: its core rules (README, "How it works") and the pitfalls other engines shipped."""

import gc
import weakref

import numpy as np
import pytest

import minidl as md


def f64(values, requires_grad=True):
    return md.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# ----------------------------------------------------------------------------- reused nodes


def test_reused_node_accumulates():
    a = md.tensor(3.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0


def test_diamond_graph_matches_finite_differences():
    # x feeds two branches that meet again: gradients from both paths must add up
    def diamond(x):
        u = x.exp()
        v = u * x       # uses x twice: directly and through u
        w = u.tanh()
        return (v + w) * u

    assert md.gradcheck(diamond, [f64(np.linspace(-1, 1, 5))])


def test_wide_reuse_of_one_intermediate():
    x = md.tensor([2.0], requires_grad=True)
    h = x * 3
    total = h
    for _ in range(99):
        total = total + h  # h used 100 times
    total.sum().backward()
    np.testing.assert_allclose(x.grad, [300.0])


def test_scalar_leaf_backward_sets_grad_to_one():
    x = md.tensor(2.5, requires_grad=True)
    x.backward()
    assert x.grad == 1.0 and x.grad.dtype == np.float32


def test_chain_of_10000_ops_backpropagates_without_recursion_error():
    x = md.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001**10_000], rtol=1e-3)


# ----------------------------------------------------------------------------- accumulation


def test_leaf_grad_accumulates_across_backward_calls():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, 5.0])


def test_intermediate_gradients_are_not_kept_unless_retained():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    k = (x * 3).retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(k.grad, (x * 2).numpy())


def test_leaf_grads_never_alias_each_other_or_the_upstream_gradient():
    a = md.tensor([1.0, 2.0], requires_grad=True)
    b = md.tensor([3.0, 4.0], requires_grad=True)
    upstream = np.ones(2, dtype=np.float32)
    (a + b).backward(upstream)
    assert not np.shares_memory(a.grad, b.grad)
    assert not np.shares_memory(a.grad, upstream)
    a.grad += 1  # an optimizer may modify grads in place
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    assert a.grad.flags.writeable and b.grad.flags.writeable


def test_broadcast_gradients_are_writeable_arrays_of_the_leaf_shape():
    b = md.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = md.ones(4, 3)
    (x + b).sum().backward()
    assert b.grad.shape == (3,) and b.grad.flags.writeable
    s = md.tensor([1.0, 2.0], requires_grad=True)
    s.sum().backward()  # Sum's backward is a read-only broadcast view
    assert s.grad.flags.writeable


# ----------------------------------------------------------------------------- graph lifetime


def test_graph_is_freed_after_backward_and_second_backward_raises():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, [4.0, 8.0])


def test_intermediates_die_with_the_loss_without_gc():
    gc.disable()
    try:
        x = md.tensor([1.0, 2.0], requires_grad=True)
        h = x.exp()
        ref_h = weakref.ref(h)
        ref_fn = weakref.ref(h.grad_fn)
        loss = (h * 2).sum()
        del h
        assert ref_h() is not None  # kept alive by the graph
        del loss
        assert ref_h() is None and ref_fn() is None
    finally:
        gc.enable()


def test_no_graph_kept_alive_after_backward():
    gc.disable()
    try:
        x = md.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        ref = weakref.ref(h)
        loss = h.sum()
        del h
        loss.backward()
        assert ref() is None  # backward released the Function's reference to its input
    finally:
        gc.enable()


# ----------------------------------------------------------------------------- grad mode


def test_no_grad_builds_no_graph_and_restores_mode():
    x = md.tensor([1.0], requires_grad=True)
    with md.no_grad():
        assert not md.is_grad_enabled()
        y = x * 2
        with md.enable_grad():
            z = x * 2
    assert md.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


def test_no_grad_as_decorator():
    @md.no_grad()
    def evaluate(t):
        return t * 2

    assert not evaluate(md.tensor([1.0], requires_grad=True)).requires_grad


def test_backward_inside_no_grad_on_graph_free_tensor_is_a_clear_error():
    x = md.tensor([1.0], requires_grad=True)
    with md.no_grad():
        y = (x * 2).sum()
        with pytest.raises(RuntimeError, match="does not require grad.*no_grad"):
            y.backward()


def test_backward_still_works_inside_no_grad_for_a_graph_built_outside():
    x = md.tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    with md.no_grad():
        y.backward()
    np.testing.assert_allclose(x.grad, [2.0])


def test_detach_cuts_the_graph_and_shares_memory():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = (x * d).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, d.numpy())  # d treated as a constant


def test_non_differentiable_branch_gets_no_gradient():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    c = md.tensor([5.0, 6.0])
    (x * c).sum().backward()
    assert c.grad is None


# ----------------------------------------------------------------------------- versions


def test_in_place_change_of_a_saved_tensor_is_detected():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = (h * h).sum()      # Mul saves h
    with md.no_grad():
        h.mul_(10)
    with pytest.raises(RuntimeError, match="Mul.*modified in place"):
        y.backward()


def test_in_place_change_of_a_saved_output_is_detected():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()            # Exp saves its output
    loss = y.sum()
    with md.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="Exp.*version went 0 -> 1"):
        loss.backward()


def test_in_place_change_through_a_view_is_detected():
    x = md.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    h = x * 1
    y = (h.tanh()).sum()    # Tanh saves its output; mutate h through a reshape view instead
    t = h.tanh()
    loss = (t * 2).sum() + y
    v = t.reshape(4)
    with md.no_grad():
        v[0] = 100.0
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_in_place_change_of_an_unsaved_input_is_fine():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    c = md.tensor([1.0, 1.0])
    y = (x + c).sum()  # Add saves nothing
    c.add_(5)
    y.backward()
    np.testing.assert_allclose(x.grad, [1.0, 1.0])


def test_in_place_on_a_leaf_requiring_grad_needs_no_grad():
    w = md.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place add_ on a leaf tensor that requires grad.*no_grad"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="in-place"):
        w -= 1
    with md.no_grad():
        w -= md.tensor([0.5, 0.5])  # the student's manual SGD step works in place
    assert w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.numpy(), [0.5, 1.5])


# ----------------------------------------------------------------------------- anomaly mode


def test_detect_anomaly_names_the_op_whose_forward_made_nan():
    x = md.tensor([-1.0, 1.0], requires_grad=True)
    with md.detect_anomaly():
        with pytest.raises(FloatingPointError, match=r"Sqrt produced NaN in its forward.*test_autograd.py"):
            with np.errstate(invalid="ignore"):
                x.sqrt()


def test_detect_anomaly_names_the_op_whose_backward_made_inf():
    x = md.tensor([0.0, 1.0], requires_grad=True)
    with md.detect_anomaly():
        y = x.sqrt()  # sqrt(0) = 0 is fine forward; its derivative 1/(2*0) is inf
        with pytest.raises(FloatingPointError, match="Sqrt produced Inf in its backward"):
            with np.errstate(divide="ignore"):
                y.sum().backward()


def test_without_anomaly_mode_nan_passes_silently_like_numpy():
    x = md.tensor([-1.0])
    with np.errstate(invalid="ignore"):
        assert np.isnan(x.sqrt().item())


# ----------------------------------------------------------------------------- errors


def test_backward_on_non_scalar_without_grad_is_a_clear_error():
    x = md.tensor([[1.0, 2.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(1, 2\).*\.sum\(\)"):
        (x * 2).backward()


def test_backward_with_explicit_grad_checks_its_shape():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\), expected .*\(2,\)"):
        y.backward(np.ones(3))
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2.0, 20.0])
    assert x.grad.dtype == np.float32


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients.*int64"):
        md.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        md.arange(3, requires_grad=True)


def test_custom_function_with_planted_bug_is_caught_by_gradcheck():
    class WrongSquare(md.Function):
        def forward(self, x):
            self.save(x)
            return x * x

        def backward(self, gy):
            (x,) = self.saved
            return (gy * x,)  # should be 2 x

    with pytest.raises(md.GradcheckError, match="input 0"):
        md.gradcheck(lambda t: WrongSquare.apply(t), [f64([0.5, -1.5])])


def test_detect_anomaly_finds_the_user_frame_in_a_clone_folder_named_minidl(tmp_path):
    """``git clone`` makes a folder named minidl: a user's script inside it is still the
    user's code (minidl's own files are told apart by the package directory, not a name)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    clone = tmp_path / "minidl"
    shutil.copytree(Path(md.__file__).parent, clone / "minidl", ignore=shutil.ignore_patterns("__pycache__"))
    script = clone / "train.py"
    script.write_text(
        "import numpy as np\nimport minidl as md\n"
        "x = md.tensor([-1.0], requires_grad=True)\n"
        "with md.detect_anomaly(), np.errstate(invalid='ignore'):\n"
        "    try:\n"
        "        y = x.sqrt()  # the line to report\n"
        "    except FloatingPointError as exc:\n"
        "        print(exc)\n"
        "print(md.__file__)\n"
    )
    out = subprocess.run([sys.executable, str(script)], cwd=clone, capture_output=True, text=True, check=True,
                         env={"PATH": "", "PYTHONPATH": str(clone)})
    assert str(clone / "minidl") in out.stdout  # the copied package was the one imported
    assert f"{script}:6 (y = x.sqrt()  # the line to report)" in out.stdout, out.stdout


def test_set_grad_enabled_as_a_call_a_block_and_a_decorator_like_torch():
    assert md.is_grad_enabled()
    try:
        md.set_grad_enabled(False)  # a plain call sets the mode at once
        assert not md.is_grad_enabled() and not (md.ones(2, requires_grad=True) * 2).requires_grad
    finally:
        md.set_grad_enabled(True)
    with md.set_grad_enabled(False):
        assert not md.is_grad_enabled()
    assert md.is_grad_enabled()  # the block puts back the mode there was

    @md.set_grad_enabled(False)
    def inside() -> bool:
        return md.is_grad_enabled()

    assert md.is_grad_enabled()  # decorating changes nothing
    assert inside() is False and md.is_grad_enabled()
    with pytest.raises(TypeError, match="set_grad_enabled: mode must be True or False, got 'yes'"):
        md.set_grad_enabled("yes")
    assert md.is_grad_enabled()


def test_grad_mode_decorators_work_without_parentheses_as_in_torch():
    @md.no_grad
    def off() -> bool:
        return md.is_grad_enabled()

    @md.inference_mode
    def evaluating() -> bool:
        return md.is_grad_enabled()

    @md.enable_grad
    def on() -> bool:
        return md.is_grad_enabled()

    assert off() is False and evaluating() is False and md.is_grad_enabled()
    with md.no_grad():
        assert on() is True and not md.is_grad_enabled()


def test_register_hook_matches_torch(torch):
    """Hooks on an op's output and on a leaf used twice: what each sees, what a returned
    gradient replaces, and .grad afterwards, against PyTorch on the same graph."""
    x0 = np.array([1.0, -2.0, 3.0])
    runs = {}
    for lib, make in (("md", lambda: md.tensor(x0, requires_grad=True)),
                      ("torch", lambda: torch.tensor(x0, requires_grad=True))):
        x = make()
        seen: list = []
        x.register_hook(lambda g, seen=seen: seen.append(("x", g.numpy().copy())))
        h = x * x  # x is used twice below (here and in the sum), so its hook sees the total
        h.register_hook(lambda g, seen=seen: seen.append(("h", g.numpy().copy())) or g * 10)
        h.retain_grad()
        (h.sum() + (x * 3).sum()).backward()
        runs[lib] = (seen, x.grad if lib == "md" else x.grad.numpy(), h.grad if lib == "md" else h.grad.numpy())
    (seen_md, xg_md, hg_md), (seen_t, xg_t, hg_t) = runs["md"], runs["torch"]
    assert [k for k, _ in seen_md] == [k for k, _ in seen_t] == ["h", "x"]
    for (_, a), (_, b) in zip(seen_md, seen_t):
        np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(xg_md, xg_t)  # 10 * 2x + 3
    np.testing.assert_allclose(hg_md, hg_t)  # retain_grad keeps the hooked gradient, as torch 2 does


def test_hook_outlives_its_tensor_and_handle_removes_it():
    x = md.tensor([1.0, 2.0], requires_grad=True)
    calls = []

    def forward():
        h = x * 2  # h goes out of scope: the hook lives on in the graph
        h.register_hook(lambda g: calls.append(g.numpy().copy()))
        return h.sum()

    forward().backward()
    assert len(calls) == 1 and np.allclose(calls[0], [1.0, 1.0])
    handle = x.register_hook(lambda g: g * 0)
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0])  # the first backward's 2, plus 0 from the hook
    handle.remove()
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad, [4.0, 4.0])


def test_a_gradient_a_hook_kept_is_not_changed_by_later_accumulation():
    x = md.tensor([1.0, 1.0], requires_grad=True)
    kept = []
    x.register_hook(lambda g: kept.append(g.numpy()))
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad, [4.0, 4.0])
    np.testing.assert_allclose(kept[0], [2.0, 2.0])  # .grad was not summed into the array the hook saw


def test_register_hook_errors():
    with pytest.raises(RuntimeError, match="register_hook: this tensor does not require grad"):
        md.ones(2).register_hook(print)
    with pytest.raises(TypeError, match="hook must be callable, got int"):
        md.ones(2, requires_grad=True).register_hook(3)
    x = md.ones(3, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: md.ones(2))
    with pytest.raises(RuntimeError, match=r"returned Tensor of shape \(2,\); expected None or a gradient of shape"):
        y.sum().backward()
