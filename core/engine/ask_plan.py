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
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from core.detect import id_name
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
    event_date,
    find_values,
    identifier,
    is_dates,
    period_asked,
    stem,
    tokens,
    top_k_asked,
    unit_conflict,
    unit_word,
    value_forms,
    worded_conds,
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
    # Where each condition is said (its first word's position), in the order of `conds`.
    cond_at: list[int] = field(default_factory=list)
    # Words read as a condition the table does not spell ("women" for "F", "March" for a date).
    worded: set[str] = field(default_factory=set)
    loose: list[int] = field(default_factory=list)  # positions of words nothing names
    raw: str = ""  # the question as asked (its "/" and "$" are not words)

    def has(self, *stems: str) -> bool:
        return any(s in self.words for s in stems)

    def phrase(self, pattern: str) -> bool:
        return re.search(pattern, self.q) is not None


def read(question: str, frame: pd.DataFrame) -> _Reading:
    # "the most recent week" is the latest, not the most of anything
    question = re.sub(r"\bmost recent\b", "latest", question, flags=re.IGNORECASE)
    question = re.sub(r"\bleast recent\b", "earliest", question, flags=re.IGNORECASE)
    qt = tokens(question)
    q = " " + " ".join(qt) + " "
    spans = column_spans(question, frame)
    cols = [s.name for s in spans]
    inside = {i for s in spans for i in range(s.start, s.end)}
    key = _noun_key(qt, frame, inside)  # "how many different patients": the patients' key column
    if key is not None and key[0] not in cols:
        spans.append(Span(key[0], key[1], key[1] + 1))
        cols.append(key[0])
        inside.add(key[1])
    # "fires discovered in 2021": `Discovery Date` named by its verb ("shipments" is no `Ship Date`)
    by_verb = _named_by_form(
        qt, frame, cols, _DATE_WORDS, lambda i, w: w.endswith("ed") and i not in inside, lambda c: is_dates(frame[c])
    )
    for v in by_verb:
        spans.append(v)
        cols.append(v.name)
        inside.add(v.start)

    def negated(start: int) -> bool:  # "not returned", "excluding the North region"
        return any(w in _NEGATORS for w in qt[max(0, start - 3) : start])

    conds: list[tuple[str, str, Any]] = []
    cond_at: list[int] = []
    for col, value in find_values(question, frame, exclude=set()):
        at = min(_positions(qt, str(value)), default=0)
        conds.append((col, "!=" if negated(at) else "==", value))
        cond_at.append(at)
    said = {i for _c, _op, v in conds for i in _positions(qt, str(v))}
    worded_at: set[int] = set()
    events = {i for s in spans if _yes(frame[s.name]) is not None for i in range(s.start, s.end)}
    for w in worded_conds(question, frame, cols):
        if said & set(w.at) or (w.column, w.op, w.value) in conds:
            continue  # the word is a value of the table ("Female"): read as such already
        if w.op != "==" and w.at[0] >= 2 and w.at[0] - 2 in events:
            continue  # "churned in December": the date of the churn, which the table may not hold
        negate = w.op == "==" and negated(w.at[0])
        conds.append((w.column, "!=" if negate else w.op, w.value))
        cond_at.append(w.at[0])
        worded_at |= set(w.at)
    # A 0/1 column counts rows only where rows are counted ("how many passengers survived"); in
    # "the average of survived" it is the measure.
    counted = re.search(
        r" (how many|number of|count|percentage|percent|%|share|proportion|fraction) ", q
    ) and not any(a.stems_in(qt) for a in AGGS)
    yes_no = re.match(r" (is|are|was|were|does|do|did) ", q) and any(a.stems_in(qt) for a in AGGS)
    if not yes_no:  # "is the average tip larger than 3": a comparison of the answer, not a filter
        for c in cond_ops(question, frame, cols):
            if c in conds:  # "the first quarter of 2025": the year read with its quarter already
                continue
            conds.append(c)
            cond_at.append(min(_positions(qt, _number_text(c[2])), default=len(qt)))
    # "fraudulent" for `Fraud`, "insured" for `insurance`, "smoke" for `smoker`: a yes/no column
    for f in _named_by_form(
        qt, frame, cols, _FLAG_WORDS,
        lambda i, w: i not in inside and i not in said and stem(w) not in FILLER,
        lambda c: _yes(frame[c]) is not None or bool(counted and _zero_one(frame[c])),
    ):  # fmt: skip
        spans.append(f)
        cols.append(f.name)
        inside.add(f.start)
    for s in spans:  # a yes/no column names rows by itself: "returned orders", "orders not returned"
        yes = _yes(frame[s.name])
        if yes is None and counted and _zero_one(frame[s.name]):
            yes = 1
        if yes is None:
            continue
        # "failed inspection" over `inspection_passed`: the opposite of the column's own word
        flipped = _opposite(qt, {stem(t) for t in tokens(s.name)})
        op = "!=" if negated(s.start) != flipped else "=="
        # "hlthp equal to 1" says it; "smokers than non-smokers" names both groups
        if not any(c == s.name and (o, v) != ("!=" if op == "==" else "==", yes) for c, o, v in conds):
            conds.append((s.name, op, yes))
            cond_at.append(s.start)
    for v in by_verb:  # the verb only said which date a condition is on ("visited" alone says nothing)
        if not any(c == v.name for c, _, _ in conds):
            spans.remove(v)
            cols.remove(v.name)
            inside.discard(v.start)
    spans.sort(key=lambda s: s.start)  # in the question's order again (key and flag spans joined)
    for x, y in zip(spans, spans[1:], strict=False):  # "returned after their due date", "paid more than claimed"
        op = _across(qt[x.end : y.start], frame[x.name], frame[y.name])
        if op is not None and not any(c in (x.name, y.name) for c, _, _ in conds):
            conds.append((x.name, op, y.name))
            cond_at.append(x.start)
    for s in spans:  # "loans not returned yet": a date column with gaps, its missing dates
        if negated(s.start) and is_dates(frame[s.name]) and bool(frame[s.name].isna().any()):
            if not any(c == s.name for c, _, _ in conds):
                conds.append((s.name, "isna", True))
                cond_at.append(s.start)
    for s in spans:  # "with no children": a count column of zero (one with gaps: see `_plan`)
        col = frame[s.name]
        if (
            s.start and qt[s.start - 1] in ("no", "zero") and pd.api.types.is_integer_dtype(col)
            and not any(c == s.name for c, _, _ in conds) and bool((col == 0).any())
        ):  # fmt: skip
            conds.append((s.name, "==", 0))
            cond_at.append(s.start - 1)
            worded_at.add(s.start - 1)
    for s in spans:  # "smokers than non-smokers": the same yes/no column named again, negated
        yes = _yes(frame[s.name])
        again = [i for i in range(s.end, len(qt) - (s.end - s.start) + 1)
                 if [stem(t) for t in qt[i : i + s.end - s.start]] == [stem(t) for t in qt[s.start : s.end]]]  # fmt: skip
        if yes is None or not again or negated(again[0]) == negated(s.start):
            continue
        conds.append((s.name, "!=" if negated(again[0]) else "==", yes))
        cond_at.append(again[0])
        inside |= set(range(again[0], again[0] + s.end - s.start))
    value_spans = {i for _c, _op, v in conds for i in _positions(qt, str(v))} | worded_at
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
        if c not in used and not identifier(frame[c], c) and not id_name(c) and not is_dates(frame[c])
        for t in tokens(c) if len(t) >= 4
    }  # fmt: skip
    again = {stem(t) for c in used for t in tokens(str(c))}  # "… Just the Pig number": named again
    leftover = [
        w for i, w in enumerate(qt)
        if i not in named and not NUMBER.match(w) and stem(w) not in FILLER and stem(w) not in again
        and not _explained(i, w, qt, named, col_words)
    ]  # fmt: skip
    unplaced = [w for w in leftover if _form_of(w, other_words)]
    # Words no column or value names, wherever they stand, even next to a value ("what percentage
    # of men *smoke*"): a share whose event is among them is not read.
    loose = [i for i, w in enumerate(qt) if i not in named and not NUMBER.match(w) and stem(w) not in FILLER
             and not _rows_noun(i, qt) and not (i - 1 in named and _plural(w))
             and not (i and NUMBER.match(qt[i - 1]) and unit_word(w))]  # "8 *KB* of cache"  # fmt: skip
    # A plural word right after a value that names a text column by one word of its name is the
    # rows' noun ("Mexican *restaurants*" over `Restaurant Name`), not that column.
    cond_spans = {i for s in spans if s.name in {c for c, _, _ in conds} for i in range(s.start, s.end)}
    nouns = {s.name for s in spans if s.partial and s.end - s.start == 1 and s.start - 1 in value_spans | cond_spans
             and _plural(qt[s.start])
             and (not pd.api.types.is_numeric_dtype(frame[s.name]) or id_name(s.name))}  # fmt: skip
    # "what % of *bills*" over `BillMonth`: the rows' noun, not the date column it half names
    nouns |= {s.name for s in spans if s.partial and s.end - s.start == 1 and _plural(qt[s.start])
              and _rows_noun(s.start, qt) and is_dates(frame[s.name])}  # fmt: skip
    cols = [c for c in cols if c not in nouns]
    spans = [s for s in spans if s.name not in nouns]
    numbers = [float(w) for i, w in enumerate(qt) if i not in named and NUMBER.match(w)]  # not "B2"
    return _Reading(
        q, words, cols, conds, decimals_asked(q), top_k_asked(q), leftover, numbers, tuple(spans), unplaced,
        cond_at, {stem(qt[i]) for i in worded_at}, loose, question,
    )  # fmt: skip


