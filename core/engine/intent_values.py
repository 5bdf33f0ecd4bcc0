"""Request checks on values: arithmetic of two columns, date parts, log/scale transforms, text
case, outlier capping, binning and sorting (the structural ones are in `intent_requests`)."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

from core.engine.intent_base import (
    IntentCase,
    _dates,
    _Findings,
    _kind,
    _matches,
    _num,
    _same_values,
    checker,
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


# Words and numbers that change a two-column arithmetic this check does not model (column names
# are masked as "col" first, so digits in a name do not count).
_MORE_THAN_PLAIN = re.compile(
    r"\b(squared?|cubed?|sqrt|roots?|logs?|logarithms?|powers?|percent(age)?|exp|absolute)\b|\*\*|\^|\b\d+(\.\d+)?\b"
)


@checker()
def _arith(case: IntentCase, f: _Findings) -> bool:
    kind = next(((k, fn) for k, pattern, fn in _ARITH if re.search(pattern, case.req)), None)
    if kind is None:
        return False
    name, fn = kind
    f.understood = True
    extra = _MORE_THAN_PLAIN.search(case.req)
    if extra:  # "weight divided by height squared" is not weight / height
        f.unread.append(f"the request asks for more than a plain {name} ({extra.group(0).strip()!r})")
        return True
    nums = case.present
    many = name in ("sum", "product") and len(nums) > 2  # "the sum of a, b and c"
    if len(nums) != 2 and not many:
        f.unread.append(f"a {name} needs two columns; the request names {len(nums)}")
        return True
    if case.rows_changed(f):
        return True
    cols = [_num(case.before[c]).reset_index(drop=True) for c in nums]
    a, b = cols[0], cols[1]
    if many:
        total = cols[0]
        for c in cols[1:]:
            total = fn(total, c)
        wants = [total]
    else:
        wants = [fn(a, b)] + ([fn(b, a), (a - b).abs()] if name == "difference" else [])
    if name == "ratio" and " to " not in case.req and " by " not in case.req and " per " not in case.req:
        wants.append(fn(b, a))  # "ratio between a and b": either order
    news = case.new_columns
    hit = next(
        (c for c in news for w in wants if _matches(case.after[c], w.replace([np.inf, -np.inf], np.nan))),
        None,
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


@checker(r"\b(extract|get|add|create|pull|take|derive|compute|make|new)\b")
def _date_part(case: IntentCase, f: _Findings) -> bool:
    part = next(
        (p for p in sorted(_PARTS, key=len, reverse=True) if re.search(rf"\b{p}s?\b", case.req)), None
    )
    if part is None:
        return False
    f.understood = True
    col = case.one_column(f, f"the {part} needs one date column; the request names")
    if col is None:
        return True
    when = _dates(case.before[col]).reset_index(drop=True)
    attr, lo, hi = _PARTS[part]
    ref = (
        when.dt.isocalendar().week.astype(float)
        if attr == "isocalendar"
        else getattr(when.dt, attr).astype(float)
    )
    if case.rows_changed(f):
        return True
    hit = next((c for c in case.candidates([col]) if _matches(case.after[c], ref)), None)
    if hit is None:
        f.bad(f"no column holds the {part} of {col} ({lo}..{hi})")
        return True
    vals = _num(case.after[hit]).dropna()
    f.ok(f"{hit!r} holds the {part} of {col}")
    f.check(
        bool(((vals >= lo) & (vals <= hi)).all() and (vals == vals.round()).all()),
        f"values are whole numbers in {lo}..{hi}",
        f"values outside whole numbers {lo}..{hi}",
    )
    return True


@checker()
def _transform(case: IntentCase, f: _Findings) -> bool:
    kinds = [
        ("sqrt", r"square root|\bsqrt"),
        ("square", r"\bsquared?\b|\bsquare of\b|\*\* ?2|\bcubed?\b|\bcube of\b"),
        ("log", r"\blog|logarithm"),
        ("standardise", r"standardi[sz]|z.?score"),
        ("normalise", r"normali[sz]|min.?max|0 (to|and|-)? ?1\b"),
        ("scale", r"\bscale"),
    ]
    kind = next((k for k, p in kinds if re.search(p, case.req)), None)
    if kind is None:
        return False
    f.understood = True
    col = case.one_column(f, f"a {kind} of one column: the request names")
    if col is None or case.rows_changed(f):
        return True
    x = _num(case.before[col]).reset_index(drop=True)
    refs: list[pd.Series] = []
    with np.errstate(all="ignore"):
        if kind == "square":
            refs = [x**3] if re.search(r"\bcube", case.req) else [x**2]
        if kind == "log":
            refs = [np.log1p(x), np.log(x), np.log10(x), np.log1p(x.clip(lower=0)), np.log2(x)]
        elif kind == "sqrt":
            refs = [np.sqrt(x)]
        if kind in ("standardise", "scale"):
            refs += [(x - x.mean()) / x.std(ddof=0), (x - x.mean()) / x.std()]
        if kind in ("normalise", "scale"):
            refs += [(x - x.min()) / (x.max() - x.min())]
    refs = [r.replace([np.inf, -np.inf], np.nan) for r in refs]
    hit = next((c for c in case.candidates([col]) for r in refs if _matches(case.after[c], r)), None)
    f.check(hit is not None, f"{hit!r} holds the {kind} of {col}", f"no column holds the {kind} of {col}")
    return True


@checker()
def _text(case: IntentCase, f: _Findings) -> bool:
    ops = [
        ("lower case", r"lower ?case|\blower\b", str.lower),
        ("upper case", r"upper ?case|\bupper\b", str.upper),
        ("title case", r"title ?case|capitali[sz]e", str.title),
        ("trimmed", r"\bstrip|\btrim|whitespace|spaces", str.strip),
    ]
    found = [(n, fn) for n, p, fn in ops if re.search(p, case.req)]
    if not found:
        return False
    f.understood = True
    text_cols = [str(c) for c in case.before.columns if _kind(case.before[c]) == "text"]
    cols = case.present or text_cols
    if case.rows_changed(f):
        return True
    for c in cols:
        if c not in case.after.columns:
            f.bad(f"{c!r} was removed")
            continue
        want = case.before[c].reset_index(drop=True)
        for _, fn in found:
            want = want.map(lambda v, fn=fn: fn(v) if isinstance(v, str) else v)
        names = " and ".join(n for n, _ in found)
        f.check(_same_values(case.after[c], want), f"{c!r} is {names}", f"{c!r} is not {names} as asked")
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


@checker(r"\b(cap|clip|winsori[sz]|outliers?|limit)\b")
def _clip(case: IntentCase, f: _Findings) -> bool:
    f.understood = True
    cols = [c for c in case.named if c in case.before.columns and _num(case.before[c]).notna().any()]
    if not cols:
        f.unread.append("no numeric column named")
        return True
    dropping = (
        bool(re.search(r"\b(drop|remove|delete|exclude)\b", case.req))
        and "cap" not in case.req
        and "clip" not in case.req
    )
    if not dropping:
        case.same_rows(f, "row count unchanged (capped, not dropped)")
    lower, upper = _bounds(case.req)
    for c in cols:
        if c not in case.after.columns:
            f.bad(f"{c!r} was removed")
            continue
        x, y = _num(case.before[c]), _num(case.after[c])
        if (lower is not None or upper is not None) and len(case.after) == len(case.before):
            # "clip disea at 30": the bounds asked for, exactly (an IQR cap is something else).
            want = x.clip(lower=lower, upper=upper).reset_index(drop=True)
            where = f"{'' if lower is None else f'{lower:g}'}..{'' if upper is None else f'{upper:g}'}"
            f.check(
                _matches(case.after[c], want, share=0.999),
                f"{c!r} clipped to {where}",
                f"{c!r} is not {c} clipped to {where}",
            )
            continue
        q1, q3 = x.quantile(0.25), x.quantile(0.75)
        fences = (q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1))
        had = bool(((x < fences[0]) | (x > fences[1])).any())
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
        if dropping and len(cols) == 1 and len(case.after) < len(case.before):
            # One column only: a row dropped for another column's outlier is ordinary in this one.
            _removed_are_outliers(f, c, x, y, fences)
    return True


def _removed_are_outliers(
    f: _Findings, c: str, x: pd.Series, y: pd.Series, fences: tuple[float, float]
) -> None:
    """Rows dropped as outliers must be outliers by a usual rule (beyond the 1.5 IQR fences or
    3 standard deviations): a cut at the 90th percentile drops ordinary rows."""
    removed = Counter(x.dropna().round(9).tolist()) - Counter(y.dropna().round(9).tolist())
    vals = np.array(list(removed.elements()), dtype=float)
    if not len(vals):
        return
    mu, sd = float(x.mean()), float(x.std())
    ordinary = (vals >= fences[0]) & (vals <= fences[1]) & (np.abs(vals - mu) <= 3 * sd)
    share = float(ordinary.mean())
    if share > 0.5:
        f.bad(f"{c!r}: {share:.0%} of the dropped rows are not outliers (inside the 1.5 IQR fences)")
    elif share > 0:
        f.unread.append(f"{c!r}: {share:.0%} of the dropped rows are inside the usual outlier fences")
    else:
        f.ok(f"{c!r}: every dropped row is an outlier")


@checker(
    r"\b(bins?|binn?ed|binning|buckets?|bucketi[sz]e|discreti[sz]e|bands?|brackets?|groups? of"
    r"|quantile groups?)\b"
)
def _bin(case: IntentCase, f: _Findings) -> bool:
    f.understood = True
    cols = case.present
    if len(cols) != 1 or len(case.after) != len(case.before):
        f.unread.append("binning one column: the request must name one numeric column")
        case.rows_changed(f)
        return True
    m = re.search(
        r"(\d+)\s+(?:[a-z]+\s+){0,3}?(?:bins|buckets|groups|bands|brackets|ranges|quantiles)\b", case.req
    )
    n_bins = int(m.group(1)) if m else None
    x = _num(case.before[cols[0]]).reset_index(drop=True)
    for c in case.candidates(cols):
        y = case.after[c].reset_index(drop=True)
        k = y.nunique()
        if k < 2 or k > (n_bins or 20) or not x.notna().any():
            continue
        spans = x.groupby(y.astype(str).where(y.notna())).agg(["min", "max"]).sort_values("min")
        ordered = bool((spans["min"].to_numpy()[1:] > spans["max"].to_numpy()[:-1]).all())
        if ordered:
            f.ok(f"{c!r} puts {cols[0]} into {k} non-overlapping bins")
            if n_bins:
                f.check(k == n_bins, f"{n_bins} bins as asked", f"{k} bins, not {n_bins}")
                _bin_kind(case, f, c, x, y, n_bins)
            return True
    f.bad(f"no column bins {cols[0]} into ordered, non-overlapping ranges")
    return True


def _bin_kind(case: IntentCase, f: _Findings, c: str, x: pd.Series, y: pd.Series, n_bins: int) -> None:
    """ "equal-width" bins are pd.cut's ranges, "quantile"/"equal-frequency" bins pd.qcut's: the
    column must group the rows as those do (a row on an edge may fall either side: 1% slack)."""
    if re.search(r"\b(equal|same) (width|size ranges?)|evenly spaced|equal intervals?", case.req):
        kind, ref = "equal-width", pd.cut(x, n_bins, labels=False)
    elif re.search(
        r"\bquantiles?\b|quartiles?|equal (frequency|count)|equal(ly)? sized?|same number of rows", case.req
    ):
        kind, ref = "quantile", pd.qcut(x, n_bins, labels=False, duplicates="drop")
    else:
        return
    both = pd.DataFrame({"y": y.astype(str).where(y.notna()), "ref": ref}).dropna()
    if both.empty:
        return
    # Each bin of the column must be one reference bin (and no two columns bins the same one).
    top = both.groupby("y")["ref"].agg(lambda r: r.value_counts().index[0])
    agree = float((both["ref"].to_numpy() == top.reindex(both["y"]).to_numpy()).mean())
    f.check(
        agree >= 0.99 and top.is_unique,
        f"{c!r} holds {kind} bins",
        f"{c!r} does not hold {kind} bins of {case.present[0]} ({agree:.0%} of rows agree)",
    )


@checker(r"\b(sort|order)\b")
def _sort(case: IntentCase, f: _Findings) -> bool:
    if not case.named or case.named[0] not in case.after.columns:
        return False
    f.understood = True
    y = (
        _num(case.after[case.named[0]])
        if _kind(case.after[case.named[0]]) == "numbers"
        else case.after[case.named[0]].astype(str)
    )
    desc = bool(re.search(r"desc|largest first|highest first|descending|decreasing", case.req))
    mono = y.dropna().is_monotonic_decreasing if desc else y.dropna().is_monotonic_increasing
    f.check(bool(mono), f"rows sorted by {case.named[0]}", f"rows are not sorted by {case.named[0]}")
    case.same_rows(f)
    return True


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


@checker()
def _group(case: IntentCase, f: _Findings) -> bool:
    """ "add the average a per cat as a new column": a new column = groupby(cat)[a].transform(agg)."""
    agg = next((v for k, v in _AGG.items() if re.search(rf"\b{k}\b", case.req)), None)
    grouped = re.search(
        r"\b(per|by|for each|of each|each|within|in each)\b col\b|\bcol (group|groups)\b", case.req
    )
    if agg is None or not grouped or len(case.named) != 2:
        return False
    f.understood = True
    if case.rows_changed(f):
        return True
    news = case.new_columns
    for value, key in (case.named, case.named[::-1]):
        if not pd.api.types.is_numeric_dtype(case.before[value]):
            continue
        want = case.before.groupby(key, dropna=False)[value].transform(agg).reset_index(drop=True)
        hit = next((c for c in news if _matches(case.after[c], want.astype(float))), None)
        if hit:
            f.ok(f"new column {hit!r} is the {agg} of {value} per {key}")
            return True
    f.bad(f"no new column holds the {agg} of {case.named[0]} per {case.named[1]}")
    return True


@checker(r"\blength\b|number of (characters|letters)|\bcharacters\b")
def _length(case: IntentCase, f: _Findings) -> bool:
    if len(case.named) != 1:
        return False
    f.understood = True
    col = case.named[0]
    want = case.before[col].astype("string").str.len().astype(float).reset_index(drop=True)
    hit = next(
        (
            c
            for c in case.candidates([])
            if len(case.after) == len(case.before) and _matches(case.after[c], want)
        ),
        None,
    )
    f.check(hit is not None, f"{hit!r} holds the length of {col}", f"no new column holds the length of {col}")
    return True


@checker()
def _round(case: IntentCase, f: _Findings) -> bool:
    m = re.search(r"\bround(?:ed|ing)?\b.*?\b(\d+) (decimals?|decimal places?|digits?)", case.req)
    whole = re.search(r"\bround(?:ed|ing)?\b", case.req) and re.search(
        r"whole number|integer|no decimals", case.req
    )
    if not (m or whole) or len(case.named) != 1:
        return False
    f.understood = True
    k = int(m.group(1)) if m else 0
    col = case.named[0]
    want = _num(case.before[col]).round(k).reset_index(drop=True)
    ok = len(case.after) == len(case.before) and any(
        _matches(case.after[c], want, share=0.999) for c in case.candidates([col])
    )
    f.check(ok, f"{col} rounded to {k} decimals", f"no column holds {col} rounded to {k} decimals")
    return True
