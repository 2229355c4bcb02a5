"""The training loop: ``fit`` / ``evaluate`` / ``predict``, the per-epoch ``History``, callbacks.

    history = train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()), train_loader,
                        epochs=50, val_loader=val_loader, metrics=("accuracy",),
                        callbacks=[train.EarlyStopping(patience=5)])
    history.best("val_loss")          # (epoch, value) of the lowest validation loss
    train.evaluate(model, test_loader, nn.CrossEntropyLoss(), metrics=("accuracy",))

A *loader* is anything that can be iterated over more than once and yields ``(x, y)`` batches
(``minidl.data.DataLoader``, or a plain list of pairs); NumPy arrays are turned into tensors.
``len(loader)`` is used only for the progress bar's total, when the loader has one.

What one epoch of ``fit`` does (the PyTorch habits, written once)::

    model.train()
    for x, y in train_loader:
        optimizer.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); optimizer.step()
    model.eval()
    with md.no_grad(): val_loss, val_metrics = evaluate(model, val_loader, ...)

Averages are over *samples*: a batch of ``n`` samples counts ``n`` times, so a short last batch
does not weigh as much as a full one. ``loss_fn`` must return the batch *mean* (the default
``reduction="mean"`` of minidl's losses); the batch size is ``x``'s first dimension. Metrics are
computed once per epoch on all the epoch's outputs, so F1 or precision are exact too.

Callbacks follow Keras' names: ``on_train_begin``, ``on_epoch_begin``, ``on_train_batch_end``,
``on_epoch_end``, ``on_train_end``; each sees the running fit through ``self.run``
(``model``, ``optimizer``, ``scheduler``, ``history``, ``epoch``, ``stop_training``).
"""

from __future__ import annotations

import copy
import csv
import functools
import json
import math
import os
import signal
import string
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from . import backend
from . import metrics as _metrics
from ._checks import is_count
from .autograd import no_grad
from .functional import binary_cross_entropy
from .nn import BCELoss, Module
from .optim import Optimizer
from .optim.lr_scheduler import ReduceLROnPlateau
from .serialization import load, save, write_atomically
from .tensor import Tensor, tensor

__all__ = [
    "SCALAR_METRICS",
    "CSVLogger",
    "Callback",
    "DebugDump",
    "EarlyStopping",
    "ExperimentLog",
    "FitRun",
    "History",
    "ModelCheckpoint",
    "evaluate",
    "fit",
    "get_rng_state",
    "predict",
    "predicted_labels",
    "set_rng_state",
]

MetricFn = Callable[[Any, Any], float]


# --------------------------------------------------------------------------- history


