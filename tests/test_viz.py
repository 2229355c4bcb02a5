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


# ----------------------------------------------------------------------------- training figures

import numpy as np  # noqa: E402

import minidl.nn as nn  # noqa: E402
from minidl import diagnostics as diag  # noqa: E402
from minidl import metrics, train  # noqa: E402


def _check_figure(fig, tmp_path, name, legend=True):
    """Every panel in use has a title (or the figure a suptitle) and labelled axes; a legend
    where asked; and the figure renders under Agg."""
    from matplotlib.figure import Figure

    assert isinstance(fig, Figure)
    used = [ax for ax in fig.axes if ax.axison and ax.get_label() != "<colorbar>"]
    assert used
    sup = fig._suptitle.get_text() if fig._suptitle is not None else ""
    main = [ax for ax in used if ax.get_xlabel()]  # twin axes carry no x label of their own
    assert main and all(ax.get_title() or sup for ax in main), name
    assert any(ax.get_ylabel() for ax in main), name
    if legend:
        assert any(ax.get_legend() is not None for ax in used), name
    fig.savefig(tmp_path / f"{name}.png", dpi=60)
    assert (tmp_path / f"{name}.png").stat().st_size > 2000


def _history():
    n = 12
    e = np.arange(n)
    return train.History({"loss": (2 * np.exp(-e / 3)).tolist(),
                          "val_loss": (0.3 + 2 * np.exp(-e / 3) + 0.02 * e).tolist(),
                          "accuracy": (1 - np.exp(-e / 2)).tolist(), "val_accuracy": (0.9 - np.exp(-e / 2)).tolist(),
                          "lr": [0.1] * 6 + [0.01] * 6, "seconds": [0.1] * n})


def test_plot_history_marks_the_best_epoch_and_the_lr(tmp_path):
    h = _history()
    fig = viz.plot_history(h)
    _check_figure(fig, tmp_path, "history")
    best, value = h.best("val_loss")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"best val_loss: {value:.4g} at epoch {best + 1}" in labels and "learning rate (right axis)" in labels
    twin = [a for a in fig.axes if a.get_ylabel().startswith("learning rate")]
    assert twin and twin[0].get_yscale() == "log"
    one_panel = viz.plot_history({"loss": [1.0, 0.5, 0.4]}, metrics=[])
    assert len(one_panel.axes) == 1


def test_histograms_of_activations_and_gradients(tmp_path):
    md.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    x = md.randn(16, 4)
    _check_figure(viz.plot_activation_histograms(diag.activation_stats(model, x)), tmp_path, "acts")
    nn.CrossEntropyLoss()(model(x), md.tensor(np.arange(16) % 3)).backward()
    fig = viz.plot_gradient_histograms(diag.gradient_stats(model))
    _check_figure(fig, tmp_path, "grads")
    assert sum(ax.axison for ax in fig.axes) == 4
    rows = viz.plot_histograms({"sigma 0.01": {"layer 1": np.ones(5), "layer 2": np.zeros(5)},
                                "sigma 0.05": {"layer 1": np.ones(5), "layer 2": np.zeros(5)}})
    assert sum(ax.axison for ax in rows.axes) == 4


def test_histograms_per_row_ranges_no_legend_and_own_xlabel(tmp_path):
    rng = np.random.default_rng(0)
    grid = {"small": {"layer 1": np.array([-0.4915, 0.4885]), "layer 2": rng.normal(0, 0.05, 500)},
            "large": {"layer 1": rng.normal(0, 5.0, 500), "layer 2": rng.normal(0, 9.0, 500)}}
    fig = viz.plot_activation_histograms(grid, range={"small": (-0.5, 0.5), "large": (-40.0, 40.0)},
                                         density=True, legend=False, xlabel="activation h = f(z)")
    _check_figure(fig, tmp_path, "rows", legend=False)
    panels = [ax for ax in fig.axes if ax.axison]
    assert all(ax.get_legend() is None for ax in panels)
    assert {ax.get_xlabel() for ax in panels} == {"activation h = f(z)"}
    xs = [ax.patches[0].get_path().vertices[:, 0] for ax in panels]  # the stairs' x extent = the bins' range
    edges = [(float(x.min()), float(x.max())) for x in xs]
    assert edges == [(-0.5, 0.5)] * 2 + [(-40.0, 40.0)] * 2  # one range per row, shared by its panels
    assert panels[0].get_title() == "layer 1\nmean -0.0015, std 0.49"  # short numbers: six titles fit a row
    # a row missing from the dict gets per-panel ranges; the default keeps one legend per row
    fig = viz.plot_histograms(grid, range={"small": (-1.0, 1.0)})
    panels = [ax for ax in fig.axes if ax.axison]
    lo = float(panels[2].patches[0].get_path().vertices[:, 0].min())
    assert lo == pytest.approx(grid["large"]["layer 1"].min())
    assert sum(ax.get_legend() is not None for ax in panels) == 2


