# %% [markdown]
# # Lesson 13: Losses and output layers
#
# Which loss goes with which output, after the BME 548L toolbox deck (its list of losses: softmax,
# weighted and sigmoid cross-entropy, KL divergence, pseudo-Huber, L1, MSE), the "Deep Learning
# Training Tips" deck (softmax with cross-entropy), the crash course and the DI504 deck (the first
# loss as a check; heads for different tasks).
#
# We check the first loss of an untrained model against ln C and ln 2, compare the gradients of
# cross-entropy and of MSE through a softmax at a confidently wrong output, show which losses take
# logits and which probabilities (and what a doubled softmax does to training), weight the
# cross-entropy on an imbalanced toy set, verify KL = CE - H, the two limits of pseudo-Huber, and put
# three heads on one backbone.
#
# Run: `python -m lessons run 13` (add `--quick` for small sizes).

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

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
import minidl.data as data
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim
from lessons._lesson import Lesson
from minidl import diagnostics, metrics, train


def mlp(n_in: int, n_out: int, hidden: int = 64, last_std: float | None = 0.01) -> nn.Sequential:
    """n_in -> hidden (ReLU) -> n_out; the output layer's weights N(0, last_std^2) and bias 0
    (``None`` keeps the default init)."""
    model = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))
    if last_std is not None:
        nn.init.normal_(model[2].weight, 0.0, last_std)
        nn.init.zeros_(model[2].bias)
    return model


def grad_wrt_logits(z: np.ndarray, target: int, kind: str) -> np.ndarray:
    """dL/dz for one sample: cross-entropy on the logits z, or MSE between softmax(z) and the one-hot target."""
    zt = md.tensor(z[None, :], dtype=md.float64, requires_grad=True)
    if kind == "ce":
        loss = F.cross_entropy(zt, md.tensor([target]))
    else:
        onehot = np.zeros((1, z.size))
        onehot[0, target] = 1.0
        loss = F.mse_loss(md.softmax(zt, dim=1), md.tensor(onehot))
    loss.backward()
    return np.asarray(zt.grad)[0]


# %%
L = Lesson("13_losses_and_outputs", "Losses and output layers")
X, y = data.load_digits()
split = data.train_dev_test_split(X, y, dev=0.25, test=0.0, stratify=True, seed=L.seed)
scaler = data.StandardScaler().fit(split.train[0])
Xtr, ytr = scaler.transform(split.train[0]), split.train[1]
Xva, yva = scaler.transform(split.dev[0]), split.dev[1]


# %% [markdown]
# ## 1. The first loss (LOSS-1)
# An untrained classifier that treats all classes alike predicts 1/C for each, so its first
# cross-entropy is ln C (2.303 for the 10 digits); a binary classifier predicting 0.5 starts at
# ln 2 = 0.693. Small output weights give such a start; large ones do not, and a first loss far from
# ln C is the crash course's first sign of a bug. `minidl.diagnostics.initial_loss_check` does the
# comparison.

# %%
L.section("1. The first loss is about ln C")
rows = []
first = {}
for name, std in (("output weights N(0, 0.01^2)", 0.01), ("default init", None), ("output weights N(0, 3^2)", 3.0)):
    model = mlp(64, 10, last_std=std)
    check = diagnostics.initial_loss_check(model, nn.CrossEntropyLoss(), Xtr, ytr)
    first[name] = check.values["loss"]
    rows.append([name, "cross-entropy, 10 classes", check.values["loss"], math.log(10), check.ok])
y_bin = (ytr >= 5).astype(np.float32)[:, None]  # a binary task: digit >= 5
model = mlp(64, 1, last_std=0.01)
check_bin = diagnostics.initial_loss_check(model, nn.BCEWithLogitsLoss(), Xtr, y_bin)
rows.append(["output weights N(0, 0.01^2)", "binary cross-entropy (digit >= 5)", check_bin.values["loss"],
             math.log(2), check_bin.ok])
L.table("first_loss", ["model", "loss", "first loss", "expected", "initial_loss_check ok"], rows,
        caption="The loss of untrained 64-64-output MLPs on the digits training set", digits=4)