def _named_by_form(
    qt: list[str],
    frame: pd.DataFrame,
    cols: list[str],
    plain: set[str],
    word_ok: Callable[[int, str], bool],
    column_ok: Callable[[str], bool],
) -> list[Span]:
    """Columns not yet named that a question word names by a form of their one word (the name less
    its `plain` words: "date", "is"): one span per word, where exactly one column fits."""
    own = {c: t[0] for c in map(str, frame.columns) if c not in cols
           and len(t := [x for x in tokens(c) if x not in plain]) == 1}  # fmt: skip
    out: list[Span] = []
    for i, w in enumerate(qt):
        if not word_ok(i, w):
            continue
        hits = [c for c, word in own.items() if c not in {s.name for s in out} and _form_of(w, {word}) and column_ok(c)]
        if len(hits) == 1:
            out.append(Span(hits[0], i, i + 1))
    return out


def _noun_key(qt: list[str], frame: pd.DataFrame, inside: set[int]) -> tuple[str, int] | None:
    """The key column named by the noun after "different"/"distinct"/"unique" ("how many
    different patients" -> `PatientID`) and the noun's position, when exactly one key is."""
    at = next((i + 1 for i, w in enumerate(qt[:-1]) if w in ("different", "distinct", "unique")), None)
    if at is None or at in inside:
        return None
    keys = [
        str(c) for c in frame.columns
        if (identifier(frame[c], str(c)) or id_name(str(c))) and stem(qt[at]) in [stem(t) for t in tokens(str(c))]
    ]  # fmt: skip
    return (keys[0], at) if len(keys) == 1 else None


_ACROSS = {"col>", "col<", "date>", "date<"}
_LATER = {"after", "later than", "past"}
_SOONER = {"before", "earlier than", "prior to"}
_ABOVE = {"more than", "greater than", "higher than", "larger than", "bigger than", "above", "over", "exceeds",
          "exceeding", "exceeded", "exceed", "is more than", "was more than", "is above", "was above"}  # fmt: skip
_BELOW = {"less than", "lower than", "smaller than", "below", "under", "is less than", "was less than", "is below"}


def _across(between: list[str], a: pd.Series, b: pd.Series) -> str | None:
    """A comparison of two columns row by row, said between their names: "returned *after their*
    due date" (two date columns), "paid *more than the* claimed amount" (two numeric columns)."""
    words = " ".join(w for w in between if w not in ("the", "their", "its", "his", "her", "a", "an"))
    if is_dates(a) and is_dates(b):
        return "date>" if words in _LATER else "date<" if words in _SOONER else None
    if not (pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b)):
        return None
    if pd.api.types.is_bool_dtype(a) or pd.api.types.is_bool_dtype(b):
        return None
    return "col>" if words in _ABOVE else "col<" if words in _BELOW else None


# Nouns that count rows as rows, whatever the table holds.
_ROW_WORDS = {stem(w) for w in "rows records entries observations measurements readings lines cases times".split()}
# Nouns for who rows are about ("how many patients"): over rows that repeat subjects, rows or subjects?
_WHO = {stem(w) for w in "patients subjects participants persons people individuals respondents customers clients "
        "users members listeners donors students employees players animals pigs children mothers babies "
        "households families companies firms countries".split()}  # fmt: skip
