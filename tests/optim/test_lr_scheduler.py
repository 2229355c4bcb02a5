"""Every scheduler's lr sequence vs PyTorch's (and closed forms without torch)."""

import math

import numpy as np
import pytest

import minidl as md
from minidl import optim
from minidl.optim import lr_scheduler as S

SCHEDS = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 9], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),
    ("LinearLR", dict(start_factor=0.1, end_factor=1.0, total_iters=4)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=19)),  # may be stepped up to total_steps times
    ("OneCycleLR", dict(max_lr=[1.0, 0.5], epochs=4, steps_per_epoch=5, anneal_strategy="linear")),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=25, three_phase=True, pct_start=0.2)),
]


def lrs_minidl(name, kw, n, lrs=(0.1, 0.02)):
    ps = [md.tensor([1.0], requires_grad=True) for _ in lrs]
    opt = optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(ps, lrs)], lr=0.1, momentum=0.9)
    sch = getattr(S, name)(opt, **kw)
    out = [sch.get_last_lr()]
    for _ in range(n):
        opt.step()
        sch.step()
        out.append(sch.get_last_lr())
    return np.array(out), opt, sch


@pytest.mark.parametrize("name,kw", SCHEDS)
def test_lr_sequence_matches_torch(torch, name, kw):
    n = 19
    got, _, _ = lrs_minidl(name, kw, n)
    ps = [torch.nn.Parameter(torch.ones(1)) for _ in range(2)]
    opt = torch.optim.SGD([{"params": [ps[0]], "lr": 0.1}, {"params": [ps[1]], "lr": 0.02}], lr=0.1, momentum=0.9)
    sch = getattr(torch.optim.lr_scheduler, name)(opt, **kw)
    want = [sch.get_last_lr()]
    for _ in range(n):
        opt.step()
        sch.step()
        want.append(sch.get_last_lr())
    np.testing.assert_allclose(got, np.array(want, dtype=float), rtol=1e-12, atol=1e-15)


def test_closed_forms_without_torch():
    got, _, _ = lrs_minidl("StepLR", dict(step_size=3, gamma=0.5), 7, lrs=(1.0,))
    np.testing.assert_allclose(got[:, 0], [1, 1, 1, .5, .5, .5, .25, .25])
    got, _, _ = lrs_minidl("CosineAnnealingLR", dict(T_max=4), 4, lrs=(1.0,))
    np.testing.assert_allclose(got[:, 0], [(1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)], atol=1e-15)
    got, _, _ = lrs_minidl("LinearLR", dict(start_factor=0.25, total_iters=3), 4, lrs=(1.0,))
    np.testing.assert_allclose(got[:, 0], [0.25, 0.5, 0.75, 1.0, 1.0])


def _plateau_run(sched_cls_args, metrics, torch=None):
    if torch is None:
        p = md.tensor([1.0], requires_grad=True)
        opt = optim.SGD([p], lr=1.0)
        sch = S.ReduceLROnPlateau(opt, **sched_cls_args)
    else:
        p = torch.nn.Parameter(torch.ones(1))
        opt = torch.optim.SGD([p], lr=1.0)
        sch = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **sched_cls_args)
    out = []
    for m in metrics:
        sch.step(m)
        out.append(opt.param_groups[0]["lr"])
    return out


PLATEAU_METRICS = [5, 4, 4, 4, 4, 3.9999, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2]


@pytest.mark.parametrize("kw", [
    dict(patience=2, factor=0.5),
    dict(patience=1, factor=0.1, cooldown=2, min_lr=0.005),
    dict(mode="max", patience=0, factor=0.5, threshold=0.1, threshold_mode="abs"),
])
def test_reduce_on_plateau_matches_torch(torch, kw):
    np.testing.assert_allclose(_plateau_run(kw, PLATEAU_METRICS), _plateau_run(kw, PLATEAU_METRICS, torch))


