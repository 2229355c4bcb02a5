"""Whole models in a few lines: a LeNet-style CNN (conv-pool-conv-pool-fc, as in the lecture
notes) and a 3-layer MLP each overfit a small fixed batch with plain gradient steps, and
md.save(state_dict) -> md.load -> load_state_dict reproduces their outputs bit for bit."""

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn


def lenet() -> nn.Module:
    """The lecture's LeNet-style net (CLAIMS CNN-1): conv 3->6 5x5, 2x2 max-pool, conv 6->16
    5x5, pool, fc 400->120->84->10, on 32x32 inputs (32 -> 28 -> 14 -> 10 -> 5)."""
    return nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def mlp() -> nn.Module:
    """3 linear layers, with batch norm so that buffers take part in the round trip."""
    return nn.Sequential(
        nn.Linear(20, 64), nn.BatchNorm1d(64), nn.ReLU(),
        nn.Linear(64, 64), nn.ReLU(),
        nn.Linear(64, 5),
    )


def fixed_batch(shape, classes):
    rng = np.random.default_rng(0)
    x = md.tensor(rng.standard_normal(shape).astype(np.float32))
    y = md.tensor(rng.integers(0, classes, shape[0]))
    return x, y


def overfit(model, x, y, lr, steps):
    """Plain gradient descent: p <- p - lr * dL/dp. Returns the losses."""
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        for p in model.parameters():
            p.grad = None
        loss.backward()
        with md.no_grad():
            for p in model.parameters():
                p.data -= lr * p.grad
        losses.append(loss.item())
    return losses


def test_lenet_shapes_and_parameter_count():
    """CLAIMS CNN-1: 62,006 parameters; each stage's size is (W - F + 2P) / S + 1."""
    model = lenet()
    assert sum(p.numel() for p in model.parameters()) == 62006
    x = md.zeros(2, 3, 32, 32)
    sizes = []
    with md.no_grad():
        for layer in model:
            x = layer(x)
            sizes.append(x.shape)
    assert [s[-1] for s in sizes[:6]] == [28, 28, 14, 10, 10, 5]
    assert sizes[6] == (2, 400) and sizes[-1] == (2, 10)


@pytest.mark.parametrize("build,shape,classes,lr,steps", [
    (lenet, (16, 3, 32, 32), 10, 0.1, 100),
    (mlp, (32, 20), 5, 0.2, 80),
])
def test_model_overfits_a_small_batch(build, shape, classes, lr, steps):
    md.manual_seed(0)
    model = build()
    x, y = fixed_batch(shape, classes)
    losses = overfit(model, x, y, lr, steps)
    assert losses[0] == pytest.approx(np.log(classes), rel=0.3)  # chance level at the start
    assert losses[-1] < 0.05 * losses[0], f"loss went {losses[0]:.3f} -> {losses[-1]:.3f}"
    model.eval()
    with md.no_grad():
        accuracy = (model(x).numpy().argmax(axis=1) == y.numpy()).mean()
    assert accuracy == 1.0


@pytest.mark.parametrize("build,shape,classes", [(lenet, (8, 3, 32, 32), 10), (mlp, (16, 20), 5)])
def test_save_load_round_trip_is_bit_identical(tmp_path, build, shape, classes):
    md.manual_seed(0)
    model = build()
    x, y = fixed_batch(shape, classes)
    overfit(model, x, y, 0.05, 3)  # trained weights and non-trivial running statistics
    model.eval()
    path = tmp_path / "model.npz"
    md.save(model.state_dict(), path)
    md.manual_seed(1)
    restored = build()
    restored.load_state_dict(md.load(path))
    restored.eval()
    with md.no_grad():
        np.testing.assert_array_equal(restored(x).numpy(), model(x).numpy())
    for (name, a), (_, b) in zip(model.state_dict().items(), restored.state_dict().items()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=name)


def test_lenet_matches_torch_forward_and_gradients(torch):
    """Same weights in both: same logits, loss and parameter gradients (float32 precision)."""
    md.manual_seed(0)
    model = lenet()
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(3, 6, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(), torch.nn.Linear(84, 10),
    )
    with torch.no_grad():
        for p, q in zip(model.parameters(), theirs.parameters()):
            q.copy_(torch.tensor(p.numpy()))
    x, y = fixed_batch((4, 3, 32, 32), 10)
    loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward()
    loss_t = torch.nn.CrossEntropyLoss()(theirs(torch.tensor(x.numpy())), torch.tensor(y.numpy()))
    loss_t.backward()
    assert loss.item() == pytest.approx(loss_t.item(), rel=1e-5)
    for p, q in zip(model.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-4, atol=1e-5)