# A column naming who or what each row is about: rows may repeat it (one per visit, period, week).
_SUBJECT_WORDS = {"subject", "patient", "participant", "person", "individual", "respondent", "animal", "pig",
                  "child", "id", "pid"}  # fmt: skip


def _repeated_key(frame: pd.DataFrame) -> str | None:
    """The column of subjects when rows repeat them (4 periods per patient, 12 weigh-ins per
    pig): a key-like column (`subject`, `PatientID`) whose values each come back on several rows."""
    for c in map(str, frame.columns):
        s = frame[c]
        if not (id_name(c) or set(tokens(c)) & _SUBJECT_WORDS) or s.isna().any():
            continue
        if pd.api.types.is_float_dtype(s):
            continue
        n = s.nunique()
        if 1 < n <= len(s) / 2:
            return c
    return None


def _most_rows(counts: str, low: bool) -> list[str]:
    """Code returning the label with the most (fewest) rows of `counts`, a Series of row counts,
    and refusing a tie: "which subject has the most rows" when every subject has 4 has no answer."""
    return [
        f"    counts = {counts}.sort_values(ascending={low}, kind='stable')",
        "    if len(counts) > 1 and counts.iloc[0] == counts.iloc[1]:",
        '        raise ValueError(f"no single answer: {counts.index[0]!r} and {counts.index[1]!r} tie with {counts.iloc[0]} rows")',
        "    return counts.index[0]",
    ]


# Words and their opposites: a yes/no column named for one ("inspection_passed") asked about by the
# other ("failed inspection") is asked for its "no" rows.
_OPPOSITES = [("pass", "fail"), ("passed", "failed"), ("approved", "denied"), ("approved", "rejected"),
              ("approved", "declined"), ("accepted", "rejected"), ("success", "failure"), ("successful", "failed"),
              ("active", "inactive"), ("completed", "incomplete"), ("complete", "incomplete"), ("paid", "unpaid"),
              ("present", "absent"), ("won", "lost"), ("win", "loss"), ("open", "closed"), ("ontime", "late"),
              ("available", "unavailable"), ("valid", "invalid"), ("insured", "uninsured")]  # fmt: skip


def _opposite(qt: list[str], name: set[str]) -> bool:
    """The question says the opposite of a word of the column's name."""
    said = {stem(w) for w in qt}
    return any((a in name and b in said) or (b in name and a in said) for a, b in _OPPOSITES)


def _plural(w: str) -> bool:
    return len(w) >= 4 and w.endswith("s") and not w.endswith("ss")


def _number_text(v: Any) -> str:
    """The first number of a condition's value as the question's tokens write it."""
    x = v[0] if isinstance(v, tuple) else v
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


# Words of a date column's name that say only that it is one ("Discovery Date", "hired_on").
_DATE_WORDS = {"date", "day", "time", "at", "on", "dt", "ts", "timestamp", "when"}
# Words of a yes/no column's name that say only that it is one ("is_fraud", "has_insurance").
_FLAG_WORDS = {"is", "has", "had", "was", "flag", "ind", "any", "did", "yn"}
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
    if _rows_noun(i, qt):
        return True
    if any(j in named for j in (i - 1, i + 1, i + 2)):  # "wind *speed*", "the *species* setosa"
        return True
    return _form_of(w, col_words)


def _rows_noun(i: int, qt: list[str]) -> bool:
    """Word `i` is the rows' noun: "how many *flowers*", "the share of *bookings*"."""
    before = " ".join(qt[max(0, i - 3) : i])
    return re.search(
        r"(how many|number of|share of|percentage of|percent of|% of|proportion of|most|fewest)( the)?$", before
    ) is not None


def _form_of(w: str, words: set[str]) -> bool:
    """`w` is a form of one of `words` ("voted" of "vote", "remotely" of "remote")."""
    return len(w) >= 4 and any(w.startswith(c[:4]) and c.startswith(w[:4]) for c in words)


def _positions(qt: list[str], value: str) -> set[int]:
    """Where the question says `value`, in the forms `find_values` reads: word for word, its last
    word as a plural or a past ("Adelies", "failed"), in another order ("Reno DC" of "DC-Reno"),
    else by its first word(s) ("NorthStar" of "NorthStar Cargo")."""
    words = tokens(value)
    vt = [stem(t) for t in words]
    st = [stem(t) for t in qt]
    n = len(vt)
    if not n:
        return set()
    forms = value_forms(words[-1])
    out: set[int] = set()
    for i in range(len(st) - n + 1):
        w = st[i : i + n]
        if w == vt or (w[:-1] == vt[:-1] and qt[i + n - 1] in forms) or (n >= 2 and sorted(w) == sorted(vt)):
            out |= set(range(i, i + n))
    for k in (2, 1) if not out and n >= 2 else ():
        out = {j for i in range(len(st) - k + 1) if st[i : i + k] == vt[:k] for j in range(i, i + k)}
        if out:
            break
    return out


_DATE_PARTS = {"month": ".dt.month", "weekday": ".dt.dayofweek", "quarter": ".dt.quarter", "year": ".dt.year"}


def _term(c: str, op: str, v: Any) -> str:
    if op == "between":  # both ends included, as "between 30 and 40 years old" means
        return f"{_col(c)}.between({_lit(v[0])}, {_lit(v[1])})"
    dates = f'pd.to_datetime({_col(c)}, errors="coerce", format="mixed")'
    if op in _DATE_PARTS:  # "in 2007", "in March", "on Mondays", "in the first quarter"
        return f"({dates}{_DATE_PARTS[op]} == {_lit(v)})"
    if op == "weekend":
        return f"({dates}.dt.dayofweek >= 5)"
    if op == "months":  # "between March and May": both ends included
        return f"{dates}.dt.month.between({_lit(v[0])}, {_lit(v[1])})"
    if op == "isna":
        return f"{_col(c)}.isna()"
    if op in ("col>", "col<"):  # row by row against another column
        return f"({_col(c)} {op[-1]} {_col(v)})"
    if op in ("date>", "date<"):  # the same, dates read as dates
        a, b = (f'pd.to_datetime({_col(x)}, errors="coerce", format="mixed")' for x in (c, v))
        return f"({a} {op[-1]} {b})"
    if op == "in":  # either of two values ("from GBR or FRA")
        return f"{_col(c)}.isin({_lit(list(v))})"
    return f"({_col(c)} {op} {_lit(v)})"


