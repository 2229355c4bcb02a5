# %% [markdown]
# # Lesson 17: Convolutional networks and transfer learning
#
# LeNet's shapes and parameters, a small CNN against an MLP, the learned kernels, and transfer
# learning with a frozen backbone, fine-tuning and training from scratch. Following DI504 "Foundations
# of Deep Learning: Deep Training" (the LeNet-style network of its autograd example; transfer learning
# and its strategy table), BME 548L "Tools for your deep learning toolbox – Part III" (Roarke
# Horstmeyer; the same strategy table, test-time augmentation), "Experimental methodology for training
# of (deep) machine learning models" (Mitko Veta: transfer learning; "inspect the kernels") and "Deep
# Learning Training Tips" (only parameters with requires_grad go to the optimizer).
#
# Everything runs on the CPU with the bundled 8x8 digits, so the networks are tiny and the epochs few:
# the decks' ImageNet backbones become a two-layer CNN pretrained on the digits 0-4, and the new task
# is the digits 5-9 learned from a handful of examples per class.
#
# Run: `python -m lessons run 17` (add `--quick` for small sizes).

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
import minidl.train as train
import minidl.viz as viz
from lessons._lesson import Lesson


def out_size(w: int, f: int, p: int = 0, s: int = 1) -> int:
    """The output width of a convolution or pooling window: (W - F + 2P) / S + 1."""
    assert (w - f + 2 * p) % s == 0, "the window does not tile the input"
    return (w - f + 2 * p) // s + 1


def lenet() -> nn.Sequential:
    """DI504's LeNet-style network for 3 x 32 x 32 images and 10 classes."""
    return nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
                         nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


class DigitCNN(nn.Module):
    """LeNet's pattern at 8 x 8: conv 1->8 5x5 (pad 2), pool, conv 8->16 3x3 (pad 1), pool, fc 64->32->classes.

    ``features`` is the backbone (everything up to the 32 features), ``head`` the last linear layer."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                      nn.Linear(64, 32), nn.ReLU())
        self.head = nn.Linear(32, classes)

    def forward(self, x: md.Tensor) -> md.Tensor:
        return self.head(self.features(x))


def mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 48), nn.ReLU(), nn.Linear(48, 10))


def n_params(params: Any) -> int:
    return int(sum(p.numel() for p in params))


def loader(X: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = True) -> data.DataLoader:
    return data.DataLoader(data.TensorDataset(md.tensor(X), md.tensor(y)), batch_size=batch_size,
                           shuffle=shuffle, seed=0)


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(train.predict(model, md.tensor(X)).numpy().argmax(axis=1) == y))


def few_shot(X: np.ndarray, y: np.ndarray, per_class: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` random examples of every class in y."""
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)])
    return X[idx], y[idx]


def smoothness(kernels: np.ndarray) -> float:
    """Mean correlation of horizontally and vertically adjacent weights in each kernel (0 for white noise)."""
    k = kernels[:, 0] - kernels[:, 0].mean(axis=(1, 2), keepdims=True)
    num = (k[:, :, 1:] * k[:, :, :-1]).sum(axis=(1, 2)) + (k[:, 1:, :] * k[:, :-1, :]).sum(axis=(1, 2))
    den = 2 * (k ** 2).sum(axis=(1, 2)) * (k.shape[1] - 1) / k.shape[1]
    return float(np.mean(num / den))


# %%
L = Lesson("17_cnn_and_transfer", "Convolutional networks and transfer learning")
epochs = 5 if L.quick else 10
X, y = data.load_digits(as_images=True)
X = X / 16.0
(Xtr, ytr), _, _, (Xte, yte) = data.train_dev_test_split(X, y, dev=0.0, test=0.25, stratify=True, seed=L.seed)


# %% [markdown]
# ## 1. LeNet's shapes and its 62,006 parameters (CNN-1)
# DI504's network: conv 3→6 5×5, 2×2 max-pool, conv 6→16 5×5, pool, then 400→120→84→10. A window of
# size F with padding P and stride S turns a width W into (W − F + 2P)/S + 1: 32 → 28 → 14 → 10 → 5, so
# the flattened features are 16·5·5 = 400. A conv layer has (F·F·C_in + 1)·C_out parameters, a linear
# layer (n_in + 1)·n_out. We compare the formula with the shapes minidl computes and count the parameters.

