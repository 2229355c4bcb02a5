"""minidl.viz: one node per tensor and per op, edge multiplicities, DOT text, drawing."""

import pytest

import minidl as md
from minidl import viz


def test_tensor_used_twice_is_one_node():
    a = md.randn(3, requires_grad=True)
    b = a + a
    c = b * b
    g = viz.build_graph(c, names={a: "a", b: "b", c: "c"})
    assert len(g.tensor_nodes) == 3 and len(g.op_nodes) == 2
    assert len(g.edges) == 4
    assert sorted(e.count for e in g.edges) == [1, 1, 2, 2]
    assert [n.label.split("\n")[0] for n in g.nodes] == ["a", "Add", "b", "Mul", "c"]
    assert [n.layer for n in g.nodes] == [0, 1, 2, 3, 4]


def test_two_layer_network_counts():
    x = md.randn(4, 3)
    w1 = md.randn(3, 5, requires_grad=True)
    w2 = md.randn(5, 2, requires_grad=True)
    h = md.sigmoid(x @ w1)
    loss = ((h @ w2) ** 2).sum()
    g = viz.build_graph(loss)
    # tensors: x, w1, x@w1, h, w2, h@w2, the exponent constant 2, (.)**2, loss
    assert len(g.op_nodes) == 5
    assert len(g.tensor_nodes) == 9
    # each op: one edge per input plus one to its output
    assert len(g.edges) == (2 + 1) + (1 + 1) + (2 + 1) + (2 + 1) + (1 + 1)
    dot = viz.to_dot(g)
    assert dot.startswith('digraph "minidl" {') and dot.rstrip().endswith("}")
    assert dot.count("->") == len(g.edges)
    assert dot.count("shape=box") == len(g.tensor_nodes)
    assert dot.count("shape=ellipse") == len(g.op_nodes) == 5


def test_shared_subexpression_and_leaf_reuse():
    x = md.randn(2, 2, requires_grad=True)
    y = x.exp()
    z = y * x + y  # x used by two ops, y used by two ops
    g = viz.build_graph(z)
    assert len(g.tensor_nodes) == 4  # x, y, y*x, z
    assert len(g.op_nodes) == 3  # Exp, Mul, Add
    assert len(g.edges) == 2 + 3 + 3 and all(e.count == 1 for e in g.edges)
    assert g.node(g.nodes[-1].key).layer == max(n.layer for n in g.nodes)


def test_draw_returns_figure_with_one_label_per_node(tmp_path):
    a = md.randn(3, requires_grad=True)
    c = (a + a) * (a + a)
    fig = viz.draw_graph(c, names={a: "a"})
    texts = [t.get_text() for t in fig.axes[0].texts]
    # two separate Add ops (each uses a twice: two "x2" labels) and one Mul
    assert texts.count("Add") == 2 and texts.count("Mul") == 1
    assert texts.count("x2") == 2
    fig.savefig(tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 1000


def test_errors():
    with pytest.raises(TypeError, match="expected a minidl Tensor"):
        viz.build_graph([1.0])
    a = md.randn(3, requires_grad=True)
    b = (a * a).sum()
    b.backward()
    with pytest.raises(RuntimeError, match="released by backward"):
        viz.build_graph(b)
    with pytest.raises(TypeError, match="names must map Tensors"):
        viz.build_graph(a, names={"a": "a"})
