"""Figures for lessons and training runs, each returning its matplotlib Figure (no pyplot: Agg-safe).

Training figures (each titled, with labelled axes and a legend):

- ``plot_history(history)``: loss and metric curves, the best epoch marked, lr on a twin axis;
- ``plot_histograms(values)``, ``plot_activation_histograms(result)``,
  ``plot_gradient_histograms(result)``: one histogram per layer (one row per setup);
- ``plot_confusion_matrix(cm)``: counts in every cell;
- ``plot_decision_boundary(model, X, y)``: the predicted class over a 2-D plane;
- ``plot_image_grid(images, labels, preds)``: samples, conv kernels, misclassified examples;
- ``plot_optimizer_paths(f, paths)``: optimizer trajectories on a contour plot of ``f``;
- ``plot_lr_range_test(result)``: loss against learning rate, the suggested lr marked.

The computation graph behind a tensor, as a matplotlib drawing or DOT text:

After a forward pass in grad mode every non-leaf tensor ``t`` has ``t.grad_fn``, the
:class:`~minidl.autograd.Function` that made it, and that function's ``.inputs`` are the tensors
it was applied to. Following these links backwards from the loss visits the whole graph::

    a = md.randn(3, requires_grad=True)
    b = a + a            # one Add node, with the same input twice
    c = b * b            # one Mul node
    g = md.viz.build_graph(c, names={a: "a", b: "b", c: "c"})
    len(g.nodes), len(g.edges)        # 5 nodes (a, Add, b, Mul, c), 4 edges
    print(md.viz.to_dot(g))           # graphviz DOT text (render it anywhere; no binary needed here)
    fig = md.viz.draw_graph(g)        # a matplotlib Figure

Each tensor and each op is *one* node, however often it is used: an input used twice by the
same op gives one edge with ``count == 2`` (drawn as "x2"), because backward adds both
contributions into that tensor's gradient. Draw the graph *before* ``loss.backward()`` (or call
``backward(retain_graph=True)``): backward releases each node's inputs to free memory.

Only matplotlib is needed (no graphviz binary); pyplot is not imported, so this works headless.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from . import backend
from ._checks import is_count
from .autograd import no_grad
from .metrics import lower_is_better
from .tensor import Tensor, tensor

__all__ = [
    "Node", "Edge", "Graph", "build_graph", "to_dot", "draw_graph",
    "plot_history", "plot_histograms", "plot_activation_histograms", "plot_gradient_histograms",
    "plot_confusion_matrix", "plot_decision_boundary", "plot_image_grid", "plot_optimizer_paths",
    "plot_lr_range_test",
]


@dataclass
class Node:
    """One graph node: ``kind`` is ``"tensor"`` or ``"op"``; ``key`` is unique within the graph."""

    key: str
    kind: str
    label: str
    layer: int = 0  # longest path from a leaf: leaves are layer 0, the root is the last layer


@dataclass
class Edge:
    """A data-flow edge ``src -> dst`` (tensor -> op that uses it, op -> tensor it makes).

    ``count`` is how many times ``src`` is passed to ``dst`` (2 for ``a + a``).
    """

    src: str
    dst: str
    count: int = 1


@dataclass
class Graph:
    """The computation graph of one tensor: nodes in topological order (inputs first), edges."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def node(self, key: str) -> Node:
        for n in self.nodes:
            if n.key == key:
                return n
        raise KeyError(f"no node with key {key!r} in this graph")

    @property
    def tensor_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "tensor"]

    @property
    def op_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "op"]


def _shape_text(t: Tensor) -> str:
    return "(" + ",".join(str(s) for s in t.shape) + ")" if t.shape else "scalar"


