# %% [markdown]
# # Lesson 08: Optimizers on an ill-conditioned bowl
#
# SGD, momentum, Nesterov, Adagrad, RMSprop and Adam.
#
# The loss is f(x, y) = 1/2 (x^2 + kappa y^2): the Hessian is diag(1, kappa), so its condition
# number is kappa. y is the *steep* direction, x the *shallow* one. Every optimizer here is
# minidl's own (``minidl.optim``) driving a leaf tensor through ``loss.backward()``.
#
# Run: `python -m lessons run 08` (or `python lessons/08_optimizers.py --quick --out /tmp/l08`).

# %%
import sys
from pathlib import Path

# Make `lessons` and `minidl` importable wherever this runs: as a script, under the runner, or as a
# notebook (which has no __file__ and runs in this folder or the repository root).
_start = Path(globals().get("__file__", "")).resolve()
_root = next((p for p in (_start, *_start.parents) if (p / "lessons" / "_lesson.py").is_file()), None)
if _root is None:
    raise RuntimeError(f"run this lesson from inside the minidl repository (no lessons/_lesson.py above {_start})")
sys.path.insert(0, str(_root))

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np  # noqa: E402

import minidl as md  # noqa: E402
import minidl.optim as optim  # noqa: E402
from lessons._lesson import Lesson
from minidl import viz  # noqa: E402


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


# %%
L = Lesson("08_optimizers", "Optimizers on an ill-conditioned bowl")
md.manual_seed(0)
kappa = 100.0
steps = 60 if L.quick else 100
start = (-4.0, 1.0)


# %% [markdown]
# ## 1. The same bowl, six optimizers (OPT-4, OPT-5)

# %%
# Each learning rate is a sensible one for its method, not a tuned race: plain SGD is limited by the
# steep direction (stable only for lr < 2/kappa), momentum uses the lecture's rho = 0.9 at lr = 1/kappa.
lr_sgd = 1.9 / kappa  # close to the stability limit 2/kappa of the steep direction
makers = {
    "SGD": lambda ps: optim.SGD(ps, lr=lr_sgd),
    "SGD+momentum": lambda ps: optim.SGD(ps, lr=1.0 / kappa, momentum=0.9),
    "Nesterov": lambda ps: optim.SGD(ps, lr=1.0 / kappa, momentum=0.9, nesterov=True),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=1.0),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.1),
    "Adam": lambda ps: optim.Adam(ps, lr=0.3),
}
settings = {"SGD": f"lr={lr_sgd:g}", "SGD+momentum": f"lr={1 / kappa:g}, rho=0.9",
            "Nesterov": f"lr={1 / kappa:g}, rho=0.9", "Adagrad": "lr=1", "RMSprop": "lr=0.1", "Adam": "lr=0.3"}
runs = {name: run(mk, kappa, start, steps) for name, mk in makers.items()}
rows = []
x_left = {}
for name, (traj, losses, _) in runs.items():
    y = traj[:, 1]
    flips = int(np.sum(np.sign(y[1:]) * np.sign(y[:-1]) < 0))
    x_left[name] = abs(float(traj[-1, 0]))
    rows.append([name, settings[name], flips, x_left[name], abs(float(traj[-1, 1])), losses[-1]])
L.table("bowl", ["optimizer", "settings", "sign flips of y (steep)", "|x| left (shallow)", "|y| left (steep)",
                 "final loss"], rows,
        caption=f"f = (x^2 + {kappa:g} y^2)/2 from {start}, {steps} steps; the optimum is (0, 0)")


# %% [markdown]
# ## 2. Trajectories and loss curves (OPT-4, OPT-5)
# One panel per optimizer (drawn by `minidl.viz.plot_optimizer_paths`), so that no trajectory hides
# another. Plain SGD flips the steep coordinate every step and crawls along the shallow one (OPT-4);
# momentum and Adam get much closer (OPT-5).

