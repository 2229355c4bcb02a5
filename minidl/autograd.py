"""Autograd machinery: ``Function`` (one op's forward + backward), grad mode, anomaly mode,
and the backward engine.

How a graph is built (define-by-run)
------------------------------------
Calling an op, e.g. ``y = x * w``, runs ``Mul.apply(x, w)``:

1. ``Mul().forward(x.data, w.data)`` computes the output *array* and saves, on the
   ``Function`` object, only what backward will need (here both inputs).
2. If grad mode is on and some input requires grad, the output tensor remembers the
   ``Function`` as its ``creator`` and the ``Function`` remembers its input tensors.

The graph is therefore a DAG of ``Function`` nodes pointing *backwards* to their inputs.
Nothing points forward, so there are no reference cycles: dropping the loss frees the graph
at once (no garbage collector needed).

How backward runs
-----------------
``loss.backward()`` first counts, for every ``Function`` reachable from ``loss``, how many
consumers use its output (one iterative walk: no recursion, so a 10,000-op chain is fine).
Then it visits the nodes from the loss back to the leaves; a node runs once all of its
consumers have run (Kahn's topological order), so it receives the *sum* of their gradients
(a tensor used twice gets both contributions), calls its ``backward`` to get one gradient
per input, and passes them on. Leaves add their gradient
to ``.grad``. Intermediate gradients are dropped as soon as they are used, and, unless
``retain_graph=True``, each node releases what it saved so the memory is freed.

Autograd works on arrays and never imports ``minidl.tensor``: ``Function.apply`` builds
its output with ``Tensor._make``, reached through its first input (every op has at least
one tensor input).

Grad mode and anomaly mode are *per thread*, as in PyTorch: ``with md.no_grad():`` in one
thread (say an evaluation loop) leaves recording on in every other thread.

Saved tensors are protected by *version counters*: every in-place change of a tensor bumps
its counter; a node remembers the versions of the tensors whose arrays it saved and refuses
to run backward if one has changed, because its gradient would silently be wrong.
"""

from __future__ import annotations

import contextlib
import os
import threading
import traceback
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from . import backend

if TYPE_CHECKING:
    from .tensor import Tensor


# --------------------------------------------------------------------------- grad mode


class _Modes(threading.local):
    """Autograd's only switches, grad mode and anomaly mode, one pair per thread: each new
    thread starts with grad mode on and anomaly mode off (the class defaults), as in PyTorch."""

    grad_enabled = True
    anomaly = False


_modes = _Modes()


def is_grad_enabled() -> bool:
    """True unless inside ``md.no_grad()`` (in this thread: grad mode is per thread)."""
    return _modes.grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that sets grad mode, restoring the old one on exit.

    It changes the mode of the thread that enters it only, as PyTorch's do.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_modes.grad_enabled)
        _modes.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        _modes.grad_enabled = self._previous.pop()


def no_grad(func: Any = None) -> Any:
    """Turn graph recording off: ``with md.no_grad(): ...``, ``@md.no_grad()`` or
    ``@md.no_grad`` (a function given directly is decorated, as in PyTorch).

    Inside it ops compute values only; outputs have ``requires_grad=False``. Use it for
    evaluation and for updating parameters in place. Per thread: other threads keep
    recording.
    """
    mode = _GradMode(False)
    return mode if func is None else mode(func)


def enable_grad(func: Any = None) -> Any:
    """Turn graph recording back on inside a ``no_grad`` block (in this thread); also
    ``@md.enable_grad()`` or ``@md.enable_grad`` on a function."""
    mode = _GradMode(True)
    return mode if func is None else mode(func)


