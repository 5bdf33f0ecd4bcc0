"""Question recipes: read a question about the table as a small plan and write its pandas code.

The ask stage's counterpart of the stage recipes. A plan is an operation (count, distinct count,
missing values, an aggregate, a share, the most common value, the row, group or period of the dates
with the highest value, the top k, a correlation, a yes/no comparison, arithmetic between two
columns) over the table's *real* columns and values, with the row filters the question states
("cars from Japan", "older than 60", "in 2007", "8 cylinders", "not returned", "between 30 and
40") and the rounding it asks for. The engine uses it twice: as the fallback when Gemma's answer fails its
checks (shown as "rule", never as Gemma's), and as a reference a Gemma answer must agree with.
A question it cannot read with confidence gets no plan (None), never a guess.
"""

# One reading per line (the pattern, the code it writes, how it is said) reads best unwrapped.
# ruff: noqa: E501
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from core.engine.ask_words import (
    AGGS,
    FILLER,
    NUMBER,
    PERIOD_ASKED,
    PERIODS,
    Agg,
    Span,
    column_spans,
    cond_ops,
    decimals_asked,
    find_values,
    identifier,
    is_dates,
    period_asked,
    stem,
    tokens,
    top_k_asked,
)

HEADER = "import numpy as np\nimport pandas as pd\n\n\ndef answer(df: pd.DataFrame):\n"


@dataclass(frozen=True)
class QuestionPlan:
    code: str  # a whole `def answer(df)` program
    reading: str  # how the question was read, for the provenance line ("the mean of tip where …")
    unread: tuple[str, ...] = ()  # a word of the question the reading did not use (at most one)


def _lit(v: Any) -> str:
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, float) and v.is_integer():
        return repr(int(v))
    return repr(v)


def _col(c: str) -> str:
    return f"df[{_lit(c)}]"


@dataclass
class _Reading:
    """What the question names: columns (in order), values, conditions, the words around them."""

    q: str
    words: list[str]
    columns: list[str]
    conds: list[tuple[str, str, Any]]  # (column, op, value)
    decimals: int | None
    k: int | None
    # Words no column, value, condition or question word explains ("voted", "survey"): more than
    # one and the question says something this reading would drop, so there is no plan.
    leftover: list[str]
    numbers: list[float]  # the numbers the question states outside column names
    spans: tuple[Span, ...] = ()  # where each column is named (token positions of `q`)
    # Unread words that are forms of a column's word the reading does not use ("remotely" for
    # `remote`): the question is about that column, so no reading that leaves it out is right.
    unplaced: list[str] = field(default_factory=list)

    def has(self, *stems: str) -> bool:
        return any(s in self.words for s in stems)

    def phrase(self, pattern: str) -> bool:
        return re.search(pattern, self.q) is not None


