"""``Optimizer``: the base class of every update rule (PyTorch semantics).

An optimizer holds *param groups*: dicts with a ``"params"`` list plus hyperparameters
(``lr``, ``weight_decay``, ...). Keys missing from a group are filled from the optimizer's
``defaults``, so a pretrained backbone can get a lower ``lr`` than a fresh head::

    opt = optim.SGD([{"params": backbone.parameters(), "lr": 1e-4},
                     {"params": head.parameters()}], lr=1e-2, momentum=0.9)

``step()`` updates every parameter whose ``.grad`` is not ``None`` *in place* on its backend
array (parameters with ``.grad is None`` are skipped, as in PyTorch: they got no gradient).
Per-parameter state (momentum buffers, moment estimates) lives in ``self.state[p]`` and is
saved by ``state_dict()`` keyed by the parameter's *position* across groups (0, 1, 2, ...),
never by ``id()``, so a run can be resumed in a fresh process.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

from .. import autograd, backend
from ..tensor import Tensor


class _RequiredParameter:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _check_nonneg(name: str, value: Any) -> None:
    """``value`` is a real number >= 0; written ``not 0 <= value`` (PyTorch's form) so NaN fails too."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not 0.0 <= float(value):
        raise ValueError(f"invalid {name}: {value} (expected {name} >= 0)")


def _check_betas(betas: Any) -> None:
    try:
        pair_ok = len(betas) == 2 and not isinstance(betas, (str, bytes))
    except TypeError:
        pair_ok = False
    if not pair_ok:
        raise ValueError(f"betas must be a pair (beta1, beta2) such as (0.9, 0.999), got {betas!r}")
    for i, b in enumerate(betas):
        if isinstance(b, bool) or not isinstance(b, numbers.Real):
            raise TypeError(f"beta parameter at index {i} must be a number, got {type(b).__name__}")
        if not 0.0 <= float(b) < 1.0:
            raise ValueError(f"invalid beta parameter at index {i}: {b} (expected 0 <= beta < 1)")


class Optimizer:
    """Base class: param groups, ``zero_grad``, ``state_dict``/``load_state_dict``.

    Subclasses implement ``_update(x, g, state, group)`` for one parameter: ``x`` is the
    parameter's array (``p.data``, to be changed in place: ``x -= lr * g``), ``g`` its
    gradient array, ``state`` the parameter's own dict (``self.state[p]``, e.g. a momentum
    buffer) and ``group`` its param group (``lr`` and the other settings). ``step`` loops over
    groups and parameters, skips ``p.grad is None``, and bumps the parameter's version counter
    (the update is an in-place change).
    """

    _state_names: frozenset = frozenset()  # what a subclass keeps in self.state[p] (checked on load)
    # hyperparameters minidl added later: a state dict saved before them loads with these values
    _filled_on_load: dict = {"maximize": False}

    def __init__(self, params: Iterable[Any], defaults: dict) -> None:
        self.defaults = dict(defaults)
        self.state: dict = {}
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of Tensors or of dicts, got a single Tensor; wrap it in a list")
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list (expected at least one Tensor)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    # ------------------------------------------------------------------ groups
    def _validate_group(self, group: dict) -> None:
        """Subclasses check their hyperparameters here (raise ValueError)."""
        _check_nonneg("learning rate", group["lr"])
        for flag in ("maximize", "decoupled_weight_decay"):
            if flag in group and not isinstance(group[flag], bool):
                raise TypeError(f"{flag} must be True or False, got {group[flag]!r}")

    def add_param_group(self, param_group: dict) -> None:
        """Add a dict ``{"params": [...], <hyperparameters>}``; missing keys come from defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError("param group has no 'params' key")
        params = [params] if isinstance(params, Tensor) else list(params)
        if len(params) == 0:
            raise ValueError("optimizer got an empty parameter list in a param group")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
            if not backend.is_float_dtype(p.dtype):
                raise TypeError(f"optimizer can only optimize floating-point tensors, got dtype {p.dtype}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (it is the result of an op); "
                                 "optimize the leaf it was computed from, or .detach().requires_grad_()")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError("a parameter appears twice in the same param group")
        if seen.intersection(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        group["params"] = params
        for k, v in self.defaults.items():
            if v is required and k not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {k}")
            group.setdefault(k, v)
        for k in ("lr",):
            group[k] = float(group[k])
        self._validate_group(group)
        self.param_groups.append(group)

    def _all_params(self) -> list:
        return [p for g in self.param_groups for p in g["params"]]

    # ------------------------------------------------------------------ steps
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None`` (default) or fill them with zeros in place."""
        autograd.clear_grads(self._all_params(), set_to_none)

    def step(self, closure: Any = None) -> Any:
        """Update every parameter with a gradient (``p.grad is None`` is skipped); return closure()."""
        loss = None
        if closure is not None:
            with autograd.enable_grad():
                loss = closure()
        states = self.state
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                x = p.data
                if g.shape != x.shape:
                    raise RuntimeError(f"gradient shape {g.shape} does not match parameter shape {x.shape}")
                state = states.get(p)
                if state is None:
                    state = states[p] = {}
                elif state:
                    _follow_device(state, x)
                self._update(x, g, state, group)
                p._version.value += 1
        return loss

    def _update(self, x: Any, g: Any, state: dict, group: dict) -> None:  # pragma: no cover
        raise NotImplementedError

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """``{"state": {index: {name: array or number}}, "param_groups": [{..., "params": [index...]}]}``.

        Parameters are numbered by position across all groups in order; arrays are copies.
        """
        index: dict[int, int] = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for p in self._all_params():
            if p in self.state and self.state[p]:
                state[index[id(p)]] = {k: (v.copy() if backend.is_backend_array(v) else v)
                                       for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and state saved by ``state_dict`` (same group sizes required).

        Everything is checked before anything changes, so a refused state dict leaves the
        optimizer as it was: the structure (``state`` and ``param_groups``), that each saved
        group has this optimizer's hyperparameters (an SGD state does not load into Adam)
        with valid values (``lr >= 0``, ``0 <= beta < 1``, ... NaN refused), and each
        parameter's state names, shapes and dtypes.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict):
            raise TypeError(f"{name}.load_state_dict: expected a dict (from optimizer.state_dict()), "
                            f"got {type(state_dict).__name__}")
        missing = [k for k in ("state", "param_groups") if k not in state_dict]
        if missing:
            raise ValueError(f"{name}.load_state_dict: the state dict has no {' or '.join(map(repr, missing))} "
                             f"entry (keys: {sorted(map(str, state_dict))}); expected optimizer.state_dict()")
        groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) for g in groups):
            raise ValueError(f"{name}.load_state_dict: 'param_groups' must be a list of dicts")
        if not isinstance(saved_state, dict):
            raise ValueError(f"{name}.load_state_dict: 'state' must be a dict, got {type(saved_state).__name__}")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(groups)} parameter groups, "
                             f"but the optimizer has {len(self.param_groups)}")
        id_map: dict = {}
        new_groups = []
        for i, (mine, saved) in enumerate(zip(self.param_groups, groups)):
            indices = saved.get("params")
            if not isinstance(indices, (list, tuple)) or not all(_is_int(k) for k in indices):
                raise ValueError(f"{name}.load_state_dict: param_groups[{i}]['params'] must be a list of "
                                 f"parameter indices, got {indices!r:.80}")
            if len(mine["params"]) != len(indices):
                raise ValueError(f"loaded state dict contains a parameter group {i} with {len(indices)} "
                                 f"parameters, but the optimizer's group {i} has {len(mine['params'])}")
            for p, k in zip(mine["params"], indices):
                if int(k) in id_map:
                    raise ValueError(f"{name}.load_state_dict: parameter index {int(k)} appears twice")
                id_map[int(k)] = p
            new_groups.append(self._loaded_group(i, saved, mine["params"]))
        state = {}
        for k, one in saved_state.items():
            if not _is_int(k) or int(k) not in id_map:
                raise ValueError(f"{name}.load_state_dict: 'state' has an entry for parameter {k!r}, "
                                 f"but the param groups number the parameters {sorted(id_map)}")
            state[id_map[int(k)]] = self._loaded_state(id_map[int(k)], int(k), one)
        self.param_groups = new_groups
        self.state = state

    def _loaded_group(self, i: int, saved: dict, params: list) -> dict:
        """Saved group ``i`` with this optimizer's hyperparameters, type-checked and validated."""
        name = type(self).__name__
        saved = {**{k: v for k, v in self._filled_on_load.items() if k in self.defaults}, **saved}
        missing = sorted(k for k in self.defaults if k not in saved)
        if missing:
            raise ValueError(f"{name}.load_state_dict: param_groups[{i}] has no {', '.join(map(repr, missing))}: "
                             f"the state dict was saved by another kind of optimizer (its hyperparameters are "
                             f"{sorted(k for k in saved if k != 'params')})")
        g = {k: (tuple(v) if isinstance(v, list) else v) for k, v in saved.items() if k != "params"}
        for k, default in self.defaults.items():
            v = g[k]
            if isinstance(default, bool) and not isinstance(v, bool):
                raise ValueError(f"{name}.load_state_dict: param_groups[{i}][{k!r}] must be a bool, got {v!r:.80}")
        g["params"] = params
        try:
            self._validate_group(g)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}.load_state_dict: param_groups[{i}] is invalid: {exc}") from None
        return g

    def _loaded_state(self, p: Any, index: int, saved: Any) -> dict:
        """One parameter's saved state on ``p``'s device: arrays in ``p``'s float dtype (and
        shape: a per-element buffer of another shape is an error), ``step`` as an int."""
        where = f"loaded optimizer state for parameter {index}"
        if not isinstance(saved, dict):
            raise ValueError(f"{where} must be a dict, got {type(saved).__name__}")
        unknown = sorted(str(k) for k in saved if k not in self._state_names)
        if self._state_names and unknown:
            raise ValueError(f"{where} has {unknown}, which {type(self).__name__} does not keep (it keeps "
                             f"{sorted(self._state_names)}): was it saved by another kind of optimizer?")
        xp = backend.array_module(p.data)
        new = {}
        for name, v in saved.items():
            if name == "step":
                step: Any = v.item() if hasattr(v, "shape") and v.shape == () else v
                if isinstance(step, bool) or not isinstance(step, numbers.Real) or not 0 <= float(step) < math.inf \
                        or float(step) != int(float(step)):
                    raise ValueError(f"{where} has step {v!r:.80}; expected an int >= 0")
                new[name] = int(float(step))
                continue
            if not (backend.is_backend_array(v) or hasattr(v, "shape")):
                new[name] = v
                continue
            # saved on another device (a GPU checkpoint loaded on the CPU, or back): move it to p's
            arr = backend.to_device(v, p.device) if backend.is_backend_array(v) else xp.asarray(backend.to_numpy(v))
            if tuple(arr.shape) != tuple(p.shape):
                raise ValueError(f"{where} has {name!r} of shape "
                                 f"{tuple(arr.shape)}, but that parameter has shape {tuple(p.shape)} "
                                 "(was the state dict saved for another model?)")
            if not backend.is_float_dtype(arr.dtype):
                raise ValueError(f"{where} has {name!r} of dtype {arr.dtype}; expected a floating-point array")
            new[name] = xp.array(arr, dtype=p.dtype)
        return new

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)


def _follow_device(state: dict, x: Any) -> None:
    """Move a parameter's state buffers to the parameter's device when it moved
    (``model.to("cuda")`` after some steps on the CPU): the state follows its parameter."""
    for name, v in state.items():
        if type(v) is not type(x) and backend.is_backend_array(v):
            state[name] = backend.to_device(v, backend.device_of(x))


def _is_int(k: Any) -> bool:
    return isinstance(k, numbers.Integral) and not isinstance(k, bool)
