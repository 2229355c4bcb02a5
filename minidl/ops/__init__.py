"""Differentiable operations as ``Function`` classes: array-level ``forward`` and
``backward`` side by side, with the calculus in each docstring.

* ``arithmetic``: Add, Sub, Mul, Div, Pow, Neg, MatMul; MulScalar, AddScalar, SubScalar (a tensor
  and a plain Python number)
* ``elementwise``: Exp, Log, Sqrt, Abs, Tanh, Sigmoid, ReLU, LeakyReLU, Clip, Maximum,
  Minimum, Where, Cast, Clone, ToDevice
* ``reduction``: Sum, Mean, Var, Max, Min, LogSumExp, Softmax, LogSoftmax
* ``shape``: Reshape, Transpose, BroadcastTo, Concatenate, Stack, GetItem
* ``activation``: ELU, GELU, Step, Maxout, MaskedScale (dropout)
* ``linear``: LinearFunction (y = x W^T + b, fused)
* ``conv``: Conv2d (im2col) and the sliding windows it and pooling share
* ``pooling``: MaxPool2d, AvgPool2d
* ``normalization``: BatchNorm, Standardize (layer/group/instance norm)
* ``loss``: CrossEntropy, NLL, BinaryCrossEntropy, BinaryCrossEntropyWithLogits

Nothing here knows about ``Tensor``: the Tensor's operators and methods
(``minidl/tensor.py``) and the public functions (``minidl/functional.py``) check their
arguments, promote dtypes and call ``SomeOp.apply(...)``.
"""
