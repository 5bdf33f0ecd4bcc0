"""Trusted data preparation for the model harness: task detection and sklearn-safe frames.

SELF-CONTAINED ON PURPOSE, like `core.modeling_harness` (which imports it): this file imports
only pandas, numpy and the standard library, never `core` or scikit-learn. It runs inside the
sandbox worker and its source is inlined verbatim into the exported notebook, one cell before the
harness; the cheap checks (`core.detect_leaks`) use it without loading scikit-learn.

`prepare_features` makes a frame from the wild safe for sklearn: column names become unique
strings, datetimes become numbers (days since 1970), booleans become 0/1, nullable pandas dtypes
become numpy ones, mixed-type object columns become strings, infinities become missing and
all-missing columns are dropped. Each change is recorded in `notes`. `prepare_target` does the
same for the target, `detect_task` reads classification or regression from it, and
`number_text` reads numbers written as text ('$1,234.50', '12%').
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

_NUMBER_TEXT = (  # matched case-insensitively
    r"^\(?\s*[-+]?\s*(?:[$€£¥₹]|USD|EUR|GBP)?\s*[-+]?\s*\d[\d.,' \u00a0]*"
    r"\s*(?:%|[$€£¥₹]|USD|EUR|GBP)?\s*\)?$"
)


def number_text(y: pd.Series, min_share: float = 0.95) -> pd.Series | None:
    """Text that holds numbers ('$1,234.50', '1.234,5 €', '12%', '(3)') as floats (NaN where a
    value is not a number), or None when under `min_share` of the non-missing values are numbers
    (labels such as 'yes'/'no' stay labels)."""
    if pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return None
    present = y.notna()
    if not bool(present.any()):
        return None
    s = y.astype(str).str.strip()
    plain = pd.to_numeric(s.where(present), errors="coerce").astype("float64")  # '1e-05', 'inf'
    ok = present & (plain.notna() | s.str.fullmatch(_NUMBER_TEXT, case=False).fillna(False).astype(bool))
    if float(ok.sum()) < min_share * float(present.sum()):
        return None
    neg = s.str.startswith("(") & s.str.endswith(")")
    s = s.str.replace(r"(?i)[$€£¥₹%()\s\u00a0'+]|USD|EUR|GBP", "", regex=True)
    # The last of '.' / ',' is the decimal mark when both occur; a lone ',' is decimal only
    # when followed by one or two digits ('12,5'), otherwise it separates thousands ('1,234').
    both = s.str.contains(",", regex=False) & s.str.contains(".", regex=False)
    comma_dec = (both & (s.str.rfind(",") > s.str.rfind("."))) | (~both & s.str.contains(r",\d{1,2}$"))
    s = s.where(~comma_dec, s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    s = s.where(comma_dec, s.str.replace(",", "", regex=False))
    out = pd.to_numeric(s.where(ok), errors="coerce").astype("float64")
    return plain.fillna(out.where(~neg, -out))


def detect_task(y: pd.Series) -> str:
    """ "classification" for labels (strings, booleans, few integer values), else "regression".

    Numbers stored as text (money, thousands separators, percent) count as numbers."""
    s = y.dropna()
    if s.empty:
        return "classification"
    parsed = number_text(s)
    if parsed is not None:
        s = parsed.dropna()
        if s.empty:
            return "classification"
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        return "classification"
    n_unique = s.nunique()
    if n_unique <= 2:
        return "classification"
    values = s.to_numpy(dtype="float64")
    integral = bool(np.all(np.isfinite(values)) and np.all(np.mod(values, 1) == 0))
    if integral and n_unique <= 10:
        return "classification"
    return "regression"


def _unique_names(names: list[Any]) -> list[str]:
    """Column names as unique strings: sklearn refuses non-string or duplicated names."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for raw in names:
        name = str(raw)
        base = name
        while name in seen:
            seen[base] += 1
            name = f"{base}_{seen[base]}"
        seen.setdefault(name, 0)
        out.append(name)
    return out


def prepare_features(X: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Make feature columns safe for sklearn; returns the new frame and notes on what changed."""
    notes: list[str] = []
    X = X.copy()
    names = _unique_names(list(X.columns))
    if names != [str(c) for c in X.columns]:
        notes.append("column names made unique strings")
    X.columns = names
    keep: list[str] = []
    for i, name in enumerate(names):
        col = X.iloc[:, i]
        if pd.api.types.is_datetime64_any_dtype(col):
            if getattr(col.dt, "tz", None) is not None:
                col = col.dt.tz_convert("UTC").dt.tz_localize(None)
            col = (col - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
            notes.append(f"{name}: datetime converted to days since 1970-01-01")
        elif pd.api.types.is_timedelta64_dtype(col):
            col = col / pd.Timedelta(seconds=1)
            notes.append(f"{name}: duration converted to seconds")
        elif pd.api.types.is_bool_dtype(col):
            col = col.astype("float64")
        elif isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(object).where(col.notna(), np.nan)
            col = col.map(lambda v: v if isinstance(v, float) and math.isnan(v) else str(v))
        elif pd.api.types.is_numeric_dtype(col):
            col = pd.to_numeric(col, errors="coerce").astype("float64")
            col = col.replace([np.inf, -np.inf], np.nan)
        else:
            # Object / string columns: booleans stored as objects, mixed numbers and text,
            # pd.NA. Encoders need one type, so every present value becomes its string.
            obj = col.astype(object)
            present = obj.notna()
            if bool(present.any()) and obj[present].map(lambda v: isinstance(v, bool)).all():
                col = (
                    obj.where(present, np.nan)
                    .map(lambda v: float(v) if isinstance(v, bool) else np.nan)
                    .astype("float64")
                )
            else:
                col = obj.where(present, np.nan).map(
                    lambda v: v if isinstance(v, float) and math.isnan(v) else str(v)
                )
                col = col.astype(object)
        if col.isna().all():
            notes.append(f"{name}: dropped (no values)")
            continue
        X[name] = col
        keep.append(name)
    return X[keep], notes


def prepare_target(y: pd.Series, task: str) -> tuple[pd.Series, list[str]]:
    """Labels as strings for classification (one type, bools and mixed types included);
    numbers for regression (text that is not a number becomes missing and is dropped)."""
    notes: list[str] = []
    if task == "classification":
        if pd.api.types.is_float_dtype(y) and bool(np.all(np.mod(y.dropna(), 1) == 0)):
            y = y.astype("Int64")
        y = y.astype(object).where(y.notna(), None)
        y = y.map(lambda v: None if v is None else str(v))
        return y, notes
    parsed = number_text(y, min_share=0.0)
    num = parsed if parsed is not None else pd.to_numeric(y, errors="coerce").astype("float64")
    num = num.replace([np.inf, -np.inf], np.nan)
    n_bad = int(num.isna().sum() - y.isna().sum())
    if n_bad > 0:
        notes.append(f"{n_bad} target values are not numbers and were dropped")
    return num, notes
