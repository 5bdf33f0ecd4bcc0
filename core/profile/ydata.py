"""The optional ydata-profiling report, cached by a hash of the table."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from core.profile.columns import SEED

# =========================================================================== ydata-profiling
YDATA_MINIMAL_ABOVE = 20_000  # rows (after sampling) above which the report uses minimal mode


def dataset_hash(df: pd.DataFrame) -> str:
    """A content hash of a frame (values, names, dtypes), for caches."""
    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in df.dtypes.items()]).encode())
    try:
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    except TypeError:
        h.update(pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def ydata_report(
    df: pd.DataFrame,
    cache_dir: str | Path,
    title: str = "Data profile",
    sample_rows: int = 50_000,
    *,
    minimal_above: int = YDATA_MINIMAL_ABOVE,
) -> Path:
    """The full ydata-profiling HTML report, cached per dataset content.

    Above `sample_rows` rows the report is built on a seeded random sample (its title says
    so); above `minimal_above` rows or 100 columns it uses minimal mode (no interactions,
    no correlations), which keeps it to tens of seconds.
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    key = dataset_hash(df)
    path = cache / f"ydata_{key}_{sample_rows}.html"
    if path.exists() and path.stat().st_size > 0:
        return path
    from ydata_profiling import ProfileReport  # heavy import, only on demand

    data = df
    if len(df) > sample_rows:
        data = df.sample(sample_rows, random_state=SEED)
        title = f"{title} (random sample of {sample_rows:,} of {len(df):,} rows)"
    data = data.copy()
    data.columns = tidy_unique([str(c) for c in data.columns])
    minimal = len(data) > minimal_above or data.shape[1] > 100
    report = ProfileReport(data, title=title, minimal=minimal, progress_bar=False)
    tmp = path.with_suffix(".tmp.html")
    report.to_file(tmp, silent=True)
    tmp.replace(path)  # write-then-rename: a half-written report is never served from the cache
    return path


def tidy_unique(names: Iterable[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0)
        seen[n] = k + 1
        out.append(n if k == 0 else f"{n}_{k + 1}")
    return out
