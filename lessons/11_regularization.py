# %% [markdown]
# # Lesson 11: Regularization
#
# Regularization trades a little training error for a lower generalisation error. This lesson takes
# the toolbox of the decks "Tools for your deep learning toolbox – Part III", "Experimental
# methodology for training of (deep) machine learning models", "DI504 Foundations of Deep Learning:
# Deep Training", "Deep Learning Crash Course" and "Deep Learning Training Tips" and checks each tool
# on a deliberately small problem:
#
# - a degree-12 polynomial fitted to 15 points: ridge (L2) in closed form and by gradient descent;
# - weight decay (1 - ηλ)w, SGD's L2 = decay, and why Adam's `weight_decay` is not AdamW;
# - 200 handwritten digits (20 per class) of the bundled 8 × 8 set, trained with `minidl.train.fit`:
#   baseline, L2, weight decay, L1 (and the sparsity it gives), dropout, early stopping, augmentation,
#   an ensemble and test-time augmentation, ending in one table of test accuracy per technique;
# - dropout's two conventions (exact over all 2^n masks for one linear layer);
# - the 6 that becomes a 9 under a 180° rotation;
# - class weighting, over-sampling and under-sampling: the same expected gradient.
#
# Run: `python -m lessons run 11` (add `--quick` for fewer epochs and smaller Monte Carlo samples).

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

from typing import Any, Callable, Iterator, Sequence

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
import minidl.data as data
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim
import minidl.train as train
import minidl.viz as viz
from lessons._lesson import Lesson


def poly_features(x: np.ndarray, degree: int) -> np.ndarray:
    """Design matrix (n, degree + 1) with columns x^0, x^1, ..., x^degree."""
    return np.vander(x, degree + 1, increasing=True)


def ridge(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """argmin_w ||Xw - y||^2 + lam w^T w = (X^T X + lam I)^-1 X^T y (least squares when lam = 0)."""
    if lam == 0:
        return np.linalg.lstsq(X, y, rcond=None)[0]
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)


def ridge_by_gd(X: np.ndarray, y: np.ndarray, lam: float, steps: int) -> np.ndarray:
    """The same minimum found by minidl: autograd of RSS + lam w^T w, SGD with heavy-ball momentum."""
    w = md.zeros(X.shape[1], dtype=md.float64, requires_grad=True)
    Xt, yt = md.tensor(X), md.tensor(y)
    hess_max = 2 * float(np.linalg.eigvalsh(X.T @ X + lam * np.eye(X.shape[1])).max())
    opt = optim.SGD([w], lr=1.0 / hess_max, momentum=0.9)
    for _ in range(steps):
        opt.zero_grad()
        r = Xt @ w - yt
        ((r * r).sum() + lam * (w * w).sum()).backward()
        opt.step()
    return w.numpy()


def mlp(p_drop: float = 0.0, hidden: int = 128) -> nn.Sequential:
    """8 x 8 image -> 64 -> hidden (ReLU) [-> Dropout(p_drop)] -> 10 logits."""
    layers: list[nn.Module] = [nn.Flatten(), nn.Linear(64, hidden), nn.ReLU()]
    if p_drop:
        layers.append(nn.Dropout(p_drop))
    return nn.Sequential(*layers, nn.Linear(hidden, 10))


class Augmented:
    """A loader whose image batches pass through ``transform`` (fresh random draws every epoch)."""

    def __init__(self, loader: data.DataLoader, transform: Callable[[Any], Any]) -> None:
        self.loader, self.transform = loader, transform

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        for xb, yb in self.loader:
            yield self.transform(xb), yb


class FinalWeights(train.Callback):
    """Keeps the weights of the last epoch (listed before EarlyStopping, which then restores the best)."""

    def __init__(self) -> None:
        self.state: dict = {}

    def on_train_end(self, logs: dict | None = None) -> None:
        self.state = dict(self.run.model.state_dict())


def mosaic(images: np.ndarray, gap: int = 1) -> np.ndarray:
    """Images (n, h, w) side by side in one row, separated by ``gap`` blank (nan) columns."""
    n, h, w = images.shape
    out = np.full((h, n * (w + gap) - gap), np.nan)
    for i, img in enumerate(images):
        out[:, i * (w + gap):i * (w + gap) + w] = img
    return out


def seven_segment(digit: int) -> np.ndarray:
    """A 7 x 5 image of a digit on a seven-segment display (segments a-g: top, top right, bottom right,
    bottom, bottom left, top left, middle)."""
    on = {0: "abcdef", 1: "bc", 2: "abged", 3: "abgcd", 4: "fgbc", 5: "afgcd", 6: "afgedc", 7: "abc",
          8: "abcdefg", 9: "abcdfg"}[digit]
    img = np.zeros((7, 5))
    cells: dict[str, tuple[int | slice, int | slice]] = {
        "a": (0, slice(1, 4)), "g": (3, slice(1, 4)), "d": (6, slice(1, 4)),
        "f": (slice(1, 3), 0), "b": (slice(1, 3), 4), "e": (slice(4, 6), 0), "c": (slice(4, 6), 4)}
    for s in on:
        img[cells[s]] = 1.0
    return img


# %%
L = Lesson("11_regularization", "Regularization")
EPOCHS = 30 if L.quick else 40               # the digits runs (batch 50, 4 steps per epoch)
AUG_EPOCHS = 60 if L.quick else 80           # augmented data is harder: it needs more epochs
MEMBERS = 4 if L.quick else 6                # ensemble size
MC_MASKS = 4_000 if L.quick else 40_000      # Monte Carlo dropout masks
rows_acc: list[list[Any]] = []               # the technique table, filled as we go


# %% [markdown]
# ## 1. An overfitting polynomial and ridge regression (REG-1, REG-2)
# Fifteen noisy points of sin(πx), a degree-12 polynomial (13 weights). Least squares nearly
# interpolates the points; ridge, RSS + λwᵀw, solved by (XᵀX + λI)⁻¹Xᵀy, raises the training error
# and lowers the test error. λ is picked on a validation set, never on the test set. ‖w‖ falls
# steadily with λ, and minidl's gradient descent on the same loss lands on the closed form. The
# L1 term λΣ|W| (summed over every parameter, as in the deck's code) has autograd gradient λ·sign(W).

