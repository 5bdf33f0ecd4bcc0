"""The set of numbers and names a profile states: what a data description may cite."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from core.models import DatasetProfile
from core.profile.columns import finite_float


# =========================================================================== facts
def profile_to_facts(profile: DatasetProfile) -> set[float | str]:
    """Every number (and name) the profile states, for core.factcheck.

    Shares are included both as fractions and as percentages, so '12%' and '0.12' both check.
    """
    facts: set[float | str] = set()

    def add(v: Any) -> None:
        if isinstance(v, bool) or v is None:
            return
        if isinstance(v, (int, float, np.integer, np.floating)):
            f = finite_float(v)
            if f is not None:
                facts.add(f)
        elif isinstance(v, str):
            facts.add(v)
            f = finite_float(v.replace(",", ""))
            if f is not None:
                facts.add(f)

    n = profile.n_rows
    for v in (n, profile.n_cols, profile.n_duplicate_rows, profile.memory_mb, profile.sampled_from):
        add(v)
    if n:
        add(profile.n_duplicate_rows / n)
        add(100 * profile.n_duplicate_rows / n)
    n_missing_cols = sum(1 for c in profile.columns if c.n_missing)
    add(n_missing_cols)
    add(sum(c.n_missing for c in profile.columns))
    if profile.n_cols and n:
        total_missing = sum(c.n_missing for c in profile.columns) / (profile.n_cols * n)
        add(total_missing)
        add(100 * total_missing)
    by_sem: dict[str, int] = {}
    for c in profile.columns:
        by_sem[c.semantic] = by_sem.get(c.semantic, 0) + 1
        add(c.name)
        for v in (
            c.n_missing,
            c.missing_share,
            100 * c.missing_share,
            c.n_unique,
            c.min,
            c.max,
            c.mean,
            c.std,
            c.skew,
            c.n_outliers,
        ):
            add(v)
        if c.n_outliers and n:
            add(100 * c.n_outliers / max(1, n - c.n_missing))
        for q in c.quantiles.values():
            add(q)
        for val, cnt in c.top_values:
            add(val)
            add(cnt)
            if n:
                add(cnt / n)
                add(100 * cnt / n)
        for s in c.sample_values:
            add(s)
        for note in c.notes:
            for num in re.findall(r"-?\d+(?:\.\d+)?", note.replace(",", "")):
                add(float(num))
    for v in by_sem.values():
        add(v)
    for a, b, r in profile.high_correlations:
        add(a)
        add(b)
        add(r)
        add(abs(r))
    add(len(profile.high_correlations))
    for leak in profile.leakage:
        add(str(leak.get("column")))
        for num in re.findall(r"-?\d+(?:\.\d+)?", str(leak.get("reason", ""))):
            add(float(num))
    return facts
