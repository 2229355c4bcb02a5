# %% [markdown]
# # Lesson 10: Learning curves and what they say
#
# The "DI504 Foundations of Deep Learning: Deep Training" deck shows seven shapes of the training and
# validation loss curves and names what each means; the "Deep Learning Crash Course" adds what to do
# about each, and how the learning rate shows in the loss. Here every shape comes from a real
# training run (`minidl.train.fit` on the bundled digits or small synthetic data), and
# `minidl.diagnostics.learning_curve_diagnosis` has to name it. Then the learning rate: too low, too
# high and good, with the stability limit eta < 2/lambda_max checked on a quadratic; the causes of an
# accuracy plateau; and the accuracy dip of a one-cycle schedule.
#
# Run: `python -m lessons run 10` (or `python lessons/10_learning_curves.py --quick --out /tmp/l10`).

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

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
import minidl.data as data
import minidl.nn as nn
import minidl.optim as optim
from lessons._lesson import Lesson
from minidl import diagnostics, train


def loader(X: Any, y: Any, batch_size: int = 32, shuffle: bool = True, seed: int = 0) -> data.DataLoader:
    return data.DataLoader(data.TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle, seed=seed)


def mlp(sizes: list[int], dropout: float = 0.0, input_dropout: float = 0.0) -> nn.Sequential:
    """Linear layers of the given widths with ReLU between them (and Dropout after each ReLU)."""
    layers: list[nn.Module] = [nn.Dropout(input_dropout)] if input_dropout else []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class FreshValidation(train.Callback):
    """After every epoch, the loss on ``n`` samples drawn afresh from a held-out pool, for each ``n``:
    a validation set too small to be representative, as when a script validates on one random batch."""

    def __init__(self, X: Any, y: Any, sizes: list[int], seed: int) -> None:
        ds = data.TensorDataset(X, y)
        self.loaders = {n: data.DataLoader(ds, batch_size=n, sampler=data.RandomSampler(
            ds, replacement=True, num_samples=n, seed=seed + n)) for n in sizes}
        self.pool = data.DataLoader(ds, batch_size=len(ds))
        self.losses: dict[int, list[float]] = {n: [] for n in sizes}
        self.pool_losses: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for n, ld in self.loaders.items():
            self.losses[n].append(train.evaluate(self.run.model, ld, nn.CrossEntropyLoss(), metrics=())["loss"])
        self.pool_losses.append(train.evaluate(self.run.model, self.pool, nn.CrossEntropyLoss(), metrics=())["loss"])

    def noise(self, n: int) -> float:
        """Std over the epochs of (loss on n fresh samples) - (loss on the whole pool): the sampling noise."""
        return float(np.std(np.array(self.losses[n]) - np.array(self.pool_losses)))


class BatchLosses(train.Callback):
    """The loss of every training step (fit's history keeps only the epoch means)."""

    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.losses.append(float((logs or {})["loss"]))


def run(model: nn.Module, opt: optim.Optimizer, train_loader: Any, val_loader: Any, epochs: int,
        **kw: Any) -> train.History:
    return train.fit(model, nn.CrossEntropyLoss(), opt, train_loader, epochs=epochs, val_loader=val_loader,
                     verbose=0, **kw)


# %%
L = Lesson("10_learning_curves", "Learning curves and what they say")
X, y = data.load_digits()
X = (X / 16.0).astype(np.float32)
order = L.rng.permutation(len(y))
X, y = X[order], y[order]
X_pool, y_pool = X[1000:], y[1000:]             # 797 held-out digits
val = loader(X_pool[:500], y_pool[:500], 500, shuffle=False)
n_sweep = [10, 40, 160] if L.quick else [10, 40, 160, 640]


