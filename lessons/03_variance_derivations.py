# %% [markdown]
# # Lesson 03: Variance derivations of Xavier and He initialization
#
# The variance arguments behind Xavier/Glorot, LeCun and He initialization, checked by Monte Carlo.
# The Crash Course, Toolbox and DI504 decks derive the initialization rules from a few variance identities. Each is
# printed here, simulated with minidl tensors, and asserted: the estimate must lie within 5 standard
# errors of the formula, where the standard error is computed from the same samples and printed
# (for a sample variance of n values, SE = sqrt(Var((v - mean)^2) / n); for quantities that are
# correlated across entries, SE = sd / sqrt(R) over R independent replicates).
#
# 1. Var(wx) = E(w)^2 Var(x) + E(x)^2 Var(w) + Var(w) Var(x) for independent w, x   (INIT-3)
# 2. z = sum_{i=1}^N w_i x_i + b (b constant): Var(z) = N Var(w) Var(x)              (INIT-4)
# 3. So Var(w) = 1/N keeps the variance through a linear layer (forward); the backward pass
#    dL/dx = W^T dL/dz needs Var(w) = 1/n_out; Glorot's compromise is Var(w) = 2/(n_in + n_out).
# 4. U[-s, s] has variance s^2/3: s = sqrt(6/(n_in + n_out)) gives 2/(n_in + n_out); the older
#    U[-1/sqrt(n), 1/sqrt(n)] gives 1/(3n) and shrinks the variance 3x per layer      (INIT-8)
# 5. He: y zero-mean and symmetric, x = max(0, y): E[x^2] = Var(y)/2, so
#    Var(w x) = Var(w) E[x^2] = Var(w) Var(y)/2 and Var(w) = 2/N keeps Var(y)           (INIT-9)
#
# Run: `python -m lessons run 03` (`--quick`: 10x fewer samples, wider but still 5-SE tolerances).

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
import numpy as np

import minidl as md
import minidl.nn as nn
from lessons._lesson import Lesson

K_SE = 5.0  # every Monte Carlo check: |estimate - formula| <= 5 standard errors


def var_and_se(v: np.ndarray) -> tuple[float, float]:
    """Sample variance of the values ``v`` (1/n) and its standard error sqrt(Var((v - mean)^2) / n)."""
    v = np.asarray(v, dtype=np.float64).ravel()
    d2 = (v - v.mean()) ** 2
    return float(d2.mean()), float(d2.std() / math.sqrt(v.size))


def mean_and_se(v: np.ndarray) -> tuple[float, float]:
    """Mean of ``v`` and its standard error sd / sqrt(n)."""
    v = np.asarray(v, dtype=np.float64).ravel()
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))


class Checks:
    """Collects (equation, formula value, estimate, SE, |error|/SE) rows and asserts each by claim ID."""

    def __init__(self, L: Lesson):
        self.L = L
        self.rows: list[list] = []

    def __call__(self, claim_id: str, what: str, formula: float, estimate: float, se: float) -> bool:
        z = abs(estimate - formula) / se if se > 0 else (0.0 if estimate == formula else math.inf)
        self.rows.append([claim_id, what, formula, estimate, se, z])
        return self.L.claim(claim_id, z <= K_SE, f"{what}: simulation within {K_SE:g} SE of the formula",
                            formula=formula, estimate=estimate, se=se, errors_in_se=z)

    def table(self, name: str, caption: str) -> None:
        self.L.table(name, ["claim", "equation", "formula", "simulated", "SE", "|error| / SE"], self.rows,
                     caption=caption, digits=4)
        self.rows = []


