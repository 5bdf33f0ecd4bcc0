"""Intent checks for answers: is the value the kind of thing the question asks for?

The question's wording gives the checks: "how many" wants a whole number, "what percent" a number
on a 0..100 scale, "round to 2 decimals" at most two decimals, "which column" one of the table's
columns, "which city" one of the table's values, "top 3" three items, "is/does ..." a yes or no.
Where the question is a plain aggregate of one named column ("the median age") the value is also
recomputed here and compared; a count equal to the whole table's row count when the question names
a category value that only some rows have is the classic wrong answer (`len(df)`) and fails.
Nothing derivable -> "unchecked", never "verified".
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from core.engine.ask_words import decimals_asked as _decimals
from core.engine.ask_words import find_values, period_asked, period_labels
from core.engine.ask_words import top_k_asked as _top_k
from core.engine.intent_base import IntentVerdict, _masked, columns_named, decode_value, plain_value

# A condition in the question: the plain aggregate of the whole column is then not the answer.
_CONDITION = re.compile(
    r"\b(where|who|whose|which|with|without|for|by|per|each|among|in|only|excluding|except|when|if|that|than|"
    r"between|after|before|above|below|over|under|not|and|or|group|grouped|across|every|from|at|on|during)\b"
)
_AGGS = {
    "median": lambda s: s.median(),
    "average": lambda s: s.mean(),
    "mean": lambda s: s.mean(),
    "sum": lambda s: s.sum(),
    "total": lambda s: s.sum(),
    "maximum": lambda s: s.max(),
    "highest": lambda s: s.max(),
    "largest": lambda s: s.max(),
    "max": lambda s: s.max(),
    "minimum": lambda s: s.min(),
    "lowest": lambda s: s.min(),
    "smallest": lambda s: s.min(),
    "min": lambda s: s.min(),
    "standard deviation": lambda s: s.std(),
    "std": lambda s: s.std(),
}


def _is_number(v: Any) -> bool:
    return (
        isinstance(v, (int, float))
        and not isinstance(v, bool)
        and not (isinstance(v, float) and math.isnan(v))
    )


def _size(v: Any) -> int | None:
    if isinstance(v, (pd.Series, pd.DataFrame)):
        # a value from the sandbox is trimmed to its first rows; its true length came with it
        return int(v.attrs.get("length") or (v.attrs.get("shape") or (len(v),))[0])
    if isinstance(v, (pd.Index, np.ndarray, list, tuple, dict, set)):
        return len(v)
    return None


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", str(text).casefold()).strip()


def _in_table(v: Any, frame: pd.DataFrame) -> bool:
    want = _norm(v)
    if want in {_norm(c) for c in frame.columns}:
        return True
    for c in frame.columns:
        s = frame[c]
        if s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s):
            if want in set(s.dropna().astype(str).map(_norm)):
                return True
        elif _is_number(v) and bool((pd.to_numeric(s, errors="coerce") == v).any()):
            return True
    return False


def _words(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", str(text).casefold()))


def _value_mentions(q: str, frame: pd.DataFrame) -> list[tuple[str, str, int]]:
    """(column, value, rows with it) for each category value of the table the question names."""
    text = f" {_words(q)} "
    hits = []
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s) or s.nunique() > 200:
            continue
        norm = s.dropna().astype(str).map(_words)
        for value, n in norm.value_counts().items():
            if len(value) >= 3 and f" {value} " in text:
                hits.append((str(c), value, int(n)))
    return hits


def _reference(q: str, frame: pd.DataFrame) -> tuple[str, float] | None:
    """A plain aggregate of one named numeric column, recomputed; None when the question is more."""
    named = columns_named(q, [str(c) for c in frame.columns])
    if len(named) != 1:
        return None
    col = named[0]
    rest = re.sub(
        r"\b(in|of|from) (the|this) (whole )?(table|data|dataset|file|sheet)\b", " ", _masked(q, named)
    )
    s = (
        pd.to_numeric(frame[col], errors="coerce")
        if not pd.api.types.is_bool_dtype(frame[col])
        else frame[col]
    )
    # "how many cars have 8 cylinders": rows whose column holds that number.
    equal = re.search(
        r"\b(-?\d+(?:\.\d+)?) col\b|\bcol (?:of |= ?|== ?|is |equal to |equals )(-?\d+(?:\.\d+)?)\b", rest
    )
    if equal and re.search(r"\bhow many\b", rest) and pd.api.types.is_numeric_dtype(frame[col]):
        rest = rest.replace(equal.group(0), " ")
        if not _CONDITION.search(rest) and not _value_mentions(q, frame):
            n = float(equal.group(1) or equal.group(2))
            count = int((s == n).sum())
            return f"{count} rows have {col} = {n:g}", float(count)
        return None
    mentions = _value_mentions(q, frame)
    if len(mentions) == 1 and mentions[0][0] != col and not re.search(r"\bhow many\b", rest):
        # "the average Horsepower of cars from Japan": the aggregate over the rows with that value.
        mcol, mval, _ = mentions[0]
        rest = re.sub(rf"(?<!\w){re.escape(mval)}(?!\w)", " ", _words(rest))
        rest = re.sub(
            r"\b(from|of|in|for|with|where|whose|that|who|which|is|are|was|were|made|built)\b", " ", rest
        )
        keep = frame[mcol].astype(str).map(_words) == mval
        if _CONDITION.search(rest) or not keep.any():
            return None
        s, what = s[keep], f" where {mcol} is {mval!r}"
    elif _CONDITION.search(rest) or mentions:
        return None  # a subset this check cannot read
    else:
        what = ""
    if re.search(r"\bhow many\b.*\b(missing|null|empty|nan)\b", rest):
        return f"{col} has {int(frame[col].isna().sum())} missing values", float(frame[col].isna().sum())
    if re.search(r"\bhow many\b.*\b(unique|distinct|different)\b", rest):
        return f"{col} has {int(frame[col].nunique())} distinct values", float(frame[col].nunique())
    found = [a for a in sorted(_AGGS, key=len, reverse=True) if re.search(rf"\b{a}\b", rest)]
    if len({_AGGS[a] for a in found}) != 1 or s.notna().sum() == 0:
        return None
    value = float(_AGGS[found[0]](s.astype(float)))
    return f"the {found[0]} of {col}{what} is {value:g}", value


def check_answer(question: str, value: object, frame: pd.DataFrame) -> IntentVerdict:
    """Checks derived from `question` on the answer `value` (see the module doc); an IntentVerdict."""
    try:
        return _check_answer(question, decode_value(value), frame.rename(columns=str, copy=False))
    except Exception as e:  # noqa: BLE001 - a check that cannot run is not a pass, and not a crash either
        return IntentVerdict(
            "unchecked", (), f"not verified against your question: a check could not run ({e})"
        )


def _group_reference(q: str, frame: pd.DataFrame) -> tuple[str, pd.Series] | None:
    """ "the average fare by embarked": one aggregate of one numeric column per one text column."""
    named = columns_named(q, [str(c) for c in frame.columns])
    rest = _masked(q, named)
    found = {_AGGS[a] for a in _AGGS if re.search(rf"\b{a}\b", rest)}
    if (
        len(named) != 2
        or len(found) != 1
        or re.search(r"\b(where|with|without|only|excluding|except|not)\b", rest)
    ):
        return None
    numeric = [c for c in named if pd.api.types.is_numeric_dtype(frame[c])]
    keys = [c for c in named if c not in numeric]
    if len(numeric) != 1 or len(keys) != 1:
        return None
    agg = next(a for a in sorted(_AGGS, key=len, reverse=True) if re.search(rf"\b{a}\b", rest))
    want = frame.groupby(keys[0])[numeric[0]].agg(lambda s, a=agg: _AGGS[a](s.astype(float)))
    return f"the {agg} of {numeric[0]} per {keys[0]}", want


def _check_answer(question: str, value: object, frame: pd.DataFrame) -> IntentVerdict:
    q = _norm(question or "")
    v = plain_value(value)
    passed: list[str] = []
    failed: list[str] = []

    def check(cond: bool, good: str, bad: str) -> None:
        (passed if cond else failed).append(good if cond else bad)

    if value is None:
        return IntentVerdict("failed", ("✗ the code returned no answer",), "the code returned no answer")
    # "for each"/"per" group; "by <column>" may ("fare by embarked") or may not ("paid by smokers"):
    # then the answer's own shape decides which checks apply.
    masked = _masked(question or "", columns_named(question or "", [str(c) for c in frame.columns]))
    by_col = re.search(r"\bby (each |every )?col\b", masked)
    passive = re.search(r"\b(were|was|is|are|been|being|got|get)\s+\w+\s+by col\b", masked)
    # "per region" groups; "per order" (no column: the table's own rows) only if the answer has groups.
    per = re.search(r"\b(per|for each|each|for every|across|in each) (\w+)", masked)
    grouped = bool(per and (per.group(2) == "col" or (_size(value) or 0) >= 2)) or bool(
        by_col and (not passive or (_size(value) or 0) >= 2)
    )
    k = _top_k(q)
    decimals = _decimals(q)
    yes_no = re.match(
        r"(is|are|does|do|did|was|were|has|have|can|could|should|will|would)\b", q
    ) and not re.search(r"\bor\b", q)
    if k is not None:
        n = _size(value)
        check(
            n == k,
            f"{k} items as asked",
            f"{n if n is not None else 'one value'} items, the question asks for {k}",
        )
    elif yes_no:
        ok = isinstance(v, (bool, np.bool_)) or (
            isinstance(v, str) and _norm(v) in ("yes", "no", "true", "false")
        )
        check(ok, "a yes/no answer", f"the question wants yes or no, the answer is {type(v).__name__}")
    elif re.search(r"\b(which|what) (column|feature|variable|field)\b", q):
        check(
            isinstance(v, str) and v in map(str, frame.columns),
            "one of the table's columns",
            f"{str(v)[:40]!r} is not a column of the table",
        )
    elif grouped and not re.search(r"\bhow many (rows|records)\b", q):
        n = _size(value)
        check(
            n is not None and n >= 2,
            f"one value per group ({n} groups)",
            "one value, the question asks per group",
        )
        ref = _group_reference(question or "", frame)
        if ref is not None and isinstance(value, (pd.Series, dict)):
            got = pd.Series(value) if isinstance(value, dict) else value
            text, want = ref
            same = len(got) == len(want) and all(
                str(k) in {str(g) for g in got.index}
                and np.isclose(float(got[[g for g in got.index if str(g) == str(k)][0]]), w, rtol=1e-4)
                for k, w in want.items()
            )
            check(same, f"{text}: the values match", f"{text}: the values differ")
    elif re.search(r"\bhow many\b", q) or (
        re.search(r"\b(number of|count)\b", q)
        and not re.search(r"\b(average|mean|median|sum|total|max|min|maximum|minimum)\b", q)
    ):
        whole = (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
        check(whole, "a whole-number count", f"a count must be a whole number, the answer is {str(v)[:40]!r}")
        if whole:
            # "how many more … than …" is a difference of two counts: below zero when fewer
            low = -max(frame.size, len(frame)) if re.search(r"\bhow many (more|fewer|less)\b", q) else 0
            check(
                low <= v <= max(frame.size, len(frame)),
                "the count is within the table's size",
                f"{v} is more than the table holds",
            )
            mentions = _value_mentions(question, frame)
            if mentions and int(v) == len(frame) and all(n < len(frame) for _, _, n in mentions):
                c, val, n = mentions[0]
                failed.append(
                    f"the answer is the whole table's row count ({len(frame)}); "
                    f"only {n} rows have {c} = {val!r}"
                )
            elif (
                len(mentions) == 1
                and not re.search(r"\b(not|and|or|than|between|without|except|\d+)\b", q)
                and not re.search(r"\b(different|distinct|unique)\b", q)  # a count of values, not rows
                # another value said in a form this check's matcher misses ("female chinstraps",
                # "night shift batches failed QC"): the count is of fewer rows than the one value's
                and len(find_values(question or "", frame, set())) <= 1
            ):
                c, val, n = mentions[0]
                check(
                    int(v) == n,
                    f"{n} rows have {c} = {val!r}",
                    f"{n} rows have {c} = {val!r}, the answer is {v}",
                )
    elif (period := period_asked(question or "", frame)) is not None:
        # "which month …": a month of the table's dates ("November" or 11), not a value of a column
        shown = str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
        check(
            not isinstance(v, bool) and shown.casefold() in period_labels(frame, period),
            f"{str(v)[:40]!r} is a {period} of the table's dates",
            f"{str(v)[:40]!r} is not a {period} of the table's dates",
        )
    elif re.search(r"\b(which|what|who)\b", q) and re.search(
        r"\b(most|least|highest|lowest|largest|smallest|biggest|best|worst|top|common|frequent|popular)\b", q
    ):
        # "which travel mode ...": when the question names one text column, the answer is one of its values.
        asked = [
            c
            for c in columns_named(question or "", [str(c) for c in frame.columns])
            if not pd.api.types.is_numeric_dtype(frame[c])
        ]
        where = frame[[asked[0]]] if len(asked) == 1 else frame
        ok = isinstance(v, (str, int, float)) and not isinstance(v, bool) and _in_table(v, where)
        check(
            ok,
            f"{str(v)[:40]!r} is one of the values of {asked[0] if len(asked) == 1 else 'the table'}",
            f"{str(v)[:40]!r} is not a value of {asked[0] if len(asked) == 1 else 'the table'}",
        )
    if re.search(r"percent|percentage|%", q) and not grouped and k is None:
        check(
            _is_number(v) and 0 <= v <= 100,
            "a percentage on the 0..100 scale",
            f"a percentage must be a number in 0..100, the answer is {str(v)[:40]!r}",
        )
        if _is_number(v) and 0 < v < 1:
            failed.append(f"{v} looks like a fraction, the question asks for a percent (0..100)")
    elif re.search(r"\b(share|proportion|fraction)\b", q) and not grouped and k is None:
        check(
            _is_number(v) and 0 <= v <= 1, "a share on the 0..1 scale", f"a share must be in 0..1, not {v!r}"
        )
    if re.search(r"\bcorrelation\b", q) and not grouped and k is None:
        check(
            _is_number(v) and -1 <= v <= 1,
            "a correlation in -1..1",
            f"a correlation must be in -1..1, not {v!r}",
        )
        pair = [
            c
            for c in columns_named(question or "", [str(c) for c in frame.columns])
            if pd.api.types.is_numeric_dtype(frame[c])
        ]
        if (
            len(pair) == 2
            and _is_number(v)
            and not _CONDITION.search(
                re.sub(r"\b(between|and|of|with)\b", " ", _masked(question or "", pair))
            )
        ):
            want = float(frame[pair[0]].corr(frame[pair[1]]))
            # a correlation is often given to two decimals: that is the same answer
            check(
                abs(v - want) <= 0.005 + 1e-9,
                f"the correlation of {pair[0]} and {pair[1]} is {want:.4f}: it matches",
                f"the correlation of {pair[0]} and {pair[1]} is {want:.4f}; the answer is {v:g}",
            )
    if decimals is not None and k is None and not grouped:
        ok = _is_number(v) and abs(round(v, decimals) - v) < 1e-9
        check(ok, f"rounded to {decimals} decimals", f"{str(v)[:40]!r} is not rounded to {decimals} decimals")
    # "is the average tip larger than 3": a yes/no about an aggregate, not the aggregate itself
    ref = _reference(question or "", frame) if k is None and not grouped and not yes_no else None
    if ref is not None:
        text, want = ref
        if not _is_number(v):
            failed.append(f"{text}; the answer is not a number")
        else:
            tol = 0.5 * 10**-decimals + 1e-9 if decimals is not None else 1e-6 * max(1.0, abs(want))
            pct = re.search(r"percent|%", q) is not None
            check(
                abs(v - want) <= tol or (pct and abs(v - 100 * want) <= tol),
                f"{text}: the answer matches",
                f"{text}; the answer is {v:g}",
            )
    elif re.search(r"\b(average|mean|median|sum|total|maximum|minimum|std|standard deviation)\b", q) and not (
        grouped or k is not None or passed or failed or re.search(r"\b(which|who|when|whose)\b", q)
    ):  # "on which date was the maximum": a label, not the aggregate
        check(
            _is_number(v),
            "a single number",
            f"the question asks for one number, the answer is {type(v).__name__}",
        )
    checks = tuple([f"✓ {c}" for c in passed] + [f"✗ {c}" for c in failed])
    if failed:
        return IntentVerdict("failed", checks, "; ".join(failed))
    if not passed:
        return IntentVerdict(
            "unchecked", checks, "not verified against your question: no check derivable from it"
        )
    return IntentVerdict("verified", checks, None)