# %%
L.section("1. Degree-12 polynomial on 15 points: least squares against ridge")
degree, noise = 12, 0.2
target = lambda x: np.sin(np.pi * x)  # noqa: E731
x_tr = np.sort(L.rng.uniform(-1, 1, 15))
x_va, x_te = L.rng.uniform(-1, 1, 200), L.rng.uniform(-1, 1, 2000)
y_tr, y_va, y_te = (target(x) + noise * L.rng.standard_normal(len(x)) for x in (x_tr, x_va, x_te))
P_tr, P_va, P_te = (poly_features(x, degree) for x in (x_tr, x_va, x_te))
mse = lambda P, y, w: float(np.mean((P @ w - y) ** 2))  # noqa: E731
lams = np.logspace(-8, 2, 41)
fits = {lam: ridge(P_tr, y_tr, lam) for lam in lams}
w_ls = ridge(P_tr, y_tr, 0.0)
val_err = [mse(P_va, y_va, fits[lam]) for lam in lams]
lam_best = float(lams[int(np.argmin(val_err))])
w_best = fits[lam_best]
norms = np.array([np.linalg.norm(fits[lam]) for lam in lams])
rows: list[list[Any]] = [
    ["least squares (λ = 0)", 0.0, mse(P_tr, y_tr, w_ls), mse(P_te, y_te, w_ls), np.linalg.norm(w_ls)],
    ["ridge, λ from validation", lam_best, mse(P_tr, y_tr, w_best), mse(P_te, y_te, w_best), np.linalg.norm(w_best)]]
L.table("polynomial", ["fit", "λ", "train MSE", "test MSE", "‖w‖"], rows,
        caption=f"Degree-{degree} polynomial, 15 training points, noise σ = {noise} (the noise floor is "
                f"σ² = {noise ** 2:.2g})")
L.claim("REG-1", rows[1][2] >= rows[0][2] and rows[1][3] < rows[0][3],
        "regularisation raises the training error and lowers the test error of an overfitting model",
        train_ls=rows[0][2], train_ridge=rows[1][2], test_ls=rows[0][3], test_ridge=rows[1][3])

lam_gd = 1.0
w_gd = ridge_by_gd(P_tr, y_tr, lam_gd, steps=600 if L.quick else 1500)
gd_err = float(np.max(np.abs(w_gd - ridge(P_tr, y_tr, lam_gd))))
l1_model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
lam_l1 = 0.01
l1_term = lam_l1 * sum((prm.abs().sum() for prm in l1_model.parameters()), md.tensor(0.0))
l1_term.backward()
l1_err = max(float(np.max(np.abs(prm.grad - lam_l1 * np.sign(prm.numpy())))) for prm in l1_model.parameters())
L.claim("REG-2", gd_err < 1e-6 and bool(np.all(np.diff(norms) < 0)) and l1_err < 1e-9,
        "ridge's closed form (XᵀX + λI)⁻¹Xᵀy equals gradient descent's minimum, ‖w‖ falls with every "
        "increase of λ, and the L1 term's gradient is λ·sign(W)",
        closed_form_vs_gd=gd_err, norm_at_1e_8=norms[0], norm_at_100=norms[-1], l1_grad_error=l1_err)

fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
xs = np.linspace(-1, 1, 400)
ax = axes[0]
ax.plot(x_tr, y_tr, "ko", label="15 training points")
ax.plot(xs, target(xs), "k:", label="sin(πx), the truth")
ax.plot(xs, poly_features(xs, degree) @ w_ls, "C3", label="least squares (λ = 0)")
ax.plot(xs, poly_features(xs, degree) @ w_best, "C0", lw=2, label=f"ridge, λ = {lam_best:.2g}")
ax.set(ylim=(-2.5, 2.5), xlabel="x", ylabel="y", title=f"Degree-{degree} fits")
ax.legend(fontsize=9)
ax = axes[1]
ax.loglog(lams, [mse(P_tr, y_tr, fits[lam]) for lam in lams], "o-", ms=3, label="train MSE")
ax.loglog(lams, val_err, "s-", ms=3, label="validation MSE")
ax.loglog(lams, [mse(P_te, y_te, fits[lam]) for lam in lams], "^-", ms=3, label="test MSE")
ax.axvline(lam_best, color="C3", ls=":", label=f"λ picked on validation: {lam_best:.2g}")
ax.set(xlabel="λ", ylabel="mean squared error", title="Error against λ")
ax.legend(fontsize=9)
ax = axes[2]
ax.loglog(lams, norms, "o-", ms=3, color="C2")
ax.set(xlabel="λ", ylabel="‖w‖ (closed form)", title="‖w‖ falls steadily as λ grows")
for a in axes:
    a.grid(alpha=0.3)
fig.tight_layout()
L.figure(fig, "ridge", caption="A degree-12 polynomial with and without L2; errors and ‖w‖ against λ")


# %% [markdown]
# ## 2. Weight decay is L2 for SGD, not for Adam (REG-3, REG-4)
# With L' = L + (λ/2)‖w‖² the gradient is ∂L/∂w + λw, so one SGD step is
# w ← w − η(∂L/∂w + λw) = (1 − ηλ)w − η∂L/∂w: the weights shrink by the factor 1 − ηλ, just below 1.
# We take one step three ways (autograd of the penalised loss, the formula by hand, `SGD(weight_decay=λ)`)
# and then 200 steps: for SGD the penalty and the decay stay identical; for Adam, `weight_decay` adds λw
# to the gradient *before* the moment estimates (it is the L2 penalty), while AdamW multiplies w by
# 1 − ηλ outside them, so their trajectories part.

# %%
L.section("2. Weight decay: (1 - ηλ)w, and Adam against AdamW")
A = L.rng.standard_normal((40, 6)) * np.array([10.0, 3.0, 1.0, 1.0, 0.3, 0.1])  # features on different scales
b = A @ L.rng.standard_normal(6) + 0.1 * L.rng.standard_normal(40)
At, bt = md.tensor(A), md.tensor(b)
w0 = L.rng.standard_normal(6)
eta, lam = 0.002, 0.5


def data_loss(w: md.Tensor) -> md.Tensor:
    r = At @ w - bt
    return (r * r).mean()


