# %% [markdown]
# # Lesson 05: Vanishing and exploding gradients
#
# The product of w * f'(z) over the layers. The argument of the "Deep Learning Training Tips" deck:
# for a chain f = f_L(w_L f_{L-1}(... f_1(w_1 x))), the chain rule gives
#
#     d f / d x = prod_{l=1..L} w_l f_l'(z_l),        z_l = w_l h_{l-1}.
#
# If every factor |w_l f'(z_l)| is below 1 the gradient of the early layers shrinks geometrically
# with depth (vanishes); if every factor is above 1 it grows geometrically (explodes). For sigmoid,
# f' = s(1 - s) <= 1/4, so with |w| <= 1 each layer shrinks the gradient at least 4x.
#
# We check the product formula on a scalar chain, then measure the gradient norm of every weight
# matrix in 20-layer networks: sigmoid (vanishes), ReLU with too-large weights (explodes), ReLU
# with He init and sigmoid with batch normalization (stay in range).
#
# Run: `python -m lessons run 05` (add `--quick` for small sizes).

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
import minidl.nn as nn
from lessons._lesson import Lesson


def scalar_chain(x: float, ws: list[float], act: str) -> tuple[float, list[float], list[float]]:
    """h_l = f(w_l h_{l-1}); returns autograd's dh_L/dx, the factors w_l f'(z_l), and the f'(z_l)."""
    f = {"sigmoid": md.sigmoid, "tanh": md.tanh}[act]
    xt = md.tensor(x, dtype=md.float64, requires_grad=True)
    h, zs = xt, []
    for w in ws:
        z = h * w
        zs.append(z.item())
        h = f(z)
    h.backward()
    z_np = np.array(zs)
    fprime = (1 / (1 + np.exp(-z_np))) * (1 - 1 / (1 + np.exp(-z_np))) if act == "sigmoid" else 1 - np.tanh(z_np) ** 2
    return float(xt.grad), list(np.array(ws) * fprime), list(fprime)


def layer_grad_norms(setup: dict, depth: int, width: int, batch: int, rng: np.random.Generator) -> dict:
    """One forward/backward through a ``depth``-layer MLP; per-layer ||dJ/dW_l|| and ||dJ/dz_l||.

    Layer l: z_l = h_{l-1} W_l^T (nn.Linear without bias, + nn.BatchNorm1d in training mode if
    ``setup["bn"]``), h_l = f(z_l); the loss is a fixed random linear
    read-out J = sum(h_L * r) / batch (r ~ N(0, 1)), so dJ/dh_L has the same scale in every setup and
    ||dJ/dz_l|| (= ||delta_l||) shows only what the backward pass does to it.
    """
    act = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}[setup["act"]]()
    x = md.tensor(rng.standard_normal((batch, width)).astype(np.float32))
    linears = [nn.Linear(width, width, bias=False) for _ in range(depth)]
    for lin in linears:
        nn.init.normal_(lin.weight, 0.0, setup["std"] / np.sqrt(width))  # N(0, std^2 / n)
    norms = [nn.BatchNorm1d(width) if setup["bn"] else nn.Identity() for _ in range(depth)]
    Ws = [lin.weight for lin in linears]
    h, zs = x, []
    for lin, norm in zip(linears, norms):
        z = norm(lin(h))
        z.retain_grad()
        zs.append(z)
        h = act(z)
    r = md.tensor(rng.standard_normal((batch, width)).astype(np.float32))
    loss = (h * r).sum() / batch
    loss.backward()
    fprime = [float(np.mean(np.abs(
        (lambda s: s * (1 - s))(1 / (1 + np.exp(-z.numpy()))) if setup["act"] == "sigmoid" else (z.numpy() > 0))))
        for z in zs]
    return {"w": [float(np.linalg.norm(W.grad)) for W in Ws], "delta": [float(np.linalg.norm(z.grad)) for z in zs],
            "weights": [W.numpy() for W in Ws], "fprime": fprime}


