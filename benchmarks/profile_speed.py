"""Fast profile vs ydata-profiling minimal=True on a generated 1,000,000 x 20 table.

Both run in the same process on the same frame. The table mixes 8 float columns,
3 integer columns, 4 categorical (text) columns, 2 datetime columns, a boolean, a
text ID and a numeric target; 4 columns have 10% missing values.

Usage: python benchmarks/profile_speed.py [--rows N] [--skip-ydata]
Last line: `profile_speed ratio_vs_ydata_minimal=<x> fast_s=<y>` (target: ratio >= 10).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.profile import profile_dataframe  # noqa: E402


def make_table(n: int = 1_000_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d: dict[str, object] = {}
    for i in range(8):
        d[f"num_{i}"] = rng.normal(i, 1 + i, n)
    for i in range(3):
        d[f"int_{i}"] = rng.integers(0, 1000, n)
    cats = [f"level_{k}" for k in range(40)]
    for i in range(4):
        d[f"cat_{i}"] = rng.choice(cats[: 5 + i * 10], n)
    d["date_day"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    d["date_time"] = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 10**8, n), unit="s")
    d["flag"] = rng.random(n) < 0.3
    d["customer_id"] = np.char.add("C", rng.integers(0, 10**9, n).astype(str))
    d["target"] = d["num_0"] * 2 + rng.normal(0, 1, n)  # type: ignore[operator]
    df = pd.DataFrame(d)
    for c in ("num_1", "num_3", "cat_1", "int_2"):
        df.loc[rng.random(n) < 0.1, c] = None
    return df


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--skip-ydata", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    df = make_table(args.rows)
    print(
        f"table: {df.shape[0]:,} rows x {df.shape[1]} columns, generated in {time.perf_counter() - t0:.1f} s"
    )
    print(f"cpus: {os.cpu_count()}")

    t0 = time.perf_counter()
    prof = profile_dataframe(df, target="target")
    fast_s = time.perf_counter() - t0
    print(
        f"fast profile: {fast_s:.2f} s ({len(prof.columns)} columns, {prof.n_duplicate_rows} duplicate rows)"
    )

    ydata_s = float("nan")
    if not args.skip_ydata:
        warnings.filterwarnings("ignore")
        from ydata_profiling import ProfileReport

        t0 = time.perf_counter()
        report = ProfileReport(df, minimal=True, progress_bar=False)
        report.get_description()  # computes everything the report shows (no HTML rendering)
        ydata_s = time.perf_counter() - t0
        print(f"ydata-profiling minimal=True (description): {ydata_s:.2f} s")

    ratio = ydata_s / fast_s if fast_s > 0 else float("nan")
    print()
    print("| profiler | seconds |")
    print("| --- | --- |")
    print(f"| core.profile.profile_dataframe | {fast_s:.2f} |")
    print(f"| ydata-profiling minimal=True | {ydata_s:.2f} |")
    print(f"| ratio | {ratio:.1f}x |")
    print(f"profile_speed ratio_vs_ydata_minimal={ratio:.2f} fast_s={fast_s:.2f}")


if __name__ == "__main__":
    main()