def read(question: str, frame: pd.DataFrame) -> _Reading:
    qt = tokens(question)
    q = " " + " ".join(qt) + " "
    spans = column_spans(question, frame)
    cols = [s.name for s in spans]
    inside = {i for s in spans for i in range(s.start, s.end)}

    def negated(start: int) -> bool:  # "not returned", "excluding the North region"
        return any(w in _NEGATORS for w in qt[max(0, start - 3) : start])

    conds: list[tuple[str, str, Any]] = []
    for col, value in find_values(question, frame, exclude=set()):
        at = min(_positions(qt, str(value)), default=0)
        conds.append((col, "!=" if negated(at) else "==", value))
    # A 0/1 column counts rows only where rows are counted ("how many passengers survived"); in
    # "the average of survived" it is the measure.
    counted = re.search(
        r" (how many|number of|count|percentage|percent|share|proportion|fraction) ", q
    ) and not any(a.stems_in(qt) for a in AGGS)
    yes_no = re.match(r" (is|are|was|were|does|do|did) ", q) and any(a.stems_in(qt) for a in AGGS)
    if not yes_no:  # "is the average tip larger than 3": a comparison of the answer, not a filter
        conds.extend(cond_ops(question, frame, cols))
    for s in spans:  # a yes/no column names rows by itself: "returned orders", "orders not returned"
        yes = _yes(frame[s.name])
        if yes is None and counted and _zero_one(frame[s.name]):
            yes = 1
        if yes is not None and not any(c == s.name for c, _, _ in conds):  # "hlthp equal to 1" says it
            conds.append((s.name, "!=" if negated(s.start) else "==", yes))
    value_spans = {i for _c, _op, v in conds for i in _positions(qt, str(v))}
    # Words inside a column's name are not the question's words ("temp_max" asks for no maximum).
    words = [stem(w) for i, w in enumerate(qt) if i not in inside]
    named = inside | value_spans
    # A form of a column's word ("voted" for `vote`) is explained by that column only when the
    # reading uses it; a form of another column's word ("remotely" for `remote`) is unplaced.
    used = set(cols) | {c for c, _, _ in conds}
    col_words = {t for c in frame.columns if c in used for t in tokens(str(c)) if len(t) >= 4}
    # (an identifier's word is the rows' noun, "orders" for `order_id`; a date column's word is
    # a verb that dates the rows, "hired" for `hire_date`: neither is a condition left out)
    other_words = {
        t for c in map(str, frame.columns)
        if c not in used and not identifier(frame[c], c) and not is_dates(frame[c])
        for t in tokens(c) if len(t) >= 4
    }  # fmt: skip
    leftover = [
        w for i, w in enumerate(qt)
        if i not in named and not NUMBER.match(w) and stem(w) not in FILLER
        and not _explained(i, w, qt, named, col_words)
    ]  # fmt: skip
    unplaced = [w for w in leftover if _form_of(w, other_words)]
    numbers = [float(w) for i, w in enumerate(qt) if i not in named and NUMBER.match(w)]  # not "B2"
    return _Reading(
        q, words, cols, conds, decimals_asked(q), top_k_asked(q), leftover, numbers, tuple(spans), unplaced
    )


_NEGATORS = {"not", "non", "never", "t", "no", "excluding", "except", "without", "besides"}
_YES = {"yes", "y", "true", "t"}
_NO = {"no", "n", "false", "f"}


def _yes(s: pd.Series) -> Any:
    """The value meaning "yes" in a yes/no column (True, or its "Yes"/"Y" text), else None."""
    if pd.api.types.is_bool_dtype(s):
        return True
    if s.dtype != object:
        return None
    distinct = s.dropna().unique()
    values = {v for v in distinct if isinstance(v, str)}
    if not values or len(distinct) > 2 or len(values) != len(distinct):
        return None
    folded = {v.strip().casefold(): v for v in values}
    if not set(folded) <= _YES | _NO:
        return None
    return next((v for f, v in folded.items() if f in _YES), None)


def _zero_one(s: pd.Series) -> bool:
    """An integer column holding exactly 0 and 1 ("Survived", "HasGarage")."""
    return pd.api.types.is_integer_dtype(s) and set(s.dropna().unique().tolist()) == {0, 1}


def _explained(i: int, w: str, qt: list[str], named: set[int], col_words: set[str]) -> bool:
    """A word the reading accounts for without naming it: the rows' noun ("how many *flowers*"),
    a word just before a column or value it describes ("the *species* setosa", "*doctor visits*
    (mdvis)"), or a form of a column's word ("*voted*" for `vote`)."""
    before = " ".join(qt[max(0, i - 3) : i])
    if re.search(
        r"(how many|number of|share of|percentage of|percent of|proportion of|most|fewest)( the)?$", before
    ):
        return True
    if any(j in named for j in (i - 1, i + 1, i + 2)):  # "wind *speed*", "the *species* setosa"
        return True
    return _form_of(w, col_words)


def _form_of(w: str, words: set[str]) -> bool:
    """`w` is a form of one of `words` ("voted" of "vote", "remotely" of "remote")."""
    return len(w) >= 4 and any(w.startswith(c[:4]) and c.startswith(w[:4]) for c in words)


def _positions(qt: list[str], value: str) -> set[int]:
    vt = [stem(t) for t in tokens(value)]
    st = [stem(t) for t in qt]
    n = len(vt)
    return {j for i in range(len(st) - n + 1) if n and st[i : i + n] == vt for j in range(i, i + n)}


