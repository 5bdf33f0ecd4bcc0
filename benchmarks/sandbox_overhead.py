"""Overhead of running a step through the sandbox vs `exec` in-process (warm), same run.

A trivial transform step (`def clean(df): return df`) on a 100,000 x 20 frame:
- in-process: compile + exec the code and call clean(df) on the frame already in memory;
- NotASandbox: the sandbox harness in-process (Parquet in, Parquet out, no isolation);
- LocalSandbox: the real thing (warm zygote, fork, rlimits, network namespace, Landlock,
  audit hook, result written as Parquet in the workspace). The zygote keeps the last input
  frame in memory (steps on one snapshot come in runs: preview, accept, repair attempts), so
  "same input" is the usual case; "new input file each step" and "no data" rows show the rest.

Prints a table and, last, `sandbox_overhead ms_per_step=<x> ratio=<y>` where x is the median
LocalSandbox time minus the median in-process time (target <= 150 ms) and y their ratio.
Usage: python benchmarks/sandbox_overhead.py [--repeats N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.sandbox import LocalSandbox, NotASandbox, SandboxJob  # noqa: E402

CODE = "def clean(df):\n    return df\n"


def make_frame(rows: int = 100_000, cols: int = 20, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    for i in range(cols):
        kind = i % 4
        if kind == 0:
            data[f"f{i}"] = rng.normal(size=rows)
        elif kind == 1:
            data[f"i{i}"] = rng.integers(0, 1000, size=rows)
        elif kind == 2:
            data[f"s{i}"] = rng.choice(["alpha", "beta", "gamma", None], size=rows)
        else:
            col = rng.normal(size=rows)
            col[rng.random(rows) < 0.1] = np.nan
            data[f"m{i}"] = col
    return pd.DataFrame(data)


def time_inprocess(df: pd.DataFrame, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats + 2):
        t0 = time.perf_counter()
        ns: dict[str, object] = {}
        exec(compile(CODE, "<step>", "exec"), ns)  # noqa: S102 - the baseline being measured
        res = ns["clean"](df)  # type: ignore[operator]
        assert isinstance(res, pd.DataFrame)
        out.append(time.perf_counter() - t0)
    return out[2:]


def time_sandbox(box, ws: Path, repeats: int) -> list[float]:
    job = SandboxJob(
        code=CODE,
        mode="transform",
        entrypoint="clean",
        input_path=ws / "in.parquet",
        output_path=ws / "out.parquet",
    )
    out = []
    for _ in range(repeats + 2):
        t0 = time.perf_counter()
        res = box.run(job)
        out.append(time.perf_counter() - t0)
        assert res.ok, res.error
        assert res.shape == (100_000, 20)
    return out[2:]


def time_script(box, repeats: int) -> list[float]:
    """A job with no data at all: what process isolation alone costs per step."""
    job = SandboxJob(code="result = 1", mode="script")
    out = []
    for _ in range(repeats + 2):
        t0 = time.perf_counter()
        res = box.run(job)
        out.append(time.perf_counter() - t0)
        assert res.ok, res.error
    return out[2:]


def time_cold(box, ws: Path, repeats: int) -> list[float]:
    """Each step on a new input file (cache miss): the worker reads the Parquet too."""
    out = []
    for i in range(repeats):
        src = ws / f"cold{i}.parquet"
        shutil.copyfile(ws / "in.parquet", src)
        job = SandboxJob(
            code=CODE, mode="transform", entrypoint="clean", input_path=src, output_path=ws / "out.parquet"
        )
        t0 = time.perf_counter()
        res = box.run(job)
        out.append(time.perf_counter() - t0)
        assert res.ok, res.error
        src.unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    df = make_frame()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "workspace"
        ws.mkdir()
        df.to_parquet(ws / "in.parquet")
        box = LocalSandbox(ws)
        try:
            t0 = time.perf_counter()
            assert box.warm_up(), "the sandbox worker did not start"
            start_s = time.perf_counter() - t0
            local = time_sandbox(box, ws, args.repeats)
            isolation = box.isolation
            script = time_script(box, args.repeats)
            cold = time_cold(box, ws, args.repeats)
        finally:
            box.close()
        nas = time_sandbox(NotASandbox(ws), ws, args.repeats)
    inproc = time_inprocess(df, args.repeats)

    def ms(xs: list[float]) -> tuple[float, float, float]:
        return statistics.median(xs) * 1000, min(xs) * 1000, max(xs) * 1000

    rows = [
        ("exec in-process (warm)", ms(inproc)),
        ("NotASandbox (harness, reads+writes Parquet)", ms(nas)),
        ("LocalSandbox, no data (isolation only)", ms(script)),
        ("LocalSandbox, new input file each step", ms(cold)),
        ("LocalSandbox, same input (the step)", ms(local)),
    ]
    print(f"frame: {df.shape[0]:,} x {df.shape[1]}; repeats: {args.repeats}; worker start: {start_s:.2f} s")
    print(f"isolation layers: {isolation}")
    print(f"{'path':<46}{'median ms':>12}{'min ms':>10}{'max ms':>10}")
    for name, (med, lo, hi) in rows:
        print(f"{name:<46}{med:>12.2f}{lo:>10.2f}{hi:>10.2f}")
    overhead = ms(local)[0] - ms(inproc)[0]
    ratio = ms(local)[0] / max(ms(inproc)[0], 1e-6)
    print(
        f"overhead vs in-process: {overhead:.1f} ms; isolation alone (no data): {ms(script)[0]:.1f} ms; "
        "the rest is writing the result as Parquet"
    )
    print(f"sandbox_overhead ms_per_step={overhead:.1f} ratio={ratio:.1f}")


if __name__ == "__main__":
    main()