def trajectory(kind: str, steps: int) -> np.ndarray:
    """Weights after each of ``steps`` steps; kinds: sgd-penalty, sgd-wd, sgd-by-hand, adam-penalty,
    adam-wd, adamw."""
    w = md.tensor(w0.copy(), requires_grad=True)
    opt = {"sgd-penalty": lambda: optim.SGD([w], lr=eta),
           "sgd-wd": lambda: optim.SGD([w], lr=eta, weight_decay=lam),
           "sgd-by-hand": lambda: optim.SGD([w], lr=eta),
           "adam-penalty": lambda: optim.Adam([w], lr=0.05),
           "adam-wd": lambda: optim.Adam([w], lr=0.05, weight_decay=lam),
           "adamw": lambda: optim.AdamW([w], lr=0.05, weight_decay=lam)}[kind]()
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss = data_loss(w)
        if kind.endswith("penalty"):
            loss = loss + lam / 2 * (w * w).sum()
        loss.backward()
        if kind == "sgd-by-hand":
            with md.no_grad():
                w.data[...] = (1 - eta * lam) * w.data - eta * w.grad   # the slide's final form
        else:
            opt.step()
        out.append(w.numpy().copy())
    return np.array(out)


one = {k: trajectory(k, 1)[0] for k in ("sgd-penalty", "sgd-by-hand", "sgd-wd")}
one_step_err = max(float(np.max(np.abs(one[k] - one["sgd-penalty"]))) for k in one)
L.table("one_step", ["form", *[f"w{i}" for i in range(1, 7)]],
        [[k, *v] for k, v in one.items()] + [["w before the step", *w0]],
        caption=f"One step from the same w, η = {eta}, λ = {lam}: (1 − ηλ) = {1 - eta * lam}", digits=6)
L.claim("REG-3", one_step_err < 1e-12 and 0 < 1 - eta * lam < 1,
        "one SGD step on L + (λ/2)‖w‖² is w ← (1 − ηλ)w − η∂L/∂w (also SGD(weight_decay=λ))",
        max_difference=one_step_err, shrink_factor=1 - eta * lam)

steps = 200
traj = {k: trajectory(k, steps) for k in ("sgd-penalty", "sgd-wd", "sgd-by-hand", "adam-penalty", "adam-wd", "adamw")}
sgd_gap = max(float(np.max(np.abs(traj[k] - traj["sgd-penalty"]))) for k in ("sgd-wd", "sgd-by-hand"))
adam_l2_gap = float(np.max(np.abs(traj["adam-wd"] - traj["adam-penalty"])))
adamw_gap = float(np.max(np.abs(traj["adamw"] - traj["adam-wd"])))
L.table("trajectories", ["pair", "max |w_a - w_b| over 200 steps"],
        [["SGD: penalty vs weight_decay vs by hand", sgd_gap], ["Adam: penalty vs weight_decay", adam_l2_gap],
         ["Adam(weight_decay) vs AdamW", adamw_gap]],
        caption=f"The same 6-weight least-squares problem (features on scales 10 to 0.1), λ = {lam}")
L.claim("REG-4", sgd_gap < 1e-10 and adam_l2_gap < 1e-10 and adamw_gap > 0.05,
        "for SGD the L2 penalty and weight decay give the same trajectory; Adam's weight_decay is the L2 "
        "penalty, and AdamW's decoupled decay gives a different one",
        sgd=sgd_gap, adam_wd_vs_penalty=adam_l2_gap, adam_wd_vs_adamw=adamw_gap)
L.slip("training-tips",
       "the weight-decay derivation's middle step w^t − ∂L/∂w + λw^t (and 'close to 0' for the factor)",
       "w^t − η(∂L/∂w + λw^t) = (1 − ηλ)w^t − η∂L/∂w: η multiplies both terms and λw is subtracted; the factor "
       "1 − ηλ is just below 1 and it is the weight that is pulled toward 0")

fig, axes = plt.subplots(1, 2, figsize=(13, 4.4))
ax = axes[0]
for form, style in (("sgd-penalty", "-"), ("sgd-wd", "--"), ("sgd-by-hand", ":")):
    ax.plot(np.linalg.norm(traj[form], axis=1), style, lw=2.5, label=form)
ax.set(xlabel="step", ylabel="‖w‖", title="SGD: penalty, weight_decay and (1 − ηλ)w coincide")
ax.legend()
ax = axes[1]
for form, style in (("adam-penalty", "-"), ("adam-wd", "--"), ("adamw", "-")):
    ax.plot(np.linalg.norm(traj[form], axis=1), style, lw=2.5, label=form)
ax.set(xlabel="step", ylabel="‖w‖", title="Adam: weight_decay = L2 penalty ≠ AdamW")
ax.legend()
for a in axes:
    a.grid(alpha=0.3)
fig.tight_layout()
L.figure(fig, "weight_decay", caption="Weight norm along the trajectories of the six forms")


# %% [markdown]
# ## 3. A small digits set and its baseline
# 200 training digits (about 20 per class, stratified), 300 validation digits and 1297 test digits, pixels
# scaled to [0, 1]. The network is 64 → 128 (ReLU) → 10, trained with Adam (lr 0.01, batches of 50)
# by `minidl.train.fit`; it reaches 100% training accuracy: a model that overfits. Every later run
# changes one thing and is scored on the same test set. The baseline is trained with an
# `EarlyStopping` callback whose patience is the whole run ("train on and keep the best snapshot"), so
# it gives both the final model (the baseline) and the best one (early stopping, section 6).

# %%
L.section("3. The digits baseline")
X, y = data.load_digits(as_images=True)
X = (X / 16.0).astype(np.float32)
(Xtr, ytr), _train_dev, (Xva, yva), (Xte, yte) = data.train_dev_test_split(X, y, dev=300, test=1297,
                                                                           stratify=True, seed=L.seed)
val_set, test_set, train_clean = ([(md.as_tensor(a), md.as_tensor(t))] for a, t in
                                  ((Xva, yva), (Xte, yte), (Xtr, ytr)))
ce = nn.CrossEntropyLoss()


def scores(model: nn.Module) -> tuple[float, float, float]:
    """(training accuracy on the clean training images, test accuracy, test loss)."""
    tr = train.evaluate(model, train_clean, ce, metrics=("accuracy",))
    te = train.evaluate(model, test_set, ce, metrics=("accuracy",))
    return tr["accuracy"], te["accuracy"], te["loss"]


