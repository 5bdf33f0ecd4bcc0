"""The request checks, one function per kind of request (see `core.engine.intent`).

Each checker gets one `IntentCase` (the masked request, the columns it names, the table before
and after, the raw request) and the findings to fill; it returns False when the request is not
its kind, True when it recognised it (and added its checks). `CHECKERS` is the table, in order.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.engine.intent_base import (
    Checker,
    IntentCase,
    _Findings,
    _kind,
    _norm,
    _num,
    _same_values,
    checker,
    columns_named,
)
from core.engine.intent_values import (
    _arith,
    _bin,
    _clip,
    _date_part,
    _group,
    _length,
    _round,
    _sort,
    _text,
    _transform,
)

# --------------------------------------------------------------------------- the checks
_NUM = r"(-?\d+(?:\.\d+)?)"


@checker()
def _rename(case: IntentCase, f: _Findings) -> bool:
    m = re.search(
        r"\brename\b\s+(?:the\s+)?(?:column\s+)?['\"`]?(.+?)['\"`]?\s+(?:to|as|into)\s+"
        r"['\"`]?([\w .\-]+?)['\"`]?\s*$",
        case.raw.strip(),
        re.I,
    )
    m = m or re.search(
        r"\bcall\s+(?:the\s+)?['\"`]?(.+?)['\"`]?\s+column\s+['\"`]?([\w .\-]+?)['\"`]?\s*$",
        case.raw.strip(),
        re.I,
    )
    if not m:
        return False
    old = columns_named(m.group(1), [str(c) for c in case.before.columns])
    new = m.group(2).strip()
    if not old:
        f.unread.append(f"no column called {m.group(1)!r}")
        return True
    col = old[0]
    f.understood = True
    after_cols = [str(c) for c in case.after.columns]
    f.check(col not in after_cols, f"{col!r} no longer exists", f"{col!r} is still a column")
    hit = next((c for c in after_cols if _norm(c) == _norm(new)), None)
    f.check(hit is not None, f"a column {new!r} exists", f"no column {new!r} in the result")
    if hit is not None and len(case.after) == len(case.before):
        f.check(
            _same_values(case.before[col], case.after[hit]),
            f"{hit!r} holds {col!r}'s values",
            f"{hit!r} does not hold {col!r}'s values",
        )
    # A rename touches one column: the others keep their names (and, row for row, their values).
    lost = [str(c) for c in case.before.columns if str(c) != col and str(c) not in after_cols]
    f.check(not lost, "no other column renamed or removed", f"also renamed or removed {', '.join(lost[:5])}")
    if len(case.after) == len(case.before):
        changed = [
            str(c)
            for c in case.before.columns
            if str(c) != col and str(c) in after_cols and not _same_values(case.before[c], case.after[c])
        ]
        f.check(not changed, "other columns unchanged", f"also changed {', '.join(changed[:5])}")
    return True


_ROWS = re.compile(
    r"\b(drop|remove|delete|exclude|filter|keep only|keep|only keep)\b.*"
    r"\b(rows?|records?|entries|where|with|without|duplicates?)\b"
    r"|\bfilter\b|\bwhere\b.*\b(is|are)\s+(missing|empty|null|blank)\b"
)
_COLS_DROP = re.compile(r"\b(drop|remove|delete|get rid of)\b")


def _condition(req: str, col: str, before: pd.DataFrame) -> tuple[str, pd.Series] | None:
    """The rows the request's condition on `col` selects in `before`, with a phrase for it."""
    s = before[col]
    if re.search(
        r"\b(is |are )?(missing|empty|null|blank|nan|na)\b|\bwith no col\b|\bwithout (an? )?col\b", req
    ):
        return f"{col} is missing", s.isna()
    ops = [
        (r"(>=|at least|no less than|greater than or equal to)\s*" + _NUM, lambda x, v: x >= v, ">="),
        (r"(<=|at most|no more than|less than or equal to)\s*" + _NUM, lambda x, v: x <= v, "<="),
        (
            r"(>|greater than|more than|above|over|exceeds?|bigger than|larger than)\s*" + _NUM,
            lambda x, v: x > v,
            ">",
        ),
        (r"(<|less than|below|under|smaller than|lower than)\s*" + _NUM, lambda x, v: x < v, "<"),
        (r"(==|=|\bequals?|\bis equal to|\bis)\s*" + _NUM + r"\b", lambda x, v: x == v, "=="),
    ]
    for pattern, op, sym in ops:
        m = re.search(pattern, req)
        if m:
            v = float(m.group(2))
            return f"{col} {sym} {v:g}", op(_num(s), v).fillna(False).astype(bool)
    values = s.map(lambda v: _norm(str(v)) if pd.notna(v) else None)
    m = re.search(r"(?:\bis\b|\bequals?\b|==|=)\s*['\"]?([\w .\-]+?)['\"]?\s*$", req)
    if m and not pd.api.types.is_numeric_dtype(s):
        want = m.group(1).strip()
        return f"{col} is {want!r}", (values == _norm(want)).fillna(False).astype(bool)
    if not pd.api.types.is_numeric_dtype(s) and s.nunique() <= 200:
        # "remove the Dinner rows of time": the one value of the column the request names.
        said = [
            v
            for v in values.dropna().unique()
            if len(v) >= 2 and re.search(rf"(?<!\w){re.escape(v)}(?!\w)", req)
        ]
        if len(said) == 1:
            return f"{col} is {said[0]!r}", (values == said[0]).fillna(False).astype(bool)
    return None


