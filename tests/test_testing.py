"""minidl.testing must fail on broken ops (a test helper that cannot fail is a defect)."""

import numpy as np
import pytest

import minidl as md
from minidl import testing as T


class MutatingDouble(md.Function):
    def forward(self, x):
        x *= 1.0  # writes into the input array (same values, but a write)
        x[...] = x + 0.5
        return x * 2

    def backward(self, g):
        return (g * 2,)


def test_check_op_detects_input_mutation():
    with pytest.raises(AssertionError, match="forward vs NumPy|modified in place"):
        T.check_op(lambda t: MutatingDouble.apply(t), lambda a: a * 2, np.array([1.0, 2.0]), float32=False)


class LeakyGraph(md.Function):
    keep = []

    def forward(self, x):
        return x * 2

    def backward(self, g):
        LeakyGraph.keep.append(self)  # something keeps the graph alive
        return (g * 2,)


def test_check_op_detects_a_graph_kept_alive():
    with pytest.raises(AssertionError, match="still alive"):
        T.check_op(lambda t: LeakyGraph.apply(t), lambda a: a * 2, np.array([1.0, 2.0]))
    LeakyGraph.keep.clear()


def test_check_op_detects_float64_upcast():
    def upcasting(t):
        return t * md.tensor(np.array([2.0, 2.0]))  # a 1-d float64 constant promotes float32

    with pytest.raises(AssertionError, match="float32 inputs gave a float64 output"):
        T.check_op(upcasting, lambda a: a * 2, np.array([1.0, 2.0]))


def test_check_op_detects_wrong_forward():
    with pytest.raises(AssertionError, match="forward vs NumPy"):
        T.check_op(md.exp, np.log1p, np.array([1.0, 2.0]))


def test_noncontiguous_has_the_same_values():
    a = np.arange(12.0).reshape(3, 4)
    v = T.noncontiguous(a)
    assert not v.flags.c_contiguous
    np.testing.assert_array_equal(v, a)