def _term(c: str, op: str, v: Any) -> str:
    if op == "between":  # both ends included, as "between 30 and 40 years old" means
        return f"{_col(c)}.between({_lit(v[0])}, {_lit(v[1])})"
    if op == "year":
        return f'(pd.to_datetime({_col(c)}, errors="coerce", format="mixed").dt.year == {_lit(v)})'
    return f"({_col(c)} {op} {_lit(v)})"


def _mask(conds: list[tuple[str, str, Any]]) -> str:
    return " & ".join(_term(c, op, v) for c, op, v in conds)


def _say(conds: list[tuple[str, str, Any]]) -> str:
    said = {"year": "the year of {c} is {v}", "between": "{c} is between {v[0]} and {v[1]}"}
    return " and ".join(said.get(op, "{c} {op} {v!r}").format(c=c, op=op, v=v) for c, op, v in conds)


def _round(expr: str, d: int | None) -> str:
    return f"round(float({expr}), {d})" if d is not None else f"float({expr})"


def plan_question(question: str, frame: pd.DataFrame) -> QuestionPlan | None:
    """The plan for `question` over `frame`, or None when it cannot be read with confidence."""
    try:
        r = read(question, frame.rename(columns=str))
        return _plan(r, frame.rename(columns=str))
    except (KeyError, ValueError, TypeError, IndexError):  # an odd table: no plan rather than a crash
        return None


def _numeric(frame: pd.DataFrame, c: str) -> bool:
    return pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])


# "is the average tip larger than 3", "… above 3": the yes/no question's comparison (word, number)
_COMPARED = (
    r" (larger|greater|higher|more|above|over|bigger|exceeding|exceeds|smaller|lower|less|below|under)"
    r"(?: than)? (-?\d+(?:\.\d+)?) "
)
_BEST = r" (highest|largest|biggest|greatest|most|maximum|max|top|best|lowest|smallest|least|minimum|min|fewest|worst) "
# Arithmetic between columns ("quantity times unit price"): no reading here computes it, and
# dropping it would answer about one of the columns instead.
_ARITHMETIC = r" (?<!many )(?<!number of )times | multiplied | divided | plus | minus | difference between | product of "


_OPERATORS = {"times": "*", "multiplied by": "*", "divided by": "/", "plus": "+", "minus": "-"}
_OPERATOR_WORDS = {"times", "multiplied", "divided", "plus", "minus", "difference", "product", "ratio", "percentage",
                   "percent", "share", "fraction", "proportion"}  # fmt: skip


def _arithmetic(r: _Reading, frame: pd.DataFrame) -> tuple[str, str, str] | None:
    """Two numeric columns the question joins by arithmetic, as (a, operator, b): "quantity times
    unit price", "high minus low", "the difference between high and low", "the ratio of a to b".
    Only when the operator sits between the two names; None otherwise."""
    qt = r.q.split()
    spans = [s for s in r.spans if s.name in frame.columns and _numeric(frame, s.name)]
    found = []
    for x, y in zip(spans, spans[1:], strict=False):
        between, before = " ".join(qt[x.end : y.start]), " ".join(qt[max(0, x.start - 3) : x.start])
        if between in _OPERATORS:
            found.append((x.name, _OPERATORS[between], y.name))
        elif between == "and" and re.search(r"difference between( the)?$", before):
            found.append((x.name, "-", y.name))
        elif between == "to" and re.search(r"ratio of( the)?$", before):
            found.append((x.name, "/", y.name))
        elif re.fullmatch(r"as an? (percentage|percent|share|fraction|proportion) of( the)?", between):
            found.append((x.name, "%" if "percent" in between else "/", y.name))
    return found[0] if len(found) == 1 else None


