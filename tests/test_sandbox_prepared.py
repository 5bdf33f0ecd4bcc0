"""Prepared job processes (`LocalSandbox.prepare`): forked and contained before the job, input read
ahead; each runs one job, only the job it was prepared for, with the layers a cold job gets."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest

from core.sandbox import LocalSandbox, SandboxJob, SandboxLimits

LIMITS = SandboxLimits(timeout_s=20, memory_mb=1024, cpu_s=30)
IDENTITY = "def clean(df):\n    return df"


@pytest.fixture(scope="module")
def sb(tmp_path_factory):
    box = LocalSandbox(tmp_path_factory.mktemp("prepared") / "ws", pool_size=1, limits=LIMITS)
    assert box.warm_up()
    yield box
    box.close()


def _input(ws: Path, name: str, values: list[float]) -> Path:
    path = ws / name
    pd.DataFrame({"num": values, "cat": ["a"] * len(values)}).to_parquet(path)
    return path


def _job(ws: Path, code: str, inp: Path, out: str = "out.parquet") -> SandboxJob:
    return SandboxJob(code=code, entrypoint="clean", input_path=inp, output_path=ws / out, workspace=ws)


def test_a_prepared_process_runs_the_job_like_a_cold_one(sb):
    ws = sb.workspace
    inp = _input(ws, "in.parquet", [1.0, 2.0, None])
    cold = sb.run(_job(ws, "def clean(df):\n    return df.fillna(0)", inp, "cold.parquet"))
    used = sb.prepared_used
    assert sb.prepare(inp, ws)
    assert sb.prepare(inp, ws)  # already prepared for it: nothing new
    warm = sb.run(_job(ws, "def clean(df):\n    return df.fillna(0)", inp, "warm.parquet"))
    assert cold.ok and warm.ok, (cold.error, warm.error)
    assert sb.prepared_used == used + 1
    assert warm.isolation == cold.isolation and warm.isolation  # the same layers, reported alike
    pd.testing.assert_frame_equal(pd.read_parquet(warm.output_path), pd.read_parquet(cold.output_path))


def test_changes_to_the_prepared_input_stay_in_that_job(sb):
    ws = sb.workspace
    inp = _input(ws, "in_mut.parquet", [1.0, 2.0])
    assert sb.prepare(inp, ws)
    mutate = "def clean(df):\n    df['num'] = -1\n    df.drop(index=0, inplace=True)\n    return df"
    assert sb.run(_job(ws, mutate, inp)).ok
    assert sb.prepare(inp, ws)  # a new process: the one that ran is gone
    res = sb.run(_job(ws, IDENTITY, inp))
    assert pd.read_parquet(res.output_path)["num"].tolist() == [1.0, 2.0]


def test_a_replaced_input_is_read_again(sb):
    ws = sb.workspace
    inp = _input(ws, "in_swap.parquet", [9.0])
    assert sb.prepare(inp, ws)
    time.sleep(0.2)  # let it read the old file
    new = _input(ws, "in_swap.new.parquet", [7.0])
    os.replace(new, inp)  # the same path, another file: not what was prepared
    used = sb.prepared_used
    res = sb.run(_job(ws, IDENTITY, inp))
    assert pd.read_parquet(res.output_path)["num"].tolist() == [7.0]
    assert sb.prepared_used == used


def test_a_job_for_another_project_never_gets_the_prepared_process(sb, tmp_path):
    a = _input(sb.workspace, "tenant_a.parquet", [1.0, 2.0, 3.0])
    ws_b = tmp_path / "tenant_b"
    ws_b.mkdir()
    b = _input(ws_b, "in.parquet", [5.0])
    assert sb.prepare(a, sb.workspace)
    used = sb.prepared_used
    peek = f"def clean(df):\n    df['seen'] = len(open({str(a)!r}, 'rb').read())\n    return df"
    res = sb.run(_job(ws_b, peek, b))
    assert sb.prepared_used == used  # killed, not reused: B's job ran in a fresh process
    assert not res.ok and res.error_kind == "refused", res.error  # and A's file stays out of reach
    ok = sb.run(_job(ws_b, IDENTITY, b))
    assert pd.read_parquet(ok.output_path)["num"].tolist() == [5.0]


def test_a_prepared_process_refuses_any_other_job_itself(sb, monkeypatch):
    """Even if the server matched wrongly, the process runs no code but the job it was prepared
    for (fail closed)."""
    ws = sb.workspace
    a, b = _input(ws, "mine.parquet", [1.0]), _input(ws, "other.parquet", [2.0])
    assert sb.prepare(a, ws)
    prepared_key = sb._idle.queue[0].prepared.key
    monkeypatch.setattr(sb, "_key", lambda *args: prepared_key)
    marker = ws / "ran.txt"
    res = sb.run(_job(ws, f"def clean(df):\n    open({str(marker)!r}, 'w').write('x')\n    return df", b))
    assert not res.ok and "prepared for another input" in (res.error or ""), res.error
    assert not marker.exists()
    monkeypatch.undo()
    assert sb.run(_job(ws, IDENTITY, b)).ok  # the slot works on


def test_prepare_declines_what_it_cannot_serve(sb, tmp_path):
    assert not sb.prepare(tmp_path / "missing.parquet", sb.workspace)
    inp = _input(sb.workspace, "in_limits.parquet", [1.0])
    assert sb.prepare(inp, sb.workspace, limits=SandboxLimits(timeout_s=5, memory_mb=512))
    used = sb.prepared_used
    res = sb.run(_job(sb.workspace, IDENTITY, inp))  # the sandbox's own limits: another key
    assert res.ok and sb.prepared_used == used


def test_with_several_slots_each_job_finds_the_process_prepared_for_it(tmp_path):
    box = LocalSandbox(tmp_path / "ws", pool_size=2, limits=LIMITS)
    try:
        assert box.warm_up()
        ws = box.workspace
        first, second = _input(ws, "first.parquet", [1.0]), _input(ws, "second.parquet", [2.0])
        assert box.prepare(first, ws) and box.prepare(second, ws)  # one slot each
        assert box.prepare(first, ws)  # still ready: not prepared again over the other
        res = box.run(_job(ws, IDENTITY, second))
        assert pd.read_parquet(res.output_path)["num"].tolist() == [2.0] and box.prepared_used == 1
        res = box.run(_job(ws, IDENTITY, first, "o1.parquet"))
        assert pd.read_parquet(res.output_path)["num"].tolist() == [1.0] and box.prepared_used == 2
    finally:
        box.close()
