"""Figures for lessons: the computation graph behind a tensor, as a matplotlib drawing or DOT text.

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

from dataclasses import dataclass, field
from typing import Any, Mapping

from .tensor import Tensor

__all__ = ["Node", "Edge", "Graph", "build_graph", "to_dot", "draw_graph"]


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