@checker(_ROWS.pattern + "|duplicate")
def _rows(case: IntentCase, f: _Findings) -> bool:
    f.understood = True
    if "duplicate" in case.req:
        # "duplicates based on region" / "by customer_id": duplicates over the columns it names.
        subset = [c for c in case.named if c in case.before.columns and c in case.after.columns] or None
        over = f" in {', '.join(subset)}" if subset else ""
        n_dups = int(case.before.duplicated(subset=subset).sum())
        left = int(case.after.duplicated(subset=subset).sum())
        f.check(left == 0, f"no duplicate rows{over} remain", f"{left} duplicate rows{over} remain")
        f.check(
            len(case.after) == len(case.before) - n_dups,
            f"{n_dups} duplicate rows{over} removed, nothing else",
            f"{len(case.before) - len(case.after)} rows removed, but there were {n_dups} duplicates{over}",
        )
        return True
    keep = bool(re.search(r"\b(keep|only|filter(?! out)|select|retain)\b", case.req)) and not re.search(
        r"\b(drop|remove|delete|exclude)\b", case.req
    )
    lost_cols = [c for c in map(str, case.before.columns) if c not in set(map(str, case.after.columns))]
    f.check(not lost_cols, "no column was removed", f"column(s) {', '.join(lost_cols[:5])} were removed")
    conds = [
        c
        for c in (_condition(case.req, col, case.before) for col in case.named if col in case.before.columns)
        if c
    ]
    if len(conds) != 1:
        if len(case.after) < len(case.before):
            f.ok(f"{len(case.before) - len(case.after)} of {len(case.before)} rows removed")
        else:
            f.bad("no row was removed")
        f.unread.append("the condition on the rows could not be read from the request")
        return True
    phrase, selected = conds[0]
    col = case.named[[_condition(case.req, c, case.before) is not None for c in case.named].index(True)]
    n_sel = int(selected.sum())
    expect = n_sel if keep else len(case.before) - n_sel
    f.check(
        len(case.after) == expect,
        f"{expect} rows remain ({'kept' if keep else 'dropped'}: {phrase})",
        f"{len(case.after)} rows remain, expected {expect} "
        f"({'keep' if keep else 'drop'} rows where {phrase})",
    )
    if col in case.after.columns:
        still = _condition(case.req, col, case.after)
        if still is not None:
            holds = int(still[1].sum())
            if keep:
                f.check(
                    holds == len(case.after),
                    f"every remaining row has {phrase}",
                    f"{len(case.after) - holds} remaining rows do not have {phrase}",
                )
            else:
                f.check(
                    holds == 0,
                    f"no remaining row has {phrase}",
                    f"{holds} remaining rows still have {phrase}",
                )
    return True


