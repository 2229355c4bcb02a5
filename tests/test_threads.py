"""Grad mode and anomaly mode are per thread (as in PyTorch): threads synchronised with
barriers so the interleavings below happen for certain, not by luck of the scheduler."""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np
import pytest

import minidl as md


def run_threads(*targets: Callable[[], Any]) -> list[Any]:
    """Run ``targets`` in one thread each; return their results, re-raising the first error."""
    results: list[Any] = [None] * len(targets)
    errors: list[BaseException] = []

    def wrap(i: int, fn: Callable[[], Any]) -> None:
        try:
            results[i] = fn()
        except BaseException as exc:  # noqa: BLE001  (reported in the main thread)
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(i, fn)) for i, fn in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


def test_overlapping_no_grad_blocks_in_two_threads_leave_grad_mode_on():
    """The reproduction: A enters no_grad; B enters no_grad; A exits; B exits."""
    a_in, b_in, a_out = (threading.Barrier(2, timeout=10) for _ in range(3))

    def thread_a() -> bool:
        with md.no_grad():
            a_in.wait()
            b_in.wait()
        a_out.wait()
        return md.is_grad_enabled()

    def thread_b() -> bool:
        a_in.wait()
        with md.no_grad():
            b_in.wait()
            a_out.wait()
        return md.is_grad_enabled()

    assert run_threads(thread_a, thread_b) == [True, True]
    assert md.is_grad_enabled()
    x = md.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 4.0])


def test_a_no_grad_eval_loop_in_one_thread_does_not_stop_another_thread_training():
    steps = 20
    barrier = threading.Barrier(2, timeout=10)
    md.manual_seed(0)
    w = md.randn(3, 1, requires_grad=True)
    x = md.randn(8, 3)

    def evaluate() -> int:
        recorded = 0
        with md.no_grad():
            for _ in range(steps):
                barrier.wait()  # the trainer's forward runs while this thread is inside no_grad
                recorded += int((x @ w).requires_grad)
                barrier.wait()
        return recorded

    def train() -> list[float]:
        losses = []
        for _ in range(steps):
            barrier.wait()
            loss = ((x @ w) ** 2).mean()
            assert loss.requires_grad, "the training thread lost its graph"
            loss.backward()
            with md.no_grad():
                w.sub_(0.1 * w.grad)
            w.grad = None
            losses.append(loss.item())
            barrier.wait()
        return losses

    recorded, losses = run_threads(evaluate, train)
    assert recorded == 0  # every evaluation forward was graph-free
    assert len(losses) == steps and losses[-1] < losses[0]


def test_detect_anomaly_in_one_thread_only():
    inside, checked = threading.Barrier(2, timeout=10), threading.Barrier(2, timeout=10)
    bad = md.tensor([-1.0], dtype=md.float64)

    def debugging() -> str:
        with md.detect_anomaly():
            inside.wait()
            try:
                with np.errstate(invalid="ignore"):
                    bad.sqrt()
            except FloatingPointError as exc:
                message = str(exc)
            else:
                message = "no error"
            checked.wait()
        return message

    def other() -> float:
        inside.wait()  # the first thread is inside detect_anomaly now
        with np.errstate(invalid="ignore"):
            value = bad.sqrt().item()  # NaN, silently, as without anomaly mode
        checked.wait()
        return value

    message, value = run_threads(debugging, other)
    assert "Sqrt produced NaN" in message
    assert np.isnan(value)


def test_a_new_thread_starts_with_grad_on_even_when_its_creator_is_in_no_grad():
    with md.no_grad():
        (enabled,) = run_threads(md.is_grad_enabled)
        assert not md.is_grad_enabled()
    assert enabled


@pytest.mark.parametrize("mode", ["no_grad", "enable_grad", "set_grad_enabled"])
def test_each_context_manager_restores_only_its_own_thread(mode):
    ctx = {"no_grad": md.no_grad, "enable_grad": md.enable_grad,
           "set_grad_enabled": lambda: md.set_grad_enabled(False)}[mode]
    entered = threading.Barrier(2, timeout=10)

    def inside() -> bool:
        with ctx():
            entered.wait()
            entered.wait()
        return md.is_grad_enabled()

    def watcher() -> bool:
        entered.wait()
        seen = md.is_grad_enabled()
        entered.wait()
        return seen

    assert run_threads(inside, watcher) == [True, True]


def test_conv_steps_in_two_threads_at_once_share_the_op_workers_correctly():
    """Two threads run conv + pool steps at the same time while every op is split over the
    workers: one thread gets the workers, the other runs its op whole, and both get the
    numbers of a step run alone (no chunk of one thread's batch lands in the other's)."""
    from minidl.functional import conv2d, max_pool2d

    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((6, 3, 12, 12)).astype(np.float32) for _ in range(2)]
    weight = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)

    def step(x):
        w = md.tensor(weight, requires_grad=True)
        out = max_pool2d(conv2d(md.tensor(x), w, padding=1).relu(), 2)
        (out * out).sum().backward()
        return out.numpy().copy(), w.grad.copy()

    saved = md.get_num_threads(), md.backend.PARALLEL_MIN_WORK
    try:
        md.set_num_threads(3)
        md.backend.PARALLEL_MIN_WORK = 0
        alone = [step(x) for x in batches]
        start = threading.Barrier(2, timeout=10)

        def many(x):
            start.wait()
            return [step(x) for _ in range(20)]

        together = run_threads(lambda: many(batches[0]), lambda: many(batches[1]))
    finally:
        md.set_num_threads(saved[0])
        md.backend.PARALLEL_MIN_WORK = saved[1]
    for expected, runs in zip(alone, together):
        for out, grad in runs:
            np.testing.assert_array_equal(out, expected[0])
            np.testing.assert_allclose(grad, expected[1], rtol=1e-5, atol=1e-4)
