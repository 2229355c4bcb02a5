"""``python -m benchmarks``: time every workload side by side and write the report.

    python -m benchmarks                 # full run (under 3 minutes on 2 cores)
    python -m benchmarks --quick         # fewer repeats (under 30 s)
    python -m benchmarks --only mlp,per  # workloads whose name contains one of these
    python -m benchmarks --smoke --out /tmp/b   # tiny sizes, for tests of the harness itself
    python -m benchmarks list            # the workload names

Writes ``latest.json`` and ``latest.md`` into ``benchmarks/results/`` (ignored by git, so a
run leaves ``git status`` clean) or into ``--out DIR``: the machine, versions and thread
settings, then for each workload the median seconds per step of minidl, the NumPy floor and
PyTorch, their ratios, and the performance bar where there is one. The README's Performance
table is the reference; these files are one run's measurement.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

import minidl as md

from . import timing, workloads

RESULTS = Path(__file__).resolve().parent / "results"  # ignored by git (see .gitignore)
IMPLS = ("minidl", "numpy", "torch")
FAULT_NOTE_THRESHOLD = 100  # minor page faults per step worth a note in the table
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
              "NUMEXPR_NUM_THREADS")


@dataclass
class Mode:
    """How hard to look: sizes and repeat counts for full / quick / smoke runs."""

    name: str
    warmup: int
    samples: int  # timed samples per implementation (fewer for slow steps, see budget_s)
    rounds: int  # interleaving rounds the samples are spread over
    budget_s: float  # per workload, a soft cap on the timed rounds
    settle_s: float = timing.SETTLE_S  # untimed work at the start of every block (see benchmarks.timing)
    cnn_batch: int = 64
    tanh_width: int = 4096
    chain_ops: int = 10_000
    mem_steps: int = 200
    growth_steps: int = 1000
    per_op_inner: int = 200
    fit_epochs: int = 5
    fit_train: int | None = None  # training samples for fit_digits (None: the whole training part)


MODES = {
    "full": Mode("full", warmup=10, samples=120, rounds=10, budget_s=12.0),
    "quick": Mode("quick", warmup=3, samples=24, rounds=4, budget_s=1.5, mem_steps=100, growth_steps=300,
                  per_op_inner=100, fit_epochs=2),
    "smoke": Mode("smoke", warmup=1, samples=3, rounds=3, budget_s=0.5, settle_s=0.005, cnn_batch=4, tanh_width=64,
                  chain_ops=200, mem_steps=5, growth_steps=10, per_op_inner=5, fit_epochs=1, fit_train=128),
}


# --------------------------------------------------------------------------- bars (the design's performance bars)


def _ratio(res: dict, a: str, b: str) -> float | None:
    """a's time over b's, paired round by round (see timing.paired_ratio)."""
    if a not in res or b not in res:
        return None
    if "round_medians" in res[a] and "round_medians" in res[b]:
        return timing.paired_ratio(res[a], res[b])
    return res[a]["median"] / res[b]["median"] if res[b]["median"] > 0 else None


def _mlp_b128_halves(r_np: float, r_t: float) -> tuple[bool, bool]:
    """The two halves of the MLP b128 bar: within 1.15x the NumPy floor, and faster than PyTorch."""
    return r_np <= 1.15, r_t < 1.0


def _bar(name: str, res: dict) -> tuple[str, bool | None]:
    """The performance bar of a timed workload and whether this run met it (None: no bar or
    a peer is missing)."""
    r_np, r_t = _ratio(res, "minidl", "numpy"), _ratio(res, "minidl", "torch")
    if name == "mlp_b128":
        met = None if r_np is None or r_t is None else all(_mlp_b128_halves(r_np, r_t))
        return "<= 1.15x NumPy and < 1x PyTorch", met
    if name == "mlp_b16":
        return "<= 1.5x NumPy", None if r_np is None else r_np <= 1.5
    if name == "per_op":
        return "<= 1x PyTorch", None if r_t is None else r_t <= 1.0
    if name == "cnn":
        return "<= 1.5x PyTorch", None if r_t is None else r_t <= 1.5
    if name in ("chain", "fit_digits"):
        return "<= 1x PyTorch", None if r_t is None else r_t <= 1.0
    return "", None


def _explain_mlp_bar(entry: dict[str, Any]) -> None:
    """Say which half of the MLP b128 bar failed, and when the NumPy floor itself is slower than
    PyTorch. The floor is the same matrix products with no graph, so a floor slower than PyTorch
    means NumPy's BLAS is slower than PyTorch's on this machine: the "< 1x PyTorch" half then
    measures the two BLAS libraries, not minidl's engine (README, Performance)."""
    res = entry["results"]
    floor_vs_torch = _ratio(res, "numpy", "torch")
    if floor_vs_torch is None or entry["ratios"]["minidl/numpy"] is None:
        return
    entry["ratios"]["numpy/torch"] = floor_vs_torch
    if entry["met"] is False:
        r_np, r_t = entry["ratios"]["minidl/numpy"], entry["ratios"]["minidl/torch"]
        # three decimals, so that a ratio printed as 1.15x in the table and failing the bar reads as 1.154x here
        floor_ok, torch_ok = _mlp_b128_halves(r_np, r_t)
        floor_part = f"{'yes' if floor_ok else 'no'} ({r_np:.3f}x)"
        torch_part = f"{'yes' if torch_ok else 'no'} ({r_t:.3f}x)"
        entry["met_detail"] = f"NumPy half {floor_part}, PyTorch half {torch_part}"
    if floor_vs_torch > 1.0:
        entry["notes"].append(f"the NumPy floor itself takes {floor_vs_torch:.2f}x PyTorch's time in this run "
                              "(the same matrix products with no graph: NumPy's BLAS against PyTorch's), so the "
                              "'< 1x PyTorch' half of the bar measures the BLAS libraries here, not the engine")


