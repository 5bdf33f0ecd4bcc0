"""The benchmarks stay runnable: every script parses and imports, and each one's table and last
line come out right on a tiny input. No timing is asserted (the numbers live in docs/benchmarks.md)."""

from __future__ import annotations

import ast
import importlib
import os
import re
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from benchmarks import common, memory, profile_speed, proposal_latency, run_all, sandbox_overhead

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPTS = sorted(p for p in BENCH.glob("*.py"))


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_every_benchmark_parses_and_imports(path: Path):
    ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    mod = importlib.import_module(f"benchmarks.{path.stem}")
    if path.stem not in ("common", "run_all"):
        assert callable(getattr(mod, "main", None)), f"{path.name} has no main()"


def test_run_all_knows_every_benchmark_script():
    listed = {name for name, _, _ in run_all.BENCHMARKS}
    scripts = {p.stem for p in SCRIPTS} - {"common", "run_all"}
    assert scripts <= listed, f"not run by make bench: {scripts - listed}"


def test_common_table_and_last_line():
    t = common.md_table(["a", "b"], [[1, 2.5], ["x|y", float("nan")]])
    assert t.splitlines() == ["| a | b |", "| --- | --- |", "| 1 | 2.5 |", "| x\\|y | n/a |"]
    line = common.last_line("demo", rows=1_000, ms=12.3456, backend="Gemma 3", missing=float("nan"))
    assert line == "demo rows=1000 ms=12.35 backend=Gemma_3 missing=nan"
    assert run_all.LAST.match(line)
    assert common.pct([1, 2, 3, 4], 0.5) == 2.5 and common.pct([], 0.5) != common.pct([], 0.5)


def test_profile_speed_on_a_tiny_table():
    # 3,000 rows profiled with a 1,000-row sample: the sampled side has real errors, the exact none.
    r = profile_speed.run(3_000, ydata=False, sample_rows=1_000)
    assert r["rows"] == 3_000 and r["cols"] == 20 and r["sample_rows"] == 1_000
    ee = r["err_exact"]
    assert ee["quantile_rank_pp"][0] == 0 and ee["missing_pp"][0] == 0 and ee["top_share_pp"][0] < 1e-9
    assert ee["distinct_low_pct"][0] == 0 and ee["distinct_high_pct"][0] == 0
    es = r["err_sampled"]
    assert es["missing_pp"][0] == 0  # missing shares always use every row
    assert es["distinct_high_pct"][0] > 0  # a sample sees fewer distinct IDs: measured, not hidden
    assert r["sampled_notes"], "the sampled profile must say it sampled"
    text = profile_speed.render(r)
    assert "| ours, exact (sampling off) | 3,000 |" in text and "quantiles q25/q50/q75" in text


def test_sandbox_overhead_code_runs_and_renders():
    df = sandbox_overhead.make_frame(500)
    assert df.duplicated().sum() > 0 and df["age"].isna().any()
    sandbox_overhead.floor_step(df)()  # the step's code is valid on the table
    ns: dict = {}
    exec(sandbox_overhead.CODE, ns)  # noqa: S102 - our own benchmark code
    out = ns["clean"](df)
    assert not out.duplicated().any() and not out["age"].isna().any()
    fake = {
        "rows": 500,
        "cols": 10,
        "repeats": 2,
        "ms": {"floor": [1.0, 2.0], "ours": [50.0, 70.0], "subprocess": [900.0, 1000.0]},
        "preview_ms": [40.0, 60.0],
        "accept_ms": [10.0, 10.0],
        "sandbox_ms": [30.0, 30.0],
        "isolation": {},
    }
    text = sandbox_overhead.render(fake)
    assert "| ours: sandbox preview + accept (snapshot, save) | 500 | 2 | 60 | 50 | 70 | 58.5 |" in text
    assert "Jupyter" not in text  # rows only for the paths that ran


