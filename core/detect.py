"""The one column detector: identifiers, target leaks and post-outcome columns.

Every part of the app that must decide "is this column a row key?" or "does this column give
the target away?" asks this module: the profile (semantic types, its leakage list), the model
stage (which columns are left out before training), the autopilot (through the model stage)
and the report (what was left out and why). Each decision is a `Finding` with the evidence in
numbers and the recommended action; every cut-off is a named field of `THRESHOLDS`.

Leak tests are cheap on purpose (a sample of rows, quantile bins and out-of-fold group means
instead of fitted models), so the whole scan of a 50-column table takes well under a second:
- a single column whose one-column, 3-fold cross-validated score is near perfect (R² for a
  numeric target, Gini = 2·AUC − 1 for a binary one, chance-corrected balanced accuracy for
  more classes);
- a category whose every value maps to one target value (a recoding of the target);
- a column equal to the target, two or three columns whose sum/difference equals it, or two
  whose product/ratio does;
- a column that is missing exactly when the target has one value, or an after-the-fact amount
  (paid, balance, recoveries…) that tracks the target.
The leak tests' code sits in `core.detect_leaks` (for size); this module is the public face.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

Kind = Literal["identifier", "leak", "post_outcome"]


@dataclass(frozen=True)
class Thresholds:
    """Every cut-off the detector uses (one table; tests pin the behaviour on real tables)."""

    sample_rows: int = 20_000  # rows scanned (random, fixed seed) on bigger tables
    scan_cells: int = 1_000_000  # ... and at most this many cells: wide tables get fewer rows
    min_scan_rows: int = 3_000
    seed: int = 42
    min_rows: int = 30  # fewer non-missing rows prove nothing
    # Identifiers
    id_min_rows: int = 20
    id_unique_share: float = 0.99  # integer keys / running numbers: distinct values per row
    id_named_unique_share: float = 0.9  # a column named like a key needs fewer distinct values
    id_text_unique_share: float = 0.95  # text with (almost) one value per row: names, emails, free text
    running_number_density: float = 0.9  # distinct values / (max - min + 1) of a running number
    # Leaks
    copy_share: float = 0.98  # rows equal to the target (a copy) or to a sum of columns
    single_feature_skill: float = 0.98  # one-column cross-validated skill (R², Gini, corrected bal. acc.)
    mapping_purity: float = 0.999  # rows whose category maps to its group's one target value
    mapping_max_group_share: float = 0.2  # groups per row: above it, "pure groups" are just keys
    cv_folds: int = 3
    bins: int = 50  # quantile bins of a numeric column (a one-feature step function)
    max_scan_columns: int = 300  # wider tables: the columns most correlated with the target
    product_rel_tol: float = 1e-3  # relative tolerance of "a × b (or a / b) equals the target"
    sum_candidates: int = 12  # most target-correlated columns tried in sums (with all others; 12C3 triples)
    # Post-outcome
    missing_agreement: float = 0.99  # "missing exactly when the target has value v"
    missing_min_share: float = 0.01  # at least this share missing (and present)
    after_outcome_skill: float = 0.6  # an amount named paid/balance/... that tracks the target this well
    # Profile
    outlier_min_unique: int = 10  # numeric columns with fewer distinct values get no IQR outliers


THRESHOLDS = Thresholds()

ACTION_LEAVE_OUT = "left out of the features (put it back only if it is known before the outcome)"
ACTION_ID = (
    "left out of the features (an identifier describes no row; put it back only if it carries meaning)"
)

# Whole name tokens that mark a key. Tokens, not suffixes: `paid`, `humidity`, `valid` are not IDs.
ID_TOKENS = frozenset(
    {
        "id",
        "ids",
        "uuid",
        "guid",
        "uid",
        "pid",
        "key",
        "identifier",
        "number",
        "no",
        "nr",
        "num",
        "idx",
        "index",
        "code",
    }
)
# A unique, increasing year/date column is a time axis, not a key.
TIME_TOKENS = frozenset(
    {"year", "yr", "date", "time", "month", "day", "week", "quarter", "period", "timestamp", "datetime"}
)
# Amounts that are only known after the outcome (loan payments, refunds, recoveries).
AFTER_OUTCOME_TOKENS = frozenset(
    {
        "paid",
        "payment",
        "payments",
        "pymnt",
        "balance",
        "bal",
        "recoveries",
        "recovery",
        "recovered",
        "refund",
        "refunded",
        "collected",
        "collection",
        "outstanding",
        "settlement",
        "settled",
        "chargeoff",
        "writeoff",
        "prncp",
        "rec",
    }
)


@dataclass(frozen=True)
class Finding:
    """One reason to keep column(s) out of a model, with the evidence and what to do."""

    kind: Kind
    columns: tuple[str, ...]
    # key | running_number | free_text | copy | single_feature | mapping | sum | product | missing_pattern |
    # after_outcome_amount | profile
    rule: str
    evidence: str  # plain words with the numbers
    score: float | None = None
    action: str = ACTION_LEAVE_OUT
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def column(self) -> str:
        """A display name: the column, or the expression for a sum."""
        return (
            self.columns[0]
            if len(self.columns) == 1
            else str(self.extra.get("expr", " + ".join(self.columns)))
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["columns"] = list(self.columns)
        d["column"] = self.column
        d["reason"] = self.evidence  # the key older records and the report read
        return d


# --------------------------------------------------------------------------- names
def name_tokens(name: object) -> list[str]:
    """Lower-case word tokens: 'Individual ID' -> [individual, id]; 'PassengerId' -> [passenger, id]."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))  # camelCase boundaries
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)  # 'HTTPCode' -> 'HTTP Code'
    return [t for t in re.split(r"[^0-9a-zA-Z]+", text.lower()) if t]