# %% [markdown]
# ## 1. Seven runs, one per regime of the learning-curve slides
#
# | regime | run |
# |---|---|
# | underfit: flat and high | a linear model on XOR data (it cannot do better than chance) |
# | underfit, still improving | a digits MLP, plain SGD (lr 0.1, batches of 100), stopped after 12 epochs |
# | overfit | 100 training digits, a 128-unit MLP, Adam at 0.03 for 60 epochs |
# | unrepresentative training set | 60 training digits against 500 validation digits, weight decay |
# | unrepresentative validation set | two moons (noise 0.3), a 32-unit MLP, 10 validation points drawn anew each epoch |
# | validation below training | dropout 0.2 on the inputs and 0.5 on the hidden units |
# | good fit | 1000 training digits, a 64-unit MLP, Adam at 3e-3, 30 epochs |

# %%
L.section("1. Seven runs, one per regime")
runs: dict[str, dict[str, Any]] = {}

md.manual_seed(L.seed)
Xx, yx = data.make_xor(800, seed=L.seed)
m: nn.Module = nn.Linear(2, 2)
runs["underfit"] = {"title": "Underfitting: flat and high", "run": "linear model on XOR",
                    "h": run(m, optim.SGD(m.parameters(), lr=0.1), loader(Xx[:500], yx[:500]),
                             loader(Xx[500:], yx[500:], 300, shuffle=False), 30)}

md.manual_seed(L.seed)
m = mlp([64, 64, 10])
runs["underfit_still_improving"] = {"title": "Underfitting: still improving", "run": "MLP, SGD lr 0.1, 12 epochs",
                                    "h": run(m, optim.SGD(m.parameters(), lr=0.1), loader(X[:1000], y[:1000], 100),
                                             val, 12)}

md.manual_seed(L.seed)
m = mlp([64, 128, 10])
runs["overfit"] = {"title": "Overfitting", "run": "100 digits, 128 units, Adam 0.03",
                   "h": run(m, optim.Adam(m.parameters(), lr=0.03), loader(X[:100], y[:100], 50), val, 60)}

md.manual_seed(L.seed)
m = mlp([64, 32, 10])
runs["unrepresentative_train"] = {"title": "Unrepresentative training set", "run": "60 digits, weight decay 0.01",
                                  "h": run(m, optim.Adam(m.parameters(), lr=3e-3, weight_decay=1e-2),
                                           loader(X[:60], y[:60], 20), val, 80)}

md.manual_seed(L.seed)
m = mlp([64, 128, 10], dropout=0.5, input_dropout=0.2)
dropout_model = m
runs["validation_below_train"] = {"title": "Validation below training", "run": "dropout 0.2 (inputs) and 0.5",
                                  "h": run(m, optim.Adam(m.parameters(), lr=3e-3), loader(X[:600], y[:600], 64),
                                           val, 25)}

md.manual_seed(L.seed)
m = mlp([64, 64, 10])
good = run(m, optim.Adam(m.parameters(), lr=3e-3), loader(X[:1000], y[:1000], 100), val, 30)
runs["good_fit"] = {"title": "Good fit", "run": "1000 digits, 64 units, Adam 3e-3", "h": good}

md.manual_seed(L.seed)
Xm, ym = data.make_moons(2000, noise=0.3, seed=L.seed)
m = mlp([2, 32, 2])
fresh = FreshValidation(Xm[1000:], ym[1000:], n_sweep, L.seed)
moons = run(m, optim.Adam(m.parameters(), lr=1e-2), loader(Xm[:1000], ym[:1000], 100), None, 30, callbacks=[fresh])
noisy = {"loss": moons["loss"], "val_loss": fresh.losses[10]}
runs["unrepresentative_validation"] = {"title": "Unrepresentative validation set",
                                       "run": "two moons, 10 fresh validation points per epoch", "h": noisy}

deck_order = ["underfit", "underfit_still_improving", "overfit", "unrepresentative_train",
              "unrepresentative_validation", "validation_below_train", "good_fit"]
for key in deck_order:
    runs[key]["d"] = diagnostics.learning_curve_diagnosis(runs[key]["h"])
rows = []
for key in deck_order:
    v = runs[key]["d"].values
    rows.append([key, runs[key]["run"], v["regime"], v["train_drop"], v["train_tail_fall"], v.get("gap"),
                 v.get("val_rise_relative"), v.get("val_noise"), v.get("crossings")])
