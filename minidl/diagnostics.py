"""The decks' debugging recipe as functions: each returns a :class:`Result` with ``.ok``, the
measured numbers (``result.values``, also readable as attributes) and ``.advice``, a sentence
a student can act on. In the order the recipe uses them:

1. ``check_pipeline(loader)``: blank or constant samples, single-class batches, bad labels.
2. ``initial_loss_check(model, loss_fn, x, y)``: the untrained loss should be about ln C
   (softmax cross-entropy over C classes: every class gets probability 1/C) or ln 2 (BCE).
3. ``overfit_one_batch(model, loss_fn, optimizer, x, y)``: a working model and pipeline reach
   100% accuracy on one small batch; failing that points to a bug, not to the data.
4. ``lr_range_test(...)``: loss against a geometric learning-rate sweep, to pick the lr.
5. while training: ``activation_stats``, ``gradient_stats``, ``update_ratio`` /
   ``UpdateRatioLogger`` (‖Δw‖/‖w‖ per step near 1e-3 is healthy).
6. after training: ``learning_curve_diagnosis(history)`` names the regime of the curves.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import backend
from ._checks import is_count
from .autograd import no_grad
from .metrics import accuracy
from .nn import Module
from .optim import Optimizer
from .tensor import Tensor, tensor
from .train import Callback, History

__all__ = [
    "REGIMES",
    "Result",
    "UpdateRatioLogger",
    "activation_stats",
    "check_pipeline",
    "gradient_stats",
    "initial_loss_check",
    "learning_curve_diagnosis",
    "lr_range_test",
    "overfit_one_batch",
    "update_ratio",
]

np = backend.np


@dataclass
class Result:
    """Outcome of one diagnostic: ``ok``, ``advice`` and the numbers in ``values``."""

    name: str
    ok: bool
    advice: str
    values: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, key: str) -> Any:
        values = self.__dict__.get("values", {})
        if key in values:
            return values[key]
        raise AttributeError(f"{type(self).__name__} {self.__dict__.get('name')!r} has no value {key!r}; "
                             f"it has {sorted(values)}")

    def __str__(self) -> str:
        nums = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in self.values.items() if isinstance(v, (int, float, str)))
        return f"{self.name}: {'OK' if self.ok else 'PROBLEM'} ({nums})\n  {self.advice}"


def _host(a: Any) -> Any:
    if isinstance(a, Tensor):
        a = a.data
    return backend.to_numpy(a) if backend.is_backend_array(a) else np.asarray(a)


def _as_tensor(a: Any) -> Tensor:
    return a if isinstance(a, Tensor) else tensor(a)


def _norm(a: Any) -> float:
    xp = backend.array_module(a)
    return float(xp.sqrt((a.astype(backend.float64) ** 2).sum()))


# --------------------------------------------------------------------------- initial loss


def initial_loss_check(model: Module, loss_fn: Any, x: Any, y: Any, num_classes: int | None = None,
                       rtol: float = 0.15) -> Result:
    """Compare the untrained model's loss on ``(x, y)`` with its chance value.

    Expected: ln C for cross-entropy (``C`` from the output's dim 1 unless ``num_classes``),
    ln 2 for ``BCELoss`` / ``BCEWithLogitsLoss``. ``ok`` when ``|loss - expected| <= rtol *
    expected``. Evaluated in eval mode under no_grad; the model is not changed. ``num_classes``
    must be an int >= 2; a model with one output needs a BCE loss or ``num_classes``.
    """
    if num_classes is not None and not is_count(num_classes, 2):
        raise ValueError(f"initial_loss_check: num_classes must be an int >= 2 (the chance loss is ln C), "
                         f"got {num_classes!r}")
    x, y = _as_tensor(x), _as_tensor(y)
    was = model.training
    model.eval()
    try:
        with no_grad():
            out = model(x)
            loss = float(loss_fn(out, y).item())
    finally:
        model.train(was)
    kind = type(loss_fn).__name__
    if "BCE" in kind:
        expected, why = math.log(2.0), "ln 2 (a sigmoid output of 0.5)"
    else:
        c = num_classes if num_classes is not None else (out.shape[1] if len(out.shape) > 1 else 2)
        if c < 2:
            raise ValueError(f"initial_loss_check: the model has {c} output for {kind}, which needs scores for "
                             "C >= 2 classes; use BCEWithLogitsLoss for one output, or pass num_classes")
        expected, why = math.log(c), f"ln {c} (probability 1/{c} for every class)"
    rel = abs(loss - expected) / expected
    ok = rel <= rtol
    if ok:
        advice = f"initial loss {loss:.4f} is close to {why} = {expected:.4f}: the output layer and loss agree."
    elif loss > expected:
        advice = (f"initial loss {loss:.4f} is well above {why} = {expected:.4f}: the initial logits are too large "
                  "(initial weights too big, or a missing scaling), or the loss gets probabilities where it "
                  "expects logits; shrink the last layer's init and check the loss input.")
    else:
        advice = (f"initial loss {loss:.4f} is well below {why} = {expected:.4f}: the model already 'knows' the "
                  "labels (label leak into the input?) or the number of classes is wrong.")
    return Result("initial_loss_check", ok, advice, {"loss": loss, "expected": expected, "relative_error": rel})


# --------------------------------------------------------------------------- overfit one batch


def overfit_one_batch(model: Module, loss_fn: Any, optimizer: Optimizer, x: Any, y: Any, steps: int = 200,
                      target: float = 1.0, restore: bool = True) -> Result:
    """Train on the single batch ``(x, y)`` for up to ``steps`` steps (stopping once the training
    accuracy reaches ``target``); ``ok`` when it does. With ``restore`` the model and optimizer
    states are put back afterwards. Values: ``losses``, ``accuracy``, ``steps_to_target``.
    ``steps`` must be an int >= 1."""
    if not is_count(steps, 1):
        raise ValueError(f"overfit_one_batch: steps must be an int >= 1, got {steps!r}")
    x, y = _as_tensor(x), _as_tensor(y)
    saved_model, saved_opt = model.state_dict(), optimizer.state_dict()
    was = model.training
    losses: list[float] = []
    acc, hit = 0.0, None
    model.train()
    try:
        for t in range(steps):
            optimizer.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            losses.append(float(loss.item()))
            acc = accuracy(y, out.detach())
            if acc >= target:
                hit = t
                break
            loss.backward()
            optimizer.step()
    finally:
        if restore:
            model.load_state_dict(saved_model)
            optimizer.load_state_dict(saved_opt)
        model.train(was)
    ok = hit is not None
    if ok:
        advice = f"reached {acc:.0%} training accuracy on one batch after {hit} steps: the model can learn."
    else:
        advice = (f"only {acc:.1%} training accuracy on one batch after {steps} steps (loss {losses[0]:.3g} -> "
                  f"{losses[-1]:.3g}). A model that cannot memorise {x.shape[0]} samples points to a bug: check "
                  "the labels match the inputs, the loss gets logits, gradients reach every layer (gradient_stats), "
                  "regularisation is off, and the learning rate is sensible.")
    return Result("overfit_one_batch", ok, advice,
                  {"accuracy": acc, "steps_to_target": hit, "final_loss": losses[-1], "losses": losses})


# --------------------------------------------------------------------------- learning curves


REGIMES = ("underfit", "underfit_still_improving", "overfit", "unrepresentative_train",
           "unrepresentative_validation", "validation_below_train", "good_fit")

_ADVICE = {
    "underfit": "the training loss stays high (flat or noisy): the model has too little capacity or the learning "
                "rate is far off. Use a bigger model or better features, check the lr (lr_range_test), and check "
                "that a tiny subset can be fitted at all.",
    "underfit_still_improving": "the training loss is still falling when the run stops: train for more epochs "
                                "(or with a higher learning rate).",
    "overfit": "the training loss keeps falling while the validation loss turned up at epoch {turn}: stop there "
               "(EarlyStopping), add regularisation (weight decay, dropout, augmentation), use a smaller model or "
               "get more data.",
    "unrepresentative_train": "a large gap between training and validation loss persists while both improve: the "
                              "training set is too small or not representative of the validation data. Get more "
                              "(or more varied) training data, or augment.",
    "unrepresentative_validation": "the validation loss jumps around the training loss: the validation set is too "
                                   "small to be representative. Use a larger validation split or cross-validation.",
    "validation_below_train": "the validation loss is below the training loss: the validation set is easier, or "
                              "dropout/augmentation inflate the training loss (compare the training loss in eval "
                              "mode), or the two sets come from different distributions.",
    "good_fit": "both losses settled on a plateau with a small gap: a good fit. To improve, try a larger model "
                "with regularisation.",
}


def _smooth(v: Any, w: int) -> Any:
    """Centred moving average with a window of ``w`` (shrinking at the ends)."""
    n = len(v)
    c = np.concatenate([[0.0], np.cumsum(v)])
    lo = np.clip(np.arange(n) - w // 2, 0, n)
    hi = np.clip(np.arange(n) + w // 2 + 1, 0, n)
    return (c[hi] - c[lo]) / (hi - lo)


def learning_curve_diagnosis(history: History | Mapping[str, Sequence[float]], loss_key: str = "loss",
                             flat_drop: float = 0.2, still_falling: float = 0.05, rise: float = 0.02,
                             gap: float = 0.1, below: float = 0.05, noise: float = 0.04) -> Result:
    """Name the regime of a run's learning curves (the decks' seven cases, ``REGIMES``).

    Evidence, measured in units of the *scale* ``s`` = the first epoch's training loss (about
    ln C for a classifier), over the *tail* = the last ``k = max(3, n // 4)`` epochs:

    - ``train_drop`` = (L[0] - mean tail L) / s: how much of the initial loss training removed;
    - ``train_tail_fall`` = (L[-k] - L[-1]) / s, from a straight-line fit to the tail: how much
      the training loss still fell over the tail;
    - ``val_rise`` = (mean tail V - min smoothed V) / s, ``val_rise_relative`` = the same rise
      / min smoothed V, and ``turning_epoch`` = the argmin of the validation loss smoothed over
      3 epochs; the validation loss is *rising* when val_rise > ``rise`` (0.02) and
      val_rise_relative > 0.1 (it climbed 10% above its minimum);
    - ``gap`` = mean over the tail of (V - L) / s (negative: validation below training), and
      ``early_gap`` the same over the middle third of the run;
    - ``val_noise`` and ``train_noise`` = std of each curve's deviation from its own 5-epoch
      moving average, over the second half, / s; ``crossings`` = fraction of epochs in the
      second half where V - L changes sign.

    Rules, first match wins (thresholds are the keyword arguments):

    1. ``underfit``: train_drop < ``flat_drop`` (0.2) and train_tail_fall <= ``still_falling``:
       the training loss stayed high, flat or noisy (a slow but steady fall goes to rule 6);
    2. ``unrepresentative_validation``: val_noise > ``noise`` (0.04) and > 3 train_noise, and
       the curves cross on at least 20% of the epochs (validation scattered around training);
    3. ``overfit``: the validation loss is rising, turning_epoch lies before the tail, and the
       training loss still fell after it;
    4. ``validation_below_train``: gap < -``below`` (-0.05);
    5. ``unrepresentative_train``: gap > ``gap`` (0.1) and it persists (gap >= 0.5 early_gap)
       while the validation loss is not rising;
    6. ``underfit_still_improving``: train_tail_fall > ``still_falling`` (0.05);
    7. ``good_fit`` otherwise: a plateau with a small gap.

    Without validation values only rules 1, 6 and 7 apply. ``ok`` is True only for good_fit.

    Trailing epochs that have a finite training loss but no validation value (nan: the last
    record of a run stopped by Ctrl-C, see ``fit``) are left out; ``values["ignored_epochs"]``
    counts them and the advice says so. The regime is ``"diverged"`` only when a kept loss
    value is nan or inf.
    """
    h = history.history if isinstance(history, History) else history
    if loss_key not in h:
        raise KeyError(f"learning_curve_diagnosis: no {loss_key!r} in the history (keys: {sorted(h)})")
    L = np.asarray(h[loss_key], dtype=np.float64)
    vk = "val_" + loss_key
    V = np.asarray(h[vk], dtype=np.float64) if vk in h and not np.all(np.isnan(np.asarray(h[vk], float))) else None
    ignored = 0
    if V is not None:
        while ignored < min(len(L), len(V)) and np.isnan(V[-1 - ignored]) and np.isfinite(L[-1 - ignored]):
            ignored += 1
        L, V = L[:len(L) - ignored], V[:len(V) - ignored]
    note = (f" ({ignored} last epoch{'s' if ignored > 1 else ''} without a validation value, e.g. an interrupted "
            "run, left out.)" if ignored else "")
    n = len(L)
    if n < 4:
        raise ValueError(f"learning_curve_diagnosis: needs at least 4 epochs, got {n}"
                         + (f" (after leaving out {ignored} without a validation value)" if ignored else ""))
    if not np.all(np.isfinite(L)) or (V is not None and not np.all(np.isfinite(V))):
        return Result("learning_curve_diagnosis", False,
                      "the loss became nan or inf: overflow, log(0) or division by zero, often a learning rate "
                      "that is too high; lower it and check the loss input." + note,
                      {"regime": "diverged", "ignored_epochs": ignored})
    s = max(abs(L[0]), 1e-12)
    k = max(3, n // 4)
    tail = slice(n - k, n)
    half = slice(n // 2, n)
    ev: dict[str, Any] = {"epochs": n, "scale": float(s), "ignored_epochs": ignored}
    tail_mean = float(L[tail].mean())
    ev["train_drop"] = float((L[0] - tail_mean) / s)
    slope = float(np.polyfit(np.arange(k, dtype=np.float64), L[tail], 1)[0])
    ev["train_tail_fall"] = float(-slope * (k - 1) / s)
    ev["train_noise"] = float(np.std((L - _smooth(L, 5))[half]) / s)
    regime = None
    if ev["train_drop"] < flat_drop and ev["train_tail_fall"] <= still_falling:
        regime = "underfit"
    if V is not None:
        Vs = _smooth(V, 3)
        turn = int(np.argmin(Vs))
        ev["turning_epoch"] = turn
        ev["val_rise"] = float((V[tail].mean() - Vs[turn]) / s)
        ev["val_rise_relative"] = float((V[tail].mean() - Vs[turn]) / max(abs(Vs[turn]), 1e-12))
        d = V - L
        ev["gap"] = float(d[tail].mean() / s)
        third = slice(n // 3, max(n // 3 + 1, 2 * n // 3))
        ev["early_gap"] = float(d[third].mean() / s)
        ev["val_noise"] = float(np.std((V - _smooth(V, 5))[half]) / s)
        sg = np.sign(d[half])
        ev["crossings"] = float(np.mean(sg[1:] != sg[:-1])) if len(sg) > 1 else 0.0
        train_after = float(L[turn] - L[-1]) / s if turn < n - 1 else 0.0
        rising = ev["val_rise"] > rise and ev["val_rise_relative"] > 0.1
        if regime is None and ev["val_noise"] > noise and ev["val_noise"] > 3 * ev["train_noise"] \
                and ev["crossings"] >= 0.2:
            regime = "unrepresentative_validation"
        if regime is None and rising and turn < n - k and train_after > 0:
            regime = "overfit"
        if regime is None and ev["gap"] < -below:
            regime = "validation_below_train"
        if regime is None and ev["gap"] > gap and ev["gap"] >= 0.5 * ev["early_gap"] and not rising:
            regime = "unrepresentative_train"
    if regime is None and ev["train_tail_fall"] > still_falling:
        regime = "underfit_still_improving"
    if regime is None:
        regime = "good_fit"
    ev["regime"] = regime
    advice = _ADVICE[regime].format(turn=ev.get("turning_epoch"))
    return Result("learning_curve_diagnosis", regime == "good_fit", f"{regime}: {advice}{note}", ev)


# --------------------------------------------------------------------------- activations and gradients


def _leaf_modules(model: Module) -> list[tuple[str, Module]]:
    return [(name or type(m).__name__, m) for name, m in model.named_modules() if not list(m.children())]


def activation_stats(model: Module, x: Any, saturation: float = 0.99) -> Result:
    """Per-layer statistics of the outputs of every leaf module on ``x`` (forward hooks, eval
    mode, no_grad): ``mean``, ``std``, ``saturated`` (fraction with |a| > ``saturation`` for
    Tanh, or a < 1 - s or a > s for Sigmoid; nan for other layers) and ``dead`` (for ReLU: the
    fraction of units, i.e. features or channels, that are 0 for every sample of the batch).
    ``values["layers"]`` is a list of dicts (``name``, ``kind``, the numbers);
    ``values["activations"]`` maps layer names to the host arrays (for histograms).
    ``ok`` unless a layer is over half saturated or dead, or has std below 1e-3 (a collapse)."""
    x = _as_tensor(x)
    records: list[tuple[str, Module, Any]] = []
    handles = []
    def recorder(name: str) -> Any:
        def hook(mod: Module, inp: tuple, out: Any) -> None:
            records.append((name, mod, _host(out)))
        return hook

    for name, m in _leaf_modules(model):
        handles.append(m.register_forward_hook(recorder(name)))
    was = model.training
    model.eval()
    try:
        with no_grad():
            model(x)
    finally:
        for hd in handles:
            hd.remove()
        model.train(was)
    layers, acts, problems = [], {}, []
    for name, mod, a in records:
        kind = type(mod).__name__
        a64 = a.astype(np.float64)
        sat = math.nan
        if kind == "Tanh":
            sat = float(np.mean(np.abs(a64) > saturation))
        elif kind == "Sigmoid":
            sat = float(np.mean((a64 > saturation) | (a64 < 1 - saturation)))
        dead = math.nan
        if kind in ("ReLU",) and a.ndim >= 2:
            per_unit = (a64 == 0).all(axis=0)
            dead = float(np.mean(per_unit))
        std = float(a64.std())
        rec: dict[str, Any] = {"name": name, "kind": kind, "mean": float(a64.mean()), "std": std,
                               "saturated": sat, "dead": dead}
        layers.append(rec)
        acts[f"{name} ({kind})"] = a
        if sat > 0.5:
            problems.append(f"{name} ({kind}) is {sat:.0%} saturated")
        if dead > 0.5:
            problems.append(f"{name} has {dead:.0%} dead ReLUs")
        if std < 1e-3:
            problems.append(f"{name} output std {std:.1e} has collapsed")
    ok = not problems
    advice = ("activations look healthy in every layer." if ok else
              "; ".join(problems) + ". Check the initialisation (Xavier for tanh, He for ReLU), the input "
              "scaling, and the learning rate.")
    return Result("activation_stats", ok, advice, {"layers": layers, "activations": acts})


def gradient_stats(model: Module, vanishing: float = 1e-7, exploding: float = 1e3) -> Result:
    """Per-parameter gradient norms after a ``backward()``: ``values["layers"]`` holds
    ``name``, ``grad_norm``, ``param_norm`` and their ``ratio``; ``values["gradients"]`` the host
    arrays (for histograms). ``ok`` unless a gradient is missing, not finite, below
    ``vanishing`` or above ``exploding``."""
    layers: list[dict[str, Any]] = []
    grads: dict[str, Any] = {}
    problems: list[str] = []
    for name, p in model.named_parameters():
        if p.grad is None:
            problems.append(f"{name} has no gradient (not used in the loss, or backward not called)")
            layers.append({"name": name, "grad_norm": math.nan, "param_norm": _norm(p.data), "ratio": math.nan})
            continue
        g = p.grad
        gn, pn = _norm(g), _norm(p.data)
        layers.append({"name": name, "grad_norm": gn, "param_norm": pn, "ratio": gn / pn if pn > 0 else math.inf})
        grads[name] = _host(g)
        if not math.isfinite(gn):
            problems.append(f"{name} gradient is not finite")
        elif gn < vanishing:
            problems.append(f"{name} gradient norm {gn:.1e} is vanishing")
        elif gn > exploding:
            problems.append(f"{name} gradient norm {gn:.1e} is exploding")
    ok = not problems
    advice = ("gradients reach every parameter with sensible norms." if ok else
              "; ".join(problems) + ". Vanishing: saturating activations or too small an init; exploding: too "
              "large an init or lr (try gradient clipping).")
    return Result("gradient_stats", ok, advice, {"layers": layers, "gradients": grads})


def update_ratio(model: Module, before: Mapping[str, Any], low: float = 1e-4, high: float = 1e-2) -> Result:
    """‖w_after - w_before‖ / ‖w_before‖ per parameter, with ``before = model.state_dict()``
    taken before ``optimizer.step()``. About 1e-3 per step is healthy; ``ok`` when every ratio
    lies in [``low``, ``high``]. ``values["ratios"]`` maps parameter names to ratios.

    ``before`` must hold every parameter of ``model`` under its name, with the parameter's exact
    shape (a value that merely broadcasts is refused), and no key that is not in
    ``model.state_dict()`` (buffers such as running means are allowed): otherwise ``ValueError``."""
    params = list(model.named_parameters())
    known = set(model.state_dict())
    missing = [name for name, _ in params if name not in before]
    extra = sorted(k for k in before if k not in known)
    if missing or extra:
        raise ValueError(f"update_ratio: `before` must be model.state_dict() taken before the step; "
                         f"missing parameters {missing}, unknown keys {extra}")
    olds: dict[str, Any] = {}
    for name, p in params:
        w0 = before[name]
        w0 = backend.array_module(p.data).asarray(w0.data if isinstance(w0, Tensor) else w0)
        if tuple(w0.shape) != tuple(p.data.shape):
            raise ValueError(f"update_ratio: before[{name!r}] has shape {tuple(w0.shape)}, the parameter has "
                             f"shape {tuple(p.data.shape)} (take `before` with model.state_dict())")
        olds[name] = w0
    ratios: dict[str, float] = {}
    for name, p in params:
        w0 = olds[name]
        n0 = _norm(w0)
        ratios[name] = _norm(p.data - w0) / n0 if n0 > 0 else math.inf
    bad = {k: v for k, v in ratios.items() if not low <= v <= high}
    ok = not bad
    advice = ("updates are about 1e-3 of the weights: a healthy learning rate." if ok else
              "; ".join(f"{k}: {v:.1e}" for k, v in bad.items())
              + f" outside [{low:g}, {high:g}]: above, lower the learning rate; below, raise it (or the layer "
              "gets no gradient).")
    return Result("update_ratio", ok, advice, {"ratios": ratios})


class UpdateRatioLogger(Callback):
    """During ``fit``, log ‖Δw‖/‖w‖ of every step per parameter; ``self.history[name]`` holds
    one value per epoch (the mean over that epoch's steps), ``self.steps[name]`` every step."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.steps: dict[str, list[float]] = {}
        self._before: dict | None = None
        self._epoch: dict[str, list[float]] = {}

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._before = self.run.model.state_dict()
        self._epoch = {}

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        assert self._before is not None
        r = update_ratio(self.run.model, self._before).values["ratios"]
        for k, v in r.items():
            self._epoch.setdefault(k, []).append(v)
            self.steps.setdefault(k, []).append(v)
        self._before = self.run.model.state_dict()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for k, vs in self._epoch.items():
            self.history.setdefault(k, []).append(float(np.mean(vs)))


# --------------------------------------------------------------------------- learning-rate range test


def lr_range_test(model: Module, loss_fn: Any, optimizer: Optimizer, loader: Iterable, lr_min: float = 1e-7,
                  lr_max: float = 10.0, steps: int = 100, smooth: float = 0.9, diverge: float = 4.0) -> Result:
    """Train for ``steps`` batches while the lr grows geometrically from ``lr_min`` to ``lr_max``;
    record the loss (an exponential moving average with factor ``smooth``, bias-corrected)
    and stop early once it exceeds ``diverge`` times its minimum. The model and optimizer are
    restored afterwards. ``values``: ``lrs``, ``losses`` (smoothed), ``raw_losses``,
    ``suggested_lr`` (where the smoothed loss falls fastest per log-lr, before its minimum, the
    first tenth of the sweep left out) and ``min_loss_lr``.
    ``ok`` when the loss fell somewhere in the sweep. ``smooth`` must satisfy 0 <= smooth < 1;
    an empty loader is a ValueError."""
    if not 0 < lr_min < lr_max:
        raise ValueError(f"lr_range_test: need 0 < lr_min < lr_max, got {lr_min}, {lr_max}")
    if steps < 2:
        raise ValueError(f"lr_range_test: steps must be >= 2, got {steps}")
    if not 0 <= smooth < 1:
        raise ValueError(f"lr_range_test: smooth must satisfy 0 <= smooth < 1, got {smooth!r}")
    saved_model, saved_opt = model.state_dict(), optimizer.state_dict()
    saved_lrs = [g["lr"] for g in optimizer.param_groups]
    was = model.training
    lrs, raw, sm = [], [], []
    avg, best = 0.0, math.inf
    model.train()
    try:
        it = iter(loader)
        for t in range(steps):
            lr = lr_min * (lr_max / lr_min) ** (t / (steps - 1))
            for g in optimizer.param_groups:
                g["lr"] = lr
            try:
                x, y = next(it)
            except StopIteration:
                it = iter(loader)
                try:
                    x, y = next(it)
                except StopIteration:
                    raise ValueError("lr_range_test: the loader yielded no batches") from None
            optimizer.zero_grad()
            loss = loss_fn(model(_as_tensor(x)), _as_tensor(y))
            lv = float(loss.item())
            if not math.isfinite(lv):
                break
            loss.backward()
            optimizer.step()
            avg = smooth * avg + (1 - smooth) * lv
            s = avg / (1 - smooth ** (t + 1))
            lrs.append(lr)
            raw.append(lv)
            sm.append(s)
            best = min(best, s)
            if s > diverge * best:
                break
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_opt)
        for g, lr in zip(optimizer.param_groups, saved_lrs):
            g["lr"] = lr
        model.train(was)
    if len(sm) < 3:
        return Result("lr_range_test", False, "the loss diverged at once: lower lr_min.",
                      {"lrs": lrs, "losses": sm, "raw_losses": raw, "suggested_lr": math.nan, "min_loss_lr": math.nan})
    la = np.log10(np.asarray(lrs))
    sa = np.asarray(sm)
    i_min = int(np.argmin(sa))
    skip = min(max(3, len(sa) // 10), max(0, i_min - 2))  # the first averages rest on few batches
    grad = np.gradient(sa[skip: i_min + 1], la[skip: i_min + 1]) if i_min - skip >= 2 else np.array([0.0])
    i_steep = skip + int(np.argmin(grad))
    ok = sa[i_min] < sa[0] * 0.9
    suggested = float(lrs[i_steep]) if ok else math.nan
    advice = (f"the loss falls fastest near lr = {suggested:.2g} and is lowest at {lrs[i_min]:.2g}: pick an lr "
              "around the steepest point (or about a tenth of the minimum's)." if ok else
              "the loss did not fall during the sweep: widen the range, or check the model with overfit_one_batch.")
    return Result("lr_range_test", bool(ok), advice, {"lrs": lrs, "losses": sm, "raw_losses": raw,
                                                       "suggested_lr": suggested, "min_loss_lr": float(lrs[i_min])})


# --------------------------------------------------------------------------- data pipeline


def check_pipeline(loader: Iterable, num_classes: int | None = None, max_batches: int | None = None) -> Result:
    """Check what a loader yields (the Crash Course deck's "check every pipeline step"): per-sample L2 norms
    (``blank``: norm 0), ``constant`` samples (all features equal), non-finite values, batches
    holding a single class (unshuffled data), and labels outside [0, ``num_classes``).
    Every batch must be an ``(x, y)`` pair (a TypeError otherwise, naming the batch);
    ``max_batches`` (None: all) must be an int >= 1."""
    if max_batches is not None and not is_count(max_batches, 1):
        raise ValueError(f"check_pipeline: max_batches must be None or an int >= 1, got {max_batches!r}")
    blank = constant = nonfinite = single = out_of_range = batches = samples = 0
    labels_seen: set[int] = set()
    norms: list[float] = []
    for b, item in enumerate(loader):
        if max_batches is not None and b >= max_batches:
            break
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            what = f"a {type(item).__name__}" + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else "")
            raise TypeError(f"check_pipeline: batch {b} is {what}, not an (x, y) pair: fit, evaluate and these "
                            "checks need a loader that yields (inputs, labels) pairs")
        x, y = _host(item[0]), _host(item[1])
        batches += 1
        samples += x.shape[0]
        flat = x.reshape(x.shape[0], -1).astype(np.float64)
        finite = np.isfinite(flat).all(axis=1)
        nonfinite += int((~finite).sum())
        nrm = np.sqrt((np.where(np.isfinite(flat), flat, 0.0) ** 2).sum(axis=1))
        norms.extend(nrm.tolist())
        blank += int((nrm == 0).sum())
        constant += int(((flat.max(axis=1) == flat.min(axis=1)) & (nrm > 0)).sum()) if flat.shape[1] > 1 else 0
        yl = y.reshape(-1)
        if y.ndim == 1 and yl.dtype.kind in "iu":
            uniq = np.unique(yl)
            labels_seen.update(int(v) for v in uniq)
            if len(yl) > 1 and len(uniq) == 1:
                single += 1
            if num_classes is not None:
                out_of_range += int(((yl < 0) | (yl >= num_classes)).sum())
    if batches == 0:
        raise ValueError("check_pipeline: the loader yielded no batches")
    problems = []
    if blank:
        problems.append(f"{blank} blank samples (L2 norm 0)")
    if constant:
        problems.append(f"{constant} constant samples")
    if nonfinite:
        problems.append(f"{nonfinite} samples with nan/inf")
    if single:
        problems.append(f"{single} of {batches} batches hold a single class (shuffle the training data)")
    if out_of_range:
        problems.append(f"{out_of_range} labels outside [0, {num_classes})")
    ok = not problems
    advice = ("no blank, constant or non-finite samples, mixed-class batches, labels in range." if ok else
              "; ".join(problems) + ": fix the pipeline before training.")
    return Result("check_pipeline", ok, advice, {
        "batches": batches, "samples": samples, "blank": blank, "constant": constant, "nonfinite": nonfinite,
        "single_class_batches": single, "labels_out_of_range": out_of_range, "labels_seen": sorted(labels_seen),
        "norm_min": float(min(norms)), "norm_max": float(max(norms))})