@checker()
def _drop_columns(case: IntentCase, f: _Findings) -> bool:
    keep_only = (
        re.search(r"\b(keep only|only keep|select only|keep just)\b", case.req) and "row" not in case.req
    )
    # "remove outliers from x" or "remove spaces in x" are not column drops: after taking out the
    # verb, the column names and filler words nothing may be left but "column(s)".
    leftover = re.sub(
        r"\b(please|drop|remove|delete|get rid of|the|col|and|or|columns?|from|table|data|"
        r"dataset|frame|df|it|them|both|also|entirely|altogether)\b|[,.;:'\"`]",
        " ",
        case.req,
    ).strip()
    if not (
        keep_only or (_COLS_DROP.search(case.req) and not leftover and (case.named or "column" in case.req))
    ):
        return False
    if not case.named:
        f.understood = True
        f.unread.append("the request names no column of the table")
        return True
    f.understood = True
    after_cols = set(map(str, case.after.columns))
    if keep_only:
        f.check(
            after_cols == set(case.named),
            f"only {', '.join(case.named)} remain",
            f"the result has {sorted(after_cols)}, not {case.named}",
        )
        return True
    for col in case.named:
        f.check(col not in after_cols, f"{col!r} was dropped", f"{col!r} is still a column")
    others = [c for c in map(str, case.before.columns) if c not in case.named]
    lost = [c for c in others if c not in after_cols]
    f.check(not lost, "no other column was dropped", f"also dropped {', '.join(lost[:5])}")
    case.same_rows(f)
    kept = [c for c in others if c in after_cols]
    if len(case.after) == len(case.before):
        changed = [c for c in kept if not _same_values(case.before[c], case.after[c])]
        f.check(not changed, "the other columns are unchanged", f"also changed {', '.join(changed[:5])}")
    return True


@checker(r"\b(fill|impute|replace (missing|nan|null|empty|blank))")
def _fill(case: IntentCase, f: _Findings) -> bool:
    f.understood = True
    cols = case.present or [str(c) for c in case.before.columns if case.before[c].isna().any()]
    if not cols:
        f.unread.append("no column has missing values to fill")
        return True
    case.same_rows(f, "row count unchanged (filled, not dropped)")
    for c in cols:
        if c not in case.after.columns:
            f.bad(f"{c!r} was removed instead of filled")
            continue
        nb, na = int(case.before[c].isna().sum()), int(case.after[c].isna().sum())
        if nb == 0:
            f.ok(f"{c!r} had no missing values")
            continue
        f.check(na < nb, f"{c!r}: missing {nb} -> {na}", f"{c!r} still has {na} of {nb} missing values")
        stat = next((s for s in ("median", "mean", "mode", "zero") if re.search(rf"\b{s}\b", case.req)), None)
        stat = stat or ("zero" if re.search(r"\bwith 0\b", case.req) else None)
        stat = stat or ("mode" if re.search(r"most (common|frequent)", case.req) else None)
        if na >= nb or len(case.after) != len(case.before):
            continue
        # The cells that were missing, as they are now.
        filled = case.after[c].reset_index(drop=True)[case.before[c].reset_index(drop=True).isna()]
        if stat:
            if stat == "mode" and not pd.api.types.is_numeric_dtype(case.before[c]):
                want_s = case.before[c].mode().iloc[0]
                ok = bool((filled.dropna().astype(str) == str(want_s)).all())
            else:
                x = _num(case.before[c])
                want = np.nan
                if x.notna().any():
                    want = {"median": x.median, "mean": x.mean, "mode": lambda s=x: s.mode().iloc[0]}.get(
                        stat, lambda: 0.0
                    )()
                ok = bool(np.isclose(_num(filled.dropna()), want, rtol=1e-6).all())
            f.check(ok, f"{c!r} filled with the {stat}", f"{c!r} was not filled with the {stat}")
        else:
            _fill_constant(case, f, c, filled)
    return True


# Words after "with" that name a way to fill, not a value ("fill x with the previous value").
_NOT_A_VALUE = {"the", "a", "an", "its", "their", "col", "previous", "next", "forward", "backward",
                "interpolation", "average", "nothing", "none", "nan", "null", "values", "value"}  # fmt: skip


def _fill_constant(case: IntentCase, f: _Findings, c: str, filled: pd.Series) -> None:
    """ "fill missing age with -1", "fill missing city with 'Unknown'": the filled cells hold it."""
    numbers = re.findall(r"\bwith (-?\d+(?:\.\d+)?)(?![\w.])", case.req)
    if len(numbers) > 1:  # "age with 30 and fare with 10": which is whose is not read here
        f.unread.append("more than one fill value")
        return
    if numbers and pd.api.types.is_numeric_dtype(case.before[c]):
        want = float(numbers[0])
        ok = bool(np.isclose(_num(filled), want, rtol=1e-9, atol=1e-12).all())
        f.check(ok, f"{c!r} filled with {want:g}", f"{c!r} was not filled with {want:g}")
        return
    text = re.search(r"\bwith [\"'](.+?)[\"']", case.raw, re.I) or re.search(
        r"\bwith (\w+)\W*$", case.raw, re.I
    )
    columns = {str(x).casefold() for x in case.before.columns}  # "with salary": another column
    if text and text.group(1).casefold() not in _NOT_A_VALUE | columns:
        want_s = text.group(1).strip()
        got = filled.astype("string").str.strip().str.casefold()
        ok = bool(got.notna().all() and (got == want_s.casefold()).all())
        f.check(ok, f"{c!r} filled with {want_s!r}", f"{c!r} was not filled with {want_s!r}")


