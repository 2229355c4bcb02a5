"""Optimizer trajectories vs a NumPy transcription of the lecture equations and vs PyTorch."""


import numpy as np
import pytest

import minidl as md
from minidl import optim

STEPS = 50


def grad_sequence(shape, n=STEPS, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for _ in range(n)]


def run_minidl(cls, kwargs, x0, grads):
    p = md.tensor(x0.copy(), requires_grad=True)
    opt = cls([p], **kwargs)
    traj = []
    for g in grads:
        p.grad = g.copy()
        opt.step()
        traj.append(np.array(p.data))
    return np.stack(traj), p, opt


# ----------------------------------------------------------- NumPy transcriptions
def ref_sgd(x, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    x = x.copy()
    v = None
    out = []
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * x
        if momentum:
            v = g.copy() if v is None else momentum * v + (1 - dampening) * g
            g = g + momentum * v if nesterov else v
        x = x - lr * g
        out.append(x)
    return np.stack(out)


def ref_adagrad(x, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                maximize=False):
    x = x.copy()
    G = np.full_like(x, initial_accumulator_value)
    out = []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        g = g + weight_decay * x
        G = G + g * g
        x = x - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(G) + eps)
        out.append(x)
    return np.stack(out)


def ref_rmsprop(x, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                maximize=False):
    x = x.copy()
    s = np.zeros_like(x)
    m = np.zeros_like(x)
    b = np.zeros_like(x)
    out = []
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * x
        s = alpha * s + (1 - alpha) * g * g
        if centered:
            m = alpha * m + (1 - alpha) * g
            den = np.sqrt(s - m * m) + eps
        else:
            den = np.sqrt(s) + eps
        if momentum:
            b = momentum * b + g / den
            x = x - lr * b
        else:
            x = x - lr * g / den
        out.append(x)
    return np.stack(out)


def ref_adam(x, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False,
             maximize=False):
    b1, b2 = betas
    x = x.copy()
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    vmax = np.zeros_like(x)
    out = []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        if decoupled:
            x = x * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if amsgrad:
            vmax = np.maximum(vmax, v)
            vv = vmax
        else:
            vv = v
        x = x - lr * (m / (1 - b1 ** t)) / (np.sqrt(vv / (1 - b2 ** t)) + eps)
        out.append(x)
    return np.stack(out)


def ref_adamw(x, grads, decoupled_weight_decay=True, **kw):
    kw.setdefault("weight_decay", 1e-2)
    return ref_adam(x, grads, decoupled=decoupled_weight_decay, **kw)