class set_grad_enabled(contextlib.ContextDecorator):
    """Set grad mode in this thread, PyTorch's three ways:

    - a plain call, ``md.set_grad_enabled(False)``, sets it at once (until set again);
    - ``with md.set_grad_enabled(is_training): ...`` sets it for the block and then puts back
      the mode there was when it was called;
    - ``@md.set_grad_enabled(False)`` on a function sets it while the function runs (the
      decorating itself changes nothing).
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled: mode must be True or False, got {mode!r}")
        self.mode, self.previous = mode, _modes.grad_enabled
        _modes.grad_enabled = mode

    def __call__(self, func: Any) -> Any:
        _modes.grad_enabled = self.previous  # used as a decorator: undo the call's effect
        return super().__call__(func)

    def __enter__(self) -> None:
        _modes.grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _modes.grad_enabled = self.previous


class _Unchanged(contextlib.ContextDecorator):
    """A context manager and decorator that changes nothing (``inference_mode(False)``)."""

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        pass


def inference_mode(mode: Any = True) -> Any:
    """``with md.inference_mode(): ...``, ``@md.inference_mode()`` or ``@md.inference_mode``:
    PyTorch's mode for pure evaluation. minidl has no separate inference tensors, so it is
    ``no_grad()``; ``inference_mode(False)`` leaves grad mode as it is."""
    if callable(mode):  # @md.inference_mode, without parentheses
        return _GradMode(False)(mode)
    return _GradMode(False) if mode else _Unchanged()


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Check every op's forward output and every backward gradient for NaN/Inf.

    The first op that produces one raises ``FloatingPointError`` naming the op, the input
    shapes, and the line of *your* code that called it. Slow: use it to debug, not to train.
    Per thread, as grad mode: only ops run by the thread inside the block are checked.
    """
    previous = _modes.anomaly
    _modes.anomaly = True
    try:
        yield
    finally:
        _modes.anomaly = previous


#: minidl's own package directory: frames of files inside it are minidl's, not the user's.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _is_minidl_file(filename: str) -> bool:
    """True for a source file of this minidl package (not merely a path containing 'minidl':
    a clone of the repository is itself a folder named minidl)."""
    path = os.path.abspath(filename)
    return path == _PACKAGE_DIR or path.startswith(_PACKAGE_DIR + os.sep)


def _user_frame(stack: list[traceback.FrameSummary]) -> str:
    """The innermost frame outside minidl's own package: where the user called the op."""
    for frame in reversed(stack):
        if not _is_minidl_file(frame.filename):
            return f"{frame.filename}:{frame.lineno} ({frame.line})"
    return "<unknown>"


def _check_finite(fn: "Function", array: Any, what: str) -> None:
    xp = backend.array_module(array)
    if not bool(xp.isfinite(array).all()):
        kind = "NaN" if bool(xp.isnan(array).any()) else "Inf"
        where = f"; the op was called at {fn._trace}" if fn._trace else ""
        raise FloatingPointError(
            f"detect_anomaly: {fn.name} produced {kind} in its {what} "
            f"(input shapes {fn._input_shapes()}){where}"
        )


# --------------------------------------------------------------------------- Function


_numpy_scalar = backend.np.generic
_ndarray = backend.np.ndarray