def run(seed: int = 0, p_drop: float = 0.0, optimizer: str = "adam", wd: float = 0.0, l1: float = 0.0,
        augment: Callable[[Any], Any] | None = None, epochs: int = EPOCHS, validate: bool = False,
        bootstrap: bool = False,
        callbacks: tuple[train.Callback, ...] = ()) -> tuple[nn.Sequential, train.History]:
    """Train one digits model; ``l1`` adds l1 * sum |W| over the weight matrices to the loss; the validation
    loss is computed every epoch only when ``validate`` (early stopping needs it; it costs time);
    ``bootstrap`` trains on 200 digits drawn with replacement from the 200 (bagging)."""
    md.manual_seed(L.seed + seed)
    model = mlp(p_drop)
    Xs, ys = Xtr, ytr
    if bootstrap:
        pick = np.random.default_rng(L.seed + seed).integers(0, len(ytr), len(ytr))
        Xs, ys = Xtr[pick], ytr[pick]
    loader: Any = data.DataLoader(data.TensorDataset(Xs, ys), batch_size=50, shuffle=True, seed=L.seed + seed)
    if augment is not None:
        loader = Augmented(loader, augment)
    weights = [prm for name, prm in model.named_parameters() if name.endswith("weight")]
    loss_fn = ce if not l1 else (lambda out, t: ce(out, t) + l1 * sum((w.abs().sum() for w in weights), md.tensor(0.0)))
    opt_cls = {"adam": optim.Adam, "adamw": optim.AdamW}[optimizer]
    opt = opt_cls(model.parameters(), lr=1e-2, weight_decay=wd)
    history = train.fit(model, loss_fn, opt, loader, epochs=epochs, val_loader=val_set if validate else None, verbose=0,
                        callbacks=list(callbacks))
    return model, history


final_keeper, keep_best = FinalWeights(), train.EarlyStopping(patience=EPOCHS, restore_best_weights=True)
best_model, base_hist = run(validate=True, callbacks=(final_keeper, keep_best))   # now holds the best epoch's weights
base_model = mlp()
base_model.load_state_dict(final_keeper.state)                       # the last epoch's weights
base = scores(base_model)
rows_acc.append(["baseline (last epoch)", *base])
L.note(f"Baseline: training accuracy {base[0]:.3f}, test accuracy {base[1]:.4f}: a gap of {base[0] - base[1]:.3f} "
       f"on {len(ytr)} training digits.")


# %% [markdown]
# ## 4. L2, weight decay and L1 on the digits; the sparsity of L1 (REG-2)
# L2 as Adam's `weight_decay` (= the penalty added to the gradient), decoupled decay with AdamW,
# and L1 as λΣ|W| added to the loss. L1's gradient λ·sign(W) pushes every weight toward 0 at the same
# rate, so weights the data does not defend end at (about) zero: the digits' always-blank border
# pixels lose their weights entirely, while the baseline keeps their random initial values (they get
# no gradient at all). The figure shows the first layer's weights as 8 × 8 images.

# %%
L.section("4. L2, weight decay and L1 on the digits")
l2_model, _ = run(wd=1e-2)
rows_acc.append(["L2 (Adam weight_decay = 0.01)", *scores(l2_model)])
wd_model, _ = run(optimizer="adamw", wd=1.0)
rows_acc.append(["weight decay (AdamW, 1.0)", *scores(wd_model)])
l1_digits, _ = run(l1=1e-3)
rows_acc.append(["L1 (λ = 0.001 · Σ|W|)", *scores(l1_digits)])
W_base, W_l2, W_l1 = (m[1].weight.numpy() for m in (base_model, l2_model, l1_digits))   # (128, 64)
small = 1e-2
sparsity = {name: float(np.mean(np.abs(W) < small)) for name, W in (("baseline", W_base), ("L2", W_l2), ("L1", W_l1))}
L.table("sparsity", ["model", f"share of first-layer weights with |w| < {small}", "mean |w|"],
        [[k, v, float(np.mean(np.abs(W)))] for (k, v), W in zip(sparsity.items(), (W_base, W_l2, W_l1))],
        caption="L1 gives sparse weights; L2 only shrinks them")
L.claim("REG-2", sparsity["L1"] > 2 * sparsity["baseline"] and sparsity["L1"] > sparsity["L2"],
        "trained with an L1 term (gradient λ·sign(W)), the network's first-layer weights are sparse",
        share_small_l1=sparsity["L1"], share_small_l2=sparsity["L2"], share_small_baseline=sparsity["baseline"])

units = np.argsort(-np.abs(W_base).sum(axis=1))[:8]          # the baseline's 8 strongest hidden units
fig, axes = plt.subplots(1, 2, figsize=(15, 5.6), gridspec_kw={"width_ratios": [1.5, 1]})
ax = axes[0]
vmax = float(np.abs(W_base[units]).max())
rows_img = [mosaic(W[units].reshape(-1, 8, 8)) for W in (W_base, W_l2, W_l1)]
im = ax.imshow(np.concatenate([np.pad(r, ((1, 1), (0, 0)), constant_values=np.nan) for r in rows_img]),
               cmap="RdBu_r", vmin=-vmax, vmax=vmax)
ax.set_yticks([5 + 11 * i for i in range(3)], ["baseline", "L2", "L1"], fontsize=12)
ax.set_xticks([4 + 9 * i for i in range(len(units))], [str(u) for u in units])
ax.set(xlabel="hidden unit", title="First-layer weights of 8 hidden units, each as an 8 × 8 image")
fig.colorbar(im, ax=ax, shrink=0.7, label="weight")
ax = axes[1]
edge = float(np.abs(np.concatenate([W_base, W_l2, W_l1])).max())
bins = np.linspace(-edge, edge, 81)
for name, W in (("baseline", W_base), ("L2", W_l2), ("L1", W_l1)):
    ax.hist(W.ravel(), bins=bins, histtype="step", lw=2, label=f"{name}: {sparsity[name]:.0%} with |w| < {small}")
ax.set_yscale("log")
ax.set(xlabel="first-layer weight", ylabel="count (log scale)", title="All 128 × 64 first-layer weights")
ax.legend(fontsize=10)
ax.grid(alpha=0.3)
fig.tight_layout()
L.figure(fig, "l1_weights", caption="First-layer weights (image per unit) and their histograms, baseline / L2 / L1")


# %% [markdown]
# ## 5. Dropout in both conventions (REG-5, REG-6)
# Dropout zeroes each unit with probability p (0.5). The deck's convention trains with the plain mask
# and multiplies the outgoing weights by (1 − p) at test time; `nn.Dropout` uses *inverted* dropout,
# scaling the kept units by 1/(1 − p) in training and doing nothing at test time. For one linear
# layer, W(m ⊙ x) averaged over all 2^n masks is exactly (1 − p)Wx: we enumerate all 2^12 masks, and a
# Monte Carlo average over random masks converges at the rate 1/√M. After a non-linearity, the
# weight-scaled network only approximates the average over the 2^n sub-networks. Both conventions have
# the same expectation, up to the fixed factor 1/(1 − p) for the same weights.