def _mask(conds: list[tuple[str, str, Any]]) -> str:
    return " & ".join(_term(c, op, v) for c, op, v in conds)


def _say(conds: list[tuple[str, str, Any]]) -> str:
    said = {
        "year": "the year of {c} is {v}",
        "month": "the month of {c} is {v}",
        "weekday": "the weekday of {c} is {v} (0 = Monday)",
        "weekend": "{c} falls on a weekend",
        "quarter": "the quarter of {c} is {v}",
        "months": "the month of {c} is {v[0]} to {v[1]}",
        "between": "{c} is between {v[0]} and {v[1]}",
        "in": "{c} is one of {v}",
        "isna": "{c} is missing",
        "col>": "{c} > {v}",
        "col<": "{c} < {v}",
        "date>": "{c} is after {v}",
        "date<": "{c} is before {v}",
    }
    return " and ".join(said.get(op, "{c} {op} {v!r}").format(c=c, op=op, v=v) for c, op, v in conds)


def _round(expr: str, d: int | None) -> str:
    return f"round(float({expr}), {d})" if d is not None else f"float({expr})"


def plan_question(question: str, frame: pd.DataFrame) -> QuestionPlan | None:
    """The plan for `question` over `frame`, or None when it cannot be read with confidence."""
    try:
        named = frame.rename(columns=str, copy=False)  # the columns' names as text, the data shared
        r = read(question, named)
        plan = _plan(r, named)
        if plan is not None and any(_lit(c) not in plan.code for c in _must_use(r, named)):
            return None  # "how many rides did casual riders take on e-bikes": a named column left out
        if plan is not None and unit_conflict(question, r.columns):
            return None  # "the mean body mass in kilograms" of `body_mass_g`: no recipe converts
        if plan is not None and _other_value_said(r, named):
            return None  # "the night shift's rate … higher than the day shift's": one side unread
        return plan
    except (KeyError, ValueError, TypeError, IndexError):  # an odd table: no plan rather than a crash
        return None


def _other_value_said(r: _Reading, frame: pd.DataFrame) -> bool:
    """The question says another value of a column a condition uses, which no condition reads
    ("night shift … than the day shift" read as Shift == 'Night' alone): the reading drops half
    of what was asked. Values are matched as whole words, case aside."""
    q = f" {' '.join(tokens(r.q))} "
    for col in {c for c, op, v in r.conds if op == "==" and isinstance(v, str)}:
        used = {str(v) for c, _op, v in r.conds if c == col}
        values = frame[col].dropna().unique()
        if len(values) > 50:
            continue
        for v in values:
            said = " ".join(tokens(str(v)))
            if str(v) not in used and said and f" {said} " in q:
                return True
    return False


def _names_a_value(r: _Reading, frame: pd.DataFrame) -> bool:
    """A word nothing read is a form of a word of a category in a column no condition uses
    ("part-timers" of "Part-time")."""
    qt = r.q.split()
    unread = {qt[i] for i in r.loose} | {qt[i] for i in range(len(qt)) if _rows_noun(i, qt)}
    unread = {w for w in unread if len(w) >= 4 and stem(w) not in FILLER}
    if not unread:
        return False
    conds = {c for c, _, _ in r.conds}
    words: set[str] = set()
    for c in map(str, frame.columns):
        col = frame[c]
        if c in conds or pd.api.types.is_numeric_dtype(col) or is_dates(col):
            continue
        values = col.dropna().unique()
        if len(values) <= 50:
            words |= {t for v in values for t in tokens(str(v)) if len(t) >= 4}
    return any(_form_of(w, words) for w in unread)


def _grouped_at(i: int, qt: list[str]) -> bool:
    """Word `i` follows "per", "each", "all", "over the four" …: it says how rows are grouped
    ("all periods together", "the mean count per period"), never a measure or a condition."""
    return re.search(r"\b(per|each|every|all|across|over)( the| all)*( \w+)?$", " ".join(qt[max(0, i - 3) : i])) is not None


def _must_use(r: _Reading, frame: pd.DataFrame) -> list[str]:
    """Named columns a reading must use: not the rows' noun ("how many *quarters* …", an
    identifier or name column), not a date column named by its verb ("*booked* a room"), not a
    column named only by a word that ranks ("highest" over a `High` column)."""
    qt = r.q.split()
    ranking = {s.name for s in r.spans if re.fullmatch(_BEST.strip(), qt[s.start]) and s.end - s.start == 1}
    ranking |= {s.name for s in r.spans if _rows_noun(s.start, qt)}
    ranking |= {s.name for s in r.spans if _grouped_at(s.start, qt)}  # "all *periods* together"
    return [
        c for c in r.columns
        if c not in ranking and not identifier(frame[c], c) and not id_name(c) and not frame[c].is_unique
        and not is_dates(frame[c])
    ]  # fmt: skip


def _numeric(frame: pd.DataFrame, c: str) -> bool:
    return pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])


# "is the average tip larger than 3", "… above 3": the yes/no question's comparison (word, number)
_COMPARED = (
    r" (larger|greater|higher|more|above|over|bigger|exceeding|exceeds|smaller|lower|less|below|under)"
    r"(?: than)? (-?\d+(?:\.\d+)?) "
)
_BEST = r" (highest|largest|biggest|greatest|longest|heaviest|most|maximum|max|top|best|lowest|smallest|shortest|lightest|least|minimum|min|fewest|worst) "
_LOW = ("lowest", "smallest", "shortest", "lightest", "least", "minimum", "min", "fewest", "worst")
# Arithmetic between columns ("quantity times unit price"): no reading here computes it, and
# dropping it would answer about one of the columns instead.
_ARITHMETIC = r" (?<!many )(?<!number of )times | multiplied | divided | plus | minus | difference between | product of "


_OPERATORS = {"times": "*", "multiplied by": "*", "divided by": "/", "plus": "+", "minus": "-"}
_OPERATOR_WORDS = {"times", "multiplied", "divided", "plus", "minus", "difference", "product", "ratio", "percentage",
                   "percent", "share", "fraction", "proportion"}  # fmt: skip


