# %% [markdown]
# # Lesson 14: Babysitting a network, the debugging recipe
#
# The "Deep Learning Crash Course" gives a recipe for the first hours with a new model, before any
# tuning: check the data pipeline, check the initial loss, overfit one small batch, switch the
# regulariser off (and back on, carefully), pick the learning rate, watch the size of the updates,
# and keep a debug mode that saves what goes in and what comes out. The "DI504 Foundations of Deep
# Learning: Deep Training" deck calls this babysitting the learning process. This lesson walks
# through the recipe with `minidl.diagnostics` on the bundled digits, and then plants five bugs
# (shuffled labels, softmax applied twice, an unshuffled loader, blank images, a naive softmax) and
# shows which diagnostic catches each.
#
# Run: `python -m lessons run 14` (or `python lessons/14_babysitting.py --quick --out /tmp/l14`).

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
import tempfile
import warnings
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
import minidl.data as data
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim
from lessons._lesson import Lesson
from minidl import diagnostics, metrics, train, viz


def loader(X: Any, y: Any, batch_size: int = 32, shuffle: bool = True, seed: int = 0) -> data.DataLoader:
    return data.DataLoader(data.TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle, seed=seed)


def mlp(hidden: int = 64, dropout: float = 0.0) -> nn.Sequential:
    """64 pixels -> hidden ReLU units -> 10 logits; dropout behind a switch (0 = off)."""
    layers: list[nn.Module] = [nn.Linear(64, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, 10))
    return nn.Sequential(*layers)


class PenalisedLoss:
    """loss = (1/B) sum_i L_i + (lambda/2) ||W||^2 over the weight matrices (not the biases); the two
    terms are kept separately for every training batch, so neither can hide in the total."""

    def __init__(self, model: nn.Module, lam: float) -> None:
        self.model, self.lam = model, lam
        self.ce = nn.CrossEntropyLoss()
        self.data_terms: list[float] = []
        self.penalty_terms: list[float] = []

    def __call__(self, out: md.Tensor, y: md.Tensor) -> md.Tensor:
        data_term = self.ce(out, y)
        penalty = sum(((p * p).sum() for p in self.model.parameters() if p.ndim > 1), md.tensor(0.0))
        penalty = (self.lam / 2) * penalty
        if self.model.training:
            self.data_terms.append(data_term.item())
            self.penalty_terms.append(penalty.item())
        return data_term + penalty


def per_epoch(values: list[float], steps: int) -> np.ndarray:
    """Mean of each epoch's ``steps`` batch values."""
    return np.asarray(values).reshape(-1, steps).mean(axis=1)