@checker(r"\b(convert|parse|cast|turn|change|make|as|to|into)\b")
def _convert(case: IntentCase, f: _Findings) -> bool:
    kind = (
        "dates"
        if re.search(r"\b(dates?|datetimes?|timestamps?)\b", case.req)
        else "numbers"
        if re.search(r"\b(numbers?|numeric|floats?|integers?|ints?|decimal)\b", case.req)
        else None
    )
    if kind is None:
        return False
    cols = case.present
    if not cols:
        return False
    f.understood = True
    for c in cols:
        if c not in case.after.columns:
            f.bad(f"{c!r} was removed instead of converted")
            continue
        f.check(
            _kind(case.after[c]) == kind,
            f"{c!r} is now {kind}",
            f"{c!r} is still {_kind(case.after[c])}, not {kind}",
        )
        if (
            kind == "numbers"
            and re.search(r"\b(integers?|ints?|whole numbers?)\b", case.req)
            and re.search(r"\b(convert|cast|change|turn|make)\b", case.req)
            and not re.search(r"\b(add|create|new)\b", case.req)
        ):
            # Whole numbers kept in a float column are not converted (missing values need Int64).
            integer = pd.api.types.is_integer_dtype(case.after[c])
            f.check(
                integer, f"{c!r} has an integer type", f"{c!r} is {case.after[c].dtype}, not an integer type"
            )
        had = int(case.before[c].notna().sum())
        kept = int(case.after[c].notna().sum())
        f.check(kept >= 0.5 * had, f"{kept} of {had} values kept", f"only {kept} of {had} values survived")
    return True


@checker(r"one hot|onehot|dummy|dummies|indicator")
def _one_hot(case: IntentCase, f: _Findings) -> bool:
    f.understood = True
    news = case.new_columns
    binary = [c for c in news if set(pd.unique(_num(case.after[c]).dropna())) <= {0.0, 1.0}]
    f.check(
        len(binary) >= 2,
        f"{len(binary)} indicator (0/1) columns added",
        f"{len(binary)} indicator columns added (expected one per category)",
    )
    case.same_rows(f)
    for c in case.named:
        if c in case.before.columns and binary and len(case.after) == len(case.before):
            n_cat = case.before[c].nunique()
            ours = [b for b in binary if _norm(c) in _norm(b)] or binary
            total = sum(_num(case.after[b]).fillna(0).to_numpy() for b in ours)
            f.check(
                bool(np.all(total <= 1)) and len(ours) >= min(n_cat, 2) - 1,
                f"{c!r}: one indicator per category",
                f"{c!r}: indicators overlap or are missing",
            )
    return True


@checker(r"\bflag|\bmark\b|0/1|1,? else 0|\bbinary (column|flag)|\bboolean (column|flag)")
def _flag(case: IntentCase, f: _Findings) -> bool:
    """ "add a 0/1 column: a > 5", "mark rows with a over 5 as 1, else 0": a new 0/1 column."""
    cond = _condition(case.req, case.named[0], case.before) if len(case.named) == 1 else None
    if cond is None:
        return False
    f.understood = True
    phrase, selected = cond
    if case.rows_changed(f):
        return True
    want = selected.astype(float).reset_index(drop=True)
    hit = next((c for c in case.new_columns if _same_values(_num(case.after[c]), want)), None)
    f.check(
        hit is not None, f"new column {hit!r} is 1 where {phrase}, else 0", f"no new 0/1 column for {phrase}"
    )
    return True


# Order matters: the first checker that recognises the request owns it (rename before "to"
# conversions; row filters before column drops; date parts before "add a column").
CHECKERS: tuple[Checker, ...] = (
    _rename,
    _one_hot,
    _flag,
    _rows,
    _drop_columns,
    _fill,
    _date_part,
    _group,
    _length,
    _round,
    _arith,
    _transform,
    _bin,
    _clip,
    _convert,
    _text,
    _sort,
)
