"""Between columns: correlations (numeric, bounded by a compute budget), target candidates by name
and shape, and leakage checks against a chosen target.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from core import detect
from core.detect_leaks import find_leaks
from core.models import ColumnProfile, DatasetProfile
from core.profile.columns import SAMPLE_ROWS, SEED, is_numeric, text_numbers

# Correlations are computed on at most this many numeric columns (highest variance first).
_MAX_CORR_COLS = 2_000
# Rows x columns² budget for one correlation matrix (a BLAS product): wide tables use fewer rows.
_CORR_FLOPS = 4e9
HIGH_CORR = 0.9
_TARGET_STRONG = re.compile(
    r"^(target|label|labels|class|y|outcome|response)$|(^|_)(target|label)($|_)", re.I
)
_TARGET_WEAK = re.compile(
    r"(^|[_\s])(churn|churned|price|default|survived|fraud|diagnosis|species|result|status|grade|quality|"
    r"salary|income|sales|revenue|cost|charges|amount|score|rating|approved|converted|clicked|attrition|"
    r"tip|mpg|demand|yield|survival|won|win|passed|is_\w+|has_\w+)($|[_\s])",
    re.I,
)


# =========================================================================== correlations
def _numeric_matrix(
    df: pd.DataFrame, columns: list[ColumnProfile], include_text_numbers: bool = False
) -> pd.DataFrame:
    cols: dict[str, pd.Series] = {}
    for i, cp in enumerate(columns):
        s = df.iloc[:, i]
        if cp.semantic in ("numeric", "boolean") and is_numeric(s):
            cols[cp.name] = s.astype("float64")
        elif cp.semantic == "boolean" and pd.api.types.is_bool_dtype(s):
            cols[cp.name] = s.astype("float64")
        elif include_text_numbers and cp.semantic in ("money_text", "numeric_text"):
            cols[cp.name] = text_numbers(s)
    return pd.DataFrame(cols, index=df.index)


def _corr(m: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlation with mean-imputed gaps (one BLAS call instead of pairwise loops)."""
    x = m.to_numpy(dtype="float64")
    with np.errstate(all="ignore"):
        mean = np.nanmean(x, axis=0)
        x = np.where(np.isnan(x), mean, x) - mean
        norm = np.sqrt((x**2).sum(axis=0))
        c = (x.T @ x) / np.outer(norm, norm)
    return pd.DataFrame(c, index=m.columns, columns=m.columns)


def high_correlations(
    sample: pd.DataFrame, columns: list[ColumnProfile], notes: list[str]
) -> list[tuple[str, str, float]]:
    m = _numeric_matrix(sample, columns)
    m = m.loc[:, ~m.columns.duplicated()]
    if m.shape[1] < 2:
        return []
    var = m.var()
    m = m.loc[:, var > 0]
    if m.shape[1] > _MAX_CORR_COLS:
        keep = m.var().sort_values(ascending=False).index[:_MAX_CORR_COLS]
        notes.append(
            f"Correlations computed on the {_MAX_CORR_COLS} numeric columns with the largest variance."
        )
        m = m[keep]
    rows = int(min(len(m), max(1_000, _CORR_FLOPS / m.shape[1] ** 2)))
    if rows < len(m):
        m = m.iloc[:rows]  # the sample is already random: its head is a random subset
        notes.append(f"Correlations between the {m.shape[1]:,} numeric columns use {rows:,} random rows.")
    c = _corr(m).to_numpy()
    iu = np.triu_indices_from(c, k=1)
    vals = c[iu]
    hit = np.where(np.abs(vals) >= HIGH_CORR)[0]
    pairs = [(str(m.columns[iu[0][h]]), str(m.columns[iu[1][h]]), round(float(vals[h]), 4)) for h in hit]
    pairs.sort(key=lambda t: -abs(t[2]))
    return pairs[:100]


def correlation_matrix(df: pd.DataFrame, profile: DatasetProfile, top_k: int = 30) -> pd.DataFrame:
    """Correlations of the `top_k` numeric columns with the largest variance (for the heatmap)."""
    sample = df if len(df) <= SAMPLE_ROWS else df.sample(SAMPLE_ROWS, random_state=SEED)
    m = _numeric_matrix(sample, profile.columns)
    m = m.loc[:, ~m.columns.duplicated()]
    var = m.var()
    m = m.loc[:, var > 0]
    if m.shape[1] > top_k:
        # Scale-free ranking: coefficient of variation would explode near zero means; use std of ranks.
        keep = m.rank(pct=True).std().sort_values(ascending=False).index[:top_k]
        keep = [c for c in m.columns if c in set(keep)]
        m = m[keep]
    return _corr(m).round(3) if m.shape[1] else pd.DataFrame()


# =========================================================================== target & leakage
def target_candidates(profile: DatasetProfile, k: int = 5) -> list[str]:
    """Columns ranked by how likely they are the prediction target (heuristics, best first)."""
    scored: list[tuple[float, int, str]] = []
    last = len(profile.columns) - 1
    for i, c in enumerate(profile.columns):
        if c.semantic in ("id", "empty", "constant", "text", "date"):
            continue
        score = 0.0
        if _TARGET_STRONG.search(c.name):
            score += 3
        elif _TARGET_WEAK.search(c.name):
            score += 2
        if detect.id_name(c.name):
            score -= 1.5  # codes (iso_num, zip_code) sit last in many exports but are not targets
        if i == last:
            score += 1
        if c.semantic == "boolean":
            score += 1.5
        elif c.semantic == "category" and 2 <= c.n_unique <= 10:
            score += 1
        elif c.semantic in ("numeric", "money_text") and c.n_unique > 10:
            score += 0.25
        if c.missing_share > 0.3:
            score -= 1
        if score > 0.5:
            scored.append((-score, i, c.name))
    scored.sort()
    return [name for _, _, name in scored[:k]]


def find_leakage(sample: pd.DataFrame, profile: DatasetProfile, target: str) -> list[dict[str, Any]]:
    """Columns that give the target away, as found by the one detector (`core.detect`).

    Each item keeps the keys older records use ("column", "target", "reason") plus the finding's
    kind, rule, columns, score and recommended action. Columns the profile calls identifiers or
    free text are not tested (they are left out of models as identifiers).
    """
    skip = tuple(c.name for c in profile.columns if c.semantic in ("id", "text", "empty", "constant"))
    findings = find_leaks(detect.sample_rows(sample), target, skip=skip)
    return [dict(f.to_dict(), target=target) for f in findings]