def _sum_ratio(qt: list[str], x: Span, y: Span, raw: str) -> bool:
    """ "total defective units over total units produced", "total cost divided by total weight",
    "total spend / total litres": a ratio of two totals, not a total of row ratios."""
    filler = ("the", "units", "amount", "number", "of")

    def total_before(i: int) -> int | None:  # "total units produced": "total", then filler
        j = i - 1
        while j >= 0 and qt[j] in filler and i - j <= 3:
            j -= 1
        return j if j >= 0 and qt[j] == "total" else None

    at = total_before(y.start)
    if total_before(x.start) is None or at is None:
        return False
    between = [w for w in qt[x.end : at] if w not in filler]
    return between in (["divided", "by"], ["over"]) or (not between and "/" in raw)


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
        elif _sum_ratio(qt, x, y, r.raw):
            found.append((x.name, "sum/", y.name))
    dates = [s for s in r.spans if s.name in frame.columns and is_dates(frame[s.name])]
    for x, y in zip(dates, dates[1:], strict=False):  # "the average number of days between checkout and return"
        before = " ".join(qt[max(0, x.start - 3) : x.start])
        joined = " ".join(w for w in qt[x.end : y.start] if w != "the")
        if joined in ("and", "to") and re.search(r"days (between|from)( the)?$", before):
            found.append((x.name, "days", y.name))
    return found[0] if len(found) == 1 else None


