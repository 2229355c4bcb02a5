"""Lesson-specific checks for lessons 14 and 15 (the generic quick-run test is in test_lessons.py).

The lessons' functions come from the namespace of the shared quick run (a lesson file is a notebook:
importing it would run it).
"""

from types import SimpleNamespace as Namespace

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
import minidl.optim as optim


@pytest.fixture(scope="module")
def ran(quick_run):
    out, outcomes = quick_run
    return out, {name: (o.result, o.namespace) for name, o in outcomes.items()}


def passed(result) -> set[str]:
    return {c.id for c in result.claims if c.passed}


def test_14_claims_and_debug_files(ran) -> None:
    out, runs = ran
    r, _ = runs["14_babysitting"]
    assert {"LOSS-1", "DIAG-1", "DIAG-3", "DIAG-5", "DIAG-6", "DIAG-7"} <= passed(r)
    dumped = sorted(p.name for p in (out / "14_babysitting" / "debug_batches").glob("*.npz"))
    assert dumped == ["epoch000_batch00000.npz", "epoch000_batch00001.npz", "epoch001_batch00000.npz",
                      "epoch001_batch00001.npz"]
    table = (out / "14_babysitting" / "planted_bugs.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ") and "planted bug" not in line]
    assert len(rows) == 6 and all(line.rstrip(" |").endswith("True") for line in rows)


def test_14_penalised_loss_keeps_both_terms(ran) -> None:
    m = Namespace(**ran[1]["14_babysitting"][1])
    md.manual_seed(1)
    model = m.mlp()
    lossf = m.PenalisedLoss(model, 0.5)
    x, y = md.tensor(np.random.default_rng(0).random((8, 64), dtype=np.float32)), md.tensor(np.arange(8))
    total = lossf(model(x), y).item()
    weights = sum(float((p.numpy().astype(np.float64) ** 2).sum()) for p in model.parameters() if p.ndim > 1)
    assert lossf.penalty_terms == [pytest.approx(0.25 * weights, rel=1e-5)]
    assert total == pytest.approx(lossf.data_terms[0] + lossf.penalty_terms[0], rel=1e-5)
    model.eval()
    lossf(model(x), y)  # evaluation batches are not logged
    assert len(lossf.data_terms) == 1


def test_14_toy_segmentation_masks_mark_the_rectangles(ran) -> None:
    m = Namespace(**ran[1]["14_babysitting"][1])
    images, masks = m.toy_segmentation(10, 16, np.random.default_rng(2))
    assert images.shape == masks.shape == (10, 1, 16, 16)
    assert set(np.unique(masks)) == {0.0, 1.0}
    assert images[masks == 1].mean() > 0.9 and abs(images[masks == 0].mean()) < 0.1


def test_15_claims_and_slips(ran) -> None:
    r, _ = ran[1]["15_optimizers_in_practice"]
    assert {"OPT-2", "OPT-3", "OPT-8", "OPT-10", "OPT-12", "OPT-13"} <= passed(r)
    assert {s.deck for s in r.slips} == {"training-tips", "di504"} and len(r.slips) == 3


def test_15_adam_by_hand_matches_optim_adam_and_the_slide_does_not(ran) -> None:
    m = Namespace(**ran[1]["15_optimizers_in_practice"][1])
    rng = np.random.default_rng(4)
    a, b = rng.random(3) + 0.1, rng.standard_normal(3)

    def loss(p: md.Tensor) -> md.Tensor:
        return 0.5 * (md.tensor(a, dtype=md.float64) * (p - md.tensor(b, dtype=md.float64)) ** 2).sum()

    theta0 = np.zeros(3)
    lib = m.minidl_path(lambda ps: optim.Adam(ps, lr=0.05, betas=(0.8, 0.99)), theta0, loss, 20)
    hand = m.adam_by_hand(theta0, lambda th: a * (th - b), 20, lr=0.05, b1=0.8, b2=0.99)
    assert np.abs(lib - hand).max() < 1e-12
    slide = m.adam_as_on_the_slide(theta0, lambda th: a * (th - b), 2, lr=0.05)
    assert np.all(slide[1] < 0)  # the squared moments step every coordinate down, whatever the gradient's sign


def test_15_minibatch_grad_is_the_least_squares_gradient(ran) -> None:
    m = Namespace(**ran[1]["15_optimizers_in_practice"][1])
    rng = np.random.default_rng(5)
    X, y, w0 = rng.standard_normal((7, 3)), rng.standard_normal(7), rng.standard_normal(3)
    w = md.tensor(w0, dtype=md.float64, requires_grad=True)
    assert np.allclose(m.minibatch_grad(w, X, y), X.T @ (X @ w0 - y) / 7, rtol=1e-12)
    assert isinstance(m.mlp()[0], nn.Linear)
