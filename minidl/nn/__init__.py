"""``minidl.nn``: modules, layers, activations, losses and initializers (PyTorch's API).

    import minidl.nn as nn
    import minidl.nn.functional as F
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))

One home per concept: ``module`` (Module, Parameter, containers), ``linear``, ``activation``,
``dropout``, ``conv``, ``pooling``, ``normalization``, ``loss``, ``init``, ``utils``
(gradient clipping) and ``functional`` (the same operations as plain functions).
"""

from . import functional, init, utils
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, Maxout, ReLU, Sigmoid, Softmax, Step, Tanh
from .activation import SELU, Hardtanh, LogSigmoid, ReLU6, SiLU, Softplus, Softsign  # issue 13
from .conv import Conv2d
from .dropout import Dropout
from .linear import Flatten, Identity, Linear
from .loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss, PseudoHuberLoss,
)
from .module import Module, ModuleDict, ModuleList, Parameter, RemovableHandle, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm
from .pooling import AvgPool2d, MaxPool2d