# %%
L.section("5. Dropout: scaling at test vs inverted dropout")
p = 0.5
drop = nn.Dropout(p)
ones = md.ones(100_000)
dropped = drop(ones).numpy()
zero_share = float(np.mean(dropped == 0))
kept_value = float(dropped[dropped != 0].mean())
n_in = 12
x_in = L.rng.standard_normal(n_in)
W1, W2 = L.rng.standard_normal((16, n_in)), L.rng.standard_normal((4, 16))
masks = ((np.arange(2 ** n_in)[:, None] >> np.arange(n_in)) & 1).astype(float)   # all 2^12 masks, each p = 0.5
prob = np.prod(np.where(masks == 1, 1 - p, p), axis=1)                         # 2^-12 each for p = 0.5
exact_linear = (prob[:, None] * ((masks * x_in) @ W1.T)).sum(axis=0)
scaled_linear = ((1 - p) * W1) @ x_in
linear_err = float(np.max(np.abs(exact_linear - scaled_linear)))
relu = lambda z: np.maximum(z, 0)  # noqa: E731
exact_mlp = (prob[:, None] * (relu((masks * x_in) @ W1.T) @ W2.T)).sum(axis=0)
scaled_mlp = W2 @ relu(((1 - p) * W1) @ x_in)
mlp_gap = float(np.max(np.abs(exact_mlp - scaled_mlp)) / np.max(np.abs(exact_mlp)))

xt = md.tensor(np.tile(x_in, (MC_MASKS, 1)))
lin = nn.Linear(n_in, 16, bias=False).double()
with md.no_grad():
    lin.weight.data[...] = W1
    out_scale = lin(F.dropout(xt, p, training=True, mode="scale_at_test")).numpy()  # plain mask in training
    out_inv = lin(drop(xt)).numpy()                                                 # nn.Dropout: inverted
    drop.eval()
    test_inv = lin(drop(md.tensor(x_in[None]))).numpy()[0]                         # nothing at test time
    test_scale = lin(F.dropout(md.tensor(x_in[None]), p, training=False, mode="scale_at_test")).numpy()[0]
    drop.train()
Ms = np.unique(np.logspace(1, np.log10(MC_MASKS), 12).astype(int))
mc_err = [float(np.max(np.abs(out_scale[:m].mean(axis=0) - scaled_linear))) for m in Ms]
sd = out_scale.std(axis=0).max()
mc_inv_err = float(np.max(np.abs(out_inv.mean(axis=0) - test_inv)))
rows = [["zero share of nn.Dropout(0.5) on 100 000 ones", zero_share],
        ["value of the kept units (inverted: 1/(1 − p))", kept_value],
        ["linear layer: |mean over all 2^12 masks − (1 − p)Wx|", linear_err],
        [f"linear layer: |Monte Carlo mean over {MC_MASKS} masks − (1 − p)Wx|", mc_err[-1]],
        ["ReLU + linear: |mean over masks − weight-scaled net| / max", mlp_gap],
        ["inverted: |Monte Carlo mean in training − test output|", mc_inv_err],
        ["test output, inverted / scale-at-test (for the same W)", float(np.mean(test_inv / test_scale))]]
L.table("dropout", ["quantity", "value"], rows, caption="Dropout with p = 0.5", digits=4)
mc_ok = mc_err[-1] < 5 * sd / np.sqrt(MC_MASKS) and mc_inv_err < 10 * sd / np.sqrt(MC_MASKS)
L.claim("REG-5", abs(zero_share - p) < 0.01 and linear_err < 1e-12 and mc_ok and mlp_gap > 1e-3,
        "dropout zeroes a share p of the units; scaling the weights by (1 − p) gives exactly the mask average of "
        "one linear layer, and only an approximation after a ReLU",
        zero_share=zero_share, exact_error=linear_err, monte_carlo_error=mc_err[-1], relu_gap=mlp_gap)
L.claim("REG-6", abs(kept_value - 1 / (1 - p)) < 1e-6 and mc_ok
        and float(np.max(np.abs(test_inv - test_scale / (1 - p)))) < 1e-12,
        "inverted dropout (nn.Dropout) has the same expectation as weight scaling: each convention's test output "
        "is its training mean, and the two differ by the fixed factor 1/(1 − p)",
        kept_value=kept_value, inverted_mc_error=mc_inv_err)
L.slip("toolbox", "weight scaling by (1 − p) at test time, next to nn.Dropout(0.5) as its implementation",
       "nn.Dropout is inverted dropout (×1/(1 − p) in training, nothing at test); use one convention, not both, "
       "or the test outputs are off by the factor 1 − p")
L.slip("methodology", "dropout is 'randomly turning off connections'",
       "dropout turns off units (nodes), all of a unit's outgoing connections at once: W(m ⊙ x) = (W · diag m)x "
       "zeroes whole columns of W; dropping single connections is DropConnect")

dropout_model, _ = run(p_drop=0.5)
rows_acc.append(["dropout (p = 0.5, nn.Dropout)", *scores(dropout_model)])

fig, axes = plt.subplots(1, 2, figsize=(13, 4.4))
ax = axes[0]
ax.loglog(Ms, mc_err, "o-", label="|Monte Carlo mean − (1 − p)Wx| (max over outputs)")
ax.loglog(Ms, sd / np.sqrt(Ms), "k--", label="σ/√M")
ax.axhline(max(linear_err, 1e-16), color="C2", label="all 2^12 masks, exact: ≈ 1e-16")
ax.set(xlabel="number of masks M", ylabel="error", title="One linear layer: mask average = weight scaling")
ax.legend(fontsize=9)
ax = axes[1]
idx = np.arange(4)
ax.bar(idx - 0.2, exact_mlp, 0.4, label="average over all 2^12 sub-networks")
ax.bar(idx + 0.2, scaled_mlp, 0.4, label="weight-scaled network")
ax.set(xticks=idx, xlabel="output unit", ylabel="output",
       title=f"After a ReLU: an approximation (gap {mlp_gap:.0%} of the largest)")
ax.legend(fontsize=9)
for a in axes:
    a.grid(alpha=0.3)
fig.tight_layout()
L.figure(fig, "dropout_expectation", caption="Dropout's expectation: exact for a linear layer, approximate after ReLU")