def _plan(r: _Reading, frame: pd.DataFrame) -> QuestionPlan | None:  # noqa: C901 - one reading per kind
    period = period_asked(r.q, frame)
    if period is not None:  # "which month …" over a table with dates: only `_by_period` reads it
        r = replace(r, leftover=[w for w in r.leftover if w not in period.split()])
    arith = _arithmetic(r, frame)
    if arith is not None:  # "quantity times unit price": the operator's words are read
        r = replace(r, leftover=[w for w in r.leftover if w not in _OPERATOR_WORDS])
    elif r.phrase(_ARITHMETIC) and not (r.phrase(" difference between | minus ") and _two_groups(r)):
        return None  # arithmetic this reading cannot place: answering about one column would drop it
    # "how many women …" over F/M codes, "in March", "the second highest": conditions and ranks no
    # reading here applies, whatever words they stand next to (unless a value of the table says so)
    values = {stem(t) for _c, _op, v in r.conds for t in tokens(str(v))}
    unapplied = {w for w in r.words if w in _PEOPLE | _CALENDAR | _ORDINALS | _STATUS} - values - r.worded
    first_time = r.phrase(" first time | first timer | first timers ") and "first" in r.words
    if len(r.leftover) > 1 or r.unplaced or unapplied or _stray_number(r) or first_time:
        return None  # too much unread, a column's word unused, or a condition or rank not applied
    cond_cols = {c for c, _, _ in r.conds} | {v for _c, op, v in r.conds if op in _ACROSS}
    free = [c for c in r.columns if c not in cond_cols]  # named, but not only as a filter
    # a number column named after "per", "each", "all", "over the four" groups rows ("all periods
    # together", "the mean count per period"): never the measure
    qt = r.q.split()
    grouping = {s.name for s in r.spans if _grouped_at(s.start, qt) and not NUMBER.match(qt[s.start - 1])}
    nums = [c for c in free if _numeric(frame, c) and c not in grouping]
    groupers = [c for c in free if c in grouping and _numeric(frame, c)]
    if r.phrase(r" (together|combined|overall|in total) "):
        free, groupers = [c for c in free if c not in groupers], []  # "all periods together": every row
    elif len(groupers) > 1 or (groupers and [c for c in free if not _numeric(frame, c)]):
        return None
    cats = [c for c in free if not _numeric(frame, c)] + groupers  # "the mean fare per passenger count"
    agg = next((a for a in AGGS if a.matches(r)), None)
    groups = _two_groups(r)
    if groups is not None:  # "in the South than in the North": two groups of one column, never both
        return _between_groups(r, frame, groups, agg, nums) if groups else None
    when = _when(r, frame, free)
    if when is not None:
        return when
    body: list[str] = []
    base = "df"
    if r.conds:
        body.append(f"    rows = df[{_mask(r.conds)}]")
        base = "rows"
    where = f" where {_say(r.conds)}" if r.conds else ""

    def done(lines: list[str], reading: str) -> QuestionPlan:
        return QuestionPlan(HEADER + "\n".join(body + lines) + "\n", reading + where, tuple(r.leftover))

    if arith is not None and arith[1] == "sum/":
        a, _op, b = arith
        if [c for c in free if c not in (a, b)] or r.k is not None:
            return None
        pct = r.has("percent", "percentage", "%")
        expr = f"{base}[{_lit(a)}].sum() / {base}[{_lit(b)}].sum()" + (" * 100" if pct else "")
        said = f"the total of {a} divided by the total of {b}" + (", as a percentage" if pct else "")
        return done([f"    return {_round(expr, r.decimals)}"], said)
    if arith is not None:
        a, op, b = arith
        if agg is None or [c for c in free if c not in (a, b)] or r.k is not None:
            return None
        when = (f'pd.to_datetime({base}[{_lit(c)}], errors="coerce", format="mixed")' for c in (b, a))
        pair = (
            f"{base}[{_lit(a)}] / {base}[{_lit(b)}] * 100"
            if op == "%"
            else f"({' - '.join(when)}).dt.days"
            if op == "days"
            else f"{base}[{_lit(a)}] {op} {base}[{_lit(b)}]"
        )
        expr = f"({pair}).{agg.method}()"
        said = {"%": f"{a} as a percentage of {b}", "days": f"the days from {a} to {b}"}.get(op, f"{a} {op} {b}")
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
        and bool(frame[r.columns[0]].isna().any())  # "no children" over counts is 0, read below
        and r.phrase(  # "with no discount"
            rf" (no|without|without an?|without any) {re.escape(' '.join(tokens(r.columns[0])))} "
        )
    )
    # "how many orders used a promo code": rows where a column with gaps holds something
    present = (
        len(r.columns) == 1
        and r.columns[0] not in cond_cols
        and not _numeric(frame, r.columns[0])
        and bool(frame[r.columns[0]].isna().any())
        and r.phrase(rf" (with|have|has|had|used|using|use|uses|got|gave|given) (an?|any|some) {re.escape(' '.join(tokens(r.columns[0])))} ")
        and not r.has("missing", "null", "empty", "nan", "blank", "no", "not", "without", "never")
    )
    if counting and present:
        return done(
            [f"    return int({base}[{_lit(r.columns[0])}].notna().sum())"],
            f"the rows where {r.columns[0]} is not missing",
        )
    if counting and (r.has("missing", "null", "empty", "nan", "blank") or absent) and len(r.columns) == 1:
        if r.phrase(r" (not|non|t) (missing|null|empty|blank) "):  # "where Feed is not missing"
            return done(
                [f"    return int({base}[{_lit(r.columns[0])}].notna().sum())"],
                f"the values of {r.columns[0]} that are not missing",
            )
        return done(
            [f"    return int({base}[{_lit(r.columns[0])}].isna().sum())"],
            f"the missing values of {r.columns[0]}",
        )
    pct = r.phrase(r" percent | percentage | % ")
    share = r.has("share", "proportion", "fraction", "ratio") and not pct
    gaps = r.has("missing", "null", "empty", "nan", "blank")
    if gaps and not ((pct or share) and len(r.conds) == 0 and len(r.columns) == 1):
        return None  # "the latest week with a missing reading": a condition on gaps, not read here
    negators = {"not", "never", "t", "without", "excluding", "except", "besides", "non"}
    if r.has(*negators) and not any(op in ("!=", "isna") for _c, op, _v in r.conds):
        return None  # "loans not returned" with nothing read as returned: the negation is unapplied
    if counting and r.has("distinct", "unique", "different") and len(free) == 1:
        return done(
            [f"    return int({base}[{_lit(free[0])}].nunique())"], f"the distinct values of {free[0]}"
        )
    days = re.search(r" (?:distinct|unique|different) (days|dates|months|years|weeks) ", r.q)
    dates = [c for c in map(str, frame.columns) if is_dates(frame[c])]
    if counting and days and not free and len(dates) == 1:  # "on how many distinct days did … sell"
        part = {"days": ".dt.date", "dates": ".dt.date", "months": ".dt.to_period('M')", "years": ".dt.year",
                "weeks": ".dt.to_period('W')"}[days.group(1)]  # fmt: skip
        when = f'pd.to_datetime({base}[{_lit(dates[0])}], errors="coerce", format="mixed")'
        return done([f"    return int({when}{part}.nunique())"], f"the distinct {days.group(1)} of {dates[0]}")
    if counting and r.has("distinct", "unique", "different"):
        return None  # distinct what? counting rows would drop the word
    # the most common value, the group/row with the highest value, the top k
    most = r.phrase(
        r" (most|least) (common|often|frequent|frequently|popular|usual) | (appears|occurs) most | most often | mode "
    )
    if most and len(cats + nums) == 1 and agg is None and r.k is None:
        c = (cats + nums)[0]
        return done(_most_rows(f"{base}[{_lit(c)}].value_counts()", low=False), f"the most common {c}")
    best = re.search(_BEST, r.q)
    if best:
        # "the highest life expectancy": "highest" ranks, it is no second aggregate; "the total of
        # bills" is one. "the most bills" counts rows: "bills" names `total_bill` by one word only,
        # as the rows' noun does; "the most sunspot activity" names its column whole: a measure.
        word = best.group(1)
        plain = agg
        agg = next((a for a in AGGS if any(w in a.stems and w != word for w in r.words)), None)
        # ... unless the column's own word is that plural ("the most incidents" over
        # `damage_incidents` counts incidents: a measure, summed)
        qt = r.q.split()
        partial = {s.name for s in r.spans if s.partial and not (_plural(qt[s.start]) and qt[s.start] in tokens(s.name))}
        counted = word in ("most", "fewest", "least") and agg is None
        ranked = _ranked(
            r, frame, best, agg, cats, [c for c in nums if not (counted and c in partial)], base, done
        )
        if ranked is not None:
            return ranked
        agg = plain
    # a share or percentage of rows
    if (pct or share) and gaps and len(r.columns) == 1 and not r.conds and agg is None:
        expr = f"df[{_lit(r.columns[0])}].isna().mean()" + (" * 100" if pct else "")
        return done([f"    return {_round(expr, r.decimals)}"], f"the {'percentage' if pct else 'share'} of missing {r.columns[0]}")
    if (pct or share) and r.conds and max(r.cond_at, default=0) < max(r.loose, default=-1):
        return None  # "what percentage of men smoke": the event is a word after the rows, unread
    if (pct or share) and len(r.conds) >= 2 and agg is None and not free:
        return _share_within(r, pct, done, body)
    # "what percentage of employees in Finance left": a share within some rows; which condition is
    # the base and which the event is not read here, so only one condition is
    if (pct or share) and len(r.conds) == 1 and agg is None and all(identifier(frame[c], c) for c in free):
        if _names_a_value(r, frame):
            return None  # "percentage of *part-timers* in customer support": a second condition unread
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
        key = _repeated_key(frame)
        noun = re.search(r" (?:how many|number of) (?:the )?(\w+) ", r.q)
        # the rows' own noun: "rows", or the word of a key unique to each row ("visits": `visit_id`)
        own = {stem(t) for c in map(str, frame.columns) if id_name(c) and frame[c].is_unique for t in tokens(c)}
        said = stem(noun.group(1)) if noun is not None else ""
        if key is not None and said not in _ROW_WORDS | own and (said in _WHO or said in map(stem, tokens(key))):
            # rows repeat per subject ("how many patients" over 4 visits each): the subjects if
            # the noun names the key column, else no reading (rows or subjects?)
            if said not in [stem(t) for t in tokens(key)]:
                return None
            return done([f"    return int({base}[{_lit(key)}].nunique())"], f"the distinct values of {key}")
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
    # "the day with the biggest total demand" asks for a label too
    if r.phrase(r"^ ((in|on|at|during|for) )?(which|who) ") or r.phrase(PERIOD_ASKED) or r.phrase(r" the \w+ (with|that has|that had) the "):
        # "which animals have 8 legs": the labels of the rows the conditions keep, no ranking
        label = [c for c in cats if _asked_for(r, c) and not is_dates(frame[c])]
        if not cats:  # "which animals …" over a column of unique names: the rows' own labels
            noun = stem(qt[1]) if len(qt) > 1 and qt[0] in ("which", "what") else ""
            label = [c for c in map(str, frame.columns) if noun and noun in map(stem, tokens(c))
                     and frame[c].dtype == object and frame[c].is_unique]  # fmt: skip
            cats = label[:1]
        listing = r.conds and agg is None and not nums and r.k is None and len(cats) == 1 and label
        if listing and re.search(_BEST, r.q) is None and not r.leftover:
            return done(
                [f"    return sorted({base}[{_lit(label[0])}].dropna().astype(str).unique().tolist())"],
                f"the {label[0]} of the rows",
            )
        return None  # also "what month …" with no period reading: not an aggregate
    if (pct or share) and agg is not None and agg.method != "mean":
        return None  # "what % of … DNF'd" is no minimum or total of a column
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


