# %% [markdown]
# # Lesson 15: Optimizers in practice
#
# Lesson 08 raced the optimizers on a two-dimensional bowl. This one uses them the way a training
# script does. First the minibatch gradient itself: why SGD works with a noisy estimate (BME 548L
# "Tools for your deep learning toolbox", "DI504 Foundations of Deep Learning: Deep Training"); then
# one step of SGD and of Adam checked against a hand computation, Adam's indifference to the scale of
# the gradient, and the `torch.optim` habits of the "Deep Learning Training Tips" deck: parameter
# groups, gradients that add up until `zero_grad()`. Then real training on the bundled digits: the
# six optimizers with tuned learning rates, three learning-rate schedules (with the one-cycle dip),
# and switching optimizers in the middle of a run.
#
# Run: `python -m lessons run 15` (or `python lessons/15_optimizers_in_practice.py --quick --out /tmp/l15`).

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

from typing import Any, Callable

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
import minidl.data as data
import minidl.nn as nn
import minidl.optim as optim
from lessons._lesson import Lesson
from minidl import train
from minidl.optim import lr_scheduler


def least_squares_loss(w: md.Tensor, X: Any, y: Any) -> md.Tensor:
    """L(w) = (1/2M) sum_i (x_i . w - y_i)^2 over the M rows given."""
    r = md.tensor(X) @ w - md.tensor(y)
    return 0.5 * (r * r).mean()


def minibatch_grad(w: md.Tensor, X: Any, y: Any) -> np.ndarray:
    """The gradient of least_squares_loss on (X, y), by autograd."""
    w.grad = None
    least_squares_loss(w, X, y).backward()
    return np.array(w.grad)


def mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


class BatchRecorder(train.Callback):
    """The loss, accuracy and learning rate of every training batch (fit's History keeps epoch means)."""

    def __init__(self) -> None:
        self.loss: list[float] = []
        self.acc: list[float] = []
        self.lr: list[float] = []  # the lr each batch was trained with (a per-batch scheduler steps before us)
        self._lr = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._lr = self.run.optimizer.param_groups[0]["lr"]

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        assert self.run.batch is not None  # fit sets (x, y, output) before calling on_train_batch_end
        x, y, out = self.run.batch
        self.loss.append(float((logs or {})["loss"]))
        self.acc.append(float((out.detach().numpy().argmax(axis=1) == y.numpy()).mean()))
        self.lr.append(self._lr)
        self._lr = self.run.optimizer.param_groups[0]["lr"]


def train_loader() -> data.DataLoader:
    """A fresh loader over the training digits: every run sees the same sequence of shuffled batches."""
    return data.DataLoader(data.TensorDataset(X_dig[:1200], y_dig[:1200]), batch_size=32, shuffle=True, seed=L.seed)


def train_digits(make_opt: Callable[[Any], optim.Optimizer], epochs: int, seed: int, **kw: Any) -> train.History:
    md.manual_seed(seed)
    model = mlp()
    return train.fit(model, nn.CrossEntropyLoss(), make_opt(model.parameters()), train_loader(), epochs=epochs,
                     val_loader=dev_loader, verbose=0, **kw)