def test_confusion_matrix_figure_writes_every_count(tmp_path):
    t = np.array([0, 0, 1, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 1, 2, 0, 2])
    cm = metrics.confusion_matrix(t, p)
    fig = viz.plot_confusion_matrix(cm, labels=["a", "b", "c"])
    _check_figure(fig, tmp_path, "cm", legend=False)
    texts = [tx.get_text() for tx in fig.axes[0].texts]
    assert texts == [str(v) for v in cm.ravel()]
    assert "accuracy 71.4%" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="square"):
        viz.plot_confusion_matrix(np.ones((2, 3)))


def test_decision_boundary(tmp_path):
    md.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (60, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Linear(2, 2)
    with md.no_grad():
        model.weight.data[...] = np.array([[-5.0, 0.0], [5.0, 0.0]], dtype=np.float32)
        model.bias.data[...] = 0.0
    fig = viz.plot_decision_boundary(model, X, y, resolution=50)
    _check_figure(fig, tmp_path, "boundary")
    assert "100.0%" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        viz.plot_decision_boundary(model, np.ones((5, 3)), np.zeros(5))


def test_image_grid_captions_mark_mistakes(tmp_path):
    imgs = np.random.default_rng(0).random((5, 64))
    fig = viz.plot_image_grid(imgs, labels=[1, 2, 3, 4, 5], preds=[1, 2, 0, 4, 5], ncols=3, title="Digits")
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in titled][2] == "true 3 / pred 0" and titled[2].title.get_color() == "red"
    fig.savefig(tmp_path / "grid.png", dpi=60)
    kernels = viz.plot_image_grid(np.random.default_rng(1).normal(size=(4, 1, 3, 3)), symmetric=True, title="Kernels")
    assert any(ax.get_label() == "<colorbar>" for ax in kernels.axes)
    with pytest.raises(ValueError, match="not square"):
        viz.plot_image_grid(np.ones((2, 10)))
    dim = viz.plot_image_grid(np.full((2, 4, 4), 0.25), vmin=0.0, vmax=1.0)  # one grey scale for all panels
    assert all(ax.images[0].get_clim() == (0.0, 1.0) for ax in dim.axes if ax.images)
    assert viz.plot_image_grid(np.full((1, 4, 4), 0.25)).axes[0].images[0].get_clim() != (0.0, 1.0)


def test_optimizer_paths_on_a_contour_plot(tmp_path):
    t = np.linspace(0, 1, 20)[:, None]
    paths = {"SGD": np.hstack([-4 + 4 * t, np.cos(30 * t) * (1 - t)]), "Adam": np.hstack([-4 + 4 * t, 1 - t])}
    bowl = lambda a, b: 0.5 * (a ** 2 + 100 * b ** 2)  # noqa: E731
    fig = viz.plot_optimizer_paths(bowl, paths, (-4.5, 1.5), (-1.3, 1.3), levels=np.geomspace(0.01, 80, 12),
                                   labels={"SGD": "lr=0.019"})
    _check_figure(fig, tmp_path, "paths")
    assert [ax.get_title() for ax in fig.axes] == ["SGD: 19 steps", "Adam: 19 steps"]
    assert [tx.get_text() for tx in fig.axes[0].get_legend().get_texts()] == ["SGD (lr=0.019)", "start", "optimum"]
    star = next(ln for ln in fig.axes[0].lines if ln.get_label() == "optimum")
    path = next(ln for ln in fig.axes[0].lines if ln.get_label() == "SGD (lr=0.019)")
    assert star.get_zorder() > path.get_zorder()  # a path ending at the optimum does not hide the star
    six = viz.plot_optimizer_paths(bowl, {f"p{i}": paths["SGD"] for i in range(5)}, (-4.5, 1.5), (-1.3, 1.3))
    axes = six.axes  # 2 x 3 panels, the last one empty: labels on the outer panels only
    assert [bool(ax.get_xlabel()) for ax in axes] == [False, False, True, True, True, False]
    assert [bool(ax.get_ylabel()) for ax in axes] == [True, False, False, True, False, False]
    assert not axes[5].axison
    one = viz.plot_optimizer_paths(bowl, paths, (-4.5, 1.5), (-1.3, 1.3), separate=False)
    _check_figure(one, tmp_path, "paths1")
    assert len(one.axes) == 1
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        viz.plot_optimizer_paths(bowl, {"bad": np.ones((3, 3))}, (0, 1), (0, 1))