CASES = [
    ("SGD", optim.SGD, ref_sgd, dict(lr=0.1)),
    ("SGD", optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.9)),
    ("SGD", optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    ("SGD", optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adagrad", optim.Adagrad, ref_adagrad, dict()),
    ("Adagrad", optim.Adagrad, ref_adagrad,
     dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("RMSprop", optim.RMSprop, ref_rmsprop, dict()),
    ("RMSprop", optim.RMSprop, ref_rmsprop, dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", optim.RMSprop, ref_rmsprop, dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5)),
    ("Adam", optim.Adam, ref_adam, dict()),
    ("Adam", optim.Adam, ref_adam, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adam", optim.Adam, ref_adam, dict(lr=0.01, amsgrad=True)),
    ("AdamW", optim.AdamW, ref_adamw, dict(lr=0.01)),
    ("AdamW", optim.AdamW, ref_adamw, dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
    # maximize: the gradient's sign flips first, before weight decay (PyTorch's order)
    ("SGD", optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.9, weight_decay=0.1, maximize=True)),
    ("Adagrad", optim.Adagrad, ref_adagrad, dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("RMSprop", optim.RMSprop, ref_rmsprop, dict(lr=0.01, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adam", optim.Adam, ref_adam, dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("AdamW", optim.AdamW, ref_adamw, dict(lr=0.01, weight_decay=0.5, maximize=True)),
    ("Adam", optim.Adam, ref_adamw, dict(lr=0.01, weight_decay=0.5, decoupled_weight_decay=True)),  # = AdamW
]
IDS = [f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in c[3].items())}" for c in CASES]


@pytest.mark.parametrize("name,cls,ref,kw", CASES, ids=IDS)
def test_trajectory_matches_numpy_equations(name, cls, ref, kw):
    x0 = np.random.default_rng(1).standard_normal((3, 4))
    grads = grad_sequence((3, 4))
    got, _, _ = run_minidl(cls, kw, x0, grads)
    np.testing.assert_allclose(got, ref(x0, grads, **kw), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype,tol", [(np.float32, 2e-5), (np.float64, 1e-11)])
@pytest.mark.parametrize("name,cls,ref,kw", CASES, ids=IDS)
def test_trajectory_matches_torch(torch, name, cls, ref, kw, dtype, tol):
    x0 = np.random.default_rng(1).standard_normal((3, 4)).astype(dtype)
    grads = grad_sequence((3, 4), dtype=dtype)
    got, p, opt = run_minidl(cls, kw, x0, grads)
    tp = torch.nn.Parameter(torch.from_numpy(x0.copy()))
    topt = getattr(torch.optim, name)([tp], **kw)
    want = []
    for g in grads:
        tp.grad = torch.from_numpy(g.copy())
        topt.step()
        want.append(tp.detach().numpy().copy())
    np.testing.assert_allclose(got, np.stack(want), rtol=tol, atol=tol)
    assert got.dtype == dtype


@pytest.mark.parametrize("name,cls,ref,kw", CASES, ids=IDS)
def test_float32_stays_float32(name, cls, ref, kw):
    x0 = np.ones((2, 3), np.float32)
    _, p, opt = run_minidl(cls, kw, x0, grad_sequence((2, 3), n=3, dtype=np.float32))
    assert p.data.dtype == np.float32
    for state in opt.state.values():
        for v in state.values():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float32


def _resume(cls, kw, save_load=None):
    x0 = np.random.default_rng(2).standard_normal((4,)).astype(np.float32)
    grads = grad_sequence((4,), n=20, dtype=np.float32)
    full, _, _ = run_minidl(cls, kw, x0, grads)
    half, p, opt = run_minidl(cls, kw, x0, grads[:10])
    sd = opt.state_dict()
    if save_load is not None:
        sd = save_load(sd)
    p2 = md.tensor(np.array(p.data), requires_grad=True)
    opt2 = cls([p2], **{k: (0.123 if k == "lr" else v) for k, v in kw.items()} if "lr" in kw else kw)
    opt2.load_state_dict(sd)
    rest = []
    for g in grads[10:]:
        p2.grad = g.copy()
        opt2.step()
        rest.append(np.array(p2.data))
    np.testing.assert_array_equal(np.concatenate([half, np.stack(rest)]), full)


@pytest.mark.parametrize("name,cls,ref,kw", CASES, ids=IDS)
def test_state_dict_resume_bit_for_bit(name, cls, ref, kw):
    _resume(cls, kw)


@pytest.mark.parametrize("name,cls,ref,kw", CASES[::3], ids=IDS[::3])
def test_state_dict_resume_through_save_load(tmp_path, name, cls, ref, kw):
    def through_file(sd):
        path = tmp_path / "opt.mdl"
        md.save(sd, str(path))
        return md.load(str(path))
    _resume(cls, kw, through_file)


def test_step_skips_params_without_grad():
    a = md.tensor([1.0, 2.0], requires_grad=True)
    b = md.tensor([3.0, 4.0], requires_grad=True)
    opt = optim.SGD([a, b], lr=0.5)
    a.grad = np.array([1.0, 1.0])
    opt.step()
    np.testing.assert_array_equal(a.data, [0.5, 1.5])
    np.testing.assert_array_equal(b.data, [3.0, 4.0])
    assert b not in opt.state


def test_zero_grad():
    a = md.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    a.grad = np.array([1.0, 1.0])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad, [0.0, 0.0])
    opt.zero_grad()
    assert a.grad is None


def test_param_groups_have_own_hyperparameters_and_defaults():
    a = md.tensor([1.0], requires_grad=True)
    b = md.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a], "lr": 0.01}, {"params": [b]}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[1]["lr"] == 0.1
    assert opt.param_groups[0]["momentum"] == 0.9
    a.grad = np.array([1.0])
    b.grad = np.array([1.0])
    opt.step()
    np.testing.assert_allclose(a.data, [0.99])
    np.testing.assert_allclose(b.data, [0.9])
    c = md.tensor([1.0], requires_grad=True)
    opt.add_param_group({"params": [c], "lr": 1.0})
    assert len(opt.param_groups) == 3 and opt.param_groups[2]["momentum"] == 0.9


def test_loss_goes_down_on_a_model():
    import minidl.nn as nn
    md.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    x = md.tensor(np.random.default_rng(0).standard_normal((32, 3)).astype(np.float32))
    y = md.tensor(np.random.default_rng(1).standard_normal((32, 1)).astype(np.float32))
    opt = optim.Adam(optim.param_groups_weight_decay(model, 1e-2), lr=1e-2)
    losses = []
    for _ in range(80):
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.75 * losses[0]


def test_param_groups_weight_decay_rule():
    import minidl.nn as nn
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    groups = optim.param_groups_weight_decay(model, 0.05)
    decay, no_decay = groups
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim == 2 for p in decay["params"]) and len(decay["params"]) == 2
    assert all(p.ndim == 1 for p in no_decay["params"]) and len(no_decay["params"]) == 4


def _p():
    return md.tensor([1.0], requires_grad=True)


@pytest.mark.parametrize("make,match", [
    (lambda: optim.SGD([_p()], lr=-1), "invalid learning rate"),
    (lambda: optim.SGD([_p()], lr=0.1, momentum=-0.5), "invalid momentum"),
    (lambda: optim.SGD([_p()], lr=0.1, nesterov=True), "Nesterov momentum requires"),
    (lambda: optim.SGD([_p()], lr=0.1, weight_decay=-1), "invalid weight_decay"),
    (lambda: optim.Adam([_p()], betas=(1.0, 0.999)), "invalid beta parameter at index 0"),
    (lambda: optim.Adam([_p()], betas=(0.9, -0.1)), "invalid beta parameter at index 1"),
    (lambda: optim.Adam([_p()], eps=-1e-8), "invalid epsilon"),
    (lambda: optim.Adam([_p()], betas=0.9), r"betas must be a pair \(beta1, beta2\)"),
    (lambda: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda: optim.SGD([md.tensor([1.0], requires_grad=True) * 2], lr=0.1), "non-leaf"),
    (lambda: optim.SGD([md.tensor([1, 2])], lr=0.1), "floating-point"),
    (lambda: optim.SGD(_p(), lr=0.1), "single Tensor"),
])
def test_clear_errors(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_betas_may_be_any_pair():
    opt = optim.Adam([_p()], betas=np.array([0.8, 0.99]))
    assert opt.param_groups[0]["betas"] == (0.8, 0.99)


def test_parameter_in_two_groups_is_an_error():
    a = _p()
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)


def test_load_state_dict_with_state_of_another_shape_is_refused_untouched():
    a = md.tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    a.grad = np.ones(3)
    opt.step()
    b = md.tensor(np.ones(4), requires_grad=True)
    other = optim.SGD([b], lr=0.5, momentum=0.9)
    with pytest.raises(ValueError, match=r"parameter 0 has 'momentum_buffer' of shape \(3,\), but that parameter "
                                         r"has shape \(4,\)"):
        other.load_state_dict(opt.state_dict())
    assert other.param_groups[0]["lr"] == 0.5 and other.state == {}  # nothing half-loaded


def test_load_state_dict_mismatched_groups():
    a, b = _p(), _p()
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="parameter group 0 with 2 parameters"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="1 parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from minidl.testing import shapes  # noqa: E402


@settings(max_examples=15, deadline=None)
@given(shape=shapes(min_dims=0, max_dims=3), case=st.sampled_from(range(len(CASES))), seed=st.integers(0, 2**16))
def test_any_shape_matches_numpy_equations(shape, case, seed):
    name, cls, ref, kw = CASES[case]
    x0 = np.random.default_rng(seed).standard_normal(shape)
    grads = grad_sequence(shape, n=5, seed=seed + 1)
    got, _, _ = run_minidl(cls, kw, x0, grads)
    np.testing.assert_allclose(got, ref(x0, grads, **kw), rtol=1e-10, atol=1e-12)


def test_multiple_groups_state_dict_positions():
    a, b, c = (md.tensor(np.ones(2), requires_grad=True) for _ in range(3))
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.1}])
    for p in (a, c):
        p.grad = np.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0, 1] and sd["param_groups"][1]["params"] == [2]
    assert set(sd["state"]) == {0, 2} and sd["state"][2]["step"] == 1