def _plan(r: _Reading, frame: pd.DataFrame) -> QuestionPlan | None:  # noqa: C901 - one reading per kind
    period = period_asked(r.q, frame)
    if period is not None:  # "which month …" over a table with dates: only `_by_period` reads it
        r = replace(r, leftover=[w for w in r.leftover if w not in period.split()])
    arith = _arithmetic(r, frame)
    if arith is not None:  # "quantity times unit price": the operator's words are read
        r = replace(r, leftover=[w for w in r.leftover if w not in _OPERATOR_WORDS])
    elif r.phrase(_ARITHMETIC):
        return None  # arithmetic this reading cannot place: answering about one column would drop it
    # "how many women …" over F/M codes, "in March", "the second highest": conditions and ranks no
    # reading here applies, whatever words they stand next to (unless a value of the table says so)
    values = {stem(t) for _c, _op, v in r.conds for t in tokens(str(v))}
    unapplied = {w for w in r.words if w in _PEOPLE | _CALENDAR | _ORDINALS} - values
    if len(r.leftover) > 1 or r.unplaced or unapplied or _stray_number(r):
        return None  # too much unread, a column's word unused, or a condition or rank not applied
    cond_cols = {c for c, _, _ in r.conds}
    free = [c for c in r.columns if c not in cond_cols]  # named, but not only as a filter
    nums = [c for c in free if _numeric(frame, c)]
    cats = [c for c in free if not _numeric(frame, c)]
    agg = next((a for a in AGGS if a.matches(r)), None)
    body: list[str] = []
    base = "df"
    if r.conds:
        body.append(f"    rows = df[{_mask(r.conds)}]")
        base = "rows"
    where = f" where {_say(r.conds)}" if r.conds else ""

    def done(lines: list[str], reading: str) -> QuestionPlan:
        return QuestionPlan(HEADER + "\n".join(body + lines) + "\n", reading + where, tuple(r.leftover))

    if arith is not None:
        a, op, b = arith
        if agg is None or [c for c in free if c not in (a, b)] or r.k is not None:
            return None
        pair = (
            f"{base}[{_lit(a)}] / {base}[{_lit(b)}] * 100"
            if op == "%"
            else f"{base}[{_lit(a)}] {op} {base}[{_lit(b)}]"
        )
        expr = f"({pair}).{agg.method}()"
        said = f"{a} as a percentage of {b}" if op == "%" else f"{a} {op} {b}"
        return done([f"    return {_round(expr, r.decimals)}"], f"the {agg.name} of {said}")
    if period is not None:
        best = re.search(_BEST, r.q)
        return _by_period(r, frame, period, best, cats, nums, base, done) if best and r.k is None else None
    # a correlation of two numeric columns
    if r.has("correlation", "correlated", "corr") and len(nums) == 2:
        expr = f"{base}[{_lit(nums[0])}].corr({base}[{_lit(nums[1])}])"
        return done([f"    return {_round(expr, r.decimals)}"], f"the correlation of {nums[0]} and {nums[1]}")
    # yes/no: "is the average tip larger than 3?"
    yes_no = re.match(r" (is|are|was|were|does|do|did) ", r.q) and agg is not None
    if yes_no and len(nums) >= 1:
        m = re.search(_COMPARED, r.q)
        if m and len(nums) == 1:
            op = (
                ">"
                if m.group(1)
                in ("larger", "greater", "higher", "more", "above", "over", "bigger", "exceeding", "exceeds")
                else "<"
            )
            expr = f"{base}[{_lit(nums[0])}].{agg.method}()"
            return done(
                [f"    return bool({expr} {op} {m.group(2)})"],
                f"whether the {agg.name} of {nums[0]} is {op} {m.group(2)}",
            )
        if m is None and len(nums) == 2 and r.phrase(r" than "):
            op = ">" if r.phrase(r" (larger|greater|higher|more|bigger) than ") else "<"
            a, b = (f"{base}[{_lit(c)}].{agg.method}()" for c in nums)
            return done(
                [f"    return bool({a} {op} {b})"],
                f"whether the {agg.name} of {nums[0]} is {op} that of {nums[1]}",
            )
        return None
    # how many missing / distinct
    counting = r.phrase(r" how many | number of | count ")
    absent = (
        len(r.columns) == 1
        and r.columns[0] not in cond_cols
        and r.phrase(  # "with no discount"
            rf" (no|without|without an?|without any) {re.escape(' '.join(tokens(r.columns[0])))} "
        )
    )
    if counting and (r.has("missing", "null", "empty", "nan", "blank") or absent) and len(r.columns) == 1:
        return done(
            [f"    return int({base}[{_lit(r.columns[0])}].isna().sum())"],
            f"the missing values of {r.columns[0]}",
        )
    if counting and r.has("distinct", "unique", "different") and len(free) == 1:
        return done(
            [f"    return int({base}[{_lit(free[0])}].nunique())"], f"the distinct values of {free[0]}"
        )
    # the most common value, the group/row with the highest value, the top k
    most = r.phrase(
        r" (most|least) (common|often|frequent|frequently|popular|usual) | (appears|occurs) most | most often | mode "
    )
    if most and len(cats + nums) == 1 and agg is None and r.k is None:
        c = (cats + nums)[0]
        return done([f"    return {base}[{_lit(c)}].value_counts().idxmax()"], f"the most common {c}")
    best = re.search(_BEST, r.q)
    if best:
        # "the highest life expectancy": "highest" ranks, it is no second aggregate; "the total of
        # bills" is one. "the most bills" counts rows: "bills" names `total_bill` by one word only,
        # as the rows' noun does; "the most sunspot activity" names its column whole: a measure.
        word = best.group(1)
        plain = agg
        agg = next((a for a in AGGS if any(w in a.stems and w != word for w in r.words)), None)
        partial = {s.name for s in r.spans if s.partial}
        counted = word in ("most", "fewest", "least") and agg is None
        ranked = _ranked(
            r, frame, best, agg, cats, [c for c in nums if not (counted and c in partial)], base, done
        )
        if ranked is not None:
            return ranked
        agg = plain
    # a share or percentage of rows
    pct = r.phrase(r" percent | percentage | % ")
    share = r.has("share", "proportion", "fraction", "ratio") and not pct
    # "what percentage of employees in Finance left": a share within some rows; which condition is
    # the base and which the event is not read here, so only one condition is
    if (pct or share) and len(r.conds) == 1 and agg is None:
        body.clear()
        expr = f"({_mask(r.conds)}).mean()" + (" * 100" if pct else "")
        return done(
            [f"    return {_round(expr, r.decimals)}"], f"the {'percentage' if pct else 'share'} of rows"
        )
    # how many rows per group
    grouped = r.phrase(r" (per|each|by|for every|for each) ")
    if counting and grouped and agg is None and len(cats) == 1 and not nums:
        return done(
            [f"    return {base}[{_lit(cats[0])}].value_counts().to_dict()"],
            f"the number of rows per {cats[0]}",
        )
    # how many rows (that match the filters)
    if counting and agg is None and not nums[1:]:
        if r.conds:
            return done(["    return int(len(rows))"], "the number of rows")
        if not r.columns:
            return done(["    return int(len(df))"], "the number of rows")
        return None
    # the earliest / latest date
    dates = [c for c in cats if is_dates(frame[c])]
    if agg is not None and agg.method in ("min", "max") and len(dates) == 1 and not nums:
        expr = f'pd.to_datetime({base}[{_lit(dates[0])}], errors="coerce", format="mixed").{agg.method}()'
        return done(
            [f"    return str({expr}.date())"],
            f"the {'earliest' if agg.method == 'min' else 'latest'} {dates[0]}",
        )
    # an aggregate of one numeric column ("which …" asks for a name: an aggregate is no answer)
    if r.phrase(r"^ ((in|on|at|during|for) )?(which|who) ") or r.phrase(PERIOD_ASKED):
        return None  # also "what month …" with no period reading: not an aggregate
    if agg is not None and len(nums) == 1 and not cats:
        agg = _in_time(agg, r, nums[0])
        expr = f"{base}[{_lit(nums[0])}].{agg.method}()"
        return done([f"    return {_round(expr, r.decimals)}"], f"the {agg.name} of {nums[0]}")
    if (
        agg is not None
        and len(nums) == 1
        and len(cats) == 1
        and r.phrase(r" (per|each|by|for every|for each) ")
    ):
        expr = f"{base}.groupby({_lit(cats[0])})[{_lit(nums[0])}].{agg.method}()"
        if r.decimals is not None:
            expr += f".round({r.decimals})"
        return done([f"    return {expr}.to_dict()"], f"the {agg.name} of {nums[0]} per {cats[0]}")
    return None