SETUPS = {
    "sigmoid, N(0, 1/n)": {"act": "sigmoid", "std": 1.0, "bn": False},
    "ReLU, N(0, 9/n) (too large)": {"act": "relu", "std": 3.0, "bn": False},
    "ReLU + He, N(0, 2/n)": {"act": "relu", "std": float(np.sqrt(2.0)), "bn": False},
    "sigmoid + batchnorm": {"act": "sigmoid", "std": 1.0, "bn": True},
}


# %%
L = Lesson("05_vanishing_exploding_gradients", "Vanishing and exploding gradients")
depth = 20
width, batch = (32, 32) if L.quick else (128, 128)


# %% [markdown]
# ## 1. A scalar chain (ACT-9)
# Autograd's d h_L / d x equals the product of the factors w_l f'(z_l): log|grad| is a straight line in depth.

# %%
L.section("1. A scalar chain: d h_L / d x = prod w_l f'(z_l) (Training Tips deck)")
ws = list(L.rng.uniform(0.5, 1.0, size=depth))
grads_sig, max_rel_err, max_factor_ratio = [], 0.0, 0.0
for n_layers in range(1, depth + 1):
    g, factors, fp = scalar_chain(0.5, ws[:n_layers], "sigmoid")
    prod = float(np.prod(factors))
    max_rel_err = max(max_rel_err, abs(g - prod) / abs(prod))
    max_factor_ratio = max(max_factor_ratio, max(abs(f) / (0.25 * abs(w)) for f, w in zip(factors, ws)))
    grads_sig.append(abs(g))
grads_tanh = [abs(scalar_chain(0.0, [1.5] * n, "tanh")[0]) for n in range(1, depth + 1)]
layers = np.arange(1, depth + 1)
slope_sig, icpt = np.polyfit(layers, np.log10(grads_sig), 1)
resid = np.log10(grads_sig) - (slope_sig * layers + icpt)
r2 = 1 - resid.var() / np.log10(grads_sig).var()
slope_tanh = np.polyfit(layers, np.log10(grads_tanh), 1)[0]
rows: list[list[Any]] = [[n, grads_sig[n - 1], 0.25 ** n * float(np.prod(ws[:n])), grads_tanh[n - 1], 1.5 ** n]
        for n in [1, 2, 5, 10, 15, 20]]
L.table("scalar_chain", ["layers L", "sigmoid |dh/dx|", "bound prod 0.25 |w_l|", "tanh, w=1.5, x=0: |dh/dx|",
                         "1.5^L"], rows,
        caption="Scalar chains: sigmoid with w in [0.5, 1] vanishes under the 0.25-per-layer bound; "
                "tanh at its fixed point z = 0 (f' = 1) with w = 1.5 explodes as 1.5^L")
L.note(f"log10|grad| vs depth is a straight line: slope {slope_sig:.3f} per layer for the sigmoid chain "
       f"(the bound is log10(0.25) = {np.log10(0.25):.3f} plus log10|w|; R^2 = {r2:.5f}), "
       f"{slope_tanh:.3f} = log10(1.5) for the tanh chain.")


# %% [markdown]
# ## 2. 20-layer networks (ACT-9)
# The per-layer gradient norms of four 20-layer networks: sigmoid (vanishes), ReLU with too large
# weights (explodes), ReLU with He init and sigmoid with batch norm (stay in range).

