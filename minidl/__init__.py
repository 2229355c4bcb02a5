"""minidl: a small deep-learning engine on NumPy (CPU) and CuPy (GPU), built to teach.

    import minidl as md
    x = md.tensor([[1., 2.]], requires_grad=True)
    w = md.randn(2, 3, requires_grad=True)
    y = (x @ w).relu().sum()
    y.backward()          # x.grad and w.grad now hold dy/dx and dy/dw

Layout, in import order: ``backend`` (NumPy/CuPy, devices, dtypes, RNG), ``autograd``
(Function, the backward engine, grad/anomaly modes), ``ops`` (the Function classes),
``tensor`` (Tensor and the dtype rules), ``functional`` (the public functions: ``md.*`` and
``nn.functional``), ``creation``, ``serialization``, ``gradcheck``, ``testing``, then ``nn``,
``optim`` and ``viz``. The tools built on top (``minidl.data``, ``minidl.train``,
``minidl.metrics``, ``minidl.diagnostics``) import ``minidl`` itself, so they are imported on
demand (``import minidl.data as data``), as ``torch.utils.data`` is.
"""

from . import backend, nn, optim, viz
from .autograd import Function, detect_anomaly, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .backend import (
    bool_,
    cupy_available,
    float16,
    float32,
    float64,
    get_backend,
    get_num_threads,
    int32,
    int64,
    manual_seed,
    set_backend,
    set_num_threads,
)
from .creation import (
    arange,
    eye,
    from_numpy,
    full,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    zeros,
    zeros_like,
)
from .functional import (  # math, ordering, shape and indexing
    abs,
    amax,
    amin,
    argmax,
    argmin,
    argsort,
    broadcast_to,
    cat,
    ceil,
    chunk,
    clamp,
    clip,
    concatenate,
    cos,
    cumsum,
    exp,
    flatten,
    flip,
    floor,
    gather,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    masked_fill,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    norm,
    permute,
    pow,
    prod,
    relu,
    reshape,
    roll,
    round,
    scatter_add,
    sigmoid,
    sign,
    sin,
    softmax,
    sort,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sum,
    tanh,
    topk,
    transpose,
    tril,
    triu,
    unsqueeze,
    var,
    where,
)
from .gradcheck import GradcheckError, gradcheck
from .serialization import load, save
from .tensor import Tensor, as_tensor, tensor

__version__ = "0.1.0"

__all__ = ["backend", "Function", "detect_anomaly", "enable_grad", "is_grad_enabled", "no_grad",
    "set_grad_enabled", "bool_", "cupy_available", "float16", "float32", "float64", "get_backend",
    "int32", "int64", "manual_seed", "set_backend", "get_num_threads", "set_num_threads", "arange", "eye", "full",
    "linspace", "ones",
    "ones_like", "rand", "randint", "randn", "randperm", "zeros", "zeros_like", "abs",
    "broadcast_to", "cat", "clamp", "clip", "concatenate", "exp", "flatten", "leaky_relu", "log",
    "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum", "relu",
    "reshape", "sigmoid", "softmax", "sqrt", "squeeze", "stack", "sum", "tanh", "transpose",
    "unsqueeze", "var", "where", "GradcheckError", "gradcheck", "load", "save", "Tensor",
    "as_tensor", "tensor", "nn", "optim", "viz",
    "inference_mode", "from_numpy", "amax", "amin", "argmax", "argmin", "permute", "pow", "std",
    "argsort", "ceil", "chunk", "cos", "cumsum", "flip", "floor", "gather", "masked_fill", "norm", "prod",
    "roll", "round", "scatter_add", "sign", "sin", "sort", "split", "topk", "tril", "triu"]
