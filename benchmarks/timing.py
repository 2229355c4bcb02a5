"""Interleaved timing in blocks.

Every implementation is warmed up, then timed in *rounds*: in each round each
implementation (minidl, numpy, torch, rotating who goes first) runs one *block* of steps,
each step timed on its own. The report is the median over all timed steps, with quartiles.

Why blocks and not strict alternation step by step: NumPy's OpenBLAS and PyTorch's OpenMP
keep their worker threads spinning after each parallel call, waiting for the next one.
OpenBLAS's workers spin for 2^28 ticks of the CPU's time-stamp counter (THREAD_TIMEOUT in
its thread server), about 0.1 s. On a 2-core machine a spinning thread takes a core from
whichever library runs next. Measured on the 2-CPU machine of the README table (OpenBLAS
0.3.31, torch 2.13), one MLP batch-128 step:

* PyTorch's took 3.0-3.2 ms on its own, 6.7-7.9 ms when it started up to 20 ms after NumPy
  work, and 3.0 ms after a 100 ms pause;
* the NumPy floor's took 2.0-2.2 ms, and 3.0-3.1 ms when it started up to 5 ms after PyTorch.

Each block therefore begins with ``settle_s`` (0.15 s) of untimed steps, so that the other
library's threads have gone to sleep before the timed steps start. (With 5 ms of settling,
the first version of this harness reported PyTorch's MLP steps 2-3x slower than they are.)
Rounds still interleave the implementations, so a burst of load from other processes hits
all of them alike, and the medians drop the occasional scheduler hiccup.
"""

from __future__ import annotations

import gc
import math
import time
from typing import Any, Callable

import numpy as np

resource: Any
try:  # POSIX only: minor page faults show memory the C allocator gave back and takes again
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None

SETTLE_S = 0.15  # untimed work at the start of each block: longer than OpenBLAS's ~0.1 s spin


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource is not None else 0


def _call(fn: Callable[[], Any], inner: int) -> float:
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) / inner


def interleaved(steps: dict[str, Callable[[], Any]], *, warmup: int, samples: int, rounds: int, inner: int = 1,
                budget_s: float | None = None, settle_s: float = SETTLE_S) -> dict[str, dict[str, Any]]:
    """Seconds per call of each step: ``{impl: {"median", "p25", "p75", "n", ...}}``, with
    ``minor_faults_per_call``: pages the process had to map afresh per call (each costs
    about a microsecond; many mean the C allocator returns freed memory to the OS and the
    next call faults it back in).

    ``warmup`` untimed samples each; then about ``samples`` timed samples per implementation
    spread over ``rounds`` rounds (fewer when the steps are slow and ``budget_s``, the soft
    time cap for the timed part, would be exceeded; at least 3 rounds of 1). One sample is
    the mean time of ``inner`` back-to-back calls (for steps too short to time one by one).
    Each block starts with at least one untimed call, repeated until ``settle_s`` has passed.
    """
    names = list(steps)
    estimate = {}
    for name in names:
        times = [_call(steps[name], inner)]
        while len(times) < warmup and sum(times) < 0.3:  # slow steps need less warm-up
            times.append(_call(steps[name], inner))
        estimate[name] = float(np.median(times))
    per_round = sum(estimate.values())  # one sample of each
    block = max(1, math.ceil(samples / rounds))
    if budget_s is not None and per_round > 0:
        affordable = budget_s / per_round  # samples of each we can afford
        if affordable < samples:
            rounds = max(3, min(rounds, int(affordable)))
            block = max(1, int(affordable) // rounds)
    gc.collect()
    collected: dict[str, list[list[float]]] = {name: [] for name in names}
    faults = dict.fromkeys(names, 0)
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            fn = steps[name]
            settled = time.perf_counter() + settle_s
            fn()
            while time.perf_counter() < settled:
                fn()
            before = _minor_faults()
            collected[name].append([_call(fn, inner) for _ in range(block)])
            faults[name] += _minor_faults() - before
    out = {}
    for name, blocks in collected.items():
        arr = np.asarray([t for b in blocks for t in b])
        out[name] = {
            "median": float(np.median(arr)),
            "p25": float(np.percentile(arr, 25)),
            "p75": float(np.percentile(arr, 75)),
            "n": int(arr.size),
            "round_medians": [float(np.median(b)) for b in blocks],
            "minor_faults_per_call": faults[name] / (arr.size * inner),
        }
    return out


def paired_ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
    """The median over rounds of (a's block median / b's block median).

    Both blocks of a round ran within a fraction of a second of each other, so a change of
    load from other programs between rounds cancels out of each round's ratio.
    """
    ra, rb = a["round_medians"], b["round_medians"]
    return float(np.median([x / y for x, y in zip(ra, rb) if y > 0]))