def test_reduce_on_plateau_without_torch():
    out = _plateau_run(dict(patience=2, factor=0.5), [1, 1, 1, 1, 1, 1, 1])
    assert out == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_scheduler_state_dict_round_trip():
    _, opt, sch = lrs_minidl("CosineAnnealingLR", dict(T_max=10), 4)
    sd = sch.state_dict()
    p = md.tensor([1.0], requires_grad=True)
    q = md.tensor([1.0], requires_grad=True)
    opt2 = optim.SGD([{"params": [p], "lr": 0.1}, {"params": [q], "lr": 0.02}], lr=0.1)
    sch2 = S.CosineAnnealingLR(opt2, T_max=10)
    sch2.load_state_dict(sd)
    opt2.load_state_dict(opt.state_dict())
    sch.step()
    sch2.step()
    assert sch.get_last_lr() == sch2.get_last_lr()
    assert [g["lr"] for g in opt2.param_groups] == sch.get_last_lr()


def test_scheduler_errors():
    opt = optim.SGD([md.tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="step_size must be a positive number"):
        S.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="factor should be < 1.0"):
        S.ReduceLROnPlateau(opt, factor=2.0)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        S.StepLR(object(), step_size=1)


# ----------------------------------------------------------------------------- composing schedules


def _two_group_sgd(lib, momentum=0.9):
    if lib is None:
        ps = [md.tensor([1.0], requires_grad=True) for _ in range(2)]
        return optim.SGD([{"params": [ps[0]], "lr": 0.1}, {"params": [ps[1]], "lr": 0.02}], lr=0.1, momentum=momentum)
    ps = [lib.nn.Parameter(lib.ones(1)) for _ in range(2)]
    return lib.optim.SGD([{"params": [ps[0]], "lr": 0.1}, {"params": [ps[1]], "lr": 0.02}], lr=0.1, momentum=momentum)


COMPOSITIONS = {
    # two schedulers stepped on one optimizer: their updates compose (warm-up factor x decay)
    "two_stepped": lambda S, o: [S.LinearLR(o, 0.1, 1.0, 5), S.ExponentialLR(o, 0.9)],
    "chained": lambda S, o: [S.ChainedScheduler([S.LinearLR(o, 0.25, 1.0, 4), S.StepLR(o, 3, 0.5)])],
    "sequential": lambda S, o: [S.SequentialLR(o, [S.LinearLR(o, 0.1, 1.0, 5), S.CosineAnnealingLR(o, 10, 0.001)],
                                               milestones=[5])],
    "sequential3": lambda S, o: [S.SequentialLR(o, [S.ExponentialLR(o, 0.5), S.StepLR(o, 2, 0.1),
                                                    S.MultiStepLR(o, [1, 3], 0.5)], milestones=[3, 8])],
}


def _composed_lrs(lib, S, make, n=20):
    opt = _two_group_sgd(lib)
    scheds = make(S, opt)
    out = [[g["lr"] for g in opt.param_groups]]
    for _ in range(n):
        opt.step()
        for s in scheds:
            s.step()
        out.append([g["lr"] for g in opt.param_groups])
    return np.array(out, dtype=float)


@pytest.mark.parametrize("name", list(COMPOSITIONS))
def test_composed_schedules_match_torch(torch, name):
    got = _composed_lrs(None, S, COMPOSITIONS[name])
    want = _composed_lrs(torch, torch.optim.lr_scheduler, COMPOSITIONS[name])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_composed_schedules_without_torch():
    """Warm-up then decay, by hand: LinearLR(0.1 -> 1 over 5) stepped together with
    ExponentialLR(0.9) gives base * f(e) * 0.9^e; SequentialLR restarts the second at base."""
    got = _composed_lrs(None, S, COMPOSITIONS["two_stepped"], n=8)[:, 0]
    f = [0.1 + 0.9 * min(e, 5) / 5 for e in range(9)]
    np.testing.assert_allclose(got, [0.1 * f[e] * 0.9 ** e for e in range(9)], rtol=1e-12)
    got = _composed_lrs(None, S, COMPOSITIONS["sequential"], n=7)[:, 0]
    warm = [0.1 * (0.1 + 0.9 * e / 5) for e in range(5)]
    cosine = [0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(3)]
    np.testing.assert_allclose(got, warm + cosine, rtol=1e-12)


def test_sequential_state_dict_round_trip():
    opt = _two_group_sgd(None)
    seq = COMPOSITIONS["sequential"](S, opt)[0]
    for _ in range(6):
        seq.step()
    sd = seq.state_dict()
    opt2 = _two_group_sgd(None)
    seq2 = COMPOSITIONS["sequential"](S, opt2)[0]
    seq2.load_state_dict(sd)
    opt2.load_state_dict(opt.state_dict())
    for _ in range(5):
        seq.step()
        seq2.step()
        assert seq2.get_last_lr() == seq.get_last_lr()