def _in_time(agg: Agg, r: _Reading, col: str) -> Agg:
    """ "The oldest year built" is the smallest year: "oldest"/"youngest" rank ages, and turn
    round on a column of years or dates (`YearBuilt`, `model_year`, `signup_date`)."""
    if not ({"year", "date", "yr"} & set(tokens(col))) or not r.has("oldest", "youngest"):
        return agg
    flipped = "min" if r.has("oldest") else "max"
    return next(a for a in AGGS if a.method == flipped)


def _stray_number(r: _Reading) -> bool:
    """A number the reading does not use ("a water temperature of at least 24" with no column read
    for it): the plan would drop a condition the question states."""
    used = {float(x) for _c, _op, v in r.conds for x in (v if isinstance(v, tuple) else (v,))
            if isinstance(x, (int, float)) and not isinstance(x, bool)}  # fmt: skip
    used |= {float(x) for x in (r.k, r.decimals) if x is not None}
    m = re.search(_COMPARED, r.q)
    if m and re.match(r" (is|are|was|were|does|do|did) ", r.q):
        used.add(float(m.group(2)))  # the yes/no question's threshold
    return any(n not in used for n in r.numbers)


# Words for a group of people ("how many women …"): a condition on a coded column ("F") that no
# reading here can place, never the rows' own noun.
_PEOPLE = {stem(w) for w in "women woman men man female females male males girls boys girl boy ladies "
           "adults children kids seniors teens teenagers".split()}  # fmt: skip
