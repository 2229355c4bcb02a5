"""``minidl.nn``: modules, layers, activations, losses and initializers (PyTorch's API).

    import minidl.nn as nn
    import minidl.nn.functional as F
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))

One home per concept: ``module`` (Module, Parameter, containers), ``linear``, ``activation``,
``dropout``, ``conv``, ``pooling``, ``normalization``, ``loss``, ``init``, ``utils``
(gradient clipping) and ``functional`` (the same operations as plain functions).
"""

from . import functional, init, utils
from .activation import (
    ELU,
    GELU,
    SELU,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Maxout,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Softsign,
    Step,
    Tanh,
)
from .conv import Conv2d
from .dropout import Dropout
from .linear import Flatten, Identity, Linear
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    PseudoHuberLoss,
)
from .module import Module, ModuleDict, ModuleList, Parameter, RemovableHandle, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm
from .pooling import AvgPool2d, MaxPool2d

__all__ = ["functional", "init", "utils", "ELU", "GELU", "LeakyReLU", "LogSoftmax", "Maxout",
    "ReLU", "Sigmoid", "Softmax", "Step", "Tanh", "Conv2d", "Dropout", "Flatten", "Identity",
    "Linear", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "KLDivLoss",
    "L1Loss", "MSELoss", "NLLLoss", "PseudoHuberLoss", "Module", "ModuleDict", "ModuleList",
    "Parameter", "RemovableHandle", "Sequential", "BatchNorm1d", "BatchNorm2d", "GroupNorm",
    "InstanceNorm2d", "LayerNorm", "AvgPool2d", "MaxPool2d",
    "SELU", "Hardtanh", "LogSigmoid", "ReLU6", "SiLU", "Softplus", "Softsign"]