def adam_by_hand(theta: np.ndarray, grad: Callable[[np.ndarray], np.ndarray], steps: int, lr: float,
                 b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> np.ndarray:
    """The algorithm box of the Adam paper, line by line; returns the trajectory (steps + 1, d)."""
    m, v, path = np.zeros_like(theta), np.zeros_like(theta), [theta.copy()]
    for t in range(1, steps + 1):
        g = grad(theta)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        path.append(theta.copy())
    return np.array(path)


def adam_as_on_the_slide(theta: np.ndarray, grad: Callable[[np.ndarray], np.ndarray], steps: int, lr: float,
                         b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> np.ndarray:
    """The Adam slide's formulas as printed (squares on m, g and v; no t in the corrections; eps in the sqrt)."""
    m, v, path = np.zeros_like(theta), np.zeros_like(theta), [theta.copy()]
    for _ in range(steps):
        g = grad(theta)
        m = b1 * m ** 2 + (1 - b1) * g ** 2
        v = b2 * v ** 2 + (1 - b2) * g ** 2
        theta = theta - lr * (m / (1 - b1)) / np.sqrt(v / (1 - b2) + eps)
        path.append(theta.copy())
    return np.array(path)


def minidl_path(make_opt: Callable[[list], optim.Optimizer], theta0: np.ndarray, loss: Callable[[md.Tensor], md.Tensor],
                steps: int) -> np.ndarray:
    """Drive a leaf tensor with a minidl optimizer on ``loss``; the trajectory (steps + 1, d)."""
    p = md.tensor(theta0.copy(), dtype=md.float64, requires_grad=True)
    opt = make_opt([p])
    path = [p.numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        loss(p).backward()
        opt.step()
        path.append(p.numpy().copy())
    return np.array(path)


# %%
L = Lesson("15_optimizers_in_practice", "Optimizers in practice")
X_dig, y_dig = data.load_digits()
X_dig = (X_dig / 16.0).astype(np.float32)
order = L.rng.permutation(len(y_dig))
X_dig, y_dig = X_dig[order], y_dig[order]
dev_loader = data.DataLoader(data.TensorDataset(X_dig[1200:], y_dig[1200:]), batch_size=600)
epochs = 6 if L.quick else 12


# %% [markdown]
# ## 1. The minibatch gradient (OPT-2, OPT-3)
#
# Least squares, L(w) = (1/2N) sum_i (x_i . w - y_i)^2, on N = 4000 synthetic examples with 5
# features. Gradient descent steps w <- w - eta grad L(w) with the gradient over all the data;
# minibatch SGD takes the same step with the gradient averaged over M sampled examples (the toolbox
# deck's example code samples 256). Over many draws, the minibatch gradient averages to the full
# gradient (it is unbiased), and its variance falls like 1/M: M times the variance stays constant.

# %%
L.section("1. The minibatch gradient")
N, d = 4000, 5
X_ls = L.rng.standard_normal((N, d)) * np.array([1.0, 2.0, 0.5, 1.0, 3.0])
w_true = L.rng.standard_normal(d)
y_ls = X_ls @ w_true + 0.5 * L.rng.standard_normal(N)
w = md.tensor(np.zeros(d), dtype=md.float64, requires_grad=True)
full = minibatch_grad(w, X_ls, y_ls)
draws = 300 if L.quick else 1000
sizes = [1, 4, 16, 64, 256]
rows, variances = [], []
for M in sizes:
    grads = np.array([minibatch_grad(w, X_ls[idx], y_ls[idx])
                      for idx in (L.rng.integers(0, N, M) for _ in range(draws))])
    bias = np.linalg.norm(grads.mean(axis=0) - full)
    spread = np.linalg.norm(grads.std(axis=0)) / np.sqrt(draws)  # the standard error of that mean
    var = float(((grads - full) ** 2).sum(axis=1).mean())  # E ||g_M - g||^2
    variances.append(var)
    rows.append([M, bias, spread, var, M * var])
L.table("minibatch_gradient", ["M", "||mean of draws - full gradient||", "its standard error",
                               "E||g_M - g||^2", "M x variance"], rows,
        caption=f"{draws} minibatch gradients per size M (rows drawn with replacement), at w = 0; "
                f"||full gradient|| = {np.linalg.norm(full):.2f}")
slope = float(np.polyfit(np.log(sizes), np.log(variances), 1)[0])
mv = np.array([r[4] for r in rows])
fig, ax = plt.subplots(figsize=(7.5, 4.8))
ax.loglog(sizes, variances, "o-", ms=8, lw=2, label=f"measured (slope {slope:.2f})")
ax.loglog(sizes, variances[0] / np.array(sizes), "k--", lw=1.2, label="variance(M = 1) / M")
ax.set(title="Variance of the minibatch gradient against the batch size", xlabel="batch size M (log scale)",
       ylabel="E ||g_M - g_full||^2 (log scale)")
ax.legend()
ax.grid(alpha=0.3, which="both")
L.figure(fig, "minibatch_variance", caption="the variance of a minibatch gradient falls like 1/M")
L.claim("OPT-3", all(r[1] < 4 * r[2] for r in rows),
        "the mean of many minibatch gradients equals the full gradient (within 4 standard errors)",
        worst_ratio=max(r[1] / r[2] for r in rows))
L.claim("OPT-3", abs(slope + 1) < 0.1 and mv.max() / mv.min() < 1.3, "the variance is proportional to 1/M",
        slope=slope, spread_of_M_var=mv.max() / mv.min())

# one step of minibatch SGD by hand: w1 = w0 - eta * X_B^T (X_B w0 - y_B) / M
idx = L.rng.integers(0, N, 256)
w0 = L.rng.standard_normal(d)
p = md.tensor(w0, dtype=md.float64, requires_grad=True)
opt = optim.SGD([p], lr=0.05)
least_squares_loss(p, X_ls[idx], y_ls[idx]).backward()
opt.step()
by_hand = w0 - 0.05 * X_ls[idx].T @ (X_ls[idx] @ w0 - y_ls[idx]) / 256
p_full = md.tensor(w0, dtype=md.float64, requires_grad=True)
opt_full = optim.SGD([p_full], lr=0.05)
least_squares_loss(p_full, X_ls, y_ls).backward()
opt_full.step()
gd_by_hand = w0 - 0.05 * X_ls.T @ (X_ls @ w0 - y_ls) / N
L.claim("OPT-2", np.abs(p.numpy() - by_hand).max() < 1e-12 and np.abs(p_full.numpy() - gd_by_hand).max() < 1e-12,
        "one SGD step (minibatch of 256, and full batch) equals w - eta * gradient computed by hand",
        minibatch_diff=np.abs(p.numpy() - by_hand).max(), full_diff=np.abs(p_full.numpy() - gd_by_hand).max())


# %% [markdown]
# ## 2. SGD on a convex problem reaches the closed-form solution (OPT-3)
#
# The per-batch loss of minibatch SGD is noisy, yet on this convex problem it ends at the
# least-squares solution w* = (X^T X)^-1 X^T y. An `nn.Linear(5, 1)` trained by `train.fit` with
# `MSELoss`, batches of 32, SGD with a step-decayed learning rate; its weights and bias against
# `numpy.linalg.lstsq` on [X, 1].

# %%
L.section("2. SGD reaches the least-squares solution")
md.manual_seed(L.seed)
lin = nn.Linear(d, 1).double()
ls_loader = data.DataLoader(data.TensorDataset(X_ls, y_ls.reshape(-1, 1)), batch_size=32, shuffle=True, seed=L.seed)
ls_opt = optim.SGD(lin.parameters(), lr=0.05)
ls_epochs = 10
batch_losses: list[float] = []


class LossPerBatch(train.Callback):
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        batch_losses.append(float((logs or {})["loss"]))


ls_hist = train.fit(lin, nn.MSELoss(), ls_opt, ls_loader, epochs=ls_epochs, metrics=(), verbose=0,
                    scheduler=lr_scheduler.StepLR(ls_opt, step_size=2, gamma=0.3), callbacks=[LossPerBatch()])
A = np.hstack([X_ls, np.ones((N, 1))])
w_star = np.linalg.lstsq(A, y_ls, rcond=None)[0]
w_sgd = np.concatenate([lin.weight.numpy().ravel(), lin.bias.numpy()])
rel_err = float(np.linalg.norm(w_sgd - w_star) / np.linalg.norm(w_star))
mse_star = float(np.mean((A @ w_star - y_ls) ** 2))
L.table("least_squares", ["coefficient", "closed form (lstsq)", "SGD"],
        [[f"w{i}" if i < d else "bias", w_star[i], w_sgd[i]] for i in range(d + 1)],
        caption=f"SGD (batch 32, lr 0.05 x 0.3 every 2 epochs, {ls_epochs} epochs) against the closed form",
        digits=5)
fig, ax = plt.subplots(figsize=(9, 4.8))
steps_per_ep = len(ls_loader)
ax.semilogy(batch_losses, color="C0", lw=0.6, alpha=0.6, label="MSE of each minibatch")
ax.semilogy(np.arange(1, ls_epochs + 1) * steps_per_ep, ls_hist["loss"], "o-", color="C1", lw=2,
            label="epoch mean")
ax.axhline(mse_star, color="k", ls="--", lw=1.2, label=f"MSE of the closed-form solution ({mse_star:.3f})")
ax.set(title="Minibatch SGD on least squares: a noisy loss, the exact minimum", xlabel="step",
       ylabel="mean squared error (log scale)")
ax.legend()
ax.grid(alpha=0.3, which="both")
L.figure(fig, "sgd_least_squares", caption="the per-batch loss is noisy, the weights end at the least-squares solution")
L.claim("OPT-3", rel_err < 1e-2, "SGD on a convex problem reaches the closed-form least-squares solution",
        relative_error=rel_err)


# %% [markdown]
# ## 3. Adam by hand, and its indifference to the gradient's scale (OPT-8, OPT-10)
#
# Adam as in its paper's algorithm box: m_t = b1 m_(t-1) + (1 - b1) g_t, v_t = b2 v_(t-1) +
# (1 - b2) g_t^2, m_hat = m_t / (1 - b1^t), v_hat = v_t / (1 - b2^t), theta_t = theta_(t-1) -
# alpha m_hat / (sqrt(v_hat) + eps), from m_0 = v_0 = 0. `optim.Adam` must follow the hand-written
# loop step for step. And since m_hat / sqrt(v_hat) does not change when every gradient of a
# coordinate is multiplied by the same positive factor, Adam takes the same steps on a loss and on
# 1000 times that loss (or on a loss whose coordinates are rescaled differently), where SGD's steps
# grow a thousandfold.

# %%
L.section("3. Adam by hand; rescaled gradients")
curv = np.array([1.0, 10.0, 0.1, 3.0])
target = np.array([3.0, -1.0, 2.0, 0.5])
theta0 = np.zeros(4)


def bowl(scale: np.ndarray) -> Callable[[md.Tensor], md.Tensor]:
    """sum_i scale_i * curv_i (theta_i - target_i)^2 / 2: a separable bowl, coordinate i scaled by scale_i."""
    c, t = md.tensor(scale * curv, dtype=md.float64), md.tensor(target, dtype=md.float64)
    return lambda p: 0.5 * (c * (p - t) * (p - t)).sum()


def bowl_grad(scale: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda th: scale * curv * (th - target)


steps = 50
ones = np.ones(4)
lib = minidl_path(lambda ps: optim.Adam(ps, lr=0.1), theta0, bowl(ones), steps)
hand = adam_by_hand(theta0, bowl_grad(ones), steps, lr=0.1)
L.table("adam_steps", ["step", "optim.Adam theta", "by hand theta", "max |difference|"],
        [[t, str(np.round(lib[t], 5).tolist()), str(np.round(hand[t], 5).tolist()), np.abs(lib[t] - hand[t]).max()]
         for t in (1, 2, 3, 10, steps)], caption="Adam (lr 0.1) on a separable bowl, from theta = 0", digits=3)
diff_hand = float(np.abs(lib - hand).max())
L.claim("OPT-8", diff_hand < 1e-12, "optim.Adam's steps equal the hand computation of the algorithm box",
        max_diff=diff_hand, steps=steps)

scaled = {"g": ones, "1000 g": 1000 * ones, "per coordinate (1, 1000, 0.001, 50)": np.array([1, 1000, 1e-3, 50.0])}
adam_diff: dict[float, dict[str, float]] = {}
for eps in (1e-8, 1e-14):
    paths = {k: minidl_path(lambda ps: optim.Adam(ps, lr=0.1, eps=eps), theta0, bowl(sc), steps)
             for k, sc in scaled.items()}
    adam_diff[eps] = {k: float(np.abs(pth - paths["g"]).max()) for k, pth in paths.items()}
    if eps == 1e-8:
        adam_paths = paths
sgd_paths = {k: minidl_path(lambda ps: optim.SGD(ps, lr=0.01), theta0, bowl(scaled[k]), 5) for k in ("g", "1000 g")}
sgd_ratio = float(np.abs(sgd_paths["1000 g"][1]).max() / np.abs(sgd_paths["g"][1]).max())
L.table("adam_rescaled", ["gradient", "max |theta - theta(g)|, eps 1e-8 (default)", "the same, eps 1e-14"],
        [[k, adam_diff[1e-8][k], adam_diff[1e-14][k]] for k in scaled],
        caption=f"Adam (lr 0.1) on the bowl with rescaled gradients, {steps} steps")
L.note(f"SGD (lr 0.01) on the same rescaling: its first step is {sgd_ratio:.0f} times larger with 1000 g "
       f"(and then diverges: |theta| = {np.abs(sgd_paths['1000 g'][-1]).max():.2g} after 5 steps). Adam's small "
       "differences come from eps alone: it is added to sqrt(v_hat), which scales with the gradient, so a gradient "
       "1000 times smaller (coordinate 2 of the last row) feels eps 1000 times more.")
with np.errstate(over="ignore", invalid="ignore"):  # the slide's recursion overflows: that is the point
    slide = adam_as_on_the_slide(theta0, bowl_grad(ones), steps, lr=0.1)
finite = int(np.argmax(~np.isfinite(slide).all(axis=1))) if not np.isfinite(slide).all() else len(slide)
fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
adam_styles: dict[str, dict[str, Any]] = {"g": {"lw": 2}, "1000 g": {"lw": 0, "marker": "o", "ms": 8, "mfc": "none"}}
for k, pth in adam_paths.items():
    style = adam_styles.get(k, {"lw": 0, "marker": "."})
    axes[0].plot(pth[:, 0], label=f"Adam, {k}", **style)
axes[0].axhline(target[0], color="k", ls="--", lw=1, label="optimum")
axes[0].set(title="Adam: the same trajectory whatever the gradient scale", xlabel="step", ylabel="theta_0")
axes[0].legend(fontsize=9)
axes[0].grid(alpha=0.3)
axes[1].plot(hand[:, 0], lw=2, color="C0", label="algorithm box (and optim.Adam)")
shown = int(np.argmax(np.abs(slide[:finite, 0]) > 6)) or finite  # the slide's path leaves the axes after a few steps
axes[1].plot(slide[:shown + 1, 0], "o--", lw=2, color="C3",
             label=f"the slide's formulas (theta_0 = {slide[finite - 1, 0]:.0e} at step {finite - 1}, then overflow)")
axes[1].set_ylim(-6, 4.5)
axes[1].axhline(target[0], color="k", ls=":", lw=1, label="optimum theta_0 = 3")
axes[1].set(title="Adam on the bowl: the box against the slide", xlabel="step", ylabel="theta_0")
axes[1].legend(fontsize=9)
axes[1].grid(alpha=0.3)
L.figure(fig, "adam", caption="Adam ignores the gradient's scale; the slide's squared moments step the wrong way")
L.claim("OPT-10", max(adam_diff[1e-14].values()) < 1e-9 and adam_diff[1e-8]["1000 g"] < 1e-6 and sgd_ratio > 999,
        "Adam's trajectory is unchanged (up to eps) for g, 1000 g and a per-coordinate rescaling",
        max_diff_eps_1e14=max(adam_diff[1e-14].values()), diff_1000g_default_eps=adam_diff[1e-8]["1000 g"],
        sgd_first_step_ratio=sgd_ratio)
L.slip("training-tips", "Adam: m_t = b1 (m_(t-1))^2 + (1 - b1) (g_t)^2, v_t = b2 (v_(t-1))^2 + (1 - b2) (g_t)^2, "
       "m_hat = m_t/(1 - b1), v_hat = v_t/(1 - b2), step m_hat/sqrt(v_hat + eps)",
       "m_t = b1 m_(t-1) + (1 - b1) g_t, v_t = b2 v_(t-1) + (1 - b2) g_t^2, corrections 1 - b1^t and 1 - b2^t, "
       f"step m_hat/(sqrt(v_hat) + eps), as in the algorithm box beside it. With the squares m_t is never negative, "
       f"so every coordinate only decreases: theta_0 goes from 0 to {slide[finite - 1, 0]:.3g} in {finite - 1} steps "
       f"while the optimum is 3, and then the squared moments overflow (the box reaches {hand[-1, 0]:.3g} in "
       f"{steps} steps)")


# %% [markdown]
# ## 4. Parameter groups, and gradients that add up (OPT-12, OPT-13)
#
# The training-tips deck's example: `SGD([{"params": base}, {"params": classifier, "lr": 1e-3}],
# lr=1e-2, momentum=0.9)`. The classifier's own lr overrides the default, the base keeps lr 1e-2,
# and momentum 0.9, set by no group, applies to both: after two steps with the same gradient g, each
# parameter moved by lr_group (g + (0.9 g + g)). Then `backward()` adds into `.grad`: two backward
# calls give twice the gradient, until `zero_grad()` clears it, and `step()` uses the hyperparameters
# stored in the groups, even ones changed after the optimizer was made. Accumulating the gradients of
# four batches of 8 (each loss divided by 4) gives the gradient of one batch of 32.

# %%
L.section("4. Parameter groups and accumulating gradients")
md.manual_seed(L.seed)
net = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
base, classifier = net[0], net[2]
opt = optim.SGD([{"params": base.parameters()}, {"params": classifier.parameters(), "lr": 1e-3}],
                lr=1e-2, momentum=0.9)
xb, yb = md.tensor(X_dig[:32]), md.tensor(y_dig[:32])
ce = nn.CrossEntropyLoss()
opt.zero_grad()
ce(net(xb), yb).backward()
g = {name: np.array(p.grad) for name, p in net.named_parameters()}
w_before = {name: p.numpy().copy() for name, p in net.named_parameters()}
opt.step()  # v = g, w -= lr v
for name, p in net.named_parameters():  # the same gradient again, so the update is predictable
    p.grad = g[name].copy()
opt.step()  # v = 0.9 g + g, w -= lr v
group_lr = {"0.weight": 1e-2, "0.bias": 1e-2, "2.weight": 1e-3, "2.bias": 1e-3}
moved_ok = {name: float(np.abs((w_before[name] - p.numpy()) - group_lr[name] * (g[name] + 1.9 * g[name])).max())
            for name, p in net.named_parameters()}
L.table("param_groups", ["group", "parameters", "lr", "momentum", "max |update - lr (g + 1.9 g)| after 2 steps"],
        [[i, ", ".join(n for n in group_lr if (n.startswith("0") if i == 0 else n.startswith("2"))),
          grp["lr"], grp["momentum"], max(v for n, v in moved_ok.items() if n.startswith("0" if i == 0 else "2"))]
         for i, grp in enumerate(opt.param_groups)],
        caption="SGD([{params: base}, {params: classifier, lr: 1e-3}], lr=1e-2, momentum=0.9)")
L.claim("OPT-12", [grp["lr"] for grp in opt.param_groups] == [1e-2, 1e-3]
        and all(grp["momentum"] == 0.9 for grp in opt.param_groups) and max(moved_ok.values()) < 1e-7,
        "the classifier's lr 1e-3 overrides the default 1e-2 of the base, and momentum 0.9 acts on both groups",
        max_update_error=max(moved_ok.values()))

# gradients add up until zero_grad()
q = md.tensor(np.array([1.0, -2.0]), dtype=md.float64, requires_grad=True)
qopt = optim.SGD([q], lr=0.1)
(q * q).sum().backward()
once = np.array(q.grad)
(q * q).sum().backward()
twice = np.array(q.grad)
qopt.param_groups[0]["lr"] = 0.25  # a stored hyperparameter, changed after construction
qopt.step()
stepped = q.numpy().copy()
qopt.zero_grad()
cleared = q.grad is None
acc_net = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
acc_net.zero_grad()
ce(acc_net(xb), yb).backward()
big = np.array(acc_net[0].weight.grad)
acc_net.zero_grad()
for j in range(4):
    (ce(acc_net(xb[8 * j:8 * j + 8]), yb[8 * j:8 * j + 8]) / 4).backward()
accumulated = np.array(acc_net[0].weight.grad)
acc_diff = float(np.abs(accumulated - big).max())
L.table("accumulate", ["what", "value"],
        [["grad of sum(q^2) at q = (1, -2) after one backward", str(once.tolist())],
         ["after a second backward (no zero_grad)", str(twice.tolist())],
         ["q after step() with the stored lr changed to 0.25", str(stepped.tolist())],
         ["q.grad after zero_grad()", "None" if cleared else "not cleared"],
         ["max |4 accumulated batches of 8 - one batch of 32|, layer-1 weight gradient", f"{acc_diff:.2g}"]],
        caption="backward() adds into .grad; zero_grad() clears it")
L.claim("OPT-13", np.array_equal(twice, 2 * once) and cleared and np.allclose(stepped, [1.0, -2.0] - 0.25 * twice),
        "two backward calls give twice the gradient, zero_grad() clears it, step() uses the stored lr",
        grad_once=str(once.tolist()), grad_twice=str(twice.tolist()))
L.claim("OPT-13", acc_diff < 1e-6, "accumulating 4 batches of 8 (loss / 4) gives the gradient of one batch of 32",
        max_diff=acc_diff)


# %% [markdown]
# ## 5. Six optimizers on the digits, each with a tuned learning rate
#
# A 64-64-10 MLP on 1200 training digits, batches of 32. For a fair race each optimizer gets its
# best learning rate from a small grid (by dev accuracy after a short run), then trains from the
# same initial weights for the full run.

# %%
L.section("5. Six optimizers on the digits")
grids: dict[str, tuple[Callable[[Any, float], optim.Optimizer], list[float]]] = {
    "SGD": (lambda ps, lr: optim.SGD(ps, lr=lr), [0.1, 0.3, 1.0, 3.0]),
    "momentum": (lambda ps, lr: optim.SGD(ps, lr=lr, momentum=0.9), [0.01, 0.03, 0.1, 0.3]),
    "Nesterov": (lambda ps, lr: optim.SGD(ps, lr=lr, momentum=0.9, nesterov=True), [0.01, 0.03, 0.1, 0.3]),
    "Adagrad": (lambda ps, lr: optim.Adagrad(ps, lr=lr), [0.01, 0.03, 0.1, 0.3]),
    "RMSprop": (lambda ps, lr: optim.RMSprop(ps, lr=lr), [1e-3, 3e-3, 1e-2, 3e-2]),
    "Adam": (lambda ps, lr: optim.Adam(ps, lr=lr), [3e-3, 1e-2, 3e-2, 1e-1]),
}
tune_epochs = 2 if L.quick else 3
tuned, tune_rows = {}, []
for name, (make, lrs) in grids.items():
    scores = {lr: train_digits(lambda ps: make(ps, lr), tune_epochs, L.seed)["val_accuracy"][-1] for lr in lrs}
    tuned[name] = max(scores, key=lambda lr: scores[lr])
    tune_rows.append([name] + [f"{lr:g}: {scores[lr]:.3f}" for lr in lrs] + [tuned[name]])
L.table("tuning", ["optimizer", "lr 1: dev acc", "lr 2: dev acc", "lr 3: dev acc", "lr 4: dev acc", "chosen lr"],
        tune_rows,
        caption=f"learning-rate grid, dev accuracy after {tune_epochs} epochs")
races = {name: train_digits(lambda ps: grids[name][0](ps, tuned[name]), epochs, L.seed)
         for name in grids}
L.table("race", ["optimizer", "lr", "train loss, epoch 1", f"train loss, epoch {epochs}", "best dev accuracy",
                 f"dev accuracy, epoch {epochs}"],
        [[n, tuned[n], h["loss"][0], h["loss"][-1], max(h["val_accuracy"]), h["val_accuracy"][-1]]
         for n, h in races.items()], caption=f"MLP 64-64-10 on the digits, {epochs} epochs, the tuned lrs")
fig, axes = plt.subplots(1, 2, figsize=(14, 4.8))
ep = np.arange(1, epochs + 1)
for n, h in races.items():
    axes[0].semilogy(ep, h["loss"], "o-", ms=4, label=f"{n} (lr {tuned[n]:g})")
    axes[1].plot(ep, h["val_accuracy"], "o-", ms=4, label=f"{n} (lr {tuned[n]:g})")
axes[0].set(title="Training loss", xlabel="epoch", ylabel="cross-entropy (log scale)")
axes[1].set(title="Dev accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0.8, 1.0))
for ax in axes:
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=9)
fig.suptitle("Six optimizers on the digits, each at its tuned learning rate")
L.figure(fig, "optimizer_race", caption="the six optimizers at their tuned learning rates")
ranked = sorted(races, key=lambda n: races[n]["loss"][-1])
L.note("Ranked by the final training loss: " + ", ".join(f"{n} {races[n]['loss'][-1]:.3f}" for n in ranked)
       + f". Every one reaches a dev accuracy of at least {min(max(h['val_accuracy']) for h in races.values()):.3f} "
       "at some epoch: with a tuned lr the choice of optimizer matters less than the lr itself.")
L.note(f"Plain SGD's tuned lr is {tuned['SGD']:g}, momentum's {tuned['momentum']:g}: with momentum 0.9 the "
       "steady-state step is lr g / (1 - 0.9) = 10 lr g, so momentum moves further per step than its lr suggests. "
       "The adaptive methods divide by the root of the squared gradients, so their lrs are step sizes in weight "
       "units, and much smaller.")


# %% [markdown]
# ## 6. Learning-rate schedules, and switching optimizers mid-run
#
# SGD with momentum and three schedules: StepLR (x0.1 at two thirds of the run), cosine annealing
# (stepped per epoch) and one-cycle (stepped per batch, warming up to a high peak lr and annealing to
# almost 0). The crash-course deck warns that under one-cycle the accuracy can dip while the
# learning rate is at its peak: the per-batch training accuracy shows it. Then the training-tips
# deck's "best of both worlds": start with Adam, switch to SGD halfway (a new optimizer on the
# same model), against Adam and SGD alone. The deck's evidence (ResNets and DenseNets on CIFAR-10)
# needs far more compute than a lesson has; here it is the digits MLP, at a small scale.

# %%
L.section("6. Schedules and switching optimizers")
steps_per_epoch = len(train_loader())
sched_runs: dict[str, tuple[train.History, BatchRecorder]] = {}
sched_makers: dict[str, tuple[Callable[[optim.Optimizer], Any], str]] = {
    "constant lr 0.03": (lambda o: None, "epoch"),
    "StepLR (x0.1 at 2/3)": (lambda o: lr_scheduler.StepLR(o, step_size=2 * epochs // 3, gamma=0.1), "epoch"),
    "cosine annealing": (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=epochs), "epoch"),
    "one-cycle (peak 0.4)": (lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.4, epochs=epochs,
                                                               steps_per_epoch=steps_per_epoch), "batch"),
}
for name, (make_sched, interval) in sched_makers.items():
    md.manual_seed(L.seed)
    model = mlp()
    o = optim.SGD(model.parameters(), lr=0.03, momentum=0.9)
    rec = BatchRecorder()
    h = train.fit(model, nn.CrossEntropyLoss(), o, train_loader(), epochs=epochs, val_loader=dev_loader, verbose=0,
                  scheduler=make_sched(o), scheduler_interval=interval, callbacks=[rec])
    sched_runs[name] = (h, rec)
L.table("schedules", ["schedule", "peak lr", "final lr", "best dev accuracy", "final dev accuracy"],
        [[n, max(r.lr), r.lr[-1], max(h["val_accuracy"]), h["val_accuracy"][-1]] for n, (h, r) in sched_runs.items()],
        caption=f"SGD momentum 0.9 on the digits, {epochs} epochs")

h1, r1 = sched_runs["one-cycle (peak 0.4)"]
acc_smooth = np.convolve(r1.acc, np.ones(steps_per_epoch) / steps_per_epoch, mode="valid")
window_end = np.arange(len(acc_smooth)) + steps_per_epoch  # acc_smooth[j]: the mean over steps j .. j + spe - 1
peak = int(np.argmax(r1.lr))
epoch_lr = np.asarray(r1.lr).reshape(epochs, steps_per_epoch).mean(axis=1)
high = [e for e in range(1, epochs) if epoch_lr[e] > 0.5 * max(r1.lr)]  # epochs trained at more than half the peak
dev_acc = np.asarray(h1["val_accuracy"])
drops = {e: float(dev_acc[:e].max() - dev_acc[e]) for e in high}
dip_epoch = max(drops, key=lambda e: drops[e]) if drops else 0
dip = drops.get(dip_epoch, 0.0)
fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
for n, (h, r) in sched_runs.items():
    axes[0].plot(np.arange(len(r.lr)) / steps_per_epoch, r.lr, lw=2, label=n)
    axes[1].plot(np.arange(1, epochs + 1), h["val_accuracy"], "o-", ms=4, label=n)
axes[0].set(title="Learning rate at every step", xlabel="epoch", ylabel="learning rate (log scale)", yscale="log")
axes[1].set(title="Dev accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0.5, 1.0))
ax2 = axes[2]
ax2.plot(window_end / steps_per_epoch, acc_smooth, color="C3", lw=1.5, label="training accuracy (last epoch's batches)")
ax2.plot(np.arange(1, epochs + 1), dev_acc, "ko-", ms=5, lw=1.5, label="dev accuracy")
hi_steps = np.flatnonzero(np.asarray(r1.lr) > 0.5 * max(r1.lr))
ax2.axvspan(hi_steps[0] / steps_per_epoch, (hi_steps[-1] + 1) / steps_per_epoch, color="C0", alpha=0.1,
            label="lr above half its peak")
if dip > 0:
    ax2.annotate(f"dip of {dip:.2f}", (dip_epoch + 1, dev_acc[dip_epoch]), xytext=(dip_epoch + 1.3,
                 dev_acc[dip_epoch] - 0.12), arrowprops={"arrowstyle": "->"}, fontsize=10)
twin = ax2.twinx()
twin.plot(np.arange(len(r1.lr)) / steps_per_epoch, r1.lr, color="C0", lw=1, alpha=0.6)
twin.set_ylabel("learning rate (blue line)")
ax2.set(title=f"One-cycle (peak lr {max(r1.lr):.2g}): the accuracy dips at high lr", xlabel="epoch",
        ylabel="accuracy", ylim=(0.5, 1.02))
ax2.legend(fontsize=9, loc="lower right")
for ax in axes[:2]:
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=9)
ax2.grid(alpha=0.3)
fig.suptitle("Learning-rate schedules for SGD with momentum on the digits")
L.figure(fig, "schedules", caption="step, cosine and one-cycle schedules; the one-cycle accuracy dips at the peak lr")
L.note(f"One-cycle: at epochs {', '.join(str(e + 1) for e in high)} the lr is above half its peak "
       f"{max(r1.lr):.2g}; " + (f"the dev accuracy falls there by {dip:.3f} below its best so far (epoch "
                                f"{dip_epoch + 1}: {dev_acc[dip_epoch]:.3f}), the dip the deck warns about, and "
                                f"recovers to {dev_acc[-1]:.3f} as the lr anneals." if dip > 0.01 else
                                f"in this run the dev accuracy only stalls there and ends at {dev_acc[-1]:.3f}."))

half = epochs // 2
md.manual_seed(L.seed)
model = mlp()
one_loader = train_loader()  # the second fit continues the same shuffling stream, as one run would
first = train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=tuned["Adam"]), one_loader,
                  epochs=half, val_loader=dev_loader, verbose=0)
second = train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01, momentum=0.9), one_loader,
                   epochs=epochs - half, val_loader=dev_loader, verbose=0)
