"""minidl._checks: the one definition of a count, and the layers and methods that use it."""

import pytest

import minidl as md
from minidl import nn
from minidl._checks import is_count


@pytest.mark.parametrize("value, minimum, expected", [
    (0, 0, True), (3, 1, True), (-1, -1, True), (0, 1, False), (-2, -1, False),
    (True, 0, False), (False, 0, False),  # a bool is not a count, though True == 1
    (2.0, 1, False), ("2", 1, False), (None, 0, False),
])
def test_is_count(value, minimum, expected):
    assert is_count(value, minimum) is expected


@pytest.mark.parametrize("build, message", [
    (lambda: nn.Linear(True, 4), "Linear: in_features must be a non-negative int, got True"),
    (lambda: nn.Conv2d(1, 0, 3), "Conv2d: out_channels must be a positive int, got 0"),
    (lambda: nn.BatchNorm1d(2.0), "BatchNorm1d: num_features must be a positive int, got 2.0"),
    (lambda: nn.Maxout(2, 3, pieces=False), "Maxout: pieces must be a positive int, got False"),
    (lambda: md.ones(4).chunk(True), "chunk: chunks must be a positive int, got True"),
    (lambda: md.ones(4).topk(5), r"topk: k must be an int in \[0, 4\]"),
    (lambda: md.nn.functional.one_hot(md.tensor([0, 1]), num_classes=-2), "one_hot: num_classes must be -1"),
])
def test_layers_and_methods_reject_what_is_not_a_count(build, message):
    with pytest.raises(ValueError, match=message):
        build()