L.table("regimes", ["run made to be", "run", "diagnosis", "train drop", "tail fall", "gap", "val rise (rel.)",
                    "val noise", "crossings"], rows,
        caption="learning_curve_diagnosis on each run (drop, fall, gap and noise in units of the first epoch's loss)")


# %% [markdown]
# ## 2. The gallery, in the slides' order (DIAG-8, DIAG-9, DIAG-10, DIAG-11, DIAG-12, DATA-4)
#
# One panel per regime, in the order the slides show them; the eighth panel shows why a small
# validation set is noisy: the epoch-to-epoch noise of the validation loss against its size, which
# falls like 1/sqrt(n_val). Each panel's title is the regime the run was made to show; the
# diagnosis is printed under it.

# %%
L.section("2. The gallery")
fig, axes = plt.subplots(2, 4, figsize=(19, 8.5))
for ax, key in zip(axes.flat, deck_order):
    h, d = runs[key]["h"], runs[key]["d"]
    ep = np.arange(1, len(h["loss"]) + 1)
    ax.plot(ep, h["loss"], "-", lw=2, color="C0", label="training loss")
    ax.plot(ep, h["val_loss"], "-", lw=2, color="C1", label="validation loss")
    if key == "underfit":  # on a full scale from 0 the curve is what it is: flat and high
        ax.axhline(np.log(2), color="k", ls=":", lw=1.2, label="ln 2 (chance)")
        ax.set_ylim(0, 1.0)
    if d.regime == "overfit":
        t = d.turning_epoch
        ax.axvline(t + 1, color="k", ls=":", lw=1.5)
        ax.plot([t + 1], [h["val_loss"][t]], "kv", ms=10, label=f"turning point (epoch {t + 1})")
    ax.set_title(f"{runs[key]['title']}\ndiagnosis: {d.regime}", fontsize=12)
    ax.set_xlabel("epoch", fontsize=11)
    ax.set_ylabel("cross-entropy loss", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
ax = axes.flat[7]
noise = {n: fresh.noise(n) for n in n_sweep}
ns = np.array(n_sweep, dtype=float)
ax.loglog(ns, [noise[n] for n in n_sweep], "o-", lw=2, ms=7, label="measured")
ax.loglog(ns, noise[n_sweep[0]] * np.sqrt(ns[0] / ns), "k--", label="1/sqrt(n_val)")
ax.set_title("Moons: validation noise against n_val", fontsize=12)
ax.set_xlabel("validation samples n_val", fontsize=11)
ax.set_ylabel("noise: std of (small set - all 1000)", fontsize=10)
ax.grid(alpha=0.3)
ax.legend(fontsize=9)
fig.suptitle("Learning-curve regimes, each from a real training run", fontsize=15)
fig.subplots_adjust(hspace=0.42, wspace=0.33, top=0.88)
L.figure(fig, "regimes", caption="the seven regimes of the slides from real runs, and the validation noise "
                                  "against n_val")

names = {key: runs[key]["d"].regime for key in deck_order}
for key, cid in [("underfit", "DIAG-8"), ("underfit_still_improving", "DIAG-8"), ("overfit", "DIAG-9"),
                 ("unrepresentative_train", "DATA-4"), ("unrepresentative_validation", "DIAG-10"),
                 ("validation_below_train", "DIAG-11"), ("good_fit", "DIAG-12")]:
    L.claim(cid, names[key] == key, f"learning_curve_diagnosis names the {key} run", regime=names[key])
ho, do = runs["overfit"]["h"], runs["overfit"]["d"]
L.claim("DIAG-9", do.turning_epoch < len(ho["loss"]) - 1 and ho["loss"][-1] < ho["loss"][do.turning_epoch],
        "overfitting: the validation loss turns up at its minimum while the training loss keeps falling",
        turning_epoch=do.turning_epoch + 1, epochs=len(ho["loss"]), val_min=min(ho["val_loss"]),
        val_last=ho["val_loss"][-1])
hu = runs["underfit"]["h"]
L.claim("DIAG-8", hu["loss"][-1] > 0.9 * np.log(2) and abs(hu["loss"][-1] - hu["loss"][5]) < 0.01,
        "a model with too little capacity has a flat, high training loss (near ln 2 on XOR)",
        final_loss=hu["loss"][-1], ln2=np.log(2))
hs = runs["underfit_still_improving"]["h"]
L.claim("DIAG-8", hs["loss"][-2] - hs["loss"][-1] > 0.01,
        "a run stopped early: its training loss is still falling in the last epoch",
        last_fall=hs["loss"][-2] - hs["loss"][-1])
ratio = noise[n_sweep[0]] / noise[n_sweep[-1]]
L.claim("DIAG-10", all(noise[a] > noise[b] for a, b in zip(n_sweep, n_sweep[1:]))
        and ratio > 0.5 * np.sqrt(n_sweep[-1] / n_sweep[0]),
        "the validation noise falls as n_val grows, about like 1/sqrt(n_val)",
        **{f"noise_{n}": noise[n] for n in n_sweep})
hv = runs["unrepresentative_validation"]["h"]
L.claim("DIAG-10", runs["unrepresentative_validation"]["d"].crossings >= 0.2,
        "the small validation set's loss jumps above and below the training loss",
        crossings=runs["unrepresentative_validation"]["d"].crossings)
# the training loss fit reports is measured with dropout on; the same samples in eval mode score lower
train_eval = train.evaluate(dropout_model, loader(X[:600], y[:600], 600, shuffle=False), nn.CrossEntropyLoss(),
                            metrics=())["loss"]
hd = runs["validation_below_train"]["h"]
L.claim("DIAG-11", hd["val_loss"][-1] < hd["loss"][-1] and train_eval < hd["loss"][-1],
        "with dropout the training loss (dropout on) exceeds the validation loss and the same training "
        "samples in eval mode", train_loss_dropout_on=hd["loss"][-1], train_loss_eval=train_eval,
        val_loss=hd["val_loss"][-1])
dg = runs["good_fit"]["d"]
L.claim("DIAG-12", abs(dg.gap) < 0.05 and dg.train_tail_fall < 0.05,
        "a good fit: both losses settle on a plateau with a small gap", gap=dg.gap, tail_fall=dg.train_tail_fall)
dt = runs["unrepresentative_train"]["d"]
L.claim("DATA-4", dt.gap > 0.1 and dt.val_rise_relative < 0.1,
        "a too-small training set: a large gap that persists while the validation loss does not turn up",
        gap=dt.gap, early_gap=dt.early_gap, val_rise_relative=dt.val_rise_relative)
L.slip("crash-course/di504", "the crash course blames a too-small training set for a noisy validation curve, the "
       "DI504 deck a too-small validation set",
       "the validation set's size sets the noise (its sampling error falls like 1/sqrt(n_val), measured above); "
       "a small training set shows as a gap instead")


# %% [markdown]
# ## 3. Slow training: too small a learning rate or too little capacity? (DIAG-8)
#
# The crash course's test: try to fit a tiny data set. A model that can memorise 32 samples has the
# capacity, so a slowly falling loss points to the learning rate (or too few epochs); a model that
# cannot is too small for the problem. `diagnostics.overfit_one_batch` runs the test.

# %%
L.section("3. Fit a tiny data set")
md.manual_seed(L.seed)
xb, yb = md.tensor(Xx[:32]), md.tensor(yx[:32])
rows = []
for name, model in [("linear model", nn.Linear(2, 2)), ("MLP 2-32-2", mlp([2, 32, 2]))]:
    res = diagnostics.overfit_one_batch(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05),
                                        xb, yb, steps=300)
    rows.append([name, res.accuracy, res.steps_to_target, res.ok])
