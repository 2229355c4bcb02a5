"""The benchmark harness and its NumPy floor.

The floor (benchmarks/numpy_floor.py) is hand-written forward/backward code; these tests
make it a *checked* reference: minidl must compute the same losses and gradients from the
same weights and data (and PyTorch the same again, when installed). The harness itself runs
in its tiny ``smoke`` mode and must write valid JSON and markdown. No wall time is asserted.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

import minidl as md
from benchmarks import __main__ as cli
from benchmarks import memory, timing, workloads
from benchmarks import numpy_floor as floor

RTOL, ATOL = 2e-4, 2e-5  # float32, different summation orders


def assert_same(a_loss, a_grads, b_loss, b_grads, what):
    assert np.isclose(a_loss, b_loss, rtol=RTOL, atol=ATOL), f"{what}: loss {a_loss} vs {b_loss}"
    assert len(a_grads) == len(b_grads)
    for i, (ga, gb) in enumerate(zip(a_grads, b_grads)):
        assert ga.shape == gb.shape, f"{what}: grad {i} shape {ga.shape} vs {gb.shape}"
        assert ga.dtype == np.float32 and gb.dtype == np.float32, f"{what}: grad {i} dtypes {ga.dtype}, {gb.dtype}"
        scale = max(float(np.abs(gb).max()), 1e-3)
        np.testing.assert_allclose(ga, gb, rtol=RTOL, atol=ATOL * scale * 10, err_msg=f"{what}: grad {i}")


# ----------------------------------------------------------------------------- the floor itself


def test_floor_cross_entropy_matches_definition():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((5, 4)).astype(np.float32) * 30  # large logits: must not overflow
    y = np.array([0, 3, 1, 1, 2])
    loss, grad = floor.cross_entropy(z, y)
    z64 = z.astype(np.float64)
    logp = z64 - np.log(np.exp(z64 - z64.max(1, keepdims=True)).sum(1, keepdims=True)) - z64.max(1, keepdims=True)
    assert np.isclose(loss, -logp[np.arange(5), y].mean(), rtol=1e-5)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-6)  # softmax - onehot sums to zero per row


def test_floor_mlp_gradients_match_finite_differences():
    """The floor's hand-written backward against central differences (float64, tiny net)."""
    rng = np.random.default_rng(2)
    params = [p.astype(np.float64) for p in floor.mlp_init(rng, (5, 4, 3))]
    x = rng.standard_normal((6, 5))
    y = rng.integers(0, 3, size=6)
    _, grads = floor.mlp_loss_and_grads(params, x, y)
    eps = 1e-6
    for p, g in zip(params, grads):
        for idx in [(0,) * p.ndim, tuple(n - 1 for n in p.shape)]:
            old = p[idx]
            p[idx] = old + eps
            up = floor.mlp_loss_and_grads(params, x, y)[0]
            p[idx] = old - eps
            down = floor.mlp_loss_and_grads(params, x, y)[0]
            p[idx] = old
            assert np.isclose((up - down) / (2 * eps), g[idx], rtol=1e-4, atol=1e-7)