# ----------------------------------------------------------------------------- one cycle


@pytest.mark.parametrize("opt_name,kw", [("SGD", dict(momentum=0.9)), ("Adam", {}), ("RMSprop", dict(momentum=0.5))])
def test_one_cycle_cycles_momentum_like_torch(torch, opt_name, kw):
    def run(lib, opt_module, sched_module):
        p = lib.nn.Parameter(lib.ones(1)) if lib is torch else md.tensor([1.0], requires_grad=True)
        opt = getattr(opt_module, opt_name)([p], lr=0.1, **kw)
        sch = sched_module.OneCycleLR(opt, max_lr=1.0, total_steps=12)
        key = "betas" if opt_name == "Adam" else "momentum"
        seen = []
        for _ in range(12):
            g = opt.param_groups[0]
            seen.append((g["lr"], g[key][0] if key == "betas" else g[key]))
            opt.step()
            sch.step()
        return np.array(seen)

    got = run(None, optim, S)
    want = run(torch, torch.optim, torch.optim.lr_scheduler)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got[0, 1] == 0.95 and 0.85 <= got[:, 1].min() < 0.86  # high momentum while the lr is small


def test_one_cycle_momentum_without_torch():
    opt = optim.SGD([md.tensor([1.0], requires_grad=True)], lr=0.1, momentum=0.9)
    sch = S.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.5, anneal_strategy="linear")
    lrs, moms = [], []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        sch.step()
    peak = int(np.argmax(lrs))
    assert peak == 4 and lrs[peak] == 1.0 and lrs[0] == pytest.approx(0.04)
    assert moms[peak] == pytest.approx(0.85) and moms[0] == 0.95 and moms[-1] == pytest.approx(0.95)
    np.testing.assert_allclose(np.diff(lrs[:5]), 0.24)  # linear warm-up: (1 - 0.04) / 4 a step


def test_one_cycle_can_step_total_steps_times_then_raises():
    opt = optim.SGD([md.tensor([1.0], requires_grad=True)], lr=0.1, momentum=0.9)
    sch = S.OneCycleLR(opt, max_lr=1.0, total_steps=5)
    for _ in range(5):
        sch.step()
    with pytest.raises(ValueError, match="total_steps=5"):
        sch.step()


def test_composite_and_one_cycle_errors():
    opt = optim.SGD([md.tensor([1.0], requires_grad=True)], lr=0.1)
    other = optim.SGD([md.tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="one milestone fewer"):
        S.SequentialLR(opt, [S.StepLR(opt, 2), S.StepLR(opt, 2)], milestones=[])
    with pytest.raises(ValueError, match="another optimizer"):
        S.SequentialLR(opt, [S.StepLR(opt, 2), S.StepLR(other, 2)], milestones=[3])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        S.ChainedScheduler([S.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="needs total_steps, or epochs and steps_per_epoch"):
        S.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="momentum or betas"):
        S.OneCycleLR(optim.Adagrad([md.tensor([1.0], requires_grad=True)]), max_lr=1.0, total_steps=5)
    with pytest.raises(ValueError, match="one per parameter group"):
        S.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=5)
    with pytest.raises(ValueError, match="total_iters must be a positive number"):
        S.LinearLR(opt, total_iters=0)


def test_schedule_lengths_accept_floats_and_numpy_ints_like_torch():
    opt = optim.SGD([md.tensor([1.0], requires_grad=True)], lr=1.0)
    S.CosineAnnealingLR(opt, 10.0)
    S.StepLR(opt, np.int64(2))
    S.LinearLR(opt, total_iters=np.int32(3))
    S.OneCycleLR(opt, max_lr=1.0, total_steps=np.int64(5))
    with pytest.raises(ValueError, match="T_max must be a positive number"):
        S.CosineAnnealingLR(opt, 0.0)
    with pytest.raises(ValueError, match="total_steps must be a positive int"):
        S.OneCycleLR(opt, max_lr=1.0, total_steps=5.0)


