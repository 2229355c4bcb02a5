"""``Module`` and ``Parameter``: how layers hold their weights (PyTorch's conventions).

A ``Parameter`` is a tensor that a module *owns* and an optimizer updates: assigning one as
an attribute (``self.weight = Parameter(...)``) registers it, and ``model.parameters()``
finds it, with a dotted name (``"0.weight"``, ``"encoder.fc1.bias"``) in
``named_parameters()``. Sub-modules assigned as attributes are registered the same way, so
a model is a tree of modules whose leaves hold the parameters.

*Buffers* (``register_buffer``) are tensors that belong to the state of a module but are not
trained, e.g. BatchNorm's running mean and variance: they move with ``to(device)`` and are
saved in ``state_dict()``, but ``parameters()`` does not list them.

``model.train()`` / ``model.eval()`` set the ``training`` flag of every module in the tree;
layers whose behaviour differs between the two (Dropout, BatchNorm) read it.

A plain Python list or dict of modules is *not* registered (PyTorch silently ignores it and
the optimizer then never sees those weights): minidl raises a ``TypeError`` telling you to
use ``nn.ModuleList`` / ``nn.ModuleDict`` instead.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from .. import autograd, backend
from ..autograd import RemovableHandle
from ..tensor import Tensor, _to_array


class Parameter(Tensor):
    """A tensor that is a learnable weight of a module (``requires_grad=True`` by default).

    ``Parameter(t)`` shares ``t``'s array (as ``torch.nn.Parameter`` does); Python data and
    arrays are converted as ``md.tensor`` converts them.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = backend.default_module().zeros((0,), dtype=backend.float32)
        super().__init__(_to_array(data), requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` returns (PyTorch's named tuple)."""

    missing_keys: list
    unexpected_keys: list


def _is_module_collection(value: Any) -> bool:
    """A plain list/tuple/dict holding modules or parameters (which would not be registered)."""
    if isinstance(value, (list, tuple)):
        items: Iterable = value
    elif isinstance(value, dict):
        items = value.values()
    else:
        return False
    return any(isinstance(v, (Module, Parameter)) for v in items)


class Module:
    """Base class of every layer and model.

    Subclasses call ``super().__init__()`` first, assign parameters and sub-modules as
    attributes, and define ``forward``. Calling the module (``model(x)``) runs ``forward``
    and then the forward hooks.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    # ------------------------------------------------------------------ registration

    def _check_init(self) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() in __init__ before assigning "
                "parameters, buffers or sub-modules"
            )

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if isinstance(value, Parameter):
            self._check_init()
            self._discard(name)
            d["_parameters"][name] = d[name] = value  # registry + mirror (see register_parameter)
        elif isinstance(value, Module):
            self._check_init()
            self._discard(name)
            d["_modules"][name] = value
        elif "_parameters" in d and name in d["_parameters"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to parameter {name!r} of {type(self).__name__}: "
                    "expected an nn.Parameter or None"
                )
            d["_parameters"][name] = d[name] = None
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to sub-module {name!r}: expected a Module or None"
                )
            d["_modules"][name] = None
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} to buffer {name!r}: expected a Tensor or None")
            d["_buffers"][name] = value
        else:
            if _is_module_collection(value):
                raise TypeError(
                    f"{type(self).__name__}.{name}: a plain {type(value).__name__} of modules/parameters is not "
                    "registered (its weights would be invisible to parameters(), the optimizer and state_dict); "
                    "use nn.ModuleList / nn.ModuleDict (or nn.Sequential)"
                )
            object.__setattr__(self, name, value)

    def _discard(self, name: str) -> None:
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            d[key].pop(name, None)
        d["_non_persistent"].discard(name)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: look in the registries
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            reg = d.get(key)
            if reg is not None and name in reg:
                return reg[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if name in d.get(key, ()):
                del d[key][name]
                d.pop(name, None)  # a parameter's mirror
                d["_non_persistent"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list:
        extra = [*self._parameters, *self._buffers, *self._modules]
        return sorted(set(super().__dir__()) | set(extra))

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or ``None``: a declared but absent parameter, e.g. no bias)."""
        self._check_init()
        _check_name(name, self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter({name!r}): expected an nn.Parameter or None, got {type(param).__name__}"
            )
        self._discard(name)
        # ``_parameters`` is the registry (what parameters(), state_dict and the optimizers
        # see); the instance dict holds a mirror so that ``self.weight`` is a plain attribute
        # read, not a failed lookup and a ``__getattr__`` call (1.6 us, twice per Linear call).
        # Every method here that changes the registry changes the mirror with it.
        self._parameters[name] = self.__dict__[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a non-trained tensor of the module's state (saved in ``state_dict`` when
        ``persistent``; always moved by ``to``)."""
        self._check_init()
        _check_name(name, self)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer({name!r}): expected a Tensor or None, got {type(tensor).__name__}")
        if isinstance(tensor, Parameter):
            raise TypeError(f"register_buffer({name!r}): got a Parameter; use register_parameter for trained weights")
        self._discard(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Register ``module`` as the child ``name`` (same as assigning the attribute)."""
        self._check_init()
        _check_name(name, self)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}): expected a Module or None, got {type(module).__name__}")
        self._discard(name)
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------------ traversal

    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, "Module"]]:
        """``(dotted name, module)`` for this module (name ``""``) and all its descendants,
        each module once (the first name found) unless ``remove_duplicate=False``."""
        if memo is None:
            memo = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:  # iterative pre-order walk (deep nets never hit the recursion limit)
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in memo:
                    continue
                memo.add(id(module))
            yield name, module
            children = [(name + ("." if name else "") + k, m) for k, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        seen: set = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def get_submodule(self, target: str) -> "Module":
        """The module at the dotted path ``target``, as ``named_modules`` names it
        (``model.get_submodule("features.0")``; ``""`` is this module)."""
        module: Module = self
        for name in target.split(".") if target else []:
            child = module._modules.get(name)
            if child is None:
                raise AttributeError(f"get_submodule({target!r}): {type(module).__name__} has no submodule "
                                     f"{name!r}; its submodules are {list(module._modules)}")
            module = child
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (``"features.0.weight"``)."""
        return self._get_member(target, "_parameters", "get_parameter", "parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target`` (``"norm.running_mean"``)."""
        return self._get_member(target, "_buffers", "get_buffer", "buffer")

    def _get_member(self, target: str, registry: str, op: str, what: str) -> Any:
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        member = getattr(module, registry).get(name)
        if member is None:
            raise AttributeError(f"{op}({target!r}): {type(module).__name__} has no {what} {name!r}; its "
                                 f"{what}s are {[k for k, v in getattr(module, registry).items() if v is not None]}")
        return member

    def _named_members(self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool = True
                       ) -> Iterator[tuple[str, Any]]:
        seen: set = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for k, v in getattr(module, registry).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield mod_name + ("." if mod_name else "") + k, v

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs; a parameter shared by two layers comes once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter of the tree, each once (what you give an optimizer); the same
        order as ``named_parameters`` (a name-free fast path: it runs every training step)."""
        if not recurse:
            yield from (p for p in self._parameters.values() if p is not None)
            return
        seen_modules: set = set()
        seen: set = set()
        stack: list = [self]
        while stack:
            module = stack.pop()
            if id(module) in seen_modules:
                continue
            seen_modules.add(id(module))
            for p in module._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield p
            children = [m for m in module._modules.values() if m is not None]
            stack.extend(reversed(children))

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of scalar weights (each shared parameter counted once)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # ------------------------------------------------------------------ modes and grads

    def train(self, mode: bool = True) -> "Module":
        """Set the ``training`` flag of this module and every descendant; returns ``self``."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode): mode must be a bool, got {type(mode).__name__}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        """``train(False)``: Dropout stops dropping, BatchNorm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Freeze (``False``) or unfreeze every parameter; returns ``self``."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``grad = None`` (default, like PyTorch 2) or fill them with
        zeros in place (``set_to_none=False``), exactly as ``Optimizer.zero_grad`` does."""
        autograd.clear_grads(self.parameters(), set_to_none)

    # ------------------------------------------------------------------ devices and dtypes

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn(m)`` on every module (children first, as PyTorch does); returns ``self``."""
        for m in reversed(list(self.modules())):
            fn(m)
        return self

    def to(self, target: Any) -> "Module":
        """Move every parameter and buffer to a device (``"cpu"``, ``"cuda"``) or cast the
        floating-point ones to a dtype, *in place*: the Parameter objects stay the same, so an
        optimizer created before ``to`` still updates them. Gradients move with them."""
        device = dtype = None
        if isinstance(target, str) and target.strip().lower().split(":")[0] in ("cpu", "cuda", "gpu"):
            device = backend.normalize_device(target)
        else:
            try:
                dtype = backend.as_dtype(target)
            except (TypeError, ValueError):
                raise TypeError(f"Module.to: expected a device ('cpu', 'cuda' or 'cuda:N') or a floating-point "
                                f"dtype, got {target!r}") from None
            if not backend.is_float_dtype(dtype):
                raise TypeError(f"Module.to: can only cast to a floating-point dtype, got {dtype}")

        def convert(a: Any) -> Any:
            if device is not None:
                return backend.to_device(a, device)
            return a.astype(dtype) if backend.is_float_dtype(a.dtype) else a

        for t in [*self.parameters(), *self.buffers()]:
            new = convert(t.data)
            if new is not t.data:
                t.data = new
                t._version.value += 1
            if t.grad is not None:
                t.grad = convert(t.grad)
        return self

    def cpu(self) -> "Module":
        return self.to("cpu")

    def cuda(self) -> "Module":
        return self.to("cuda")

    def float(self) -> "Module":
        return self.to(backend.float32)

    def double(self) -> "Module":
        return self.to(backend.float64)

    # ------------------------------------------------------------------ calling

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, out)
                if result is not None:
                    out = result
        return out

    def register_forward_hook(self, hook: Callable[["Module", tuple, Any], Any]) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward (e.g. to record a
        layer's activations for a histogram); a non-None return value replaces the output.
        Returns a handle; ``handle.remove()`` unregisters the hook."""
        if not callable(hook):
            raise TypeError(f"register_forward_hook: expected a callable, got {type(hook).__name__}")
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook: Callable[["Module", tuple], Any]) -> RemovableHandle:
        """Call ``hook(module, inputs)`` before every forward; a non-None return replaces the inputs."""
        if not callable(hook):
            raise TypeError(f"register_forward_pre_hook: expected a callable, got {type(hook).__name__}")
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------ state

    def state_dict(self, prefix: str = "") -> "OrderedDict[str, Any]":
        """Dotted name -> array *copy* (detached) for every parameter and persistent buffer.

        Order: a module's own parameters, then its buffers, then its children's (PyTorch's
        order). A shared parameter appears under every name it has, as in PyTorch.
        """
        return OrderedDict((name, t.data.copy()) for name, t in self._state_tensors(prefix).items())

    def _state_tensors(self, prefix: str = "") -> "OrderedDict[str, Tensor]":
        """Dotted name -> the parameter or persistent buffer itself: the one walk of the
        module tree behind ``state_dict`` and ``load_state_dict`` (a shared module is visited
        under each of its names)."""
        out: OrderedDict[str, Tensor] = OrderedDict()
        for mod_name, module in self.named_modules(prefix=prefix, remove_duplicate=False):
            base = mod_name + ("." if mod_name else "")
            for k, p in module._parameters.items():
                if p is not None:
                    out.setdefault(base + k, p)
            for k, b in module._buffers.items():
                if b is not None and k not in module._non_persistent:
                    out.setdefault(base + k, b)
        return out

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from ``state_dict`` into the parameters and buffers, in place.

        Values may be NumPy/CuPy arrays, tensors or nested lists; each is converted to the
        parameter's dtype and moved to its device. ``strict=True`` (default) raises a
        ``ValueError`` listing *all* missing and unexpected keys; a shape mismatch always
        raises, naming the key and both shapes. Nothing is changed when an error is raised.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict: expected a dict of name -> array, got {type(state_dict).__name__}")
        own = self._state_tensors()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys: {missing}")
            if unexpected:
                parts.append(f"unexpected keys: {unexpected}")
            raise ValueError(f"load_state_dict for {type(self).__name__}: " + "; ".join(parts))
        converted = []
        for key, t in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value.data if isinstance(value, Tensor) else value
            if not backend.is_backend_array(array):
                try:
                    array = backend.np.asarray(array)
                except (TypeError, ValueError) as exc:
                    raise TypeError(
                        f"load_state_dict: value of {key!r} is not array-like ({type(value).__name__})"
                    ) from exc
            if array.dtype.kind not in "biuf":
                raise TypeError(f"load_state_dict: value of {key!r} has dtype {array.dtype}; expected numbers")
            if tuple(array.shape) != tuple(t.shape):
                raise ValueError(
                    f"load_state_dict: size mismatch for {key!r}: the checkpoint has shape {tuple(array.shape)}, "
                    f"the model's {key} has shape {tuple(t.shape)}"
                )
            array = backend.to_device(array, t.device)
            converted.append((t, array))
        with autograd.no_grad():
            for t, array in converted:
                xp = backend.array_module(t.data)
                xp.copyto(t.data, array, casting="unsafe")  # converts to the parameter's dtype
                t._version.value += 1
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's line (its options)."""
        return ""

    def _own_count(self) -> int:
        return sum(p.numel() for p in self._parameters.values() if p is not None)

    def __repr__(self) -> str:
        """The module tree, PyTorch style, with each parameterized leaf's parameter shapes and
        count, and the total count on the first line::

            Sequential(  # 8,906 parameters
              (0): Linear(in_features=4, out_features=2, bias=True)  [weight (2, 4), bias (2,): 10 params]
              (1): ReLU()
            )
        """
        return self._repr(top=True)

    def _repr(self, top: bool = False) -> str:
        extra = self.extra_repr()
        own = [(k, p) for k, p in self._parameters.items() if p is not None]
        note = ""
        if own:
            shapes = ", ".join(f"{k} {tuple(p.shape)}" for k, p in own)
            note = f"  [{shapes}: {self._own_count():,} params]"
        children = [(k, m) for k, m in self._modules.items() if m is not None]
        if not children:
            return f"{type(self).__name__}({extra}){note}"
        head = f"{type(self).__name__}("
        if top:
            head += f"  # {self.num_parameters():,} parameters"
        lines = [head]
        if extra:
            lines.append("  " + extra)
        if own:
            lines.append("  " + note.strip())
        for k, m in children:
            body = m._repr().replace("\n", "\n  ")
            lines.append(f"  ({k}): {body}")
        lines.append(")")
        return "\n".join(lines)


def _check_name(name: Any, module: Module) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{type(module).__name__}: names must be strings, got {type(name).__name__}")
    if not name or "." in name:
        raise KeyError(f"{type(module).__name__}: invalid name {name!r} (must be non-empty and contain no '.')")
    if name in module.__dict__ and name not in ("training",) and name not in module.__dict__["_parameters"]:
        raise KeyError(f"{type(module).__name__}: attribute {name!r} already exists")


# ---------------------------------------------------------------------- containers


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(Linear(784, 256), ReLU(), ...)``.

    Also accepts an ``OrderedDict`` of name -> module. Supports ``model[i]``, slices (a new
    Sequential sharing the modules), ``len``, iteration and ``append``.
    """

    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                if not isinstance(m, Module):
                    raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, expected a Module")
                self.add_module(str(i), m)

    def _index(self, idx: int) -> int:
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for {type(self).__name__} of length {n}")
        return idx % n

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[self._index(idx)]
        setattr(self, key, module)

    def __delitem__(self, idx: Any) -> None:
        keys = list(self._modules)
        targets = keys[idx] if isinstance(idx, slice) else [keys[self._index(idx)]]
        for k in targets:
            del self._modules[k]
        if all(k.isdigit() for k in keys):  # keep numbering 0..n-1 (PyTorch does the same)
            _renumber(self._modules, list(self._modules.values()))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> "Sequential":
        self.add_module(str(len(self)), module)
        return self

    def forward(self, input: Any) -> Any:
        for m in self._modules.values():
            input = m(input)
        return input


def _renumber(store: dict, modules: list) -> None:
    """Refill ``store`` with ``modules`` under the keys "0", "1", ... (indices stay contiguous
    after a deletion)."""
    store.clear()
    for i, m in enumerate(modules):
        store[str(i)] = m


class ModuleList(Module):
    """A list of modules that *is* registered (plain Python lists are not): use it for a
    variable number of layers. Indexing, ``len``, iteration, ``append``, ``extend``, ``insert``."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, idx: int) -> int:
        n = len(self._modules)
        if not isinstance(idx, int) or not -n <= idx < n:
            raise IndexError(f"index {idx!r} is out of range for ModuleList of length {n}")
        return idx % n

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[str(self._index(idx))]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(str(self._index(idx)), module)

    def __delitem__(self, idx: Any) -> None:
        items = list(self._modules.values())
        del items[idx if isinstance(idx, slice) else self._index(idx)]
        _renumber(self._modules, items)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> "ModuleList":
        return self.extend(modules)

    def append(self, module: Module) -> "ModuleList":
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.append: expected a Module, got {type(module).__name__}")
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for m in items:
            self.append(m)

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward: iterate over it in your module's forward")


class ModuleDict(Module):
    """A dict of name -> module that is registered; keys keep their insertion order."""

    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no key {key!r}; keys are {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict[{key!r}]: expected a Module, got {type(module).__name__}")
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def keys(self) -> Any:
        return self._modules.keys()

    def values(self) -> Any:
        return self._modules.values()

    def items(self) -> Any:
        return self._modules.items()

    def pop(self, key: str) -> Module:
        m = self[key]
        del self._modules[key]
        return m

    def update(self, modules: Any) -> None:
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self[k] = m

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward: look modules up in your module's forward")
