"""The rehearsal a prepared job process runs while it waits (core/sandbox/rehearse.py): it works on
a bounded copy, leaves the job's frame as read, stops when the job arrives, never raises, and
the job then finds a warm heap (fewer page faults than a cold job doing the same work)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.sandbox import LocalSandbox, SandboxJob, SandboxLimits
from core.sandbox import rehearse as R

ROOT = Path(__file__).resolve().parent.parent


def _table(rows: int = 5_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "id": np.arange(rows),
            "price": rng.normal(10, 2, rows),
            "city": rng.choice([" paris", "LYON ", None], rows),
            "day": rng.choice(["2024-01-02", "not a date", "2023-12-31"], rows),
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 99, rows), unit="D"),
            "flag": rng.random(rows) < 0.3,
            "kind": pd.Categorical(rng.choice(["a", "b"], rows)),
        }
    )
    df.loc[::9, "price"] = np.nan
    return df


def test_the_frame_is_left_exactly_as_read():
    df = _table()
    before = df.copy(deep=True)
    assert R.rehearse(df, lambda: False) >= 20  # it did run: whole-frame, per-column, a write
    pd.testing.assert_frame_equal(df, before)


def test_it_stops_when_the_job_arrives():
    calls = []

    def arrived() -> bool:
        calls.append(1)
        return len(calls) > 3  # asked before starting, then before each operation

    assert R.rehearse(_table(), arrived) == 2
    assert R.rehearse(_table(), lambda: True) == 0  # the job came first: nothing at all


@pytest.mark.parametrize(
    "frame",
    [
        None,
        pd.DataFrame(),
        pd.DataFrame(index=range(3)),
        pd.DataFrame({"a": [[1], [2], [1]], "b": [{"x": 1}, None, 3]}),  # unhashable, mixed
        pd.DataFrame([[1, "x"], [2, None]], columns=["dup", "dup"]),  # a name that is two columns
        pd.DataFrame({("a", "b"): [1.0, np.nan], ("a", "c"): ["u", "v"]}),  # MultiIndex columns
        pd.DataFrame({"all_na": [np.nan] * 4, "text_na": [None] * 4}),
    ],
    ids=["none", "empty", "no-columns", "unhashable", "duplicate-names", "multiindex", "all-missing"],
)
def test_odd_frames_never_raise(frame):
    assert R.rehearse(frame, lambda: False) >= 0


def test_the_part_it_works_on_is_bounded(monkeypatch):
    wide = pd.DataFrame(np.zeros((10, R.MAX_COLUMNS + 30)))
    assert R.bounded_part(wide).shape == (10, R.MAX_COLUMNS)
    monkeypatch.setattr(R, "MAX_BYTES", 80_000)
    long = pd.DataFrame({"a": np.zeros(100_000), "b": np.ones(100_000)})  # 16 bytes a row
    part = R.bounded_part(long)
    assert len(part) == 5_000 and part.memory_usage(index=False).sum() <= 80_000


FAULTS = """\
import resource
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
out = df.drop_duplicates().reset_index(drop=True)
out["price"] = out["price"].fillna(out["price"].median())
out["city"] = out["city"].str.strip().str.title()
result = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
"""


def _faults(tmp_path: Path, rehearse: bool) -> tuple[int, int]:
    """Page faults of the same step in a cold job process and in a prepared one."""
    limits = SandboxLimits(timeout_s=30, memory_mb=2048)
    box = LocalSandbox(tmp_path / f"ws-{rehearse}", pool_size=1, limits=limits, rehearse=rehearse)
    try:
        assert box.warm_up()
        inp = box.workspace / "in.parquet"
        _table(60_000).to_parquet(inp)
        job = SandboxJob(code=FAULTS, mode="script", input_path=inp, workspace=box.workspace)
        cold = box.run(job)
        assert box.prepare(inp, box.workspace)
        time.sleep(2.0)  # the user reads the page; the rehearsal takes a few hundred ms
        prepared = box.run(job)
        assert box.prepared_used == 1
    finally:
        box.close()
    assert cold.ok and prepared.ok, (cold.error, prepared.error)
    assert isinstance(cold.value, int) and isinstance(prepared.value, int)
    return cold.value, prepared.value


def test_a_rehearsed_job_process_finds_its_heap_warm(tmp_path):
    """Page faults, not time: the same step faults far less in a process that rehearsed, and as
    much as a cold one in a process prepared with the rehearsal turned off."""
    cold, warm = _faults(tmp_path, rehearse=True)
    assert warm < cold / 2, json.dumps({"cold": cold, "rehearsed": warm})
    cold, plain = _faults(tmp_path, rehearse=False)
    assert plain > cold * 0.7, json.dumps({"cold": cold, "prepared, not rehearsed": plain})