def library_checks(L: Lesson, check: Checks) -> None:
    """minidl's initializers (``minidl.nn.init``) have the variances derived above.

    A Linear weight has shape (fan_out, fan_in), as in PyTorch; each initializer fills it in place.
    """
    import minidl.nn as nn

    L.section("minidl.nn.init: the same rules in the library")
    fan_in, fan_out = 256, 1024
    gain_relu, gain_tanh = nn.init.calculate_gain("relu"), nn.init.calculate_gain("tanh")
    L.claim("INIT-10", abs(gain_relu - math.sqrt(2)) < 1e-12 and abs(gain_tanh - 5 / 3) < 1e-12
            and abs(nn.init.calculate_gain("linear") - 1) < 1e-12,
            "calculate_gain: relu sqrt(2), tanh 5/3, linear 1 (PyTorch's values)", relu=gain_relu, tanh=gain_tanh)
    rules = [
        ("nn.init.lecun_normal_: Var = 1/fan_in", lambda w: nn.init.lecun_normal_(w), 1 / fan_in, "INIT-7"),
        ("nn.init.xavier_normal_: Var = 2/(fan_in+fan_out)", lambda w: nn.init.xavier_normal_(w),
         2 / (fan_in + fan_out), "INIT-8"),
        ("nn.init.xavier_uniform_: Var = 2/(fan_in+fan_out)", lambda w: nn.init.xavier_uniform_(w),
         2 / (fan_in + fan_out), "INIT-8"),
        ("nn.init.kaiming_normal_(relu): Var = 2/fan_in", lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
         2 / fan_in, "INIT-10"),
        ("nn.init.kaiming_uniform_(relu): Var = 2/fan_in",
         lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"), 2 / fan_in, "INIT-10"),
    ]
    rows: list[list[Any]] = []
    for label, init, var_formula, claim_id in rules:
        w = md.zeros(fan_out, fan_in)
        out = init(w)
        values = w.numpy()
        est, se = var_and_se(values)
        check(claim_id, label + f", weight ({fan_out}, {fan_in})", var_formula, est, se)
        rows.append([label, out is w, float(values.mean()), float(np.abs(values).max()), str(values.dtype)])
    default = nn.Linear(512, 512).weight.numpy()
    v_def, se_def = var_and_se(default)
    check("INIT-8", "nn.Linear(512, 512)'s default weight: n Var = 1/3 (PyTorch's U[-1/sqrt(n), 1/sqrt(n)])",
          1 / 3, v_def * 512, se_def * 512)
    L.note("minidl's nn.Linear, like PyTorch's, initialises its weight with kaiming_uniform_(a=sqrt(5)), which is "
           "the old U[-1/sqrt(n), 1/sqrt(n)]: variance 1/(3n). A deep stack of default Linear layers therefore "
           "shrinks the signal about 3x per layer unless an activation-aware init (xavier_*, kaiming_*) is applied.")
    bound = math.sqrt(6 / (fan_in + fan_out))
    L.claim("INIT-8", rows[2][3] <= bound * (1 + 1e-6) and rows[2][3] > 0.99 * bound,
            "xavier_uniform_ draws from U[-sqrt(6/(fan_in+fan_out)), +sqrt(6/(fan_in+fan_out))]",
            bound=bound, max_abs=rows[2][3])
    L.table("library_init", ["initializer", "in place (returns w)", "mean", "max |w|", "dtype"], rows,
            caption=f"minidl.nn.init on a ({fan_out}, {fan_in}) weight (fan_in = {fan_in}, fan_out = {fan_out})")
    check.table("library_init_checks", "minidl.nn.init: variance of the filled weight vs the rule (5 SE)")


def figure_checks(sweep, sigma_w, var_x, fb_plot, n_in, n_out, stack_curves, he_stack, he_plot) -> plt.Figure:
    fig, axes = plt.subplots(2, 2, figsize=(13, 9.5))
    ax = axes[0, 0]
    Ns = np.array([s[0] for s in sweep])
    grid = np.geomspace(Ns.min() / 1.5, Ns.max() * 1.5, 50)
    ax.plot(grid, grid * sigma_w ** 2 * var_x, color="0.4",
            label=f"formula N Var(w) Var(x) = N x {sigma_w ** 2 * var_x:g}")
    ax.errorbar(Ns, [s[2] for s in sweep], yerr=[K_SE * s[3] for s in sweep], fmt="o", color="C3", capsize=4,
                label="simulated (bars: 5 SE)")
    ax.set(xscale="log", yscale="log", xlabel="N (terms summed)", ylabel="Var(z)",
           title="INIT-4: Var(z) = N Var(w) Var(x)")
    ax.legend(fontsize=8.5)
    ax.grid(alpha=0.3, which="both")

    ax = axes[0, 1]
    pos = np.arange(len(fb_plot))
    ax.bar(pos - 0.2, [p[1] for p in fb_plot], 0.4, yerr=[K_SE * p[2] for p in fb_plot], capsize=4,
           label="forward Var(z)/Var(x)")
    ax.bar(pos + 0.2, [p[3] for p in fb_plot], 0.4, yerr=[K_SE * p[4] for p in fb_plot], capsize=4,
           label="backward Var(dL/dx)/Var(dL/dz)")
    ax.axhline(1.0, color="0.3", ls="--", lw=1, label="1: variance kept")
    ax.set_xticks(pos, [p[0] for p in fb_plot], fontsize=9)
    ax.set(ylabel="variance factor", title=f"Linear layer {n_in} -> {n_out}: forward vs backward")
    ax.legend(fontsize=8.5)
    ax.grid(alpha=0.3, axis="y")

    ax = axes[1, 0]
    depth = next(iter(stack_curves.values())).shape[1]
    layers = np.arange(1, depth + 1)
    for i, (label, per_layer) in enumerate(stack_curves.items()):
        m = per_layer.mean(axis=0)
        ax.plot(layers, m, "o-", color=f"C{i}", label=label)
    ax.plot(layers, 3.0 ** -layers, ":", color="k", lw=2, label="formula 3^-layer")
    ax.set(yscale="log", xlabel="linear layer", ylabel="Var of the output (log scale)",
           title="INIT-8: deep linear stacks, Var(x) = 1")
    ax.set_xticks(layers)
    ax.legend(fontsize=8.5)
    ax.grid(alpha=0.3, which="both")

    ax = axes[1, 1]
    pos = np.arange(len(he_plot))
    ax.bar(pos - 0.2, [p[1] for p in he_plot], 0.4, yerr=[K_SE * p[2] for p in he_plot], capsize=4,
           label="E[relu(y)^2] / Var(y)")
    ax.bar(pos + 0.2, [p[3] for p in he_plot], 0.4, color="C7", label="Var(relu(y)) / Var(y)")
    ax.axhline(0.5, color="C3", ls="--", lw=1, label="1/2")
    ax.set_xticks(pos, [p[0] for p in he_plot], fontsize=9)
    ax.set(ylabel="ratio", ylim=(0, 0.7), title="INIT-9: E[max(0, y)^2] = Var(y)/2 (symmetric y)")
    ax.legend(fontsize=8.5, loc="lower right")
    ax.grid(alpha=0.3, axis="y")
    fig.suptitle("Variance derivations: Monte Carlo vs formula", fontsize=13)
    fig.tight_layout()
    return fig


# %%
L = Lesson("03_variance_derivations", "Variance derivations of Xavier and He initialization")
n = 200_000 if L.quick else 2_000_000
reps = 12 if L.quick else 40
L.note(f"Monte Carlo with n = {n:,} samples per identity and R = {reps} replicates for the layer experiments; "
       f"every check asserts |simulated - formula| <= {K_SE:g} standard errors.")
check = Checks(L)


# %% [markdown]
# ## 1. Var(wx) for independent w, x (INIT-3)
# The product rule for variances, with and without non-zero means.

# %%
L.section("Var(wx) = E(w)^2 Var(x) + E(x)^2 Var(w) + Var(w) Var(x)")
cases = [
    ("w ~ N(0, 0.5^2), x ~ N(0, 2^2)", md.randn(n) * 0.5, md.randn(n) * 2.0, 0.0, 0.25, 0.0, 4.0),
    ("w ~ N(1, 0.5^2), x ~ U[0, 2]", md.randn(n) * 0.5 + 1.0, md.rand(n) * 2.0, 1.0, 0.25, 1.0, 1 / 3),
    ("w ~ N(-0.3, 0.1^2), x ~ N(2, 1)", md.randn(n) * 0.1 - 0.3, md.randn(n) + 2.0, -0.3, 0.01, 2.0, 1.0),
]
naive_rows = []
for label, w, x, ew, vw, ex, vx in cases:
    formula = ew ** 2 * vx + ex ** 2 * vw + vw * vx
    est, se = var_and_se((w * x).numpy())
    check("INIT-3", f"Var(wx), {label}", formula, est, se)
    # the Crash Course deck's form E(w^2)E(x^2) - E(w)^2 E(x)^2 is the same number
    form_deck = (vw + ew ** 2) * (vx + ex ** 2) - ew ** 2 * ex ** 2
    naive_rows.append([label, formula, form_deck, vw * vx, est, abs(est - vw * vx) / se])
L.table("var_product_forms", ["w, x", "E(w)^2Var(x)+E(x)^2Var(w)+Var(w)Var(x)", "E(w^2)E(x^2)-E(w)^2E(x)^2",
                              "Var(w)Var(x) only", "simulated", "Var(w)Var(x) off by (SE)"], naive_rows,
        caption="The two forms agree; Var(w)Var(x) alone holds only when both means are 0", digits=4)


# %% [markdown]
# ## 2. Var(z) = N Var(w) Var(x) (INIT-4)
# A sum of N independent zero-mean terms (plus a constant bias), for several N, sigma_w and Var(x).

# %%
L.section("A unit summing N terms: Var(z) = N Var(w) Var(x)")
samples = n // 100  # independent units: each row draws its own w and x
sigma_w, var_x, bias = 0.1, 2.0, 0.7
sweep = []
for N in (4, 64, 512):
    w = md.randn(samples, N) * sigma_w
    x = md.randn(samples, N) * math.sqrt(var_x)
    z = (w * x).sum(dim=1) + bias  # z = sum_i w_i x_i + b, b a constant
    est, se = var_and_se(z.numpy())
    formula = N * sigma_w ** 2 * var_x
    check("INIT-4", f"Var(z), N={N}, sigma_w={sigma_w}, Var(x)={var_x}, b={bias}", formula, est, se)
    sweep.append((N, formula, est, se))


# %% [markdown]
# ## 3. Forward and backward through a linear layer (INIT-4)
# Var(w) = 1/n_in keeps the variance forward, the backward pass needs 1/n_out, and Glorot and Bengio
# take the compromise 2/(n_in + n_out).

# %%
L.section("Forward and backward through a linear layer: 1/n_in, 1/n_out and 2/(n_in + n_out)")
n_in, n_out, batch = 256, 1024, 32
rules = [("LeCun 1/n_in", 1 / n_in), ("1/n_out", 1 / n_out), ("Glorot 2/(n_in+n_out)", 2 / (n_in + n_out))]
fb_rows, fb_plot = [], []
for label, var_w in rules:
    fwd, bwd = [], []
    for _ in range(reps):  # independent layers: the entries of one layer share W, so use replicates
        x = md.randn(batch, n_in, requires_grad=True)
        W = md.randn(n_out, n_in) * math.sqrt(var_w)
        z = x @ W.T
        g = md.randn(batch, n_out)  # a random upstream gradient dL/dz with Var = 1
        (z * g).sum().backward()  # so dL/dx = g W
        fwd.append(float(z.numpy().var()))
        bwd.append(float(np.asarray(x.grad).var()))
    (f_m, f_se), (b_m, b_se) = mean_and_se(np.array(fwd)), mean_and_se(np.array(bwd))
    check("INIT-4", f"forward Var(z)/Var(x) = n_in Var(w), {label}", n_in * var_w, f_m, f_se)
    check("INIT-4", f"backward Var(dL/dx)/Var(dL/dz) = n_out Var(w), {label}", n_out * var_w, b_m, b_se)
    fb_rows.append([label, var_w, n_in * var_w, f_m, n_out * var_w, b_m])
    fb_plot.append((label, f_m, f_se, b_m, b_se))
L.table("forward_backward", ["rule", "Var(w)", "forward n_in Var(w)", "simulated", "backward n_out Var(w)",
                             "simulated"], fb_rows,
        caption=f"Linear layer {n_in} -> {n_out}: variance factor forward and backward (minidl autograd)")
L.note("Forward, Var(z) = n_in Var(w) Var(x): 1/n_in keeps it. Backward, dL/dx_i = sum_j W_ji dL/dz_j sums "
       "n_out terms: Var(dL/dx) = n_out Var(w) Var(dL/dz), kept by 1/n_out. Both hold only if n_in = n_out; "
       "Glorot and Bengio take the compromise Var(w) = 2/(n_in + n_out), which puts both factors "
       f"between ({2 * n_in / (n_in + n_out):.2f} and {2 * n_out / (n_in + n_out):.2f} here).")
L.slip("crash-course/toolbox", "'Xavier' initialization is sigma^2 = 1/N (randn / sqrt(N))",
       "1/N (fan-in) is LeCun's rule; Glorot and Bengio's is Var(w) = 2/(n_in + n_out) "
       "(nn.init.xavier_normal_). They agree only when n_in = n_out")


# %% [markdown]
# ## 4. Uniform initialization (INIT-8)
# U[-s, s] has variance s^2/3: the old U[-1/sqrt(n), 1/sqrt(n)] shrinks the variance 3x per layer,
# Glorot's normalised bound keeps it.

# %%
L.section("U[-s, s] has variance s^2/3")
s = 0.7
u = nn.init.uniform_(md.zeros(n), -s, s)
est, se = var_and_se(u.numpy())
check("INIT-8", f"Var(U[-s, s]) = s^2/3, s = {s}", s ** 2 / 3, est, se)
fan = 512
old = nn.init.uniform_(md.zeros(fan, fan), -1 / math.sqrt(fan), 1 / math.sqrt(fan))  # the DI504 slide's rule
v_old, se_old = var_and_se(old.numpy())
check("INIT-8", f"n Var(U[-1/sqrt(n), 1/sqrt(n)]) = 1/3, n = {fan}", 1 / 3, v_old * fan, se_old * fan)
f_in, f_out = 256, 1024
bound = math.sqrt(6 / (f_in + f_out))
glorot_u = nn.init.uniform_(md.zeros(f_out, f_in), -bound, bound)
v_g, se_g = var_and_se(glorot_u.numpy())
check("INIT-8", f"Var(U[+-sqrt(6/(n_in+n_out))]) = 2/(n_in+n_out), {f_in}->{f_out}",
      2 / (f_in + f_out), v_g, se_g)
sq = nn.init.uniform_(md.zeros(fan, fan), -math.sqrt(6 / (2 * fan)), math.sqrt(6 / (2 * fan)))
v_sq, se_sq = var_and_se(sq.numpy())
check("INIT-8", f"n Var(U[+-sqrt(6/(2n))]) = 1 when n_in = n_out = {fan}", 1.0, v_sq * fan, se_sq * fan)

# a deep linear stack: the lecture's U[-1/sqrt(n), 1/sqrt(n)] shrinks the variance 3x per layer
depth, width = 6, 256
bound_old = 1 / math.sqrt(width)
stacks = {"U[-1/sqrt(n), 1/sqrt(n)] (DI504 slide)":
          lambda: nn.init.uniform_(md.zeros(width, width), -bound_old, bound_old),
          "U[+-sqrt(6/(n_in+n_out))] (Glorot; under LeCun's line)":
          lambda: nn.init.xavier_uniform_(md.zeros(width, width)),
          "N(0, 1/n) (LeCun)": lambda: nn.init.lecun_normal_(md.zeros(width, width))}
stack_curves = {}
for label, draw in stacks.items():
    per_layer = np.zeros((reps, depth))
    for r in range(reps):
        h = md.randn(batch, width)
        for layer in range(depth):
            h = h @ draw().T
            per_layer[r, layer] = float(h.numpy().var())
    stack_curves[label] = per_layer
old_ratio = stack_curves["U[-1/sqrt(n), 1/sqrt(n)] (DI504 slide)"]
m6, se6 = mean_and_se(old_ratio[:, -1] * 3.0 ** depth)
check("INIT-8", f"U[-1/sqrt(n), 1/sqrt(n)]: Var after {depth} linear layers x 3^{depth} = 1 (3x shrink per layer)",
      1.0, m6, se6)
m6g, se6g = mean_and_se(stack_curves["U[+-sqrt(6/(n_in+n_out))] (Glorot; under LeCun's line)"][:, -1])
check("INIT-8", f"Glorot uniform: Var after {depth} linear layers = 1", 1.0, m6g, se6g)
L.table("uniform_stack", ["init", *[f"Var layer {i + 1}" for i in range(depth)]],
        [[k, *v.mean(axis=0)] for k, v in stack_curves.items()],
        caption=f"{depth} linear layers of {width} units, Var(x) = 1, mean over {reps} replicates")
L.slip("di504", "U[-1/sqrt(n), 1/sqrt(n)] is credited to Glorot and Bengio",
       "it is the older heuristic they criticised: its variance is 1/(3n), so the variance shrinks 3x per layer "
       f"(measured x{old_ratio.mean(axis=0)[-1] * 3 ** depth:.2f} / 3^{depth} after {depth} layers); their "
       "proposal is the normalised U[+-sqrt(6)/sqrt(n_in + n_out)] of the next slide")


# %% [markdown]
# ## 5. He: E[max(0, y)^2] = Var(y)/2 (INIT-9)
# The factor 2 of He's rule, and minidl's initializers against the rules (INIT-7, INIT-8, INIT-10).

# %%
L.section("He: E[max(0, y)^2] = Var(y)/2 for zero-mean symmetric y")
sym = {"normal N(0, 1.5^2)": md.randn(n) * 1.5,
       "uniform U[-2, 2]": md.rand(n) * 4.0 - 2.0,
       "Laplace (scale 1)": md.tensor(L.rng.laplace(0.0, 1.0, n).astype(np.float32))}
he_rows, he_plot = [], []
for label, y in sym.items():
    yv = y.numpy().astype(np.float64)
    var_y = float(yv.var())
    x2 = md.relu(y).numpy().astype(np.float64) ** 2
    # ratio E[x^2]/Var(y): SE by the delta method on the pair (x^2, (y - mean)^2)
    a, b = x2, (yv - yv.mean()) ** 2
    ratio = a.mean() / b.mean()
    se_ratio = float(np.std(a - ratio * b) / (b.mean() * math.sqrt(n)))
    check("INIT-9", f"E[relu(y)^2] / Var(y) = 1/2, y {label}", 0.5, float(ratio), se_ratio)
    var_relu = float(md.relu(y).numpy().astype(np.float64).var())
    he_rows.append([label, var_y, float(a.mean()), float(ratio), var_relu / var_y])
    he_plot.append((label, float(ratio), se_ratio, var_relu / var_y))
L.table("he_relu_moments", ["y", "Var(y)", "E[x^2], x = relu(y)", "E[x^2] / Var(y)", "Var(x) / Var(y)"], he_rows,
        caption="After a ReLU, E[x^2] is half of Var(y); Var(x) is smaller still (x has a positive mean)", digits=4)
# Var(w x) = Var(w) E[x^2] = Var(w) Var(y) / 2 for zero-mean w independent of x
y = md.randn(n) * 1.5
w = md.randn(n) * 0.3
est, se = var_and_se((w * md.relu(y)).numpy())
check("INIT-9", "Var(w relu(y)) = Var(w) Var(y) / 2, w ~ N(0, 0.3^2), y ~ N(0, 1.5^2)", 0.09 * 2.25 / 2, est, se)
x_relu = md.relu(y).numpy().astype(np.float64)
wrong = 0.5 * 0.09 * float(x_relu.var())
L.note(f"The deck's '1/2 Var(w) Var(x)' with x the ReLU output would give {wrong:.4f}, not the simulated "
       f"{est:.4f}: the 1/2 belongs to Var(y), the pre-activation, since Var(x) = Var(y)(1/2 - 1/(2 pi)) "
       f"= {0.5 - 1 / (2 * math.pi):.3f} Var(y) for Gaussian y.")
L.slip("crash-course", "He derivation: 'Var(w)E(x^2) = 1/2 Var(w)Var(x)' (x the ReLU output)",
       "Var(wx) = Var(w) E[x^2] = 1/2 Var(w) Var(y), with y the pre-activation. For the post-ReLU x, "
       "Var(x) != E[x^2] because x has a positive mean")
# the factor 2: with Var(w) = 2/N the pre-activation variance is kept through ReLU layers
width_he = 256
he_stack = np.zeros((reps, depth))
for r in range(reps):
    yv = md.randn(batch, width_he)
    for layer in range(depth):
        yv = md.relu(yv) @ (md.randn(width_he, width_he) * math.sqrt(2 / width_he)).T
        he_stack[r, layer] = float(yv.numpy().var())
m_he, se_he = mean_and_se(he_stack[:, -1])
check("INIT-9", f"Var(w) = 2/N: Var(y) after {depth} ReLU layers = Var(y) at the input = 1", 1.0, m_he, se_he)

check.table("monte_carlo_checks", f"Every identity: formula vs simulation, with its standard error (n = {n:,})")
L.figure(figure_checks(sweep, sigma_w, var_x, fb_plot, n_in, n_out, stack_curves, he_stack, he_plot),
         "variance_checks", caption="Monte Carlo vs formula: Var(z) = N Var(w) Var(x); forward/backward factors; "
                                    "deep linear stacks; He's E[relu(y)^2] = Var(y)/2 (error bars: 5 SE)")
library_checks(L, check)


# %% [markdown]
# ## Summary
# `L.finish()` prints every claim with its result and fails the lesson if any did not hold.

# %%
L.finish()