def toy_segmentation(n: int, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n noisy images (n, 1, size, size) each with one bright rectangle; the masks mark the rectangle."""
    images = rng.normal(0.0, 0.2, (n, 1, size, size)).astype(np.float32)
    masks = np.zeros((n, 1, size, size), dtype=np.float32)
    for i in range(n):
        h, w = rng.integers(3, size // 2, 2)
        r, c = rng.integers(0, size - h), rng.integers(0, size - w)
        masks[i, 0, r:r + h, c:c + w] = 1.0
    return images + masks, masks


# %%
L = Lesson("14_babysitting", "Babysitting a network: the debugging recipe")
X, y = data.load_digits()
X = (X / 16.0).astype(np.float32)  # pixels 0..16 -> [0, 1]
order = L.rng.permutation(len(y))
X, y = X[order], y[order]
X_train, y_train, X_dev, y_dev = X[:1200], y[:1200], X[1200:], y[1200:]
train_loader = loader(X_train, y_train, seed=L.seed)  # for the checks; each training run gets a fresh one
dev_loader = loader(X_dev, y_dev, 600, shuffle=False)
steps_per_epoch = len(train_loader)
epochs = 6 if L.quick else 12
ce = nn.CrossEntropyLoss()
findings: list[list[Any]] = []  # the planted bugs: (bug, diagnostic, measured, caught)


# %% [markdown]
# ## 1. Check the pipeline first (DIAG-6)
#
# Before any training, look at what the loader hands the model. `diagnostics.check_pipeline` walks
# a loader and measures every sample's L2 norm (a blank image has norm 0), constant samples, NaNs,
# batches that hold a single class, and labels outside the class range. Two planted bugs: five
# training images blanked (as the deck's scan of a dataset found), and a loader over data sorted by
# class without shuffling. A third: an image resized for a segmentation task whose mask was not,
# so the pair no longer lines up.

# %%
L.section("1. The pipeline")
good = diagnostics.check_pipeline(train_loader, num_classes=10)
X_blank = X_train.copy()
blank_rows = L.rng.choice(len(X_blank), 5, replace=False)
X_blank[blank_rows] = 0.0
blank = diagnostics.check_pipeline(loader(X_blank, y_train, seed=L.seed), num_classes=10)
by_class = np.argsort(y_train, kind="stable")
unshuffled = diagnostics.check_pipeline(loader(X_train[by_class], y_train[by_class], shuffle=False), num_classes=10)
reshuffled = diagnostics.check_pipeline(loader(X_train[by_class], y_train[by_class], shuffle=True, seed=L.seed),
                                        num_classes=10)
rows = [[name, r.ok, r.blank, r.single_class_batches, f"{r.batches}", r.norm_min]
        for name, r in [("the sound loader", good), ("5 images blanked", blank),
                        ("sorted by class, shuffle=False", unshuffled), ("sorted by class, shuffle=True", reshuffled)]]
L.table("pipeline", ["loader", "check ok", "blank samples", "single-class batches", "batches", "smallest L2 norm"],
        rows, caption="diagnostics.check_pipeline on the digits' training loader, sound and with planted bugs")
print(blank.advice)
print(unshuffled.advice)

norms = np.sqrt((X_blank.astype(np.float64) ** 2).sum(axis=1))
fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
axes[0].plot(norms, ".", ms=3, color="C0", label="a training image")
axes[0].plot(blank_rows, norms[blank_rows], "o", ms=9, mfc="none", color="C3", label="planted blank image (norm 0)")
axes[0].set(title="L2 norm of every training sample", xlabel="sample index", ylabel="L2 norm of the pixels")
axes[0].set_ylim(-0.4, 6.0)
axes[0].legend(loc="upper center", ncol=2)
axes[0].grid(alpha=0.3)
first = [int(np.unique(yb.numpy()).size) for _, yb in loader(X_train[by_class], y_train[by_class], shuffle=False)]
mixed = [int(np.unique(yb.numpy()).size) for _, yb in loader(X_train[by_class], y_train[by_class], seed=L.seed)]
axes[1].step(range(len(first)), first, where="mid", color="C3", lw=2, label="shuffle=False (data sorted by class)")
axes[1].step(range(len(mixed)), mixed, where="mid", color="C2", lw=2, label="shuffle=True")
axes[1].set(title="Classes in each batch of 32", xlabel="batch index", ylabel="distinct classes in the batch",
            ylim=(0, 11))
axes[1].legend(loc="center right")
axes[1].grid(alpha=0.3)
fig.suptitle("Check every step of the pipeline: blank images and single-class batches")
L.figure(fig, "pipeline", caption="the norms expose the five blank images; an unshuffled loader over sorted "
                                  "data feeds one class at a time")

# a segmentation pair: the image is resized (2x, then cropped back to 16 x 16), its mask is forgotten
seg_images, seg_masks = toy_segmentation(64, 16, L.rng)
clean = seg_images > 0.5  # where the rectangle is, the pixels are bright
resized = np.repeat(np.repeat(seg_images, 2, axis=2), 2, axis=3)[:, :, :16, :16]
pair_ok = float(np.mean([metrics.dice(seg_masks[i], clean[i]) for i in range(64)]))
pair_broken = float(np.mean([metrics.dice(seg_masks[i], resized[i] > 0.5) for i in range(64)]))
L.note(f"Image/mask pairing (Dice of the mask with the image's bright pixels, mean over 64 pairs): "
       f"{pair_ok:.3f} for the sound pipeline, {pair_broken:.3f} after resizing the image but not its mask.")
findings.append(["5 blank images", "check_pipeline: per-sample L2 norm", f"{blank.blank} samples of norm 0",
                 not blank.ok and blank.blank == 5])
findings.append(["unshuffled loader over sorted data", "check_pipeline: classes per batch",
                 f"{unshuffled.single_class_batches} of {unshuffled.batches} batches hold one class",
                 not unshuffled.ok])
findings.append(["image resized, mask not", "Dice of mask vs bright pixels", f"{pair_ok:.2f} -> {pair_broken:.2f}",
                 pair_broken < 0.8 < pair_ok])
L.claim("DIAG-6", good.ok and not blank.ok and blank.blank == 5 and blank.norm_min == 0.0,
        "per-sample L2 norms reveal the planted blank images", blank=blank.blank, sound_min_norm=good.norm_min)
L.claim("DIAG-6", good.ok and reshuffled.ok and unshuffled.single_class_batches >= unshuffled.batches - 10,
        "an unshuffled loader over sorted data gives single-class batches; shuffling mixes them",
        single_class=unshuffled.single_class_batches, batches=unshuffled.batches,
        after_shuffle=reshuffled.single_class_batches)
L.claim("DIAG-6", pair_ok > 0.95 and pair_broken < 0.8, "resizing an image but not its mask breaks the pair",
        dice_sound=pair_ok, dice_broken=pair_broken)


# %% [markdown]
# ## 2. The initial loss (LOSS-1)
#
# At a random start that treats the classes alike, every class gets probability about 1/C, so the
# first cross-entropy is about -log(1/C) = ln C: 2.303 for the 10 digits, and ln 2 = 0.693 for a
# binary problem. `diagnostics.initial_loss_check` compares the untrained loss with it. A
# deliberately broken initialisation (every weight drawn from N(0, 1), far too large for 64 inputs)
# gives huge logits, confident wrong answers and a first loss far above ln 10.

# %%
L.section("2. The initial loss")
md.manual_seed(L.seed)
sound = mlp()
broken = mlp()
for p in broken.parameters():
    if p.ndim > 1:
        nn.init.normal_(p, std=1.0)
binary = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))
y_odd = (y_train % 2).astype(np.float32).reshape(-1, 1)  # odd or even digit
random_x = L.rng.standard_normal((500, 64)).astype(np.float32)
random_y = L.rng.integers(0, 10, 500)
checks = {
    "sound MLP, 10 digits, cross-entropy": diagnostics.initial_loss_check(sound, ce, X_train, y_train),
    "sound MLP, random data, cross-entropy": diagnostics.initial_loss_check(sound, ce, random_x, random_y),
    "sound MLP, odd/even, BCE with logits": diagnostics.initial_loss_check(binary, nn.BCEWithLogitsLoss(),
                                                                          X_train, y_odd),
    "weights N(0, 1), 10 digits, cross-entropy": diagnostics.initial_loss_check(broken, ce, X_train, y_train),
}
L.table("initial_loss", ["model", "first loss", "expected", "relative error", "check ok"],
        [[k, r.loss, r.expected, r.relative_error, r.ok] for k, r in checks.items()],
        caption="diagnostics.initial_loss_check before any training")
print(checks["weights N(0, 1), 10 digits, cross-entropy"].advice)
c_sound, c_rand, c_bin, c_broken = checks.values()
L.claim("LOSS-1", abs(c_sound.loss - math.log(10)) < 0.05 and abs(c_rand.loss - math.log(10)) < 0.05,
        "the first softmax cross-entropy of a sound model is ln 10 = 2.303 (within 0.05)",
        digits=c_sound.loss, random_data=c_rand.loss)
L.claim("LOSS-1", abs(c_bin.loss - math.log(2)) < 0.05, "the first binary cross-entropy is ln 2 = 0.693",
        loss=c_bin.loss)
L.claim("LOSS-1", c_sound.ok and not c_broken.ok and c_broken.loss > 5 * math.log(10),
        "a broken initialisation gives a first loss far from ln C, and the check fails", loss=c_broken.loss)


# %% [markdown]
# ## 3. Overfit one small batch (DIAG-1)
#
# A sound model and pipeline can memorise 32 examples: the training accuracy on that one batch
# reaches 100% within some dozens of steps (`diagnostics.overfit_one_batch`). For segmentation the
# deck asks for a Dice ratio near 1.0 on the batch: a two-layer convolutional net on eight noisy
# rectangles (`minidl.metrics.dice` of the thresholded output and the masks). A model that cannot
# do this has a bug; section 6 plants one (softmax applied twice).

# %%
L.section("3. Overfit one batch")
md.manual_seed(L.seed)
model = mlp()
fit_one = diagnostics.overfit_one_batch(model, ce, optim.Adam(model.parameters(), lr=1e-2), X_train[:32],
                                        y_train[:32], steps=200)
print(fit_one)

md.manual_seed(L.seed)
seg = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 3, padding=1))
seg_opt = optim.Adam(seg.parameters(), lr=0.03)
xb, mb = md.tensor(seg_images[:8]), md.tensor(seg_masks[:8])
bce = nn.BCEWithLogitsLoss()
dices, seg_losses = [], []
for step in range(100 if L.quick else 200):
    seg_opt.zero_grad()
    out = seg(xb)
    loss = bce(out, mb)
    loss.backward()
    seg_opt.step()
    seg_losses.append(loss.item())
    dices.append(metrics.dice(seg_masks[:8], md.sigmoid(out.detach()).numpy()))
with md.no_grad():
    seg_prob = md.sigmoid(seg(xb)).numpy()
final_dice = metrics.dice(seg_masks[:8], seg_prob)

fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
axes[0].plot(fit_one.losses, color="C0", lw=2, label="cross-entropy on the batch")
axes[0].axvline(fit_one.steps_to_target, color="C2", ls="--",
                label=f"100% accuracy at step {fit_one.steps_to_target}")
axes[0].set(title="Classifier: 32 digits, Adam lr 0.01", xlabel="step", ylabel="training loss")
axes[0].legend()
axes[0].grid(alpha=0.3)
axes[1].plot(dices, color="C1", lw=2, label="Dice of the batch (threshold 0.5)")
axes[1].plot(np.asarray(seg_losses) / seg_losses[0], color="C0", lw=1.5, label="BCE / its first value")
axes[1].set(title="Segmentation: 8 noisy rectangles, 2 conv layers", xlabel="step", ylabel="Dice, relative loss",
            ylim=(0, 1.05))
axes[1].legend(loc="center right")
axes[1].grid(alpha=0.3)
fig.suptitle("Overfitting one small batch: accuracy reaches 100%, Dice reaches about 1")
L.figure(fig, "overfit_one_batch", caption="a sound model memorises one batch in a few dozen steps")
fig, axes = plt.subplots(3, 4, figsize=(10, 7.8))
for row, (what, imgs) in enumerate([("image", seg_images), ("mask", seg_masks), ("net's probability", seg_prob)]):
    for col in range(4):
        ax = axes[row, col]
        ax.imshow(imgs[col, 0], cmap="gray", vmin=0, vmax=1 if row else None)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{what} {col}", fontsize=11)
fig.suptitle(f"Toy segmentation after overfitting one batch of 8: Dice {final_dice:.3f}")
L.figure(fig, "segmentation_batch", caption="the net's output matches the masks it memorised")
L.claim("DIAG-1", fit_one.ok and fit_one.accuracy == 1.0, "overfitting one batch of 32 digits reaches 100% accuracy",
        steps=fit_one.steps_to_target)
L.claim("DIAG-1", final_dice > 0.97, "overfitting one batch of 8 toy segmentations reaches Dice about 1",
        dice=final_dice)


# %% [markdown]
# ## 4. Regularisation off first, then back on (DIAG-5)
#
# The deck's loss is L = (1/B) sum_i L_i + (lambda/2) ||W||^2. Debug with lambda = 0, and when it
# comes back, log the two terms separately and make sure the penalty never dominates. Here three
# runs log both terms for every batch: lambda = 0, a small lambda = 1e-4, and a huge lambda = 1.
# The huge one starts with a penalty five times the data term, drives the weights to zero and keeps
# the accuracy at chance: the deck's "regularization too high". Dropout, the other randomness in
# training, sits behind a switch (`dropout=0` builds the model without it).

# %%
L.section("4. Regularisation off, then on")
reg_runs: dict[float, tuple[PenalisedLoss, train.History]] = {}
for lam in (0.0, 1e-4, 1.0):
    md.manual_seed(L.seed)
    model = mlp()
    lossf = PenalisedLoss(model, lam)
    hist = train.fit(model, lossf, optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                     loader(X_train, y_train, seed=L.seed),
                     epochs=epochs, val_loader=dev_loader, verbose=0)
    reg_runs[lam] = (lossf, hist)
rows = []
for lam, (lossf, hist) in reg_runs.items():
    share0 = lossf.penalty_terms[0] / (lossf.penalty_terms[0] + lossf.data_terms[0])
    rows.append([lam, lossf.data_terms[0], lossf.penalty_terms[0], share0, lossf.data_terms[-1],
                 lossf.penalty_terms[-1], hist["accuracy"][-1], hist["val_accuracy"][-1]])
L.table("regularisation", ["lambda", "first data term", "first penalty", "penalty share at start",
                           "last data term", "last penalty", "train accuracy", "dev accuracy"], rows,
        caption=f"MLP 64-64-10, SGD lr 0.1 momentum 0.9, {epochs} epochs; the two terms logged per batch")

fig, axes = plt.subplots(1, 3, figsize=(16, 4.6), sharey=True)
for ax, (lam, (lossf, hist)) in zip(axes, reg_runs.items()):
    ep = np.arange(1, epochs + 1)
    ax.semilogy(ep, per_epoch(lossf.data_terms, steps_per_epoch), "o-", color="C0", label="data term (1/B) sum L_i")
    if lam:
        ax.semilogy(ep, per_epoch(lossf.penalty_terms, steps_per_epoch), "s-", color="C3",
                    label="penalty (lambda/2) ||W||^2")
    ax.set(title=f"lambda = {lam:g}: dev accuracy {hist['val_accuracy'][-1]:.0%}", xlabel="epoch")
    ax.legend(fontsize=9)
    ax.grid(alpha=0.3, which="both")
axes[0].set_ylabel("mean over the epoch's batches (log scale)")
fig.suptitle("The two terms of the loss, logged separately")
L.figure(fig, "regularisation_terms", caption="with lambda = 1 the penalty dominates, the weights collapse and "
                                              "the accuracy stays at chance")

md.manual_seed(L.seed)
with_dropout, without = mlp(dropout=0.5), mlp(dropout=0.0)
xb = md.tensor(X_train[:16])
dropout_differs = not np.array_equal(with_dropout(xb).numpy(), with_dropout(xb).numpy())
switch_same = np.array_equal(without(xb).numpy(), without(xb).numpy())
L.note(f"Dropout behind a switch: two forward passes in training mode differ with dropout=0.5 "
       f"({dropout_differs}) and are bit-identical with dropout=0 ({switch_same}).")
(l0, h0), (ls, hs), (lh, hh) = reg_runs.values()
L.claim("DIAG-5", h0["val_accuracy"][-1] > 0.9 and hs["val_accuracy"][-1] > 0.9
        and ls.penalty_terms[0] < 0.1 * ls.data_terms[0],
        "with lambda = 0 (or a small penalty that never dominates) the model trains",
        acc_lambda0=h0["val_accuracy"][-1], small_share=ls.penalty_terms[0] / ls.data_terms[0])
L.claim("DIAG-5", lh.penalty_terms[0] > lh.data_terms[0] and hh["val_accuracy"][-1] < 0.2
        and hh["accuracy"][-1] < 0.2,
        "a huge lambda makes the penalty dominate and keeps the accuracy at chance (10%)",
        penalty=lh.penalty_terms[0], data=lh.data_terms[0], dev_accuracy=hh["val_accuracy"][-1])
L.claim("DIAG-5", dropout_differs and switch_same, "dropout behind a switch: off, training is deterministic")


# %% [markdown]
# ## 5. The learning rate and the size of the updates
#
# An LR range test (`diagnostics.lr_range_test`) trains for a hundred batches while the learning rate
# grows geometrically, and records the smoothed loss: it falls once the rate is useful and blows up
# once it is too large. Then, while training, the ratio of each update to its weights,
# ||delta W|| / ||W|| (`diagnostics.UpdateRatioLogger`), should sit around 1e-3: far above means the
# rate is too high, far below that it is too low.

# %%
L.section("5. LR range test and update ratios")
md.manual_seed(L.seed)
model = mlp()
sweep = diagnostics.lr_range_test(model, ce, optim.SGD(model.parameters(), lr=1e-3, momentum=0.9),
                                  loader(X_train, y_train, seed=L.seed),
                                  lr_min=1e-4, lr_max=10.0, steps=100)
print(sweep.advice)
fig = viz.plot_lr_range_test(sweep, title="LR range test: MLP on the digits, SGD with momentum 0.9")
L.figure(fig, "lr_range_test", caption=f"the loss falls fastest near lr {sweep.suggested_lr:.2g} and diverges "
                                       "past the minimum")
ratio_rows, ratio_steps = [], {}
ratio_lrs = {1e-3: "too low", 0.03: "good", 1.0: "too high"}
for lr, verdict in ratio_lrs.items():
    md.manual_seed(L.seed)
    model = mlp()
    logger = diagnostics.UpdateRatioLogger()
    hist = train.fit(model, ce, optim.SGD(model.parameters(), lr=lr, momentum=0.9),
                     loader(X_train, y_train, seed=L.seed),
                     epochs=epochs, val_loader=dev_loader, callbacks=[logger], verbose=0)
    ratio_steps[lr] = np.asarray(logger.steps["0.weight"])
    first_layer = logger.history["0.weight"]
    ratio_rows.append([lr, verdict, first_layer[0], first_layer[-1], logger.history["2.weight"][-1],
                       hist["val_accuracy"][-1]])
L.table("update_ratio", ["lr", "verdict", "||dW||/||W|| layer 1, epoch 1", f"layer 1, epoch {epochs}",
                         f"layer 2, epoch {epochs}", "dev accuracy"],
        ratio_rows, caption=f"update/weight ratios (UpdateRatioLogger: mean over each epoch's steps), SGD momentum "
                            f"0.9, {epochs} epochs")
high_last = ratio_rows[-1][3]
L.note("The rule of thumb holds in order of magnitude: at a good lr the ratio starts near 1e-2 and settles at a "
       "few 1e-3 as training converges; ten times too low an lr keeps it below 1e-3 and learns slowly; far too "
       "high an lr starts with updates of 10% of the weights per step and wrecks the network: "
       + ("by the last epoch its weight matrices no longer move at all (ratio 0: the hidden ReLUs have all died, so "
          "no gradient reaches either layer's weights)" if high_last == 0 else
          f"its ratio falls back later ({high_last:.1e} in the last epoch)")
       + f", and the dev accuracy stays at {ratio_rows[-1][5]:.0%}.")
fig, ax = plt.subplots(figsize=(9, 4.8))
for (lr, r), color in zip(ratio_steps.items(), ["C0", "C2", "C3"]):
    ax.semilogy(r, color=color, lw=1.0, alpha=0.8, label=f"lr = {lr:g} ({ratio_lrs[lr]})")
ax.axhspan(1e-4, 1e-2, color="C2", alpha=0.08, label="healthy band around 1e-3")
ax.axhline(1e-3, color="0.4", ls="--", lw=1)
ax.set(title="Update/weight ratio of the first layer at every step", xlabel="training step",
       ylabel="||delta W|| / ||W|| (log scale)")
ax.legend()
ax.grid(alpha=0.3, which="both")
L.figure(fig, "update_ratios", caption="a good lr keeps the ratio near 1e-3")


# %% [markdown]
# ## 6. Debug mode (DIAG-7)
#
# The deck's debug mode: with a `working_dir`, save every input batch and the model's raw output
# under the batch's index; with `working_dir = None`, write nothing and cost nothing. In minidl it is
# the `train.DebugDump` callback. Below it saves the first two batches of each epoch; we load one
# back, check that it holds the batch the model saw and the output it produced, and plot it, the
# deck's "print, plot, save a few mini-batches and check them".

# %%
L.section("6. Debug mode")
debug_dir = L.out_dir / "debug_batches"
for old in debug_dir.glob("*.npz"):
    old.unlink()
md.manual_seed(L.seed)
model = mlp()
plain_loader = loader(X_train, y_train, shuffle=False)
dump = train.DebugDump(debug_dir, batches=2)
train.fit(model, ce, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), plain_loader, epochs=2, callbacks=[dump],
          verbose=0)
files = sorted(p.name for p in debug_dir.glob("*.npz"))
saved = md.load(debug_dir / "epoch001_batch00001.npz")
x_saved, y_saved, out_saved = saved["x"], saved["y"], saved["output"]
same_batch = np.array_equal(x_saved, X_train[32:64]) and np.array_equal(y_saved, y_train[32:64])
with tempfile.TemporaryDirectory() as empty:
    off = train.DebugDump(None)
    md.manual_seed(L.seed)
    model = mlp()
    train.fit(model, ce, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), plain_loader, epochs=2,
              callbacks=[off], verbose=0)
    nothing = not any(Path(empty).iterdir()) and off.written == []
L.table("debug_files", ["file", "keys", "x", "y", "output"],
        [[f, "x, y, output", "32 x 64", "32", "32 x 10"] for f in files],
        caption=f"what DebugDump wrote to {debug_dir.name}/ in 2 epochs (2 batches each)")
L.note(f"Saved batch 1 of epoch 1 equals the loader's second batch: {same_batch}. DebugDump(None) wrote "
       f"{len(off.written)} files and kept nothing.")
fig = viz.plot_image_grid(x_saved[:16], labels=y_saved[:16], preds=out_saved[:16].argmax(axis=1), ncols=8,
                          title="Debug dump of epoch 1, batch 1: the saved inputs, labels and outputs")
L.figure(fig, "debug_batch", caption="a saved batch, plotted from the dump (true label / predicted)")
L.claim("DIAG-7", files == ["epoch000_batch00000.npz", "epoch000_batch00001.npz", "epoch001_batch00000.npz",
                            "epoch001_batch00001.npz"] and same_batch and out_saved.shape == (32, 10),
        "debug mode saves every input batch and raw output under its batch index", files=len(files))
L.claim("DIAG-7", nothing, "with working_dir = None it writes nothing")


# %% [markdown]
# ## 7. Planted bugs and the diagnostics that catch them (DIAG-1, DIAG-3)
#
# Section 1 caught the blank images and the unshuffled loader. Three more bugs:
#
# - **shuffled labels** (the images and labels no longer match). A model can still memorise one
#   batch of random labels, so overfitting one batch does not catch it; the dev accuracy does: the
#   training loss falls while the dev accuracy stays at chance.
# - **softmax applied twice**: the model ends in `Softmax` and `CrossEntropyLoss` applies softmax
#   again. The initial loss is still about ln 10, since probabilities near 0.1 are near-uniform
#   logits; but the loss cannot fall below -ln(e / (e + 9)) = 1.46, and overfitting one batch fails.
# - **a naive softmax** exp(z) / sum exp(z): at logits near 1000, exp overflows to inf and inf/inf is
#   NaN; the log-sum-exp form subtracts the largest logit first and stays finite (DIAG-3). Likewise a
#   probability that underflows to 0 gives log(0) = -inf.

# %%
L.section("7. Planted bugs")
md.manual_seed(L.seed)
model = mlp()
y_shuffled = L.rng.permutation(y_train)
shuffled_one = diagnostics.overfit_one_batch(model, ce, optim.Adam(model.parameters(), lr=1e-2), X_train[:32],
                                             y_shuffled[:32])
md.manual_seed(L.seed)
model = mlp()
shuffled_hist = train.fit(model, ce, optim.Adam(model.parameters(), lr=3e-3), loader(X_train, y_shuffled),
                          epochs=epochs, val_loader=dev_loader, verbose=0)
md.manual_seed(L.seed)
twice = nn.Sequential(mlp(), nn.Softmax(dim=1))
twice_init = diagnostics.initial_loss_check(twice, ce, X_train, y_train)
twice_one = diagnostics.overfit_one_batch(twice, ce, optim.Adam(twice.parameters(), lr=1e-2), X_train[:32],
                                          y_train[:32], steps=200)
floor = -math.log(math.e / (math.e + 9))

logits = md.tensor([[1000.0, 999.0, 998.0], [0.0, 1000.0, -1000.0]])
with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # the overflow warnings are the point here
    e = md.exp(logits)
    naive = (e / e.sum(dim=1, keepdim=True)).numpy()
    naive_ce = -md.log(md.exp(logits[1:]) / md.exp(logits[1:]).sum()).numpy()[0, 2]  # -log p of the last class
stable = F.softmax(logits, dim=1).numpy()
stable_ce = F.cross_entropy(logits[1:], md.tensor([2])).item()
L.table("naive_softmax", ["logits", "naive exp(z)/sum exp(z)", "log-sum-exp softmax"],
        [[str(logits.numpy()[i].tolist()), str([round(float(v), 4) for v in naive[i]]),
          str([round(float(v), 4) for v in stable[i]])]
         for i in range(2)], caption="softmax at logits near 1000, in float32")
L.note(f"Cross-entropy of the class with logit -1000: naive -log(softmax) = {naive_ce}, "
       f"F.cross_entropy (log-sum-exp) = {stable_ce:.1f}.")
nan_hist = {"loss": [2.3, 1.5, float("nan"), float("nan")]}
diverged = diagnostics.learning_curve_diagnosis(nan_hist)

findings.insert(0, ["shuffled labels", "dev accuracy after training",
                    f"train loss {shuffled_hist['loss'][0]:.2f} -> {shuffled_hist['loss'][-1]:.2f}, dev accuracy "
                    f"{shuffled_hist['val_accuracy'][-1]:.0%} (one batch still memorised: {shuffled_one.ok})",
                    shuffled_hist["val_accuracy"][-1] < 0.2])
findings.insert(1, ["softmax applied twice", "overfit_one_batch",
                    f"initial loss {twice_init.loss:.2f} (check ok: {twice_init.ok}); one batch: "
                    f"{twice_one.accuracy:.0%}, loss stuck at {twice_one.final_loss:.2f} >= {floor:.2f}",
                    not twice_one.ok])
findings.append(["naive softmax at logits ~1000", "finite check of the loss / learning_curve_diagnosis",
                 f"naive: {naive[0].tolist()}, log-sum-exp: finite; diagnosis '{diverged.regime}'",
                 bool(np.isnan(naive[0]).all() and np.isfinite(stable).all())])
L.table("planted_bugs", ["planted bug", "caught by", "measured", "caught"], findings,
        caption="each planted bug and the diagnostic that catches it")
L.claim("DIAG-1", fit_one.ok and not twice_one.ok and twice_one.final_loss >= floor,
        "a bug (softmax applied twice) stops the model from overfitting one batch",
        accuracy=twice_one.accuracy, final_loss=twice_one.final_loss, floor=floor)
L.claim("DIAG-3", bool(np.isnan(naive[0]).all()) and bool(np.isfinite(stable).all())
        and abs(stable[0].sum() - 1) < 1e-6,
        "a naive softmax of logits near 1000 gives NaN; the log-sum-exp version is finite",
        naive=str(naive[0].tolist()))
L.claim("DIAG-3", naive_ce == math.inf and abs(stable_ce - 2000.0) < 1e-3,
        "a probability that underflows to 0 gives log(0) and an infinite loss; log-sum-exp gives 2000",
        naive=naive_ce, stable=stable_ce)


# %% [markdown]
# ## Summary
# `L.finish()` prints every claim with its result and fails the lesson if any did not hold.

# %%
L.finish()