switched = {k: first[k] + second[k] for k in ("loss", "val_accuracy", "val_loss")}
alone = {"Adam alone": races["Adam"], "SGD momentum alone": races["momentum"]}
L.table("switching", ["run", f"dev accuracy, epoch {half}", f"dev accuracy, epoch {epochs}",
                      f"dev loss, epoch {epochs}"],
        [[n, h["val_accuracy"][half - 1], h["val_accuracy"][-1], h["val_loss"][-1]] for n, h in alone.items()]
        + [[f"Adam, then SGD momentum lr 0.01 from epoch {half + 1}", switched["val_accuracy"][half - 1],
            switched["val_accuracy"][-1], switched["val_loss"][-1]]],
        caption="switching optimizers in the middle of a run (a new optimizer on the same model)")
fig, ax = plt.subplots(figsize=(9, 4.8))
for n, h in alone.items():
    ax.plot(ep, h["val_loss"], "o-", ms=4, label=n)
ax.plot(ep, switched["val_loss"], "s-", ms=5, lw=2, color="C3", label="Adam, then SGD with momentum")
ax.axvline(half + 0.5, color="0.4", ls="--", lw=1, label="switch")
ax.set(title="Switching optimizers mid-run (digits MLP)", xlabel="epoch", ylabel="dev loss (cross-entropy)")
ax.legend()
ax.grid(alpha=0.3)
L.figure(fig, "switching", caption="after the switch SGD continues from where Adam left the weights")
L.note(f"At this scale the switch is neither a win nor a loss: final dev loss {switched['val_loss'][-1]:.3f} "
       f"against {races['Adam']['val_loss'][-1]:.3f} for Adam and {races['momentum']['val_loss'][-1]:.3f} for SGD "
       "with momentum alone. The deck's evidence for switching (ResNets and DenseNets on CIFAR-10, hundreds of "
       "epochs) needs far more compute than a lesson on a CPU has; what carries over is the mechanics: a new "
       "optimizer on the same parameters starts with fresh state (no Adam moments, an empty momentum buffer).")


