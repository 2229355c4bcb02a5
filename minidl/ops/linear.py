"""The fully connected layer's op: y = x W^T + b as one fused Function."""

from __future__ import annotations

from typing import Any

from ..autograd import Function


class LinearFunction(Function):
    """The fused affine map y = x W^T + b (one graph node instead of transpose, matmul, add).

    x (..., in), W (out, in), b (out,) -> y (..., out). With g = dL/dy flattened to (M, out)
    and x to (M, in) (M = the product of the batch dims):

        dL/dx = g W        (M, out) @ (out, in)
        dL/dW = g^T x      (out, M) @ (M, in): each weight's gradient summed over the batch
        dL/db = sum_m g    (out,)
    """

    def forward(self, x: Any, w: Any, b: Any = None) -> Any:
        self.save(x, w)
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        y = x2 @ w.T
        if b is not None:
            y += b
        return y.reshape(x.shape[:-1] + (w.shape[0],)) if x.ndim != 2 else y

    def backward(self, gy: Any) -> tuple:
        x, w = self.saved
        g2 = gy.reshape(-1, gy.shape[-1]) if gy.ndim != 2 else gy
        needs = self.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            gx = g2 @ w
            if x.ndim != 2:
                gx = gx.reshape(x.shape)
        if needs[1]:
            x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            gw = g2.T @ x2
        if len(needs) > 2 and needs[2]:
            gb = g2.sum(axis=0)
        return (gx, gw, gb)
