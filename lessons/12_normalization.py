# %% [markdown]
# # Lesson 12: Normalization layers
#
# Batch normalization and its relatives, after the BME 548L toolbox deck, the "Deep Learning Training
# Tips" deck, the crash course and the TU/e methodology deck. Batch norm standardises each feature
# over the minibatch, then scales and shifts it with learned gamma and beta:
#
#     mu_B = (1/m) sum x_i,   sigma_B^2 = (1/m) sum (x_i - mu_B)^2,   x_hat = (x - mu_B) / sqrt(sigma_B^2 + eps),
#     y = gamma x_hat + beta.
#
# We train the same deep tanh network on the digits with and without batch norm (at a normal and a
# large learning rate, and from a poor initialisation), watch its activations during training, rerun
# the 6-layer tanh experiment of lesson 02 with batch norm, and check the layer's properties one by
# one: gamma and beta can undo it, running statistics for eval mode, a batch of one, the batch size,
# invariance to the scale of the weights before it, the dependence on the rest of the batch, and
# batch/layer/instance/group norm as the axes of an (N, C, H, W) tensor.
#
# Run: `python -m lessons run 12` (add `--quick` for small sizes).

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
import minidl.optim as optim
from lessons._lesson import Lesson
from minidl import diagnostics, train, viz


def deep_tanh_net(bn: bool, init_std: float | None, depth: int, width: int) -> nn.Sequential:
    """64 -> depth x [Linear(width) (-> BatchNorm1d) -> Tanh] -> Linear(10); ``init_std`` replaces the
    default init of the hidden weights by N(0, init_std^2) (None keeps PyTorch's default)."""
    layers: list[nn.Module] = []
    d = 64
    for _ in range(depth):
        lin = nn.Linear(d, width)
        if init_std is not None:
            nn.init.normal_(lin.weight, 0.0, init_std)
        layers += [lin] + ([nn.BatchNorm1d(width)] if bn else []) + [nn.Tanh()]
        d = width
    layers.append(nn.Linear(d, 10))
    return nn.Sequential(*layers)


class TanhSnapshots(train.Callback):
    """Keep the Tanh outputs of every layer (``diagnostics.activation_stats`` on a fixed batch) after
    the chosen epochs."""

    def __init__(self, x: np.ndarray, epochs: set[int]):
        self.x, self.epochs = x, epochs
        self.snaps: dict[int, dict[str, np.ndarray]] = {}  # epoch -> layer name -> Tanh outputs

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch in self.epochs:
            stats = diagnostics.activation_stats(self.run.model, self.x)
            acts = {k: v for k, v in stats.values["activations"].items() if "Tanh" in k}
            self.snaps[epoch] = {f"tanh {i + 1}": a for i, a in enumerate(acts.values())}


def tanh_stack_stds(n: int, sigma: float, bn: bool, batch: int) -> tuple[list[float], list[float]]:
    """Lesson 02's experiment: ``batch`` N(0, 1) inputs through 6 layers z = h W^T (W ~ N(0, sigma^2),
    n x n, no bias) (-> BatchNorm1d in training mode) -> tanh. Returns the activation std of each layer
    and the backpropagated ||dL/dh_l|| for a random linear read-out L = sum(h_6 * r)."""
    h = md.randn(batch, n).requires_grad_()
    Ws = [md.randn(n, n) * sigma for _ in range(6)]
    stds, hs = [], []
    for W in Ws:
        z = h @ W.T
        if bn:
            z = nn.BatchNorm1d(n)(z)
        h = md.tanh(z)
        h.retain_grad()
        hs.append(h)
        stds.append(float(h.std()))
    (h * md.randn(batch, n)).sum().backward()
    return stds, [float(np.linalg.norm(hl.grad)) for hl in hs]


# %%
L = Lesson("12_normalization", "Normalization layers")
epochs = 3 if L.quick else 6
depth, width = 6, 64


# %% [markdown]
# ## 1. The batch-norm transform (NORM-1)
# `nn.BatchNorm1d` against the formula written out in NumPy: per feature, the batch mean and the
# *biased* variance (1/m). With gamma = 1 and beta = 0 every feature comes out with mean 0 and variance
# sigma_B^2 / (sigma_B^2 + eps): 1 for ordinary features, visibly less for a feature whose variance is
# comparable to eps = 1e-5.

# %%
L.section("1. The batch-norm transform")
m = 64
mu_true = np.array([3.0, -2.0, 0.0, 10.0])
sd_true = np.array([2.0, 0.5, 1.0, 0.003])  # the last one has sigma^2 = 9e-6, comparable to eps
xb = (mu_true + sd_true * L.rng.standard_normal((m, 4))).astype(np.float64)
bn = nn.BatchNorm1d(4, dtype=md.float64)
y = bn(md.tensor(xb)).numpy()
mu_b, var_b = xb.mean(0), xb.var(0)  # NumPy's var is the biased (1/m) one
y_hand = (xb - mu_b) / np.sqrt(var_b + bn.eps)
err1 = float(np.abs(y - y_hand).max())
rows = [[f"x{j + 1}", mu_true[j], sd_true[j], y[:, j].mean(), y[:, j].var(), var_b[j] / (var_b[j] + bn.eps)]
        for j in range(4)]