L.table("tiny_fit", ["model", "accuracy on 32 XOR samples", "steps to 100%", "can memorise"], rows,
        caption="overfit_one_batch on 32 XOR samples (Adam, lr 0.05, up to 300 steps)")
L.claim("DIAG-8", rows[1][3] and not rows[0][3] and rows[0][1] < 0.9,
        "fitting a tiny set tells capacity from the learning rate: the MLP memorises it, the linear model cannot",
        linear_accuracy=rows[0][1], mlp_accuracy=rows[1][1])


# %% [markdown]
# ## 4. The stability limit on a quadratic (DIAG-2)
#
# Linear regression with the mean squared error is a quadratic in the weights, with Hessian
# H = (2/n) [X 1]^T [X 1]. Gradient descent multiplies the error along H's top eigenvector by
# (1 - eta lambda_max) per step: it shrinks for eta < 2/lambda_max and grows, oscillating in sign, beyond.
# Full-batch `fit` runs with eta = 1.9/lambda_max and 2.1/lambda_max.

# %%
L.section("4. eta = 1.9/lambda_max against 2.1/lambda_max")
Xr, yr = data.make_regression(200, n_features=5, condition_number=10.0, noise=0.1, seed=L.seed)
A = np.hstack([Xr.astype(np.float64), np.ones((len(yr), 1))])
lam_max = float(np.linalg.eigvalsh(2.0 * A.T @ A / len(yr)).max())
quad_runs = {}
for factor in (1.9, 2.1):
    md.manual_seed(L.seed)
    m = nn.Linear(5, 1)
    quad_runs[factor] = train.fit(m, nn.MSELoss(), optim.SGD(m.parameters(), lr=factor / lam_max),
                                  loader(Xr, yr.reshape(-1, 1), 200, shuffle=False), epochs=60, metrics=(), verbose=0)
