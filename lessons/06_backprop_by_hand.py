# %% [markdown]
# # Lesson 06: Backpropagation by hand: delta equations vs autograd vs gradcheck
#
# Backpropagation by hand, checked against autograd and central differences. The "Experimental
# methodology" deck (Mitko Veta) writes backprop as two recursions over the layers h^(l+1) = f^(l)(h^(l)):
#
#     delta^(l)        = dJ/dh^(l) = delta^(l+1) * d f^(l)(h^(l)) / d h^(l)      (pass the error back)
#     dJ/dtheta^(l)    = delta^(l+1) * d f^(l)(h^(l)) / d theta^(l)              (gradient of a parameter)
#
# We write them out for a 2-layer network in plain NumPy, then let minidl's autograd (which
# records the graph during the forward pass and walks it backwards) compute the same gradients,
# and check both against central differences with ``md.gradcheck``. Finally we draw the graph
# autograd recorded, with ``minidl.viz``.
#
# Run: `python -m lessons run 06` (add `--quick` for small sizes).

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

import numpy as np

import minidl as md
from lessons._lesson import Lesson
from minidl import viz


def forward_backward_by_hand(x: np.ndarray, y: np.ndarray, W1: np.ndarray, b1: np.ndarray,
                             W2: np.ndarray, b2: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """The 2-layer network and its gradients, written with the lecture's delta equations.

    Shapes: x (N, D), W1 (H, D), b1 (H,), W2 (C, H), b2 (C,), y (N, C); as in nn.Linear, z = x W^T + b.

    Forward:  z1 = x W1^T + b1,  h1 = sigmoid(z1),  z2 = h1 W2^T + b2,
              J  = 1/(2N) * sum (z2 - y)^2.
    Backward (delta = dJ/d(pre-activation)):
              delta2 = dJ/dz2 = (z2 - y) / N                       (N, C)
              dJ/dW2 = delta2^T h1,   dJ/db2 = sum_n delta2         (C, H), (C,)
              dJ/dh1 = delta2 W2                                    (N, H)
              delta1 = dJ/dz1 = dJ/dh1 * sigmoid'(z1) = dJ/dh1 * h1 (1 - h1)
              dJ/dW1 = delta1^T x,    dJ/db1 = sum_n delta1         (H, D), (H,)
              dJ/dx  = delta1 W1                                    (N, D)
    """
    n = x.shape[0]
    z1 = x @ W1.T + b1
    h1 = 1.0 / (1.0 + np.exp(-z1))
    z2 = h1 @ W2.T + b2
    loss = 0.5 * np.sum((z2 - y) ** 2) / n
    delta2 = (z2 - y) / n
    grads = {"W2": delta2.T @ h1, "b2": delta2.sum(axis=0)}
    dh1 = delta2 @ W2
    delta1 = dh1 * h1 * (1.0 - h1)
    grads.update({"W1": delta1.T @ x, "b1": delta1.sum(axis=0), "x": delta1 @ W1})
    return float(loss), grads


def network_loss(x: md.Tensor, y: md.Tensor, W1: md.Tensor, b1: md.Tensor, W2: md.Tensor,
                 b2: md.Tensor) -> md.Tensor:
    """The same network in minidl: autograd records every op of this function."""
    h1 = md.sigmoid(x @ W1.T + b1)
    z2 = h1 @ W2.T + b2
    d = z2 - y
    return (d * d).sum() * (0.5 / x.shape[0])  # d is used twice: one node, two edges into Mul


# %%
L = Lesson("06_backprop_by_hand", "Backpropagation by hand: delta equations vs autograd vs gradcheck")
n, d_in, hidden, c = (8, 4, 5, 3) if L.quick else (64, 10, 16, 4)


# %% [markdown]
# ## The network and its data
# Float64, so that all three methods can be compared tightly.

# %%
L.section("The network: x -> Linear -> sigmoid -> Linear -> squared error")
rng = L.rng
arrays = {
    "x": rng.standard_normal((n, d_in)),
    "W1": rng.standard_normal((hidden, d_in)) / np.sqrt(d_in),
    "b1": 0.1 * rng.standard_normal(hidden),
    "W2": rng.standard_normal((c, hidden)) / np.sqrt(hidden),
    "b2": 0.1 * rng.standard_normal(c),
}
y_np = rng.standard_normal((n, c))
L.note(f"x is {n}x{d_in}, hidden layer {hidden} sigmoid units, {c} outputs, loss J = 1/(2N) sum (z2 - y)^2.")


# %% [markdown]
# ## 1. The delta equations in plain NumPy (OPT-1)

# %%
L.section("1. Gradients from the delta equations (plain NumPy)")
loss_hand, g_hand = forward_backward_by_hand(arrays["x"], y_np, arrays["W1"], arrays["b1"],
                                             arrays["W2"], arrays["b2"])


# %% [markdown]
# ## 2. The same gradients from autograd (OPT-1)

# %%
L.section("2. The same gradients from minidl autograd")
t = {k: md.tensor(v, dtype=md.float64, requires_grad=True) for k, v in arrays.items()}
y = md.tensor(y_np, dtype=md.float64)
loss = network_loss(t["x"], y, t["W1"], t["b1"], t["W2"], t["b2"])
# draw the graph now: backward() releases it to free memory
graph = viz.build_graph(loss, names={t["x"]: "x", y: "y", t["W1"]: "W1", t["b1"]: "b1",
                                     t["W2"]: "W2", t["b2"]: "b2", loss: "J"})
loss.backward()
rows, worst = [], 0.0
for k in ["W1", "b1", "W2", "b2", "x"]:
    diff = float(np.max(np.abs(t[k].grad - g_hand[k])))
    worst = max(worst, diff)
    rows.append([k, str(tuple(g_hand[k].shape)), float(np.linalg.norm(g_hand[k])), diff])
L.table("hand_vs_autograd", ["parameter", "shape", "|dJ/dp| (by hand)", "max |hand - autograd|"], rows,
        caption="Hand-written delta equations vs autograd (float64)")
loss_diff = abs(loss.item() - loss_hand)


# %% [markdown]
# ## 3. Both against central differences (OPT-1)

# %%
L.section("3. Both against central differences (md.gradcheck)")
ok = md.gradcheck(lambda *p: network_loss(p[0], y, *p[1:]),
                  [md.tensor(arrays[k], dtype=md.float64, requires_grad=True)
                   for k in ["x", "W1", "b1", "W2", "b2"]])
# and the hand formulas directly: (J(p + eps e_i) - J(p - eps e_i)) / (2 eps) for a few entries
eps, fd_worst = 1e-6, 0.0
for k in ["W1", "b1", "W2", "b2"]:
    flat = arrays[k].reshape(-1)
    for i in range(min(flat.size, 6)):
        old = flat[i]
        flat[i] = old + eps
        jp = forward_backward_by_hand(arrays["x"], y_np, arrays["W1"], arrays["b1"], arrays["W2"], arrays["b2"])[0]
        flat[i] = old - eps
        jm = forward_backward_by_hand(arrays["x"], y_np, arrays["W1"], arrays["b1"], arrays["W2"], arrays["b2"])[0]
        flat[i] = old
        fd_worst = max(fd_worst, abs((jp - jm) / (2 * eps) - g_hand[k].reshape(-1)[i]))
L.note(f"md.gradcheck passed: {ok}; worst |delta-equation - central difference| over 24 entries = {fd_worst:.2e}.")
L.claim("OPT-1", ok and worst < 1e-12 and loss_diff < 1e-12 and fd_worst < 1e-7,
        "the delta recursions give every gradient: hand == autograd == central differences",
        max_hand_vs_autograd=worst, max_hand_vs_finite_diff=fd_worst, gradcheck=ok)


# %% [markdown]
# ## 4. The graph autograd recorded
# One node per tensor and per op, drawn with `minidl.viz`; click the figure for full size.

# %%
L.section("4. The computation graph (one node per tensor and per op)")
(L.out_dir / "graph.dot").write_text(viz.to_dot(graph, title="two_layer_net"))
n_t, n_o = len(graph.tensor_nodes), len(graph.op_nodes)
twice = [e for e in graph.edges if e.count > 1]
L.table("graph_counts", ["tensor nodes", "op nodes", "edges", "edges used twice"],
        [[n_t, n_o, len(graph.edges), len(twice)]],
        caption="Graph of the loss (DOT text in graph.dot; paste it into any graphviz viewer)")
L.note("d = z2 - y is one node although the loss uses it twice (d * d): its edge into Mul is marked x2, "
       "and backward adds both contributions, 2 d, into d's gradient.")
fig = viz.draw_graph(graph, title="Graph autograd recorded for J = sum((h1 W2^T + b2 - y)^2) / 2N")
L.figure(fig, "computation_graph", caption="computation graph of the 2-layer network's loss")


# %% [markdown]
# ## 5. The deck's notation slip

# %%
L.slip("methodology", '"h^(L) = f^(L-l)(h^(L-1))" and "J(0) = f^(L)(f^(L-1)(... f^(1)(x)))"',
       "h^(L) = f^(L-1)(h^(L-1)) (the layer index L-1, not L minus the letter l), and the loss is J(theta), "
       "a function of the parameters theta, not J(0)")


# %% [markdown]
# ## Summary
# `L.finish()` prints every claim with its result and fails the lesson if any did not hold.

# %%
L.finish()