large_check = diagnostics.initial_loss_check(mlp(64, 10, last_std=3.0), nn.CrossEntropyLoss(), Xtr, ytr)
L.note(f"initial_loss_check on a large-weight model: {large_check.advice}")
ce_small, bce_small = first["output weights N(0, 0.01^2)"], check_bin.values["loss"]
L.claim("LOSS-1", abs(ce_small - math.log(10)) < 0.05 and abs(bce_small - math.log(2)) < 0.05
        and first["output weights N(0, 3^2)"] > math.log(10) + 1,
        "with small output weights the first cross-entropy is ln 10 = 2.303 and the first BCE ln 2 = 0.693 "
        "(within 0.05); large output weights start far above", first_ce=ce_small, first_bce=bce_small,
        first_ce_large_weights=first["output weights N(0, 3^2)"])


# %% [markdown]
# ## 2. Cross-entropy against MSE through a softmax (LOSS-2)
# One sample, 10 classes, true class 1, logits (s, 0, ..., 0): the model is confidently wrong (it
# bets on class 0) for large s. The gradient of the cross-entropy with respect to the logits is
# softmax(z) - y, which tends to a vector of norm sqrt(2); through a softmax, MSE's gradient is
# multiplied by the softmax's Jacobian, which vanishes as the softmax saturates.

# %%
L.section("2. The gradient at a confidently wrong output")
margins = np.linspace(0, 12, 25)
g_ce, g_mse, ce_formula_err = [], [], 0.0
for s in margins:
    logits = np.zeros(10)
    logits[0] = s
    gce = grad_wrt_logits(logits, 1, "ce")
    p = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    ce_formula_err = max(ce_formula_err, float(np.abs(gce - (p - np.eye(10)[1])).max()))
    g_ce.append(float(np.linalg.norm(gce)))
    g_mse.append(float(np.linalg.norm(grad_wrt_logits(logits, 1, "mse"))))
rows = [[s, g_ce[i], g_mse[i], g_ce[i] / g_mse[i]] for i, s in enumerate(margins) if s in (0, 2, 4, 6, 8, 10, 12)]
L.table("gradients_wrong", ["logit margin s", "||dCE/dz||", "||dMSE(softmax)/dz||", "ratio"], rows,
        caption="Gradient norms with respect to the logits, true class 1, logits (s, 0, ..., 0)")
fig, ax = plt.subplots(figsize=(8.5, 4.8))
ax.semilogy(margins, g_ce, "o-", label="cross-entropy on the logits: softmax(z) - y")
ax.semilogy(margins, g_mse, "s-", label="MSE between softmax(z) and the one-hot y")
ax.axhline(math.sqrt(2), color="k", ls=":", label="sqrt(2): the limit of ||softmax(z) - y||")
ax.set(title="A confidently wrong output: the gradient that reaches the logits",
       xlabel="logit margin s of the wrong class (larger = more confident)", ylabel="||dL/dz|| (log scale)")
ax.legend(fontsize=9)
ax.grid(alpha=0.3, which="both")
L.figure(fig, "gradient_confidently_wrong",
         caption="cross-entropy keeps a large gradient; MSE through softmax vanishes")
L.claim("LOSS-2", ce_formula_err < 1e-12 and g_ce[-1] > 1.4 and g_mse[-1] < 1e-3 and g_ce[-1] / g_mse[-1] > 1e3,
        "cross-entropy's gradient softmax(z) - y stays large when the model is confidently wrong; MSE through "
        "a softmax vanishes there", ce_grad_at_12=g_ce[-1], mse_grad_at_12=g_mse[-1], formula_error=ce_formula_err)


# %% [markdown]
# ## 3. Logits or probabilities (LOSS-3)
# `CrossEntropyLoss` and `BCEWithLogitsLoss` take logits; `NLLLoss` takes log-probabilities and
# `BCELoss` probabilities. The pairs agree; a softmax applied before `CrossEntropyLoss` (a softmax
# twice) raises no error but computes a different loss: the "logits" it sees are in [0, 1], so even a
# perfect prediction costs at least ln(1 + 9/e) = 1.46 for 10 classes (the loss can only move between
# 1.46 and ln 10 = 2.30), and the gradients are small.
# Softmax outputs sum to 1 (one label per example); sigmoid outputs are independent (one yes/no per
# label).