# %% [markdown]
# ## 6. Early stopping (REG-7)
# The baseline's validation loss falls, then turns up while the training loss goes on falling. Early
# stopping either stops when the validation loss has not improved for `patience` epochs, or trains on
# and keeps the snapshot with the best validation loss (`EarlyStopping(restore_best_weights=True)`). The
# best snapshot's validation loss is never above the final one's.

# %%
L.section("6. Early stopping")
best_epoch, best_val = base_hist.best("val_loss")
final_val = base_hist["val_loss"][-1]
restored_val = train.evaluate(best_model, val_set, ce)["loss"]
stopper = train.EarlyStopping(patience=10, restore_best_weights=True)
stopped_model, stopped_hist = run(validate=True, callbacks=(stopper,))
rows_acc.append([f"early stopping (best of {EPOCHS} epochs)", *scores(best_model)])
rows_acc.append(["early stopping (patience 10)", *scores(stopped_model)])
L.table("early_stopping", ["run", "epochs run", "best epoch", "val loss kept", "final val loss"],
        [["train on, keep the best", base_hist.epochs, best_epoch + 1, restored_val, final_val],
         ["patience 10", stopped_hist.epochs, stopper.best_epoch + 1,
          train.evaluate(stopped_model, val_set, ce)["loss"], stopped_hist["val_loss"][-1]]],
        caption="Early stopping on the digits baseline (epochs counted from 1)")
L.claim("REG-7", abs(restored_val - best_val) < 1e-6 and best_val <= final_val and stopped_hist.epochs < EPOCHS,
        "early stopping keeps the snapshot with the best validation loss (<= the final one's), or stops once it "
        "has not improved for `patience` epochs",
        best_epoch=best_epoch + 1, best_val_loss=best_val, final_val_loss=final_val,
        patience_run_stopped_after=stopped_hist.epochs)
fig = viz.plot_history(base_hist, metrics=["accuracy"], lr=False, title="Digits baseline (200 training digits)")
fig.axes[0].set_yscale("log")
for a in fig.axes[:2]:
    a.axvline(stopped_hist.epochs, color="C4", ls="--", lw=1.5)
    a.text(stopped_hist.epochs - 0.4, 0.5, "patience 10 stops here", color="C4", fontsize=10, rotation=90,
           ha="right", va="center", transform=a.get_xaxis_transform())
L.figure(fig, "early_stopping",
         caption="Learning curves of the baseline, the best epoch marked, where patience 10 stops")


# %% [markdown]
# ## 7. Augmentation narrows the gap; a 6 turned by 180° is a 9 (REG-10, REG-11)
# Each training batch passes through `minidl.data.RandomAffine` (rotations up to 10°, shifts up to
# 10% of the image, bilinear), drawn afresh every epoch: the network never sees the same image
# twice. Augmentation must keep the label: on a seven-segment display, turning a 6 by 180° gives
# exactly a 9, so 180° rotations are not a valid augmentation for digits; the trained network agrees,
# reading handwritten 6s turned by 180° as 9s.

# %%
L.section("7. Augmentation on digits as images")
augment = data.RandomAffine(degrees=10, translate=(0.1, 0.1), interpolation="bilinear")
aug_model, aug_hist = run(augment=augment, epochs=AUG_EPOCHS)
aug = scores(aug_model)
rows_acc.append([f"augmentation (RandomAffine, {AUG_EPOCHS} epochs)", *aug])
base_long, _ = run(epochs=AUG_EPOCHS)
bl = scores(base_long)
gap_base, gap_aug = bl[0] - bl[1], aug[0] - aug[1]
L.table("augmentation", ["run", "train accuracy", "test accuracy", "gap", "test loss"],
        [[f"no augmentation, {AUG_EPOCHS} epochs", bl[0], bl[1], gap_base, bl[2]],
         [f"RandomAffine, {AUG_EPOCHS} epochs", aug[0], aug[1], gap_aug, aug[2]]],
        caption="The same network and epochs, with and without augmented batches")
L.claim("REG-10", gap_aug < gap_base,
        "augmentation narrows the train/test gap on a small training set",
        gap_without=gap_base, gap_with=gap_aug, test_without=bl[1], test_with=aug[1])

turn = data.RandomRotation(degrees=(180, 180))
glyphs = np.stack([seven_segment(d) for d in range(10)])[:, None]               # (10, 1, 7, 5)
turned = turn(glyphs)
maps_to = {d: [e for e in range(10) if np.array_equal(turned[d, 0], glyphs[e, 0])] for d in range(10)}
sixes = Xte[yte == 6]
pred_turned = train.predict(aug_model, md.as_tensor(turn(sixes))).numpy().argmax(axis=1)
share_9 = float(np.mean(pred_turned == 9))
L.note("Seven-segment digits turned by 180°: " + ", ".join(f"{d} → {m[0] if m else '(no digit)'}"
                                                             for d, m in maps_to.items()) + ".")
L.note(f"The augmented network reads {share_9:.0%} of the {len(sixes)} test 6s turned by 180° as a 9 "
       f"(and {np.mean(pred_turned == 6):.0%} as a 6).")
L.claim("REG-11", maps_to[6] == [9] and maps_to[9] == [6] and share_9 > 0.5,
        "a 6 turned by 180° is a 9 (seven-segment glyphs, turned with data.RandomRotation((180, 180))); a trained "
        "network reads most handwritten 6s turned by 180° as 9s",
        six_becomes=maps_to[6], real_sixes_read_as_9=share_9)

fig, axes = plt.subplots(2, 1, figsize=(12, 4.2))
for ax, imgs, what in ((axes[0], glyphs, "digits 0-9"), (axes[1], turned, "each turned by 180°")):
    ax.imshow(mosaic(imgs[:, 0], gap=2), cmap="Greys", vmin=0, vmax=1)
    ax.set_xticks([2 + 7 * d for d in range(10)],
                  [str(d) if imgs is glyphs else (f"= {maps_to[d][0]}" if maps_to[d] else "none") for d in range(10)],
                  fontsize=12)
    ax.set_yticks([])
    ax.set_title(what, fontsize=12)
lost = ", ".join(str(d) for d, m in maps_to.items() if not m)
axes[1].set_xlabel(f"the digit it reads as (6 and 9 swap; {lost} turn into no digit)")
fig.suptitle("Seven-segment digits turned by 180°: the 6 becomes a 9", fontsize=13)
fig.tight_layout()
L.figure(fig, "six_becomes_nine", caption="A label-changing augmentation: 6 and 9 swap under a 180° turn")