# --------------------------------------------------------------------------- workloads


def _timed_cases(mode: Mode) -> list[tuple[str, Callable[[], workloads.Case]]]:
    return [
        ("mlp_b128", lambda: workloads.mlp_case(128)),
        ("mlp_b16", lambda: workloads.mlp_case(16)),
        ("per_op", lambda: workloads.per_op_case(10, inner=mode.per_op_inner)),
        ("cnn", lambda: workloads.cnn_case(mode.cnn_batch)),
        ("tanh_stats", lambda: workloads.tanh_stats_case(mode.tanh_width)),
        ("chain", lambda: workloads.chain_case(mode.chain_ops)),
        ("fit_digits", lambda: workloads.fit_case(mode.fit_epochs, mode.fit_train)),
        ("mlp_gpu", lambda: workloads.gpu_case(128)),
    ]


ALL_NAMES = [n for n, _ in _timed_cases(MODES["full"])] + ["memory"]


def run_timed(name: str, make: Callable[[], workloads.Case], mode: Mode, log: Callable[[str], None]) -> dict[str, Any]:
    t0 = time.perf_counter()
    case = make()
    entry: dict[str, Any] = {"name": name, "title": case.title, "notes": list(case.notes),
                             "skipped": dict(case.skipped), "results": {}}
    if case.steps:
        entry["results"] = timing.interleaved(case.steps, warmup=mode.warmup, samples=mode.samples, rounds=mode.rounds,
                                              inner=case.inner, budget_s=mode.budget_s, settle_s=mode.settle_s)
        entry["inner"] = case.inner
    res = entry["results"]
    entry["ratios"] = {"minidl/numpy": _ratio(res, "minidl", "numpy"), "minidl/torch": _ratio(res, "minidl", "torch")}
    entry["bar"], entry["met"] = _bar(name, res)
    if name == "mlp_b128":
        _explain_mlp_bar(entry)
    entry["wall_s"] = time.perf_counter() - t0
    log(_line(entry))
    return entry