def test_floor_conv_backward_matches_finite_differences():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 2, 5, 5))
    w = rng.standard_normal((3, 2, 3, 3))
    b = rng.standard_normal(3)
    g = rng.standard_normal((2, 3, 5, 5))  # a random upstream gradient

    def objective():
        return float((floor.conv2d_forward(x, w, b, padding=1)[0] * g).sum())

    out, cols = floor.conv2d_forward(x, w, b, padding=1)
    dx, dw, db = floor.conv2d_backward(g, cols, w, padding=1, need_dx=True)
    eps = 1e-6
    for arr, grad in ((x, dx), (w, dw), (b, db)):
        for idx in [(0,) * arr.ndim, tuple(n - 1 for n in arr.shape), tuple(n // 2 for n in arr.shape)]:
            old = arr[idx]
            arr[idx] = old + eps
            up = objective()
            arr[idx] = old - eps
            down = objective()
            arr[idx] = old
            assert np.isclose((up - down) / (2 * eps), grad[idx], rtol=1e-5, atol=1e-7)


def test_floor_conv_matches_direct_sum():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    out = floor.conv2d_forward(x, w, b, padding=1)[0]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for o in range(3):
        for i in range(4):
            for j in range(4):
                expected = b[o] + (xp[0, :, i:i + 3, j:j + 3] * w[o]).sum()
                assert np.isclose(out[0, o, i, j], expected, rtol=1e-5, atol=1e-5)
    assert out.dtype == np.float32


def test_floor_maxpool_routes_gradient_to_the_max():
    x = np.array([[[[1, 5, 2, 0], [3, 4, 7, 7], [0, 0, 1, 2], [9, 0, 3, 4]]]], dtype=np.float32)
    out, mask = floor.maxpool2_forward(x)
    np.testing.assert_array_equal(out[0, 0], [[5, 7], [9, 4]])
    g = np.ones_like(out)
    dx = floor.maxpool2_backward(g, mask)
    expected = np.array([[0, 1, 0, 0], [0, 0, 0.5, 0.5], [0, 0, 0, 0], [1, 0, 0, 1]], dtype=np.float32)
    np.testing.assert_array_equal(dx[0, 0], expected)
    assert dx.dtype == np.float32


# ----------------------------------------------------------------------------- minidl == floor


@pytest.mark.parametrize("batch", [16, 3])
def test_mlp_minidl_matches_floor(batch):
    built, inputs, _ = workloads.nets("mlp", batch, impls=("minidl", "numpy"))
    loss_m, grads_m = built["minidl"].loss_and_grads(*inputs["minidl"])
    loss_f, grads_f = built["numpy"].loss_and_grads(*inputs["numpy"])
    assert_same(loss_m, grads_m, loss_f, grads_f, "MLP minidl vs floor")


def test_mlp_training_steps_track_the_floor():
    """Several SGD steps: the same weights after each step (same loss curve)."""
    built, inputs, _ = workloads.nets("mlp", 8, impls=("minidl", "numpy"))
    for _ in range(3):
        built["minidl"].train_step(*inputs["minidl"])
        built["numpy"].train_step(*inputs["numpy"])
    for p, q in zip(built["minidl"].params, built["numpy"].params):
        np.testing.assert_allclose(p.numpy(), q, rtol=1e-4, atol=1e-6)
    loss_m, grads_m = built["minidl"].loss_and_grads(*inputs["minidl"])
    loss_f, grads_f = built["numpy"].loss_and_grads(*inputs["numpy"])
    assert_same(loss_m, grads_m, loss_f, grads_f, "MLP after 3 steps")


def test_mlp_torch_matches_floor(torch):
    built, inputs, _ = workloads.nets("mlp", 16, impls=("numpy", "torch"))
    loss_t, grads_t = built["torch"].loss_and_grads(*inputs["torch"])
    loss_f, grads_f = built["numpy"].loss_and_grads(*inputs["numpy"])
    assert_same(loss_t, grads_t, loss_f, grads_f, "MLP torch vs floor")


def test_cnn_minidl_matches_floor():
    built, inputs, _ = workloads.nets("cnn", 4, impls=("minidl", "numpy"))
    loss_m, grads_m = built["minidl"].loss_and_grads(*inputs["minidl"])
    loss_f, grads_f = built["numpy"].loss_and_grads(*inputs["numpy"])
    assert_same(loss_m, grads_m, loss_f, grads_f, "CNN minidl vs floor")


def test_cnn_torch_matches_floor(torch):
    built, inputs, _ = workloads.nets("cnn", 4, impls=("numpy", "torch"))
    loss_t, grads_t = built["torch"].loss_and_grads(*inputs["torch"])
    loss_f, grads_f = built["numpy"].loss_and_grads(*inputs["numpy"])
    assert_same(loss_t, grads_t, loss_f, grads_f, "CNN torch vs floor")


def test_per_op_gradients_agree():
    steps, _ = workloads.per_op_steps(10)
    expected = steps["numpy"]()
    np.testing.assert_array_equal(expected, np.full(10, 2, dtype=np.float32))
    for impl, step in steps.items():
        g = step()
        g = g.numpy() if hasattr(g, "numpy") else np.asarray(g)
        np.testing.assert_array_equal(g, expected, err_msg=impl)
        assert g.dtype == np.float32, impl


def test_tanh_stats_agree():
    steps, _ = workloads.tanh_stats_steps(width=64, depth=3, batch=4)
    expected = np.array(steps["numpy"]())
    assert expected.shape == (3, 2)
    for impl, step in steps.items():
        np.testing.assert_allclose(np.array(step()), expected, rtol=1e-4, atol=1e-6, err_msg=impl)


def test_chain_gradients_agree():
    steps, _ = workloads.chain_steps(n_ops=300, factor=1.001)
    expected = steps["numpy"]()
    assert np.allclose(expected, 1.001**300, rtol=1e-4)
    for impl, step in steps.items():
        g = step()
        g = g.numpy() if hasattr(g, "numpy") else np.asarray(g)
        np.testing.assert_allclose(g, expected, rtol=1e-6, err_msg=impl)


def test_fit_digits_minidl_and_torch_train_alike(torch):
    """fit and the hand-written PyTorch loop see the same batches from the same weights: the
    per-epoch loss and accuracy agree (a different batch order would move them by ~1e-2)."""
    steps, skipped = workloads.fit_steps(epochs=2, n_train=256)
    assert set(steps) == {"minidl", "torch"} and "numpy" in skipped
    got_m, got_t = steps["minidl"](), steps["torch"]()
    assert len(got_m["loss"]) == 2 and got_m["loss"][1] < got_m["loss"][0]
    np.testing.assert_allclose(got_m["loss"], got_t["loss"], rtol=1e-4)
    np.testing.assert_allclose(got_m["accuracy"], got_t["accuracy"], atol=1 / 256 + 1e-9)
    assert steps["minidl"]() == got_m  # every call starts again from the same weights and order


def test_fit_digits_data_is_the_fixed_split():
    x, y, arrays = workloads.fit_data()
    assert x.shape == (1257, 64) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert y.dtype == np.int64 and np.bincount(y).min() >= 120  # stratified: every class present
    assert [a.shape for a in arrays] == [(128, 64), (128,), (128, 128), (128,), (10, 128), (10,)]
    x2, _, arrays2 = workloads.fit_data()
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(arrays[0], arrays2[0])


# ----------------------------------------------------------------------------- timing and memory


def test_interleaved_timing_takes_turns():
    calls = []
    steps = {name: (lambda name=name: calls.append(name)) for name in ("a", "b", "c")}
    out = timing.interleaved(steps, warmup=1, samples=6, rounds=3, inner=2, settle_s=0.0)
    assert set(out) == {"a", "b", "c"}
    for r in out.values():
        assert r["n"] == 6 and 0 <= r["p25"] <= r["median"] <= r["p75"]
    assert calls[:6] == ["a", "a", "b", "b", "c", "c"]  # warm-up: one sample of 2 calls each
    runs = [name for i, name in enumerate(calls[6:]) if i == 0 or calls[6 + i - 1] != name]
    # each round runs every implementation as one block, and the first slot rotates
    assert runs == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]


def test_interleaved_settles_each_block_for_settle_s_before_timing():
    """Every block begins with untimed calls for settle_s seconds (at least one call), so that
    another library's spinning threads have stopped before the timed calls start."""
    log: list[tuple[str, float]] = []
    steps = {name: (lambda name=name: log.append((name, time.perf_counter()))) for name in ("a", "b", "c")}
    settle_s = 0.02
    timing.interleaved(steps, warmup=1, samples=6, rounds=3, settle_s=settle_s)
    runs: list[list[float]] = []  # the call times of each run of one step
    for i, (name, t) in enumerate(log):
        if i == 0 or log[i - 1][0] != name:
            runs.append([])
        runs[-1].append(t)
    assert [len(r) for r in runs[:3]] == [1, 1, 1]  # warm-up: one call each
    blocks = runs[3:]
    assert len(blocks) == 9  # 3 rounds of 3 blocks
    for calls in blocks:
        assert len(calls) >= 3  # settle calls, then the 2 timed calls
        assert calls[-2] - calls[0] >= settle_s  # the first timed call comes settle_s after the block began


@pytest.mark.skipif(timing.resource is None, reason="page-fault counts need the POSIX resource module")
def test_interleaved_counts_fresh_pages_per_call():
    """A step that allocates 128 MiB afresh (above glibc's largest mmap threshold, so the
    memory is mapped and unmapped every call) faults pages in every call: at least 64 even
    with 2 MiB transparent huge pages, 32,768 with 4 KiB pages. Refilling one buffer faults none."""
    buf = np.empty(1 << 20, dtype=np.float32)
    steps = {"fresh": lambda: np.ones(1 << 25, dtype=np.float32), "reuse": lambda: buf.fill(1.0)}
    out = timing.interleaved(steps, warmup=1, samples=4, rounds=2)
    assert out["fresh"]["minor_faults_per_call"] >= 64
    assert out["reuse"]["minor_faults_per_call"] < out["fresh"]["minor_faults_per_call"] / 10


def test_memory_run_reports_peak_and_checkpoints():
    out = memory.run("numpy", steps=4, batch=4)
    assert out["peak_mib"] >= out["rss_start_mib"] > 0
    assert sorted(int(k) for k in out["rss_after_mib"]) == [1, 2, 3, 4]


# ----------------------------------------------------------------------------- the harness end to end


def test_smoke_run_writes_json_and_markdown(tmp_path):
    lines = []
    report = cli.run("smoke", only=None, out_dir=tmp_path, log=lines.append)
    data = json.loads((tmp_path / "latest.json").read_text())
    assert data["mode"] == "smoke"
    names = [w["name"] for w in data["workloads"]]
    assert names == cli.ALL_NAMES
    machine = data["machine"]
    for key in ("cpu_count", "python", "numpy", "torch", "thread_env", "numpy_blas", "date_utc"):
        assert key in machine
    by_name = {w["name"]: w for w in data["workloads"]}
    for name in ("mlp_b128", "mlp_b16", "per_op", "tanh_stats", "chain"):
        res = by_name[name]["results"]
        assert {"minidl", "numpy"} <= set(res), name
        for r in res.values():
            assert r["median"] > 0 and r["n"] >= 3
        assert by_name[name]["ratios"]["minidl/numpy"] > 0
    if not md.cupy_available():
        assert by_name["mlp_gpu"]["results"] == {} and "minidl" in by_name["mlp_gpu"]["skipped"]
    fit = by_name["fit_digits"]
    assert fit["bar"] == "<= 1x PyTorch" and fit["results"]["minidl"]["median"] > 0
    assert "minor_faults_per_call" in fit["results"]["minidl"]
    if "torch" in fit["results"]:
        assert fit["ratios"]["minidl/torch"] > 0 and fit["met"] in (True, False)
    mem = by_name["memory"]["summary"]
    assert mem["minidl"]["peak_mib"] > 0 and mem["numpy"]["peak_mib"] > 0
    text = (tmp_path / "latest.md").read_text()
    assert "| workload | minidl | NumPy floor | PyTorch CPU |" in text
    for w in data["workloads"]:
        assert w["title"] in text
    assert report["workloads"][0]["name"] == "mlp_b128"
    assert any("wrote" in line for line in lines)


def test_only_selects_workloads(tmp_path):
    report = cli.run("smoke", only="per_op,chain", out_dir=tmp_path, log=lambda s: None)
    assert [w["name"] for w in report["workloads"]] == ["per_op", "chain"]
    with pytest.raises(SystemExit, match="matches no workload"):
        cli.select(cli.ALL_NAMES, "nonesuch")


def test_bars_follow_design():
    fast = {"minidl": {"median": 1.0}, "numpy": {"median": 1.0}, "torch": {"median": 1.2}}
    slow = {"minidl": {"median": 1.2}, "numpy": {"median": 1.0}, "torch": {"median": 1.1}}
    assert cli._bar("mlp_b128", fast)[1] is True
    assert cli._bar("mlp_b128", slow)[1] is False
    assert cli._bar("mlp_b16", slow)[1] is True  # 1.2x <= 1.5x
    assert cli._bar("per_op", slow)[1] is False
    assert cli._bar("cnn", slow)[1] is True
    assert cli._bar("chain", slow)[1] is False and cli._bar("chain", fast)[1] is True
    assert cli._bar("fit_digits", slow)[1] is False and cli._bar("fit_digits", fast)[1] is True
    assert cli._bar("mlp_b128", {"minidl": {"median": 1.0}, "numpy": {"median": 1.0}})[1] is None  # no torch


def _mlp_entry(minidl: float, numpy: float, torch: float) -> dict:
    res = {"minidl": {"median": minidl}, "numpy": {"median": numpy}, "torch": {"median": torch}}
    entry = {"name": "mlp_b128", "results": res, "notes": [],
             "ratios": {"minidl/numpy": minidl / numpy, "minidl/torch": minidl / torch}}
    entry["bar"], entry["met"] = cli._bar("mlp_b128", res)
    cli._explain_mlp_bar(entry)
    return entry


def test_mlp_bar_says_which_half_failed_and_when_the_floor_is_slower_than_torch():
    blas_bound = _mlp_entry(1.1, 1.0, 0.9)  # within 1.15x the floor, but the floor is 1.11x torch
    assert blas_bound["met"] is False and blas_bound["ratios"]["numpy/torch"] == pytest.approx(1.0 / 0.9)
    assert cli._met(blas_bound) == "**no** (NumPy half yes (1.100x), PyTorch half no (1.222x))"
    assert any("the NumPy floor itself takes 1.11x PyTorch's time" in n for n in blas_bound["notes"])
    slow_engine = _mlp_entry(1.3, 1.0, 1.2)  # the floor beats torch; the engine's overhead fails both halves
    assert cli._met(slow_engine) == "**no** (NumPy half no (1.300x), PyTorch half no (1.083x))"
    assert slow_engine["notes"] == []
    floor_only = _mlp_entry(1.154, 1.0, 1.4)  # prints as 1.15x, fails the floor half, beats torch
    assert cli._met(floor_only) == "**no** (NumPy half no (1.154x), PyTorch half yes (0.824x))"
    met = _mlp_entry(1.0, 0.95, 1.1)
    assert cli._met(met) == "yes" and met["notes"] == []


def test_paired_ratio_cancels_load_changes_between_rounds():
    # the machine got 10x slower in the later rounds: per-round ratios stay 0.5
    a = {"median": 5.0, "round_medians": [1.0, 1.0, 10.0, 10.0, 10.0]}
    b = {"median": 20.0, "round_medians": [2.0, 2.0, 20.0, 20.0, 20.0]}
    assert timing.paired_ratio(a, b) == 0.5
    assert cli._ratio({"minidl": a, "numpy": b}, "minidl", "numpy") == 0.5