sample = md.as_tensor(Xtr[:10])
fig, ax = plt.subplots(figsize=(12, 3.4))
ax.imshow(np.concatenate([mosaic(sample.numpy()[:, 0]), np.full((1, 89), np.nan),
                          mosaic(augment(sample).numpy()[:, 0])]), cmap="gray_r")
ax.set_yticks([4, 13], ["training digit", "RandomAffine"], fontsize=11)
ax.set_xticks([4 + 9 * i for i in range(10)], [str(t) for t in ytr[:10]], fontsize=11)
ax.set(xlabel="label", title="Ten training digits (top) and one draw of the augmentation (bottom)")
L.figure(fig, "augmented_digits", caption="Ten training digits and their augmented copies")


# %% [markdown]
# ## 8. Ensembles and test-time augmentation (REG-8, REG-9)
# An ensemble averages the class probabilities of independently trained models and takes the argmax
# (or takes a majority vote: 9 models voting 6 to 3 pick class 0, "dog"). We build two: copies of the
# baseline that differ only in their initial weights and batch order, and a bagged ensemble whose
# members are each trained on a bootstrap sample of the 200 digits (drawn with replacement), which
# makes them more different from each other. The averaged probabilities always have a test
# cross-entropy no larger than the members' mean (−log is convex); the accuracy is what we measure.
# Test-time augmentation averages the predictions over augmented copies of a test image; with
# {x, flip(x)} the prediction is exactly the same for an image and its mirror image
# (`minidl.data.tta_predict`).

# %%
L.section("8. Ensembles and test-time augmentation")
xte_t = md.as_tensor(Xte)
seed_members = [base_model] + [run(seed=k)[0] for k in range(1, MEMBERS)]
bag_members = [run(seed=100 + k, bootstrap=True)[0] for k in range(MEMBERS)]


def ensemble_scores(members: Sequence[nn.Module]) -> dict[str, Any]:
    """Member and ensemble test accuracy and cross-entropy (mean probabilities, and majority vote)."""
    probs = np.stack([train.predict(m, xte_t).softmax(-1).numpy() for m in members])          # (K, N, 10)
    nll = lambda pr: float(-np.mean(np.log(pr[np.arange(len(yte)), yte] + 1e-12)))  # noqa: E731
    votes = probs.argmax(2)                                                                   # (K, N)
    return {"member_acc": [float(np.mean(v == yte)) for v in votes],
            "member_nll": [nll(pk) for pk in probs],
            "acc": float(np.mean(probs.mean(0).argmax(1) == yte)), "nll": nll(probs.mean(0)),
            "vote_acc": float(np.mean(np.array([np.bincount(v, minlength=10).argmax() for v in votes.T]) == yte))}


ens = {"same data, different seeds": ensemble_scores(seed_members),
       "bagging (bootstrap samples)": ensemble_scores(bag_members)}
rows = []
for name, e in ens.items():
    rows.append([name, float(np.mean(e["member_acc"])), max(e["member_acc"]), e["acc"], e["vote_acc"],
                 e["acc"] - float(np.mean(e["member_acc"])), float(np.mean(e["member_nll"])), e["nll"]])
L.table("ensemble", ["ensemble", "mean member acc.", "best member", "ensemble acc. (mean prob.)", "majority vote",
                     "gain over mean member", "mean member test CE", "ensemble test CE"], rows,
        caption=f"Two ensembles of {MEMBERS} networks, scored on the 1297 test digits", digits=4)
bag, same = ens["bagging (bootstrap samples)"], ens["same data, different seeds"]
rows_acc.append([f"ensemble of {MEMBERS} seeds (mean probabilities)", float("nan"), same["acc"], float("nan")])
rows_acc.append([f"bagged ensemble of {MEMBERS} (mean probabilities)", float("nan"), bag["acc"], float("nan")])
deck_votes = np.array([0] * 6 + [1] * 3)                                  # 9 models: 6 say "dog", 3 say "cat"
deck_counts = np.bincount(deck_votes, minlength=2)
L.claim("REG-8", 1 - bag["acc"] <= 1 - float(np.mean(bag["member_acc"])) and int(deck_counts.argmax()) == 0
        and list(deck_counts) == [6, 3] and all(e["nll"] <= float(np.mean(e["member_nll"])) for e in ens.values()),
        "the bagged ensemble's test error is at most its mean member error (and every ensemble's test CE at most "
        "the members' mean); 9 votes [6, 3] pick class 0",
        bagged_error=1 - bag["acc"], bagged_mean_member_error=1 - float(np.mean(bag["member_acc"])),
        seeds_gain=same["acc"] - float(np.mean(same["member_acc"])), vote=deck_counts.tolist())
L.note(f"The decks promise about 2% extra from an ensemble. Measured here: {MEMBERS} seeds of the same network on "
       f"the same 200 digits add {100 * (same['acc'] - np.mean(same['member_acc'])):+.1f} points over their mean "
       f"member (they make the same mistakes); bagging adds {100 * (bag['acc'] - np.mean(bag['member_acc'])):+.1f} "
       f"points over its own (weaker) members, {100 * (bag['acc'] - base[1]):+.1f} against the plain baseline.")

flip = data.RandomHorizontalFlip(p=1.0)
tta: list[Callable[[Any], Any]] = [lambda t: t, flip]
tta_x = data.tta_predict(base_model, xte_t, tta).numpy()
tta_flipped = data.tta_predict(base_model, flip(xte_t), tta).numpy()
tta_diff = float(np.max(np.abs(tta_x - tta_flipped)))
plain_diff = float(np.max(np.abs(train.predict(base_model, xte_t).softmax(-1).numpy()
                                 - train.predict(base_model, flip(xte_t)).softmax(-1).numpy())))
tta_flip_acc = float(np.mean(tta_x.argmax(1) == yte))
shifts: list[Callable[[Any], Any]] = [lambda t: t] + [
    data.RandomAffine(degrees=10, translate=(0.1, 0.1), interpolation="bilinear", seed=L.seed + s)
    for s in range(1, 8)]
tta_shift_acc = float(np.mean(data.tta_predict(aug_model, xte_t, shifts).numpy().argmax(1) == yte))
rows_acc.append(["augmentation + TTA (8 RandomAffine copies)", float("nan"), tta_shift_acc, float("nan")])
L.table("tta", ["prediction", "test accuracy", "max |p(x) − p(flip x)|"],
        [["baseline", base[1], plain_diff], ["baseline, TTA over {x, flip x}", tta_flip_acc, tta_diff],
         ["augmented model", aug[1], "-"],
         ["augmented model, TTA over x and 7 RandomAffine draws", tta_shift_acc, "-"]],
        caption="Test-time augmentation", digits=4)