def _memory_run(impl: str, steps: int, batch: int = 128) -> dict[str, Any]:
    """One fresh interpreter training the MLP for ``steps`` steps (see benchmarks/memory.py)."""
    cmd = [sys.executable, "-m", "benchmarks.memory", "--impl", impl, "--steps", str(steps), "--batch", str(batch)]
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=root, env=env, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"memory run {' '.join(cmd)} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_memory(mode: Mode, log: Callable[[str], None]) -> dict[str, Any]:
    """(d) peak RSS over ``mem_steps`` steps and RSS growth over ``growth_steps`` steps,
    minidl vs the floor, each in a fresh subprocess."""
    t0 = time.perf_counter()
    peak = {impl: _memory_run(impl, mode.mem_steps) for impl in ("minidl", "numpy")}
    growth = {impl: _memory_run(impl, mode.growth_steps) for impl in ("minidl", "numpy")}
    entry: dict[str, Any] = {"name": "memory", "title": f"MLP b128 resident memory: peak over {mode.mem_steps} steps, "
                                                        f"growth over {mode.growth_steps} steps (fresh processes)",
                             "peak_runs": peak, "growth_runs": growth, "notes": [], "skipped": {}}
    summary: dict[str, dict[str, float]] = {}
    for impl in ("minidl", "numpy"):
        p, g = peak[impl], growth[impl]
        after = {int(k): v for k, v in g["rss_after_mib"].items()}
        steps_sorted = sorted(after)
        first = after[steps_sorted[0]]
        summary[impl] = {
            "peak_mib": p["peak_mib"],
            "training_mib": p["peak_mib"] - p["rss_start_mib"],  # peak above the pre-training RSS
            "growth_mib": after[steps_sorted[-1]] - first,  # from the first checkpoint to the last
        }
    entry["summary"] = summary
    ratio = summary["minidl"]["peak_mib"] / summary["numpy"]["peak_mib"]
    growth_mib = summary["minidl"]["growth_mib"]
    entry["ratios"] = {"peak minidl/numpy": ratio}
    entry["bar"] = "peak <= 1.3x NumPy; growth < 1 MiB"
    entry["met"] = ratio <= 1.3 and growth_mib < 1.0
    entry["notes"].append("peak = VmHWM of the whole process (interpreter and imports included); "
                          "training = peak minus the RSS just before the first step")
    entry["wall_s"] = time.perf_counter() - t0
    log(f"{'memory':<11} peak minidl {summary['minidl']['peak_mib']:.1f} MiB, "
        f"numpy {summary['numpy']['peak_mib']:.1f} MiB "
        f"(x{ratio:.2f}); growth minidl {growth_mib:+.2f} MiB, numpy {summary['numpy']['growth_mib']:+.2f} MiB")
    return entry


# --------------------------------------------------------------------------- machine


def machine_info() -> dict[str, Any]:
    """What the numbers depend on: CPU, versions, thread settings, BLAS."""
    info: dict[str, Any] = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "processor": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "minidl": md.__version__,
        "thread_env": {k: os.environ.get(k) for k in THREAD_ENV if os.environ.get(k) is not None},
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["numpy_blas"] = {k: blas.get(k) for k in ("name", "version", "openblas configuration") if k in blas}
    except Exception as exc:  # older NumPy: no dict mode
        info["numpy_blas"] = f"unknown ({type(exc).__name__})"
    try:
        import threadpoolctl  # optional

        info["threadpools"] = [{k: p.get(k) for k in ("internal_api", "num_threads", "version")}
                               for p in threadpoolctl.threadpool_info()]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    torch = workloads.torch_module()
    if torch is None:
        info["torch"] = None
    else:
        info["torch"] = torch.__version__
        info["torch_num_threads"] = torch.get_num_threads()
    info["cupy"] = md.cupy_available()
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# --------------------------------------------------------------------------- reports