L.note(f"lambda_max of the MSE's Hessian: {lam_max:.4f} (make_regression scales X's covariance to top "
       "eigenvalue 1, and the mean squared error doubles it); the limit 2/lambda_max is "
       f"{2 / lam_max:.4f}.")
fig, ax = plt.subplots(figsize=(8, 5))
for factor, h in quad_runs.items():
    ax.semilogy(np.arange(1, 61), h["loss"], lw=2, label=f"eta = {factor}/lambda_max")
ax.set_title("Gradient descent on a quadratic: below and above eta = 2/lambda_max")
ax.set_xlabel("step (full batch)")
ax.set_ylabel("mean squared error (log scale)")
ax.grid(alpha=0.3)
ax.legend()
L.figure(fig, "quadratic_limit", caption="1.9/lambda_max converges, 2.1/lambda_max diverges")
l19, l21 = quad_runs[1.9]["loss"], quad_runs[2.1]["loss"]
L.claim("DIAG-2", l19[-1] < 1e-2 * l19[0] and l21[-1] > 10 * l21[0],
        "GD on a quadratic converges at eta = 1.9/lambda_max and diverges at 2.1/lambda_max",
        first_loss=l19[0], last_loss_19=l19[-1], last_loss_21=l21[-1])


# %% [markdown]
# ## 5. Learning-rate curves on the digits (DIAG-2, DIAG-4, DIAG-8)
#
# The crash course's picture of the loss under different learning rates, from real runs: SGD on the
# same MLP with eta = 1e-4 (too low: the loss barely moves), 0.1 (good) and 3 (too high: the loss
# rises or diverges).

# %%
L.section("5. Learning-rate curves")
lr_runs, step_losses = {}, {}
for lr in (1e-4, 0.1, 3.0):
    md.manual_seed(L.seed)
    m = mlp([64, 64, 10])
    steps = BatchLosses()
    lr_runs[lr] = run(m, optim.SGD(m.parameters(), lr=lr, momentum=0.9), loader(X[:1000], y[:1000], 100), val, 15,
                      callbacks=[steps])
    step_losses[lr] = np.array(steps.losses)
fig, axes = plt.subplots(1, 2, figsize=(14, 5))
labels = {1e-4: "too low (1e-4)", 0.1: "good (0.1)", 3.0: "too high (3)"}
for lr, h in lr_runs.items():
    axes[0].semilogy(np.arange(1, len(step_losses[lr]) + 1), step_losses[lr], lw=1.5, label=labels[lr])
    axes[1].plot(np.arange(1, len(h["loss"]) + 1), h["val_accuracy"], "-o", ms=4, lw=2, label=labels[lr])
axes[0].axhline(np.log(10), color="k", ls=":", lw=1, label="ln 10 (an untrained net)")
axes[0].set(title="Training loss per step for three learning rates", xlabel="step (batch of 100)",
            ylabel="cross-entropy loss (log scale)")