class History:
    """Per-epoch records of one ``fit``: ``history.history["loss"][e]`` is epoch ``e``'s value.

    Keys: ``loss``, each metric, ``val_loss`` and ``val_<metric>`` (with a validation loader),
    ``lr`` (the first parameter group's learning rate used during the epoch), ``seconds``
    (wall time of the epoch, validation included). Epochs are numbered from 0, as in Keras.
    ``interrupted`` is True when Ctrl-C ended the run (the last record then covers only the
    batches seen; its validation values are nan).
    """

    def __init__(self, history: Mapping[str, Sequence[float]] | None = None) -> None:
        self.history: dict[str, list[float]] = {k: [float(v) for v in vs] for k, vs in (history or {}).items()}
        self.interrupted = False

    @property
    def epochs(self) -> int:
        return len(self.history.get("loss", []))

    def append(self, record: Mapping[str, float]) -> None:
        """Add one epoch's values; a key missing from this epoch (or new in it) is padded with nan."""
        n = self.epochs
        for k in record:
            self.history.setdefault(k, [math.nan] * n)
        for k, vs in self.history.items():
            vs.append(float(record.get(k, math.nan)))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __repr__(self) -> str:
        return f"History(epochs={self.epochs}, keys={list(self.history)})"

    def best(self, key: str = "val_loss", mode: str = "auto") -> tuple[int, float]:
        """``(epoch, value)`` of the best value of ``key``: lowest with ``mode="min"``, highest
        with ``"max"``. ``"auto"`` decides from the name: lowest for losses, errors and times
        (a key containing "loss", "error", "mse", "mae", "seconds" or "time"), highest for
        anything else, except ``"lr"``, which has no best: it needs an explicit mode
        (ValueError). nan entries are skipped; ties go to the earliest epoch."""
        if key not in self.history:
            raise KeyError(f"History.best: no key {key!r}; available: {sorted(self.history)}")
        mode = _resolve_mode(key, mode)
        vals = [(v, e) for e, v in enumerate(self.history[key]) if not math.isnan(v)]
        if not vals:
            raise ValueError(f"History.best: {key!r} has no finite values")
        best_v, best_e = vals[0]
        for v, e in vals[1:]:
            if (v < best_v) if mode == "min" else (v > best_v):
                best_v, best_e = v, e
        return best_e, best_v

    def to_dict(self) -> dict[str, list[float]]:
        return {k: list(v) for k, v in self.history.items()}

    def to_json(self, path: str | os.PathLike) -> None:
        """Write ``{"history": {key: [values...]}, "interrupted": bool}`` as strict JSON: nan is
        written as ``null`` and infinities as the strings ``"inf"`` / ``"-inf"`` (JSON has no
        literal for either); :meth:`from_json` reads all three back exactly."""
        clean = {k: [_json_value(v) for v in vs] for k, vs in self.history.items()}
        _atomic_write_text(path, json.dumps({"history": clean, "interrupted": self.interrupted}, indent=1,
                                            allow_nan=False), "History.to_json", "history.json")

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> History:
        """Read a file written by :meth:`to_json`. Anything else (not JSON, not an object with a
        ``"history"`` object of equal-length lists of numbers / null / "inf" / "-inf", or an
        ``"interrupted"`` that is not a bool) is a ``ValueError`` naming the file."""
        where = f"History.from_json: {os.fspath(path)!r}"
        expected = ('expected a JSON object {"history": {key: [numbers...]}, "interrupted": bool} '
                    "as written by History.to_json, with lists of equal length")
        with open(path, encoding="utf-8") as f:
            try:
                doc = json.load(f)
            except ValueError as exc:  # json.JSONDecodeError, UnicodeDecodeError
                raise ValueError(f"{where} is not valid JSON ({exc}); {expected}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("history"), dict):
            raise ValueError(f"{where} has no \"history\" object; {expected}")
        interrupted = doc.get("interrupted", False)
        if not isinstance(interrupted, bool):
            raise ValueError(f"{where}: \"interrupted\" is {interrupted!r}, not a bool; {expected}")
        history: dict[str, list[float]] = {}
        for k, vs in doc["history"].items():
            if not isinstance(vs, list):
                raise ValueError(f"{where}: history[{k!r}] is a {type(vs).__name__}, not a list; {expected}")
            try:
                history[k] = [_from_json_value(v) for v in vs]
            except ValueError as exc:
                raise ValueError(f"{where}: history[{k!r}] holds {exc}; {expected}") from None
        lengths = {k: len(vs) for k, vs in history.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"{where}: the lists have different lengths {lengths}; {expected}")
        h = cls(history)
        h.interrupted = interrupted
        return h

    def to_csv(self, path: str | os.PathLike) -> None:
        """One row per epoch: ``epoch`` then every key."""
        keys = list(self.history)
        rows = [["epoch", *keys]] + [[e, *(self.history[k][e] for k in keys)] for e in range(self.epochs)]
        text = "".join(",".join(str(c) for c in r) + "\n" for r in rows)
        _atomic_write_text(path, text, "History.to_csv", "history.csv")


def _json_value(v: float) -> float | str | None:
    """How :meth:`History.to_json` writes one value: nan as None (null), ±inf as "inf" / "-inf"."""
    if math.isnan(v):
        return None
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def _from_json_value(v: Any) -> float:
    """The inverse of :func:`_json_value`; ValueError (naming the value) for anything else."""
    if v is None:
        return math.nan
    if v in ("inf", "-inf"):
        return float(v)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise ValueError(f"{v!r}, which is not a number, null, \"inf\" or \"-inf\"")


def _resolve_mode(key: str, mode: str) -> str:
    """``"min"`` or ``"max"`` for ``key``. ``"auto"``: by ``metrics.lower_is_better`` (losses,
    errors and times minimised, metrics maximised); ``"lr"`` needs an explicit ``mode``."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    try:
        return "min" if _metrics.lower_is_better(key) else "max"
    except ValueError as exc:
        raise ValueError(f"{exc}: pass mode='min' or mode='max'") from None


def _atomic_write_text(path: str | os.PathLike, text: str, what: str, example: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, as ``md.save`` writes its files
    (``serialization.write_atomically``): a failure leaves ``path`` as it was and no temporary
    file behind; only a regular file (or nothing) at ``path`` is replaced. Errors name ``what``
    and suggest ``example`` as a file name."""
    write_atomically(path, lambda f: f.write(text.encode("utf-8")), what, example)


# --------------------------------------------------------------------------- RNG state


def get_rng_state() -> dict:
    """The state of minidl's seeded NumPy generator (``md.randn``, dropout, init, shuffling
    that uses it), as a plain dict that ``md.save`` can store."""
    return dict(backend.rng(backend.np).bit_generator.state)


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore a state from :func:`get_rng_state`: the next random numbers repeat exactly.

    ``state`` must have the structure of the generator's own state (same bit generator, same
    keys, nested dicts where it has them, integers where it has integers): anything else is a
    ``TypeError`` / ``ValueError`` naming what was expected, and the generator is left unchanged."""
    gen = backend.rng(backend.np)
    current = gen.bit_generator.state
    if not isinstance(state, Mapping):
        raise TypeError(f"set_rng_state: expected a dict from get_rng_state(), got {type(state).__name__}")
    want = state.get("bit_generator")
    if want != current["bit_generator"]:
        raise ValueError(f"set_rng_state: the state is for {want!r}, the generator is "
                         f"{current['bit_generator']!r}")
    _check_like(state, current, "state")
    try:
        gen.bit_generator.state = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in state.items()}
    except (TypeError, ValueError, OverflowError, KeyError) as exc:
        gen.bit_generator.state = current
        raise ValueError(f"set_rng_state: the generator refused the state ({type(exc).__name__}: {exc}); "
                         "pass a dict from get_rng_state()") from None


def _check_like(value: Any, template: Any, where: str) -> None:
    """Refuse ``value`` unless it has ``template``'s structure: the same keys in every dict,
    and an integer wherever ``template`` holds an integer (other leaves are left to NumPy)."""
    if isinstance(template, Mapping):
        if not isinstance(value, Mapping):
            raise TypeError(f"set_rng_state: {where} must be a dict with keys {sorted(template)}, "
                            f"got {type(value).__name__}")
        if set(value) != set(template):
            raise ValueError(f"set_rng_state: {where} has keys {sorted(value)}, expected {sorted(template)}")
        for k in template:
            _check_like(value[k], template[k], f"{where}[{k!r}]")
    elif isinstance(template, int) and (isinstance(value, bool) or not hasattr(value, "__index__")):
        raise TypeError(f"set_rng_state: {where} must be an integer, got {type(value).__name__}")


# --------------------------------------------------------------------------- callbacks


class FitRun:
    """What callbacks see of the running ``fit`` (``callback.run``)."""

    def __init__(self, model: Module, optimizer: Optimizer, scheduler: Any, history: History, epochs: int) -> None:
        self.model, self.optimizer, self.scheduler, self.history = model, optimizer, scheduler, history
        self.epochs = epochs
        self.epoch = 0
        self.stop_training = False  # set by a callback (EarlyStopping) to end after this epoch
        self.batch: tuple[Any, Any, Any] | None = None  # (x, y, output) of the batch just trained
        self.callbacks: list[Callback] = []
        self.log_keys: list[str] | None = None  # the keys of every epoch's logs, in order (set by fit)


class Callback:
    """Base class: override the hooks you need. ``logs`` hold the numbers recorded so far."""

    run: FitRun

    def set_run(self, run: FitRun) -> None:
        self.run = run

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...

    def state_dict(self) -> dict:
        """What a checkpoint must hold for a resumed run to continue exactly (default: nothing)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class _Monitor:
    """Tracks the best value of a monitored key (shared by EarlyStopping and ModelCheckpoint)."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        what = type(self).__name__
        if not isinstance(monitor, str):
            raise TypeError(f"{what}: monitor must be a logged key such as 'val_loss', got {type(monitor).__name__}")
        if not isinstance(mode, str):
            raise TypeError(f"{what}: mode must be 'auto', 'min' or 'max', got {type(mode).__name__}")
        if (isinstance(min_delta, bool) or not isinstance(min_delta, (int, float))
                or not math.isfinite(min_delta)):
            raise ValueError(f"{what}: min_delta must be a finite number, got {min_delta!r}")
        try:
            self.monitor, self.mode = monitor, _resolve_mode(monitor, mode)
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from None
        self.min_delta = abs(float(min_delta))
        self.best = math.inf if self.mode == "min" else -math.inf

    def value(self, logs: Mapping[str, float]) -> float:
        if self.monitor not in logs:
            raise KeyError(f"{type(self).__name__}: monitored key {self.monitor!r} is not logged; "
                           f"available: {sorted(logs)} (val_* keys need a val_loader)")
        return float(logs[self.monitor])

    def improved(self, v: float) -> bool:
        if math.isnan(v):
            return False
        return v < self.best - self.min_delta if self.mode == "min" else v > self.best + self.min_delta


def _copy_state(model: Module) -> dict:
    return dict(model.state_dict())  # state_dict already returns copies


class EarlyStopping(Callback, _Monitor):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights=True`` the model is left holding exactly the weights of the best
    epoch when fit ends (whether it stopped early or ran out of epochs). ``stopped_epoch`` and
    ``best_epoch`` record what happened. Every fit starts afresh (``on_train_begin`` forgets the
    best value, weights and wait of an earlier fit, as in Keras); ``fit(resume_from=...)``
    then restores the state saved in the checkpoint.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0, mode: str = "auto",
                 restore_best_weights: bool = True) -> None:
        _Monitor.__init__(self, monitor, mode, min_delta)
        if not is_count(patience, 0):
            raise ValueError(f"EarlyStopping: patience must be a non-negative int, got {patience!r}")
        if not isinstance(restore_best_weights, bool):
            raise TypeError(f"EarlyStopping: restore_best_weights must be True or False, got {restore_best_weights!r}")
        self.patience, self.restore_best_weights = patience, restore_best_weights
        self.wait, self.best_epoch, self.stopped_epoch = 0, -1, -1
        self.best_weights: dict | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait, self.best_epoch, self.stopped_epoch = 0, -1, -1
        self.best_weights = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        v = self.value(logs or {})
        if self.improved(v):
            self.best, self.best_epoch, self.wait = v, epoch, 0
            if self.restore_best_weights:
                self.best_weights = _copy_state(self.run.model)
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.run.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.run.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict:
        return {"best": self.best, "wait": self.wait, "best_epoch": self.best_epoch,
                "best_weights": self.best_weights}

    def load_state_dict(self, state: dict) -> None:
        best, wait, best_epoch, weights = state["best"], state["wait"], state["best_epoch"], state["best_weights"]
        self.best, self.wait, self.best_epoch = best, wait, best_epoch
        self.best_weights = dict(weights) if weights is not None else None


class ModelCheckpoint(Callback, _Monitor):
    """Save a full checkpoint after an epoch, through ``md.save`` (atomic, no pickle).

    It holds ``model`` (state dict), ``optimizer``, ``scheduler`` (or None), ``epoch`` (the last
    finished one), ``rng`` (see :func:`get_rng_state`), ``history`` and the other callbacks'
    states: everything ``fit(..., resume_from=path)`` needs to continue exactly. ``path`` may
    hold ``{epoch}`` (e.g. ``"ckpt_{epoch:03d}.npz"``), the only field allowed (checked here, so
    a bad template fails before training). With ``save_best_only`` a file is written only when
    ``monitor`` improves; every fit starts afresh (``on_train_begin`` forgets the best value of
    an earlier fit), and ``fit(resume_from=...)`` then restores the one saved in the checkpoint.
    """

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss", save_best_only: bool = True,
                 mode: str = "auto") -> None:
        _Monitor.__init__(self, monitor, mode, 0.0)
        path = _check_path(path, "ModelCheckpoint: path")
        _check_path_template(path)
        if not isinstance(save_best_only, bool):
            raise TypeError(f"ModelCheckpoint: save_best_only must be True or False, got {save_best_only!r}")
        self.path, self.save_best_only = path, save_best_only
        self.saved: list[str] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_best_only:
            v = self.value(logs or {})
            if not self.improved(v):
                return
            self.best = v
        path = self.path.format(epoch=epoch)
        save(checkpoint_dict(self.run, epoch), path)
        self.saved.append(path)

    def state_dict(self) -> dict:
        return {"best": self.best}

    def load_state_dict(self, state: dict) -> None:
        self.best = state["best"]


def _check_path(path: Any, what: str) -> str:
    """``path`` as a str; TypeError unless it is a str or os.PathLike naming text, ValueError if empty."""
    if not isinstance(path, (str, os.PathLike)) or not isinstance(os.fspath(path), str):
        raise TypeError(f"{what} must be a file path (str or os.PathLike), got {type(path).__name__}")
    path = os.fspath(path)
    if not path:
        raise ValueError(f"{what} is empty; give a file name")
    return path


def _check_path_template(path: str) -> None:
    """Refuse a ``ModelCheckpoint`` path whose format fields are not just ``{epoch}``."""
    hint = "the only field allowed is {epoch}, e.g. 'ckpt_{epoch:03d}.npz' (write a literal brace as {{ or }})"
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(path) if f is not None]
        bad = sorted({f for f in fields if f != "epoch"})
        if bad:
            raise ValueError(f"ModelCheckpoint: unknown field(s) {', '.join('{' + f + '}' for f in bad)} "
                             f"in path {path!r}: {hint}")
        path.format(epoch=0)
    except (ValueError, IndexError, KeyError) as exc:
        if str(exc).startswith("ModelCheckpoint"):
            raise
        raise ValueError(f"ModelCheckpoint: path {path!r} is not a valid template ({exc}): {hint}") from None


def checkpoint_dict(run: FitRun, epoch: int) -> dict:
    """The dict ``ModelCheckpoint`` saves after ``epoch``."""
    return {
        "format": "minidl-fit-checkpoint",
        "model": _copy_state(run.model),
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.scheduler.state_dict() if run.scheduler is not None else None,
        "epoch": int(epoch),
        "rng": get_rng_state(),
        "history": run.history.to_dict(),
        "callbacks": {i: cb.state_dict() for i, cb in enumerate(run.callbacks)},
    }


class CSVLogger(Callback):
    """Append one row per epoch (``epoch`` and every logged value) to a CSV file, flushed at once.

    Without ``append`` the file is started afresh by each fit. With ``append`` rows are added
    under the file's existing header, which must name the same columns in the same order as
    this fit logs: a different header is a ``ValueError`` raised before anything is written
    (at the start of the fit when ``fit`` announces its keys, else at the first epoch's end).
    """

    def __init__(self, path: str | os.PathLike, append: bool = False) -> None:
        if not isinstance(append, bool):
            raise TypeError(f"CSVLogger: append must be True or False, got {append!r}")
        self.path, self.append = _check_path(path, "CSVLogger: path"), append
        self._keys: list[str] | None = None
        self._header: list[str] | None = None  # the existing file's header, when appending

    def set_run(self, run: FitRun) -> None:
        super().set_run(run)
        if self.append and run.log_keys is not None:  # fit knows its keys: check before anything happens
            self._header = self._existing_header()
            self._check_header(run.log_keys)

    def _existing_header(self) -> list[str] | None:
        if not (os.path.exists(self.path) and os.path.getsize(self.path) > 0):
            return None
        with open(self.path, newline="", encoding="utf-8") as f:
            return next(csv.reader(f), [])

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._keys, self._header = None, None
        if self.append:
            self._header = self._existing_header()
        elif os.path.exists(self.path):
            os.remove(self.path)

    def _check_header(self, keys: list[str]) -> None:
        if self._header is not None and self._header != ["epoch", *keys]:
            raise ValueError(f"CSVLogger: cannot append to {self.path!r}: its header is {self._header}, but this "
                             f"fit logs {['epoch', *keys]}; use another file or append=False")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        new = self._keys is None
        if self._keys is None:
            self._check_header(list(logs))
            self._keys = list(logs)
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            if new and self._header is None:
                w.writerow(["epoch", *self._keys])
            w.writerow([epoch, *(logs.get(k, math.nan) for k in self._keys)])


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], check=False, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


class ExperimentLog(Callback):
    """An experiment record as JSON lines: one ``{"event": "start", ...}`` line with the
    hyperparameters, seed, minidl version, git commit (None outside a repository) and time, one
    ``{"event": "epoch", "epoch": e, ...metrics}`` line per epoch, and an ``"end"`` line.
    Lines are appended, so several runs can share one file; read it with ``read_jsonl``."""

    def __init__(self, path: str | os.PathLike, hparams: Mapping[str, Any] | None = None,
                 seed: int | None = None) -> None:
        self.path, self.hparams, self.seed = os.fspath(path), dict(hparams or {}), seed

    def _write(self, record: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, default=str) + "\n")

    def on_train_begin(self, logs: dict | None = None) -> None:
        from . import __version__

        self._write({"event": "start", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "hparams": self.hparams,
                     "seed": self.seed, "minidl_version": __version__, "git_commit": _git_commit(),
                     "optimizer": type(self.run.optimizer).__name__, "model": type(self.run.model).__name__,
                     "optimizer_hparams": {k: v for k, v in self.run.optimizer.param_groups[0].items()
                                           if k != "params"}})

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._write({"event": "epoch", "epoch": epoch,
                     **{k: (None if math.isnan(v) else v) for k, v in (logs or {}).items()}})

    def on_train_end(self, logs: dict | None = None) -> None:
        self._write({"event": "end", "epochs": self.run.history.epochs, "interrupted": self.run.history.interrupted})

    @staticmethod
    def read_jsonl(path: str | os.PathLike) -> list[dict]:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]


class DebugDump(Callback):
    """The decks' "debug mode": save the first ``batches`` input batches of every epoch and the
    model's raw output on them, as ``epoch{E:03d}_batch{B:05d}.npz`` (keys ``x``, ``y``,
    ``output``) in ``working_dir``. With ``working_dir=None`` it writes nothing and keeps nothing.
    ``batches`` must be a non-negative int."""

    def __init__(self, working_dir: str | os.PathLike | None, batches: int = 2) -> None:
        if not is_count(batches, 0):
            raise ValueError(f"DebugDump: batches must be a non-negative int, got {batches!r}")
        self.working_dir = None if working_dir is None else _check_path(working_dir, "DebugDump: working_dir")
        self.batches = batches
        self.written: list[str] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.working_dir is not None:
            os.makedirs(self.working_dir, exist_ok=True)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.working_dir is None or batch >= self.batches or self.run.batch is None:
            return
        x, y, out = self.run.batch
        path = os.path.join(self.working_dir, f"epoch{self.run.epoch:03d}_batch{batch:05d}.npz")
        save({"x": x, "y": y, "output": out.detach() if isinstance(out, Tensor) else out}, path)
        self.written.append(path)


# --------------------------------------------------------------------------- loop helpers


def _as_tensor(a: Any) -> Any:
    if isinstance(a, Tensor) or a is None:
        return a
    return tensor(a)


def _batches(loader: Iterable) -> Iterable[tuple[Any, Any]]:
    for item in loader:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError(f"the loader must yield (x, y) pairs, got {type(item).__name__}"
                            + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else ""))
        yield _as_tensor(item[0]), _as_tensor(item[1])


def _batch_size(x: Any) -> int:
    shape = getattr(x, "shape", ())
    if not shape:
        raise ValueError("a batch x must have a first (batch) dimension, got a scalar")
    return int(shape[0])


# the metrics of minidl.metrics that return one number from labels; fit and evaluate accept these names
SCALAR_METRICS = ("accuracy", "accuracy_score", "dice", "f1_score", "precision", "precision_score", "recall",
                  "recall_score", "sensitivity", "specificity")


def _outputs_are_probabilities(loss_fn: Any) -> bool:
    """True when ``loss_fn`` takes probabilities (``nn.BCELoss``, ``F.binary_cross_entropy`` or a
    ``functools.partial`` of it); any other loss, or none, means the outputs are logits."""
    fn = loss_fn.func if isinstance(loss_fn, functools.partial) else loss_fn
    return isinstance(fn, BCELoss) or fn is binary_cross_entropy


def predicted_labels(y_pred: Any, probabilities: bool = False, elementwise: bool = False) -> Any:
    """The labels a named metric gets from the model outputs ``y_pred`` (a Tensor or array).

    Integer or bool outputs are already labels. Several columns (dim 1 > 1) are per-class scores:
    the label is the argmax over dim 1. One column or 1-D outputs are binary: label 1 where
    ``y_pred > 0`` (logits), or where ``y_pred >= 0.5`` with ``probabilities=True``. The shape
    is kept otherwise (an ``(n, 1)`` output gives ``(n, 1)`` labels). ``elementwise=True``
    (masks, for ``dice``) thresholds every entry that way, whatever the shape."""
    a = y_pred.data if isinstance(y_pred, Tensor) else y_pred
    xp = backend.array_module(a)
    if a.dtype.kind in "biu":
        return a
    if a.ndim >= 2 and a.shape[1] > 1 and not elementwise:
        return a.argmax(axis=1)
    return ((a >= 0.5) if probabilities else (a > 0)).astype(xp.int64)


def _on_labels(fn: MetricFn, probabilities: bool) -> MetricFn:
    elementwise = fn is _metrics.dice  # a mask's pixels, not a row of class scores

    def metric(y_true: Any, y_pred: Any) -> float:
        return fn(y_true, predicted_labels(y_pred, probabilities, elementwise))

    metric.__name__ = getattr(fn, "__name__", "metric")
    return metric


def _resolve_metrics(metrics: Sequence[str | MetricFn], probabilities: bool = False) -> dict[str, MetricFn]:
    """Name -> function. Names (from ``SCALAR_METRICS``) get :func:`predicted_labels` of the
    outputs; callables get the raw outputs."""
    if isinstance(metrics, str):
        metrics = (metrics,)
    out: dict[str, MetricFn] = {}
    for m in metrics:
        if isinstance(m, str):
            fn = getattr(_metrics, m, None) if m in SCALAR_METRICS else None
            if fn is None or not callable(fn):
                raise ValueError(f"unknown metric {m!r}: pass one of {', '.join(SCALAR_METRICS)} "
                                 "or a function (y_true, y_pred) -> float")
            out[m] = _on_labels(fn, probabilities)
        elif callable(m):
            out[getattr(m, "__name__", f"metric{len(out)}")] = m
        else:
            raise TypeError(f"a metric must be a name or a callable, got {type(m).__name__}")
    return out


class _Accumulator:
    """Sample-weighted running loss plus the outputs and targets for exact epoch metrics."""

    def __init__(self, keep: bool) -> None:
        self.loss_sum, self.n, self.keep = 0.0, 0, keep
        self.outputs: list[Any] = []
        self.targets: list[Any] = []

    def add(self, loss: float | None, n: int, out: Any, y: Any) -> None:
        if loss is not None:
            self.loss_sum += loss * n
        self.n += n
        if self.keep:
            self.outputs.append(out.data if isinstance(out, Tensor) else out)
            self.targets.append(y.data if isinstance(y, Tensor) else y)

    @property
    def loss(self) -> float:
        return self.loss_sum / self.n if self.n else math.nan

    def metrics(self, fns: Mapping[str, MetricFn]) -> dict[str, float]:
        if not fns or not self.outputs:
            return {}
        xp = backend.array_module(self.outputs[0])
        out = Tensor(xp.concatenate(self.outputs, axis=0))
        y = Tensor(xp.concatenate(self.targets, axis=0))
        return {name: float(fn(y, out)) for name, fn in fns.items()}


def evaluate(model: Module, loader: Iterable, loss_fn: Callable | None = None,
             metrics: Sequence[str | MetricFn] = ()) -> dict[str, float]:
    """Loss (if ``loss_fn``) and metrics of ``model`` over ``loader``, in eval mode under
    ``no_grad``; returns ``{"loss": ..., "<metric>": ...}`` averaged over samples. The model's
    train/eval mode is restored afterwards.

    ``metrics`` as in :func:`fit`: a named metric gets the predicted labels
    (:func:`predicted_labels`), one-column outputs read as logits (threshold 0) unless
    ``loss_fn`` is ``nn.BCELoss`` / ``F.binary_cross_entropy`` (probabilities, threshold 0.5);
    without ``loss_fn`` they are logits. A metric function gets the raw outputs."""
    return _evaluate(model, loader, loss_fn, _resolve_metrics(metrics, _outputs_are_probabilities(loss_fn)))


def _evaluate(model: Module, loader: Iterable, loss_fn: Callable | None, fns: Mapping[str, MetricFn]
              ) -> dict[str, float]:
    was_training = model.training
    model.eval()
    acc = _Accumulator(keep=bool(fns))
    try:
        with no_grad():
            for x, y in _batches(loader):
                out = model(x)
                loss = float(loss_fn(out, y).item()) if loss_fn is not None else None
                acc.add(loss, _batch_size(x), out, y)
    finally:
        model.train(was_training)
    if acc.n == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    res = {"loss": acc.loss} if loss_fn is not None else {}
    res.update(acc.metrics(fns))
    return res


def predict(model: Module, data: Any, batch_size: int = 256) -> Tensor:
    """Model outputs for a Tensor / array (split into ``batch_size`` chunks) or for a loader of
    ``(x, y)`` or ``x`` batches, concatenated along dim 0; eval mode, no_grad, mode restored.
    ``batch_size`` must be a positive int."""
    if not is_count(batch_size, 1):
        raise ValueError(f"predict: batch_size must be a positive int, got {batch_size!r}")
    was_training = model.training
    model.eval()
    outs: list[Any] = []
    try:
        with no_grad():
            if isinstance(data, Tensor) or backend.is_backend_array(data):
                x = _as_tensor(data)
                for i in range(0, max(1, _batch_size(x)), batch_size):
                    outs.append(model(x[i:i + batch_size]).data)
            else:
                for item in data:
                    x = item[0] if isinstance(item, (tuple, list)) else item
                    outs.append(model(_as_tensor(x)).data)
    finally:
        model.train(was_training)
    if not outs:
        raise ValueError("predict: no data")
    return Tensor(backend.array_module(outs[0]).concatenate(outs, axis=0))


class _StopFlag:
    """Turns Ctrl-C (SIGINT) into a flag checked after each batch, in the main thread only;
    elsewhere the KeyboardInterrupt is caught instead (so the stop may come mid-batch)."""

    def __init__(self) -> None:
        self.stop = False
        self._old: Any = None

    def __enter__(self) -> _StopFlag:
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.stop = True

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def _progress(loader: Iterable, epoch: int, epochs: int, show: bool) -> Any:
    if not show:
        return None
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    total = len(loader) if hasattr(loader, "__len__") else None  # type: ignore[arg-type]
    return tqdm(total=total, desc=f"epoch {epoch + 1}/{epochs}", leave=True, dynamic_ncols=True, unit="batch")


def _fmt(logs: Mapping[str, float]) -> str:
    return "  ".join(f"{k} {v:.4g}" for k, v in logs.items() if k not in ("seconds",))


def _current_lr(optimizer: Optimizer) -> float:
    return float(optimizer.param_groups[0]["lr"])


# --------------------------------------------------------------------------- fit


def fit(model: Module, loss_fn: Callable, optimizer: Optimizer, train_loader: Iterable, epochs: int,
        val_loader: Iterable | None = None, metrics: Sequence[str | MetricFn] = ("accuracy",),
        callbacks: Sequence[Callback] = (), scheduler: Any = None, verbose: int = 1,
        scheduler_interval: str = "epoch", resume_from: str | os.PathLike | None = None) -> History:
    """Train ``model`` for ``epochs`` epochs (in total, counting any resumed ones); return the History.

    - ``metrics``: names of scalar metrics from :mod:`minidl.metrics` (``SCALAR_METRICS``) or
      functions ``(y_true, y_pred) -> float``; each is also logged as ``val_<name>``. A function
      gets the raw model output (e.g. logits). A named metric gets the predicted labels
      (:func:`predicted_labels`): the argmax over dim 1 for several columns; for one column or
      1-D outputs, ``output > 0`` (logits, the default), or ``output >= 0.5`` when ``loss_fn``
      is ``nn.BCELoss`` or ``F.binary_cross_entropy`` (probabilities). A loss wrapped in
      another function cannot be recognised: its outputs count as logits.
      The default ``("accuracy",)`` suits classifiers; pass ``metrics=()`` for regression.
    - ``scheduler``: stepped after every epoch, or after every batch with
      ``scheduler_interval="batch"``; a ``ReduceLROnPlateau`` is stepped per epoch with the
      validation loss (the training loss without a ``val_loader``).
    - ``verbose``: 0 silent; 1 a tqdm bar per epoch with the running loss and metrics when
      stderr is a terminal, else one summary line per epoch; 2 one summary line per epoch.
    - ``resume_from``: a ``ModelCheckpoint`` file. Model, optimizer, scheduler, RNG, history and
      callback states are restored and training continues after the saved epoch, so the result
      equals the uninterrupted run bit for bit (given the same loaders, callbacks and seeds;
      shuffling must draw from minidl's generator). The checkpoint is checked first (format,
      scheduler present in both or neither, one state per callback, RNG kind): a refused one
      changes nothing. Callbacks' states are restored after their ``on_train_begin``.
    - Ctrl-C stops after the current batch; the history so far is returned (``interrupted``).
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be a minidl.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"fit: optimizer must be a minidl.optim.Optimizer, got {type(optimizer).__name__}")
    if not is_count(epochs, 0):
        raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
    if scheduler_interval not in ("epoch", "batch"):
        raise ValueError(f"fit: scheduler_interval must be 'epoch' or 'batch', got {scheduler_interval!r}")
    if verbose not in (0, 1, 2):
        raise ValueError(f"fit: verbose must be 0, 1 or 2, got {verbose!r}")
    plateau = isinstance(scheduler, ReduceLROnPlateau)
    if plateau and scheduler_interval == "batch":
        raise ValueError("fit: ReduceLROnPlateau is stepped per epoch with the validation loss, "
                         "not per batch")
    if scheduler is not None and not all(callable(getattr(scheduler, a, None))
                                         for a in ("step", "state_dict", "load_state_dict")):
        raise TypeError("fit: scheduler must be a learning-rate scheduler from minidl.optim.lr_scheduler "
                        f"(with step, state_dict and load_state_dict), got {type(scheduler).__name__}")
    fns = _resolve_metrics(metrics, _outputs_are_probabilities(loss_fn))
    history = History()
    run = FitRun(model, optimizer, scheduler, history, epochs)
    run.callbacks = list(callbacks)
    val_keys = ["val_loss", *("val_" + k for k in fns)] if val_loader is not None else []
    run.log_keys = ["loss", *fns, *val_keys, "lr", "seconds"]
    for cb in run.callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be Callback instances, got {type(cb).__name__}")
        cb.set_run(run)
    ck = _read_checkpoint(run, resume_from) if resume_from is not None else None
    if ck is not None:
        _restore_training_state(run, ck)
    for cb in run.callbacks:  # resets the callbacks (EarlyStopping) ...
        cb.on_train_begin({})
    start_epoch = 0
    if ck is not None:  # ... before a resumed run restores their states
        for i, cb in enumerate(run.callbacks):
            cb.load_state_dict(ck["callbacks"][i])
        start_epoch = int(ck["epoch"]) + 1

    bar_mode = verbose == 1 and sys.stderr.isatty()
    with _StopFlag() as flag:
        for epoch in range(start_epoch, epochs):
            if flag.stop:  # Ctrl-C came during the last evaluation or a callback
                history.interrupted = True
                break
            run.epoch = epoch
            for cb in run.callbacks:
                cb.on_epoch_begin(epoch, {})
            t0 = time.perf_counter()
            lr = _current_lr(optimizer)
            model.train()
            acc = _Accumulator(keep=bool(fns))
            bar = _progress(train_loader, epoch, epochs, bar_mode)
            running: dict[str, float] = {}
            try:
                for b, (x, y) in enumerate(_batches(train_loader)):
                    optimizer.zero_grad()
                    out = model(x)
                    loss = loss_fn(out, y)
                    loss.backward()
                    optimizer.step()
                    if scheduler is not None and scheduler_interval == "batch":
                        scheduler.step()
                    n = _batch_size(x)
                    loss_value = float(loss.item())  # one device-to-host sync per batch
                    acc.add(loss_value, n, out.detach(), y)
                    run.batch = (x, y, out)
                    batch_logs = {"loss": loss_value, "size": n}
                    for cb in run.callbacks:
                        cb.on_train_batch_end(b, batch_logs)
                    run.batch = None
                    if bar is not None:
                        for name, fn in fns.items():  # running, sample-weighted, for the bar only
                            running[name] = running.get(name, 0.0) + float(fn(y, out.detach())) * n
                        bar.set_postfix({"loss": f"{acc.loss:.4f}",
                                         **{k: f"{v / acc.n:.4f}" for k, v in running.items()}}, refresh=False)
                        bar.update(1)
                    if flag.stop:
                        break
            except KeyboardInterrupt:
                flag.stop = True
            if acc.n == 0 and not flag.stop:
                raise ValueError("fit: the training loader yielded no batches")
            logs: dict[str, float] = {"loss": acc.loss, **acc.metrics(fns)}
            if flag.stop:
                history.interrupted = True
                if bar is not None:
                    bar.close()
                if acc.n:
                    history.append({**logs, "lr": lr, "seconds": time.perf_counter() - t0})
                if verbose:
                    print(f"interrupted in epoch {epoch + 1} after {acc.n} samples", file=sys.stderr)
                break
            if val_loader is not None:
                logs.update({"val_" + k: v for k, v in _evaluate(model, val_loader, loss_fn, fns).items()})
            if scheduler is not None and scheduler_interval == "epoch":
                if plateau:
                    scheduler.step(logs.get("val_loss", logs["loss"]))
                else:
                    scheduler.step()
            logs["lr"] = lr
            logs["seconds"] = time.perf_counter() - t0
            history.append(logs)
            if bar is not None:
                bar.set_postfix_str(_fmt(logs), refresh=True)
                bar.close()
            elif verbose:
                print(f"epoch {epoch + 1}/{epochs}  {_fmt(logs)}  ({logs['seconds']:.2f} s)", file=sys.stderr)
            # checkpoints last, so that they hold the other callbacks' states after this epoch
            for cb in sorted(run.callbacks, key=lambda c: isinstance(c, ModelCheckpoint)):
                cb.on_epoch_end(epoch, dict(logs))
            if run.stop_training:
                break
    for cb in run.callbacks:
        cb.on_train_end({})
    return history