def test_lr_range_test_curve(tmp_path):
    lrs = np.geomspace(1e-4, 10, 50)
    losses = 2.3 - np.tanh(np.log10(lrs / 1e-4)) + np.where(lrs > 1, 5.0, 0.0)
    res = diag.Result("lr_range_test", True, "", {"lrs": lrs.tolist(), "losses": losses.tolist(),
                                                  "raw_losses": losses.tolist(), "suggested_lr": 1e-3,
                                                  "min_loss_lr": 0.5})
    fig = viz.plot_lr_range_test(res)
    _check_figure(fig, tmp_path, "lr")
    assert fig.axes[0].get_xscale() == "log"
    assert any("suggested lr 0.001" in tx.get_text() for tx in fig.axes[0].get_legend().get_texts())
    viz.plot_lr_range_test((lrs, losses))


def test_plot_history_best_epoch_follows_the_train_rule_for_mse_and_mae():
    for key in ("val_mse", "val_mae", "val_loss", "error_rate"):
        fig = viz.plot_history({"loss": [1.0, 0.8, 0.7, 0.6], key: [1.0, 0.2, 0.5, 0.9]}, best=key, metrics=[])
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert f"best {key}: 0.2 at epoch 2" in labels, key
    fig = viz.plot_history({"loss": [1.0, 0.8, 0.7, 0.6], "val_accuracy": [0.1, 0.2, 0.9, 0.5]}, best="val_accuracy")
    assert "best val_accuracy: 0.9 at epoch 3" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_grid_and_boundary_refuse_mismatched_labels():
    imgs = np.random.default_rng(0).random((5, 4, 4))
    with pytest.raises(ValueError, match="3 labels for 5 images shown"):
        viz.plot_image_grid(imgs, labels=[1, 2, 3])
    with pytest.raises(ValueError, match="2 preds for 5 images shown"):
        viz.plot_image_grid(imgs, labels=[1, 2, 3, 4, 5], preds=[1, 2])
    assert viz.plot_image_grid(imgs, labels=[1, 2], max_images=2)  # enough for the panels shown
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="max_images must be an int >= 1"):
            viz.plot_image_grid(imgs, max_images=bad)
    X = np.random.default_rng(0).normal(0, 1, (10, 2)).astype(np.float32)
    y = np.arange(10) % 3
    model = nn.Linear(2, 3)
    with pytest.raises(ValueError, match="y has 9 labels for 10 points"):
        viz.plot_decision_boundary(model, X, y[:9], resolution=10)
    with pytest.raises(ValueError, match="2 class_names for labels up to 2"):
        viz.plot_decision_boundary(model, X, y, resolution=10, class_names=["a", "b"])
    fig = viz.plot_decision_boundary(model, X, y, resolution=10, class_names=["a", "b", "c"])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["a", "b", "c"]


def test_confusion_matrix_of_fractions_shows_two_decimals_and_no_count(tmp_path):
    cm = np.array([[0.75, 0.25], [0.1, 0.9]])  # already normalised: rows sum to 1
    fig = viz.plot_confusion_matrix(cm)
    _check_figure(fig, tmp_path, "cm_frac", legend=False)
    assert [tx.get_text() for tx in fig.axes[0].texts] == ["0.75", "0.25", "0.10", "0.90"]
    assert "n=" not in fig.axes[0].get_title() and "accuracy" not in fig.axes[0].get_title()
    counts = np.array([[3, 1], [0, 0]])  # normalize: each row over its sum, an empty row stays 0
    fig = viz.plot_confusion_matrix(counts, normalize=True)
    assert [tx.get_text() for tx in fig.axes[0].texts] == ["0.75", "0.25", "0.00", "0.00"]
    assert "n=4" in fig.axes[0].get_title()
    half = np.array([[0.25, 0.25], [0.0, 0.5]])  # rows summing to less than 1 are normalised too
    texts = [tx.get_text() for tx in viz.plot_confusion_matrix(half, normalize=True).axes[0].texts]
    assert texts == ["0.50", "0.50", "0.00", "1.00"]


def test_plot_history_follows_the_train_rule_for_time_and_lr():
    fig = viz.plot_history({"loss": [1.0, 0.8, 0.7], "seconds": [2.0, 1.0, 3.0]}, best="seconds", metrics=[])
    assert "best seconds: 1 at epoch 2" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    with pytest.raises(ValueError, match="'lr' has no best value"):
        viz.plot_history({"loss": [1.0, 0.8], "lr": [0.1, 0.01]}, best="lr")
