"""Learning-rate schedules with PyTorch's semantics (``scheduler.step()`` after ``optimizer.step()``).

Each scheduler's docstring gives its closed form, ``lr(epoch)`` from the group's ``base_lr``
(its ``initial_lr``). ``step()`` applies the schedule the way PyTorch does, as an *update of
the current* ``group["lr"]`` (the "chainable" form: ExponentialLR multiplies the current lr
by gamma, StepLR does so every ``step_size`` epochs, ...). Alone, a scheduler follows its
closed form (up to rounding); two schedulers stepped on the same optimizer compose, e.g. a
LinearLR warm-up factor times an ExponentialLR decay. To *switch* from one schedule to the
next at given epochs ("warm up for 5 epochs, then cosine decay") use ``SequentialLR``;
``ChainedScheduler`` steps several at once. ``get_last_lr()`` returns the current lrs.
"""

from __future__ import annotations

import math
import numbers
from bisect import bisect_right
from typing import Any, Iterable, Sequence

from .optimizer import Optimizer, _check_nonneg


def _per_group(name: str, optimizer: Optimizer, value: Any) -> list:
    """``value`` for each parameter group: a list/tuple of one per group, or one for all."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"expected {n} values for {name} (one per parameter group), got {len(value)}")
        return list(value)
    return [value] * n


def _is_real(value: Any) -> bool:
    """A real number (Python or NumPy), not a bool."""
    return not isinstance(value, bool) and isinstance(value, numbers.Real)


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _check_positive(name: str, value: Any) -> None:
    """A schedule length: any positive number (PyTorch accepts floats and NumPy ints here)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value) > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def _check_last_epoch(value: Any) -> None:
    """``last_epoch``: an int >= -1 (-1 starts a new schedule)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"last_epoch must be an int, got {type(value).__name__}")
    if value < -1:
        raise ValueError(f"last_epoch must be >= -1, got {value}")


def _milestones(name: str, value: Any) -> list[int]:
    """``value`` as a sorted list of epochs: an iterable of non-negative ints."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of epochs (non-negative ints), got {type(value).__name__}")
    epochs = list(value)
    for m in epochs:
        if isinstance(m, bool) or not isinstance(m, numbers.Integral) or m < 0:
            raise ValueError(f"{name} must hold non-negative ints (epochs), got {m!r}")
    return sorted(int(m) for m in epochs)


