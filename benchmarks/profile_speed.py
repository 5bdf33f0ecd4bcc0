"""Our profile vs ydata-profiling (minimal=True), both on the SAME generated 1,000,000 x 20 table.

Our profile samples above `core.profile.SAMPLE_ROWS` rows (value counts, distinct counts of text
columns, quantiles, skew, correlations): so this runs it twice, as the app does (sampled) and with
sampling switched off (`sample_rows=len(df)`, exact), and measures the error of every sampled
statistic against ground truth computed here with plain pandas/numpy on all rows:
- quantiles q25/q50/q75: rank error (how far the reported value sits from the requested rank,
  in percentage points of the full column) and the error relative to the exact IQR;
- missing shares (percentage points);
- distinct counts (relative error; sampled counts are counts in the sample, and say so);
- top-5 values of text/boolean/date columns (share error in percentage points, same 5 labels).
ydata-profiling runs `minimal=True` (its fastest honest setting) and computes its description
(`get_description()`, no HTML rendering), on all rows.

The table mixes 8 float columns, 3 integer columns, 4 text categories, 2 datetimes, a boolean,
a text ID and a numeric target; 4 columns have 10% missing values.

Usage: python benchmarks/profile_speed.py [--rows N] [--skip-ydata]
Last line: `profile_speed rows_ours=… rows_ydata=… ratio_sampled=… ratio_exact=… …` (target >= 10x).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import last_line, machine_line, md_table  # noqa: E402
from core.profile import SAMPLE_ROWS, profile_dataframe  # noqa: E402


def make_table(n: int = 1_000_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d: dict[str, object] = {}
    for i in range(8):
        d[f"num_{i}"] = rng.normal(i, 1 + i, n)
    for i in range(3):
        d[f"int_{i}"] = rng.integers(0, 1000, n)
    cats = [f"level_{k}" for k in range(40)]
    for i in range(4):
        # Skewed frequencies, so the top-5 order is a real question for a sample.
        k = 5 + i * 10
        w = 1.0 / np.arange(1, k + 1)
        d[f"cat_{i}"] = rng.choice(cats[:k], n, p=w / w.sum())
    d["date_day"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    d["date_time"] = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 10**8, n), unit="s")
    d["flag"] = rng.random(n) < 0.3
    d["customer_id"] = np.char.add("C", rng.integers(0, 10**9, n).astype(str))
    d["target"] = d["num_0"] * 2 + rng.normal(0, 1, n)  # type: ignore[operator]
    df = pd.DataFrame(d)
    for c in ("num_1", "num_3", "cat_1", "int_2"):
        df.loc[rng.random(n) < 0.1, c] = None
    return df


# --------------------------------------------------------------------------- ground truth and errors
def _label(v: Any) -> str:
    s = str(v)  # the profile labels values the same way (core.profile shortens past 60 characters)
    return s if len(s) <= 60 else s[:59] + "…"


def truth(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Exact statistics on all rows, computed independently of core.profile."""
    out: dict[str, dict[str, Any]] = {}
    n = len(df)
    for c in df.columns:
        col = df[c]
        t: dict[str, Any] = {"missing_share": float(col.isna().mean()), "n_unique": int(col.nunique())}
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            v = np.sort(col.to_numpy(dtype="float64", na_value=np.nan))
            t["sorted"] = v[np.isfinite(v)]
        else:
            vc = col.value_counts()
            t["top"] = {_label(k): int(cnt) / n for k, cnt in vc.head(5).items()}
            t["share_of"] = {_label(k): int(cnt) / n for k, cnt in vc.items()}
        out[str(c)] = t
    return out


