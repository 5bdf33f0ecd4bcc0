"""Intent checks: did the code do what the request asked, not only run?

`check_request(request, stage, before, after)` reads the request (its verbs and the table's real
column names in it) and derives checks on the table before and after the code ran: a named column
dropped and nothing else, a new ratio column whose values are a/b where defined, fewer missing
values after "fill", fewer rows and the condition gone after "drop rows where" ... Every check is
one short sentence. The verdict is "verified" only when at least one check could be derived and
all pass; "failed" when any fails (the reason says which); "unchecked" when the phrasing is not
understood -- never "verified" by default.

`check_answer(question, value, frame)` does the same for an answer to a question (its type and
format: a count is an integer, a percent is on a 0..100 scale, "top 3" has three items ...); it
lives in `core.engine.intent_answer` and is re-exported here.
"""

from __future__ import annotations

import re

import pandas as pd

from core.engine.intent_answer import check_answer
from core.engine.intent_base import (
    IntentCase,
    IntentVerdict,
    _Findings,
    _masked,
    _new_columns,
    _same_values,
    columns_named,
)
from core.engine.intent_requests import CHECKERS


def _untouched(
    named: list[str], before: pd.DataFrame, after: pd.DataFrame, f: _Findings, owner: str, req: str
) -> None:
    """Columns the request does not mention must be left alone (title-casing text is not "drop a column"),
    and "add a column from x" keeps x (the log of pop in place of pop is not "add the log of pop")."""
    if owner in ("rows", "drop_columns", "rename", "sort") or len(after) != len(before):
        return
    after_cols = set(map(str, after.columns))
    replaces = re.search(r"\b(replac\w*|instead|in place|overwrit\w*)\b", req)
    if owner != "one_hot" and not replaces and re.search(r"\b(add|create|new|compute|derive)\b", req):
        gone = [c for c in named if c not in after_cols]
        f.check(
            not gone,
            "the columns it is computed from are kept",
            f"removed {', '.join(gone[:5])} (the request asks for a new column, not a replacement)",
        )
    scoped = bool(named) or owner in ("arith", "date_part", "transform", "bin", "one_hot")
    if not scoped:
        return
    lost = [str(c) for c in before.columns if str(c) not in after_cols and str(c) not in named]
    f.check(not lost, "no unrelated column removed", f"also removed {', '.join(lost[:5])}")
    changed = [
        str(c)
        for c in before.columns
        if str(c) in after_cols and str(c) not in named and not _same_values(before[c], after[c])
    ]
    f.check(not changed, "unrelated columns unchanged", f"also changed {', '.join(changed[:5])}")


def check_request(request: str, stage: str, before: pd.DataFrame, after: pd.DataFrame) -> IntentVerdict:
    """Checks derived from `request` on the table `before` and `after` the code ran (see module doc)."""
    f = _Findings()
    if not request or not request.strip():
        return IntentVerdict("unchecked", (), "no request to check against")
    if after is None or not isinstance(after, pd.DataFrame):
        return IntentVerdict("failed", ("✗ the code returned no table",), "the code returned no table")
    # Labels as text (a headerless file's 0, 1, 2 ...); duplicate labels cannot be told apart.
    before, after = before.rename(columns=str), after.rename(columns=str)
    if before.columns.duplicated().any() or after.columns.duplicated().any():
        return IntentVerdict(
            "unchecked", (), "not verified against your request: the table has duplicate column names"
        )
    try:
        return _check(request, stage, before, after, f)
    except Exception as e:  # noqa: BLE001 - a check that cannot run is not a pass, and not a crash either
        return IntentVerdict(
            "unchecked", (), f"not verified against your request: a check could not run ({e})"
        )


def _check(
    request: str, stage: str, before: pd.DataFrame, after: pd.DataFrame, f: _Findings
) -> IntentVerdict:
    columns = [str(c) for c in before.columns]
    named = columns_named(request, columns)
    req = _masked(request, named)
    owner = ""
    case = IntentCase(req, named, before, after, request)
    for checker in CHECKERS:
        try:
            if checker(case, f):
                owner = checker.name
                break
        except Exception as e:  # noqa: BLE001 - a check that cannot run is a check not made, not a pass
            f.understood = True
            f.unread.append(f"a check could not run ({type(e).__name__}: {e})")
            owner = checker.name
            break
    if owner:
        _untouched(named, before, after, f, owner, req)
    elif re.search(r"\b(add|create|compute|derive|new)\b", req):
        news = _new_columns(before, after)
        f.check(bool(news), f"new column(s): {', '.join(news[:3])}", "no new column was added")
        f.unread.append("the new column's values could not be checked against the request")
        f.understood = True
    else:
        f.unread.append("the request's wording gives no check this engine can derive")
    return f.verdict()


__all__ = ["IntentVerdict", "check_request", "check_answer", "columns_named"]