class LRScheduler:
    """Base class: remembers ``base_lrs`` (``initial_lr``), counts ``last_epoch``, sets lrs.

    A subclass defines ``get_lr()``, the new lrs from the current ones (the chainable form),
    and ``_closed_form_lr()``, ``lr(last_epoch)`` from ``base_lrs``.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        _check_last_epoch(last_epoch)
        self.optimizer = optimizer
        if last_epoch == -1:
            for g in optimizer.param_groups:
                g.setdefault("initial_lr", g["lr"])
        else:
            for i, g in enumerate(optimizer.param_groups):
                if "initial_lr" not in g:
                    raise KeyError(f"param_groups[{i}] has no 'initial_lr': resuming with last_epoch={last_epoch} "
                                   "needs the optimizer state saved by the original run")
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """The constructor's step, to epoch ``last_epoch + 1`` (0 for a new schedule)."""
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lrs for the new ``self.last_epoch``, from the current ``group["lr"]``."""
        raise NotImplementedError

    def _closed_form_lr(self) -> list[float]:
        """``lr(last_epoch)`` from ``base_lrs`` (SequentialLR restarts a schedule with it)."""
        raise NotImplementedError

    def _current_lrs(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lrs set by the last ``step()``."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one epoch and write the new lrs into the optimizer's groups."""
        self.last_epoch += 1
        self._set_lrs(self.get_lr())

    def _restart(self) -> None:
        """Start the schedule again at epoch 0 (used by SequentialLR at a milestone)."""
        self.last_epoch = 0
        self._set_lrs(self._closed_form_lr())

    def _set_lrs(self, lrs: list[float]) -> None:
        for g, lr in zip(self.optimizer.param_groups, lrs):
            g["lr"] = float(lr)
        self._last_lr = self._current_lrs()

    def state_dict(self) -> dict:
        """Every attribute except the optimizer."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict`` returned; checked first, so a refused one changes nothing."""
        _check_scheduler_state(self, state_dict)
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """``lr = base_lr * gamma ** (epoch // step_size)``: the current lr times gamma every
    ``step_size`` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        _check_positive("step_size", step_size)
        _check_nonneg("gamma", gamma)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    """``lr = base_lr * gamma ** (number of milestones <= epoch)``: the current lr times gamma
    at each milestone (times gamma^k for a milestone listed k times)."""

    def __init__(self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        _check_nonneg("gamma", gamma)
        self.milestones = _milestones("milestones", milestones)  # a plain list: checkpoints keep it as is
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        hits = self.milestones.count(self.last_epoch)  # a milestone listed k times decays by gamma^k
        if hits == 0:
            return self._current_lrs()
        return [lr * self.gamma ** hits for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        passed = bisect_right(self.milestones, self.last_epoch)
        return [b * self.gamma ** passed for b in self.base_lrs]


class ExponentialLR(LRScheduler):
    """``lr = base_lr * gamma ** epoch``: the current lr times gamma every epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        _check_nonneg("gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [b * self.gamma ** self.last_epoch for b in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``.

    As an update of the current lr (PyTorch's form, which lets it compose with other
    schedules): ``lr - eta_min`` is scaled by ``(1 + cos(pi e / T)) / (1 + cos(pi (e-1) / T))``;
    past ``T_max`` the lr climbs back (a cosine of period ``2 T_max``), and at the restart
    points, where that ratio would divide by zero, the lr steps up from eta_min by the
    closed form's first increment.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        _check_positive("T_max", T_max)
        _check_nonneg("eta_min", eta_min)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        e, T, lo = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if (e - 1 - T) % (2 * T) == 0:  # restarting from eta_min: the closed form's first increment
            step_up = (1 - math.cos(math.pi / T)) / 2
            return [lr + (b - lo) * step_up for lr, b in zip(self._current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
        return [lo + ratio * (lr - lo) for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        e = self.last_epoch
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * e / self.T_max)) / 2 for b in self.base_lrs]


class LinearLR(LRScheduler):
    """Linear warm-up: ``lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)``.

    As an update of the current lr: times ``start_factor`` at epoch 0, then times
    ``f(e) / f(e - 1)`` with ``f`` the factor above, until ``total_iters``.
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        for name, value in (("start_factor", start_factor), ("end_factor", end_factor)):
            if not _is_real(value):
                raise TypeError(f"{name} must be a number, got {type(value).__name__}")
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError("start_factor must be in (0, 1] and end_factor in [0, 1], "
                             f"got {start_factor}, {end_factor}")
        _check_positive("total_iters", total_iters)
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        e, s, d = self.last_epoch, self.start_factor, self.end_factor - self.start_factor
        if e == 0:
            return [lr * s for lr in self._current_lrs()]
        if self._is_initial or e > self.total_iters:
            return self._current_lrs()
        ratio = 1 + d / (self.total_iters * s + (e - 1) * d)  # f(e) / f(e - 1)
        return [lr * ratio for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        progress = min(self.last_epoch, self.total_iters) / self.total_iters
        f = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [b * f for b in self.base_lrs]


class _Composite(LRScheduler):
    """A scheduler made of schedulers: its state dict holds theirs."""

    _schedulers: list[LRScheduler]

    def state_dict(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        _check_scheduler_state(self, state_dict)
        state = dict(state_dict)
        inner = state.pop("_schedulers")
        if not isinstance(inner, (list, tuple)) or len(inner) != len(self._schedulers):
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected the states of "
                             f"{len(self._schedulers)} schedulers, got {inner!r:.80}")
        for s, sd in zip(self._schedulers, inner):  # check them all before changing any
            _check_scheduler_state(s, sd)
        self.__dict__.update(state)
        for s, sd in zip(self._schedulers, inner):
            s.load_state_dict(sd)


class SequentialLR(_Composite):
    """One schedule after another: ``schedulers[i]`` runs from ``milestones[i - 1]`` on.

    ``SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5), CosineAnnealingLR(opt, 45)],
    milestones=[5])`` warms up over 5 epochs, then restarts the cosine at ``base_lr``.
    At a milestone the next schedule starts over at its epoch 0 (its closed form there).
    """

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int],
                 last_epoch: int = -1) -> None:
        _check_composite(self, optimizer, schedulers)
        _check_last_epoch(last_epoch)
        epochs = _milestones("milestones", milestones)
        if len(epochs) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR needs one milestone fewer than schedulers, got {len(schedulers)} "
                             f"schedulers and {len(epochs)} milestones")
        if list(milestones) != epochs:
            raise ValueError(f"SequentialLR milestones must be increasing, got {list(milestones)}")
        self.optimizer, self._schedulers, self._milestones = optimizer, list(schedulers), epochs
        self.last_epoch = last_epoch + 1
        # Each scheduler already took its constructor's step: start again from the initial lrs,
        # with only the schedule that runs at epoch 0 stepped.
        for g in optimizer.param_groups:
            g["lr"] = g["initial_lr"]
        for s in self._schedulers:
            _undo_initial_step(s)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        i = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """Step several schedulers of one optimizer together: their updates compose, e.g. a
    ``LinearLR`` warm-up factor times an ``ExponentialLR`` decay."""

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None) -> None:
        chosen = optimizer or (schedulers[0].optimizer if schedulers else None)
        _check_composite(self, chosen, schedulers)
        assert chosen is not None  # _check_composite raised otherwise
        self.optimizer, self._schedulers = chosen, list(schedulers)
        self._last_lr = self._current_lrs()

    def step(self) -> None:
        for s in self._schedulers:
            s.step()
        self._last_lr = self._current_lrs()


def _check_composite(composite: LRScheduler, optimizer: Optimizer | None, schedulers: Sequence[Any]) -> None:
    name = type(composite).__name__
    if not schedulers:
        raise ValueError(f"{name} needs at least one scheduler")
    for i, s in enumerate(schedulers):
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(f"{name} cannot hold ReduceLROnPlateau (index {i}): its step() needs the metric")
        if not isinstance(s, LRScheduler):
            raise TypeError(f"{name}: schedulers[{i}] is a {type(s).__name__}, not a learning-rate scheduler")
        if s.optimizer is not optimizer:
            raise ValueError(f"{name}: schedulers[{i}] ({type(s).__name__}) belongs to another optimizer")


_NONNEG_STATE = ("gamma", "eta_min", "factor", "threshold", "eps", "cooldown", "patience")
_POSITIVE_STATE = ("step_size", "T_max", "total_iters", "total_steps")


def _check_scheduler_state(scheduler: Any, state_dict: Any) -> None:
    """A scheduler's saved state: a dict of its own attributes, hyperparameters valid (NaN
    refused): non-negative rates and factors, positive schedule lengths, ``last_epoch`` an
    int >= -1, ``milestones`` non-negative ints."""
    name = type(scheduler).__name__
    if not isinstance(state_dict, dict):
        raise TypeError(f"{name}.load_state_dict: expected a dict (from scheduler.state_dict()), "
                        f"got {type(state_dict).__name__}")
    own = set(scheduler.state_dict())
    unknown = sorted(str(k) for k in state_dict if k not in own)
    if unknown:
        raise ValueError(f"{name}.load_state_dict: the state has {unknown}, which {name} does not have "
                         "(was it saved by another kind of scheduler?)")
    try:
        for key in _NONNEG_STATE:
            if key in state_dict:
                _check_nonneg(key, state_dict[key])
        for key in _POSITIVE_STATE:
            if key in state_dict:
                _check_positive(key, state_dict[key])
        if "last_epoch" in state_dict:
            _check_last_epoch(state_dict["last_epoch"])
        if "milestones" in state_dict:
            _milestones("milestones", state_dict["milestones"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}.load_state_dict: {exc}") from None


def _undo_initial_step(scheduler: LRScheduler) -> None:
    if isinstance(scheduler, _Composite):
        for s in scheduler._schedulers:
            _undo_initial_step(s)
    else:
        scheduler.last_epoch -= 1


class ReduceLROnPlateau:
    """Multiply lr by ``factor`` when ``metric`` has not improved for ``patience`` epochs.

    Improvement (mode "min", threshold_mode "rel"): ``metric < best * (1 - threshold)``;
    mode "max": ``metric > best * (1 + threshold)``. After a reduction, ``cooldown`` epochs
    are ignored; lrs never go below ``min_lr`` (and changes smaller than ``eps`` are skipped).
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | list = 0.0, eps: float = 1e-8) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        _check_nonneg("factor", factor)
        if not factor < 1.0:
            raise ValueError(f"factor should be < 1.0, got {factor}")
        for name, value in (("threshold", threshold), ("eps", eps), ("cooldown", cooldown), ("patience", patience)):
            _check_nonneg(name, value)
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.optimizer = optimizer
        self.min_lrs = _per_group("min_lr", optimizer, min_lr)
        for value in self.min_lrs:
            _check_nonneg("min_lr", value)
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown, self.eps = threshold, threshold_mode, cooldown, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def _better(self, a: float, best: float) -> bool:
        if self.mode == "min":
            return a < (best * (1 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return a > (best * (1 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold)

    def step(self, metrics: float) -> None:
        current = float(metrics)
        self.last_epoch += 1
        if self._better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for g, mn in zip(self.optimizer.param_groups, self.min_lrs):
                new = max(g["lr"] * self.factor, mn)
                if g["lr"] - new > self.eps:
                    g["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        _check_scheduler_state(self, state_dict)
        self.__dict__.update(state_dict)


class OneCycleLR(LRScheduler):
    """The one-cycle policy (Smith), PyTorch's ``OneCycleLR``, stepped once per *batch*.

    Phases (two by default; ``three_phase=True`` adds a symmetric warm-down before the end):

        warm-up   steps 0 .. pct_start * total_steps - 1:  lr  initial_lr -> max_lr,
                                                            momentum  max_momentum -> base_momentum
        anneal    ... .. total_steps - 1:                   lr  max_lr -> min_lr,
                                                            momentum  base_momentum -> max_momentum

    with initial_lr = max_lr / div_factor and min_lr = initial_lr / final_div_factor; each
    phase interpolates by a half cosine (``anneal_strategy="cos"``) or linearly. With
    ``cycle_momentum`` (the default, as in PyTorch) the optimizer's ``momentum`` (SGD,
    RMSprop) or ``betas[0]`` (Adam, AdamW) moves opposite to the lr: high momentum while the
    lr is small. ``total_steps``, or ``epochs`` and ``steps_per_epoch``, fix the length; stepping
    past ``total_steps`` raises.
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True, base_momentum: float | list = 0.85,
                 max_momentum: float | list = 0.95, div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if total_steps is not None:
            _check_positive_int("total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            _check_positive_int("epochs", epochs)
            _check_positive_int("steps_per_epoch", steps_per_epoch)
            total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR needs total_steps, or epochs and steps_per_epoch")
        for name, factor in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not factor > 0:
                raise ValueError(f"{name} must be a positive number, got {factor!r}")
        for name, value in (("max_lr", max_lr), ("base_momentum", base_momentum), ("max_momentum", max_momentum)):
            for each in _per_group(name, optimizer, value):
                _check_nonneg(name, each)
        if not _is_real(pct_start) or not 0 <= pct_start <= 1:
            raise ValueError(f"pct_start must be in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        _check_last_epoch(last_epoch)
        if cycle_momentum and "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
            raise ValueError(f"OneCycleLR(cycle_momentum=True) needs an optimizer with momentum or betas; "
                             f"{type(optimizer).__name__} has neither (pass cycle_momentum=False)")
        warm_end = float(pct_start * total_steps) - 1
        last_start = 2 * warm_end if three_phase else warm_end
        if warm_end == 0 or last_start == total_steps - 1:   # a phase that is used but has zero steps
            raise ValueError(f"OneCycleLR: pct_start={pct_start} with total_steps={total_steps} leaves a phase with "
                             "zero steps (it would divide by zero); change pct_start or total_steps")
        self.total_steps, self.anneal_strategy, self.cycle_momentum = total_steps, anneal_strategy, cycle_momentum
        # (last step of the phase, lr from -> to, momentum from -> to), group keys
        if three_phase:
            self.phases = [(warm_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (2 * warm_end, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                           (total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self.phases = [(warm_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        groups = optimizer.param_groups
        if last_epoch == -1:
            for g, top in zip(groups, _per_group("max_lr", optimizer, max_lr)):
                g["initial_lr"] = top / div_factor
                g["max_lr"] = top
                g["min_lr"] = g["initial_lr"] / final_div_factor
        if cycle_momentum:
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                for g, top, low in zip(groups, _per_group("max_momentum", optimizer, max_momentum),
                                       _per_group("base_momentum", optimizer, base_momentum)):
                    self._set_momentum(g, top)
                    g["max_momentum"], g["base_momentum"] = top, low
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "linear":
            return start + (end - start) * pct
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)  # half cosine

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"tried to step {t} times; OneCycleLR was built with total_steps={self.total_steps}")
        lrs = []
        for g in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr_from, lr_to, m_from, m_to) in enumerate(self.phases):
                if t <= end or i == len(self.phases) - 1:
                    pct = (t - start) / (end - start)
                    lrs.append(self._anneal(g[lr_from], g[lr_to], pct))
                    if self.cycle_momentum:
                        self._set_momentum(g, self._anneal(g[m_from], g[m_to], pct))
                    break
                start = end
        return lrs

    def _closed_form_lr(self) -> list[float]:
        return self.get_lr()  # already computed from the step number alone


__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
           "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau", "OneCycleLR"]
