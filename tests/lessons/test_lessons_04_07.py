"""Lesson-specific checks for lessons 04-07 (the generic quick-run test is in test_lessons.py).

The lessons' functions come from the namespace of the shared quick run (a lesson file is a notebook:
importing it would run it).
"""

from types import SimpleNamespace as Namespace

import numpy as np
import pytest

import minidl as md
import minidl.data as data
from minidl import viz


def claim_ids(result) -> set[str]:
    return {c.id for c in result.claims if c.passed}


@pytest.fixture(scope="module")
def ran(quick_run):
    """name -> (result, the lesson's namespace: its functions) from the shared quick run."""
    out, outcomes = quick_run
    return out, {name: (o.result, o.namespace) for name, o in outcomes.items()}


def test_04_claims_slip_and_identical_rows(ran) -> None:
    out, runs = ran
    r, _ = runs["04_symmetry_breaking"]
    assert {"INIT-1", "INIT-2", "INIT-11"} <= claim_ids(r)
    assert any(s.deck.startswith("crash-course") for s in r.slips)
    table = (out / "04_symmetry_breaking" / "rows_after_training.md").read_text()
    zero_row = next(line for line in table.splitlines() if line.startswith("| zero "))
    assert zero_row.split("|")[2].strip() == "0"  # max difference between rows of W1 is exactly 0


def test_04_constant_init_keeps_units_identical_but_random_does_not(ran) -> None:
    m = Namespace(**ran[1]["04_symmetry_breaking"][1])
    rng = np.random.default_rng(1)
    X_np, y_np = m.make_data(rng, 64)
    X, y = md.tensor(X_np), md.tensor(y_np)
    model = m.make_mlp("constant", 4, "tanh", value=0.3)
    m.train(model, X, y, 20, lr=1.0)
    assert m.row_spread(model[0].weight.numpy()) == 0.0
    assert np.abs(model[0].weight.numpy() - 0.3).max() > 1e-4  # it did move
    md.manual_seed(0)
    model = m.make_mlp("random", 4, "tanh")
    m.train(model, X, y, 20, lr=1.0)
    assert m.row_spread(model[0].weight.numpy()) > 0.1
    with pytest.raises(ValueError, match="unknown init kind"):
        m.make_mlp("ones", 4)


def test_05_claims_and_product_rule(ran) -> None:
    r, ns = ran[1]["05_vanishing_exploding_gradients"]
    m = Namespace(**ns)
    assert "ACT-9" in claim_ids(r)
    assert any(s.deck == "training-tips" for s in r.slips)
    g, factors, fprime = m.scalar_chain(0.3, [0.9, -0.7, 1.0], "sigmoid")
    assert g == pytest.approx(float(np.prod(factors)), rel=1e-12)
    assert max(fprime) <= 0.25


def test_06_graph_counts_and_dot(ran) -> None:
    out, runs = ran
    r, _ = runs["06_backprop_by_hand"]
    assert "OPT-1" in claim_ids(r)
    assert any(s.deck == "methodology" for s in r.slips)
    table = (out / "06_backprop_by_hand" / "graph_counts.md").read_text().splitlines()[-1]
    # 17 tensors: the Python number 0.5 / N is kept on its Mul node (a wrapped number), not drawn as a tensor
    assert [c.strip() for c in table.strip("|").split("|")] == ["17", "11", "27", "1"]
    dot = (out / "06_backprop_by_hand" / "graph.dot").read_text()
    assert dot.count("->") == 27 and dot.count("shape=ellipse") == 11 and dot.count("shape=box") == 17


def test_06_hand_gradients_match_autograd(ran) -> None:
    m = Namespace(**ran[1]["06_backprop_by_hand"][1])
    rng = np.random.default_rng(3)
    a = {"x": rng.standard_normal((5, 3)), "W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal(4),
         "W2": rng.standard_normal((2, 4)), "b2": rng.standard_normal(2)}
    y = rng.standard_normal((5, 2))
    loss, g = m.forward_backward_by_hand(a["x"], y, a["W1"], a["b1"], a["W2"], a["b2"])
    t = {k: md.tensor(v, dtype=md.float64, requires_grad=True) for k, v in a.items()}
    out = m.network_loss(t["x"], md.tensor(y, dtype=md.float64), t["W1"], t["b1"], t["W2"], t["b2"])
    graph = viz.build_graph(out)
    assert len(graph.op_nodes) == 11
    out.backward()
    assert out.item() == pytest.approx(loss, rel=1e-12)
    for k in a:
        np.testing.assert_allclose(t[k].grad, g[k], rtol=1e-10, atol=1e-14)


def test_07_claims_and_train_only_statistics(ran) -> None:
    r, ns = ran[1]["07_preprocessing"]
    m = Namespace(**ns)
    assert {f"PRE-{i}" for i in range(1, 8)} <= claim_ids(r)
    assert sum(s.deck == "crash-course" for s in r.slips) >= 2
    # the lesson's transforms are minidl.data's, fitted on the training set only
    assert isinstance(m.scaler, data.StandardScaler) and isinstance(m.white, data.PCA) and m.white.whiten
    assert isinstance(m.zca, data.ZCAWhitening)
    for fitted in (m.centring, m.scaler, m.pca, m.white, m.zca):
        assert fitted.n_samples_seen_ == m.n_train
    assert np.all(np.diff(m.pca.explained_variance_) <= 0)  # sorted descending
    # the deck's 1/N eigenvalues are PCA's 1/(N - 1) ones times (N - 1)/N: the projected 1/N covariance
    np.testing.assert_allclose(np.diag(m.cov(m.Xp)), m.pca.explained_variance_ * (m.n_train - 1) / m.n_train,
                               rtol=1e-10)
    np.testing.assert_allclose(m.cov(m.Xw, ddof=1), np.eye(2), atol=1e-10)
    # test data goes through the *train* statistics, so its covariance is not exactly I
    assert np.abs(m.cov(m.white.transform(m.Xte), ddof=1) - np.eye(2)).max() > 1e-3
    np.testing.assert_allclose(m.Xte_s, (m.Xte - m.Xtr.mean(0)) / m.Xtr.std(0), rtol=1e-12)
    out = m.out.numpy()
    assert m.out.dtype == md.float32
    np.testing.assert_allclose([out.min(), out.max()], [-5.0, 5.0], rtol=1e-6)
