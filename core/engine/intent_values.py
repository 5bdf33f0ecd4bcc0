"""Request checks on values: arithmetic of two columns, date parts, log/scale transforms, text
case, outlier capping, binning and sorting (the structural ones are in `intent_requests`)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.engine.intent_base import (
    _candidates,
    _dates,
    _Findings,
    _kind,
    _matches,
    _new_columns,
    _num,
    _same_values,
)

_ARITH = [
    (
        "ratio",
        r"\bratio\b|\bdivided by\b|\bdivide\b|\bper\b|\bshare of\b|\brate\b|/",
        lambda a, b: a / b.replace(0, np.nan),
    ),
    ("difference", r"\bdifference\b|\bminus\b|\bsubtract|\bgap\b|\bdelta\b", lambda a, b: a - b),
    ("sum", r"\bsum\b|\bplus\b|\btotal of\b|\badd up\b|\bcombined\b", lambda a, b: a + b),
    ("product", r"\bproduct\b|\btimes\b|\bmultipl", lambda a, b: a * b),
]


def _arith(
    req: str, named: list[str], before: pd.DataFrame, after: pd.DataFrame, f: _Findings, raw: str
) -> bool:
    kind = next(((k, fn) for k, pattern, fn in _ARITH if re.search(pattern, req)), None)
    if kind is None:
        return False
    name, fn = kind
    f.understood = True
    nums = [c for c in named if c in before.columns]
    many = name in ("sum", "product") and len(nums) > 2  # "the sum of a, b and c"
    if len(nums) != 2 and not many:
        f.unread.append(f"a {name} needs two columns; the request names {len(nums)}")
        return True
    if len(after) != len(before):
        f.bad(f"rows changed from {len(before)} to {len(after)}")
        return True
    cols = [_num(before[c]).reset_index(drop=True) for c in nums]
    a, b = cols[0], cols[1]
    if many:
        total = cols[0]
        for c in cols[1:]:
            total = fn(total, c)
        wants = [total]
    else:
        wants = [fn(a, b)] + ([fn(b, a), (a - b).abs()] if name == "difference" else [])
    if name == "ratio" and " to " not in req and " by " not in req and " per " not in req:
        wants.append(fn(b, a))  # "ratio between a and b": either order
    news = _new_columns(before, after)
    hit = next(
        (c for c in news for w in wants if _matches(after[c], w.replace([np.inf, -np.inf], np.nan))), None
    )
    what = f"the {name} of {', '.join(nums[:-1])} and {nums[-1]}"
    if hit:
        f.ok(f"new column {hit!r} is {what} where defined")
    elif news:
        f.bad(f"new column(s) {', '.join(news[:3])} are not {what}")
    else:
        f.bad(f"no new column: {what} was not added")
    return True


_PARTS = {
    "month": ("month", 1, 12),
    "year": ("year", 1000, 3000),
    "weekday": ("dayofweek", 0, 6),
    "day of week": ("dayofweek", 0, 6),
    "day of the week": ("dayofweek", 0, 6),
    "dayofweek": ("dayofweek", 0, 6),
    "quarter": ("quarter", 1, 4),
    "hour": ("hour", 0, 23),
    "day": ("day", 1, 31),
    "week": ("isocalendar", 1, 53),
}


def _date_part(
    req: str, named: list[str], before: pd.DataFrame, after: pd.DataFrame, f: _Findings, raw: str
) -> bool:
    if not re.search(r"\b(extract|get|add|create|pull|take|derive|compute|make|new)\b", req):
        return False
    part = next((p for p in sorted(_PARTS, key=len, reverse=True) if re.search(rf"\b{p}s?\b", req)), None)
    if part is None:
        return False
    f.understood = True
    src = [c for c in named if c in before.columns]
    if len(src) != 1:
        f.unread.append(f"the {part} needs one date column; the request names {len(src)}")
        return True
    col = src[0]
    when = _dates(before[col]).reset_index(drop=True)
    attr, lo, hi = _PARTS[part]
    ref = (
        when.dt.isocalendar().week.astype(float)
        if attr == "isocalendar"
        else getattr(when.dt, attr).astype(float)
    )
    if len(after) != len(before):
        f.bad(f"rows changed from {len(before)} to {len(after)}")
        return True
    hit = next((c for c in _candidates(before, after, [col]) if _matches(after[c], ref)), None)
    if hit is None:
        f.bad(f"no column holds the {part} of {col} ({lo}..{hi})")
        return True
    vals = _num(after[hit]).dropna()
    f.ok(f"{hit!r} holds the {part} of {col}")
    f.check(
        bool(((vals >= lo) & (vals <= hi)).all() and (vals == vals.round()).all()),
        f"values are whole numbers in {lo}..{hi}",
        f"values outside whole numbers {lo}..{hi}",
    )
    return True


def _transform(
    req: str, named: list[str], before: pd.DataFrame, after: pd.DataFrame, f: _Findings, raw: str
) -> bool:
    kinds = [
        ("sqrt", r"square root|\bsqrt"),
        ("square", r"\bsquared?\b|\bsquare of\b|\*\* ?2|\bcubed?\b|\bcube of\b"),
        ("log", r"\blog|logarithm"),
        ("standardise", r"standardi[sz]|z.?score"),
        ("normalise", r"normali[sz]|min.?max|0 (to|and|-)? ?1\b"),
        ("scale", r"\bscale"),
    ]
    kind = next((k for k, p in kinds if re.search(p, req)), None)
    if kind is None:
        return False
    f.understood = True
    cols = [c for c in named if c in before.columns]
    if len(cols) != 1:
        f.unread.append(f"a {kind} of one column: the request names {len(cols)}")
        return True
    if len(after) != len(before):
        f.bad(f"rows changed from {len(before)} to {len(after)}")
        return True
    x = _num(before[cols[0]]).reset_index(drop=True)
    refs: list[pd.Series] = []
    with np.errstate(all="ignore"):
        if kind == "square":
            refs = [x**3] if re.search(r"\bcube", req) else [x**2]
        if kind == "log":
            refs = [np.log1p(x), np.log(x), np.log10(x), np.log1p(x.clip(lower=0)), np.log2(x)]
        elif kind == "sqrt":
            refs = [np.sqrt(x)]
        if kind in ("standardise", "scale"):
            refs += [(x - x.mean()) / x.std(ddof=0), (x - x.mean()) / x.std()]
        if kind in ("normalise", "scale"):
            refs += [(x - x.min()) / (x.max() - x.min())]
    refs = [r.replace([np.inf, -np.inf], np.nan) for r in refs]
    hit = next((c for c in _candidates(before, after, cols) for r in refs if _matches(after[c], r)), None)
    f.check(
        hit is not None, f"{hit!r} holds the {kind} of {cols[0]}", f"no column holds the {kind} of {cols[0]}"
    )
    return True


def _text(
    req: str, named: list[str], before: pd.DataFrame, after: pd.DataFrame, f: _Findings, raw: str
) -> bool:
    ops = [
        ("lower case", r"lower ?case|\blower\b", str.lower),
        ("upper case", r"upper ?case|\bupper\b", str.upper),
        ("title case", r"title ?case|capitali[sz]e", str.title),
        ("trimmed", r"\bstrip|\btrim|whitespace|spaces", str.strip),
    ]
    found = [(n, fn) for n, p, fn in ops if re.search(p, req)]
    if not found:
        return False
    f.understood = True
    text_cols = [str(c) for c in before.columns if _kind(before[c]) == "text"]
    cols = [c for c in named if c in before.columns] or text_cols
    if len(after) != len(before):
        f.bad(f"rows changed from {len(before)} to {len(after)}")
        return True
    for c in cols:
        if c not in after.columns:
            f.bad(f"{c!r} was removed")
            continue
        want = before[c].reset_index(drop=True)
        for _, fn in found:
            want = want.map(lambda v, fn=fn: fn(v) if isinstance(v, str) else v)
        names = " and ".join(n for n, _ in found)
        f.check(_same_values(after[c], want), f"{c!r} is {names}", f"{c!r} is not {names} as asked")
    return True


_N = r"(-?\d+(?:\.\d+)?)"


def _bounds(req: str) -> tuple[float | None, float | None]:
    """Explicit limits in a cap/clip request: "between 0 and 100", "at 30", "at least 0"."""
    m = re.search(rf"\bbetween {_N} and {_N}|\b(?:to|within) (?:the range )?{_N} ?(?:to|and|\.\.) ?{_N}", req)
    if m:
        lo, hi = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        return float(lo), float(hi)
    lo = re.search(
        rf"\b(?:at least|minimum of|min of|lower bound of|floor of|no less than|below at) {_N}", req
    )
    if lo:
        return float(lo.group(1)), None
    hi = re.search(
        rf"\b(?:at most|at|to|maximum of|max of|max|upper bound of|ceiling of|above|over) {_N}\b", req
    )
    return None, float(hi.group(1)) if hi else None


def _clip(
    req: str, named: list[str], before: pd.DataFrame, after: pd.DataFrame, f: _Findings, raw: str
) -> bool:
    if not re.search(r"\b(cap|clip|winsori[sz]|outliers?|limit)\b", req):
        return False
    f.understood = True
    cols = [c for c in named if c in before.columns and _num(before[c]).notna().any()]
    if not cols:
        f.unread.append("no numeric column named")
        return True
    dropping = (
        bool(re.search(r"\b(drop|remove|delete|exclude)\b", req)) and "cap" not in req and "clip" not in req
    )
    if not dropping:
        f.check(
            len(after) == len(before),
            "row count unchanged (capped, not dropped)",
            f"rows changed from {len(before)} to {len(after)}",
        )
    lower, upper = _bounds(req)
    for c in cols:
        if c not in after.columns:
            f.bad(f"{c!r} was removed")
            continue
        x, y = _num(before[c]), _num(after[c])
        if (lower is not None or upper is not None) and len(after) == len(before):
            # "clip disea at 30": the bounds asked for, exactly (an IQR cap is something else).
            want = x.clip(lower=lower, upper=upper).reset_index(drop=True)
            where = f"{'' if lower is None else f'{lower:g}'}..{'' if upper is None else f'{upper:g}'}"
            f.check(
                _matches(after[c], want, share=0.999),
                f"{c!r} clipped to {where}",
                f"{c!r} is not {c} clipped to {where}",
            )
            continue
        q1, q3 = x.quantile(0.25), x.quantile(0.75)
        had = bool(((x < q1 - 1.5 * (q3 - q1)) | (x > q3 + 1.5 * (q3 - q1))).any())
        inside = bool(y.min() >= x.min() - 1e-9 and y.max() <= x.max() + 1e-9)
        f.check(inside, f"{c!r} stays within its old range", f"{c!r} has values outside its old range")
        if had:
            f.check(
                y.max() < x.max() or y.min() > x.min(),
                f"{c!r}: extremes reduced ({x.max():g} -> {y.max():g})",
                f"{c!r}: the extreme values are still there",
            )
        else:
            f.ok(f"{c!r} had no outliers by the 1.5 IQR rule")
    return True


def _bin(
    req: str, named: list[str], before: pd.DataFrame, after: pd.DataFrame, f: _Findings, raw: str
) -> bool:
    if not re.search(
        r"\b(bins?|binn?ed|binning|buckets?|bucketi[sz]e|discreti[sz]e|bands?|brackets?|groups? of"
        r"|quantile groups?)\b",
        req,
    ):
        return False
    f.understood = True
    cols = [c for c in named if c in before.columns]
    if len(cols) != 1 or len(after) != len(before):
        f.unread.append("binning one column: the request must name one numeric column")
        if len(after) != len(before):
            f.bad(f"rows changed from {len(before)} to {len(after)}")
        return True
    m = re.search(
        r"(\d+)\s+(?:[a-z]+\s+){0,3}?(?:bins|buckets|groups|bands|brackets|ranges|quantiles)\b", req
    )
    n_bins = int(m.group(1)) if m else None
    x = _num(before[cols[0]]).reset_index(drop=True)
    for c in _candidates(before, after, cols):
        y = after[c].reset_index(drop=True)
        k = y.nunique()
        if k < 2 or k > (n_bins or 20) or not x.notna().any():
            continue
        spans = x.groupby(y.astype(str).where(y.notna())).agg(["min", "max"]).sort_values("min")
        ordered = bool((spans["min"].to_numpy()[1:] > spans["max"].to_numpy()[:-1]).all())
        if ordered:
            f.ok(f"{c!r} puts {cols[0]} into {k} non-overlapping bins")
            if n_bins:
                f.check(k == n_bins, f"{n_bins} bins as asked", f"{k} bins, not {n_bins}")
            return True
    f.bad(f"no column bins {cols[0]} into ordered, non-overlapping ranges")
    return True


def _sort(
    req: str, named: list[str], before: pd.DataFrame, after: pd.DataFrame, f: _Findings, raw: str
) -> bool:
    if not re.search(r"\b(sort|order)\b", req) or not named or named[0] not in after.columns:
        return False
    f.understood = True
    y = _num(after[named[0]]) if _kind(after[named[0]]) == "numbers" else after[named[0]].astype(str)
    desc = bool(re.search(r"desc|largest first|highest first|descending|decreasing", req))
    mono = y.dropna().is_monotonic_decreasing if desc else y.dropna().is_monotonic_increasing
    f.check(bool(mono), f"rows sorted by {named[0]}", f"rows are not sorted by {named[0]}")
    f.check(
        len(after) == len(before), "row count unchanged", f"rows changed from {len(before)} to {len(after)}"
    )
    return True


# Order matters: the first checker that recognises the request owns it (rename before "to"
# conversions; row filters before column drops; date parts before "add a column").


_AGG = {
    "average": "mean",
    "mean": "mean",
    "median": "median",
    "sum": "sum",
    "total": "sum",
    "maximum": "max",
    "max": "max",
    "minimum": "min",
    "min": "min",
    "count": "count",
}


def _group(
    req: str, named: list[str], before: pd.DataFrame, after: pd.DataFrame, f: _Findings, raw: str
) -> bool:
    """ "add the average a per cat as a new column": a new column = groupby(cat)[a].transform(agg)."""
    agg = next((v for k, v in _AGG.items() if re.search(rf"\b{k}\b", req)), None)
    grouped = re.search(
        r"\b(per|by|for each|of each|each|within|in each)\b col\b|\bcol (group|groups)\b", req
    )
    if agg is None or not grouped or len(named) != 2:
        return False
    f.understood = True
    if len(after) != len(before):
        f.bad(f"rows changed from {len(before)} to {len(after)}")
        return True
    news = _new_columns(before, after)
    for value, key in (named, named[::-1]):
        if not pd.api.types.is_numeric_dtype(before[value]):
            continue
        want = before.groupby(key, dropna=False)[value].transform(agg).reset_index(drop=True)
        hit = next((c for c in news if _matches(after[c], want.astype(float))), None)
        if hit:
            f.ok(f"new column {hit!r} is the {agg} of {value} per {key}")
            return True
    f.bad(f"no new column holds the {agg} of {named[0]} per {named[1]}")
    return True


def _length(
    req: str, named: list[str], before: pd.DataFrame, after: pd.DataFrame, f: _Findings, raw: str
) -> bool:
    if not re.search(r"\blength\b|number of (characters|letters)|\bcharacters\b", req) or len(named) != 1:
        return False
    f.understood = True
    col = named[0]
    want = before[col].astype("string").str.len().astype(float).reset_index(drop=True)
    hit = next(
        (c for c in _candidates(before, after, []) if len(after) == len(before) and _matches(after[c], want)),
        None,
    )
    f.check(hit is not None, f"{hit!r} holds the length of {col}", f"no new column holds the length of {col}")
    return True


def _round(
    req: str, named: list[str], before: pd.DataFrame, after: pd.DataFrame, f: _Findings, raw: str
) -> bool:
    m = re.search(r"\bround\b.*?\b(\d+) (decimals?|decimal places?|digits?)", req)
    whole = re.search(r"\bround\b", req) and re.search(r"whole number|integer|no decimals", req)
    if not (m or whole) or len(named) != 1:
        return False
    f.understood = True
    k = int(m.group(1)) if m else 0
    col = named[0]
    want = _num(before[col]).round(k).reset_index(drop=True)
    ok = len(after) == len(before) and any(
        _matches(after[c], want, share=0.999) for c in _candidates(before, after, [col])
    )
    f.check(ok, f"{col} rounded to {k} decimals", f"no column holds {col} rounded to {k} decimals")
    return True
