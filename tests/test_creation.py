"""Tensor factories (minidl/creation.py): sizes must be integers, as in PyTorch."""

import numpy as np
import pytest

import minidl as md


@pytest.mark.parametrize("make", [
    lambda *s: md.zeros(*s), lambda *s: md.ones(*s), lambda *s: md.rand(*s), lambda *s: md.randn(*s),
    lambda *s: md.full(s, 1.0), lambda *s: md.randint(0, 5, s),
])
@pytest.mark.parametrize("sizes,bad", [((2.5, 3), "2.5 (float)"), ((2, 3.0), "3.0 (float)"),
                                       ((True, 3), "True (bool)"), ((2, "3"), "'3' (str)"), ((None,), "None")])
def test_sizes_must_be_integers(make, sizes, bad):
    with pytest.raises(TypeError, match=r"sizes must be integers, got " + bad.replace("(", r"\(").replace(")", r"\)")):
        make(*sizes)


def test_float_sizes_are_refused_like_torch(torch):
    with pytest.raises(TypeError):
        torch.zeros((2.5, 3))
    with pytest.raises(TypeError):
        md.zeros((2.5, 3))


@pytest.mark.parametrize("sizes", [(2, 3), ((2, 3),), ([2, 3],), (np.int64(2), np.int32(3)), ((np.int8(2), 3),)])
def test_integer_sizes_in_every_spelling(sizes):
    assert md.zeros(*sizes).shape == (2, 3)
    assert md.randn(*sizes).shape == (2, 3)


def test_reshape_still_takes_minus_one_and_refuses_floats():
    x = md.zeros(2, 3)
    assert x.reshape(-1).shape == (6,) and x.reshape(3, -1).shape == (3, 2)
    with pytest.raises(TypeError, match="sizes must be integers"):
        x.reshape(6.0)
