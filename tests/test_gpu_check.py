"""The prepared GPU check (benchmarks/gpu_check.sh) and GPU benchmarks: ready to run on a GPU
machine, and skipping cleanly, with the reason, where CuPy or a GPU is missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import minidl as md
from benchmarks import gpu

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"


def test_gpu_benchmarks_without_a_gpu_write_the_reason(tmp_path):
    if md.cupy_available():
        pytest.skip("CuPy with a GPU is available here: the benchmarks really run (see gpu_check.sh)")
    assert gpu.main(["--out", str(tmp_path), "--quick"]) == 0
    result = json.loads((tmp_path / "gpu.json").read_text())
    assert result["rows"] == [] and result["skipped"].startswith("no CuPy GPU backend")
    assert (tmp_path / "gpu.md").read_text().startswith("GPU benchmarks skipped: no CuPy GPU backend")


def test_the_gpu_table_names_the_gpu_and_the_ratios():
    result = {"gpu": "NVIDIA H200", "skipped": None, "quick": False, "rows": [
        {"workload": "MLP, batch 128", "minidl_ms": 3.0, "torch_ms": 1.5, "ratio": 2.0},
        {"workload": "CNN, batch 1024", "minidl_ms": 4.0, "torch_skipped": "torch with CUDA is not available"}]}
    table = gpu.markdown(result)
    assert table.startswith("GPU: NVIDIA H200")
    assert "| MLP, batch 128 | 3.000 | 1.500 | 2.00x |" in table
    assert "| CNN, batch 1024 | 4.000 | skipped (torch with CUDA is not available) | - |" in table


def test_time_step_drops_warmup_and_synchronizes_every_step():
    calls: list[str] = []
    times = gpu.time_step(lambda: calls.append("step"), lambda: calls.append("sync"), warmup=2, samples=6,
                          budget_s=10.0)
    assert len(times) == 6 and all(t >= 0 for t in times)
    assert calls[:3] == ["step", "step", "sync"] and calls[3:] == ["step", "sync"] * 6


def test_the_gpu_check_script_is_valid_bash_and_covers_every_step():
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    subprocess.run([bash, "-n", str(SCRIPT)], check=True)
    text = SCRIPT.read_text()
    for needle in ("MINIDL_BACKEND=cupy $PY -m pytest", "step 06_suite_cupy 600 bash -c run_shards",
                   "-m lessons --quick", "-m benchmarks.gpu --out \"$OUT\"", "timeout", "TOTAL_S:-530"):
        assert needle in text, needle


def test_the_gpu_check_without_a_gpu_reports_failed_steps_and_writes_its_summary(tmp_path):
    """With no time budget the script runs nothing, marks every step 'not run' in summary.md
    under $OUT, and its exit status says it failed (the per-step time limits work)."""
    bash = shutil.which("bash")
    if bash is None or shutil.which("timeout") is None:
        pytest.skip("bash or timeout is not installed")
    env = {**os.environ, "OUT": str(tmp_path), "TOTAL_S": "5", "PYTHON": sys.executable, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([bash, str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    summary = (tmp_path / "summary.md").read_text()
    assert proc.returncode == 1
    for name in ("01_machine", "02_smoke", "03_gpu_tests", "04_benchmarks", "06_suite_cupy"):
        assert f"| {name} | not run (no time left) |" in summary, summary