class VersionCounter:
    """Counts in-place changes of a tensor's array; views share their base's counter."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


class Function:
    """One differentiable operation: ``forward`` on arrays, ``backward`` on arrays.

    Subclasses write:

    * ``forward(self, *arrays, **options) -> array`` computing the output and storing what
      backward needs with ``self.save(...)`` (and plain attributes for shapes or options);
    * ``backward(self, grad) -> tuple`` returning one gradient array per input, each of the
      input's shape (``None`` for an input that needs no gradient).

    ``self.needs_input_grad[i]`` says whether input ``i`` wants a gradient, so backward can
    skip work. Backward must never modify ``grad`` in place: it may be shared.
    """

    __slots__ = ("inputs", "saved", "needs_input_grad", "_versions", "_out_version", "_retained", "_hooks",
                 "_trace", "__weakref__")

    # set by ``apply`` (declared here for readers and type checkers; stored in the slots above)
    inputs: "tuple[Tensor, ...] | None"
    saved: tuple
    needs_input_grad: tuple[bool, ...]
    _versions: tuple
    _out_version: Any
    _retained: Any
    _hooks: Any  # the output tensor's gradient hooks (Tensor.register_hook), or None
    _trace: str | None

    #: True for ops whose output is a view of their (first) input's memory (reshape,
    #: transpose, basic indexing ...): the output shares the input's version counter.
    returns_view = False

    def save(self, *arrays: Any) -> None:
        """Keep ``arrays`` for backward (they are watched for in-place changes)."""
        self.saved = arrays

    def forward(self, *arrays: Any, **options: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad: Any) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def name(self) -> str:
        return type(self).__name__

    def _input_shapes(self) -> str:
        if self.inputs is None:
            return "(released)"
        return ", ".join(str(t.shape) for t in self.inputs)

    @classmethod
    def apply(cls, *inputs: "Tensor", **options: Any) -> "Tensor":
        """Run the op on tensors and, in grad mode, record it in the graph."""
        fn = cls()
        fn.saved = ()
        out_data = fn.forward(*[t.data for t in inputs], **options)
        if type(out_data) is not _ndarray and isinstance(out_data, _numpy_scalar):
            out_data = backend.np.asarray(out_data)  # NumPy turns 0-d results into scalars
        needs = [t.requires_grad for t in inputs]
        record = _modes.grad_enabled and True in needs
        out = inputs[0]._make(out_data, record, fn if record else None)  # Tensor builds the output
        if cls.returns_view:
            out._vc = inputs[0]._version  # a view shares its base's counter
        if record:
            fn.inputs = inputs
            fn.needs_input_grad = tuple(needs)
            fn._retained = fn._hooks = None
            if fn.saved:
                _watch(fn, inputs, out)
            else:
                fn._versions, fn._out_version = (), None
            fn._trace = None
        if _modes.anomaly:
            fn.inputs = inputs
            fn._trace = _user_frame(traceback.extract_stack(limit=16))
            if backend.is_float_dtype(out_data.dtype):
                _check_finite(fn, out_data, "forward output")
            if not record:
                fn.inputs = None
        return out


def _watch(fn: Function, inputs: tuple, out: "Tensor") -> None:
    """Remember the version of every tensor whose array ``fn.saved`` holds.

    ``fn._versions[i]`` is input ``i``'s version (None when its array is not saved; 0 when
    it has no counter yet, see ``Tensor._version``): the input itself stays reachable
    through ``fn.inputs``. A tuple of plain numbers, which the garbage collector stops
    tracking, so deep graphs give it less to scan. For a saved *output* the node keeps the
    output's counter instead of the output, which would be a reference cycle. Saved arrays
    are recognised by identity (``id``), never by value.
    """
    saved_ids = list(map(id, fn.saved))
    versions: list[int | None] = []
    for t in inputs:
        if id(t.data) not in saved_ids:
            versions.append(None)
        else:
            versions.append(0 if t._vc is None else t._vc.value)
    fn._versions = tuple(versions)
    if id(out.data) in saved_ids:
        counter = out._version
        fn._out_version = (counter, counter.value)
    else:
        fn._out_version = None


def _check_versions(fn: Function) -> None:
    """Raise if a tensor saved by ``fn`` was changed in place since ``fn`` ran."""
    for t, version in zip(fn.inputs or (), fn._versions):
        if version is not None and t._vc is not None and t._vc.value != version:
            raise _modified_error(fn, version, t._vc.value)
    if fn._out_version is not None:
        counter, version = fn._out_version
        if counter.value != version:
            raise _modified_error(fn, version, counter.value)


def _modified_error(fn: Function, old: int, new: int) -> RuntimeError:
    return RuntimeError(
        f"a tensor saved by {fn.name} for backward was modified in place after it "
        f"was used (its version went {old} -> {new}; input shapes "
        f"{fn._input_shapes()}). Modify a .clone() instead, or change it before "
        "using it."
    )


# --------------------------------------------------------------------------- backward engine


def unbroadcast(grad: Any, shape: tuple) -> Any:
    """Sum ``grad`` down to ``shape``: the gradient of broadcasting ``shape`` to ``grad.shape``.

    Broadcasting copies a value along new leading axes and along axes of size 1, so the
    gradient of that value is the *sum* of the gradients of all its copies.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra and shape and grad.shape[extra:] == shape:  # only new leading axes (a bias): a plain sum
        return grad.sum(axis=tuple(range(extra)))
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _consumer_counts(root: Function) -> dict[Function, int]:
    """For every Function reachable from ``root``: how many graph edges feed its output
    forward (uses of its output by other reachable Functions; 0 for ``root``).

    One iterative walk (no recursion limit) that allocates nothing the garbage collector
    tracks except the dict itself: no (node, state) pairs on the stack, so a 10,000-op
    backward does not wake the collector.
    """
    counts = {root: 0}
    stack = [root]
    while stack:
        fn = stack.pop()
        if fn.inputs is None:
            continue  # released: reported by run_backward when it gets there
        for t in fn.inputs:
            creator = t._creator
            if creator is None:
                continue
            if creator in counts:
                counts[creator] += 1
            else:
                counts[creator] = 1
                stack.append(creator)
    return counts


