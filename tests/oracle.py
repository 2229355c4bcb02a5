"""The torch-oracle check shared by the op test files: the same inputs through minidl and
PyTorch give the same output and, for a random upstream gradient, the same gradient of every
input (float64)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

import minidl as md


def check_against_torch(torch: Any, name: str, arrays: Sequence[np.ndarray], ours: Callable[..., Any],
                        theirs: Callable[..., Any]) -> None:
    x_md = [md.tensor(a, requires_grad=True) for a in arrays]
    x_th = [torch.tensor(a, requires_grad=True) for a in arrays]
    y_md, y_th = ours(*x_md), theirs(torch, *x_th)
    np.testing.assert_allclose(y_md.numpy(), y_th.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(y_md.shape)
    y_md.backward(g)
    y_th.backward(torch.tensor(g))
    for i, (a, b) in enumerate(zip(x_md, x_th)):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=f"{name}: input {i}")