def _fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def _fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x"


def _met(entry: dict[str, Any]) -> str:
    if not entry["bar"]:
        return ""
    met = entry["met"]
    verdict = "n/a" if met is None else ("yes" if met else "**no**")
    return f"{verdict} ({entry['met_detail']})" if "met_detail" in entry else verdict


def _line(entry: dict[str, Any]) -> str:
    res = entry["results"]
    if not res:
        return f"{entry['name']:<11} skipped: {'; '.join(sorted(set(entry['skipped'].values())))}"
    cells = [f"{impl} {_fmt_time(res[impl]['median'])}" for impl in IMPLS if impl in res]
    ratios = ", ".join(f"{k} {_fmt_ratio(v)}" for k, v in entry["ratios"].items() if v is not None)
    bar = f"  [bar {entry['bar']}: {_met(entry)}]" if entry["bar"] else ""
    return f"{entry['name']:<11} " + " | ".join(cells) + f"  ({ratios}){bar}"


def _spread(r: dict[str, float]) -> str:
    """The interquartile range as a percentage of the median (the noise of this run)."""
    return f"{100 * (r['p75'] - r['p25']) / r['median']:.0f}%" if r["median"] else "-"


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# minidl benchmarks",
        "",
        f"{m['date_utc']}, mode `{report['mode']}`: {m['processor']}, {m['cpu_count']} CPUs; "
        f"Python {m['python']}, NumPy {m['numpy']}, PyTorch {m['torch'] or 'not installed'}"
        + (f" ({m['torch_num_threads']} threads)" if m.get("torch") else "") + ".",
        f"Thread env: {m['thread_env'] or 'none set'}; NumPy BLAS: {m['numpy_blas']}; load average at start "
        f"{m['load_average']}.",
        "",
        "Median time per step over interleaved repeats (float32). Ratios are paired: the median over rounds "
        "of (minidl's block median / the peer's block median in the same round); < 1 means minidl is faster. "
        "The NumPy floor is the same computation hand-written in NumPy (benchmarks/numpy_floor.py). "
        "Noise: the interquartile range of the step times, as a share of the median.",
        "",
        "| workload | minidl | NumPy floor | PyTorch CPU | minidl / NumPy | minidl / PyTorch | bar | met "
        "| page faults / step (minidl, NumPy, PyTorch) | noise (IQR) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for e in report["workloads"]:
        if e["name"] == "memory":
            s = e["summary"]
            lines.append(
                f"| {e['title']} | peak {s['minidl']['peak_mib']:.1f} MiB "
                f"(training {s['minidl']['training_mib']:.1f}), "
                f"growth {s['minidl']['growth_mib']:+.2f} MiB | peak {s['numpy']['peak_mib']:.1f} MiB "
                f"(training {s['numpy']['training_mib']:.1f}), growth {s['numpy']['growth_mib']:+.2f} MiB | - | "
                f"{_fmt_ratio(e['ratios']['peak minidl/numpy'])} | - | {e['bar']} | {_met(e)} "
                "| - | - |")
        else:
            res = e["results"]
            cells = [_fmt_time(res[i]["median"]) if i in res else "skipped" for i in IMPLS]
            noise = ", ".join(f"{i} {_spread(res[i])}" for i in IMPLS if i in res) or "-"
            faults = {i: res[i].get("minor_faults_per_call", 0.0) for i in IMPLS if i in res}
            fault_cells = ", ".join(f"{faults[i]:,.0f}" if i in faults else "-" for i in IMPLS)
            lines.append(f"| {e['title']} | " + " | ".join(cells) + f" | {_fmt_ratio(e['ratios']['minidl/numpy'])} | "
                         f"{_fmt_ratio(e['ratios']['minidl/torch'])} | {e['bar'] or '-'} | "
                         f"{_met(e) or '-'} | {fault_cells} | {noise} |")
            if max(faults.values(), default=0.0) >= FAULT_NOTE_THRESHOLD:
                notes.append(f"- {e['name']}: minor page faults per step: "
                             + ", ".join(f"{i} {f:,.0f}" for i, f in faults.items())
                             + " (pages mapped afresh per step; see README, Performance)")
        for impl, why in e["skipped"].items():
            notes.append(f"- {e['name']}: {impl} skipped ({why})")
        for n in e["notes"]:
            notes.append(f"- {e['name']}: {n}")
    if notes:
        lines += ["", "Notes:", ""] + notes
    lines += ["", f"Total wall time {report['wall_s']:.0f} s. Reproduce: `python -m benchmarks` "
                  "(`--quick` for a short run).", ""]
    return "\n".join(lines)


