"""Where does minidl's time go? cProfile of one workload's minidl step.

    python -m benchmarks.profile mlp_b128 [--steps 200] [--top 20] [--impl minidl]

Prints the functions with the most internal time (``tottime``): NumPy calls show up as
``{method ...}``/``{built-in ...}`` entries, minidl's Python overhead as its own functions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
from typing import Any, Callable, Sequence

from . import workloads


def step_for(name: str, impl: str) -> Callable[[], Any]:
    """The zero-argument step of workload ``name`` for ``impl``."""
    makers: dict[str, Callable[[], workloads.Case]] = {
        "mlp_b128": lambda: workloads.mlp_case(128),
        "mlp_b16": lambda: workloads.mlp_case(16),
        "per_op": lambda: workloads.per_op_case(10, inner=1),
        "cnn": lambda: workloads.cnn_case(64),
        "tanh_stats": lambda: workloads.tanh_stats_case(),
        "chain": lambda: workloads.chain_case(),
        "fit_digits": lambda: workloads.fit_case(),
    }
    if name not in makers:
        raise SystemExit(f"unknown workload {name!r}; choose from {', '.join(makers)}")
    case = makers[name]()
    if impl not in case.steps:
        raise SystemExit(f"{name}: {impl} is not available ({case.skipped.get(impl, 'unknown')})")
    return case.steps[impl]


def profile(name: str, impl: str = "minidl", steps: int = 200, top: int = 20) -> str:
    step = step_for(name, impl)
    for _ in range(10):
        step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__.splitlines()[0])
    parser.add_argument("workload")
    parser.add_argument("--impl", default="minidl", choices=("minidl", "numpy", "torch"))
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    print(profile(args.workload, args.impl, args.steps, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
