# %% [markdown]
# # Lesson 01: Activation functions and their derivatives
#
# The DI504 deck ("Foundations of Deep Learning: Deep Training") and the "Deep Learning Training Tips"
# deck list the activations of a layer h = f(z), z = W x + b:
#
# | activation | f(z) | f'(z) |
# |---|---|---|
# | sigmoid | 1 / (1 + e^-z) | s(z) (1 - s(z)) <= 1/4 |
# | tanh | 2 s(2z) - 1 | 1 - tanh(z)^2 <= 1 |
# | ReLU | max(0, z) | 1 for z > 0, 0 for z < 0 |
# | leaky ReLU | max(a z, z), a = 0.01 | 1 for z > 0, a for z < 0 |
# | ELU | z (z > 0), alpha (e^z - 1) (z <= 0) | 1 for z > 0, alpha e^z for z <= 0 |
# | maxout | max(w1^T x + b1, w2^T x + b2) | the gradient goes to the larger piece |
# | identity | z | 1 |
# | step | 1 (z >= 0), 0 (z < 0) | 0 almost everywhere |
#
# The activations are minidl's `nn` modules (`nn.Sigmoid`, `nn.Tanh`, `nn.ReLU`, `nn.LeakyReLU`,
# `nn.Maxout`, `nn.ELU`, `nn.Identity`, `nn.Step`). Every derivative here comes from minidl's own
# backward pass (`y.sum().backward()` on a grid x gives `x.grad` = f'(x) for an elementwise f), not from
# the formulas; the lesson checks it against the formulas and against central differences. Then:
# sigmoid's problems (saturation, outputs that are not zero-centred, its cost), dying ReLU units (and
# leaky ReLU and maxout, which do not die), maxout containing ReLU and leaky ReLU, and the step
# function, which gives gradient descent no signal.
#
# Run: `python -m lessons run 01`, or `python lessons/01_activation_functions.py --quick`.

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
import time
from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
import minidl.nn as nn
from lessons._lesson import Lesson

ALPHA = 0.01  # leaky ReLU slope: the Training Tips deck, DI504's leaky-ReLU slide, PyTorch's default
GALLERY_ALPHA = 0.1  # DI504's activation gallery


# %% The activations: minidl's nn modules (each forward is an op whose backward gives f')
def maxout_1d() -> nn.Maxout:
    """A maxout unit of a scalar input with two pieces, max(1 z + 0, -0.5 z - 1), as an nn.Maxout(1, 1, 2)."""
    unit = nn.Maxout(1, 1, pieces=2)
    with md.no_grad():
        unit.linear.weight.copy_(md.tensor([[1.0], [-0.5]]))
        unit.linear.bias.copy_(md.tensor([0.0, -1.0]))
    return unit


def elementwise(module: nn.Module) -> Callable[[md.Tensor], md.Tensor]:
    """Apply a (B, 1) -> (B, 1) module such as a 1-input maxout to every entry of a tensor."""
    return lambda z: module(z.reshape(-1, 1)).reshape(z.shape)


ACTIVATIONS: list[tuple[str, Callable[[md.Tensor], md.Tensor]]] = [
    ("sigmoid", nn.Sigmoid()),
    ("tanh", nn.Tanh()),
    ("ReLU", nn.ReLU()),
    (f"leaky ReLU (a={ALPHA})", nn.LeakyReLU(ALPHA)),
    ("maxout max(z, -0.5z - 1)", elementwise(maxout_1d())),
    ("ELU (alpha=1)", nn.ELU(alpha=1.0)),
    ("identity", nn.Identity()),
    ("step", nn.Step()),
]


def autograd_derivative(f: Callable[[md.Tensor], md.Tensor], grid: np.ndarray) -> tuple[np.ndarray, np.ndarray | str]:
    """f(grid) and f'(grid) from minidl's backward (x.grad of sum(f(x))); the error text if there is none."""
    x = md.tensor(grid, requires_grad=True)
    y = f(x)
    try:
        y.sum().backward()
    except RuntimeError as err:  # the step function: nn.Step's backward refuses (f' = 0 almost everywhere)
        return y.numpy(), f"{type(err).__name__}: {err}"
    return y.numpy(), np.asarray(x.grad)


