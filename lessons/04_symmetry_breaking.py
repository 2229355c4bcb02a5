# %% [markdown]
# # Lesson 04: Symmetry breaking: zero, constant and random initialization
#
# Why weights must start random (and biases may start at zero).
#
# If every hidden unit of a layer starts with the same weights, every unit computes the same
# activation, receives the same gradient, and takes the same step: the units stay copies of each
# other for ever, and an H-unit layer is no better than a single unit. We show it with numbers:
#
# * at W = b = 0 every activation is f(0) and every hidden-layer weight gradient is exactly 0,
#   although the output bias (and, with sigmoid units, the last layer's weights) do get gradient;
# * after training from zero or constant weights the rows of W1 (one row per hidden unit, as in
#   nn.Linear's (out, in) weight) are identical: max difference between rows = 0;
# * random weights (biases still 0) make the rows differ and the network learn;
# * a convex problem (logistic regression) reaches the same optimum from every start, a
#   non-convex one (an MLP) ends at different weights and losses.
#
# Run: `python -m lessons run 04` (add `--quick` for small sizes).

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

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
import minidl.nn as nn
import minidl.optim as optim
from lessons._lesson import Lesson

ACTS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


def make_data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D problem no linear model solves: label 1 inside a ring, 0 outside. X (n, 2), y (n, 1)."""
    X = rng.uniform(-2.0, 2.0, size=(n, 2)).astype(np.float32)
    r = np.sqrt((X ** 2).sum(axis=1))
    y = ((r > 0.8) & (r < 1.6)).astype(np.float32)[:, None]
    return X, y


def make_mlp(kind: str, hidden: int, act: str = "sigmoid", value: float = 0.5, std: float = 1.0,
             n_in: int = 2) -> nn.Sequential:
    """Linear(n_in, H) -> act -> Linear(H, 1) -> Sigmoid, initialised as ``kind``:

    'zero': every weight and bias 0; 'constant': every weight = value, biases 0;
    'random': weights N(0, std^2), biases 0 (the biases do not need to be random).
    model[0].weight is W1 with shape (H, n_in): row i holds hidden unit i's weights.
    """
    model = nn.Sequential(nn.Linear(n_in, hidden), ACTS[act](), nn.Linear(hidden, 1), nn.Sigmoid())
    for layer in (model[0], model[2]):
        if kind == "zero":
            nn.init.zeros_(layer.weight)
        elif kind == "constant":
            nn.init.constant_(layer.weight, value)
        elif kind == "random":
            nn.init.normal_(layer.weight, 0.0, std)
        else:
            raise ValueError(f"unknown init kind {kind!r}; expected 'zero', 'constant' or 'random'")
        nn.init.zeros_(layer.bias)
    return model


def train(model: nn.Module, X: md.Tensor, y: md.Tensor, steps: int, lr: float, l2: float = 0.0) -> list[float]:
    """Full-batch gradient descent p <- p - lr dJ/dp on J = BCE(model(X), y) (+ l2 * |W|^2); losses per step."""
    loss_fn = nn.BCELoss()
    opt = optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(X), y)
        if l2:
            loss = loss + l2 * sum((p * p).sum() for name, p in model.named_parameters() if name.endswith("weight"))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def row_spread(W: np.ndarray) -> float:
    """max over units i, j of max |W[i] - W[j]|: 0 exactly when all rows (units) are identical."""
    return float(np.max(W.max(axis=0) - W.min(axis=0)))


def accuracy(model: nn.Module, X: md.Tensor, y: np.ndarray) -> float:
    with md.no_grad():
        p = model(X).numpy()
    return float(((p > 0.5) == (y > 0.5)).mean())


# %%
L = Lesson("04_symmetry_breaking", "Symmetry breaking: zero, constant and random initialization")
n, hidden, steps = (200, 8, 400) if L.quick else (400, 8, 1500)
X_np, y_np = make_data(L.rng, n)
X, y = md.tensor(X_np), md.tensor(y_np)


# %% [markdown]
# ## 1. All-zero initialization (INIT-1)
# At W = b = 0 every hidden activation is f(0) and the hidden weight gradient is exactly 0; the
# output bias (and, with sigmoid units, the last layer's weights) still get a gradient.

# %%
L.section("1. All-zero initialization: activations and first gradients (INIT-1)")
rows, hidden_grad_max, bias_grads, w2_grads = [], {}, {}, {}
for act in ACTS:
    model = make_mlp("zero", hidden, act)
    with md.no_grad():
        a = model[1](model[0](X)).numpy()  # hidden activations f(x W1^T + b1)
    nn.BCELoss()(model(X), y).backward()
    hidden_grad_max[act] = float(np.abs(model[0].weight.grad).max())
    bias_grads[act] = float(np.abs(model[2].bias.grad).max())
    w2_grads[act] = float(np.abs(model[2].weight.grad).max())
    rows.append([act, float(a.min()), float(a.max()), hidden_grad_max[act],
                 float(np.abs(model[0].bias.grad).max()), w2_grads[act], bias_grads[act]])
L.table("zero_init_first_step", ["hidden f", "min a", "max a", "max|dJ/dW1|", "max|dJ/db1|",
                                 "max|dJ/dW2|", "|dJ/db2|"], rows,
        caption="W = b = 0: every hidden activation is f(0); the hidden weight gradient is exactly 0")
L.claim("INIT-1", all(v == 0.0 for v in hidden_grad_max.values())
        and all(bias_grads[a] > 0 for a in ACTS) and w2_grads["sigmoid"] > 0
        and w2_grads["tanh"] == 0.0 and w2_grads["relu"] == 0.0,
        "at W=b=0 activations are f(0) and dJ/dW1 = 0 exactly; dJ/db2 != 0 and, with sigmoid "
        "units (a = 0.5), dJ/dW2 != 0",
        max_dW1=max(hidden_grad_max.values()), dJ_db2=bias_grads["sigmoid"],
        dJ_dW2_sigmoid=w2_grads["sigmoid"])
L.slip("crash-course/di504", '"gradient will be zero ... SGD cannot update" (zero init), DI504 "results in some '
       'asymmetry", "For ReLu it is singular value"',
       "at W = b = 0 the output bias gradient is non-zero and, with sigmoid hidden units (a = 0.5), so "
       f"is the last layer's weight gradient (here max|dJ/dW2| = {w2_grads['sigmoid']:.3g}); what fails "
       "is symmetry: the hidden units stay identical. Training *requires* asymmetry. ReLU is not "
       "differentiable at 0; its gradient there is 0 by convention")


# %% [markdown]
# ## 2. Training from zero, constant and random weights (INIT-2)
# Constant initialisation keeps every hidden unit identical for good; random weights break the symmetry.

# %%
L.section("2. Training from zero, constant and random weights (INIT-2)")
runs = {}
for kind in ["zero", "constant", "random"]:
    md.manual_seed(L.seed)
    model = make_mlp(kind, hidden, "sigmoid")
    losses = train(model, X, y, steps, lr=2.0)
    runs[kind] = (model, losses)
rows = []
for kind, (model, losses) in runs.items():
    W1 = model[0].weight.numpy()
    rows.append([kind, row_spread(W1), float(np.abs(W1).max()), row_spread(model[0].bias.numpy()[:, None]),
                 losses[0], losses[-1], accuracy(model, X, y_np)])
L.table("rows_after_training", ["init", "max diff between rows of W1", "max|W1|", "max diff of b1",
                                "loss at start", "loss at end", "train accuracy"], rows,
        caption=f"Sigmoid MLP 2-{hidden}-1 after {steps} gradient-descent steps (lr 2.0)")
zero_spread = row_spread(runs["zero"][0][0].weight.numpy())
const_spread = row_spread(runs["constant"][0][0].weight.numpy())
rand_spread = row_spread(runs["random"][0][0].weight.numpy())
moved = float(np.abs(runs["zero"][0][0].weight.numpy()).max())
acc = {k: accuracy(runs[k][0], X, y_np) for k in runs}
final = {k: runs[k][1][-1] for k in runs}
L.note(f"From zero or constant init all {hidden} hidden units are still the same unit after training "
       f"(row spread {zero_spread} and {const_spread}), although the weights moved (max|W1| = {moved:.3g}). "
       f"Random init: spread {rand_spread:.3g}, accuracy {acc['random']:.2f} vs {acc['zero']:.2f}.")
L.claim("INIT-2", zero_spread == 0.0 and const_spread == 0.0 and rand_spread > 0.1
        and final["random"] < min(final["zero"], final["constant"]) - 0.02 and acc["random"] >= acc["zero"],
        "constant init keeps every hidden unit identical for ever (row spread exactly 0); random weights "
        "(zero biases) break the symmetry and learn more",
        spread_zero=zero_spread, spread_const=const_spread, spread_random=rand_spread,
        loss_random=final["random"], loss_zero=final["zero"], acc_random=acc["random"], acc_zero=acc["zero"])

fig, axes = plt.subplots(1, 4, figsize=(16, 4.6), gridspec_kw={"width_ratios": [1, 1, 1, 1.5]},
                         layout="constrained")
# one colour scale for the three weight panels (so that colours compare across them), shown by a colour bar
vmax = max(max(float(np.abs(runs[k][0][0].weight.numpy()).max()) for k in runs), 1e-6)
for ax, kind in zip(axes[:3], runs):
    W1 = runs[kind][0][0].weight.numpy()
    image = ax.imshow(W1, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
    for (i, j), v in np.ndenumerate(W1):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=9.5,
                color="white" if abs(v) > 0.6 * vmax else "black")
    ax.set_title(f"W1 after training: {kind} init\n(max diff between rows = {row_spread(W1):.3g})",
                 fontsize=10)
    ax.set_xlabel("input feature")
    ax.set_ylabel("hidden unit (row of W1)")
    ax.set_xticks([0, 1], ["x1", "x2"])
    ax.set_yticks(range(hidden))
styles = {"zero": dict(ls="-", lw=3, alpha=0.6), "constant": dict(ls="--", lw=1.5), "random": dict(ls="-", lw=1.5)}
for kind, (_, losses) in runs.items():
    axes[3].plot(losses, label=f"{kind} init", **styles[kind])
fig.colorbar(image, ax=list(axes[:3]), label="weight value (one scale for all three panels)", fraction=0.03, pad=0.02)
axes[3].set_title("Training loss")
axes[3].set_xlabel("gradient-descent step")
axes[3].set_ylabel("binary cross-entropy")
axes[3].legend()
L.figure(fig, "weights_after_training",
         caption="rows of W1 stay identical from zero/constant init; random init breaks the symmetry")


# %% [markdown]
# ## 3. Convex vs non-convex: does the starting point matter? (INIT-11)
# Five random starts each for logistic regression (convex) and a small tanh MLP (non-convex).

# %%
L.section("3. Convex vs non-convex: five random starts each (INIT-11)")
seeds = range(5)
lr, lam = 1.0, 1e-2
conv_steps = 300 if L.quick else 1500
Xf = md.tensor(np.concatenate([X_np, X_np ** 2], axis=1))  # features (x1, x2, x1^2, x2^2): convex model
logreg_w, logreg_loss = [], []
for s in seeds:
    md.manual_seed(100 + s)
    model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())  # logistic regression on (x1, x2, x1^2, x2^2)
    nn.init.normal_(model[0].weight, 0.0, 3.0)
    nn.init.normal_(model[0].bias, 0.0, 3.0)
    losses = train(model, Xf, y, conv_steps, lr=lr, l2=lam)  # the L2 term makes it strictly convex
    logreg_w.append(np.concatenate([model[0].weight.numpy().ravel(), model[0].bias.numpy()]))
    logreg_loss.append(losses[-1])
mlp_w, mlp_loss_end = [], []
for s in seeds:
    md.manual_seed(100 + s)
    model = make_mlp("random", hidden, "tanh", std=1.0)
    losses = train(model, X, y, conv_steps, lr=0.5)
    mlp_w.append(model[0].weight.numpy().ravel())
    mlp_loss_end.append(losses[-1])
lw, mw = np.array(logreg_w), np.array(mlp_w)
lr_spread = float(np.max(lw.max(0) - lw.min(0)))
mlp_spread = float(np.max(mw.max(0) - mw.min(0)))
lr_loss_spread = float(np.ptp(logreg_loss))
mlp_loss_spread = float(np.ptp(mlp_loss_end))
rows = [[f"seed {s}", logreg_loss[s], float(np.abs(lw[s] - lw[0]).max()), mlp_loss_end[s],
         float(np.abs(mw[s] - mw[0]).max())] for s in seeds]
L.table("convex_vs_nonconvex", ["start", "logistic loss", "max|w - w(seed 0)|", "MLP loss",
                                "max|W1 - W1(seed 0)|"], rows,
        caption=f"{conv_steps} GD steps from 5 random starts: logistic regression (convex, L2 {lam}) vs tanh MLP")
L.claim("INIT-11", lr_spread < 1e-3 and lr_loss_spread < 1e-5 and mlp_spread > 0.5 and mlp_loss_spread > 1e-3,
        "convex logistic regression reaches the same optimum from every start; the non-convex MLP ends at "
        "different weights and losses",
        logreg_weight_spread=lr_spread, logreg_loss_spread=lr_loss_spread,
        mlp_weight_spread=mlp_spread, mlp_loss_spread=mlp_loss_spread)


# %% [markdown]
# ## Summary
# `L.finish()` prints every claim with its result and fails the lesson if any did not hold.

# %%
L.finish()