# "the second highest fare": a rank no reading here applies (it would answer the highest).
_ORDINALS = {"second", "third", "fourth", "fifth", "penultimate"}
# Month and day names: a date condition ("in March") that no reading here applies.
_CALENDAR = set(
    "january february march april june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "monday tuesday wednesday thursday friday saturday sunday weekend weekends".split()
)


def _by_period(
    r: _Reading,
    frame: pd.DataFrame,
    period: str,
    best: re.Match[str],
    cats: list[str],
    nums: list[str],
    base: str,
    done: Any,
) -> QuestionPlan | None:
    """ "Which month had the most orders / the highest average temperature": the period of the
    table's one date column (or the one the question names) with the most rows or the highest
    aggregate. A stated aggregate is used; "most <measure>" is its total; "highest <measure>"
    alone is the period of the extreme row, as for any other label."""
    dates = [c for c in map(str, frame.columns) if is_dates(frame[c])]
    named = [c for c in dates if c in r.columns]
    pick = named or dates
    measures = [c for c in nums if c not in pick]
    if len(pick) != 1 or len(measures) > 1 or [c for c in cats if c not in pick]:
        return None
    word, hi = (
        best.group(1),
        best.group(1) not in ("lowest", "smallest", "least", "minimum", "min", "fewest", "worst"),
    )
    arg = "idxmax" if hi else "idxmin"
    key = f'pd.to_datetime({base}[{_lit(pick[0])}], errors="coerce", format="mixed"){PERIODS[period][0]}'
    lines = [f"    period = {key}"]
    if not measures:
        if word not in ("most", "fewest", "least"):
            return None
        return done(lines + [f"    return {base}.groupby(period).size().{arg}()"],
                    f"the {period} of {pick[0]} with the {'most' if hi else 'fewest'} rows")  # fmt: skip
    agg = next((a for a in AGGS if any(w in a.stems and w != word for w in r.words)), None)
    fn = agg.method if agg else ("sum" if word in ("most", "fewest", "least") else ("max" if hi else "min"))
    return done(
        lines + [f"    return {base}.groupby(period)[{_lit(measures[0])}].{fn}().{arg}()"],
        f"the {period} of {pick[0]} with the {'highest' if hi else 'lowest'} {fn} of {measures[0]}",
    )


def _asked_for(r: _Reading, col: str) -> bool:
    """The question asks which `col` ("which year …", "in what TIME period …"): the column's
    words come at most one word after "which" or "what"."""
    words = " ".join(tokens(col))
    return re.search(rf" (which|what) (\w+ )?{re.escape(words)} ", r.q) is not None


def _unique_after(frame: pd.DataFrame, conds: list[tuple[str, str, Any]], label: str) -> bool:
    df = frame  # noqa: F841 - the mask's text names `df`
    mask = eval(_mask(conds)) if conds else pd.Series(True, index=frame.index)  # noqa: S307 - our own text
    return not bool(frame.loc[mask, label].duplicated().any())


