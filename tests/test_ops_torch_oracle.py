"""Core ops against PyTorch CPU on the same values (skipped when torch is not importable).

Each case builds the same expression in minidl and in torch from identical float64 inputs,
with the same random upstream gradient, and compares the output and every input gradient.
"""

import numpy as np
import pytest

import minidl as md
from tests.oracle import check_against_torch

pytestmark = pytest.mark.oracle

rng = np.random.default_rng(0)
A = rng.standard_normal((4, 5))
B = rng.standard_normal((5, 3))
P = rng.uniform(0.5, 2.0, (4, 5))
V = rng.standard_normal(5)

# (name, inputs, minidl expression, torch expression taking the torch module first)
CASES = [
    ("add_broadcast", [A, V], lambda a, v: a + v, lambda th, a, v: a + v),
    ("sub_mul_div", [A, P], lambda a, p: (a - p) * a / p, lambda th, a, p: (a - p) * a / p),
    ("pow", [P, A], lambda p, a: p ** a, lambda th, p, a: p ** a),
    ("matmul", [A, B], lambda a, b: a @ b, lambda th, a, b: a @ b),
    ("matmul_vec", [A, V], lambda a, v: a @ v, lambda th, a, v: a @ v),
    ("exp_log_sqrt", [P], lambda p: p.exp() + p.log() + p.sqrt(), lambda th, p: p.exp() + p.log() + p.sqrt()),
    ("tanh_sigmoid_relu", [A], lambda a: a.tanh() + a.sigmoid() + a.relu(),
     lambda th, a: a.tanh() + a.sigmoid() + a.relu()),
    ("leaky_relu", [A], lambda a: md.leaky_relu(a, 0.1), lambda th, a: th.nn.functional.leaky_relu(a, 0.1)),
    ("clip", [A], lambda a: a.clip(-0.5, 0.5), lambda th, a: a.clamp(-0.5, 0.5)),
    ("maximum_minimum", [A, P], lambda a, p: md.maximum(a, p) + md.minimum(a, p),
     lambda th, a, p: th.maximum(a, p) + th.minimum(a, p)),
    ("sum_mean_axis", [A], lambda a: a.sum(axis=1) * a.mean(axis=1), lambda th, a: a.sum(dim=1) * a.mean(dim=1)),
    ("var_unbiased", [A], lambda a: a.var(axis=0), lambda th, a: a.var(dim=0)),
    ("var_biased", [A], lambda a: a.var(axis=1, correction=0), lambda th, a: a.var(dim=1, correction=0)),
    ("max_min", [A], lambda a: a.amax(axis=1) - a.amin(axis=0).sum(),
     lambda th, a: a.amax(dim=1) - a.amin(dim=0).sum()),
    ("logsumexp", [A], lambda a: md.logsumexp(a, axis=1), lambda th, a: a.logsumexp(dim=1)),
    ("softmax", [A], lambda a: md.softmax(a, axis=1), lambda th, a: a.softmax(dim=1)),
    ("log_softmax", [A], lambda a: md.log_softmax(a, axis=0), lambda th, a: a.log_softmax(dim=0)),
    ("reshape_transpose", [A], lambda a: a.reshape(2, 10).T * 2, lambda th, a: a.reshape(2, 10).T * 2),
    ("getitem", [A], lambda a: a[1:3, [0, 0, 4]], lambda th, a: a[1:3, [0, 0, 4]]),
    ("concat_stack", [A, P], lambda a, p: md.stack([md.concatenate([a, p], axis=1), md.concatenate([p, a], axis=1)]),
     lambda th, a, p: th.stack([th.cat([a, p], dim=1), th.cat([p, a], dim=1)])),
    ("where", [A, P], lambda a, p: md.where(a > 0, a, p), lambda th, a, p: th.where(a > 0, a, p)),
]


@pytest.mark.parametrize("name, arrays, ours, theirs", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(torch, name, arrays, ours, theirs):
    check_against_torch(torch, name, arrays, ours, theirs)


def test_float32_matches_torch_float32(torch):
    a = rng.standard_normal((8, 16)).astype(np.float32)
    w = rng.standard_normal((16, 4)).astype(np.float32)
    x_md, w_md = md.tensor(a, requires_grad=True), md.tensor(w, requires_grad=True)
    x_th, w_th = torch.tensor(a, requires_grad=True), torch.tensor(w, requires_grad=True)
    loss_md = (x_md @ w_md).tanh().log_softmax(axis=1).mean()
    loss_th = (x_th @ w_th).tanh().log_softmax(dim=1).mean()
    loss_md.backward()
    loss_th.backward()
    assert loss_md.dtype == np.float32 and w_md.grad.dtype == np.float32
    np.testing.assert_allclose(loss_md.item(), loss_th.item(), rtol=1e-6)
    np.testing.assert_allclose(w_md.grad, w_th.grad.numpy(), rtol=1e-5, atol=1e-7)