# Words comparing two groups: the first named is larger / smaller than the second.
_MORE = r" (higher|greater|larger|bigger|more|longer|older|heavier|costlier|pricier) "
_LESS = r" (lower|smaller|less|fewer|shorter|younger|lighter|cheaper) "
_PARTS = {"==", "month", "weekday", "quarter", "year"}
Cond = tuple[str, str, Any]


def _two_groups(r: _Reading) -> tuple[Cond, Cond, list[Cond]] | tuple[()] | None:
    """Two conditions on one column that no row meets both of ("southeast" and "northwest",
    "smokers" and "non-smokers", "March" and "April"), in the order said, with the other
    conditions; None when there are none; () when there are more than two such (no reading)."""
    said = sorted(zip(r.cond_at or [0] * len(r.conds), range(len(r.conds)), r.conds, strict=True))
    conds = [c for _at, _i, c in said]

    def apart(x: Cond, y: Cond) -> bool:
        if x[0] != y[0]:
            return False
        if x[1] == y[1] and x[1] in _PARTS:
            return x[2] != y[2]
        return {x[1], y[1]} == {"==", "!="} and x[2] == y[2]

    pairs = [(i, j) for i in range(len(conds)) for j in range(i + 1, len(conds)) if apart(conds[i], conds[j])]
    if not pairs:
        return None
    if len(pairs) > 1:
        return ()
    i, j = pairs[0]
    return conds[i], conds[j], [c for k, c in enumerate(conds) if k not in (i, j)]


def _between_groups(
    r: _Reading, frame: pd.DataFrame, groups: tuple[Cond, Cond, list[Cond]], agg: Agg | None, nums: list[str]
) -> QuestionPlan | None:
    """Two groups of one column: "is the average fare higher in Manhattan than in Queens", "the
    difference between the average age of Basic and Premium members", "how many more bookings
    from GBR than from FRA", or both together ("orders from the North or the South")."""
    first, second, rest = groups
    a, b = [*rest, first], [*rest, second]
    more, less = r.phrase(_MORE), r.phrase(_LESS)
    than = r.phrase(r" than ")
    yes_no = r.phrase(r"^ (is|are|was|were|does|do|did) ")
    counting = r.phrase(r" how many | number of | count ")
    free = [c for c in r.columns if c not in {c for c, _, _ in r.conds}]
    said = f" (A: {_say(a)}; B: {_say(b)})"

    def plan(lines: list[str], reading: str) -> QuestionPlan:
        return QuestionPlan(HEADER + "\n".join(lines) + "\n", reading + said, tuple(r.leftover))

    if len(nums) == 1 and agg is not None and free == nums and r.k is None:
        x, y = (f"df[{_mask(m)}][{_lit(nums[0])}].{agg.method}()" for m in (a, b))
        lines = [f"    a = {x}", f"    b = {y}"]
        if yes_no and than and more != less:
            op = ">" if more else "<"
            return plan(lines + [f"    return bool(a {op} b)"], f"whether the {agg.name} of {nums[0]} is {op} in A than in B")
        if r.phrase(r" difference | minus ") and not than:  # "the mean of men minus the mean of women"
            return plan(lines + [f"    return {_round('a - b', r.decimals)}"], f"the {agg.name} of {nums[0]} in A minus B")
        if r.phrase(r" how much | by how many \w+ ") and than and more != less:  # "by how many grams …"
            expr = "a - b" if more else "b - a"
            return plan(lines + [f"    return {_round(expr, r.decimals)}"], f"how much the {agg.name} of {nums[0]} is {'higher' if more else 'lower'} in A than in B")
    if counting and not free and agg is None and r.phrase(r" how many (more|fewer|less) ") and than:
        lines = [f"    a = int(({_mask(a)}).sum())", f"    b = int(({_mask(b)}).sum())"]
        return plan(lines + [f"    return {'a - b' if more else 'b - a'}"], f"how many {'more' if more else 'fewer'} rows in A than in B")
    qt = r.q.split()
    joined = qt[min(r.cond_at or [0]) : max(r.cond_at or [0])]
    if not (more or less or than or yes_no) and first[1] == second[1] == "==" and "or" in joined:
        # "from GBR or FRA": rows of either group ("for GBR and FRA" may want each: not read)
        either = (first[0], "in", (first[2], second[2]))
        return _plan(replace(r, conds=[*rest, either], cond_at=[]), frame)
    return None


def _share_within(r: _Reading, pct: bool, done: Any, body: list[str]) -> QuestionPlan | None:
    """ "What percentage of Premium members churned", "what share of bookings from FRA were
    canceled": the share of rows meeting the last conditions among those meeting the first. The
    ones said before the verb ("were", "are", "have") are the base, the ones after it the event;
    with no such verb only the last is the event; with every condition after it, all rows are
    the base ("what percentage of respondents are female smokers")."""
    qt = r.q.split()
    start = next((i for i, w in enumerate(qt) if w in ("percent", "percentage", "%", "share", "proportion", "fraction")), 0)
    verbs = [
        i for i in range(start + 1, len(qt))
        if qt[i] in ("is", "are", "was", "were", "has", "have", "had", "do", "does", "did")
        and qt[i - 1] not in ("who", "that", "which")
    ]  # fmt: skip
    said = sorted(zip(r.cond_at, range(len(r.conds)), r.conds, strict=True))
    rate = next((i for i, w in enumerate(qt) if w == "rate"), None)
    if rate is not None and not verbs:  # "the skip rate for premium users": the event names the rate
        event = [c for at, _i, c in said if rate - 2 <= at < rate]
        base = [c for at, _i, c in said if not rate - 2 <= at < rate]
        if len(event) != 1:
            return None
    elif verbs:
        base = [c for at, _i, c in said if at < verbs[0]]
        event = [c for at, _i, c in said if at >= verbs[0]]
        after = [at for at, _i, _c in said if at >= verbs[0]]
        spread = any(set(qt[x + 1 : y]) - {"and"} for x, y in zip(after, after[1:], strict=False))
        if not base and spread:
            return None  # "what percentage of orders were returned in the South": of all, or of the South's?
    else:
        base, event = [c for _at, _i, c in said[:-1]], [said[-1][2]]
    if not event:
        return None
    body.clear()
    expr = f"({_mask(event)})[{_mask(base)}].mean()" if base else f"({_mask(event)}).mean()"
    expr += " * 100" if pct else ""
    reading = f"the {'percentage' if pct else 'share'} of rows where {_say(event)}"
    reading += f", among the rows where {_say(base)}" if base else ""
    return QuestionPlan(HEADER + f"    return {_round(expr, r.decimals)}\n", reading, tuple(r.leftover))