def _ranked(
    r: _Reading,
    frame: pd.DataFrame,
    best: re.Match[str],
    agg: Agg | None,
    cats: list[str],
    nums: list[str],
    base: str,
    done: Any,
) -> QuestionPlan | None:
    """The top k, or the row or group with the highest/lowest value ("which day has the most …")."""
    which = r.phrase(r" (which|what|who|name) ")
    if r.k is not None and cats:
        key = cats[0]
        hi = best.group(1) not in ("lowest", "smallest", "least", "minimum", "min", "fewest", "worst")
        if nums:
            fn = agg.method if agg else "sum"
            expr = f"{base}.groupby({_lit(key)})[{_lit(nums[0])}].{fn}().sort_values(ascending={not hi}).head({r.k}).index.tolist()"
            return done(
                [f"    return {expr}"],
                f"the {r.k} {key} with the {'highest' if hi else 'lowest'} {fn} of {nums[0]}",
            )
        expr = f"{base}[{_lit(key)}].value_counts(ascending={not hi}).head({r.k}).index.tolist()"
        return done([f"    return {expr}"], f"the {r.k} {key} with the {'most' if hi else 'fewest'} rows")
    if r.k is not None and nums and not cats:
        fn = (
            "nlargest"
            if best.group(1)
            in ("highest", "largest", "biggest", "greatest", "most", "maximum", "max", "top", "best")
            else "nsmallest"
        )
        if r.leftover or r.phrase(r" (which|who) "):
            return None  # "the 3 countries with …" asks for names, not the 3 values
        return done(
            [f"    return {base}[{_lit(nums[0])}].{fn}({r.k}).tolist()"],
            f"the {r.k} {fn[1:]} values of {nums[0]}",
        )
    if (
        len(r.leftover) == 1
        and r.phrase(rf" which {re.escape(r.leftover[0])} | who ")  # the unread word is the row's noun
        and r.leftover[0] not in PERIODS  # "in which month …" over a table without dates
        and r.k is None
        and not cats
        and len(nums) == 1
    ):
        # "which car has the highest horsepower": the row's name, from the table's one name column
        names = [c for c in map(str, frame.columns) if not _numeric(frame, c) and frame[c].is_unique]
        cats = names[:1] if len(names) == 1 else []
    if which and r.k is None and not cats and len(nums) == 1:
        # "which year had the most rainfall": a number column asked for is the label of a measure
        # (only with a measure read: "the most sunspot activity" unread is not "the most rows")
        conds = {c for c, _, _ in r.conds}
        asked = [c for c in r.columns if c not in conds and c != nums[0] and _asked_for(r, c)]
        cats = asked if len(asked) == 1 else cats
    if which and r.k is None and (cats or len(nums) >= 2):
        label = cats[0] if cats else nums[0]
        if not cats and not _asked_for(r, label):
            return None  # "what is the largest x of y": a value, not which row's number
        hi = best.group(1) not in ("lowest", "smallest", "least", "minimum", "min", "fewest", "worst")
        arg = "idxmax" if hi else "idxmin"
        measure = next((c for c in nums if c != label), None)
        if measure is None and agg is not None:
            return None  # "which customer spent the most in total": a total of a measure not named
        if measure is None:  # "which origin has the most cars": the label with the most rows
            return done(
                [f"    return {base}[{_lit(label)}].value_counts().{arg}()"],
                f"the {label} with the {'most' if hi else 'fewest'} rows",
            )
        one_row_each = _unique_after(frame, r.conds, label)
        if one_row_each and agg is None:
            return done(
                [f"    return {base}.loc[{base}[{_lit(measure)}].{arg}(), {_lit(label)}]"],
                f"the {label} of the row with the {'highest' if hi else 'lowest'} {measure}",
            )
        # no aggregate named: "the most <measure>" is its total, "the highest" the extreme row's
        fn = (
            agg.method
            if agg
            else ("sum" if best.group(1) in ("most", "fewest", "least") else ("max" if hi else "min"))
        )
        return done(
            [f"    return {base}.groupby({_lit(label)})[{_lit(measure)}].{fn}().{arg}()"],
            f"the {label} with the {'highest' if hi else 'lowest'} {fn} of {measure}",
        )
    return None
