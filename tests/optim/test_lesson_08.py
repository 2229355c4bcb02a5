"""Lesson 08 runs in quick mode, writes its figure and all its claims hold."""

import importlib


def test_lesson_08_quick(tmp_path):
    mod = importlib.import_module("lessons.08_optimizers")
    result = mod.main(["--quick", "--out", str(tmp_path)])
    assert result.claims and all(c.passed for c in result.claims)
    assert {c.id for c in result.claims} >= {"OPT-4", "OPT-5", "OPT-6", "OPT-7", "OPT-9"}
    pngs = list(tmp_path.rglob("*.png"))
    assert pngs and all(p.stat().st_size > 10_000 for p in pngs)