def errors(
    profile: Any, exact: dict[str, dict[str, Any]], n: int, sample_rows: int, low_card: int
) -> dict[str, Any]:
    """Largest error of each statistic of `profile` against `exact`, and where it happened.

    `low_card`: columns with at most this many distinct values are reported apart (a sample sees
    nearly all of their values; above it a sample's distinct count is a lower bound, which the
    profile notes per column)."""
    q_rank: list[tuple[float, str]] = []
    q_iqr: list[tuple[float, str]] = []
    miss: list[tuple[float, str]] = []
    top_share: list[tuple[float, str]] = []
    total_top = 0
    differ: list[str] = []
    denom = min(n, sample_rows)  # top-value counts are counts among these rows
    distinct: list[tuple[float, str, bool]] = []
    for cp in profile.columns:
        t = exact[cp.name]
        miss.append((abs(cp.missing_share - t["missing_share"]) * 100, cp.name))
        if t["n_unique"]:
            rel = abs(cp.n_unique - t["n_unique"]) / t["n_unique"] * 100
            distinct.append((rel, cp.name, t["n_unique"] <= low_card))
        if "sorted" in t and cp.quantiles:
            v = t["sorted"]
            iqr = float(np.quantile(v, 0.75) - np.quantile(v, 0.25)) or 1.0
            for key, p in (("q25", 0.25), ("q50", 0.5), ("q75", 0.75)):
                got = cp.quantiles[key]
                # Rank of the reported value in the full column: mid-rank for ties.
                # Ranks the reported value occupies in the full column (an interval when tied):
                # the error is how far the requested rank p lies outside it.
                lo = np.searchsorted(v, got, "left") / len(v)
                hi = np.searchsorted(v, got, "right") / len(v)
                q_rank.append((max(0.0, lo - p, p - hi) * 100, cp.name))
                q_iqr.append((abs(got - float(np.quantile(v, p))) / iqr * 100, cp.name))
        if "top" in t and cp.top_values:
            total_top += 1
            labels = [lab for lab, _ in cp.top_values[:5]]
            if set(labels) != set(t["top"]):
                differ.append(cp.name)
            for lab, cnt in cp.top_values[:5]:
                top_share.append((abs(cnt / denom - t["share_of"].get(lab, 0.0)) * 100, cp.name))

    def worst(xs: list[tuple[float, str]]) -> tuple[float, str]:
        return max(xs) if xs else (float("nan"), "-")

    return {
        "quantile_rank_pp": worst(q_rank),
        "quantile_iqr_pct": worst(q_iqr),
        "missing_pp": worst(miss),
        "distinct_low_pct": worst([(e, c) for e, c, low in distinct if low]),
        "distinct_high_pct": worst([(e, c) for e, c, low in distinct if not low]),
        "low_card": low_card,
        "top_share_pp": worst(top_share),
        "same_top5": f"{total_top - len(differ)}/{total_top}"
        + (f" (not: {', '.join(differ)})" if differ else ""),
    }