def _read_checkpoint(run: FitRun, path: str | os.PathLike) -> dict:
    """Load a ``ModelCheckpoint`` file and check that it fits ``run``; changes nothing."""
    ck = load(path)
    if not isinstance(ck, dict) or ck.get("format") != "minidl-fit-checkpoint":
        raise ValueError(f"fit: {os.fspath(path)!r} is not a checkpoint written by ModelCheckpoint")
    if (ck["scheduler"] is None) != (run.scheduler is None):
        raise ValueError("fit: the checkpoint was saved " + ("without" if ck["scheduler"] is None else "with")
                         + " a scheduler, but this fit has " + ("one" if run.scheduler is not None else "none"))
    states = ck.get("callbacks", {})
    if not isinstance(states, dict) or sorted(states) != list(range(len(run.callbacks))):
        raise ValueError(f"fit: the checkpoint holds {len(states)} callback states, this fit has "
                         f"{len(run.callbacks)} callbacks (pass the same callbacks to resume)")
    want = ck["rng"].get("bit_generator") if isinstance(ck["rng"], dict) else None
    have = get_rng_state()["bit_generator"]
    if want != have:
        raise ValueError(f"fit: the checkpoint's RNG state is for {want!r}, the generator is {have!r}")
    ck["callbacks"] = states
    return ck


def _restore_training_state(run: FitRun, ck: dict) -> None:
    """Load the model, optimizer, scheduler, RNG and history of a checked checkpoint: all or
    nothing (if one of them refuses its state, those already loaded are put back)."""
    saved = (run.model.state_dict(), run.optimizer.state_dict(),
             copy.deepcopy(run.scheduler.state_dict()) if run.scheduler is not None else None, get_rng_state())
    try:
        run.model.load_state_dict(ck["model"])
        run.optimizer.load_state_dict(ck["optimizer"])
        if run.scheduler is not None:
            run.scheduler.load_state_dict(ck["scheduler"])
        set_rng_state(ck["rng"])
        history = {k: [float(v) for v in vs] for k, vs in ck["history"].items()}
    except BaseException:
        run.model.load_state_dict(saved[0])
        run.optimizer.load_state_dict(saved[1])
        if run.scheduler is not None:
            run.scheduler.load_state_dict(saved[2])
        set_rng_state(saved[3])
        raise
    run.history.history.update(history)
