"""Loss functions, PyTorch's names and conventions (``reduction`` = "none" | "mean" | "sum").

Regression (composed of primitive ops, residual r = input - target):

    mse:          r^2
    l1:           |r|                                   (gradient 0 at r = 0)
    huber:        r^2 / 2 if |r| < delta else delta (|r| - delta / 2)
    pseudo-Huber: delta^2 (sqrt(1 + (r / delta)^2) - 1)  (the lecture's smooth form)

Classification (fused ops: one forward, one hand-written backward):

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
from ..tensor import Tensor
from . import abs as _abs
from . import sqrt as _sqrt
from . import exp as _exp
from . import log as _log
from . import where as _where

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str, op: str, extra: tuple = ()) -> None:
    if reduction not in _REDUCTIONS + extra:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS + extra}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _tensor(x: Any, op: str, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x


def _regression_pair(input: Any, target: Any, op: str) -> tuple[Tensor, Tensor]:
    input, target = _tensor(input, op, "input"), _tensor(target, op, "target")
    if input.shape != target.shape:
        raise ValueError(f"{op}: input shape {input.shape} and target shape {target.shape} differ "
                         "(regression losses need equal shapes; reshape one, e.g. target.reshape(input.shape))")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {input.dtype}")
    if target.dtype != input.dtype:
        target = target.astype(input.dtype)
    return input, target


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """(input - target)^2, reduced."""
    _check_reduction(reduction, "mse_loss")
    input, target = _regression_pair(input, target, "mse_loss")
    r = input - target
    return _reduce(r * r, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """|input - target|, reduced (gradient 0 where input == target, like PyTorch)."""
    _check_reduction(reduction, "l1_loss")
    input, target = _regression_pair(input, target, "l1_loss")
    return _reduce(_abs(input - target), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """r^2 / 2 where |r| < delta, else delta (|r| - delta / 2); r = input - target.
    Quadratic near 0, linear (gradient +-delta) in the tails; both pieces meet with equal
    value and slope at |r| = delta."""
    _check_reduction(reduction, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    input, target = _regression_pair(input, target, "huber_loss")
    r = input - target
    a = _abs(r)
    quadratic = r * r * 0.5
    linear = (a - 0.5 * delta) * delta
    return _reduce(_where(a.data < a.dtype.type(delta), quadratic, linear), reduction)


def pseudo_huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """The lecture's pseudo-Huber loss delta^2 (sqrt(1 + (r / delta)^2) - 1), r = input - target:
    ~ r^2 / 2 for small r, ~ delta |r| for large r, smooth everywhere (no PyTorch
    counterpart)."""
    _check_reduction(reduction, "pseudo_huber_loss")
    if not delta > 0:
        raise ValueError(f"pseudo_huber_loss: delta must be positive, got {delta}")
    input, target = _regression_pair(input, target, "pseudo_huber_loss")
    z = (input - target) / delta
    # sqrt(1 + z^2) - 1 == z^2 / (sqrt(1 + z^2) + 1); the right side avoids cancellation
    # for small z (in float32 the left side loses all digits below |z| ~ 1e-3)
    z2 = z * z
    return _reduce(z2 / (_sqrt(z2 + 1.0) + 1.0) * (delta * delta), reduction)


# --------------------------------------------------------------------------- classification


def _class_targets(input: Tensor, target: Any, op: str, ignore_index: int) -> int:
    """Validate integer class targets and return the number of classes C.

    input (N, C) or (N, C, d1, ...) (or (C,)), target (N,) or (N, d1, ...) (or ()) of
    integers in [0, C) or equal to ignore_index.
    """
    input = _tensor(input, op, "input")
    target = _tensor(target, op, "target")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point (logits/log-probabilities), got dtype {input.dtype}")
    if input.ndim < 1:
        raise ValueError(f"{op}: input must be (N, C) or (N, C, d1, ...), got a scalar")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices (e.g. int64), got dtype {target.dtype}; "
                        "convert with target.long()")
    expected = (input.shape[0],) + input.shape[2:] if input.ndim >= 2 else ()
    if input.ndim == 1:
        expected = ()
    if target.shape != expected:
        raise ValueError(f"{op}: target shape {target.shape} does not match input shape {input.shape}: "
                         f"expected target shape {expected} (input is (N, C, ...), target (N, ...))")
    c = input.shape[1] if input.ndim >= 2 else input.shape[0]
    t = target.data
    bad = (t != ignore_index) & ((t < 0) | (t >= c))
    if bool(bad.any()):
        value = int(t[bad].reshape(-1)[0])
        raise IndexError(f"{op}: target {value} is out of bounds: class indices must be in [0, {c - 1}] "
                         f"for input with C = {c} classes (or equal ignore_index = {ignore_index})")
    return c


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


def _class_weights(weight: Tensor | None, c: int, like: Any, op: str) -> Any:
    xp = backend.array_module(like)
    if weight is None:
        return xp.ones(c, dtype=like.dtype)
    w = weight.data if isinstance(weight, Tensor) else weight
    if tuple(w.shape) != (c,):
        raise ValueError(f"{op}: weight must have shape ({c},) (one weight per class), got {tuple(w.shape)}")
    return xp.asarray(w).astype(like.dtype, copy=False)


class _ClassLoss(Function):
    """Shared reduction logic: per-row losses l (M,), reduced like PyTorch."""

    __slots__ = ("reduction", "denom", "in_shape", "out_shape")

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

    def forward(self, x: Any, target: Any, weight: Any, ignore_index: int, reduction: str,
                label_smoothing: float) -> Any:
        xp = backend.array_module(x)
        self.reduction, self.in_shape = reduction, x.shape
        self.out_shape = target.shape
        rows, t = _to_rows(x), target.reshape(-1)
        m, c = rows.shape
        shifted = rows - rows.max(axis=1, keepdims=True)
        logp = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))  # log-softmax
        self.plain_targets = None
        if weight is None and label_smoothing == 0 and not bool((t == ignore_index).any()):
            self.plain_targets = t
            self.save(logp)
            return self._reduce(-logp[xp.arange(m), t], m)
        if weight is None:
            weight = xp.ones(c, dtype=x.dtype)
        keep = t != ignore_index
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


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy on logits, like ``torch.nn.functional.cross_entropy``: input (N, C) or
    (N, C, d1, ...) (or (C,) for one sample), target integer classes (N,) / (N, d1, ...).
    Fused log-softmax + NLL (see the module docstring); logits of 1e4 are fine."""
    op = "cross_entropy"
    _check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    c = _class_targets(input, target, op, ignore_index)
    w = None if weight is None else _class_weights(weight, c, input.data, op)
    return CrossEntropy.apply(input, target, weight=w, ignore_index=ignore_index, reduction=reduction,
                              label_smoothing=float(label_smoothing))


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood on log-probabilities, like ``torch.nn.functional.nll_loss``."""
    op = "nll_loss"
    _check_reduction(reduction, op)
    c = _class_targets(input, target, op, ignore_index)
    w = _class_weights(weight, c, input.data, op)
    return NLL.apply(input, target, weight=w, ignore_index=ignore_index, reduction=reduction)


def _elementwise_weight(weight: Any, input: Tensor, op: str, name: str = "weight") -> Any:
    if weight is None:
        return None
    w = weight.data if isinstance(weight, Tensor) else weight
    try:
        backend.np.broadcast_shapes(tuple(w.shape), input.shape)
    except ValueError:
        raise ValueError(f"{op}: {name} of shape {tuple(w.shape)} cannot be broadcast to input shape "
                         f"{input.shape}") from None
    return w.astype(input.dtype, copy=False)


class BinaryCrossEntropy(Function):
    """l = -w (y log p + (1 - y) log(1 - p)), each log clamped to >= -100 (PyTorch).
    dl/dp = w (p - y) / max(p (1 - p), 1e-12);  dl/dy = w (log(1 - p) - log p)."""

    __slots__ = ("weight",)

    def forward(self, p: Any, y: Any, weight: Any) -> Any:
        xp = backend.array_module(p)
        self.weight = weight
        with _quiet(xp):  # log(0) = -inf, then clamped to -100
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


class _quiet:
    """``numpy.errstate(divide="ignore")`` for NumPy (log(0) = -inf is then clamped); a no-op
    for CuPy, which never warns."""

    def __init__(self, xp: Any) -> None:
        self.ctx = xp.errstate(divide="ignore") if hasattr(xp, "errstate") else None

    def __enter__(self) -> None:
        if self.ctx is not None:
            self.ctx.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self.ctx is not None:
            self.ctx.__exit__(*exc)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on probabilities in [0, 1], like PyTorch (logs clamped at -100)."""
    op = "binary_cross_entropy"
    _check_reduction(reduction, op)
    input, target = _regression_pair(input, target, op)
    x = input.data
    if bool(((x < 0) | (x > 1)).any()):
        raise ValueError(f"{op}: all elements of input must be probabilities in [0, 1]; got values in "
                         f"[{float(x.min())}, {float(x.max())}] (use binary_cross_entropy_with_logits on logits)")
    w = _elementwise_weight(weight, input, op)
    return _reduce(BinaryCrossEntropy.apply(input, target, weight=w), reduction)


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


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable op, like PyTorch's (``pos_weight``
    broadcasts against the last (class) axis, weighting the positive term)."""
    op = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, op)
    input, target = _regression_pair(input, target, op)
    w = _elementwise_weight(weight, input, op)
    pw = _elementwise_weight(pos_weight, input, op, "pos_weight")
    out = BinaryCrossEntropyWithLogits.apply(input, target, weight=w, pos_weight=pw)
    if out.shape != input.shape:  # a weight with more axes than the input
        raise ValueError(f"{op}: weights made the loss shape {out.shape} differ from input shape {input.shape}")
    return _reduce(out, reduction)


def kl_div(input: Tensor, target: Tensor, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence like ``torch.nn.functional.kl_div``: ``input`` holds log q, ``target``
    p (or log p when ``log_target``); pointwise p (log p - log q), 0 where p = 0.
    ``reduction="batchmean"`` divides the sum by the batch size input.shape[0] (the true KL
    per sample); "mean" divides by the number of elements, as PyTorch does."""
    op = "kl_div"
    _check_reduction(reduction, op, ("batchmean",))
    input, target = _regression_pair(input, target, op)
    if log_target:
        pointwise = _exp(target) * (target - input)
    else:
        positive = target.data > 0
        safe = _where(positive, target, 1.0)  # log(1) = 0 where p = 0: no log(0)
        pointwise = _where(positive, target * (_log(safe) - input), 0.0)
    if reduction == "batchmean":
        n = input.shape[0] if input.ndim else 1
        return pointwise.sum() / float(n)
    return _reduce(pointwise, reduction)


__all__ = [
    "mse_loss", "l1_loss", "huber_loss", "pseudo_huber_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
]