L.claim("REG-9", tta_diff == 0.0 and plain_diff > 1e-3,
        "TTA over {x, flip(x)} predicts exactly the same for an image and its mirror image",
        tta_difference=tta_diff, without_tta=plain_diff)
L.note("Digits are not mirror-symmetric, so the flip is a bad augmentation for them: TTA over flips changes the "
       f"test accuracy from {base[1]:.4f} to {tta_flip_acc:.4f}. The exact invariance is what it buys.")


# %% [markdown]
# ## 9. Class weights, over-sampling and under-sampling (REG-12)
# An imbalanced two-class problem: 180 digits "3" against 20 digits "8" (k = 9), a logistic-regression
# layer. The gradient of the cross-entropy weighted by k for the minority class equals the gradient with
# each minority sample repeated k times, and the expected gradient of random over-sampling
# (`data.oversample`, which brings the minority up to the majority's count) or of `WeightedRandomSampler`.
# Under-sampling the majority (`data.undersample`) is the mirror image: its expected gradient is that of
# the loss weighted by 1/k for the majority class, which after the mean's normalisation is the same.

# %%
L.section("9. Imbalance: weighted loss against resampling")
Xall, yall = data.load_digits()
X3, X8 = Xall[yall == 3][:180] / 16, Xall[yall == 8][:20] / 16
Xi = np.concatenate([X3, X8]).astype(np.float64)
yi = np.concatenate([np.zeros(180), np.ones(20)]).astype(np.int64)
k = 9
md.manual_seed(L.seed)
clf = nn.Linear(64, 2).double()


def gradient(Xb: np.ndarray, yb: np.ndarray, weight: list[float] | None = None) -> np.ndarray:
    """d(mean cross-entropy)/d(weights, bias) of ``clf`` on a batch, flattened."""
    clf.zero_grad()
    loss_fn = nn.CrossEntropyLoss(weight=None if weight is None else md.tensor(weight, dtype=md.float64))
    loss_fn(clf(md.tensor(Xb)), md.tensor(yb)).backward()
    return np.concatenate([prm.grad.ravel() for prm in clf.parameters()])


g_weighted = gradient(Xi, yi, [1.0, float(k)])
g_mirror = gradient(Xi, yi, [1.0 / k, 1.0])
g_plain = gradient(Xi, yi)
dup = np.concatenate([np.arange(180)] + [np.arange(180, 200)] * k)
g_dup = gradient(Xi[dup], yi[dup])
draws = 60 if L.quick else 300
g_over = np.mean([gradient(*data.oversample(Xi, yi, seed=s)) for s in range(draws)], axis=0)
g_under = np.mean([gradient(*data.undersample(Xi, yi, seed=s)) for s in range(draws)], axis=0)
sampler = data.WeightedRandomSampler(np.where(yi == 1, float(k), 1.0), num_samples=draws * 200, seed=L.seed)
picked = np.fromiter(iter(sampler), dtype=np.int64)
g_sampler = gradient(Xi[picked], yi[picked])
scale = float(np.linalg.norm(g_weighted))
rel = lambda g: float(np.linalg.norm(g - g_weighted) / scale)  # noqa: E731
rows = [["weighted CE, weight k = 9 on the 8s", 0.0], ["weighted CE, weight 1/k on the 3s (the mirror)", rel(g_mirror)],
        ["each 8 repeated k times, plain CE", rel(g_dup)],
        [f"data.oversample, mean over {draws} draws", rel(g_over)],
        [f"WeightedRandomSampler, {draws * 200} draws", rel(g_sampler)],
        [f"data.undersample, mean over {draws} draws", rel(g_under)],
        ["plain CE on the imbalanced data (for scale)", rel(g_plain)]]
L.table("imbalance", ["gradient", "‖g − g_weighted‖ / ‖g_weighted‖"], rows,
        caption="180 threes against 20 eights: the gradient of one logistic-regression layer", digits=3)
resampled_ok = max(rel(g_over), rel(g_under), rel(g_sampler)) < 0.25 * rel(g_plain)
L.claim("REG-12", rel(g_dup) < 1e-12 and rel(g_mirror) < 1e-12 and resampled_ok,
        "weighting the minority's loss by k, repeating it k times and over-sampling it give the same (expected) "
        "gradient; under-sampling the majority gives it too (the mirror image)",
        repeat=rel(g_dup), mirror=rel(g_mirror), oversample=rel(g_over), undersample=rel(g_under),
        sampler=rel(g_sampler), plain=rel(g_plain))


# %% [markdown]
# ## 10. One table: test accuracy per technique
# Every row is one change to the baseline, scored on the same 1297 test digits (the standard error
# of one accuracy near 0.93 is about 0.007, so differences below about 1.5 points are within noise).

# %%
L.section("10. Test accuracy per technique")
table_rows = [[name, "-" if np.isnan(tr) else tr, te, te - base[1], "-" if np.isnan(tr) else tr - te]
              for name, tr, te, *_ in rows_acc]
L.table("techniques", ["technique", "train accuracy", "test accuracy", "test − baseline", "gap"], table_rows,
        caption="200 training digits, network 64-128-10, Adam; test on 1297 digits", digits=4)
se = float(np.sqrt(base[1] * (1 - base[1]) / len(yte)))
L.note(f"Standard error of one test accuracy: {se:.4f}.")

fig, ax = plt.subplots(figsize=(11, 5.2))
names = [r[0] for r in table_rows]
accs = [r[2] for r in table_rows]
ax.barh(names, accs, color=["0.5"] + ["C0"] * (len(names) - 1), xerr=se, capsize=3)
ax.axvline(base[1], color="k", ls=":", label=f"baseline {base[1]:.3f}")
for i, a in enumerate(accs):
    ax.text(a + se + 0.001, i, f"{a:.3f}", va="center", fontsize=10)
ax.set_xlim(min(accs) - 0.03, max(accs) + 0.03)
ax.invert_yaxis()
ax.set(xlabel="test accuracy (± one standard error)", title="Regularisation on 200 training digits")
ax.legend(loc="upper right")
ax.grid(axis="x", alpha=0.3)
fig.tight_layout()
L.figure(fig, "techniques", caption="Test accuracy per technique")


# %%
L.finish()