# %%
fig = viz.plot_optimizer_paths(
    lambda x, y: 0.5 * (x ** 2 + kappa * y ** 2), {name: traj for name, (traj, _, _) in runs.items()},
    xlim=(-4.5, 1.5), ylim=(-1.3, 1.3), levels=np.geomspace(0.01, 80, 12), optimum=(0.0, 0.0), labels=settings,
    subtitles={name: f"{name}: |x| left {x_left[name]:.2g} after {steps} steps" for name in runs},
    title=f"Six optimizers on the bowl f = (x² + {kappa:g}y²)/2 (condition number {kappa:g})",
    xlabel="x (shallow direction, curvature 1)", ylabel=f"y (steep direction, curvature {kappa:g})")
L.figure(fig, "bowl_trajectories",
         caption="plain SGD zig-zags across y and crawls along x; momentum and the adaptive methods reach the optimum")

fig, ax = plt.subplots(figsize=(8, 5))
for name, (_, losses, _) in runs.items():
    ax.semilogy(losses, label=name, lw=2 if name == "SGD" else 1.3)
ax.set_title(f"Loss per step on the bowl (condition number {kappa:g})")
ax.set_xlabel("step")
ax.set_ylabel("f (log scale)")
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=9)
L.figure(fig, "bowl_losses", caption="the loss of plain SGD falls slowest: its rate is set by the shallow direction")

sgd_traj = runs["SGD"][0]
sgd_flips = rows[0][2]
x_frac, y_frac = abs(sgd_traj[-1, 0] / start[0]), abs(sgd_traj[-1, 1] / start[1])
L.claim("OPT-4", sgd_flips >= steps - 1 and x_frac > 5 * y_frac,
        "plain GD at lr=1.9/kappa flips the steep coordinate every step and crawls along the shallow one",
        flips=sgd_flips, steps=steps, x_left_fraction=x_frac, y_left_fraction=y_frac)
L.claim("OPT-5", x_left["SGD+momentum"] < x_left["SGD"] / 10 and x_left["Adam"] < x_left["SGD"] / 10,
        "momentum and Adam get 10x closer than plain SGD along the shallow direction in the same steps",
        sgd=x_left["SGD"], momentum=x_left["SGD+momentum"], adam=x_left["Adam"])


# %% [markdown]
# ## 3. Iterations to f < 1e-6 against kappa (OPT-4, OPT-5)

# %%
counts = []
for k in [1.0, 10.0, 100.0]:
    gd = run(lambda ps, k=k: optim.SGD(ps, lr=1.0 / k), k, (1.0, 1.0), 2000, tol=1e-6)[2]
    mo = run(lambda ps, k=k: optim.SGD(ps, lr=1.0 / k, momentum=0.9), k, (1.0, 1.0), 2000, tol=1e-6)[2]
    # Polyak's tuned heavy ball for curvatures in [1, k]: lr 4/(sqrt(k) + 1)^2, rho ((sqrt(k) - 1)/(sqrt(k) + 1))^2
    rho_k = ((math.sqrt(k) - 1) / (math.sqrt(k) + 1)) ** 2
    lr_k = 4 / (math.sqrt(k) + 1) ** 2
    tuned = run(lambda ps, lr_k=lr_k, rho_k=rho_k: optim.SGD(ps, lr=lr_k, momentum=rho_k), k, (1.0, 1.0), 2000,
                tol=1e-6)[2]
    # per-step contraction of the slowest coordinate: GD (1 - lr), heavy ball sqrt(rho) when it oscillates
    counts.append([k, gd, 1 - 1 / k, mo, math.sqrt(0.9), f"{tuned} (rho {rho_k:.2f}, lr {lr_k:.2f})"])
