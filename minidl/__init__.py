"""minidl: a small deep-learning engine on NumPy (CPU) and CuPy (GPU), built to teach.

    import minidl as md
    x = md.tensor([[1., 2.]], requires_grad=True)
    w = md.randn(2, 3, requires_grad=True)
    y = (x @ w).relu().sum()
    y.backward()          # x.grad and w.grad now hold dy/dx and dy/dw

Layout: ``backend`` (NumPy/CuPy), ``tensor`` (Tensor), ``autograd`` (graph and backward),
``ops`` (differentiable operations), ``nn``, ``optim``, ``data``, ``gradcheck``, ``testing``.
"""

from . import backend
from .autograd import Function, detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import (
    bool_, cupy_available, float16, float32, float64, get_backend, int32, int64, manual_seed,
    set_backend,
)
from .creation import (
    arange, eye, full, linspace, ones, ones_like, rand, randint, randn, randperm, zeros,
    zeros_like,
)
from .gradcheck import GradcheckError, gradcheck
from .ops import (
    abs, cat, clamp, clip, concatenate, exp, leaky_relu, log, log_softmax, logsumexp, matmul,
    maximum, mean, minimum, relu, sigmoid, softmax, sqrt, stack, tanh, where,
)
from .ops import max, min, sum, var  # noqa: A004  (shadow builtins only inside minidl's namespace)
from .ops import broadcast_to, flatten, reshape, squeeze, transpose, unsqueeze
from .tensor import Tensor, as_tensor, tensor
from .serialization import load, save
from . import nn, optim, viz  # noqa: E402  (subpackages last: they import the core above)
from . import diagnostics, metrics, train  # noqa: E402

__version__ = "0.1.0"