def _when(r: _Reading, frame: pd.DataFrame, free: list[str]) -> QuestionPlan | None:
    """ "When was CO2 first measured above 350", "on what date did sales last exceed 100": the
    first or last date, of the table's one date column (or the one named), among the rows the
    conditions keep."""
    if not r.conds or not r.phrase(r"^ (when|on what date|on which date|what date|which date) |^ (what is )?(the )?date of the "):
        return None
    first, last = r.has("first", "earliest", "soonest"), r.has("last", "latest", "recent")
    dates = [c for c in map(str, frame.columns) if is_dates(frame[c])]
    # several dates and none named: no reading ("when was a bill first above 600" of a visit
    # date and a discharge date: the bill's date could be either), unlike a count per period
    pick = [c for c in dates if c in free] or dates
    if first == last or len(pick) != 1 or [c for c in free if c != pick[0]] or r.k is not None:
        return None
    fn = "min" if first else "max"
    lines = [
        f"    when = pd.to_datetime(df[{_mask(r.conds)}][{_lit(pick[0])}], errors=\"coerce\", format=\"mixed\").{fn}()",
        "    return str(when.date()) if when == when.normalize() else str(when)",
    ]
    reading = f"the {'first' if first else 'last'} {pick[0]} where {_say(r.conds)}"
    return QuestionPlan(HEADER + "\n".join(lines) + "\n", reading, tuple(r.leftover))


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
    # the number of a value read with it ("line 3" for "L3", "Store 12")
    used |= {float(d) for _c, _op, v in r.conds if isinstance(v, str) for d in re.findall(r"\d+", v)}
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
# "current engineering staff", "former members": a status no reading here applies (unless a value
# of the table says it).
_STATUS = {"current", "currently", "former", "formerly", "active", "inactive", "existing", "ex"}
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
    pick = named or event_date(frame, dates)
    measures = [c for c in nums if c not in dates]
    if len(pick) != 1 or len(measures) > 1 or [c for c in cats if c not in pick]:
        return None
    word, hi = (
        best.group(1),
        best.group(1) not in _LOW,
    )
    arg = "idxmax" if hi else "idxmin"
    key = f'pd.to_datetime({base}[{_lit(pick[0])}], errors="coerce", format="mixed"){PERIODS[period][0]}'
    lines = [f"    period = {key}"]
    if not measures:
        if word not in ("most", "fewest", "least"):
            return None
        return done(lines + _most_rows(f"{base}.groupby(period).size()", low=arg == "idxmin"),
                    f"the {period} of {pick[0]} with the {'most' if hi else 'fewest'} rows")  # fmt: skip
    agg = next((a for a in AGGS if any(w in a.stems and w != word for w in r.words)), None)
    fn = agg.method if agg else ("sum" if word in ("most", "fewest", "least") else ("max" if hi else "min"))
    return done(
        lines + [f"    return {base}.groupby(period)[{_lit(measures[0])}].{fn}().{arg}()"],
        f"the {period} of {pick[0]} with the {'highest' if hi else 'lowest'} {fn} of {measures[0]}",
    )


def _asked_for(r: _Reading, col: str) -> bool:
    """The question asks which `col` ("which year …", "in what TIME period …", "which birth
    month" for `birthmonth`): the column is named at most one word after "which" or "what"."""
    qt = r.q.split()
    return any(
        s.name == col and any(qt[j] in ("which", "what") for j in range(max(0, s.start - 2), s.start))
        for s in r.spans
    )


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
        if len(cats) > 1:
            return None  # two names to rank by ("items by units sold" naming `sold_at` too): not one key
        key = cats[0]
        hi = best.group(1) not in _LOW
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
    counted = best.group(1) in ("most", "fewest", "least") and agg is None
    if which and r.k is None and not cats and len(nums) == 1 and counted and not r.leftover and _asked_for(r, nums[0]):
        # "which birth month has the most births": a number column's most common value
        arg = "idxmin" if best.group(1) in _LOW else "idxmax"
        return done(
            _most_rows(f"{base}[{_lit(nums[0])}].value_counts()", low=arg == "idxmin"),
            f"the {nums[0]} with the {'fewest' if arg == 'idxmin' else 'most'} rows",
        )
    if which and r.k is None and (cats or len(nums) >= 2):
        if len(cats) > 1:
            return None  # two names asked for at once ("the out date and the due date"): not one label
        label = cats[0] if cats else nums[0]
        if not cats and not _asked_for(r, label):
            return None  # "what is the largest x of y": a value, not which row's number
        hi = best.group(1) not in _LOW
        arg = "idxmax" if hi else "idxmin"
        measure = next((c for c in nums if c != label), None)
        if measure is None and agg is not None:
            return None  # "which customer spent the most in total": a total of a measure not named
        if measure is None:  # "which origin has the most cars": the label with the most rows
            return done(
                _most_rows(f"{base}[{_lit(label)}].value_counts()", low=arg == "idxmin"),
                f"the {label} with the {'most' if hi else 'fewest'} rows",
            )
        one_row_each = _unique_after(frame, r.conds, label)
        if one_row_each and agg is None:
            return done(
                [f"    return {base}.loc[{base}[{_lit(measure)}].{arg}(), {_lit(label)}]"],
                f"the {label} of the row with the {'highest' if hi else 'lowest'} {measure}",
            )
        # no aggregate named: "the most <measure>" is its total, "the highest" the extreme row's;
        # of a 0/1 column ("the highest late delivery rate") only its rate says anything
        fn = (
            agg.method
            if agg
            else ("sum" if best.group(1) in ("most", "fewest", "least") else ("max" if hi else "min"))
        )
        if _zero_one(frame[measure]) and agg is None:
            if not r.has("rate", "share", "percentage", "proportion", "fraction", "likely", "often", "chance"):
                return None
            fn = "mean"
        return done(
            [f"    return {base}.groupby({_lit(label)})[{_lit(measure)}].{fn}().{arg}()"],
            f"the {label} with the {'highest' if hi else 'lowest'} {fn} of {measure}",
        )
    return None