# %%
L.section("1. LeNet at 32x32: shapes from (W - F + 2P)/S + 1 and 62,006 parameters")
net = lenet()
x = md.zeros(2, 3, 32, 32)
rows: list[list[Any]] = []
w, shapes_ok = 32, True
formula = {0: (5, 0, 1), 2: (2, 0, 2), 3: (5, 0, 1), 5: (2, 0, 2)}  # layer index -> (F, P, S)
for i, layer in enumerate(net):
    x = layer(x)
    if i in formula:
        f, p, stride = formula[i]
        w_new = out_size(w, f, p, stride)
        shapes_ok &= tuple(x.shape[2:]) == (w_new, w_new)
        text = f"({w} - {f} + 2*{p})/{stride} + 1 = {w_new}"
        w = w_new
    else:
        text = "-"
    own = n_params(layer.parameters())
    if own or i in formula or isinstance(layer, nn.Flatten):
        rows.append([f"{i}: {layer!r}"[:48], text, str(tuple(x.shape[1:])), f"{own:,}"])
total = n_params(net.parameters())
by_formula = (5 * 5 * 3 + 1) * 6 + (5 * 5 * 6 + 1) * 16 + (400 + 1) * 120 + (120 + 1) * 84 + (84 + 1) * 10
rows.append(["total", "", "", f"{total:,}"])
L.table("lenet", ["layer", "width by the formula", "output shape (C, H, W)", "parameters"], rows,
        caption="LeNet on a batch of 3 x 32 x 32 images")
L.claim("CNN-1", shapes_ok and tuple(x.shape) == (2, 10) and total == by_formula == 62_006,
        "LeNet at 32x32 gives 28, 14, 10, 5 (16*5*5 = 400 features) and has 62,006 parameters",
        parameters=total, by_formula=by_formula)
L.slip("di504", "the LeNet class defines `def init (self):`", "`def __init__(self):`, the constructor that "
       "`super().__init__()` and the layer attributes belong to (written as `init` the layers are never created)")


# %% [markdown]
# ## 2. A LeNet-style CNN against an MLP on the digits (CNN-1)
# The same pattern at 8×8 (5×5 kernels with padding 2, so the formula gives 8 → 8 → 4 → 4 → 2, and 16·2·2
# = 64 features), against an MLP with a similar number of parameters, trained with the same optimizer
# and epochs. The CNN shares its weights across positions; the MLP must learn every position on its own.

# %%
L.section("2. A LeNet-style CNN against an MLP on the 8x8 digits")
md.manual_seed(L.seed)
nets = {"CNN (LeNet-style)": DigitCNN(), "MLP 64-48-10": mlp()}
hist = {}
for name, model in nets.items():
    md.manual_seed(L.seed)
    hist[name] = train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=3e-3),
                           loader(Xtr, ytr, 64), epochs=epochs, val_loader=loader(Xte, yte, 512, False), verbose=0)
cnn = nets["CNN (LeNet-style)"]
w8 = out_size(out_size(out_size(out_size(8, 5, 2), 2, 0, 2), 3, 1), 2, 0, 2)
L.table("cnn_vs_mlp", ["model", "parameters", "test accuracy", "best test accuracy", "seconds / epoch"],
        [[name, f"{n_params(m.parameters()):,}", hist[name]["val_accuracy"][-1], max(hist[name]["val_accuracy"]),
          float(np.mean(hist[name]["seconds"]))] for name, m in nets.items()],
        caption=f"{epochs} epochs of Adam (lr 3e-3, batch 64) on {len(ytr)} digits; {len(yte)} test digits")
L.claim("CNN-1", w8 == 2 and tuple(cnn.features[:7](md.zeros(1, 1, 8, 8)).shape) == (1, 64),
        "the same formula sizes the 8x8 network: 8 -> 8 -> 4 -> 4 -> 2, 16*2*2 = 64 features", width=w8)
fig, ax = plt.subplots(figsize=(9, 4.8))
for (name, h), color in zip(hist.items(), ["tab:blue", "tab:orange"]):
    ax.plot(np.arange(1, epochs + 1), h["val_accuracy"], "o-", color=color, lw=2.5, label=f"{name}: test")
    ax.plot(np.arange(1, epochs + 1), h["accuracy"], "--", color=color, lw=1.5, label=f"{name}: train")
