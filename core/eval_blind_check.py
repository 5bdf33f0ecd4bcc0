"""How a blind-eval answer is compared with its reference: lenient on shape, strict on value.

An answer may come back as a scalar, a 1x1 frame, a 1-item Series, a labelled Series (top-N) or a string;
the value inside must still be right, to the rounding the question asked or to 1e-6 relative.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

# pct: the percent or the same share as a fraction; month: its number or its name.
N, P, T, S, B, D, M = "num", "pct", "text", "set", "bool", "date", "month"


def _unwrap(v: Any) -> Any:
    """One value out of the shapes an answer comes in (1x1 frame, 1-item Series or list, numpy scalar)."""
    if isinstance(v, pd.DataFrame) and v.size == 1:
        v = v.iloc[0, 0]
    if isinstance(v, (pd.Series, pd.Index, list, tuple, np.ndarray)) and len(v) == 1:
        v = list(v)[0]
    return v.item() if isinstance(v, np.generic) else v


def _num(v: Any) -> float | None:
    v = _unwrap(v)
    if isinstance(v, str):
        v = v.strip().rstrip("%").replace(",", "")
    if isinstance(v, bool):
        return None  # a yes/no is not a count
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _close(got: float | None, exp: float, digits: int | None) -> bool:
    if got is None or math.isnan(got):
        return False
    if digits is not None:  # the rounded and the unrounded value are both right
        return abs(got - exp) <= 0.5 * 10**-digits + 1e-9
    return math.isclose(got, exp, rel_tol=1e-6, abs_tol=1e-9)


def _norm(v: Any) -> str:
    v = _unwrap(v)
    if isinstance(v, float) and v.is_integer():
        v = int(v)  # 1957.0 and "1957" name the same year
    return str(v).strip().casefold()


def _labels(v: Any) -> list[set[str]]:
    """Candidate label sets: a Series or frame may carry the answer in its index or in its values."""
    if isinstance(v, pd.DataFrame):
        parts = [v.index, *(v[c] for c in v.columns)]
    elif isinstance(v, pd.Series):
        parts = [v.index, v.tolist()]
    else:
        parts = [list(v)] if isinstance(v, (list, tuple, set, dict, pd.Index, np.ndarray)) else [[v]]
    return [{_norm(x) for x in part} for part in parts]


def _day(v: Any) -> date | None:
    try:
        ts = pd.Timestamp(_unwrap(v))
    except (TypeError, ValueError):
        return None
    return None if pd.isna(ts) else ts.date()


def correct(kind: str, digits: int | None, got: Any, exp: Any) -> bool:
    """Whether `got` answers a question whose reference answer is `exp`, compared as `kind`."""
    try:
        if kind in (N, P):
            g = _num(got)
            candidates = [g, None if g is None else g * 100] if kind == P else [g]
            return any(_close(x, float(exp), digits) for x in candidates)
        if kind == T:
            return _norm(got) == _norm(exp)
        if kind == S:
            return {_norm(x) for x in exp} in _labels(got)
        if kind == B:
            g = _unwrap(got)
            if isinstance(g, str):
                g = {"yes": True, "true": True, "no": False, "false": False}.get(_norm(g).rstrip("."))
            return isinstance(g, bool) and g == bool(exp)
        if kind == D:
            return _day(got) == (exp if isinstance(exp, date) else _day(exp))
        if kind == M:
            name = pd.Timestamp(2000, int(exp), 1).month_name().casefold()
            g = _norm(got)
            return g in {str(exp), name, name[:3]} or bool(re.fullmatch(rf"\d{{4}}-0?{exp}", g))
    except Exception:  # noqa: BLE001 - an answer that cannot even be compared is a wrong answer
        return False
    raise ValueError(f"unknown kind {kind!r}")