# ------------------------------------------------- load_state_dict checks everything first
NAN = float("nan")


def _snapshot(opt):
    """The optimizer's whole state as plain values, to compare before/after a refused load."""
    groups = [{k: (v if k != "params" else [id(p) for p in v]) for k, v in g.items()} for g in opt.param_groups]
    state = {id(p): {k: (np.array(v) if isinstance(v, np.ndarray) else v) for k, v in st.items()}
             for p, st in opt.state.items()}
    return groups, state


def _assert_unchanged(opt, before):
    groups, state = _snapshot(opt)
    assert groups == before[0]
    assert state.keys() == before[1].keys()
    for k in state:
        assert state[k].keys() == before[1][k].keys()
        for name, v in state[k].items():
            np.testing.assert_array_equal(v, before[1][k][name])


def _trained(cls, **kw):
    p = md.tensor(np.ones(3), requires_grad=True)
    opt = cls([p], **kw)
    p.grad = np.ones(3)
    opt.step()
    return p, opt


def _edited(sd, group=None, state=None):
    """A copy of an optimizer state dict with some group hyperparameters / state entries replaced."""
    new = {"state": {k: dict(v) for k, v in sd["state"].items()},
           "param_groups": [dict(g) for g in sd["param_groups"]]}
    new["param_groups"][0].update(group or {})
    if state is not None:
        new["state"][0].update(state)
    return new