# %%
L.section(f"2. Per-layer gradient norms in {depth}-layer networks of width {width}")
results = {name: layer_grad_norms(s, depth, width, batch, L.rng) for name, s in SETUPS.items()}
rows = []
for name, r in results.items():
    d, w = r["delta"], r["w"]
    rows.append([name, d[0], d[depth // 2], d[-1], d[0] / d[-1], w[0], w[-1]])
L.table("grad_norms", ["setup", "||delta_1||", f"||delta_{depth // 2 + 1}||", f"||delta_{depth}||",
                       "delta first / last", "||dJ/dW_1||", f"||dJ/dW_{depth}||"], rows,
        caption="Backpropagated error delta_l = dJ/dz_l (and the weight gradients) at the first, middle "
                "and last layer")

sig = results["sigmoid, N(0, 1/n)"]
rows = []
ratio_ok = True
for k in range(depth - 2, depth - 8, -1):  # layer k (0-based): delta_k = (delta_{k+1} W_{k+1}) * f'(z_k)
    ratio = sig["delta"][k] / sig["delta"][k + 1]
    spectral = float(np.linalg.norm(sig["weights"][k + 1], 2))  # largest singular value of W_{k+1}
    bound = 0.25 * spectral
    ratio_ok &= ratio <= bound
    rows.append([k + 1, ratio, sig["fprime"][k], spectral, bound])
L.table("sigmoid_ratio_vs_bound", ["layer l", "||delta_l|| / ||delta_l+1||", "mean f'(z_l)",
                                   "||W_l+1||_2", "bound 0.25 ||W_l+1||_2"], rows,
        caption="Sigmoid network: the measured per-layer shrink factor next to the deck's 0.25 |w| bound "
                "(matrix form: spectral norm)")

def first_over_last(name: str) -> float:
    return results[name]["delta"][0] / results[name]["delta"][-1]

van = first_over_last("sigmoid, N(0, 1/n)")
exp_ = first_over_last("ReLU, N(0, 9/n) (too large)")
he = first_over_last("ReLU + He, N(0, 2/n)")
bn = first_over_last("sigmoid + batchnorm")
L.claim("ACT-9", max_rel_err < 1e-10 and max_factor_ratio <= 1.0 and slope_sig <= np.log10(0.25) and r2 > 0.99
        and abs(slope_tanh - np.log10(1.5)) < 1e-9 and ratio_ok and van < 1e-6 and exp_ > 1e3
        and 0.1 < he < 10 and 0.1 < bn < 10,
        "the gradient is the product of w f'(z): log|grad| is linear in depth, shrinking >= 4x per sigmoid "
        "layer with |w| <= 1 and exploding when every factor is > 1; ReLU+He and batchnorm stay in range",
        autograd_vs_product=max_rel_err, slope_sigmoid=slope_sig, slope_tanh15=slope_tanh,
        first_over_last_sigmoid=van, first_over_last_big_relu=exp_, he=he, batchnorm=bn)


# %% [markdown]
# ## 3. The figure
# Both experiments on a log scale.

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
ax = axes[0]
ax.semilogy(layers, grads_sig, "o-", label="sigmoid chain, w in [0.5, 1] (measured)")
ax.semilogy(layers, [0.25 ** n for n in layers], "k--", label="bound 0.25^L (|w| = 1)")
ax.semilogy(layers, grads_tanh, "s-", label="tanh chain at z = 0, w = 1.5 (measured)")
ax.set_title("Scalar chain: |dh_L/dx| = prod |w_l f'(z_l)|")
ax.set_xlabel("number of layers L")
ax.set_xticks(range(1, depth + 1, 2))
ax.set_ylabel("|gradient| (log scale)")
ax.legend(fontsize=9)
ax.grid(True, which="major", alpha=0.3)
ax = axes[1]
for name, r in results.items():
    ax.semilogy(np.arange(1, depth + 1), r["delta"], "o-", ms=4, label=name)
ax.set_title(f"{depth}-layer networks (width {width}): backpropagated gradient per layer")
ax.set_xlabel("layer l (1 = next to the input)")
ax.set_ylabel("||dJ/dz_l|| = ||delta_l|| (log scale)")
ax.set_xticks(range(1, depth + 1, 2))
ax.legend(fontsize=9)
ax.grid(True, which="major", alpha=0.3)
fig.tight_layout()
L.figure(fig, "gradient_norms_per_layer",
         caption="log-scale gradient norms: the scalar chain and four 20-layer networks")


# %% [markdown]
# ## 4. The slide's formula

# %%
L.slip("training-tips", 'vanishing-gradient slide "f = f3(w3 f2(w2 f1(w_{i+1})))"',
       "f = f3(w3 f2(w2 f1(w1 x))): the innermost term is f1(w1 x)")


# %% [markdown]
# ## Summary
# `L.finish()` prints every claim with its result and fails the lesson if any did not hold.

# %%
L.finish()