ax.set(xlabel="epoch", ylabel="accuracy", title="CNN against MLP on the 8x8 digits")
ax.grid(alpha=0.3)
ax.legend(fontsize=10)
L.figure(fig, "cnn_vs_mlp", caption="Test and training accuracy per epoch")
a_cnn, a_mlp = hist["CNN (LeNet-style)"]["val_accuracy"][-1], hist["MLP 64-48-10"]["val_accuracy"][-1]
L.note(f"After {epochs} epochs the CNN reaches {a_cnn:.3f} and the MLP {a_mlp:.3f} on the test digits. At 8x8 pixels "
       "there is little spatial structure for weight sharing to exploit, and an epoch of the CNN costs several times "
       "the MLP's on the CPU; the CNN's advantage grows with the image size (28x28 and up).")


# %% [markdown]
# ## 3. Inspect the kernels
# The methodology deck's advice: look at the first-layer kernels; noisy ones suggest that something went
# wrong (too little training, a bad learning rate, too strong or too weak regularisation). We show the 8
# learned 5×5 kernels of the CNN above next to those of the same net after a single step, which are still
# its random initialisation. A soft measure of smoothness is the correlation of neighbouring weights (0
# for white noise). On 8×8 digits with a few epochs the difference is modest (the ImageNet kernels of the
# deck take far more data and compute to grow), so we show it and do not assert it.

# %%
L.section("3. First-layer kernels: trained against barely trained")
md.manual_seed(L.seed)
raw = DigitCNN()
train.fit(raw, nn.CrossEntropyLoss(), optim.Adam(raw.parameters(), lr=3e-3), [next(iter(loader(Xtr, ytr, 64)))],
          epochs=1, verbose=0)
k_trained, k_raw = cnn.features[0].weight.numpy(), raw.features[0].weight.numpy()
both = np.concatenate([k_trained, k_raw])
fig = viz.plot_image_grid(both, ncols=8, symmetric=True,
                          title="First-layer 5x5 kernels: trained (top row), after one step (bottom row)")
L.figure(fig, "kernels", caption="Top: the trained CNN's kernels; bottom: the same net after one step")
L.table("kernel_smoothness", ["kernels", "neighbour correlation", "test accuracy"],
        [["trained", smoothness(k_trained), accuracy(cnn, Xte, yte)],
         ["one step", smoothness(k_raw), accuracy(raw, Xte, yte)]],
        caption="Correlation of adjacent weights within each kernel (mean over the 8 kernels)")


# %% [markdown]
# ## 4. Transfer: pretrain on 0-4, learn 5-9 from few examples (CNN-2, CNN-3, CNN-4)
# The backbone is pretrained on the digits 0-4. The new task, 5-9, gets a new 5-way head (the decks swap
# ImageNet's 1000-way layer for a 3-way cat/dog/elephant head) and a few examples per class. Three ways:
#
# - **frozen backbone, new head**: the pretrained weights as a fixed feature extractor
#   (`requires_grad_(False)`); only the parameters with `requires_grad` go to the optimizer, and the
#   frozen weights are bit-identical afterwards;
# - **fine-tuning**: the pretrained weights as the starting point, all trained, the backbone with a
#   10x lower learning rate through parameter groups;
# - **from scratch**: the same network with random weights.
#
# The images are similar (digits both) but the classes are new. A fourth variant puts the linear head on the
# top layer (the 32 units trained to tell 0-4 apart) instead of the conv stages, as the strategy table's
# "linear classifiers from different stages" suggests.

# %%
L.section("4. Transfer from digits 0-4 to digits 5-9")
src_tr, src_te = ytr < 5, yte < 5
md.manual_seed(L.seed)
base = DigitCNN(classes=5)
train.fit(base, nn.CrossEntropyLoss(), optim.Adam(base.parameters(), lr=3e-3), loader(Xtr[src_tr], ytr[src_tr], 64),
          epochs=epochs, verbose=0)
L.note(f"Pretrained on {int(src_tr.sum())} digits 0-4: test accuracy {accuracy(base, Xte[src_te], yte[src_te]):.3f}.")
Xt_tr, yt_tr = Xtr[~src_tr], ytr[~src_tr] - 5  # the new task: 5..9 as classes 0..4
Xt_te, yt_te = Xte[~src_te], yte[~src_te] - 5
pretrained = base.features.state_dict()
steps = 60 if L.quick else 100
sizes = [1, 10] if L.quick else [1, 3, 10, 25]
draws = 2