@pytest.mark.parametrize("cls,kw,group,match", [
    (optim.SGD, dict(lr=0.1), {"lr": -1.0}, "invalid learning rate: -1.0"),
    (optim.SGD, dict(lr=0.1), {"lr": NAN}, "invalid learning rate: nan"),
    (optim.SGD, dict(lr=0.1, momentum=0.9), {"momentum": -0.5}, "invalid momentum"),
    (optim.SGD, dict(lr=0.1), {"weight_decay": NAN}, "invalid weight_decay"),
    (optim.SGD, dict(lr=0.1), {"nesterov": "yes"}, r"\['nesterov'\] must be a bool"),
    (optim.Adam, dict(), {"betas": [2.0, 0.999]}, "invalid beta parameter at index 0: 2.0"),
    (optim.Adam, dict(), {"betas": [0.9, NAN]}, "invalid beta parameter at index 1: nan"),
    (optim.Adam, dict(), {"betas": [0.9]}, "betas must be a pair"),
    (optim.Adam, dict(), {"eps": -1e-8}, "invalid epsilon"),
    (optim.Adam, dict(), {"lr": "0.1"}, "learning rate must be a number"),
    (optim.RMSprop, dict(), {"alpha": NAN}, "invalid alpha"),
    (optim.Adagrad, dict(), {"lr_decay": -0.1}, "invalid lr_decay"),
])
def test_load_state_dict_refuses_bad_hyperparameters_and_changes_nothing(cls, kw, group, match):
    _, opt = _trained(cls, **kw)
    sd = _edited(opt.state_dict(), group=group)
    _, fresh = _trained(cls, **kw)
    before = _snapshot(fresh)
    with pytest.raises(ValueError, match=match):
        fresh.load_state_dict(sd)
    _assert_unchanged(fresh, before)