# %% [markdown]
# ## 7. Slips in the decks
#
# The SGD code of the DI504 deck adds the gradient step instead of subtracting it, and the
# training-tips deck's `torch.optim` table gives plain gradient descent the same line as SGD,
# momentum 0.9 included. Both are measured here; the Adam slide's slip is shown in section 3.

# %%
L.section("7. Slips in the decks")
wrong = [theta0.copy()]
for _ in range(5):  # the slide's x += learning_rate * dx (optim.SGD refuses a negative lr)
    wrong.append(wrong[-1] + 0.05 * bowl_grad(ones)(wrong[-1]))
right = minidl_path(lambda ps: optim.SGD(ps, lr=0.05), theta0, bowl(ones), 5)
loss_of = bowl(ones)
f_wrong = [loss_of(md.tensor(t, dtype=md.float64)).item() for t in wrong]
f_right = [loss_of(md.tensor(t, dtype=md.float64)).item() for t in right]
L.slip("di504", "`x += learning_rate * dx` (and `x += learning_rate * vx` with momentum)",
       f"x -= learning_rate * dx: a step against the gradient. On the bowl of section 3 the printed sign takes the "
       f"loss from {f_wrong[0]:.2f} to {f_wrong[-1]:.2f} in 5 steps; the minus sign takes it to {f_right[-1]:.2f}")
gd = minidl_path(lambda ps: optim.SGD(ps, lr=0.01), theta0, bowl(ones), 2)
table_gd = minidl_path(lambda ps: optim.SGD(ps, lr=0.01, momentum=0.9), theta0, bowl(ones), 2)
L.slip("training-tips", "the torch.optim table's \"Gradient Descent\" row is `optim.SGD(model.parameters(), lr=0.01, "
       "momentum=0.9)`, the same as its SGD row",
       "plain gradient descent is momentum 0 (the default) with the gradient of the full data set in every step; "
       "with momentum 0.9 the second step already differs from theta - eta grad L "
       f"(by {np.abs(table_gd[2] - gd[2]).max():.3g} on the bowl)")


# %%
L.finish()