# %%
L.section("3. Logits vs probabilities, and a softmax applied twice")
z = md.tensor(L.rng.standard_normal((64, 10)) * 3, dtype=md.float64)
t = md.tensor(L.rng.integers(0, 10, 64))
zb = md.tensor(L.rng.standard_normal((64, 5)) * 3, dtype=md.float64)
tb = md.tensor(L.rng.integers(0, 2, (64, 5)).astype(np.float64))
pairs = {
    "LogSoftmax + NLLLoss vs CrossEntropyLoss": (nn.NLLLoss()(nn.LogSoftmax(dim=1)(z), t).item(),
                                                 nn.CrossEntropyLoss()(z, t).item()),
    "Sigmoid + BCELoss vs BCEWithLogitsLoss": (nn.BCELoss()(md.sigmoid(zb), tb).item(),
                                               nn.BCEWithLogitsLoss()(zb, tb).item()),
    "CrossEntropyLoss(softmax(z)) vs CrossEntropyLoss(z)": (nn.CrossEntropyLoss()(md.softmax(z, dim=1), t).item(),
                                                            nn.CrossEntropyLoss()(z, t).item()),
}
perfect = md.tensor(np.eye(10)[:5] * 50.0)  # logits that are certain and right for classes 0..4
double_perfect = nn.CrossEntropyLoss()(md.softmax(perfect, dim=1), md.tensor(np.arange(5))).item()
rows = [[k, a, b, abs(a - b)] for k, (a, b) in pairs.items()]
rows.append(["a perfect, certain prediction: softmax twice vs once", double_perfect,
             nn.CrossEntropyLoss()(perfect, md.tensor(np.arange(5))).item(), double_perfect])
L.table("logits_vs_probabilities", ["pair", "first", "second", "|difference|"], rows,
        caption="The same logits through the pairs (64 samples)", digits=5)
row_soft = md.softmax(z, dim=1).numpy().sum(1)
row_sig = md.sigmoid(z).numpy().sum(1)
L.note(f"Row sums over the 10 outputs: softmax {row_soft.min():.6f} to {row_soft.max():.6f} (always 1: one label); "
       f"sigmoid {row_sig.min():.2f} to {row_sig.max():.2f} (independent yes/no labels).")

epochs = 5 if L.quick else 12
hist = {}
for name, last in (("logits -> CrossEntropyLoss", nn.Identity()), ("softmax -> CrossEntropyLoss (softmax twice)",
                                                                   nn.Softmax(dim=1))):
    md.manual_seed(L.seed + 1)
    model = nn.Sequential(mlp(64, 10, last_std=0.01), last)
    loader = data.DataLoader(data.TensorDataset(Xtr, ytr), batch_size=64, shuffle=True, seed=L.seed)
    hist[name] = train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), loader,
                           epochs=epochs, val_loader=[(Xva, yva)], verbose=0)
fig, axes = plt.subplots(1, 2, figsize=(13, 4.4))
ep = np.arange(1, epochs + 1)
for i, (name, h) in enumerate(hist.items()):
    axes[0].plot(ep, h["loss"], "-o", color=f"C{i}", ms=4, label=f"{name}: training")
    axes[0].plot(ep, h["val_loss"], "--s", color=f"C{i}", ms=4, label=f"{name}: validation")
    axes[1].plot(ep, h["val_accuracy"], "-o", color=f"C{i}", ms=4, label=name)