axes[1].set(title="Validation accuracy", xlabel="epoch", ylabel="accuracy")
for ax in axes:
    ax.grid(alpha=0.3)
    ax.legend()
L.figure(fig, "learning_rates", caption="too low: barely falls; good: falls and settles; too high: rises or diverges")
rows = []
for lr, h in lr_runs.items():
    rows.append([labels[lr], step_losses[lr][0], step_losses[lr].max(), h["loss"][-1], h["val_accuracy"][-1]])
L.table("learning_rates", ["learning rate", "first step's loss", "highest step loss", "last epoch's loss",
                           "val accuracy"], rows,
        caption="SGD with momentum 0.9 on a 64-unit MLP, 1000 training digits, batches of 100, 15 epochs")
L.note("learning_curve_diagnosis reads only the curves' shapes, in units of the first epoch's loss: the lr = 3 run, "
       f"whose first epoch averaged {lr_runs[3.0]['loss'][0]:.2f} before it settled on {lr_runs[3.0]['loss'][-1]:.2f} "
       "(above ln 10 = 2.30, the loss of an untrained net; its accuracy is at chance), looks to it like a fall to a "
       "plateau. Compare the plateau with ln C, and look at the first steps.")
hi, good_lr, lo = lr_runs[3.0], lr_runs[0.1], lr_runs[1e-4]
sh = step_losses[3.0]
L.claim("DIAG-2", (not np.all(np.isfinite(sh))) or (sh.max() > 2 * sh[0] and hi["loss"][-1] > np.log(10)),
        "too high a learning rate: the loss rises far above its start and ends worse than an untrained net",
        first_step=sh[0], highest=sh.max(), last_epoch=hi["loss"][-1])
L.claim("DIAG-8", lo["loss"][0] - lo["loss"][-1] < 0.1 * (good_lr["loss"][0] - good_lr["loss"][-1]),
        "too low a learning rate: the loss falls far more slowly than at a good one",
        fall_low=lo["loss"][0] - lo["loss"][-1], fall_good=good_lr["loss"][0] - good_lr["loss"][-1])
L.claim("DIAG-4", lo["val_accuracy"][-1] < 0.5 < good_lr["val_accuracy"][-1],
        "too low a learning rate leaves the accuracy on a low plateau", low=lo["val_accuracy"][-1],
        good=good_lr["val_accuracy"][-1])


# %% [markdown]
# ## 6. Four causes of an accuracy plateau (DIAG-4)
#
# The crash course lists too low a learning rate, a bad initialisation, too much regularisation and
# data that do not match their labels. One run each, against the healthy run: eta = 1e-6; every
# weight and bias zero (the hidden units stay 0, so only the output bias learns); weight decay 5 in
# SGD (each step multiplies the weights by 1 - eta lambda = 0.75); the training labels shuffled.

# %%
L.section("6. Accuracy plateaus")


def plateau_run(lr: float = 0.1, zero: bool = False, weight_decay: float = 0.0, shuffle_labels: bool = False
                ) -> train.History:
    md.manual_seed(L.seed)
    model = mlp([64, 64, 10])
    if zero:
        for p in model.parameters():
            nn.init.zeros_(p)
    labels_ = L.rng.permutation(y[:1000]) if shuffle_labels else y[:1000]
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    return run(model, opt, loader(X[:1000], labels_, 100), val, 10)


plateaus = {"healthy (lr 0.1)": lr_runs[0.1], "lr 1e-6": plateau_run(lr=1e-6),
            "all-zero init": plateau_run(zero=True), "weight decay 5": plateau_run(lr=0.05, weight_decay=5.0),
            "shuffled labels": plateau_run(shuffle_labels=True)}
fig, ax = plt.subplots(figsize=(9, 5.5))
for name, h in plateaus.items():
    ax.plot(np.arange(1, len(h["val_accuracy"]) + 1), h["val_accuracy"], "-o", ms=4, lw=2, label=name)