def central_difference(f: Callable[[md.Tensor], md.Tensor], grid: np.ndarray, eps: float = 1e-3) -> np.ndarray:
    """(f(x + eps) - f(x - eps)) / (2 eps), in float64: the numerical derivative."""
    return (f(md.tensor(grid + eps)).numpy() - f(md.tensor(grid - eps)).numpy()) / (2 * eps)


def activation_gallery(grid: np.ndarray, curves: dict[str, tuple[np.ndarray, np.ndarray | str]],
                       leaky_gallery: np.ndarray) -> plt.Figure:
    fig, axes = plt.subplots(2, 4, figsize=(15, 7.2))
    for ax, (name, (y, dy)) in zip(axes.ravel(), curves.items()):
        ax.plot(grid, y, color="C0", lw=2, label="f(z)")
        if isinstance(dy, str):
            ax.plot(grid, np.zeros_like(grid), color="C3", lw=2, ls="--", label="f'(z) = 0 a.e. (no backward)")
        else:
            ax.plot(grid, dy, color="C3", lw=2, ls="--", label="f'(z) from backward")
        if name.startswith("leaky"):
            ax.plot(grid, leaky_gallery, color="C2", lw=1.2, ls=":", label=f"a={GALLERY_ALPHA} (DI504 gallery)")
        ax.axhline(0, color="0.6", lw=0.8)
        ax.axvline(0, color="0.6", lw=0.8)
        ax.set_title(name, fontsize=11)
        ax.set_xlabel("z")
        ax.set_ylabel("value")
        ax.set_ylim(-1.6, 2.6)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5, loc="upper left")
    fig.suptitle("Activation functions f(z) and their derivatives f'(z), computed by minidl's backward", fontsize=13)
    fig.tight_layout()
    return fig


def train(params: Sequence[md.Tensor], forward: Callable[[], md.Tensor], target: md.Tensor, lr: float,
          steps: int) -> list[float]:
    """Plain SGD on the mean squared error: p <- p - lr dL/dp. Returns the loss curve (NaN-safe)."""
    losses = []
    for _ in range(steps):
        for p in params:
            p.grad = None
        loss = ((forward() - target) ** 2).mean()
        loss.backward()
        with md.no_grad():
            for p in params:
                p.sub_(p.grad * lr)
        losses.append(loss.item())
    return losses