def test_proposal_latency_summary_and_table():
    d = proposal_latency.DEFAULT
    recs = [
        {"dataset": "iris", "rows": 150, "stage": "clean", "technique": t, "seconds": s, "verified": v,
         "provenance": src}
        for t, s, v, src in [
            ("scaffold", 9.0, False, "rule"),
            (d, 1.0, True, "gemma"),
            (d, 3.0, True, "rule"),
            (proposal_latency.RECIPES_ONLY, 0.5, True, "rule"),
        ]
    ]  # fmt: skip
    rows = proposal_latency.summarise(recs)
    assert [(r["technique"], r["n"]) for r in rows] == [
        (proposal_latency.RECIPES_ONLY, 1),
        (d, 2),
        ("scaffold", 1),
    ]
    sel = rows[1]
    assert sel["p50_s"] == 2.0 and sel["rows"] == 300 and sel["verified"] == 1.0 and sel["by_gemma"] == 1
    text = proposal_latency.render(rows, [{"dataset": "iris", "seconds": 12.5, "ok": True}])
    assert f"| clean | {d} | 2 | 300 | 100% | 1 | 2 |" in text and "| iris | 12.5 | yes |" in text
    df = pd.DataFrame({"y": [0, 1] * 10, "x": range(20), "neg": range(-10, 10)})
    assert proposal_latency.log_request(df, "y") == "add a column with the log of x"
    assert callable(proposal_latency.engine_propose())


def test_memory_measures_a_process_tree_and_renders():
    rss, pss, n = memory.tree_memory(psutil.Process(), pss=True)
    assert rss > 10e6 and n >= 1 and pss > 0
    sampler = memory.Sampler(os.getpid())
    sampler.start()
    snap = sampler.snapshot()
    time.sleep(0.3)
    sampler.stop()
    assert not sampler.is_alive() and sampler.peak_rss > 10e6 and snap["processes"] >= 1
    m = {"rss_mb": 900.0, "pss_mb": 700.0, "processes": 3}
    bare = {"moments": {memory.BARE: m}, "peak_rss_mb": 950.0, "peak_processes": 1}
    app = {
        "driver": "apptest",
        "moments": {memory.AFTER_WALK: m},
        "peak_rss_mb": 1200.0,
        "peak_processes": 4,
        "timings_s": {"load sample": 1.5},
        "steps": [{"stage": "clean", "provenance": "rule", "ok": True}],
    }
    text = memory.render(bare, app)
    assert "| app server (apptest walk) | after the walk" in text and "26%" in text  # 700 / 2700
    assert "clean (rule, ok)" in text


def test_run_all_writes_sections_from_outputs():
    ok = {
        "name": "demo",
        "rc": 0,
        "seconds": 3.0,
        "stderr": "",
        "stdout": "machine: x\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\nnote line\ndemo rows=10 s=1.5\n",
    }
    bad = {"name": "broken", "rc": 2, "seconds": 1.0, "stdout": "", "stderr": "Traceback\nValueError: boom"}
    doc = run_all.document([(ok, "a demo"), (bad, "a broken one")], {"loadavg_1m": 1.0})
    assert "## demo" in doc and "\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\nnote line" in doc
    assert "```text\ndemo rows=10 s=1.5\n```" in doc
    assert "**failed** (exit code 2)" in doc and "ValueError: boom" in doc
    assert re.search(r"\| demo \| ok \| `demo rows=10 s=1.5` \|", doc)


def test_llm_speed_times_both_sides_with_one_function():
    from benchmarks import llm_speed
    from core.llm.base import GenerationParams

    def stream(prompt, params):
        yield from ("a", "b", "c")

    t = llm_speed.timed(stream, "xy", GenerationParams(), len)
    assert t is not None and t["n_out"] == 3 and t["n_prompt"] == 2 and t["total"] >= t["first"] > 0
    e = llm_speed.Engine("app", stream)
    e.add(t)
    assert e.decode_tokens == 2 and len(e.rates) == 1 and e.ttft == [t["first"]]
    assert llm_speed.timed(lambda p, q: iter(()), "xy", GenerationParams(), len) is None  # no answer