def test_sequential_with_multistep_resumes_from_a_saved_checkpoint(tmp_path):
    """Scheduler state goes through md.save/md.load (plain lists and numbers) and the resumed
    run continues exactly like an uninterrupted one."""
    def build():
        p = md.tensor([1.0], requires_grad=True)
        opt = optim.SGD([p], lr=0.1)
        return opt, S.SequentialLR(opt, [S.LinearLR(opt, 0.5, total_iters=2), S.MultiStepLR(opt, [2, 4, 4])],
                                   milestones=[3])

    opt, seq = build()
    seq.step()
    md.save({"optimizer": opt.state_dict(), "scheduler": seq.state_dict()}, tmp_path / "ck.npz")
    ck = md.load(tmp_path / "ck.npz")
    opt2, seq2 = build()
    opt2.load_state_dict(ck["optimizer"])
    seq2.load_state_dict(ck["scheduler"])
    for _ in range(8):
        seq.step()
        seq2.step()
        assert seq2.get_last_lr() == seq.get_last_lr()
    assert seq.get_last_lr()[0] == pytest.approx(0.1 * 0.1 ** 3)  # milestone 4 is listed twice


NAN = float("nan")


@pytest.mark.parametrize("make,match", [
    (lambda o: S.StepLR(o, 2, gamma=NAN), "invalid gamma: nan"),
    (lambda o: S.MultiStepLR(o, [2], gamma=NAN), "invalid gamma: nan"),
    (lambda o: S.ExponentialLR(o, gamma=NAN), "invalid gamma: nan"),
    (lambda o: S.ExponentialLR(o, gamma=-0.5), "invalid gamma: -0.5"),
    (lambda o: S.CosineAnnealingLR(o, 10, eta_min=NAN), "invalid eta_min: nan"),
    (lambda o: S.LinearLR(o, start_factor=NAN), "start_factor must be in"),
    (lambda o: S.ReduceLROnPlateau(o, factor=NAN), "invalid factor: nan"),
    (lambda o: S.ReduceLROnPlateau(o, min_lr=NAN), "invalid min_lr: nan"),
    (lambda o: S.ReduceLROnPlateau(o, threshold=NAN), "invalid threshold: nan"),
    (lambda o: S.ReduceLROnPlateau(o, eps=NAN), "invalid eps: nan"),
    (lambda o: S.OneCycleLR(o, max_lr=NAN, total_steps=10), "invalid max_lr: nan"),
    (lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, div_factor=NAN), "div_factor must be a positive"),
    (lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=NAN), "pct_start must be in"),
    (lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, base_momentum=NAN), "invalid base_momentum"),
])
def test_nan_and_negative_schedule_parameters_are_refused_and_change_nothing(make, match):
    opt = optim.SGD([md.tensor([1.0], requires_grad=True)], lr=0.1, momentum=0.9)
    before = [dict(g, params=None) for g in opt.param_groups]
    with pytest.raises(ValueError, match=match):
        make(opt)
    assert [dict(g, params=None) for g in opt.param_groups] == before


@pytest.mark.parametrize("make", [
    lambda o: S.StepLR(o, 2, gamma=0.5),
    lambda o: S.ReduceLROnPlateau(o, factor=0.5),
    lambda o: S.SequentialLR(o, [S.ExponentialLR(o, 0.5), S.StepLR(o, 2, 0.1)], milestones=[3]),
])
@pytest.mark.parametrize("edit,match", [
    (lambda sd: sd.update(gamma=NAN) if "gamma" in sd else sd.update(factor=NAN), "invalid (gamma|factor): nan"),
    (lambda sd: sd.update(T_max=3), r"has \['T_max'\], which .* does not have"),
])
def test_scheduler_load_state_dict_is_checked_and_changes_nothing(make, edit, match):
    opt = optim.SGD([md.tensor([1.0], requires_grad=True)], lr=0.1)
    sched = make(opt)
    sd = sched.state_dict()
    if "_schedulers" in sd:  # a composite: break its second inner scheduler's state
        sd["_schedulers"] = [dict(x) for x in sd["_schedulers"]]
        edit(sd["_schedulers"][1])
    else:
        edit(sd)
    before = dict(sched.state_dict())
    with pytest.raises(ValueError, match=match):
        sched.load_state_dict(sd)
    after = sched.state_dict()
    assert after.keys() == before.keys()
    for k in before:  # (inner schedulers included: none was half-loaded)
        assert after[k] == before[k], k