axes[0].axhline(math.log(10), color="0.5", ls=":", label="ln 10")
axes[0].axhline(math.log(1 + 9 / math.e), color="C3", ls=":", label="ln(1 + 9/e): the floor of the doubled loss")
axes[0].set(title="loss as computed by each setup", xlabel="epoch", ylabel="cross-entropy")
axes[1].set(title="validation accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
axes[0].legend(fontsize=8.5, loc="center right", bbox_to_anchor=(1.0, 0.45))
axes[1].legend(fontsize=8.5, loc="lower right")
for ax in axes:
    ax.grid(alpha=0.3)
fig.suptitle("Digits MLP, SGD lr = 0.1: the correct loss against a softmax applied twice")
L.figure(fig, "softmax_twice", caption="a doubled softmax stays near ln 10 and learns slowly")
h_ok, h_bad = hist["logits -> CrossEntropyLoss"], hist["softmax -> CrossEntropyLoss (softmax twice)"]
L.table("softmax_twice", ["setup", "loss epoch 1", f"loss epoch {epochs}", "val accuracy epoch 1",
                          f"val accuracy epoch {epochs}"],
        [[k, h["loss"][0], h["loss"][-1], h["val_accuracy"][0], h["val_accuracy"][-1]] for k, h in hist.items()],
        caption="Training with the right and the doubled softmax")
d1, d2 = pairs["LogSoftmax + NLLLoss vs CrossEntropyLoss"], pairs["Sigmoid + BCELoss vs BCEWithLogitsLoss"]
d3 = pairs["CrossEntropyLoss(softmax(z)) vs CrossEntropyLoss(z)"]
L.claim("LOSS-3", abs(d1[0] - d1[1]) < 1e-10 and abs(d2[0] - d2[1]) < 1e-10 and abs(d3[0] - d3[1]) > 0.2
        and abs(double_perfect - math.log(1 + 9 / math.e)) < 1e-6 and np.allclose(row_soft, 1)
        and row_sig.std() > 0.1 and h_bad["loss"][-1] > math.log(1 + 9 / math.e) + 0.3
        and h_ok["val_accuracy"][0] > h_bad["val_accuracy"][0] + 0.2
        and h_ok["val_accuracy"][-1] > h_bad["val_accuracy"][-1] + 0.2,
        "LogSoftmax+NLL = CE and sigmoid+BCE = BCEWithLogits; a softmax applied twice silently gives a wrong "
        "loss that stays near ln C and learns slowly", softmax_twice_final_loss=h_bad["loss"][-1],
        acc_epoch1_ok=h_ok["val_accuracy"][0], acc_epoch1_twice=h_bad["val_accuracy"][0],
        acc_last_ok=h_ok["val_accuracy"][-1], acc_last_twice=h_bad["val_accuracy"][-1],
        perfect_twice=double_perfect)


# %% [markdown]
# ## 4. Weighted cross-entropy on an imbalanced set (LOSS-4)
# Two overlapping Gaussian classes in 2-D with 10% positives. A logistic classifier (one linear
# layer, two logits) trained with `CrossEntropyLoss(weight=[1, w])`: a larger weight on the positives
# makes a missed positive (false negative) cost more, so the boundary moves toward the negatives;
# sensitivity (recall) rises and precision falls (`minidl.metrics`).

# %%
L.section("4. Weighted cross-entropy: sensitivity against precision")
n_neg, n_pos = (900, 100) if L.quick else (1800, 200)


def toy(n0: int, n1: int) -> tuple[np.ndarray, np.ndarray]:
    x0 = L.rng.standard_normal((n0, 2))
    x1 = L.rng.standard_normal((n1, 2)) + np.array([1.5, 1.5])
    return np.vstack([x0, x1]).astype(np.float32), np.r_[np.zeros(n0), np.ones(n1)].astype(np.int64)


Xi, yi = toy(n_neg, n_pos)
Xi_test, yi_test = toy(n_neg, n_pos)
weights = [1.0, 3.0, 9.0, 30.0]
rows, sens, prec = [], [], []
for w in weights:
    md.manual_seed(L.seed)
    clf = nn.Linear(2, 2)
    loader = data.DataLoader(data.TensorDataset(Xi, yi), batch_size=100, shuffle=True, seed=L.seed)
    train.fit(clf, nn.CrossEntropyLoss(weight=md.tensor([1.0, w])), optim.Adam(clf.parameters(), lr=0.05),
              loader, epochs=15 if L.quick else 20, verbose=0, metrics=())
    pred = train.predict(clf, Xi_test).numpy().argmax(1)
    sens.append(metrics.recall(yi_test, pred))
    prec.append(metrics.precision(yi_test, pred))
    rows.append([w, sens[-1], prec[-1], metrics.specificity(yi_test, pred), metrics.f1_score(yi_test, pred),
                 int(pred.sum())])
L.table("weighted_ce", ["weight w on positives", "sensitivity (recall)", "precision", "specificity", "F1",
                        "predicted positives"], rows,
        caption=f"Logistic classifier, {n_neg} negatives and {n_pos} positives, test set of the same size")
fig, ax = plt.subplots(figsize=(8, 4.6))
ax.semilogx(weights, sens, "o-", label="sensitivity (recall)")
ax.semilogx(weights, prec, "s-", label="precision")
ax.axvline(n_neg / n_pos, color="0.5", ls=":", label=f"w = n_neg / n_pos = {n_neg / n_pos:g}")
ax.set(title="Weighting the positive class in the cross-entropy (10% positives)",
       xlabel="weight w on the positive class (log scale)", ylabel="test score", ylim=(0, 1.05))
ax.set_xticks(weights, [f"{w:g}" for w in weights])
ax.legend(fontsize=9)
ax.grid(alpha=0.3)
L.figure(fig, "weighted_ce", caption="sensitivity rises and precision falls as the positive weight grows")
L.claim("LOSS-4", sens == sorted(sens) and prec == sorted(prec, reverse=True) and sens[-1] > sens[0] + 0.2
        and prec[-1] < prec[0] - 0.1,
        "weighting the positives by w > 1 raises sensitivity at the price of precision",
        sensitivity_w1=sens[0], sensitivity_w30=sens[-1], precision_w1=prec[0], precision_w30=prec[-1])


# %% [markdown]
# ## 5. KL divergence and cross-entropy (LOSS-5)
# KL(p || q) = sum p log(p / q) = CE(p, q) - H(p). H(p) does not depend on q, so the two have the same
# gradient in q; for a one-hot p, H(p) = 0 and KL equals the cross-entropy.

# %%
L.section("5. KL = CE - H")
logits_q = md.tensor(L.rng.standard_normal((8, 10)), dtype=md.float64, requires_grad=True)
p = L.rng.dirichlet(np.ones(10), size=8)
log_q = md.log_softmax(logits_q, dim=1)
kl = F.kl_div(log_q, md.tensor(p), reduction="batchmean")
ce_pq = float(-(p * log_q.numpy()).sum(1).mean())
h_p = float(-(p * np.log(p)).sum(1).mean())
onehot_t = L.rng.integers(0, 10, 8)
kl_1 = F.kl_div(md.log_softmax(logits_q, dim=1), md.tensor(np.eye(10)[onehot_t]), reduction="batchmean")
kl_1.backward()
g_kl = np.asarray(logits_q.grad).copy()
logits_q.grad = None
ce_1 = F.cross_entropy(logits_q, md.tensor(onehot_t))
ce_1.backward()
g_ce1 = np.asarray(logits_q.grad)
L.table("kl_ce_h", ["quantity", "value"],
        [["KL(p || q) (kl_div, batchmean)", kl.item()], ["CE(p, q)", ce_pq], ["H(p)", h_p],
         ["CE - H", ce_pq - h_p], ["one-hot p: KL", kl_1.item()], ["one-hot p: cross_entropy", ce_1.item()],
         ["one-hot p: max |dKL/dz - dCE/dz|", float(np.abs(g_kl - g_ce1).max())]],
        caption="8 random distributions p (Dirichlet) against q = softmax(z)", digits=8)
L.claim("LOSS-5", abs(kl.item() - (ce_pq - h_p)) < 1e-12 and abs(kl_1.item() - ce_1.item()) < 1e-12
        and float(np.abs(g_kl - g_ce1).max()) < 1e-12,
        "KL(p||q) = CE(p, q) - H(p); for one-hot targets KL equals the cross-entropy, with the same gradient",
        kl=kl.item(), ce_minus_h=ce_pq - h_p, onehot_grad_diff=float(np.abs(g_kl - g_ce1).max()))


# %% [markdown]
# ## 6. Pseudo-Huber between MSE and L1 (LOSS-6)
# delta^2 (sqrt(1 + (a/delta)^2) - 1) is a^2/2 for small residuals a (like half the squared error) and
# delta |a| for large ones (like L1, so outliers pull with a bounded force), smooth everywhere.

# %%
L.section("6. The two limits of pseudo-Huber")
rows, ratios_ok = [], True
for delta in (0.5, 1.0, 3.0):
    for a in (1e-3 * delta, 1e3 * delta):
        residual, zero1 = md.tensor([a], dtype=md.float64), md.tensor([0.0], dtype=md.float64)
        ph = nn.PseudoHuberLoss(delta=delta)(residual, zero1).item()
        small, large = ph / (a * a / 2), ph / (delta * abs(a))
        ratios_ok &= abs(small - 1) < 1e-3 if a < delta else abs(large - 1) < 1e-3
        rows.append([delta, a, ph, small, large])
L.table("pseudo_huber", ["delta", "residual a", "pseudo-Huber", "ratio to a^2/2", "ratio to delta |a|"], rows,
        caption="PseudoHuberLoss at residuals 1e-3 delta and 1e3 delta", digits=5)
a_grid = md.tensor(np.linspace(-6, 6, 241), dtype=md.float64)
zero = md.zeros(241, dtype=md.float64)
fig, axes = plt.subplots(1, 2, figsize=(13, 4.4))
ax = axes[0]
ax.plot(a_grid.numpy(), F.mse_loss(a_grid, zero, reduction="none").numpy() / 2, label="a^2 / 2 (half MSE)")
ax.plot(a_grid.numpy(), F.l1_loss(a_grid, zero, reduction="none").numpy(), label="|a| (L1)")
ax.plot(a_grid.numpy(), F.pseudo_huber_loss(a_grid, zero, reduction="none", delta=1.0).numpy(), lw=2.5,
        label="pseudo-Huber, delta = 1")
ax.set(title="Regression losses", xlabel="residual a", ylabel="loss", ylim=(0, 8))
ax.legend(fontsize=9)
ax.grid(alpha=0.3)
ax = axes[1]
a_pos = md.tensor(np.logspace(-3, 3, 200), dtype=md.float64)
ph = F.pseudo_huber_loss(a_pos, md.zeros(200, dtype=md.float64), reduction="none", delta=1.0).numpy()
ax.loglog(a_pos.numpy(), ph, lw=2.5, label="pseudo-Huber, delta = 1")
ax.loglog(a_pos.numpy(), a_pos.numpy() ** 2 / 2, "--", label="a^2 / 2")
ax.loglog(a_pos.numpy(), a_pos.numpy(), ":", label="delta |a|")
ax.set(title="On log-log axes: slope 2 for small a, slope 1 for large a", xlabel="|a| (log scale)",
       ylabel="loss (log scale)")
ax.legend(fontsize=9)
ax.grid(alpha=0.3, which="both")
L.figure(fig, "pseudo_huber", caption="pseudo-Huber follows a^2/2 near 0 and delta |a| far away")
L.claim("LOSS-6", ratios_ok, "pseudo-Huber behaves like a^2/2 for small residuals and like delta |a| for large ones "
        "(ratios within 1e-3 at 1e-3 delta and 1e3 delta)")


# %% [markdown]
# ## 7. One backbone, three heads (LOSS-7)
# A small convolutional backbone on the 8x8 digits, then: global average pooling + a dense layer for
# classification (N, 10); a 1x1 convolution with one output per pixel and class for segmentation
# (N, 2, 8, 8) (here: is the pixel ink?); a dense layer for regression (N, 1) (here: the mean ink).
# Each head's loss backpropagates into the same backbone.

# %%
L.section("7. Classification, segmentation and regression heads")
Xim, yim = data.load_digits(as_images=True)
xb = md.tensor(Xim[:32] / 16.0)
backbone = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
heads = {"classification": nn.Sequential(nn.AvgPool2d(8), nn.Flatten(), nn.Linear(16, 10)),
         "segmentation": nn.Conv2d(16, 2, 1),
         "regression": nn.Sequential(nn.Flatten(), nn.Linear(16 * 8 * 8, 1))}
targets = {"classification": (md.tensor(yim[:32]), nn.CrossEntropyLoss()),
           "segmentation": (md.tensor((Xim[:32, 0] > 4).astype(np.int64)), nn.CrossEntropyLoss()),
           "regression": (md.tensor(Xim[:32].reshape(32, -1).mean(1, keepdims=True) / 16.0), nn.MSELoss())}
rows, shapes = [], {}
for name, head in heads.items():
    backbone.zero_grad()
    features = backbone(xb)
    out = head(features)
    target, loss_fn = targets[name]
    loss = loss_fn(out, target)
    loss.backward()
    g = float(np.linalg.norm(np.asarray(backbone[0].weight.grad)))
    shapes[name] = tuple(out.shape)
    rows.append([name, type(head).__name__ if not isinstance(head, nn.Sequential) else
                 " + ".join(type(m).__name__ for m in head), str(tuple(features.shape)), str(tuple(out.shape)),
                 type(loss_fn).__name__, loss.item(), g])
L.table("heads", ["task", "head", "backbone output", "head output", "loss", "first loss",
                  "||grad of the first backbone conv||"], rows,
        caption="One backbone (two 3x3 convolutions, 16 channels) with three heads, a batch of 32 digits")
L.claim("LOSS-7", shapes == {"classification": (32, 10), "segmentation": (32, 2, 8, 8), "regression": (32, 1)}
        and all(r[-1] > 0 for r in rows),
        "one backbone serves classification (pool + dense: (N, 10)), segmentation (per-pixel conv: (N, 2, 8, 8)) "
        "and regression (dense: (N, 1)) by changing its head", shapes=str(shapes))


# %%
L.finish()
