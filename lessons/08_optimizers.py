"""Lesson 08: optimizers on an ill-conditioned bowl (SGD, momentum, Nesterov, Adagrad, RMSprop, Adam).

The loss is f(x, y) = 1/2 (x^2 + kappa y^2): the Hessian is diag(1, kappa), so its condition
number is kappa. y is the *steep* direction, x the *shallow* one. Every optimizer here is
minidl's own (``minidl.optim``) driving a leaf tensor through ``loss.backward()``.

Run: python -m lessons 08   (or python lessons/08_optimizers.py --quick --out /tmp/l08)
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `lessons` and `minidl` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import minidl as md  # noqa: E402
import minidl.optim as optim  # noqa: E402
from lessons._lesson import Lesson, plt  # noqa: E402


def bowl(p: md.Tensor, kappa: float) -> md.Tensor:
    """f = 1/2 (x^2 + kappa y^2) for p = (x, y)."""
    w = md.tensor([1.0, kappa], dtype=p.dtype)
    return 0.5 * (w * p * p).sum()


def run(make_opt: Any, kappa: float, start: tuple, steps: int, tol: float | None = None) -> tuple:
    """Run an optimizer on the bowl; return (trajectory (steps+1, 2), losses, iterations to f < tol)."""
    p = md.tensor(list(start), dtype=md.float64, requires_grad=True)
    opt = make_opt([p])
    traj, losses, hit = [np.array(p.data)], [], None
    for t in range(steps):
        loss = bowl(p, kappa)
        losses.append(loss.item())
        if tol is not None and losses[-1] < tol:
            hit = t
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        traj.append(np.array(p.data))
    return np.array(traj), np.array(losses), hit


def main(argv: list[str] | None = None) -> Any:
    L = Lesson(__file__, "Optimizers on an ill-conditioned bowl", argv)
    md.manual_seed(0)
    kappa = 50.0
    steps = 40 if L.quick else 80
    start = (-4.0, 1.0)

    # %% the same bowl, six optimizers
    lr_sgd = 1.9 / kappa  # close to the stability limit 2/kappa of the steep direction
    makers = {
        "SGD": lambda ps: optim.SGD(ps, lr=lr_sgd),
        "SGD+momentum": lambda ps: optim.SGD(ps, lr=1.0 / kappa, momentum=0.9),
        "Nesterov": lambda ps: optim.SGD(ps, lr=1.0 / kappa, momentum=0.9, nesterov=True),
        "Adagrad": lambda ps: optim.Adagrad(ps, lr=1.0),
        "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.1),
        "Adam": lambda ps: optim.Adam(ps, lr=0.3),
    }
    runs = {name: run(mk, kappa, start, steps) for name, mk in makers.items()}
    rows = []
    stats = {}
    for name, (traj, losses, _) in runs.items():
        y = traj[:, 1]
        flips = int(np.sum(np.sign(y[1:]) * np.sign(y[:-1]) < 0))
        shallow = float(traj[-1, 0] - traj[0, 0])
        stats[name] = (flips, shallow)
        rows.append([name, flips, shallow, losses[-1]])
    L.table("bowl", ["optimizer", "sign flips of y (steep)", "progress along x (shallow)", "final loss"], rows,
            caption=f"f = (x^2 + {kappa:g} y^2)/2 from {start}, {steps} steps")

    # %% contour plot and loss curves
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    gx, gy = np.meshgrid(np.linspace(-4.5, 1.0, 200), np.linspace(-1.3, 1.3, 200))
    ax1.contour(gx, gy, 0.5 * (gx ** 2 + kappa * gy ** 2), levels=np.geomspace(0.01, 60, 15), cmap="Greys", linewidths=0.7)
    for name, (traj, _, _) in runs.items():
        ax1.plot(traj[:, 0], traj[:, 1], ".-", ms=3, lw=1, label=name)
    ax1.plot([0], [0], "k*", ms=12)
    ax1.set_title(f"Trajectories on f = (x² + {kappa:g}y²)/2")
    ax1.set_xlabel("x (shallow direction)")
    ax1.set_ylabel("y (steep direction)")
    ax1.legend(fontsize=8)
    for name, (_, losses, _) in runs.items():
        ax2.semilogy(losses, label=name)
    ax2.set_title("Loss per step")
    ax2.set_xlabel("step")
    ax2.set_ylabel("f (log scale)")
    ax2.legend(fontsize=8)
    L.figure(fig, "bowl_trajectories", caption="plain SGD zig-zags across y and crawls along x")

    sgd_flips, sgd_x = stats["SGD"]
    mom_flips, mom_x = stats["SGD+momentum"]
    adam_x = stats["Adam"][1]
    sgd_end = runs["SGD"][0][-1]
    x_left, y_left = abs(sgd_end[0] / start[0]), abs(sgd_end[1] / start[1])
    L.claim("OPT-4", sgd_flips >= steps - 1 and x_left > 5 * y_left,
            "plain GD at lr=1.9/kappa flips the steep coordinate every step and crawls along the shallow one",
            flips=sgd_flips, steps=steps, x_left=x_left, y_left=y_left)
    L.claim("OPT-5", mom_x > sgd_x and adam_x > sgd_x,
            "momentum and Adam travel further along the shallow direction than plain SGD",
            sgd=sgd_x, momentum=mom_x, adam=adam_x)

    # %% iterations to f < 1e-6 vs kappa (the lecture's measured numbers)
    counts = []
    for k in [1.0, 10.0, 100.0]:
        gd = run(lambda ps, k=k: optim.SGD(ps, lr=1.0 / k), k, (1.0, 1.0), 2000, tol=1e-6)[2]
        mo = run(lambda ps, k=k: optim.SGD(ps, lr=1.0 / k, momentum=0.9), k, (1.0, 1.0), 2000, tol=1e-6)[2]
        counts.append([k, gd, mo])
    L.table("iterations", ["kappa", "GD iterations", "momentum 0.9 iterations"], counts,
            caption="iterations to f < 1e-6 from (1, 1), lr = 1/kappa")
    L.claim("OPT-4", [c[1] for c in counts] == [1, 63, 653], "GD needs 1/63/653 iterations for kappa = 1/10/100",
            iterations=str([c[1] for c in counts]))
    L.claim("OPT-5", counts[2][2] == 138 and counts[2][2] < counts[2][1], "momentum: 138 vs 653 iterations at kappa=100",
            momentum=counts[2][2], gd=counts[2][1])

    # %% constant gradient: velocity, Adagrad and RMSprop step sizes, Adam's first step
    def const_steps(make_opt: Any, n: int, g: float = 1.0) -> np.ndarray:
        p = md.tensor([0.0], dtype=md.float64, requires_grad=True)
        opt = make_opt([p])
        xs = [0.0]
        for _ in range(n):
            p.grad = np.array([g])
            opt.step()
            xs.append(float(p.data[0]))
        return -np.diff(xs)

    mom = const_steps(lambda ps: optim.SGD(ps, lr=1.0, momentum=0.9), 200)
    L.claim("OPT-5", abs(mom[-1] - 10.0) < 1e-6, "under a constant gradient g the velocity tends to g/(1-rho) = 10g",
            velocity=mom[-1])
    ada = const_steps(lambda ps: optim.Adagrad(ps, lr=1.0), 3)
    L.claim("OPT-6", np.allclose(ada, [1, 1 / math.sqrt(2), 1 / math.sqrt(3)], rtol=1e-8),
            "Adagrad's steps under a constant gradient are eta, eta/sqrt(2), eta/sqrt(3)", steps=str(np.round(ada, 4)))
    rms = const_steps(lambda ps: optim.RMSprop(ps, lr=0.01), 1000)
    L.claim("OPT-7", abs(rms[-1] - 0.01) < 1e-4, "RMSprop's step tends to eta*sign(g), it does not decay to 0",
            step_1000=rms[-1])
    for scale in (1e-3, 1e3):
        first = const_steps(lambda ps: optim.Adam(ps, lr=0.1), 1, g=scale)[0]
        L.claim("OPT-9", abs(first - 0.1) < 1e-6, "Adam's bias-corrected first step is lr*sign(g) at any gradient scale",
                grad=scale, first_step=first)
    L.claim("OPT-9", abs(0.1 * (1 - 0.9) / math.sqrt(1 - 0.999) / 0.1 - 3.162) < 1e-3,
            "without bias correction the first step would be lr(1-b1)/sqrt(1-b2) = 3.16 lr")
    d = md.tensor([1.0, 1.0], requires_grad=True)
    opt = optim.Adagrad([d])
    o2 = optim.RMSprop([md.tensor([1.0], requires_grad=True)])
    L.claim("OPT-11", (opt.defaults["lr"], opt.defaults["lr_decay"], opt.defaults["eps"]) == (1e-2, 0, 1e-10)
            and (o2.defaults["lr"], o2.defaults["alpha"], o2.defaults["eps"], o2.defaults["centered"]) == (1e-2, 0.99, 1e-8, False),
            "Adagrad and RMSprop defaults as in the library table")

    # %% deck slips
    L.slip("003", "`x += learning_rate * dx` (and `x += learning_rate * vx`)", "x -= ...: a step against the gradient")
    L.slip("004", "Adam: m_t = beta1 m_{t-1}^2 ..., bias correction 1 - beta1, eps inside the sqrt",
           "m_t = b1 m + (1-b1) g, v_t = b2 v + (1-b2) g^2, m/(1-b1^t), v/(1-b2^t), step m_hat/(sqrt(v_hat)+eps)")
    L.slip("004", "Adagrad: sum_{i=0}^t (g_t^i)^2", "sum_{k=0}^t (g_k^i)^2 (a sum over time steps)")
    L.slip("004", "weight decay middle step w - dL/dw + lambda w", "w - eta (dL/dw + lambda w) = (1 - eta lambda) w - eta dL/dw")
    return L.finish()


if __name__ == "__main__":
    main()