def test_scheduler_load_state_dict_refuses_a_non_dict():
    opt = optim.SGD([md.tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="expected a dict"):
        S.StepLR(opt, 2).load_state_dict([("gamma", 0.5)])


def _groups(opt):
    return [dict(g, params=None) for g in opt.param_groups]


def test_refused_one_cycle_leaves_the_optimizer_as_it_was():
    o = optim.Adagrad([md.tensor([1.0], requires_grad=True)], lr=0.1)
    before = _groups(o)
    with pytest.raises(ValueError, match="momentum or betas"):
        S.OneCycleLR(o, max_lr=1.0, total_steps=10)
    assert _groups(o) == before
    assert S.CosineAnnealingLR(o, T_max=10).base_lrs == [0.1]
    sgd = optim.SGD([md.tensor([1.0], requires_grad=True)], lr=0.1, momentum=0.9)
    before = _groups(sgd)
    for kw in (dict(total_steps=10, pct_start=0.1), dict(total_steps=10, pct_start=1.0),
               dict(total_steps=5, pct_start=0.6, three_phase=True)):
        with pytest.raises(ValueError, match="zero steps"):
            S.OneCycleLR(sgd, max_lr=1.0, **kw)
        assert _groups(sgd) == before
    with pytest.raises(TypeError, match="last_epoch must be an int"):
        S.OneCycleLR(sgd, max_lr=1.0, total_steps=10, last_epoch="x")
    assert _groups(sgd) == before
    sch = S.OneCycleLR(sgd, max_lr=1.0, total_steps=10, pct_start=0.0)  # no warm-up: allowed, as in PyTorch
    for _ in range(10):
        sch.step()
    assert math.isfinite(sch.get_last_lr()[0])


def test_scheduler_arguments_are_type_checked():
    opt = optim.SGD([md.tensor([1.0], requires_grad=True)], lr=0.1)
    before = _groups(opt)
    with pytest.raises(TypeError, match="milestones must be a list of epochs"):
        S.MultiStepLR(opt, None)
    for bad in (["a"], [-3], [1.5], [True]):
        with pytest.raises(ValueError, match="milestones must hold non-negative ints"):
            S.MultiStepLR(opt, bad)
    with pytest.raises(TypeError, match="start_factor must be a number"):
        S.LinearLR(opt, "0.5")
    with pytest.raises(TypeError, match="last_epoch must be an int"):
        S.StepLR(opt, 2, last_epoch="x")
    with pytest.raises(ValueError, match="last_epoch must be >= -1"):
        S.StepLR(opt, 2, last_epoch=-2)
    assert _groups(opt) == before  # none of the refused ones touched the optimizer
    with pytest.raises(ValueError, match="milestones must hold"):
        S.SequentialLR(opt, [S.StepLR(opt, 2), S.StepLR(opt, 2)], milestones=["a"])
    assert [g["lr"] for g in opt.param_groups] == [0.1]
    assert S.MultiStepLR(opt, (np.int64(4), 2)).milestones == [2, 4]


@pytest.mark.parametrize("make,edit,match", [
    (lambda o: S.StepLR(o, 2), {"step_size": 0}, "step_size must be a positive number"),
    (lambda o: S.StepLR(o, 2), {"last_epoch": "x"}, "last_epoch must be an int"),
    (lambda o: S.StepLR(o, 2), {"last_epoch": -5}, "last_epoch must be >= -1"),
    (lambda o: S.CosineAnnealingLR(o, 5), {"T_max": NAN}, "T_max must be a positive number"),
    (lambda o: S.LinearLR(o), {"total_iters": -1}, "total_iters must be a positive number"),
    (lambda o: S.MultiStepLR(o, [2]), {"milestones": ["a"]}, "milestones must hold"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=10, cycle_momentum=False), {"total_steps": 0},
     "total_steps must be a positive"),
])
def test_scheduler_load_state_dict_checks_lengths_epochs_and_milestones(make, edit, match):
    opt = optim.SGD([md.tensor([1.0], requires_grad=True)], lr=0.1)
    sched = make(opt)
    before = sched.state_dict()
    with pytest.raises(ValueError, match=match):
        sched.load_state_dict({**before, **edit})
    assert sched.state_dict() == before
    sched.step()  # still usable
