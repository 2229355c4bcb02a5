"""Benchmarks: minidl side by side with a hand-written NumPy floor and PyTorch (CPU).

    python -m benchmarks             # every workload, writes benchmarks/results/latest.{json,md}
    python -m benchmarks --out DIR   # the same, written into DIR
    python -m benchmarks --quick     # fewer repeats (under 30 s)
    python -m benchmarks --only mlp  # workloads whose name contains "mlp"

Modules:

* ``numpy_floor``: each workload in plain NumPy, forward and backward by hand (the floor,
  and a checked reference: tests assert minidl computes the same numbers);
* ``workloads``: the same computations with minidl's public API and with PyTorch, built
  from the same weights and data;
* ``timing``: interleaved timing (warm-up, then the median of repeated steps);
* ``memory``: peak and growth of resident memory over many training steps, run in a fresh
  subprocess per measurement;
* ``__main__``: the command line, the performance bars, the JSON and markdown reports.

``benchmarks/results/`` is ignored by git: a run never touches a committed file. The
reference figures are the README's Performance table.
"""
