"""``python -m benchmarks.gpu``: minidl on CuPy against PyTorch CUDA on the same GPU.

    python -m benchmarks.gpu --out DIR          # writes DIR/gpu.md and DIR/gpu.json
    python -m benchmarks.gpu --quick --out DIR  # fewer samples

Workloads: one SGD training step (forward, cross-entropy, backward, update) of the MLP
784-256-256-10 and of the CNN conv8-pool-conv16-pool-fc10 on 28x28 images, at batch 128
and 1024, float32, both libraries starting from the same weights and data. Every timed
step ends with a device synchronize (the GPU runs asynchronously: without it the clock
would measure only the launch of the kernels), the warm-up steps (CUDA context, kernel
compilation, memory pool) are dropped, and the table shows the median of the rest, with
the GPU's name. Without CuPy or a GPU it writes a table saying why, and exits 0.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import minidl as md

from . import workloads

WORKLOADS = (("mlp", 128), ("mlp", 1024), ("cnn", 128), ("cnn", 1024))
TITLES = {"mlp": "MLP 784-256-256-10 SGD step", "cnn": "CNN conv8-pool-conv16-pool-fc10 SGD step"}


def time_step(step: Callable[[], Any], sync: Callable[[], Any], warmup: int, samples: int,
              budget_s: float) -> list[float]:
    """Seconds per step: ``warmup`` untimed steps, then up to ``samples`` timed ones (each
    ended by ``sync``), stopping early once ``budget_s`` is spent (at least 5 samples)."""
    for _ in range(warmup):
        step()
    sync()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < samples and (len(times) < 5 or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    return times


def minidl_steps(kind: str, batch: int) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """minidl's training step on the GPU (model moved with ``.to("cuda")``) and a sync."""
    arrays, x, y = (workloads.mlp_data if kind == "mlp" else workloads.cnn_data)(batch, 0)
    net = (workloads.minidl_mlp if kind == "mlp" else workloads.minidl_cnn)(arrays)
    net.model.to("cuda")
    xg, yg = md.tensor(x, device="cuda"), md.tensor(y, device="cuda")
    return (lambda: net.train_step(xg, yg)), md.backend.synchronize


def torch_steps(kind: str, batch: int) -> tuple[Callable[[], Any], Callable[[], Any]]:
    torch = workloads.torch_module()
    arrays, x, y = (workloads.mlp_data if kind == "mlp" else workloads.cnn_data)(batch, 0)
    net = (workloads.torch_mlp if kind == "mlp" else workloads.torch_cnn)(arrays)
    net.model.cuda()
    net.optimizer = torch.optim.SGD(net.model.parameters(), lr=workloads.LR)
    xt, yt = torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda()
    return (lambda: net.train_step(xt, yt)), torch.cuda.synchronize


def run(quick: bool = False) -> dict:
    """The measurements (or the reasons they were skipped) as a JSON-ready dict."""
    result: dict[str, Any] = {"gpu": None, "skipped": None, "rows": [], "quick": quick}
    if not md.cupy_available():
        result["skipped"] = f"no CuPy GPU backend: {md.backend.cupy_unavailable_reason()}"
        return result
    result["gpu"] = md.backend.device_name("cuda")
    torch = workloads.torch_module()
    torch_reason = None if torch is not None and torch.cuda.is_available() else "torch with CUDA is not available"
    warmup, samples, budget = (3, 20, 2.0) if quick else (10, 100, 8.0)
    for kind, batch in WORKLOADS:
        row: dict[str, Any] = {"workload": f"{TITLES[kind]}, batch {batch}", "kind": kind, "batch": batch}
        step, sync = minidl_steps(kind, batch)
        times = time_step(step, sync, warmup, samples, budget)
        row["minidl_ms"], row["minidl_samples"] = 1e3 * statistics.median(times), len(times)
        if torch_reason is None:
            step, sync = torch_steps(kind, batch)
            times = time_step(step, sync, warmup, samples, budget)
            row["torch_ms"], row["torch_samples"] = 1e3 * statistics.median(times), len(times)
            row["ratio"] = row["minidl_ms"] / row["torch_ms"]
        else:
            row["torch_skipped"] = torch_reason
        result["rows"].append(row)
        print(f"{row['workload']}: minidl {row['minidl_ms']:.3f} ms"
              + (f", torch {row['torch_ms']:.3f} ms, {row['ratio']:.2f}x" if "ratio" in row else ""), flush=True)
    return result


def markdown(result: dict) -> str:
    """The README's GPU table for ``result``."""
    if result["skipped"]:
        return f"GPU benchmarks skipped: {result['skipped']}\n"
    lines = [f"GPU: {result['gpu']} (float32, median ms per step, device synchronized, warm-up dropped"
             + (", quick run" if result["quick"] else "") + ")", "",
             "| workload | minidl (CuPy) | PyTorch CUDA | minidl / PyTorch |", "|---|---:|---:|---:|"]
    for r in result["rows"]:
        torch_ms = f"{r['torch_ms']:.3f}" if "torch_ms" in r else f"skipped ({r['torch_skipped']})"
        ratio = f"{r['ratio']:.2f}x" if "ratio" in r else "-"
        lines.append(f"| {r['workload']} | {r['minidl_ms']:.3f} | {torch_ms} | {ratio} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.splitlines()[0])
    p.add_argument("--out", default="benchmarks/results", metavar="DIR", help="where gpu.md and gpu.json go")
    p.add_argument("--quick", action="store_true", help="fewer samples")
    args = p.parse_args(argv)
    result = run(args.quick)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu.json").write_text(json.dumps(result, indent=2))
    table = markdown(result)
    (out / "gpu.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