class TransferNet(nn.Module):
    """A pretrained (or fresh) backbone followed by a new linear head for the 5 new classes."""

    def __init__(self, backbone: nn.Module, width: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(width, 5)

    def forward(self, x: md.Tensor) -> md.Tensor:
        return self.head(self.backbone(x))


FROZEN_CONV, FROZEN_TOP = "frozen conv stages + linear head", "frozen top layer + linear head"
FINE_TUNE, SCRATCH = "fine-tune (backbone lr / 10)", "from scratch"
strategies = [FROZEN_CONV, FROZEN_TOP, FINE_TUNE, SCRATCH]


def transfer_model(strategy: str) -> tuple[TransferNet, optim.Optimizer]:
    """The network and its optimizer for one strategy. The backbone is the conv stages (64 features) or,
    for FROZEN_TOP, everything up to the 32-unit top layer that was trained for the digits 0-4."""
    cnn_ = DigitCNN(classes=5)
    if strategy != SCRATCH:
        cnn_.load_state_dict(base.state_dict())
    model = TransferNet(cnn_.features, 32) if strategy == FROZEN_TOP else TransferNet(cnn_.features[:7], 64)
    if strategy in (FROZEN_CONV, FROZEN_TOP):
        model.backbone.requires_grad_(False)
        opt = optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=5e-2)
    elif strategy == FINE_TUNE:
        opt = optim.Adam([{"params": model.backbone.parameters(), "lr": 1e-3},
                          {"params": model.head.parameters()}], lr=1e-2)
    else:
        opt = optim.Adam(model.parameters(), lr=1e-2)
    return model, opt


acc: dict[str, dict[int, list[float]]] = {s: {n: [] for n in sizes} for s in strategies}
frozen_identical, head_shape_ok, optimised = True, True, {}
for n in sizes:
    for d in range(draws):
        Xf, yf = few_shot(Xt_tr, yt_tr, n, np.random.default_rng(1000 * n + d + L.seed))
        for s in strategies:
            md.manual_seed(L.seed + d)
            model, opt = transfer_model(s)
            before = {k: np.array(v, copy=True) for k, v in model.backbone.state_dict().items()}
            optimised[s] = n_params(p for g in opt.param_groups for p in g["params"])
            # full-batch steps: the few examples fit in one batch
            train.fit(model, nn.CrossEntropyLoss(), opt, [(md.tensor(Xf), md.tensor(yf))] * steps, epochs=1,
                      verbose=0, metrics=())
            if s in (FROZEN_CONV, FROZEN_TOP):
                frozen_identical &= all(np.array_equal(before[k], np.asarray(v))
                                        for k, v in model.backbone.state_dict().items())
            head_shape_ok &= tuple(train.predict(model, md.tensor(Xf[:3])).shape) == (3, 5)
            acc[s][n].append(accuracy(model, Xt_te, yt_te))
mean = {s: {n: float(np.mean(acc[s][n])) for n in sizes} for s in strategies}
L.table("transfer", ["examples per class", *strategies],
        [[n, *[mean[s][n] for s in strategies]] for n in sizes],
        caption=f"Test accuracy on the digits 5-9 ({len(yt_te)} test digits), mean of {draws} random draws of the "
                f"few examples, {steps} full-batch Adam steps each")
L.note(f"Parameters given to the optimizer: frozen {optimised[FROZEN_CONV]} (the new head only), fine-tune "
       f"{optimised[FINE_TUNE]}, scratch {optimised[SCRATCH]}.")
lo, hi = sizes[0], sizes[-1]
L.claim("CNN-2", frozen_identical and min(mean[FROZEN_CONV][lo], mean[FINE_TUNE][lo]) > 0.5,
        "pretrained weights serve both as a frozen feature extractor (bit-identical after training the head) and "
        "as the starting point for fine-tuning: from one example per class both are far above chance (0.2)",
        frozen=mean[FROZEN_CONV][lo], fine_tune=mean[FINE_TUNE][lo], scratch=mean[SCRATCH][lo])
L.claim("CNN-3", head_shape_ok and optimised[FROZEN_CONV] == 64 * 5 + 5 and optimised[FROZEN_TOP] == 32 * 5 + 5,
        "the old head is replaced by a new 5-way one (outputs (B, 5)); with the backbone frozen only the head's "
        "parameters (requires_grad) reach the optimizer", optimised=optimised[FROZEN_CONV])
