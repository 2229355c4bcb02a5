"""Forward + backward of the small CNN, op by op: minidl's conv/pool ops vs PyTorch CPU.

    python -m benchmarks.cnn_ops             # median ms per step, ratio to PyTorch
    python -m benchmarks.cnn_ops --profile   # cProfile of 30 minidl steps (tottime)

conv8(3x3, pad 1)-relu-maxpool2-conv16(3x3, pad 1)-relu-maxpool2-fc10 + cross-entropy on a
(64, 1, 28, 28) float32 batch, same weights and data for both, 2 threads for PyTorch (and
the BLAS, when OMP_NUM_THREADS is unset), timed as the main harness does (``timing.interleaved``:
rounds of blocks, each after 0.15 s of untimed steps), median after warm-up.
The design's bar: <= 1.5x PyTorch. ``python -m benchmarks --only cnn`` times the same net
built from nn modules with an SGD step, inside the main harness.
"""

from __future__ import annotations

import os
import sys
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np

import minidl as md
from minidl.functional import conv2d, cross_entropy, max_pool2d

from . import timing


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    rng = np.random.default_rng(0)
    batch = 64
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    shapes = [(8, 1, 3, 3), (8,), (16, 8, 3, 3), (16,), (10, 16 * 7 * 7), (10,)]
    params = [(rng.standard_normal(s) * 0.1).astype(np.float32) for s in shapes]
    mp = [md.tensor(p, requires_grad=True) for p in params]
    xs, ys = md.tensor(x), md.tensor(y)

    def minidl_step() -> float:
        h = max_pool2d(conv2d(xs, mp[0], mp[1], padding=1).relu(), 2)
        h = max_pool2d(conv2d(h, mp[2], mp[3], padding=1).relu(), 2)
        loss = cross_entropy(h.reshape(batch, -1) @ mp[4].T + mp[5], ys)
        for p in mp:
            p.grad = None
        loss.backward()
        return loss.item()

    if "--profile" in argv:
        import cProfile
        import pstats

        minidl_step()
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [minidl_step() for _ in range(30)])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
        return

    steps = {"minidl": minidl_step}
    torch: Any
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(2)
        tp = [torch.tensor(p, requires_grad=True) for p in params]
        tx, ty = torch.tensor(x), torch.tensor(y)
        tf = torch.nn.functional

        def torch_step() -> float:
            h = tf.max_pool2d(tf.relu(tf.conv2d(tx, tp[0], tp[1], padding=1)), 2)
            h = tf.max_pool2d(tf.relu(tf.conv2d(h, tp[2], tp[3], padding=1)), 2)
            loss = tf.cross_entropy(h.reshape(batch, -1) @ tp[4].T + tp[5], ty)
            for p in tp:
                p.grad = None
            loss.backward()
            return loss.item()

        steps["torch"] = torch_step
        assert abs(minidl_step() - torch_step()) < 1e-4, "minidl and PyTorch disagree on the loss"
        for p, q in zip(mp, tp):
            assert p.grad is not None and q.grad is not None
            np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-3, atol=1e-4)

    # blocks of steps with the harness's settle before each: stepping the two libraries in
    # turn would time each against the other's still-spinning BLAS threads (README, Performance)
    results = timing.interleaved(steps, warmup=5, samples=50, rounds=5)
    medians = {name: r["median"] for name, r in results.items()}
    line = "  ".join(f"{name} {m * 1e3:.2f} ms" for name, m in medians.items())
    if "torch" in medians:
        line += f"  ratio {medians['minidl'] / medians['torch']:.2f} (bar <= 1.5)"
    print(line)


if __name__ == "__main__":
    main()
