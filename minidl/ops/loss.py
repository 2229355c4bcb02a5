"""The fused loss ops (classification). The public loss functions, PyTorch's names and
conventions (``reduction`` = "none" | "mean" | "sum"), are in ``minidl/functional.py``.

Regression losses there are composed of primitive ops (residual r = input - target):

    mse:          r^2
    l1:           |r|                                   (gradient 0 at r = 0)
    huber:        r^2 / 2 if |r| < delta else delta (|r| - delta / 2)
    pseudo-Huber: delta^2 (sqrt(1 + (r / delta)^2) - 1)  (the lecture's smooth form)

Classification (the fused ops below: one forward, one hand-written backward):

    cross_entropy on logits x (N, C) and classes t (N,):
        log p_ic = x_ic - logsumexp_c(x_i)            (shifted by max_c x_ic: never overflows)
        with label smoothing eps and class weights w (ones by default), the target weights
        q_ic = (1 - eps) w_c [c = t_i] + (eps / C) w_c, and
        loss_i = -sum_c q_ic log p_ic,   dloss_i/dx_ic = p_ic sum_c' q_ic' - q_ic
        "mean" divides the sum by sum_i w_{t_i} over non-ignored samples (PyTorch's weighted mean).
    nll_loss on log-probabilities:  loss_i = -w_{t_i} x_{i, t_i}
    binary_cross_entropy on probabilities p:  -w (y log p + (1 - y) log(1 - p)), logs >= -100
    binary_cross_entropy_with_logits on logits x:
        -w (pos_weight y log sigma(x) + (1 - y) log sigma(-x)), log sigma(x) = -softplus(-x)
    kl_div(input = log q, target p):  p (log p - log q)  (0 where p = 0)
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function

# --------------------------------------------------------------------------- classification


def _to_rows(x: Any) -> Any:
    """(N, C, d1, ...) -> (N*d1*..., C): the class axis last, one row per prediction."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    xp = backend.array_module(x)
    return xp.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _from_rows(rows: Any, shape: tuple) -> Any:
    """Inverse of ``_to_rows``."""
    if len(shape) <= 2:
        return rows.reshape(shape)
    xp = backend.array_module(rows)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return xp.moveaxis(rows.reshape(moved), -1, 1)


class _ClassLoss(Function):
    """Shared reduction logic: per-row losses l (M,), reduced like PyTorch."""

    __slots__ = ("reduction", "denom", "in_shape", "out_shape")
    reduction: str
    denom: Any
    in_shape: tuple
    out_shape: tuple

    def _reduce(self, losses: Any, total: Any) -> Any:
        """``losses`` reduced; "mean" divides by ``total``, the summed weight of the targets."""
        if self.reduction == "none":
            return losses.reshape(self.out_shape)
        if self.reduction == "sum":
            return losses.sum()
        if float(total) == 0.0:  # every target ignored: 0 / 0, as PyTorch
            self.denom = None
            return backend.array_module(losses).asarray(float("nan"), dtype=losses.dtype)
        self.denom = total
        return losses.sum() / total

    def _upstream(self, gy: Any) -> Any:
        """dL/dl_i as a column (M, 1)."""
        if self.reduction == "none":
            return gy.reshape(-1, 1)
        if self.reduction == "sum":
            return gy.reshape(1, 1)
        if self.denom is None:  # every target ignored: the NaN loss gets zero gradients, as in PyTorch
            return (gy * 0).reshape(1, 1)
        return (gy / self.denom).reshape(1, 1)


class CrossEntropy(_ClassLoss):
    """loss_i = -sum_c q_ic log p_ic with p_i = softmax(x_i);  dloss_i/dx_ic = p_ic sum_c q_ic - q_ic.

    The plain case (no class weights, no label smoothing, no ignored target) has the one-hot
    q_ic = [c = t_i], and the formulas become the lecture's:

        loss_i = -log p_{i, t_i},    dloss_i/dx_ic = p_ic - [c = t_i]   (softmax minus one-hot)

    which is computed directly, without building q.
    """

    __slots__ = ("plain_targets",)

    def forward(self, x: Any, target: Any, weight: Any, ignore_index: int | None, reduction: str,
                label_smoothing: float) -> Any:
        """``ignore_index=None``: no target is ignored (``cross_entropy`` knows it from its
        target check, which spares a comparison over all targets)."""
        xp = backend.array_module(x)
        self.reduction, self.in_shape = reduction, x.shape
        self.out_shape = target.shape
        rows, t = _to_rows(x), target.reshape(-1)
        m, c = rows.shape
        shifted = rows - rows.max(axis=1, keepdims=True)
        logp = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))  # log-softmax
        self.plain_targets = None
        if weight is None and label_smoothing == 0 and (ignore_index is None or not bool((t == ignore_index).any())):
            self.plain_targets = t
            self.save(logp)
            return self._reduce(-logp[xp.arange(m), t], m)
        if weight is None:
            weight = xp.ones(c, dtype=x.dtype)
        keep = t != ignore_index if ignore_index is not None else xp.ones(t.shape, dtype=bool)
        safe_t = xp.where(keep, t, 0)
        target_w = weight[safe_t] * keep.astype(x.dtype)  # w_{t_i}, 0 if ignored
        q = xp.zeros((m, c), dtype=x.dtype)  # q_ic
        q[xp.arange(m), safe_t] = (1 - label_smoothing) * target_w
        if label_smoothing:
            q += (label_smoothing / c) * weight * keep.astype(x.dtype)[:, None]
        losses = -(q * logp).sum(axis=1)
        self.save(logp, q)
        return self._reduce(losses, target_w.sum())

    def backward(self, gy: Any) -> tuple:
        xp = backend.array_module(gy)
        if self.plain_targets is not None:
            (logp,) = self.saved
            t = self.plain_targets
            drows = xp.exp(logp)  # p
            drows[xp.arange(t.shape[0]), t] -= 1  # p - onehot(t)
            drows *= self._upstream(gy)
        else:
            logp, q = self.saved
            drows = (xp.exp(logp) * q.sum(axis=1, keepdims=True) - q) * self._upstream(gy)
        return (_from_rows(drows, self.in_shape), None)