L.table("iterations", ["kappa", "GD iterations", "GD: shrink per step (1 - 1/kappa)", "momentum 0.9 iterations",
                       "momentum: asymptotic shrink per step sqrt(0.9)", "tuned momentum iterations"], counts,
        caption="iterations to f < 1e-6 from (1, 1), lr = 1/kappa (tuned: Polyak's lr and rho for the bowl)")
L.note(f"Why momentum 0.9 is slower than plain GD at kappa = 10 ({counts[1][3]} vs {counts[1][1]} iterations): "
       "at lr = 1/kappa GD "
       "settles the steep coordinate in one step and shrinks the shallow one by 1 - 1/kappa = 0.9 per step. "
       "With momentum rho = 0.9 both coordinates oscillate, and an oscillating heavy ball shrinks by only "
       "sqrt(rho) = 0.949 per step, whatever the curvature. Momentum wins once 1 - 1/kappa > sqrt(rho), "
       "i.e. kappa > 1/(1 - sqrt(0.9)) = 19.5: at kappa = 100 GD shrinks by 0.99 per step and momentum's "
       f"0.949 is much faster ({counts[2][3]} vs {counts[2][1]}). rho = 0.9 is too much momentum for kappa = 10; "
       "Polyak's tuned "
       "rho = ((sqrt(kappa) - 1)/(sqrt(kappa) + 1))^2 beats GD at kappa = 10 and 100 (last column). At "
       "kappa = 1 every method lands on the optimum in its first step: lr = 1 is exactly 1/curvature and the "
       "velocity starts at 0.")
L.claim("OPT-4", [c[1] for c in counts] == [1, 63, 653], "GD needs 1/63/653 iterations for kappa = 1/10/100",
        iterations=str([c[1] for c in counts]))
L.claim("OPT-5", counts[2][3] == 138 and counts[2][3] < counts[2][1], "momentum: 138 vs 653 iterations at kappa=100",
        momentum=counts[2][3], gd=counts[2][1])


# %% [markdown]
# ## 4. A constant gradient: velocity, step sizes, Adam's first step (OPT-5, OPT-6, OPT-7, OPT-9, OPT-11)

# %%
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
L.note("Without bias correction Adam's first step would be lr (1 - b1) g / sqrt((1 - b2) g^2) = "
       f"{(1 - 0.9) / math.sqrt(1 - 0.999):.2f} lr: m and v start at 0, so both are biased towards 0 early on.")
d = md.tensor([1.0, 1.0], requires_grad=True)
opt = optim.Adagrad([d])
o2 = optim.RMSprop([md.tensor([1.0], requires_grad=True)])
L.claim("OPT-11", (opt.defaults["lr"], opt.defaults["lr_decay"], opt.defaults["eps"]) == (1e-2, 0, 1e-10)
        and (o2.defaults["lr"], o2.defaults["alpha"], o2.defaults["eps"], o2.defaults["centered"])
        == (1e-2, 0.99, 1e-8, False),
        "Adagrad and RMSprop defaults as in the library table")


# %% [markdown]
# ## 5. Slips in the decks

# %%
L.slip("di504", "`x += learning_rate * dx` (and `x += learning_rate * vx`)", "x -= ...: a step against the gradient")
L.slip("training-tips", "Adam: m_t = beta1 m_{t-1}^2 ..., bias correction 1 - beta1, eps inside the sqrt",
       "m_t = b1 m + (1-b1) g, v_t = b2 v + (1-b2) g^2, m/(1-b1^t), v/(1-b2^t), step m_hat/(sqrt(v_hat)+eps)")
L.slip("training-tips", "Adagrad: sum_{i=0}^t (g_t^i)^2", "sum_{k=0}^t (g_k^i)^2 (a sum over time steps)")
L.slip("training-tips", "weight decay middle step w - dL/dw + lambda w",
       "w - eta (dL/dw + lambda w) = (1 - eta lambda) w - eta dL/dw")


# %% [markdown]
# ## Summary
# `L.finish()` prints every claim with its result and fails the lesson if any did not hold.

# %%
L.finish()