ax.axhline(0.1, color="k", ls=":", label="chance (10 classes)")
ax.set(title="Validation accuracy: a healthy run against four plateaus", xlabel="epoch", ylabel="accuracy",
       ylim=(0, 1.02))
ax.grid(alpha=0.3)
ax.legend()
L.figure(fig, "plateaus", caption="each cause holds the accuracy near chance")
rows = [[name, h["accuracy"][-1], h["val_accuracy"][-1]] for name, h in plateaus.items()]
L.table("plateaus", ["run", "train accuracy", "val accuracy"], rows, caption="accuracies after the last epoch")
stuck = {name: h["val_accuracy"][-1] for name, h in plateaus.items() if name != "healthy (lr 0.1)"}
L.claim("DIAG-4", max(stuck.values()) < 0.3 and plateaus["healthy (lr 0.1)"]["val_accuracy"][-1] > 0.9,
        "too low an lr, a zero init, too much weight decay and shuffled labels each keep the accuracy near chance",
        **{k.replace(" ", "_"): v for k, v in stuck.items()})


# %% [markdown]
# ## 7. Still rising, and the one-cycle dip (DIAG-12)
#
# A good run whose accuracy is high but still rising should train longer. Under a one-cycle schedule
# (the learning rate rises to a peak, then anneals) the accuracy can dip while the learning rate is at
# its peak, and recover as it falls: that dip is not a reason to stop.

# %%
L.section("7. The one-cycle dip")
acc_good = np.array(lr_runs[0.1]["val_accuracy"])
L.claim("DIAG-12", acc_good[4] > 0.9 and acc_good[4] > acc_good[3] and acc_good[-1] > acc_good[4] + 0.01,
        "high but still rising after 5 epochs (the good-lr run of section 5): training longer still pays",
        acc_epoch5=acc_good[4], acc_epoch15=acc_good[-1])
md.manual_seed(L.seed)
m = mlp([64, 64, 10])
opt = optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
tr = loader(X[:1000], y[:1000], 64)
epochs = 15
sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.8, epochs=epochs, steps_per_epoch=len(tr))
cyc = run(m, opt, tr, val, epochs, scheduler=sched, scheduler_interval="batch")
acc, lrs = np.array(cyc["val_accuracy"]), np.array(cyc["lr"])
peak = int(np.argmax(lrs))
drop = np.array([acc[e] - acc[:e].max() for e in range(1, epochs)])   # below the best so far
dip = int(np.argmin(drop)) + 1
fig, ax = plt.subplots(figsize=(9, 5))
ep = np.arange(1, epochs + 1)
ax.plot(ep, acc, "-o", lw=2, color="C2", label="validation accuracy")
ax.plot(ep, cyc["accuracy"], "-o", lw=1.5, ms=3, color="C0", label="training accuracy")
ax.set(title="One-cycle schedule: the accuracy dips while the learning rate peaks", xlabel="epoch",
       ylabel="accuracy")
ax.grid(alpha=0.3)
ax2 = ax.twinx()
ax2.plot(ep, lrs, "k--", lw=1.5, label="learning rate (right)")
ax2.set_ylabel("learning rate at the epoch's start")
h1, l1 = ax.get_legend_handles_labels()
h2, l2 = ax2.get_legend_handles_labels()
ax.legend(h1 + h2, l1 + l2, loc="lower right")
L.figure(fig, "one_cycle", caption="the accuracy falls back near the learning-rate peak and recovers as it anneals")
L.table("one_cycle", ["epoch", "lr", "val accuracy"], [[e + 1, lrs[e], acc[e]] for e in range(epochs)],
        caption="OneCycleLR (max lr 0.8; SGD momentum cycled from 0.95 down to 0.85 and back), stepped per batch")
before = float(acc[:dip].max())
L.claim("DIAG-12", acc[dip] < before - 0.02 and abs(dip - peak) <= 3 and acc[-1] > before,
        "under one-cycle the accuracy dips near the learning-rate peak, then recovers above its earlier best",
        lr_peak_epoch=peak + 1, dip_epoch=dip + 1, acc_before=before, acc_dip=acc[dip], acc_last=acc[-1])


# %%
L.finish()