def write_reports(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "latest.json", out_dir / "latest.md"
    json_path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    md_path.write_text(markdown(report))
    return json_path, md_path


# --------------------------------------------------------------------------- main


def select(names: Sequence[str], only: str | None) -> list[str]:
    if not only:
        return list(names)
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    chosen = [n for n in names if any(w in n for w in wanted)]
    if not chosen:
        raise SystemExit(f"--only {only!r} matches no workload; choose from {', '.join(names)}")
    return chosen


def run(mode_name: str = "full", only: str | None = None, out_dir: Path | None = None,
        log: Callable[[str], None] = print, threads: int | None = None) -> dict[str, Any]:
    """Run the selected workloads in ``mode_name`` and write the reports; returns the report.

    PyTorch gets ``threads`` threads (default: every CPU, as NumPy's BLAS uses by default).
    """
    mode = MODES[mode_name]
    torch = workloads.torch_module()
    if torch is not None:
        torch.set_num_threads(threads or os.cpu_count() or 1)
    start = time.perf_counter()
    report: dict[str, Any] = {"mode": mode_name, "machine": machine_info(), "workloads": []}
    names = select(ALL_NAMES, only)
    log(f"minidl benchmarks ({mode_name}): {', '.join(names)}")
    for name, make in _timed_cases(mode):
        if name in names:
            report["workloads"].append(run_timed(name, make, mode, log))
    if "memory" in names:
        report["workloads"].append(run_memory(mode, log))
    report["wall_s"] = time.perf_counter() - start
    report["machine"]["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    json_path, md_path = write_reports(report, out_dir or RESULTS)
    log(f"wrote {json_path} and {md_path} ({report['wall_s']:.0f} s)")
    return report


def _reexec_with_threads(threads: int, argv: Sequence[str]) -> None:
    """BLAS/OpenMP thread counts are read when the libraries load, so to change them run the
    harness again in a fresh interpreter with the thread variables set (once)."""
    wanted = str(threads)
    if all(os.environ.get(k) == wanted for k in THREAD_ENV[:3]):
        return
    env = dict(os.environ)
    for k in THREAD_ENV[:3]:
        env[k] = wanted
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "benchmarks", *argv], env)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="minidl vs a NumPy floor and PyTorch CPU")
    parser.add_argument("command", nargs="?", choices=("run", "list"), default="run")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="fewer repeats, shorter memory runs (under 30 s)")
    group.add_argument("--smoke", action="store_true", help="tiny sizes: checks the harness, not the speed")
    parser.add_argument("--only", help="comma-separated substrings of workload names, e.g. mlp,per_op")
    parser.add_argument("--out", type=Path,
                        help="directory for latest.json / latest.md (default benchmarks/results, ignored by git)")
    parser.add_argument("--threads", type=int, help="threads for NumPy's BLAS and PyTorch (default: all CPUs; "
                        "1 gives steadier ratios when other programs load the machine)")
    args = parser.parse_args(argv)
    if args.command == "list":
        print("\n".join(ALL_NAMES))
        return 0
    if args.threads is not None:
        _reexec_with_threads(args.threads, sys.argv[1:] if argv is None else argv)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    run(mode, args.only, args.out, threads=args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
