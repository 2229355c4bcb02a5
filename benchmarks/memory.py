"""Resident memory of MLP training, measured in a fresh process per run.

    python -m benchmarks.memory --impl minidl --steps 200 [--batch 128]

prints one JSON object:

* ``rss_start_mib``: resident memory after imports, weights and data, before training;
* ``peak_mib``: the process's peak resident memory (``VmHWM``) after the steps;
* ``rss_after_mib``: ``VmRSS`` at checkpoints (after step 10%, 20%, ..., 100%), to see
  growth: a graph kept alive by a reference cycle would grow it step after step.

Linux reads /proc/self/status; elsewhere ``resource.getrusage`` gives the peak only.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from typing import Any, Sequence

from . import numpy_floor as floor


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mib() -> float | None:
    kib = _status_kib("VmRSS")
    return None if kib is None else kib / 1024


def peak_mib() -> float:
    kib = _status_kib("VmHWM")
    if kib is None:
        import resource  # POSIX only

        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        if sys.platform == "darwin":
            kib //= 1024  # bytes on macOS
    return kib / 1024


def run(impl: str, steps: int, batch: int) -> dict[str, Any]:
    """Train the MLP for ``steps`` steps with ``impl`` ("minidl" or "numpy") and measure."""
    if impl == "minidl":
        from . import workloads  # imports minidl; the floor's process does not

        built, inputs, _ = workloads.nets("mlp", batch, impls=("minidl",))
        net, (x, y) = built["minidl"], inputs["minidl"]
    else:
        net, x, y = _FloorNet(batch), *floor.mlp_data(batch)[1:]
    gc.collect()
    start = rss_mib()
    checkpoints = {max(1, steps * k // 10) for k in range(1, 11)}
    after = {}
    for step in range(1, steps + 1):
        net.train_step(x, y)
        if step in checkpoints:
            after[step] = rss_mib()
    return {"impl": impl, "steps": steps, "batch": batch, "rss_start_mib": start,
            "peak_mib": peak_mib(), "rss_after_mib": after}


class _FloorNet:
    """The floor's MLP training step, in a process that imports NumPy only."""

    def __init__(self, batch: int) -> None:
        self.params = floor.mlp_data(batch)[0]

    def train_step(self, x: Any, y: Any) -> None:
        floor.mlp_train_step(self.params, x, y)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=("minidl", "numpy"), required=True)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.impl, args.steps, args.batch)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