def _released_error(fn: Function) -> RuntimeError:
    return RuntimeError(
        f"backward through {fn.name} a second time: its saved values were freed after the "
        "first backward. Call the first .backward(retain_graph=True) if you need to "
        "backpropagate through the same graph again."
    )


def _memory_owner(array: Any) -> Any:
    """The array that owns ``array``'s memory: itself, or the base a view was taken from."""
    return array if array.base is None else array.base


def _owned(grad: Any, handed_out: set[int]) -> Any:
    """``grad`` itself when no other leaf (or the caller) holds its memory, else a copy.

    A leaf's ``.grad`` must be a writable array that shares memory with nothing else
    handed out during this backward: optimizers may change it in place. A gradient that is
    a fresh array, or a view of a fresh array (e.g. a transposed matmul result), is handed
    over as it is; read-only broadcast views and memory already given to another leaf (or
    the ``grad`` passed to ``backward``) are copied.
    """
    owner = _memory_owner(grad)
    if not grad.flags.writeable or id(owner) in handed_out:
        grad = grad.copy()
        owner = grad
    handed_out.add(id(owner))
    return grad


def run_backward(root: "Tensor", grad: Any, retain_graph: bool) -> None:
    """Backpropagate ``grad`` (the gradient of some scalar w.r.t. ``root``) to the leaves.

    Topological order by counting (Kahn's algorithm): a node runs once every consumer of
    its output has passed its gradient on, so it runs once, with the *sum* of them all.
    """
    handed_out: set[int] = {id(grad), id(_memory_owner(grad))}
    if root._creator is None:  # a leaf: d(root)/d(root) = 1
        hooks = getattr(root, "_hooks", None)
        if hooks:
            grad = _run_hooks(hooks, grad, root, handed_out)
        _accumulate(root, grad, handed_out)
        return
    hooked_leaves: dict = {}  # leaf -> its summed gradient, for leaves with hooks (run once, at the end)
    waiting = _consumer_counts(root._creator)  # consumers each node still waits for
    grads: dict[Function, Any] = {root._creator: grad}
    ready = [root._creator]
    anomaly = _modes.anomaly
    while ready:
        fn = ready.pop()
        g_out = grads.pop(fn, None)  # None: no gradient flows here (non-differentiable consumers)
        inputs = fn.inputs
        if inputs is None:
            if g_out is None:
                continue
            raise _released_error(fn)
        if g_out is not None:
            if fn._versions:
                _check_versions(fn)
            if fn._hooks:
                g_out = _run_hooks(fn._hooks, g_out, root, handed_out)
            if fn._retained is not None and (kept := fn._retained()) is not None:
                kept.grad = g_out if kept.grad is None else kept.grad + g_out
            in_grads = fn.backward(g_out)
        else:
            in_grads = (None,) * len(inputs)
        for t, g in zip(inputs, in_grads):
            creator = t._creator
            if creator is None:  # a leaf: its gradient is summed into .grad
                if g is not None and t.requires_grad:
                    if anomaly:
                        _check_finite(fn, g, "backward (gradient of an input)")
                    if getattr(t, "_hooks", None):  # unset on leaves made by detach() and the like
                        hooked_leaves[t] = g if t not in hooked_leaves else hooked_leaves[t] + g
                    else:
                        _accumulate(t, g, handed_out)
                continue
            if g is not None:  # an op's output (it requires grad): add g to what its creator receives
                if anomaly:
                    _check_finite(fn, g, "backward (gradient of an input)")
                previous = grads.get(creator)
                grads[creator] = g if previous is None else previous + g
            left = waiting[creator] - 1
            waiting[creator] = left
            if left == 0:
                ready.append(creator)
        if not retain_graph:
            fn.inputs = None
            fn.saved = ()
    for leaf, g in hooked_leaves.items():
        _accumulate(leaf, _run_hooks(leaf._hooks, g, root, handed_out), handed_out)


