"""Small synthetic tables and profiles shared by tests (deterministic by seed)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.models import ColumnProfile, DatasetProfile


def people(n: int, seed: int, cities: list[str], companies: list[str] | None = None) -> pd.DataFrame:
    """age (~20% missing), city, company (when given), a unique score (so no duplicate rows and
    no duplicates recipe in a plan) and a 0/1 target y."""
    rng = np.random.default_rng(seed)
    cols = {
        "age": np.where(rng.random(n) < 0.2, np.nan, rng.integers(18, 90, n).astype(float)),
        "city": rng.choice(cities, n),
    }
    if companies:
        cols["company"] = rng.choice(companies, n)
    cols["score"] = rng.random(n).round(6)
    cols["y"] = rng.choice([0, 1], n)
    return pd.DataFrame(cols)


def column(
    name: str, semantic: str = "numeric", missing: float = 0.0, rows: int = 100, **kw: Any
) -> ColumnProfile:
    """A column's profile: `missing` is the share of `rows` without a value; numeric float64 and
    50 distinct values unless `kw` says otherwise (any ColumnProfile field)."""
    return ColumnProfile(
        name=name,
        dtype=kw.pop("dtype", "float64"),
        semantic=semantic,
        n_missing=int(missing * rows),
        missing_share=missing,
        n_unique=kw.pop("n_unique", 50),
        **kw,
    )


def profile(columns: list[ColumnProfile], rows: int = 100, duplicates: int = 0, **kw: Any) -> DatasetProfile:
    """A table's profile from its columns (`kw`: any other DatasetProfile field)."""
    kw.setdefault("memory_mb", 0.1)
    return DatasetProfile(
        n_rows=rows, n_cols=len(columns), n_duplicate_rows=duplicates, columns=columns, **kw
    )