class NLL(_ClassLoss):
    """loss_i = -w_{t_i} x_{i, t_i};  dloss_i/dx_{i, t_i} = -w_{t_i}, 0 for other classes."""

    __slots__ = ("picked",)

    def forward(self, x: Any, target: Any, weight: Any, ignore_index: int, reduction: str) -> Any:
        xp = backend.array_module(x)
        self.reduction, self.in_shape, self.out_shape = reduction, x.shape, target.shape
        rows, t = _to_rows(x), target.reshape(-1)
        keep = t != ignore_index
        safe_t = xp.where(keep, t, 0)
        target_w = weight[safe_t] * keep.astype(x.dtype)
        self.picked = (safe_t, target_w)
        losses = -target_w * rows[xp.arange(rows.shape[0]), safe_t]
        return self._reduce(losses, target_w.sum())

    def backward(self, gy: Any) -> tuple:
        safe_t, target_w = self.picked
        xp = backend.array_module(target_w)
        m = safe_t.shape[0]
        c = self.in_shape[1] if len(self.in_shape) >= 2 else self.in_shape[0]
        drows = xp.zeros((m, c), dtype=target_w.dtype)
        drows[xp.arange(m), safe_t] = -target_w
        return (_from_rows(drows * self._upstream(gy), self.in_shape), None)


class BinaryCrossEntropy(Function):
    """l = -w (y log p + (1 - y) log(1 - p)), each log clamped to >= -100 (PyTorch).
    dl/dp = w (p - y) / max(p (1 - p), 1e-12);  dl/dy = w (log(1 - p) - log p)."""

    __slots__ = ("weight",)

    def forward(self, p: Any, y: Any, weight: Any) -> Any:
        xp = backend.array_module(p)
        self.weight = weight
        with backend.quiet_float_warnings(divide="ignore"):  # log(0) = -inf, then clamped to -100
            log_p = xp.maximum(xp.log(p), p.dtype.type(-100))
            log_1mp = xp.maximum(xp.log(1 - p), p.dtype.type(-100))
        self.save(p, y, log_p, log_1mp)
        loss = -(y * log_p + (1 - y) * log_1mp)
        return loss if weight is None else loss * weight

    def backward(self, gl: Any) -> tuple:
        p, y, log_p, log_1mp = self.saved
        xp = backend.array_module(p)
        g = gl if self.weight is None else gl * self.weight
        dp = dy = None
        if self.needs_input_grad[0]:
            dp = g * (p - y) / xp.maximum(p * (1 - p), p.dtype.type(1e-12))
        if self.needs_input_grad[1]:
            dy = g * (log_1mp - log_p)
        return dp, dy


class BinaryCrossEntropyWithLogits(Function):
    """l = -w (pw y log sigma(x) + (1 - y) log sigma(-x)), log sigma(x) = -softplus(-x).
    dl/dx = w ((pw y + 1 - y) sigma(x) - pw y);  dl/dy = -w (pw log sigma(x) - log sigma(-x))."""

    __slots__ = ("weight", "pos_weight")

    def forward(self, x: Any, y: Any, weight: Any, pos_weight: Any) -> Any:
        xp = backend.array_module(x)
        self.weight, self.pos_weight = weight, pos_weight
        zero = x.dtype.type(0)
        softplus_negx = xp.maximum(-x, zero) + xp.log1p(xp.exp(-xp.abs(x)))  # log(1 + e^-x), stable
        log_sig = -softplus_negx  # log sigma(x)
        log_sig_neg = -x - softplus_negx  # log sigma(-x) = log sigma(x) - x
        self.save(x, y, log_sig, log_sig_neg)
        pw_y = y if pos_weight is None else pos_weight * y
        loss = -(pw_y * log_sig + (1 - y) * log_sig_neg)
        return loss if weight is None else loss * weight

    def backward(self, gl: Any) -> tuple:
        x, y, log_sig, log_sig_neg = self.saved
        xp = backend.array_module(x)
        g = gl if self.weight is None else gl * self.weight
        pw = self.pos_weight
        dx = dy = None
        if self.needs_input_grad[0]:
            sig = xp.exp(log_sig)
            pw_y = y if pw is None else pw * y
            dx = g * ((pw_y + 1 - y) * sig - pw_y)
        if self.needs_input_grad[1]:
            dy = -g * ((log_sig if pw is None else pw * log_sig) - log_sig_neg)
        return dx, dy