def test_saved_negative_lr_is_refused_instead_of_climbing_the_loss():
    _, opt = _trained(optim.SGD, lr=0.1)
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = -1.0
    p, other = _trained(optim.SGD, lr=0.1)
    with pytest.raises(ValueError, match=r"param_groups\[0\] is invalid: invalid learning rate"):
        other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize("sd,exc,match", [
    ({"param_groups": []}, ValueError, "no 'state' entry"),
    ({"state": {}}, ValueError, "no 'param_groups' entry"),
    ({}, ValueError, "no 'state' or 'param_groups'"),
    ([1, 2], TypeError, "expected a dict"),
    ({"state": [], "param_groups": [{"params": [0]}]}, ValueError, "'state' must be a dict"),
    ({"state": {}, "param_groups": {"params": [0]}}, ValueError, "'param_groups' must be a list of dicts"),
    ({"state": {}, "param_groups": [{"lr": 0.1}]}, ValueError, r"\['params'\] must be a list of parameter indices"),
])
def test_load_state_dict_structure_errors_are_clear(sd, exc, match):
    _, opt = _trained(optim.SGD, lr=0.1, momentum=0.9)
    before = _snapshot(opt)
    with pytest.raises(exc, match=match):
        opt.load_state_dict(sd)
    _assert_unchanged(opt, before)


@pytest.mark.parametrize("src,src_kw,dst,dst_kw,match", [
    (optim.SGD, dict(lr=0.1, momentum=0.9), optim.Adam, dict(), "has no 'amsgrad', 'betas', 'eps'"),
    (optim.Adam, dict(), optim.SGD, dict(lr=0.1), "has no 'dampening', 'momentum', 'nesterov'"),
    (optim.Adam, dict(), optim.RMSprop, dict(), "has no 'alpha'"),
    (optim.RMSprop, dict(), optim.Adagrad, dict(), "has no 'initial_accumulator_value', 'lr_decay'"),
])
def test_state_of_another_optimizer_is_refused_before_step(src, src_kw, dst, dst_kw, match):
    _, opt = _trained(src, **src_kw)
    p, other = _trained(dst, **dst_kw)
    before = _snapshot(other)
    with pytest.raises(ValueError, match="saved by another kind of optimizer") as info:
        other.load_state_dict(opt.state_dict())
    assert info.match(match)
    _assert_unchanged(other, before)
    p.grad = np.ones(3)
    other.step()  # still usable


def test_adam_state_loads_into_adamw_like_torch():
    _, opt = _trained(optim.Adam)
    p, other = _trained(optim.AdamW)
    other.load_state_dict(opt.state_dict())
    assert other.state[p]["step"] == 1
    assert other.param_groups[0]["decoupled_weight_decay"] is True  # AdamW stays AdamW, as in torch


def test_decoupled_weight_decay_flag():
    p = md.tensor([1.0], requires_grad=True)
    assert optim.Adam([p]).param_groups[0]["decoupled_weight_decay"] is False
    assert optim.AdamW([p]).param_groups[0]["decoupled_weight_decay"] is True
    with pytest.raises(ValueError, match="AdamW: decoupled_weight_decay must be True"):
        optim.AdamW([{"params": [p], "decoupled_weight_decay": False}])
    with pytest.raises(TypeError, match="decoupled_weight_decay must be True or False, got 'yes'"):
        optim.Adam([p], decoupled_weight_decay="yes")
    old = optim.Adam([p]).state_dict()  # saved before the flag existed: loads as plain Adam
    del old["param_groups"][0]["decoupled_weight_decay"], old["param_groups"][0]["maximize"]
    fresh = optim.Adam([p], decoupled_weight_decay=True)
    fresh.load_state_dict(old)
    assert fresh.param_groups[0]["decoupled_weight_decay"] is False and fresh.param_groups[0]["maximize"] is False


