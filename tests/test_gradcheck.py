"""md.gradcheck: catches wrong backward passes, reports the worst entry, checks all inputs."""

import numpy as np
import pytest

import minidl as md


def f64(shape, seed=0, requires_grad=True):
    return md.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=requires_grad)


def test_passes_for_correct_ops_with_several_inputs():
    assert md.gradcheck(lambda a, b: (a @ b).tanh() * a.sum(), [f64((3, 4)), f64((4, 2), 1)])


class ZeroGradNormalize(md.Function):
    """x - mean(x) with a *wrong* backward that returns 0.

    With an all-ones upstream gradient the true input gradient is 0 too (the outputs sum to
    a constant), so a check using ones cannot see the bug; a random upstream gradient can.
    """

    def forward(self, x):
        return x - x.mean()

    def backward(self, gy):
        return (gy * 0,)


def test_random_upstream_gradient_catches_a_batchnorm_style_bug():
    x = f64((6,))
    ones_check = (ZeroGradNormalize.apply(x) * md.tensor(np.ones(6))).sum()
    ones_check.backward()
    true_ones = (x - x.mean()).sum()
    x2 = f64((6,))
    true_ones.backward()
    np.testing.assert_allclose(x.grad, 0, atol=1e-12)  # the bug is invisible with ones
    with pytest.raises(md.GradcheckError):
        md.gradcheck(lambda t: ZeroGradNormalize.apply(t), [x2])


def test_checks_every_input_not_just_the_first():
    class WrongSecond(md.Function):
        def forward(self, a, b):
            self.save(a, b)
            return a * b

        def backward(self, g):
            a, b = self.saved
            return g * b, g * b  # second gradient should be g * a

    with pytest.raises(md.GradcheckError, match=r"input 1 \(shape \(3,\)\)"):
        md.gradcheck(lambda a, b: WrongSecond.apply(a, b), [f64((3,)), f64((3,), 1)])


def test_reports_worst_entry_with_index():
    class WrongOneEntry(md.Function):
        def forward(self, x):
            return x * 2

        def backward(self, g):
            out = g * 2
            out = out.copy()
            out[1, 2] += 1.0
            return (out,)

    with pytest.raises(md.GradcheckError, match=r"1 of 6 entries wrong; worst at index \(1, 2\)"):
        md.gradcheck(lambda x: WrongOneEntry.apply(x), [f64((2, 3))])


def test_requires_float64_and_something_to_check():
    with pytest.raises(TypeError, match="float64"):
        md.gradcheck(lambda x: x * 2, [md.randn(3, requires_grad=True)])
    with pytest.raises(ValueError, match="nothing to check"):
        md.gradcheck(lambda x: x * 2, [f64((3,), requires_grad=False)])


def test_does_not_touch_existing_grads_or_the_global_rng():
    x = f64((3,))
    x.grad = np.full(3, 7.0)
    md.manual_seed(5)
    md.gradcheck(lambda t: t * t, [x])
    after = md.randn(2).numpy()
    md.manual_seed(5)
    np.testing.assert_array_equal(after, md.randn(2).numpy())
    np.testing.assert_array_equal(x.grad, 7.0)


def test_input_that_does_not_affect_the_output_gets_zero():
    assert md.gradcheck(lambda a, b: a * 2, [f64((2,)), f64((2,), 1)])


def test_multiple_outputs():
    assert md.gradcheck(lambda a: (a.exp(), a.sum()), [f64((3,))])