# --------------------------------------------------------------------------- run and render
def run(rows: int, ydata: bool = True, sample_rows: int = SAMPLE_ROWS) -> dict[str, Any]:
    t0 = time.perf_counter()
    df = make_table(rows)
    gen_s = time.perf_counter() - t0

    # Imports (scikit-learn for the leakage checks, ydata's whole stack) are paid once per process,
    # not per profile: warm both up on a small table first, untimed.
    profile_dataframe(make_table(2_000, seed=1), target="target")
    if ydata:
        warnings.filterwarnings("ignore")
        from ydata_profiling import ProfileReport

        ProfileReport(make_table(2_000, seed=1), minimal=True, progress_bar=False).get_description()

    t0 = time.perf_counter()
    sampled = profile_dataframe(df, target="target", sample_rows=sample_rows)
    ours_s = time.perf_counter() - t0
    # ydata-profiling has no leakage checks: our profile without a target does the same kind of work.
    t0 = time.perf_counter()
    profile_dataframe(df, sample_rows=sample_rows)
    no_target_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    exact_prof = profile_dataframe(df, target="target", sample_rows=len(df))
    exact_s = time.perf_counter() - t0

    ydata_s = float("nan")
    if ydata:
        t0 = time.perf_counter()
        report = ProfileReport(df, minimal=True, progress_bar=False)
        report.get_description()  # everything the report shows, without rendering HTML
        ydata_s = time.perf_counter() - t0

    exact = truth(df)
    low_card = max(1, min(sample_rows, len(df)) // 100)
    return {
        "rows": len(df),
        "cols": df.shape[1],
        "gen_s": gen_s,
        "sample_rows": min(sample_rows, len(df)),
        "sampled_notes": [n for n in sampled.notes if "sample" in n or "random rows" in n],
        "ours_s": ours_s,
        "exact_s": exact_s,
        "no_target_s": no_target_s,
        "ydata_s": ydata_s,
        "err_sampled": errors(sampled, exact, len(df), sample_rows, low_card),
        "err_exact": errors(exact_prof, exact, len(df), len(df), low_card),
    }


def render(r: dict[str, Any]) -> str:
    n, ydata_s = r["rows"], r["ydata_s"]
    timing = md_table(
        ["profiler", "rows processed", "seconds", "ydata time / this"],
        [
            [
                f"ours, sampled ({r['sample_rows']:,}-row sample; app default)",
                f"{n:,}",
                r["ours_s"],
                ydata_s / r["ours_s"],
            ],
            [
                "ours, sampled, no target (no leakage checks, like ydata)",
                f"{n:,}",
                r["no_target_s"],
                ydata_s / r["no_target_s"],
            ],
            ["ours, exact (sampling off)", f"{n:,}", r["exact_s"], ydata_s / r["exact_s"]],
            ["ydata-profiling minimal=True", f"{n:,}" if ydata_s == ydata_s else "not run", ydata_s, 1.0],
        ],
    )
    es, ee = r["err_sampled"], r["err_exact"]

    def f(e: tuple[float, str]) -> str:
        return f"{e[0]:.3g} ({e[1]})"

    acc = md_table(
        ["statistic (largest error over columns)", "ours, sampled", "ours, exact"],
        [
            ["quantiles q25/q50/q75: rank error, pp", f(es["quantile_rank_pp"]), f(ee["quantile_rank_pp"])],
            ["quantiles: error as % of the IQR", f(es["quantile_iqr_pct"]), f(ee["quantile_iqr_pct"])],
            ["missing share, pp (always all rows)", f(es["missing_pp"]), f(ee["missing_pp"])],
            [
                f"distinct count, % (columns with <= {es['low_card']:,} distinct values)",
                f(es["distinct_low_pct"]),
                f(ee["distinct_low_pct"]),
            ],
            [
                "distinct count, % (columns with more; sampled = distinct in the sample, flagged)",
                f(es["distinct_high_pct"]),
                f(ee["distinct_high_pct"]),
            ],
            ["top-5 values: share error, pp", f(es["top_share_pp"]), f(ee["top_share_pp"])],
            ["top-5 values: same 5 labels (columns)", es["same_top5"], ee["same_top5"]],
        ],
    )
    notes = "; ".join(r["sampled_notes"]) or "no sampling at this size"
    return (
        f"{timing}\n\nAccuracy against exact statistics computed with pandas on all {n:,} rows:\n\n{acc}\n\n"
        + (f"What the sampled profile says about itself: {notes}")
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--skip-ydata", action="store_true")
    args = ap.parse_args()
    print(machine_line())
    r = run(args.rows, ydata=not args.skip_ydata)
    print(
        f"table: {r['rows']:,} rows x {r['cols']} columns (generated in {r['gen_s']:.1f} s), "
        "the same frame for all three"
    )
    print()
    print(render(r))
    print()
    es = r["err_sampled"]
    print(
        last_line(
            "profile_speed",
            rows_ours=r["rows"],
            rows_ydata=r["rows"] if r["ydata_s"] == r["ydata_s"] else 0,
            cols=r["cols"],
            sample_rows=r["sample_rows"],
            ours_s=r["ours_s"],
            ours_exact_s=r["exact_s"],
            ydata_s=r["ydata_s"],
            ratio_sampled=r["ydata_s"] / r["ours_s"],
            ratio_exact=r["ydata_s"] / r["exact_s"],
            ratio_no_target=r["ydata_s"] / r["no_target_s"],
            max_quantile_rank_err_pp=es["quantile_rank_pp"][0],
            max_missing_err_pp=es["missing_pp"][0],
            max_top_share_err_pp=es["top_share_pp"][0],
            max_distinct_err_pct_lowcard=es["distinct_low_pct"][0],
            max_distinct_err_pct_highcard=es["distinct_high_pct"][0],
        )
    )


if __name__ == "__main__":
    main()