L.table("bn_transform", ["feature", "data mean", "data std", "output mean", "output variance (1/m)",
                         "sigma_B^2 / (sigma_B^2 + eps)"], rows,
        caption=f"BatchNorm1d (gamma = 1, beta = 0, eps = 1e-5) on a batch of m = {m}", digits=4)
unbiased_would_be = float(np.abs((xb - mu_b) / np.sqrt(xb.var(0, ddof=1) + bn.eps) - y).max())
L.note(f"Module vs formula: max |difference| = {err1:.1e}. Had it used the unbiased variance 1/(m-1), "
       f"the outputs would differ by up to {unbiased_would_be:.3f}.")
L.claim("NORM-1", err1 < 1e-10 and np.allclose(y.mean(0), 0, atol=1e-10)
        and np.allclose(y.var(0), var_b / (var_b + bn.eps), rtol=1e-9) and unbiased_would_be > 1e-3,
        "batch norm = (x - batch mean) / sqrt(biased batch variance + eps), per feature; output mean 0 and "
        "variance sigma^2/(sigma^2 + eps)", max_diff=err1, var_of_tiny_feature=y[:, 3].var())


# %% [markdown]
# ## 2. The same deep network with and without batch norm (NORM-6)
# Six tanh layers of 64 units on the digits (standardised pixels, 80/20 split), plain SGD with batch
# 64, trained with `minidl.train.fit`: at lr = 0.1 from PyTorch's default init, at a 20x larger
# lr = 2, and at lr = 0.1 from a poor init, N(0, 0.01^2) for every hidden weight. Batch norm goes
# between each linear layer and its tanh. Batch norm makes training far less sensitive to the
# initialisation and to the learning rate (NORM-6, whose mechanism section 7 shows).

# %%
L.section("2. Training curves with and without batch norm")
X, yd = data.load_digits()
split = data.train_dev_test_split(X, yd, dev=0.2, test=0.0, stratify=True, seed=L.seed)
scaler = data.StandardScaler().fit(split.train[0])
Xtr, ytr = scaler.transform(split.train[0]), split.train[1]
Xva, yva = scaler.transform(split.dev[0]), split.dev[1]
val_loader = data.DataLoader(data.TensorDataset(Xva, yva), batch_size=512)
configs = {"lr = 0.1, default init": (0.1, None), "lr = 2 (20x larger)": (2.0, None),
           "lr = 0.1, poor init N(0, 0.01^2)": (0.1, 0.01)}
histories: dict[tuple[str, bool], train.History] = {}
snapshots: dict[bool, dict] = {}
for cname, (lr, std) in configs.items():
    for use_bn in (False, True):
        md.manual_seed(L.seed + 1)  # the same initial weights with and without batch norm
        model = deep_tanh_net(use_bn, std, depth, width)
        loader = data.DataLoader(data.TensorDataset(Xtr, ytr), batch_size=64, shuffle=True, seed=L.seed)
        cbs = []
        if std is not None:
            snap = TanhSnapshots(Xva[:256], {0, epochs - 1})
            cbs.append(snap)
            snapshots[use_bn] = snap.snaps
        histories[cname, use_bn] = train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr),
                                             loader, epochs=epochs, val_loader=val_loader, verbose=0, callbacks=cbs)

rows = []
for cname in configs:
    hp, hb = histories[cname, False], histories[cname, True]
    rows.append([cname, hp["loss"][0], hp["loss"][-1], hp["val_accuracy"][-1],
                 hb["loss"][0], hb["loss"][-1], hb["val_accuracy"][-1]])
L.table("bn_vs_plain", ["setup", "plain: loss epoch 1", f"plain: loss epoch {epochs}", "plain: val accuracy",
                        "BN: loss epoch 1", f"BN: loss epoch {epochs}", "BN: val accuracy"], rows,
        caption=f"The same {depth}-layer tanh network (width {width}) on the digits, {epochs} epochs of SGD")

fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), sharey=True)
for ax, cname in zip(axes, configs):
    for use_bn, color in ((False, "C0"), (True, "C1")):
        h = histories[cname, use_bn]
        ep = np.arange(1, epochs + 1)
        label = "with batch norm" if use_bn else "plain"
        ax.plot(ep, h["loss"], "-o", color=color, ms=4, label=f"{label}: training loss")
        ax.plot(ep, h["val_loss"], "--s", color=color, ms=4, label=f"{label}: validation loss")
    ax.axhline(math.log(10), color="0.5", ls=":", label="ln 10 (chance)")
    ax.set(title=cname, xlabel="epoch", yscale="log", xticks=np.arange(1, epochs + 1, max(1, epochs // 10)))
    ax.grid(alpha=0.3)
axes[0].set_ylabel("cross-entropy (log scale)")
axes[0].legend(fontsize=9)
fig.suptitle(f"{depth} tanh layers of {width} units on the digits: plain vs batch norm after every linear layer")
L.figure(fig, "training_curves", caption="training and validation loss, plain vs batch norm, three setups")

acc = {(c, b): histories[c, b]["val_accuracy"][-1] for c in configs for b in (False, True)}
poor, big, base = list(configs)[2], list(configs)[1], list(configs)[0]
L.claim("NORM-6", histories[poor, False]["loss"][-1] > math.log(10) - 0.05 and acc[poor, True] > 0.8
        and acc[big, True] > acc[big, False] + 0.2 and acc[base, True] >= acc[base, False] - 0.02,
        "batch norm makes training far less sensitive to the initialisation (and to the learning rate): "
        "from N(0, 0.01^2) the plain net stays at ln 10 while the BN net learns; at lr = 2 only the BN net does",
        plain_poor_loss=histories[poor, False]["loss"][-1], bn_poor_acc=acc[poor, True],
        plain_lr2_acc=acc[big, False], bn_lr2_acc=acc[big, True])


# %% [markdown]
# ## 3. Activations during training (NORM-7)
# The tanh outputs of layers 1, 3 and 6 on 256 validation images, after the first and the last epoch of the
# poor-init runs above (`minidl.diagnostics.activation_stats`, drawn with `minidl.viz.plot_histograms`).
# Then lesson 02's experiment: 16 standard-normal inputs through 6 tanh layers with weights
# N(0, 0.01^2), without and with batch norm after every linear layer (training mode, batch
# statistics). Lesson 02 uses 4096 units; here 1024 (512 in quick mode) to keep the lesson fast, with
# sigma scaled by sqrt(4096/n) so that n sigma^2, and hence the plain network's numbers, stay the
# deck's (batch norm does not care about sigma at all, section 7).

# %%
L.section("3. Per-layer activations during training, and the 6-layer tanh stack")
shown = ("tanh 1", "tanh 3", "tanh 6")  # three of the six layers: a 4 x 6 grid takes long to draw
grid = {f"{'BN' if b else 'plain'}, after epoch {e + 1}": {k: snapshots[b][e][k] for k in shown}
        for b in (False, True) for e in (0, epochs - 1)}
fig = viz.plot_histograms(grid, title="tanh outputs per layer (poor init N(0, 0.01^2)), 256 validation images",
                          xlabel="tanh output", range=(-1, 1), bins=40, density=True)
L.figure(fig, "activations_during_training",
         caption="per-layer tanh outputs after the first and last epoch, plain vs batch norm")
last_std = {b: [float(a.std()) for a in snapshots[b][epochs - 1].values()] for b in (False, True)}

n_units = 512 if L.quick else 1024
sigma = 0.01 * math.sqrt(4096 / n_units)
std_plain, grad_plain = tanh_stack_stds(n_units, sigma, False, 16)
std_bn, grad_bn = tanh_stack_stds(n_units, sigma, True, 16)
rows = [[f"layer {i + 1}", std_plain[i], std_bn[i], grad_plain[i], grad_bn[i]] for i in range(6)]
L.table("tanh_stack_bn", ["layer", "std, plain", "std, with BN", "||dL/dh_l||, plain", "||dL/dh_l||, with BN"], rows,
        caption=f"6 tanh layers of {n_units} units, W ~ N(0, {sigma:.3g}^2) (n sigma^2 = 0.41 as with 4096 units "
                "and sigma = 0.01), 16 N(0, 1) inputs")
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
ax = axes[0]
ax.plot(range(1, 7), std_plain, "o-", label="plain (collapses)")
ax.plot(range(1, 7), std_bn, "s-", label="batch norm after each linear layer")
ax.plot(range(1, 7), [0.49, 0.29, 0.18, 0.11, 0.07, 0.05], "k:", label="the crash course's numbers (4096 units)")
ax.set(title="activation std per layer", xlabel="layer", ylabel="std of tanh output", ylim=(0, 0.75))
ax.legend(fontsize=9)
ax.grid(alpha=0.3)
ax = axes[1]
ax.semilogy(range(1, 7), grad_plain, "o-", label="plain")
ax.semilogy(range(1, 7), grad_bn, "s-", label="batch norm")
ax.set(title="backpropagated gradient per layer", xlabel="layer", ylabel="||dL/dh_l|| (log scale)")
ax.legend(fontsize=9)
ax.grid(alpha=0.3)
fig.suptitle(f"Lesson 02's 6-layer tanh stack with W ~ N(0, 0.01^2 x 4096/{n_units}), with and without batch norm")
L.figure(fig, "tanh_stack_bn", caption="activation std and weight gradients per layer, plain vs batch norm")
L.claim("NORM-7", max(std_bn) - min(std_bn) < 0.05 and std_bn[-1] > 0.55 and std_plain[-1] < 0.1
        and grad_bn[0] / grad_bn[-1] > 3 * grad_plain[0] / grad_plain[-1]
        and min(last_std[True]) > 3 * min(last_std[False]),
        "with batch norm after each linear layer the 6-layer tanh net keeps about the same activation std in "
        "every layer instead of collapsing, and the gradient reaching the first layers shrinks less",
        std_bn_first=std_bn[0], std_bn_last=std_bn[-1], std_plain_last=std_plain[-1],
        grad_ratio_first_last_plain=grad_plain[0] / grad_plain[-1], grad_ratio_first_last_bn=grad_bn[0] / grad_bn[-1])


# %% [markdown]
# ## 4. gamma and beta give the expressive power back (NORM-2)
# Setting gamma = sqrt(sigma_B^2 + eps) and beta = mu_B undoes the normalisation exactly; and gradient
# descent finds these values by itself when asked to reproduce the layer's input (MSE loss, Adam).
# Without gamma and beta a sigmoid after batch norm sees N(0, 1) inputs, where it is almost linear.

# %%
L.section("4. gamma and beta recover the identity")
xi = md.tensor((np.array([5.0, -1.0, 0.2]) + np.array([2.0, 0.3, 4.0]) * L.rng.standard_normal((256, 3))),
               dtype=md.float64)
bn = nn.BatchNorm1d(3, dtype=md.float64)
mu_b, var_b = xi.numpy().mean(0), xi.numpy().var(0)
bn.weight.data[...] = np.sqrt(var_b + bn.eps)
bn.bias.data[...] = mu_b
ident_err = float(np.abs(bn(xi).numpy() - xi.numpy()).max())
bn = nn.BatchNorm1d(3, dtype=md.float64)
opt = optim.Adam(bn.parameters(), lr=0.05)
for _ in range(600):
    opt.zero_grad()
    loss = nn.MSELoss()(bn(xi), xi)
    loss.backward()
    opt.step()
rows = [[f"x{j + 1}", mu_b[j], bn.bias.numpy()[j], math.sqrt(var_b[j] + 1e-5), bn.weight.numpy()[j]] for j in range(3)]
L.table("gamma_beta_learned", ["feature", "mu_B", "learned beta", "sqrt(sigma_B^2 + eps)", "learned gamma"], rows,
        caption="BatchNorm1d trained for 600 Adam steps to reproduce its input (MSE)", digits=5)
z = L.rng.standard_normal(100_000)
s = 1 / (1 + np.exp(-z))
corr = float(np.corrcoef(s, z)[0, 1])
small = np.abs(z) < 1
lin_err = float(np.abs(s[small] - (0.5 + z[small] / 4)).max())
s4 = 1 / (1 + np.exp(-4 * z))
corr4 = float(np.corrcoef(s4, z)[0, 1])
L.note(f"Setting gamma and beta: max |BN(x) - x| = {ident_err:.1e}; the final MSE of the learned layer "
       f"is {loss.item():.1e}. A sigmoid of N(0, 1) inputs: corr(sigmoid(z), z) = {corr:.4f} and "
       f"|sigmoid(z) - (1/2 + z/4)| <= {lin_err:.4f} for |z| < 1 (nearly linear); with gamma = 4 the "
       f"correlation drops to {corr4:.3f}: gamma lets the layer use the non-linearity again.")
L.claim("NORM-2", ident_err < 1e-10 and np.allclose(bn.bias.numpy(), mu_b, rtol=1e-3, atol=1e-3)
        and np.allclose(bn.weight.numpy(), np.sqrt(var_b + 1e-5), rtol=1e-3) and 0.98 < corr < 0.995
        and lin_err < 0.02 and corr4 < 0.95,
        "gamma = sqrt(sigma^2 + eps), beta = mu undo batch norm (and are found by training); without them "
        "a sigmoid after BN stays nearly linear", identity_error=ident_err, corr_sigmoid=corr, corr_gamma4=corr4)


# %% [markdown]
# ## 5. Training mode, eval mode and the running statistics (NORM-3)
# Batches of 32 from a fixed distribution (per-feature means 2, -1, 0.5 and stds 3, 0.5, 1). In
# training mode the layer uses each batch's statistics and updates its running averages; PyTorch (and
# minidl) write the update as running <- (1 - momentum) running + momentum batch with momentum = 0.1,
# which is the Training Tips deck's mu_bar <- p mu_bar + (1 - p) mu_t with p = 0.9. (The running
# variance is updated with the *unbiased* batch variance.) `momentum=None` gives the cumulative average.

# %%
L.section("5. Running statistics converge to the data's")
mu_pop, sd_pop = np.array([2.0, -1.0, 0.5]), np.array([3.0, 0.5, 1.0])
n_batches = 100 if L.quick else 300
ema, cum = nn.BatchNorm1d(3, dtype=md.float64), nn.BatchNorm1d(3, momentum=None, dtype=md.float64)
ema_per_batch, cum_per_batch = [], []
first_ok = True
for t in range(n_batches):
    xt = mu_pop + sd_pop * L.rng.standard_normal((32, 3))
    before = ema.running_mean.numpy().copy(), ema.running_var.numpy().copy()
    ema(md.tensor(xt))
    cum(md.tensor(xt))
    if t == 0:  # one update by hand: 0.9 * old + 0.1 * batch (unbiased variance)
        first_ok = (np.allclose(ema.running_mean.numpy(), 0.9 * before[0] + 0.1 * xt.mean(0))
                    and np.allclose(ema.running_var.numpy(), 0.9 * before[1] + 0.1 * xt.var(0, ddof=1)))
    ema_per_batch.append(np.r_[ema.running_mean.numpy(), ema.running_var.numpy()])
    cum_per_batch.append(np.r_[cum.running_mean.numpy(), cum.running_var.numpy()])
trace_ema, trace_cum = np.array(ema_per_batch), np.array(cum_per_batch)
rows = [[f"x{j + 1}", mu_pop[j], trace_ema[-1, j], trace_cum[-1, j], sd_pop[j] ** 2, trace_ema[-1, 3 + j],
         trace_cum[-1, 3 + j]] for j in range(3)]
L.table("running_stats", ["feature", "data mean", "running mean (momentum 0.1)", "running mean (cumulative)",
                          "data variance", "running var (momentum 0.1)", "running var (cumulative)"], rows,
        caption=f"after {n_batches} training batches of 32")
ema.eval()
probe = md.tensor(mu_pop + sd_pop * L.rng.standard_normal((8, 3)))
out1, out2 = ema(probe).numpy(), ema(probe).numpy()
eval_expected = (probe.numpy() - ema.running_mean.numpy()) / np.sqrt(ema.running_var.numpy() + ema.eps)
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
steps = np.arange(1, n_batches + 1)
for j in range(3):
    axes[0].plot(steps, trace_ema[:, j], color=f"C{j}", lw=1, label=f"x{j + 1}: momentum 0.1")
    axes[0].plot(steps, trace_cum[:, j], color=f"C{j}", ls="--", lw=1.5, label=f"x{j + 1}: cumulative")
    axes[0].axhline(mu_pop[j], color=f"C{j}", ls=":", lw=1)
    axes[1].plot(steps, trace_ema[:, 3 + j] / sd_pop[j] ** 2, color=f"C{j}", lw=1, label=f"x{j + 1}: momentum 0.1")
    axes[1].plot(steps, trace_cum[:, 3 + j] / sd_pop[j] ** 2, color=f"C{j}", ls="--", lw=1.5,
                 label=f"x{j + 1}: cumulative")
axes[0].set(title="running mean (dotted: the data's mean)", xlabel="training batches seen", ylabel="running_mean")
axes[1].set(title="running variance / data variance", xlabel="training batches seen",
            ylabel="running_var / sigma^2 (log scale)", yscale="log", ylim=(0.15, 5))
axes[1].axhline(1, color="k", ls=":", lw=1)
for ax in axes:
    ax.grid(alpha=0.3)
    ax.set_xscale("log")
axes[0].legend(fontsize=8, ncol=2, loc="lower right", bbox_to_anchor=(1.0, 0.1))
fig.suptitle("BatchNorm1d's running statistics during training (batches of 32)")
fig.tight_layout()
L.figure(fig, "running_stats", caption="running mean and variance converge to the data's")
err_mean_ema = float(np.max(np.abs(trace_ema[-1, :3] - mu_pop) / sd_pop))
err_var_cum = float(np.max(np.abs(trace_cum[-1, 3:] / sd_pop ** 2 - 1)))
err_mean_cum = float(np.max(np.abs(trace_cum[-1, :3] - mu_pop) / sd_pop))
L.claim("NORM-3", first_ok and err_mean_ema < 0.2 and err_mean_cum < 0.05 and err_var_cum < 0.1
        and np.array_equal(out1, out2) and np.allclose(out1, eval_expected),
        "training uses batch statistics and updates running averages (0.9 old + 0.1 batch), which converge "
        "to the data's; eval mode normalises with them, deterministically",
        mean_error_ema_in_sigmas=err_mean_ema, mean_error_cumulative=err_mean_cum, var_rel_error_cumulative=err_var_cum)


# %% [markdown]
# ## 6. A batch of one, and the batch size (NORM-4, NORM-5)
# With one example the batch mean is the example itself, so x - mu_B = 0 and the output is beta, for
# every input; PyTorch and minidl refuse such a batch in training mode for that reason. Then the
# spread of mu_B and of a sample's normalised value across random batches, against the batch size m:
# a `BatchNorm1d` with one channel per trial normalises many independent batches in one call.

# %%
L.section("6. A batch of one, and the spread of the batch statistics")
beta = np.array([0.7, -0.3])
one_outputs = []
for v in ([5.0, 1.0], [-100.0, 3.0], [0.0, 0.0]):
    x1 = md.tensor([v], dtype=md.float64)
    mu1 = x1.mean(dim=0, keepdim=True)
    var1 = x1.var(dim=0, unbiased=False, keepdim=True)
    one_outputs.append(((x1 - mu1) / md.sqrt(var1 + 1e-5) * md.tensor([2.0, 3.0], dtype=md.float64)
                        + md.tensor(beta)).numpy()[0])
try:
    nn.BatchNorm1d(2)(md.tensor([[5.0, 1.0]]))
    refused = ""
except ValueError as exc:
    refused = str(exc)
L.note(f"Batch-norm formula on a batch of one (gamma = (2, 3), beta = {beta.tolist()}): outputs "
       f"{[[round(float(v), 6) for v in o] for o in one_outputs]} for three different inputs. "
       f"nn.BatchNorm1d in training mode: {refused}")
L.claim("NORM-4", all(np.allclose(o, beta, atol=1e-12) for o in one_outputs) and "more than 1 value" in refused,
        "a batch of one normalises to x - mu = 0: the output is beta whatever the input (so inference needs "
        "fixed statistics)", outputs=str([[round(float(v), 3) for v in o] for o in one_outputs]))

trials = 500 if L.quick else 2000
sizes = [2, 4, 8, 16, 32, 64, 128, 256]
spread_mu, spread_xhat, bias_var = [], [], []
for m in sizes:
    xs = L.rng.standard_normal((m, trials))  # column k = one batch of m samples from N(0, 1)
    xs[0] = 1.0  # the same sample, x = 1, in every batch
    bn_many = nn.BatchNorm1d(trials, dtype=md.float64)
    xhat = bn_many(md.tensor(xs)).numpy()
    spread_mu.append(float(L.rng.standard_normal((m, trials)).mean(0).std()))  # batches of pure N(0, 1)
    spread_xhat.append(float(xhat[0].std()))
    bias_var.append(float(xs.var(0).mean()))
rows = [[m, spread_mu[i], 1 / math.sqrt(m), spread_xhat[i], bias_var[i], (m - 1) / m] for i, m in enumerate(sizes)]
L.table("batch_size_spread", ["batch size m", "std of mu_B", "1/sqrt(m)", "std of x_hat for x = 1",
                              "mean sigma_B^2 (biased)", "(m-1)/m"], rows,
        caption=f"{trials} random batches of N(0, 1) data per size, each with the sample x = 1 in it")
fig, ax = plt.subplots(figsize=(8.5, 4.8))
ax.loglog(sizes, spread_mu, "o-", label="std of the batch mean mu_B (measured)")
ax.loglog(sizes, 1 / np.sqrt(sizes), "k--", label="1/sqrt(m)")
ax.loglog(sizes, spread_xhat, "s-", label="std of x_hat for the same sample x = 1 (measured)")
ax.axvline(16, color="C3", ls=":", label="m = 16")
ax.set(title="Batch statistics get noisier as the batch shrinks (data N(0, 1))", xlabel="batch size m",
       ylabel="spread across batches (log scale)")
ax.set_xticks(sizes, [str(s) for s in sizes])
ax.legend(fontsize=9)
ax.grid(alpha=0.3, which="both")
L.figure(fig, "batch_size_spread", caption="spread of mu_B and of a sample's x_hat against the batch size")
i16 = sizes.index(16)
L.note(f"At m = 16 the batch mean is off by {spread_mu[i16]:.2f} sigma (1/sqrt(16) = 0.25) and the same sample's "
       f"normalised value jumps by {spread_xhat[i16]:.2f} from batch to batch; at m = 2 by {spread_xhat[0]:.2f}, "
       f"at m = 256 by {spread_xhat[-1]:.3f}. Below about 16 the noise is a sizeable fraction of the signal: "
       "hence the decks' advice to use batches larger than 16 with batch norm (or layer/group norm, section 9).")
slope = float(np.polyfit(np.log(sizes), np.log(spread_mu), 1)[0])
L.claim("NORM-5", abs(slope + 0.5) < 0.05 and all(abs(s * math.sqrt(m) - 1) < 0.12 for s, m in zip(spread_mu, sizes))
        and spread_xhat[0] > 0.5 and spread_xhat[i16] < 0.35 and spread_xhat == sorted(spread_xhat, reverse=True),
        "the standard error of the batch mean falls like 1/sqrt(m), so small batches give noisy statistics "
        "(use m > 16)", slope_log_log=slope, std_mu_at_16=spread_mu[i16], std_xhat_at_2=spread_xhat[0],
        std_xhat_at_16=spread_xhat[i16])


# %% [markdown]
# ## 7. Invariance to the scale of the previous layer's weights (NORM-6)
# Linear (no bias) -> BatchNorm1d, with the linear layer's weights multiplied by a = 1e-3 and a = 1e6:
# the output stays the same as long as a^2 Var(z) is large against eps. The gradient with respect to
# the weights shrinks as 1/a, so larger weights take relatively smaller steps: batch norm damps its
# own learning rate, which is why it tolerates larger learning rates (section 2) and hides weights that
# explode (a debugging hazard, as the crash course warns).

# %%
L.section("7. Scale invariance to the weights before batch norm")
x7 = md.tensor(L.rng.standard_normal((256, 20)), dtype=md.float64)
r7 = md.tensor(L.rng.standard_normal((256, 30)), dtype=md.float64)
rows, diffs, grad_ratio = [], {}, {}
for eps in (1e-5, 1e-16):
    lin = nn.Linear(20, 30, bias=False, dtype=md.float64)
    W0 = lin.weight.numpy().copy()
    norm = nn.BatchNorm1d(30, eps=eps, dtype=md.float64)
    lin.zero_grad()
    ref = norm(lin(x7))
    (ref * r7).sum().backward()
    g1 = float(np.linalg.norm(lin.weight.grad))
    ref = ref.numpy()
    zvar = float(lin(x7).numpy().var(0).mean())
    for a in (1e-3, 1e6):
        lin.weight.data[...] = a * W0
        lin.zero_grad()
        out = norm(lin(x7))
        (out * r7).sum().backward()
        diffs[eps, a] = float(np.abs(out.numpy() - ref).max())
        grad_ratio[eps, a] = float(np.linalg.norm(lin.weight.grad)) / g1
        rows.append([f"{eps:g}", f"{a:g}", a * a * zvar, diffs[eps, a], grad_ratio[eps, a], 1 / a])
L.table("scale_invariance", ["eps", "weight scale a", "a^2 Var(z)", "max |BN(aWx) - BN(Wx)|",
                             "||dL/dW|| ratio", "1/a"], rows,
        caption="Linear(20, 30, bias=False) -> BatchNorm1d, float64, weights scaled by a")
L.note(f"With PyTorch's eps = 1e-5 the scale 1e-3 leaves a^2 Var(z) = {1e-6 * zvar:.1e} below eps, so the output "
       f"shrinks (max difference {diffs[1e-5, 1e-3]:.2f}): the invariance holds 'up to eps'. With eps = 1e-16 both "
       "scales give the same output to rounding.")
L.claim("NORM-6", diffs[1e-16, 1e-3] < 1e-8 and diffs[1e-16, 1e6] < 1e-8 and diffs[1e-5, 1e6] < 1e-3
        and diffs[1e-5, 1e-3] > 0.1 and all(abs(grad_ratio[1e-16, a] * a - 1) < 1e-4 for a in (1e-3, 1e6)),
        "BN's output does not change (up to eps) when the previous layer's weights are scaled by a > 0, "
        "and the weight gradient scales as 1/a", diff_1e6=diffs[1e-5, 1e6], diff_1e_3_small_eps=diffs[1e-16, 1e-3],
        diff_1e_3_default_eps=diffs[1e-5, 1e-3])


# %% [markdown]
# ## 8. The same sample in two batches (NORM-8)
# In training mode a sample's output depends on its batch mates (a noise that regularises); in eval
# mode, with the running statistics, it does not.

# %%
L.section("8. One sample, two batches")
bn8 = nn.BatchNorm1d(5)
for _ in range(50):  # some training batches so that the running statistics mean something
    bn8(md.randn(32, 5) * 2 + 1)
sample = md.randn(1, 5)
batch_a = md.cat([sample, md.randn(15, 5) * 2 + 1])
batch_b = md.cat([sample, md.randn(15, 5) * 2 + 1])
train_diff = float(np.abs(bn8(batch_a).numpy()[0] - bn8(batch_b).numpy()[0]).max())
bn8.eval()
eval_diff = float(np.abs(bn8(batch_a).numpy()[0] - bn8(batch_b).numpy()[0]).max())
L.table("two_batches", ["mode", "max |output in batch A - output in batch B| for the same sample"],
        [["training (batch statistics)", train_diff], ["eval (running statistics)", eval_diff]],
        caption="BatchNorm1d(5), batches of 16 sharing their first sample")
L.claim("NORM-8", train_diff > 0.05 and eval_diff < 1e-6,
        "in training mode a sample's BN output depends on the rest of its batch; in eval mode it does not",
        train_diff=train_diff, eval_diff=eval_diff)


# %% [markdown]
# ## 9. Batch, layer, instance and group norm (NORM-9)
# All four standardise to mean 0 and variance 1, over different axes of an (N, C, H, W) tensor:
# batch norm per channel over (N, H, W), layer norm per sample over (C, H, W), instance norm per
# sample and channel over (H, W), group norm per sample and group of C/G channels over (C/G, H, W).
# Group norm with G = 1 is layer norm; with G = C it is instance norm. Only batch norm mixes samples,
# which is why the others work for any batch size.

# %%
L.section("9. Batch, layer, instance and group norm as axes of (N, C, H, W)")
N, C, H, W, G = 4, 6, 5, 5, 2
x9 = md.tensor(L.rng.standard_normal((N, C, H, W)) * L.rng.uniform(0.5, 4, (N, C, 1, 1))
               + L.rng.uniform(-3, 3, (N, C, 1, 1)))
outs = {"batch norm": nn.BatchNorm2d(C)(x9).numpy(), "layer norm": nn.LayerNorm((C, H, W))(x9).numpy(),
        "instance norm": nn.InstanceNorm2d(C)(x9).numpy(), f"group norm (G = {G})": nn.GroupNorm(G, C)(x9).numpy()}
gn1, gnc = nn.GroupNorm(1, C)(x9).numpy(), nn.GroupNorm(C, C)(x9).numpy()


def stats_over(y: np.ndarray, name: str) -> tuple[float, float]:
    """Max |mean| and max |variance - 1| over the groups the method normalises together."""
    axes: tuple[int, ...]
    if name.startswith("group"):
        y, axes = y.reshape(N, G, C // G, H, W), (2, 3, 4)
    else:
        axes = {"batch norm": (0, 2, 3), "layer norm": (1, 2, 3), "instance norm": (2, 3)}[name]
    return float(np.abs(y.mean(axis=axes)).max()), float(np.abs(y.var(axis=axes) - 1).max())


axes_text = {"batch norm": "per channel, over (N, H, W)", "layer norm": "per sample, over (C, H, W)",
             "instance norm": "per sample and channel, over (H, W)",
             f"group norm (G = {G})": f"per sample and group, over (C/G = {C // G}, H, W)"}
rows, worst = [], 0.0
for name, y9 in outs.items():
    mean_err, var_err = stats_over(y9, name)
    worst = max(worst, mean_err, var_err)
    rows.append([name, axes_text[name], mean_err, var_err])
gn1_ln, gnc_in = float(np.abs(gn1 - outs["layer norm"]).max()), float(np.abs(gnc - outs["instance norm"]).max())
L.table("norm_axes", ["method", "statistics", "max |mean|", "max |variance - 1|"], rows,
        caption=f"an (N, C, H, W) = ({N}, {C}, {H}, {W}) tensor, an offset and a scale per sample and channel")
L.note(f"GroupNorm(1, C) vs LayerNorm: max difference {gn1_ln:.1e}; GroupNorm(C, C) vs InstanceNorm2d: {gnc_in:.1e}.")

fig, axes = plt.subplots(1, 4, figsize=(15, 3.9))
ids = {"batch norm": lambda n, c: c, "layer norm": lambda n, c: n, "instance norm": lambda n, c: n * C + c,
       f"group norm (G = {G})": lambda n, c: n * G + c // (C // G)}
for ax, (name, f) in zip(axes, ids.items()):
    grid_ids = np.array([[f(n, c) for c in range(C)] for n in range(N)])
    ax.imshow(grid_ids % 10, cmap="tab10", vmin=0, vmax=9)
    for n in range(N):
        for c in range(C):
            ax.text(c, n, str(grid_ids[n, c] + 1), ha="center", va="center", fontsize=9, color="white")
    ax.set_title(f"{name}\n{axes_text[name]}", fontsize=10)
    ax.set_xlabel("channel c")
    ax.set_ylabel("sample n")
    ax.set_xticks(range(C))
    ax.set_yticks(range(N))
fig.suptitle("Which (sample, channel) cells share one mean and variance (each cell spans all H x W positions; "
             "same number = normalised together)", fontsize=11)
L.figure(fig, "norm_axes", caption="batch, layer, instance and group norm as sets of cells of (N, C)")
L.claim("NORM-9", worst < 1e-3 and gn1_ln < 1e-5 and gnc_in < 1e-5,
        "batch, layer, instance and group norm standardise over (N,H,W), (C,H,W), (H,W), (C/G,H,W); GN(1) = LN, "
        "GN(C) = IN", worst_deviation=worst, gn1_vs_ln=gn1_ln, gnc_vs_in=gnc_in)


# %% [markdown]
# ## 10. What the decks say about batch norm
# Two slips, and a reading note.

# %%
L.slip("toolbox", 'BN slide: updating earlier layers "causes the distribution of weights in later layers to shift"',
       "the distribution of the *inputs* (activations) of later layers shifts: that is what internal covariate "
       "shift means; batch norm normalises those activations, not the weights")
L.slip("training-tips", 'BN advantages: "eliminate the need of dropout"',
       "the cited abstract says batch norm acts as a regulariser that *in some cases* eliminates the need for "
       "dropout; it does not in general")
L.note("The Training Tips deck also lists 'solve the internal covariate shift' as an advantage; that explanation is "
       "contested and not checked here. What we measured: the activation scales stay fixed (sections 3 and 7), "
       "and training tolerates poor initialisation and a 20x larger learning rate (section 2).")


# %%
L.finish()