def sigmoid_problems_figure(g: np.ndarray, ds: np.ndarray, dt: np.ndarray,
                            grads2d: dict[str, np.ndarray]) -> plt.Figure:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    ax = axes[0]
    ax.semilogy(g, ds, lw=2, label="sigmoid'(z) (backward)")
    ax.semilogy(g, np.maximum(dt, 1e-12), lw=2, ls="--", label="tanh'(z) (backward)")
    ax.axhline(0.25, color="C3", lw=0.8, ls=":")
    ax.annotate("peak 0.25", (0, 0.25), xytext=(1.2, 0.5), fontsize=9, arrowprops={"arrowstyle": "->"})
    ax.annotate(f"{ds[-1]:.1e} at z = 10", (10, ds[-1]), xytext=(4.0, 0.04), fontsize=9,
                arrowprops={"arrowstyle": "->"})
    ax.set(xlabel="z", ylabel="derivative (log scale)", title="Saturation: the derivatives vanish\nfor large |z|",
           ylim=(1e-9, 3))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower center")
    for ax, name in zip(axes[1:], ("sigmoid", "tanh")):
        gg = grads2d[name]
        ax.scatter(gg[:, 0], gg[:, 1], s=12, alpha=0.7, color="C0" if name == "sigmoid" else "C1")
        ax.axhline(0, color="0.4", lw=0.8)
        ax.axvline(0, color="0.4", lw=0.8)
        lim = np.abs(gg).max() * 1.1
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="dL/dw_1", ylabel="dL/dw_2",
               title=f"Unit fed by {name} outputs:\n(dL/dw_1, dL/dw_2), one dot per example")
        ax.set_aspect("equal")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def dying_relu_section(L: Lesson) -> None:
    """Dead ReLU units (ACT-5) vs leaky ReLU (ACT-6) and maxout: a big negative bias, and a too-large step."""
    rng = L.rng
    B, D, H = 256, 8, 64
    steps = 60 if L.quick else 200
    X = md.tensor(rng.standard_normal((B, D)).astype(np.float32))
    target = md.tensor((np.sin(X.numpy() @ rng.standard_normal((D, 1))) * 3).astype(np.float32))
    n_dead_init = 16  # units 0..15 get bias -10: their pre-activation is negative on every sample

    def make(kind: str, bias_shift: float) -> tuple[list[nn.Parameter], Callable[[], md.Tensor],
                                                    Callable[[], md.Tensor]]:
        """First layer (Linear + ReLU / leaky ReLU, or a 2-piece Maxout), He init, the first 16 biases at
        ``bias_shift``; then Linear(H, 1). Returns (parameters, hidden-layer function, network function)."""
        first = nn.Maxout(D, H, pieces=2) if kind == "maxout" else nn.Linear(D, H)
        weight, bias = (first.linear.weight, first.linear.bias) if kind == "maxout" else (first.weight, first.bias)
        nn.init.kaiming_normal_(weight, nonlinearity="relu")  # N(0, 2/D)
        with md.no_grad():
            bias.zero_()
            if kind == "maxout":
                # rows 2j, 2j + 1 are unit j's two pieces. For the biased units the second piece is a times the
                # first, so they start as leaky ReLUs with bias -10 (ACT-7); both pieces at -10 would output -10.
                bias[0:2 * n_dead_init:2] = bias_shift
                weight[1:2 * n_dead_init:2] = weight[0:2 * n_dead_init:2] * ALPHA
                bias[1:2 * n_dead_init:2] = bias_shift * ALPHA
            else:
                bias[:n_dead_init] = bias_shift
        act = {"ReLU": nn.ReLU(), "leaky ReLU": nn.LeakyReLU(ALPHA), "maxout": nn.Identity()}[kind]
        out = nn.Linear(H, 1)
        nn.init.lecun_normal_(out.weight)  # N(0, 1/H)
        nn.init.zeros_(out.bias)
        hidden = lambda: act(first(X))  # noqa: E731
        return list(first.parameters()) + list(out.parameters()), hidden, lambda: out(hidden())

    rows, curves, results = [], {}, {}
    for kind in ("ReLU", "leaky ReLU", "maxout"):
        md.manual_seed(L.seed + 1)  # the same first-layer weights for the three kinds
        params, hidden, forward = make(kind, -10.0)
        before = [p.numpy().copy() for p in params]
        with md.no_grad():
            dead_before = int((hidden().numpy().max(axis=0) == 0).sum()) if kind == "ReLU" else 0
        losses = train(params, forward, target, lr=0.02, steps=steps)
        after = [p.numpy() for p in params]
        # a unit is "frozen" if none of its first-layer parameters (weights and biases, all pieces) changed
        frozen = np.ones(H, dtype=bool)
        for b_arr, a_arr in zip(before[:2], after[:2]):
            same = (b_arr == a_arr).reshape(H, -1).all(axis=1)
            frozen &= same
        with md.no_grad():
            zero_everywhere = int((np.abs(hidden().numpy()).max(axis=0) == 0).sum())
        results[kind] = (frozen, zero_everywhere)
        curves[kind] = losses
        rows.append([kind, "bias -10 on 16 units", dead_before if kind == "ReLU" else "-", zero_everywhere,
                     int(frozen.sum()), int(frozen[:n_dead_init].sum()), losses[-1]])
    # a learning rate that is too large: train at lr 0.02, then 20 steps at 5x that (a loss spike), then back
    # at 0.02. Units knocked off the data during the spike stay dead.
    lr, lr_big = 0.02, 0.1
    md.manual_seed(L.seed + 2)
    params, hidden, forward = make("ReLU", 0.0)
    losses_big = train(params, forward, target, lr=lr, steps=50)
    with md.no_grad():
        dead_start = int((hidden().numpy().max(axis=0) == 0).sum())
    losses_big += train(params, forward, target, lr=lr_big, steps=20)
    with md.no_grad():
        dead_mask = hidden().numpy().max(axis=0) == 0
    snapshot = [p.numpy().copy() for p in params[:2]]
    n_after = max(50, steps - 70)  # the red curve then spans as many steps as the others (200 in full mode)
    losses_big += train(params, forward, target, lr=lr, steps=n_after)
    still_frozen = all(((b == a).reshape(H, -1).all(axis=1) | ~dead_mask).all()
                       for b, a in zip(snapshot, (p.numpy() for p in params[:2])))
    with md.no_grad():
        dead_end = int((hidden().numpy().max(axis=0) == 0).sum())
    label_big = f"lr {lr}, 20 steps at lr {lr_big}, lr {lr}"
    rows.append(["ReLU", label_big, dead_start, dead_end, int(dead_mask.sum()), "-", losses_big[-1]])
    curves[f"ReLU, {label_big}"] = losses_big
    L.table("dying_relu", ["hidden units", "setup", "zero on every sample (before)", "zero on every sample (end)",
                           "units with unchanged params", "of the 16 biased units", "final loss"], rows,
            caption=f"{H} hidden units, {B} samples, MSE regression, plain SGD ({steps} steps at lr 0.02)")
    frozen_relu, zero_relu = results["ReLU"]
    L.claim("ACT-5", frozen_relu[:n_dead_init].all() and zero_relu >= n_dead_init,
            "ReLU units with bias -10 output 0 on every sample, get zero gradient, and their weights and bias are "
            "bit-identical after training: SGD never brings them back",
            frozen_units=int(frozen_relu.sum()), zero_on_every_sample=zero_relu)
    L.claim("ACT-5", dead_start == 0 and dead_mask.sum() >= 4 and still_frozen and dead_end >= dead_mask.sum(),
            f"20 steps at a too-large learning rate ({lr_big}) kill ReLU units; once dead they stay dead "
            f"(bit-identical parameters over {n_after} more steps at lr {lr})",
            dead_before=dead_start, dead_after_large_lr=int(dead_mask.sum()), dead_at_end=dead_end)
    L.claim("ACT-6", not results["leaky ReLU"][0].any() and results["leaky ReLU"][1] == 0,
            f"leaky ReLU (slope {ALPHA}) units with the same bias -10 still get gradient: "
            "every unit's parameters change",
            frozen_units=int(results["leaky ReLU"][0].sum()))
    L.claim("ACT-6", not results["maxout"][0].any(),
            "maxout units biased to -10 (second piece a times the first) still get gradient "
            "(it flows to the larger piece)",
            frozen_units=int(results["maxout"][0].sum()))

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [1.6, 1]})
    styles = ["-", "--", "-", "-"]
    for i, (name, losses) in enumerate(curves.items()):
        ax.plot(np.arange(1, len(losses) + 1), losses, color=f"C{i}", ls=styles[i], lw=2 if i == 0 else 1.5,
                label=name + ("" if "lr" in name else ", bias -10, lr 0.02"))
    ax.axvspan(50.5, 70.5, color="C3", alpha=0.12, label=f"steps at lr {lr_big} (red run)")
    ax.set(yscale="log", xlabel="SGD step", ylabel="training MSE (log scale)",
           title="Loss curves (ReLU and leaky ReLU overlap)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    names = ["ReLU\nbias -10", "leaky ReLU\nbias -10", "maxout\nbias -10", f"ReLU\nlr burst {lr_big}"]
    frozen_counts = [int(results["ReLU"][0].sum()), int(results["leaky ReLU"][0].sum()),
                     int(results["maxout"][0].sum()), int(dead_mask.sum())]
    bars = ax2.bar(names, frozen_counts, color=["C0", "C1", "C2", "C3"])
    ax2.bar_label(bars)
    ax2.set(ylabel=f"units (of {H}) whose parameters never change", ylim=(0, H),
            title="Dead units: no gradient, parameters frozen")
    ax2.tick_params(axis="x", labelsize=8.5)
    ax2.grid(alpha=0.3, axis="y")
    fig.suptitle("Dying ReLU: 16 units biased to -10, and a burst of too-large steps", fontsize=12)
    fig.tight_layout()
    L.figure(fig, "dying_relu_training", caption="Loss curves of the dying-ReLU experiments (table dying_relu)")


# %% [markdown]
# ## Settings
# `Lesson` reads the settings (quick mode, output folder, seed) and seeds minidl's and NumPy's RNGs.

# %%
L = Lesson("01_activation_functions", "Activation functions and their derivatives")
n_grid = 401 if L.quick else 2001


# %% [markdown]
# ## 1. The gallery: f and f' from minidl's backward
# Each activation and its derivative on z in [-4, 4]. The derivative is `x.grad` after a backward
# pass, compared with a central difference. The step function has no backward at all (see section 6).

# %%
L.section("Activations and their derivatives (from minidl's backward)")
grid = np.linspace(-4, 4, n_grid).astype(np.float32)
curves = {name: autograd_derivative(f, grid) for name, f in ACTIVATIONS}
leaky_gallery, _ = autograd_derivative(nn.LeakyReLU(GALLERY_ALPHA), grid)
rows = []
for name, f in ACTIVATIONS:
    y, dy = curves[name]
    if isinstance(dy, str):
        rows.append([name, float(y.min()), float(y.max()), "none: backward raises", "-"])
        continue
    # compare with central differences away from the kinks at 0 (z = 0 and, for maxout, z = -2/3)
    smooth = (np.abs(grid) > 0.01) & (np.abs(grid + 2 / 3) > 0.01)
    num = central_difference(f, grid.astype(np.float64))
    rows.append([name, float(y.min()), float(y.max()), float(dy.max()), float(np.abs(dy - num)[smooth].max())])
L.table("derivatives", ["activation", "min f on [-4, 4]", "max f", "max f' (backward)",
                        "max |f' - central difference|"], rows,
        caption="Each activation on z in [-4, 4]; f' from minidl's backward vs a central difference")
L.figure(activation_gallery(grid, curves, leaky_gallery), "activations",
         caption="f (solid) and f' from minidl's backward (dashed); leaky ReLU with the 0.01 slope and the "
                 "DI504 gallery's 0.1 (dotted)")
L.slip("di504", f"leaky ReLU is max({GALLERY_ALPHA}x, x) on the activation gallery",
       f"the leaky-ReLU slide, the Training Tips deck and PyTorch (nn.LeakyReLU) use max({ALPHA}x, x); "
       "any small slope keeps units alive, but 0.01 is the default (md.leaky_relu(x, negative_slope=0.01))")


# %% [markdown]
# ## 2. Sigmoid saturates, and so does tanh (ACT-1, ACT-3)
# The sigmoid's derivative is at most 1/4 and almost 0 for large |z|: a saturated unit passes back
# almost no gradient. Raw pixel values (0..255) saturate a first sigmoid layer; standardised inputs
# do not (ACT-1). tanh = 2 s(2z) - 1 is zero-centred but saturates as well (ACT-3).

# %%
L.section("Sigmoid saturates: s' <= 1/4, and s'(10) = 4.5e-5")
g64 = np.linspace(-10, 10, 2001)  # float64: 4.5e-5 is resolved exactly
s, ds = autograd_derivative(md.sigmoid, g64)
assert isinstance(ds, np.ndarray)  # sigmoid has a backward: f' is an array, not an error text
formula = s * (1 - s)
at10 = ds[np.argmin(np.abs(g64 - 10))]
at_m10 = ds[np.argmin(np.abs(g64 + 10))]
L.claim("ACT-1", s.min() > 0 and s.max() < 1 and abs(ds.max() - 0.25) < 1e-12 and g64[ds.argmax()] == 0.0
        and np.abs(ds - formula).max() < 1e-12 and abs(at10 - 4.54e-5) < 1e-7 and abs(at_m10 - at10) < 1e-12,
        "sigmoid maps into (0, 1); its backward equals s(1 - s), peaks at 0.25 at z = 0, is 4.5e-5 at |z| = 10",
        peak=ds.max(), d_at_10=at10, max_err_vs_formula=np.abs(ds - formula).max())
# too large inputs saturate the first layer: raw pixel values 0..255 vs standardised
n_in, n_units, batch = 784, 64 if L.quick else 256, 64
raw = md.tensor(L.rng.integers(0, 256, size=(batch, n_in)).astype(np.float32))
w = md.randn(n_units, n_in) * (1.0 / math.sqrt(n_in))
stdz = (raw - raw.mean(dim=0, keepdim=True)) / (raw.numpy().std(axis=0, keepdims=True) + 1e-6)
sat_share = {}
for label, inp in (("raw pixels 0..255", raw), ("standardised", stdz)):
    z = inp @ w.T
    _, dz = autograd_derivative(md.sigmoid, z.numpy())
    assert isinstance(dz, np.ndarray)
    sat_share[label] = (float((dz < 1e-3).mean()), float(np.median(dz)))
L.table("sigmoid_saturation_inputs", ["first-layer input", "share with s'(z) < 1e-3", "median s'(z)"],
        [[k, v[0], v[1]] for k, v in sat_share.items()],
        caption=f"A sigmoid layer of {n_units} units, weights N(0, 1/784), fed 784 pixel values")
L.claim("ACT-1", sat_share["raw pixels 0..255"][0] > 0.9 and sat_share["standardised"][0] < 0.05,
        "inputs that are too large saturate the first sigmoid layer (raw pixels), standardised ones do not",
        saturated_raw=sat_share["raw pixels 0..255"][0], saturated_std=sat_share["standardised"][0])

t, dt = autograd_derivative(md.tanh, g64)
assert isinstance(dt, np.ndarray)  # tanh has a backward as well
via_sigmoid = 2 * md.sigmoid(md.tensor(2 * g64)).numpy() - 1
d_at_5 = dt[np.argmin(np.abs(np.abs(g64) - 5))]
L.claim("ACT-3", np.abs(t - via_sigmoid).max() < 1e-12 and t.min() > -1 and t.max() < 1
        and abs(dt[np.argmin(np.abs(g64))] - 1) < 1e-12 and d_at_5 < 2e-4 and abs(np.mean(t)) < 1e-12,
        "tanh = 2 s(2z) - 1 maps into (-1, 1), zero-centred; tanh'(0) = 1 and tanh'(+-5) < 2e-4 (saturates too)",
        max_identity_err=np.abs(t - via_sigmoid).max(), d_at_5=d_at_5)


# %% [markdown]
# ## 3. Sigmoid outputs are not zero-centred (ACT-2)
# A unit fed by sigmoid outputs (all positive) gets weight gradients delta * h_i that all have the
# sign of delta, one example at a time. With tanh inputs the signs are mixed.

# %%
L.section("Sigmoid outputs are positive: the weight gradients of a unit share one sign")
n_ex = 60 if L.quick else 200
x_in = md.randn(n_ex, 5)
w1 = md.randn(8, 5)
signs = {}
grads2d = {}
for name, act in (("sigmoid", md.sigmoid), ("tanh", md.tanh)):
    same, g2 = 0, []
    for j in range(n_ex):  # one example at a time: dL/dw = delta * h, delta = dL/dz
        h = act(x_in[j:j + 1] @ w1.T)  # (1, 8): the unit's inputs
        w = md.randn(1, 8, requires_grad=True)
        z = h @ w.T  # (1, 1): the unit's pre-activation
        z.retain_grad()
        loss = (z - float(L.rng.standard_normal())) ** 2  # MSE to a random target: delta has either sign
        loss.sum().backward()
        delta = float(np.asarray(z.grad).ravel()[0])
        gw = np.asarray(w.grad).ravel()
        same += bool(np.all(np.sign(gw) == np.sign(delta)))
        g2.append(gw[:2])
    signs[name] = same / n_ex
    grads2d[name] = np.array(g2)
L.table("gradient_signs",
        ["unit's inputs", "share of examples whose 8 weight gradients all have the sign of delta"],
        [[k, v] for k, v in signs.items()], caption=f"{n_ex} examples, one unit with 8 inputs")
L.claim("ACT-2", signs["sigmoid"] == 1.0 and signs["tanh"] < 0.5,
        "fed by sigmoid outputs (all > 0), every weight gradient delta*h_i has the sign of delta; with tanh not",
        share_sigmoid=signs["sigmoid"], share_tanh=signs["tanh"])
L.note("With all weight gradients of a unit of one sign, a step can only move its weight vector into the "
       "all-positive or all-negative orthant: reaching a direction like (+, -) takes a zig-zag of steps.")
L.figure(sigmoid_problems_figure(g64, ds, dt, grads2d), "sigmoid_problems",
         caption="Sigmoid's problems: the derivative peaks at 0.25 and vanishes when saturated (left); "
                 "fed by sigmoids, a unit's weight gradients all share one sign (middle, vs tanh right)")


# %% [markdown]
# ## How long does each activation take?
# The DI504 deck names the cost of exp() as a third problem of the sigmoid. Timings depend on the
# machine and on how each op is implemented, so the lesson prints them and asserts nothing. The table
# times minidl's whole forward op (`md.sigmoid`, `md.tanh`, `md.relu`: the elementwise math, plus
# whatever temporary arrays the implementation makes) next to NumPy's bare `exp` and `maximum` on the
# same values, which is what "the cost of exp" means. An op can be much slower than the exp inside it.

# %%
big = md.randn(1_000_000 if not L.quick else 200_000)
big_np = big.numpy()
timings = {}
timed = (("md.sigmoid (minidl op)", lambda: md.sigmoid(big)), ("md.tanh (minidl op)", lambda: md.tanh(big)),
         ("md.relu (minidl op)", lambda: md.relu(big)), ("np.exp alone", lambda: np.exp(big_np)),
         ("np.maximum(x, 0) alone", lambda: np.maximum(big_np, 0)))
for name, op in timed:
    runs = []
    for _repeat in range(5 if L.quick else 15):
        t0 = time.perf_counter()
        op()
        runs.append(time.perf_counter() - t0)
    timings[name] = float(np.median(runs)) * 1e3
relu_ms = timings["md.relu (minidl op)"]
L.table("activation_timing", ["what is timed", "forward time (ms, median)", "x md.relu's time"],
        [[k, v, v / relu_ms] for k, v in timings.items()],
        caption=f"One forward call on {big.shape[0]:,} float32 values, median of repeated calls "
                "(loose: depends on the machine; not asserted)")
exp_ratio = timings["np.exp alone"] / timings["np.maximum(x, 0) alone"]
L.note(f"Here np.exp alone takes {exp_ratio:.1f}x the time of np.maximum"
       + (": exp is dearer than max" if exp_ratio > 1 else "") + ". The minidl rows also include each op's own "
       "implementation (temporary arrays, masks, dtype handling), so they measure the op, not exp alone.")


# %% [markdown]
# ## 4. ReLU and dying ReLU units (ACT-4, ACT-5, ACT-6)
# ReLU's gradient is 1 or 0 and its outputs are positive (ACT-4). A unit whose pre-activation is
# negative on every sample is dead: zero output, zero gradient, parameters that never change (ACT-5).
# Leaky ReLU and maxout units with the same bad bias still learn (ACT-6).

# %%
L.section("ReLU: gradient 1 or 0, outputs not zero-centred; dead units")
_, dr = autograd_derivative(md.relu, g64)
r_mean = float(md.relu(md.randn(100_000)).mean().item())
L.claim("ACT-4", np.all(dr[g64 > 0] == 1) and np.all(dr[g64 < 0] == 0) and r_mean > 0.35,
        "ReLU's backward is 1 for z > 0 (no saturation) and 0 for z < 0; its output mean on N(0, 1) is > 0 "
        "(1/sqrt(2 pi) = 0.399)", output_mean=r_mean)
dying_relu_section(L)


# %% [markdown]
# ## 5. Maxout contains ReLU and leaky ReLU (ACT-7)
# With the second piece zero, max(w1^T x + b1, 0) is ReLU; with the second piece a times the first it
# is leaky ReLU. Maxout has twice the parameters of the linear layer it replaces.
#
# The comparison allows a few float32 rounding steps: the maxout computes w1^T x + b1 inside one
# (32, 10) x (10, 12) matrix product, the reference inside a (32, 10) x (10, 6) one, and a BLAS
# library may sum the same 10 products in another order for another shape (OpenBLAS does), which
# changes the last bit. The identity is exact in real arithmetic; the test allows
# 8 float32 epsilons relative to the largest value, far below any real mismatch.

# %%
L.section("Maxout contains ReLU and leaky ReLU")
x = md.randn(32, 10)
lin = nn.Linear(10, 6)  # w1, b1: the first piece
h = lin(x)
unit = nn.Maxout(10, 6, pieces=2)  # rows 2j and 2j + 1 of unit.linear are the two pieces of unit j
results = {}
for name, alpha in (("ReLU", 0.0), ("leaky ReLU", ALPHA)):
    with md.no_grad():
        unit.linear.weight[0::2] = lin.weight  # piece 1: w1, b1
        unit.linear.bias[0::2] = lin.bias
        unit.linear.weight[1::2] = lin.weight * alpha  # piece 2: alpha w1, alpha b1 (0 for ReLU)
        unit.linear.bias[1::2] = lin.bias * alpha
        results[name] = unit(x).numpy()
err_relu = float(np.abs(results["ReLU"] - md.relu(h).numpy()).max())
err_leaky = float(np.abs(results["leaky ReLU"] - md.leaky_relu(h, ALPHA).numpy()).max())
tolerance = 8 * float(np.finfo(np.float32).eps) * max(1.0, float(np.abs(h.numpy()).max()))
n_maxout = sum(p.numel() for p in unit.parameters())
n_linear = sum(p.numel() for p in lin.parameters())
L.claim("ACT-7", err_relu <= tolerance and err_leaky <= tolerance and n_maxout == 2 * n_linear,
        "maxout with w2 = 0, b2 = 0 is ReLU; with w2 = a w1, b2 = a b1 it is leaky ReLU (to float32 rounding); "
        "twice the parameters",
        max_err_relu=err_relu, max_err_leaky=err_leaky, tolerance=tolerance, params_maxout=n_maxout,
        params_linear=n_linear)


# %% [markdown]
# ## 6. Identity and step (ACT-8)
# The identity has derivative 1. The step function's derivative is 0 wherever it exists: minidl's
# `nn.Step` refuses a backward pass, and a numerical derivative of a step network's output is 0 too.

# %%
L.section("Identity and step: the step gives gradient descent nothing")
xs = md.randn(16, 4)
ws = md.randn(3, 4, requires_grad=True)
step = nn.Step()
out = step(xs @ ws.T)
try:
    out.sum().backward()
    backward_text = f"backward ran; |dL/dW| max = {np.abs(np.asarray(ws.grad)).max() if ws.grad is not None else 0}"
    no_signal = ws.grad is None or not np.any(np.asarray(ws.grad))
except RuntimeError as err:
    backward_text = f"backward raises {type(err).__name__}: {err}"
    no_signal = True
# the derivative of the step-net's output w.r.t. each weight, numerically: 0 (a tiny change flips no unit)
w_np = ws.numpy().astype(np.float64)
fd = np.zeros_like(w_np)
for idx in np.ndindex(*w_np.shape):
    for sgn in (1, -1):
        w_p = w_np.copy()
        w_p[idx] += sgn * 1e-4
        fd[idx] += sgn * step(md.tensor(xs.numpy().astype(np.float64)) @ md.tensor(w_p).T).numpy().sum() / 2e-4
_, d_ident = autograd_derivative(lambda z: z, g64)
L.note(f"Step network: {backward_text}.")
L.claim("ACT-8", no_signal and not np.any(fd) and np.all(d_ident == 1),
        "identity has f' = 1; a step-activated layer gives no gradient: backward has nothing to give and the "
        "numerical derivative of its output w.r.t. every weight is 0",
        max_abs_numerical_grad=float(np.abs(fd).max()))


# %% [markdown]
# ## Summary
# `L.finish()` prints every claim with its result and fails the lesson if any did not hold.

# %%
L.finish()
