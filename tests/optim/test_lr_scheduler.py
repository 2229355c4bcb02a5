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
    ("OneCycleLR", dict(max_lr=1.0, total_steps=20)),
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
    sch.step(); sch2.step()
    assert sch.get_last_lr() == sch2.get_last_lr()
    assert [g["lr"] for g in opt2.param_groups] == sch.get_last_lr()


def test_scheduler_errors():
    opt = optim.SGD([md.tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="step_size must be a positive int"):
        S.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="factor should be < 1.0"):
        S.ReduceLROnPlateau(opt, factor=2.0)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        S.StepLR(object(), step_size=1)