def id_name(name: object) -> bool:
    """True when a whole token of the name says "key": `Individual ID`, `Sample Number`, `order_no`."""
    return any(t in ID_TOKENS for t in name_tokens(name))


def _time_name(name: object) -> bool:
    return any(t in TIME_TOKENS for t in name_tokens(name))


# --------------------------------------------------------------------------- identifiers
def identifier(
    col: pd.Series, name: object, n_unique: int | None = None, th: Thresholds = THRESHOLDS
) -> Finding | None:
    """A Finding when the column names rows rather than describing them (by values and name)."""
    s = col.dropna()
    n = len(s)
    if n < th.id_min_rows or pd.api.types.is_bool_dtype(s):
        return None
    if pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_timedelta64_dtype(s):
        return None  # unique timestamps are a time axis
    try:
        nu = int(s.nunique()) if n_unique is None else int(n_unique)
    except TypeError:  # unhashable cells (nested JSON)
        nu = int(s.astype(str).nunique())
    share = nu / n
    named = id_name(name) and share >= th.id_named_unique_share
    rule, why = "key", f"named as a key and {share:.0%} of its values are distinct"
    if pd.api.types.is_numeric_dtype(s):
        v = s.to_numpy(dtype="float64")
        if not np.all(np.mod(v[np.isfinite(v)], 1) == 0) or _time_name(name):
            return None  # measurements are unique too; a unique year/date is a time axis
        if not named:
            if share < th.id_unique_share:
                return None
            lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
            density = nu / (hi - lo + 1)
            if density >= th.running_number_density:
                why = f"a running number: {share:.0%} distinct integers, {density:.0%} of {lo:.0f}–{hi:.0f}"
            elif s.is_monotonic_increasing:
                why = f"{share:.0%} distinct integers, increasing row by row"
            else:
                return None
            rule = "running_number"
    elif not named:
        if share < th.id_text_unique_share:
            return None
        text = s.astype(str).head(2_000)
        mean_len, spaces = float(text.str.len().mean()), float(text.str.count(" ").mean())
        if mean_len > 30 or spaces >= 3:
            rule, why = (
                "free_text",
                f"free text with a different value in {share:.0%} of rows ({mean_len:.0f} chars)",
            )
        else:
            why = f"a different value in {share:.0%} of rows (a name or code)"
    return Finding("identifier", (str(name),), rule, why, share, ACTION_ID)


def find_identifiers(
    df: pd.DataFrame, skip: tuple[str, ...] = (), th: Thresholds = THRESHOLDS
) -> list[Finding]:
    """Identifier findings for every column of `df` except those in `skip` (e.g. the target)."""
    out: list[Finding] = []
    for i, name in enumerate(df.columns):
        if str(name) in skip:
            continue
        f = identifier(df.iloc[:, i], name, th=th)
        if f is not None:
            out.append(f)
    return out


# --------------------------------------------------------------------------- the scan
def sample_rows(df: pd.DataFrame, th: Thresholds = THRESHOLDS) -> pd.DataFrame:
    """A fixed random sample: at most `sample_rows` rows and `scan_cells` cells (wide tables get
    fewer rows, never under `min_scan_rows`), so the scan's cost stays flat as tables grow."""
    rows = min(th.sample_rows, max(th.min_scan_rows, th.scan_cells // max(1, df.shape[1])))
    return df if len(df) <= rows else df.sample(rows, random_state=th.seed)


def scan(
    df: pd.DataFrame, target: str | None = None, task: str | None = None, th: Thresholds = THRESHOLDS
) -> list[Finding]:
    """Identifiers, then (with a target) leaks and post-outcome columns (`core.detect_leaks`), on a
    sample of rows."""
    from core.detect_leaks import find_leaks  # it builds on this module's thresholds and records

    s = sample_rows(df, th)
    target_s = str(target) if target is not None else None
    ids = find_identifiers(s, skip=(target_s,) if target_s else (), th=th)
    if target_s is None or target_s not in [str(c) for c in s.columns]:
        return ids
    leaks = find_leaks(s, target_s, task, skip=tuple(c for f in ids for c in f.columns), th=th)
    return ids + leaks


def left_out(findings: list[Finding], put_back: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The columns left out of the features: every finding's columns except those put back."""
    keep = set(put_back)
    out: list[str] = []
    for f in findings:
        for c in f.columns:
            if c not in keep and c not in out:
                out.append(c)
    return out
