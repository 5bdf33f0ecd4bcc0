"""The fast profile: the one source of facts about a table (no LLM).

Everything is vectorised per column type. Above `SAMPLE_ROWS` rows the expensive parts
(text value counts and semantic guesses, correlations, spelling variants, leakage
checks) run on a seeded random sample, and the profile says so in `notes`; counts
that are cheap on the full table (rows, missing cells, duplicates, numeric statistics)
always use all rows.
"""

from __future__ import annotations

import pandas as pd

from core.models import ColumnProfile, DatasetProfile
from core.profile.columns import (
    SAMPLE_ROWS,
    SEED,
    duplicate_rows,
    is_numeric,
    numeric_block_profiles,
    numeric_stats,
    profile_column,
)
from core.profile.relations import find_leakage, high_correlations, target_candidates

# Rows the leakage checks use at most: leaks are strong signals, which 50k rows show as clearly
# as a million, and wide tables stay fast.
LEAK_ROWS = 50_000


# =========================================================================== public API
def profile_dataframe(
    df: pd.DataFrame,
    target: str | None = None,
    *,
    sample_rows: int = SAMPLE_ROWS,
    n_rows_total: int | None = None,
) -> DatasetProfile:
    """Profile `df`. `n_rows_total`: rows in the full file when `df` is itself a sample."""
    n = len(df)
    notes: list[str] = []
    # Columns must be addressable by position: names may be duplicated or non-strings.
    names = [str(c) for c in df.columns]
    sample = df if n <= sample_rows else df.sample(sample_rows, random_state=SEED)
    if n > sample_rows:
        notes.append(
            "Value counts, unique counts, quantiles and skew, type "
            "guesses and correlations were "
            f"computed on a random sample of {sample_rows:,} of {n:,} rows (seed {SEED})."
        )

    missing = df.isna().sum().to_numpy()
    numeric_idx = [i for i in range(df.shape[1]) if is_numeric(df.iloc[:, i])]
    num_stats = numeric_stats(df, sample, numeric_idx)

    columns: list[ColumnProfile] = []
    # Wide tables: numeric columns are profiled as numpy blocks (pandas' per-column
    # overhead, ~3 ms, would dominate with 2,000 columns).
    fast = (
        numeric_block_profiles(df, sample, numeric_idx, num_stats, missing, names)
        if len(numeric_idx) > 100
        else {}
    )
    for i, name in enumerate(names):
        if i in fast:
            columns.append(fast[i])
            continue
        col = df.iloc[:, i]
        scol = sample.iloc[:, i]
        cp, _parsed = profile_column(
            name, col, scol, int(missing[i]), n, num_stats.get(i), sampled=n > sample_rows
        )
        columns.append(cp)

    n_dup = duplicate_rows(df, columns)
    mem = float(df.memory_usage(deep=n <= sample_rows).sum()) / 1e6
    if n > sample_rows:
        # deep=True walks every Python string; estimate text memory from the sample.
        obj = [i for i in range(df.shape[1]) if pd.api.types.is_object_dtype(df.dtypes.iloc[i])]
        if obj:
            head = sample.iloc[:10_000, obj]  # the sample is random: 10k rows estimate bytes/row well
            per_row = float(head.memory_usage(deep=True, index=False).sum()) / max(1, len(head))
            shallow = float(df.iloc[:, obj].memory_usage(deep=False, index=False).sum())
            mem += (per_row * n - shallow) / 1e6

    high = high_correlations(sample, columns, notes)
    profile = DatasetProfile(
        n_rows=n,
        n_cols=df.shape[1],
        n_duplicate_rows=n_dup,
        memory_mb=round(mem, 3),
        columns=columns,
        high_correlations=high,
        sampled_from=n_rows_total if n_rows_total is not None and n_rows_total > n else None,
        notes=notes,
    )
    notes = profile.notes  # the model keeps its own copy of the list: later notes go there
    if n_rows_total is not None and n_rows_total > n:
        notes.append(f"Profiled on a sample of {n:,} rows of {n_rows_total:,} in the file.")
    profile.target_candidates = target_candidates(profile)
    if target is not None and target in names:
        leak_sample = sample if len(sample) <= LEAK_ROWS else sample.sample(LEAK_ROWS, random_state=SEED)
        profile.leakage = find_leakage(leak_sample, profile, target)
        if len(leak_sample) < n:
            # The checks compare shares of rows against thresholds; say how far a share measured
            # on the sample can be from the whole table's (normal approximation, worst case p=0.5).
            margin = 100 * 2.576 * (0.25 / len(leak_sample)) ** 0.5
            notes.append(
                f"Leakage checks used {len(leak_sample):,} random rows of {n:,}: a share of rows "
                f"measured there is within ±{margin:.1f} percentage points of the whole table's "
                "(99% confidence)."
            )
    return profile