L.claim("CNN-4", mean[FROZEN_CONV][lo] > mean[FROZEN_TOP][lo] and mean[FINE_TUNE][hi] >= mean[FROZEN_CONV][hi] - 0.005,
        "when the classes are new, a linear classifier on an earlier stage's frozen features beats one on the top "
        "layer's (the table's 'linear classifiers from different stages'); with more data, fine-tuning does at "
        "least as well as the frozen features",
        **{f"frozen_conv_{lo}": mean[FROZEN_CONV][lo], f"frozen_top_{lo}": mean[FROZEN_TOP][lo],
           f"scratch_{lo}": mean[SCRATCH][lo], f"fine_tune_{hi}": mean[FINE_TUNE][hi],
           f"frozen_conv_{hi}": mean[FROZEN_CONV][hi]})
gain = mean[FROZEN_CONV][lo] - mean[SCRATCH][lo]
L.note(f"Not reproduced at this scale: the decks' advantage of transfer over training from scratch with little "
       f"data. With {lo} example per class the frozen features (325 trainable parameters) score "
       f"{mean[FROZEN_CONV][lo]:.2f} against {mean[SCRATCH][lo]:.2f} from scratch ({gain:+.2f}; with other seeds the "
       "sign changes), and fine-tuning about the same. The 8x8 digits are learnt by a 1,701-parameter CNN from a "
       f"handful of examples, and its source task has only {int(src_tr.sum())} images; the decks' gains come from "
       "ImageNet backbones with millions of weights that cannot be trained from a few images, which a CPU lesson "
       "cannot pretrain.")
fig, ax = plt.subplots(figsize=(9, 4.8))
for s, mk in zip(strategies, "osD^"):
    ax.plot(sizes, [mean[s][n] for n in sizes], mk + "-", lw=2.5, ms=8, label=s)
ax.set_xscale("log")
ax.set_xticks(sizes, [str(n) for n in sizes])
ax.axhline(0.2, color="gray", ls=":", label="chance (5 classes)")
ax.set(xlabel="training examples per class of the new task (log scale)", ylabel="test accuracy on digits 5-9",
       title="Transfer from digits 0-4: accuracy against the amount of target data")
ax.grid(alpha=0.3)
ax.legend(fontsize=10)
L.figure(fig, "transfer", caption="Frozen backbones, fine-tuning and training from scratch")


def measured(n: int, names: list[str]) -> str:
    return "; ".join(f"{s} {mean[s][n]:.2f}" for s in names)


L.table("strategy_table", ["", "very similar dataset", "very different dataset"],
        [["very little data", "linear classifier on the top layer", "in trouble: try linear classifiers on "
          "features from different stages"],
         ["quite a lot of data", "fine-tune a few layers", "fine-tune a larger number of layers"],
         [f"measured, {lo} per class", "(digits 0-4 -> 5-9: same images, new classes)",
          measured(lo, [FROZEN_CONV, FROZEN_TOP, FINE_TUNE, SCRATCH])],
         [f"measured, {hi} per class", "", measured(hi, [FINE_TUNE, FROZEN_CONV, FROZEN_TOP, SCRATCH])]],
        caption="The strategy table of the DI504 and BME 548L decks (first two rows) and where our task falls")


# %% [markdown]
# ## 5. Test-time augmentation
# `minidl.data.tta_predict` averages the predicted probabilities over transformed copies of each test
# image. Here the copies are the image and its shifts by one pixel in the four directions, on the clean
# test digits and on test digits shifted at random by up to one pixel. Whether it helps depends on whether
# the views match the variation the model meets.

# %%
L.section("5. Test-time augmentation with one-pixel shifts")
shifts = [lambda t: t] + [(lambda t, s=s, d=d: t.roll(s, dims=d)) for s in (-1, 1) for d in (2, 3)]
shifted = data.RandomCrop(8, padding=1, seed=L.seed)(Xte)
rows = []
for name, Xs in [("clean test digits", Xte), ("shifted by up to 1 pixel", shifted)]:
    plain = accuracy(cnn, Xs, yte)
    tta = float(np.mean(data.tta_predict(cnn, md.tensor(Xs), shifts).numpy().argmax(axis=1) == yte))
    rows.append([name, plain, tta, tta - plain])
L.table("tta", ["test set", "plain accuracy", "TTA accuracy (5 views)", "change"], rows,
        caption="The CNN of section 2, with and without test-time augmentation")
L.note(f"On the clean digits TTA changes the accuracy by {rows[0][3]:+.3f}, on the shifted digits by "
       f"{rows[1][3]:+.3f}. Averaging over views helps most where they cover variation the model meets; it cannot "
       "undo a model that was never trained on shifted digits (the shifted test accuracy stays far below the clean).")


# %%
L.finish()