@pytest.mark.parametrize("state,match", [
    ({"momentum_buffer": np.ones(3, np.int64)}, "'momentum_buffer' of dtype int64; expected a floating-point"),
    ({"momentum_buffer": np.ones((3, 1))}, r"'momentum_buffer' of shape \(3, 1\)"),
    ({"momentum_buffer": np.float64(1.0)}, r"'momentum_buffer' of shape \(\)"),
    ({"exp_avg": np.ones(3)}, r"has \['exp_avg'\], which SGD does not keep"),
])
def test_load_state_dict_refuses_bad_parameter_state(state, match):
    _, opt = _trained(optim.SGD, lr=0.1, momentum=0.9)
    sd = _edited(opt.state_dict(), state=state)
    _, other = _trained(optim.SGD, lr=0.1, momentum=0.9)
    before = _snapshot(other)
    with pytest.raises(ValueError, match=match):
        other.load_state_dict(sd)
    _assert_unchanged(other, before)


@pytest.mark.parametrize("step,match", [(-1, "step -1"), (1.5, "step 1.5"), ("3", "step '3'"), (True, "step True"),
                                        (float("inf"), "step inf"), (NAN, "step nan")])
def test_load_state_dict_refuses_bad_step(step, match):
    _, opt = _trained(optim.Adam)
    sd = _edited(opt.state_dict(), state={"step": step})
    _, other = _trained(optim.Adam)
    before = _snapshot(other)
    with pytest.raises(ValueError, match=match):
        other.load_state_dict(sd)
    _assert_unchanged(other, before)


def test_load_state_dict_refuses_state_for_an_unknown_parameter():
    _, opt = _trained(optim.SGD, lr=0.1, momentum=0.9)
    sd = opt.state_dict()
    sd["state"][5] = sd["state"].pop(0)
    _, other = _trained(optim.SGD, lr=0.1, momentum=0.9)
    before = _snapshot(other)
    with pytest.raises(ValueError, match=r"entry for parameter 5, but the param groups number the parameters \[0\]"):
        other.load_state_dict(sd)
    _assert_unchanged(other, before)


@pytest.mark.parametrize("make,match", [
    (lambda: optim.SGD([_p()], lr=NAN), "invalid learning rate: nan"),
    (lambda: optim.SGD([_p()], lr=0.1, momentum=NAN), "invalid momentum value: nan"),
    (lambda: optim.SGD([_p()], lr=0.1, weight_decay=NAN), "invalid weight_decay value: nan"),
    (lambda: optim.Adam([_p()], eps=NAN), "invalid epsilon value: nan"),
    (lambda: optim.Adam([_p()], lr=NAN), "invalid learning rate: nan"),
    (lambda: optim.Adam([_p()], betas=(NAN, 0.9)), "invalid beta parameter at index 0: nan"),
    (lambda: optim.RMSprop([_p()], alpha=NAN), "invalid alpha value: nan"),
    (lambda: optim.Adagrad([_p()], initial_accumulator_value=NAN), "invalid initial_accumulator_value"),
    (lambda: optim.SGD([{"params": [_p()], "lr": NAN}], lr=0.1), "invalid learning rate: nan"),
])
def test_nan_hyperparameters_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_nan_hyperparameters_match_torch_where_torch_checks(torch):
    """torch refuses NaN betas and eps (its ``not 0.0 <= value`` checks); minidl too."""
    tp = [torch.zeros(1, requires_grad=True)]
    for kw in (dict(betas=(NAN, 0.9)), dict(eps=NAN), dict(weight_decay=NAN)):
        with pytest.raises(ValueError):
            torch.optim.Adam(tp, **kw)
        with pytest.raises(ValueError):
            optim.Adam([_p()], **kw)


def test_maximize_climbs_and_old_state_dicts_still_load():
    """maximize=True goes up the objective; a state dict saved before minidl had maximize=
    (no such key) loads as maximize=False; a non-bool maximize is refused."""
    p = md.tensor([0.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.5, maximize=True)
    p.grad = np.array([1.0], dtype=np.float32)
    opt.step()
    assert p.data[0] == 0.5
    old = opt.state_dict()
    del old["param_groups"][0]["maximize"]
    fresh = optim.SGD([p], lr=0.5, maximize=True)
    fresh.load_state_dict(old)
    assert fresh.param_groups[0]["maximize"] is False
    with pytest.raises(TypeError, match="maximize must be True or False, got 1"):
        optim.Adam([p], maximize=1)