def build_graph(root: Tensor, names: Mapping[Any, str] | None = None) -> Graph:
    """The graph of ops and tensors that produced ``root`` (a Tensor made in grad mode).

    ``names`` maps tensors to display names (``{x: "x", W1: "W1"}``); other tensors are labelled
    by their shape. Nodes are keyed by object identity, so a tensor used twice is one node.
    Raises ``TypeError`` for a non-Tensor root and ``RuntimeError`` if part of the graph was
    already released by ``backward()``.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"build_graph: expected a minidl Tensor, got {type(root).__name__}")
    label_of: dict[int, str] = {}
    for t, name in (names or {}).items():
        if not isinstance(t, Tensor):
            raise TypeError(f"build_graph: names must map Tensors to strings, got a key of type {type(t).__name__}")
        label_of[id(t)] = str(name)

    tensors: dict[int, Tensor] = {}
    ops: dict[int, Any] = {}
    edge_count: dict[tuple[str, str], int] = {}
    order: list[str] = []  # post-order: inputs before the nodes that use them

    # iterative DFS over tensors (no recursion: deep graphs are fine)
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    done: set[int] = set()
    while stack:
        t, expanded = stack.pop()
        if expanded:
            fn = t.grad_fn
            if fn is not None and id(fn) not in ops:
                ops[id(fn)] = fn
                order.append(f"op{id(fn)}")
            order.append(f"t{id(t)}")
            continue
        if id(t) in done:
            continue
        done.add(id(t))
        tensors[id(t)] = t
        stack.append((t, True))
        fn = t.grad_fn
        if fn is not None:
            if fn.inputs is None:
                raise RuntimeError(
                    f"build_graph: the {fn.name} node was released by backward(); build the graph "
                    "before calling backward(), or call backward(retain_graph=True)"
                )
            okey, tkey = f"op{id(fn)}", f"t{id(t)}"
            edge_count[(okey, tkey)] = 1
            for inp in fn.inputs:
                pair = (f"t{id(inp)}", okey)
                edge_count[pair] = edge_count.get(pair, 0) + 1
            for inp in reversed(fn.inputs):
                if id(inp) not in done:
                    stack.append((inp, False))

    nodes: dict[str, Node] = {}
    for key in order:
        if key.startswith("t"):
            t = tensors[int(key[1:])]
            given = label_of.get(id(t))
            label = f"{given}\n{_shape_text(t)}" if given else _shape_text(t)
            nodes[key] = Node(key, "tensor", label)
        else:
            nodes[key] = Node(key, "op", ops[int(key[2:])].name)
    edges = [Edge(s, d, c) for (s, d), c in edge_count.items()]
    # layers: longest path from a leaf (order is topological, so one pass suffices)
    incoming: dict[str, list[str]] = {k: [] for k in nodes}
    for e in edges:
        incoming[e.dst].append(e.src)
    for key in order:
        srcs = incoming[key]
        nodes[key].layer = 1 + max(nodes[s].layer for s in srcs) if srcs else 0
    # a leaf is drawn just before its first consumer (not far left), so edges stay short
    first_use: dict[str, int] = {}
    for e in edges:
        first_use[e.src] = min(first_use.get(e.src, 1 << 30), nodes[e.dst].layer)
    for key in order:
        if not incoming[key] and key in first_use:
            nodes[key].layer = first_use[key] - 1
    return Graph(list(nodes.values()), edges)


def _as_graph(g: Graph | Tensor, names: Mapping[Any, str] | None) -> Graph:
    if isinstance(g, Graph):
        return g
    return build_graph(g, names)


def to_dot(graph: Graph | Tensor, names: Mapping[Any, str] | None = None, title: str = "minidl") -> str:
    """Graphviz DOT text for ``graph`` (a :class:`Graph` or a Tensor): tensors as boxes, ops as
    ellipses, left to right; an edge used twice is labelled ``x2``. Paste it into any DOT viewer."""
    g = _as_graph(graph, names)
    lines = [f'digraph "{title}" {{', "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for n in g.nodes:
        shape = "box" if n.kind == "tensor" else "ellipse"
        style = ', style=filled, fillcolor="#dbe9f6"' if n.kind == "tensor" else ', style=filled, fillcolor="#fde2c8"'
        label = n.label.replace('"', '\\"').replace("\n", "\\n")
        lines.append(f'  {n.key} [label="{label}", shape={shape}{style}];')
    for e in g.edges:
        extra = f' [label="x{e.count}"]' if e.count > 1 else ""
        lines.append(f"  {e.src} -> {e.dst}{extra};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_graph(graph: Graph | Tensor, names: Mapping[Any, str] | None = None, title: str = "Computation graph",
               ax: Any = None) -> Any:
    """Draw the graph with matplotlib, inputs on the left and the root on the right.

    Tensors are blue boxes (name and shape), ops orange ellipses; arrows follow the forward
    data flow (backward runs them in reverse). Returns the matplotlib Figure (a new one unless
    ``ax`` is given).
    """
    from matplotlib.figure import Figure  # no pyplot: no GUI backend is touched

    g = _as_graph(graph, names)
    n_layers = 1 + max((n.layer for n in g.nodes), default=0)
    by_layer: dict[int, list[Node]] = {}
    for n in g.nodes:
        by_layer.setdefault(n.layer, []).append(n)
    tallest = max((len(v) for v in by_layer.values()), default=1)
    if ax is None:
        fig = Figure(figsize=(max(6.0, 1.2 * n_layers), max(3.0, 1.0 * tallest + 1.2)))
        ax = fig.add_subplot(1, 1, 1)
    else:
        fig = ax.figure
    pos: dict[str, tuple[float, float]] = {}

    def place() -> None:
        for layer, members in by_layer.items():
            k = len(members)
            for i, n in enumerate(members):
                pos[n.key] = (float(layer), (k - 1) / 2.0 - i)

    place()
    neighbours: dict[str, list[str]] = {n.key: [] for n in g.nodes}
    for e in g.edges:
        neighbours[e.src].append(e.dst)
        neighbours[e.dst].append(e.src)
    for _ in range(4):  # barycentre ordering within each layer: fewer crossing edges
        for members in by_layer.values():
            members.sort(key=lambda n: -sum(pos[m][1] for m in neighbours[n.key]) / max(1, len(neighbours[n.key])))
        place()
    labels = {}
    for n in g.nodes:
        x, y = pos[n.key]
        if n.kind == "tensor":
            box = dict(boxstyle="round,pad=0.35", fc="#dbe9f6", ec="#1f5f9e")
        else:
            box = dict(boxstyle="ellipse,pad=0.3", fc="#fde2c8", ec="#c0601a")
        labels[n.key] = ax.text(x, y, n.label, ha="center", va="center", fontsize=9, bbox=box, zorder=3)
    for e in g.edges:
        (x0, y0), (x1, y1) = pos[e.src], pos[e.dst]
        # clipped to the two nodes' outlines, so every arrowhead shows whatever the label widths
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", color="0.35", lw=1.2, shrinkA=2, shrinkB=2,
                                    patchA=labels[e.src].get_bbox_patch(), patchB=labels[e.dst].get_bbox_patch()))
        if e.count > 1:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.12, f"x{e.count}", ha="center", va="bottom",
                    fontsize=9, color="firebrick")
    ax.set_xlim(-0.6, n_layers - 0.4)
    ax.set_ylim(-tallest / 2.0 - 0.2, tallest / 2.0 + 0.2)
    ax.set_axis_off()
    ax.set_title(f"{title}  ({len(g.tensor_nodes)} tensors, {len(g.op_nodes)} ops; "
                 "blue = tensor, orange = op, arrows = forward data flow)", fontsize=10)
    return fig


# --------------------------------------------------------------------------- training figures

np = backend.np
_range = range  # plot_histograms has a matplotlib-style ``range`` argument


def _figure(figsize: tuple[float, float]) -> Any:
    from matplotlib.figure import Figure  # no pyplot: no GUI backend is touched

    return Figure(figsize=figsize, layout="constrained")


def _host(a: Any) -> Any:
    if isinstance(a, Tensor):
        a = a.data
    return backend.to_numpy(a) if backend.is_backend_array(a) else np.asarray(a)


def plot_history(history: Any, metrics: Sequence[str] | None = None, best: str | None = "val_loss",
                 lr: bool = True, title: str = "Learning curves") -> Any:
    """Loss curves (left) and metric curves (right, when there are metrics) of a ``History``
    (or its ``.history`` dict). Epochs are drawn from 1. The best epoch of ``best`` (default
    ``val_loss``, else ``loss``) is marked with a dotted line in every panel: its lowest value
    for losses, errors and times (a name holding "loss", "error", "mse", "mae", "seconds" or
    "time", the rule of ``History.best``), else its highest; ``best="lr"`` has no best value
    (ValueError), pass ``best=None`` for no mark. The learning rate is drawn on a twin axis of the loss
    panel (log scale when it changes)."""
    h = history.history if hasattr(history, "history") else dict(history)
    if "loss" not in h:
        raise KeyError(f"plot_history: the history has no 'loss' (keys: {sorted(h)})")
    n = len(h["loss"])
    ep = np.arange(1, n + 1)
    skip = {"loss", "val_loss", "lr", "seconds"}
    if metrics is None:
        metrics = [k for k in h if k not in skip and not k.startswith("val_")]
    fig = _figure((12.5 if metrics else 7.5, 4.4))
    axes = fig.subplots(1, 2 if metrics else 1, squeeze=False)[0]
    if best is not None and best not in h:
        best = "loss"
    best_epoch = None
    if best is not None:
        try:
            mode_max = not lower_is_better(best)
        except ValueError as exc:
            raise ValueError(f"plot_history: {exc}; pass best='val_loss', another logged key, or None") from None
        vals = np.asarray(h[best], dtype=float)
        if np.any(np.isfinite(vals)):
            best_epoch = int(np.nanargmax(vals) if mode_max else np.nanargmin(vals))
    ax = axes[0]
    ax.plot(ep, h["loss"], "-o", ms=3, color="C0", label="training loss")
    if "val_loss" in h:
        ax.plot(ep, h["val_loss"], "-o", ms=3, color="C1", label="validation loss")
    ax.set(xlabel="epoch", ylabel="loss", title=f"{title}: loss")
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if best_epoch is not None:
        for a in axes:
            line = a.axvline(best_epoch + 1, color="C3", ls=":", lw=1.5)
        bv = h[best][best_epoch]
        handles.append(line)
        labels.append(f"best {best}: {bv:.4g} at epoch {best_epoch + 1}")
        if best in ("loss", "val_loss"):
            ax.plot([best_epoch + 1], [bv], "*", color="C3", ms=12)
    if lr and "lr" in h and len(h["lr"]) == n:
        tw = ax.twinx()
        lrs = np.asarray(h["lr"], dtype=float)
        (lr_line,) = tw.plot(ep, lrs, "--", color="0.45", lw=1.2)
        if np.nanmax(lrs) > np.nanmin(lrs) > 0:
            tw.set_yscale("log")
        tw.set_ylabel("learning rate (dashed)", color="0.35")
        handles.append(lr_line)
        labels.append("learning rate (right axis)")
    ax.legend(handles, labels, fontsize=8.5, loc="upper right")
    if metrics:
        ax2 = axes[1]
        for i, m in enumerate(metrics):
            ax2.plot(ep, h[m], "-o", ms=3, color=f"C{2 + 2 * i}", label=f"training {m}")
            if "val_" + m in h:
                ax2.plot(ep, h["val_" + m], "-s", ms=3, color=f"C{3 + 2 * i}", label=f"validation {m}")
        ax2.set(xlabel="epoch", ylabel=", ".join(metrics), title=f"{title}: metrics")
        ax2.grid(alpha=0.3)
        ax2.legend(fontsize=8.5, loc="lower right")
    for a in axes:
        if n <= 20:
            a.set_xticks(ep)
    return fig


def _short(x: float) -> str:
    """A number for a crowded panel title: two decimals from 0.1 up (0.49, 1.41), else two
    significant digits (0.072, -0.0015), so six titles in a row stay apart."""
    return f"{x:.2f}" if 0.1 <= abs(x) < 1e4 else f"{x:.2g}"


def plot_histograms(values: Mapping[str, Any], title: str = "Per-layer histograms", xlabel: str = "value",
                    bins: int = 60, range: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
                    ncols: int | None = None, log: bool = False, density: bool = False,
                    legend: bool = True) -> Any:
    """One histogram per layer: ``values`` maps layer names to arrays; or maps row labels
    (e.g. setups) to such dicts, giving one row per setup (lesson 02's grid). Each panel's title
    holds the layer name, mean and std; ``range`` fixes a common x range (default per panel),
    or, as a dict from row labels to ranges, one range per row (rows missing from it: per panel),
    so that a row's panels compare while rows of different scales each stay readable;
    ``density`` normalises each histogram to unit area; ``log`` puts the counts on a log axis;
    ``legend=False`` leaves out the per-row legend (the row label stays on the y axis)."""
    if not values:
        raise ValueError("plot_histograms: nothing to draw")
    nested = all(isinstance(v, Mapping) for v in values.values())
    from matplotlib.ticker import MaxNLocator

    rows: dict[str, Mapping[str, Any]] = dict(values) if nested else {"": values}
    n_cols = ncols or min(4 if len(rows) == 1 else 6, max(len(r) for r in rows.values()))
    n_rows = sum(math.ceil(len(r) / n_cols) for r in rows.values())
    fig = _figure((max(5.0, 2.5 * n_cols), 2.6 * n_rows + 0.7))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    r0 = 0
    for ri, (row_label, layers) in enumerate(rows.items()):
        row_range = range.get(row_label) if isinstance(range, Mapping) else range
        for j, (name, arr) in enumerate(layers.items()):
            ax = axes[r0 + j // n_cols][j % n_cols]
            v = _host(arr).astype(np.float64).ravel()
            v = v[np.isfinite(v)]
            counts, edges = np.histogram(v, bins=bins, range=row_range, density=density)
            ax.stairs(counts, edges, fill=True, color=f"C{ri}", alpha=0.85,  # one patch: fast to draw
                      label=f"{row_label} (n={v.size})" if row_label else f"n={v.size}")
            if log:
                ax.set_yscale("log")
            ax.set_title(f"{name}\nmean {_short(v.mean())}, std {_short(v.std())}", fontsize=10.5)
            ax.set_xlabel(xlabel, fontsize=10)
            if j % n_cols == 0:
                what = ("density" if density else "count") + (" (log)" if log else "")
                ax.set_ylabel(f"{row_label}\n{what}" if row_label else what, fontsize=10)
            ax.tick_params(labelsize=8.5)
            ax.xaxis.set_major_locator(MaxNLocator(5))
            if legend and j == 0:  # one legend per row: the panels of a row share it
                ax.legend(fontsize=8, loc="upper right")
            ax.grid(alpha=0.3)
        used = len(layers)
        rows_here = math.ceil(used / n_cols)
        for j in _range(used, rows_here * n_cols):
            axes[r0 + j // n_cols][j % n_cols].set_axis_off()
        r0 += rows_here
    fig.suptitle(title, fontsize=13)
    return fig


def plot_activation_histograms(stats: Any, title: str = "Activations per layer", **kw: Any) -> Any:
    """Histograms of the activations recorded by ``diagnostics.activation_stats`` (or a dict)."""
    acts = stats.values["activations"] if hasattr(stats, "values") and isinstance(stats.values, dict) else stats
    kw.setdefault("xlabel", "activation")
    return plot_histograms(acts, title=title, **kw)


def plot_gradient_histograms(stats: Any, title: str = "Gradients per parameter", **kw: Any) -> Any:
    """Histograms of the gradients recorded by ``diagnostics.gradient_stats`` (or a dict)."""
    grads = stats.values["gradients"] if hasattr(stats, "values") and isinstance(stats.values, dict) else stats
    kw.setdefault("xlabel", "gradient")
    return plot_histograms(grads, title=title, **kw)


def plot_confusion_matrix(cm: Any, labels: Sequence[Any] | None = None, normalize: bool = False,
                          title: str = "Confusion matrix", cmap: str = "Blues") -> Any:
    """A confusion matrix (rows: true class, columns: predicted, as ``metrics.confusion_matrix``)
    with the count (or, with ``normalize``, the row fraction: each row divided by its sum, an
    all-zero row left at 0) written in every cell. A matrix of counts gets the accuracy and the
    number of samples in the title. A matrix holding non-integer values (e.g. one already
    normalised) is drawn as given, every cell with 2 decimals and no accuracy or count in the
    title (they would not be counts)."""
    c = _host(cm).astype(np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"plot_confusion_matrix: expected a square matrix, got shape {c.shape}")
    k = c.shape[0]
    names = [str(v) for v in (labels if labels is not None else range(k))]
    if len(names) != k:
        raise ValueError(f"plot_confusion_matrix: {len(names)} labels for a {k}x{k} matrix")
    counts = bool(np.all(np.isfinite(c)) and np.all(c == np.round(c)))
    if normalize:
        sums = c.sum(axis=1, keepdims=True)
        shown = c / np.where(sums != 0, sums, 1)
    else:
        shown = c
    fig = _figure((max(4.5, 0.55 * k + 2.5), max(4.0, 0.5 * k + 2.0)))
    ax = fig.subplots()
    im = ax.imshow(shown, cmap=cmap, vmin=0)
    fig.colorbar(im, ax=ax, label="fraction of the true class" if normalize else "count" if counts else "value")
    hi = shown.max() if shown.size else 1
    fs = 10 if k <= 10 else 7
    for i in range(k):
        for j in range(k):
            txt = f"{int(c[i, j])}" if counts and not normalize else f"{shown[i, j]:.2f}"
            ax.text(j, i, txt, ha="center", va="center", fontsize=fs,
                    color="white" if shown[i, j] > 0.6 * hi else "black")
    ax.set_xticks(np.arange(k), names)
    ax.set_yticks(np.arange(k), names)
    ax.set(xlabel="predicted class", ylabel="true class")
    if counts:
        acc = np.trace(c) / max(c.sum(), 1)
        ax.set_title(f"{title} (accuracy {acc:.1%}, n={int(c.sum())})")
    else:
        ax.set_title(title)
    return fig


def plot_decision_boundary(model: Any, X: Any, y: Any, resolution: int = 200, margin: float = 0.5,
                           title: str = "Decision boundary", class_names: Sequence[str] | None = None) -> Any:
    """Predicted class over the plane around the 2-D points ``X`` (n, 2), with the points
    coloured by their true label ``y``. ``model`` is a Module or a function mapping an
    (m, 2) float32 Tensor to (m, C) scores (argmax) or (m,)/(m, 1) logits (> 0 is class 1).
    ``y`` holds one label in [0, C) per point; ``class_names``, if given, one name per class."""
    Xh, yh = _host(X).astype(np.float64), _host(y).astype(np.int64).ravel()
    if Xh.ndim != 2 or Xh.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (n, 2), got {Xh.shape}")
    if yh.shape[0] != Xh.shape[0]:
        raise ValueError(f"plot_decision_boundary: y has {yh.shape[0]} labels for {Xh.shape[0]} points; "
                         "give one label per point")
    if class_names is not None and yh.size and len(class_names) <= yh.max():
        raise ValueError(f"plot_decision_boundary: {len(class_names)} class_names for labels up to "
                         f"{int(yh.max())}; give one name per class")
    (x0, y0), (x1, y1) = Xh.min(axis=0) - margin, Xh.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = tensor(np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32))
    was = getattr(model, "training", None)
    if was is not None:
        model.eval()
    try:
        with no_grad():
            out = _host(model(grid))
    finally:
        if was is not None:
            model.train(was)
    pred = out.argmax(axis=1) if out.ndim == 2 and out.shape[1] > 1 else (out.reshape(-1) > 0).astype(np.int64)
    k = int(max(pred.max(), yh.max())) + 1
    fig = _figure((6.8, 5.6))
    ax = fig.subplots()
    from matplotlib.colors import ListedColormap

    colors = [f"C{i}" for i in range(k)]
    ax.contourf(gx, gy, pred.reshape(gx.shape), levels=np.arange(k + 1) - 0.5, cmap=ListedColormap(colors), alpha=0.25)
    ax.contour(gx, gy, pred.reshape(gx.shape), levels=np.arange(k) + 0.5, colors="0.3", linewidths=0.8)
    for c in range(k):
        m = yh == c
        if m.any():
            name = class_names[c] if class_names is not None else f"class {c}"
            ax.scatter(Xh[m, 0], Xh[m, 1], s=16, color=colors[c], edgecolor="k", linewidth=0.4, label=name)
    acc = float(np.mean(_predict_points(model, Xh) == yh))
    ax.set(xlabel="x1", ylabel="x2", title=f"{title} (training accuracy {acc:.1%})")
    ax.legend(fontsize=8.5, loc="best", title="true label (points)\nshading: predicted", title_fontsize=8)
    return fig


def _predict_points(model: Any, Xh: Any) -> Any:
    with no_grad():
        out = _host(model(tensor(Xh.astype(np.float32))))
    return out.argmax(axis=1) if out.ndim == 2 and out.shape[1] > 1 else (out.reshape(-1) > 0).astype(np.int64)


def plot_image_grid(images: Any, labels: Sequence[Any] | Any = None, preds: Sequence[Any] | Any = None,
                    ncols: int = 8, image_shape: tuple[int, int] | None = None, cmap: str = "gray",
                    title: str = "Images", symmetric: bool = False, max_images: int = 64,
                    vmin: float | None = None, vmax: float | None = None) -> Any:
    """A grid of images: ``(N, H, W)``, ``(N, 1|3, H, W)``, conv kernels ``(out, in, kh, kw)``
    (the first input channel of each), or flat rows ``(N, H*W)`` with ``image_shape``.
    ``labels`` and ``preds`` give each panel's caption (``true 3 / pred 5``, red when they
    differ). ``symmetric`` centres the colour scale on 0 (for kernels). ``vmin``/``vmax`` fix
    one grey scale for every single-channel panel (by default each panel is stretched to its
    own range, which hides a dark or low-contrast image). ``max_images`` (>= 1) caps the panels;
    ``labels`` and ``preds`` need a value for each panel shown."""
    if not is_count(max_images, 1):
        raise ValueError(f"plot_image_grid: max_images must be an int >= 1, got {max_images!r}")
    a = _host(images).astype(np.float64)
    if a.ndim == 2:
        if image_shape is None:
            side = int(round(math.sqrt(a.shape[1])))
            if side * side != a.shape[1]:
                raise ValueError(f"plot_image_grid: rows of {a.shape[1]} values are not square; pass image_shape")
            image_shape = (side, side)
        a = a.reshape(a.shape[0], *image_shape)
    elif a.ndim == 4:
        a = a.transpose(0, 2, 3, 1) if a.shape[1] == 3 else a[:, 0]
    elif a.ndim != 3:
        raise ValueError(f"plot_image_grid: expected (N, H, W), (N, C, H, W) or (N, H*W), got shape {a.shape}")
    n = min(a.shape[0], max_images)
    for what, vals in (("labels", labels), ("preds", preds)):
        if vals is not None and _host(vals).size < n:
            raise ValueError(f"plot_image_grid: {_host(vals).size} {what} for {n} images shown; "
                             f"give one per image")
    lab = None if labels is None else [int(v) if np.ndim(v) == 0 else v for v in _host(labels).ravel()[:n]]
    prd = None if preds is None else [int(v) for v in _host(preds).ravel()[:n]]
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = _figure((1.45 * ncols + 0.4, 1.55 * nrows + 0.7))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    lim = float(np.abs(a[:n]).max()) if symmetric and n else None
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.set_axis_off()
            continue
        img = a[i]
        kw = {"vmin": -lim, "vmax": lim} if lim else {"vmin": vmin, "vmax": vmax}
        if img.ndim == 3:
            lo, hi = img.min(), img.max()
            ax.imshow((img - lo) / (hi - lo) if hi > lo else img * 0)
        else:
            ax.imshow(img, cmap="RdBu_r" if symmetric and cmap == "gray" else cmap, **kw)
        cap, color = f"#{i}", "black"
        if lab is not None and prd is not None:
            cap = f"true {lab[i]} / pred {prd[i]}"
            color = "black" if lab[i] == prd[i] else "red"
        elif lab is not None:
            cap = f"label {lab[i]}"
        ax.set_title(cap, fontsize=8, color=color)
        if lim and img.ndim == 2:
            mappable = ax.images[-1]
    if lim and n:
        fig.colorbar(mappable, ax=axes, shrink=0.8, label="value (blue < 0 < red)")
    sub = f" (first {n} of {a.shape[0]})" if a.shape[0] > n else f" ({n})"
    legend = "; red = misclassified" if lab is not None and prd is not None else ""
    fig.suptitle(title + sub + legend)
    return fig


def plot_optimizer_paths(f: Callable[[Any, Any], Any], paths: Mapping[str, Any], xlim: tuple[float, float],
                         ylim: tuple[float, float], levels: Any = 12, optimum: tuple[float, float] | None = (0.0, 0.0),
                         labels: Mapping[str, str] | None = None, subtitles: Mapping[str, str] | None = None,
                         separate: bool = True, ncols: int = 3, title: str = "Optimizer paths",
                         xlabel: str = "x", ylabel: str = "y", resolution: int = 200) -> Any:
    """Trajectories of optimizers on a contour plot of ``f(X, Y)`` (a NumPy function of two grids).

    ``paths`` maps a name to a ``(T, 2)`` array of iterates (start first). With ``separate``
    (default) each path gets its own panel, so none hides another (lesson 08's figure); else
    all share one panel. ``levels``: a count, or the contour values (geometric levels suit
    a bowl); ``labels`` extend each legend entry (e.g. the settings); ``subtitles`` replace a
    panel's title."""
    if not paths:
        raise ValueError("plot_optimizer_paths: no paths")
    gx, gy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    gz = np.asarray(f(gx, gy), dtype=np.float64)
    names = list(paths)
    if separate:
        ncols = min(ncols, len(names))
        nrows = math.ceil(len(names) / ncols)
        fig = _figure((4.2 * ncols, 3.5 * nrows + 0.6))
        grid = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
        axes = list(grid.flat)
    else:
        fig = _figure((8.5, 5.5))
        axes = [fig.subplots()] * len(names)
    drawn: set[int] = set()
    for i, (ax, name) in enumerate(zip(axes, names)):
        p = _host(paths[name]).astype(np.float64)
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(f"plot_optimizer_paths: path {name!r} must have shape (T, 2), got {p.shape}")
        if id(ax) not in drawn:
            ax.contour(gx, gy, gz, levels=levels, colors="0.72", linewidths=0.6)
            # the markers on top of the paths (a path ending at the optimum must not hide its star)
            ax.plot([p[0, 0]], [p[0, 1]], "ko", ms=5, label="start", zorder=4)
            if optimum is not None:
                ax.plot([optimum[0]], [optimum[1]], "k*", ms=11, label="optimum", zorder=4)
            drawn.add(id(ax))
        extra = f" ({labels[name]})" if labels and name in labels else ""
        ax.plot(p[:, 0], p[:, 1], ".-", color=f"C{i}", ms=3, lw=1, label=f"{name}{extra}")
        if separate:
            ax.set_title(subtitles[name] if subtitles and name in subtitles else f"{name}: {len(p) - 1} steps")
        handles, texts = ax.get_legend_handles_labels()
        first = [k for k, t in enumerate(texts) if t not in ("start", "optimum")]  # the paths first
        order = first + [k for k in range(len(texts)) if k not in first]
        ax.legend([handles[k] for k in order], [texts[k] for k in order], fontsize=8, loc="lower right")
        ax.grid(alpha=0.3)
    if separate:  # shared axes: labels on the outer panels only (the bottom one of each column, the left column)
        for k, ax in enumerate(axes[:len(names)]):
            if k + ncols >= len(names):
                ax.set_xlabel(xlabel)
                ax.xaxis.set_tick_params(labelbottom=True)
            if k % ncols == 0:
                ax.set_ylabel(ylabel)
        for ax in axes[len(names):]:
            ax.set_axis_off()
        fig.suptitle(title)
    else:
        axes[0].set_xlabel(xlabel)
        axes[0].set_ylabel(ylabel)
        axes[0].set_title(title)
    return fig


def plot_lr_range_test(result: Any, title: str = "Learning-rate range test") -> Any:
    """Loss against learning rate (log axis) from ``diagnostics.lr_range_test`` (or a
    ``(lrs, losses)`` pair), with the suggested lr and the minimum marked."""
    if hasattr(result, "values"):
        v = result.values
        lrs, losses, raw = v["lrs"], v["losses"], v.get("raw_losses")
        sugg, mn = v.get("suggested_lr"), v.get("min_loss_lr")
    else:
        lrs, losses = result
        raw, sugg, mn = None, None, None
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    fig = _figure((7.5, 4.6))
    ax = fig.subplots()
    if raw is not None:
        ax.plot(lrs, raw, color="C0", alpha=0.3, lw=1, label="loss per batch")
    ax.plot(lrs, losses, color="C0", lw=2, label="smoothed loss")
    if sugg is not None and np.isfinite(sugg):
        ax.axvline(sugg, color="C2", ls="--", label=f"suggested lr {sugg:.2g} (steepest fall)")
    if mn is not None and np.isfinite(mn):
        ax.axvline(mn, color="C3", ls=":", label=f"lowest loss at lr {mn:.2g}")
    ax.set_xscale("log")
    top = np.nanpercentile(losses, 95) if losses.size else 1.0
    lo = np.nanmin(losses) if losses.size else 0.0
    ax.set_ylim(lo - 0.05 * abs(top - lo), top + 0.25 * abs(top - lo) + 1e-12)
    ax.set(xlabel="learning rate (log scale)", ylabel="training loss", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=9)
    return fig