class RemovableHandle:
    """Returned by ``Tensor.register_hook`` and ``Module.register_forward_hook``:
    ``handle.remove()`` unregisters the hook (so does leaving a ``with handle:`` block)."""

    _next_id = 0

    def __init__(self, hooks: "dict[int, Callable]") -> None:
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _run_hooks(hooks: dict, g: Any, root: "Tensor", handed_out: set[int]) -> Any:
    """Call each of a tensor's gradient hooks (``Tensor.register_hook``) with its gradient
    as a Tensor (made through ``root``, as ``Function.apply`` makes outputs through its
    input: autograd does not import tensor); a hook that returns a Tensor or array replaces
    the gradient for the next. The arrays hooks saw or gave count as handed out: ``.grad``
    never updates them in place."""
    handed_out.update((id(g), id(_memory_owner(g))))
    for hook in list(hooks.values()):
        result = hook(root._make(g, False, None))
        if result is not None:
            new = getattr(result, "data", result)
            if not backend.is_backend_array(new) or new.shape != g.shape:
                raise RuntimeError(f"a gradient hook ({getattr(hook, '__qualname__', hook)!r}) returned "
                                   f"{type(result).__name__} of shape {getattr(new, 'shape', None)}; expected None "
                                   f"or a gradient of shape {g.shape}")
            g = new
            handed_out.update((id(g), id(_memory_owner(g))))
    return g


def clear_grads(params: "Iterable[Tensor]", set_to_none: bool = True) -> None:
    """Forget the gradients of ``params`` (``Module.zero_grad`` and ``Optimizer.zero_grad``):
    ``p.grad = None`` (default, like PyTorch 2), or fill them with zeros in place."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad[...] = 0


def _accumulate(leaf: "Tensor", g: Any, handed_out: set[int]) -> None:
    """Add ``g`` to ``leaf.grad`` (gradients accumulate on leaves across backward calls).

    ``.grad`` is updated in place (no new array per step) unless its memory was handed out
    during this backward (it may be the very array still flowing to other nodes) or is
    read-only; then the sum goes to a new array.
    """
    if type(g) is not _ndarray and isinstance(g, _numpy_scalar):
        g = backend.np.asarray(g)
    dtype = leaf.data.dtype
    if g.dtype is not dtype and g.dtype != dtype:
        g = g.astype(dtype)
    if leaf.grad is None:
        leaf.grad = _owned(g, handed_out)
    elif leaf.grad.flags.writeable and id(_memory_owner(leaf.grad)) not in handed_out:
        leaf.grad += g  # in place, as PyTorch: the array is the leaf's (not shared in this backward)
    else:
        leaf.grad = leaf.grad + g  # its memory may still be read by this backward: a new array
