"""The words of a question, matched to a table: its columns, its values, its conditions.

Matching is by word stems, blind to case, underscores and camelCase ("life expectancy" names
`lifeExp`, "cylinders" names `Cylinders`, "bills" names `total_bill` when no other column has
that word, "copper price" names `COPPERPRICE`); short codes ("HR", "B2") match in their own case.
Used by the question recipes (`core.engine.ask_plan`) and the answer checks.
"""

# One reading per line (the pattern, the code it writes, how it is said) reads best unwrapped.
# ruff: noqa: E501
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from core.detect import id_name
from core.detect import identifier as key_finding

# Numbers (a minus sign only where it cannot be a hyphen), comparison signs, words.
_TOKEN = re.compile(r"(?:(?<![\w.])-)?\d+(?:\.\d+)?|[<>]=?|==?|%|[A-Za-z]+|\d+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "zero": 0, "no": 0}  # fmt: skip
_NUMBER = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|zero|no)"
# The small words of a sentence: never the first word of a run-together column name.
_SMALL = set("the and for per with from not are was were what which who how all any".split())
# Words that never name a column or a value on their own (a column "total_bill" is not named by
# "total", a value "Other" not by "other").
COMMON = set(
    "a an the of in on at to for by per with from and or not is are was were be been has have had do does did "
    "what which who whom whose how many much number count total sum average mean median max min maximum minimum "
    "highest lowest largest smallest most least top value values row rows record records table data dataset "
    "there their than more less between each every all any some only over under above below same other none "
    "yes no true false unknown missing na nan null per cent percent percentage share rate level type name "
    "first last day days time year years date amount size group".split()
)


def stem(word: str) -> str:
    w = word.lower()
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss") and not NUMBER.match(w):
        return w[:-1]
    return w


# Words a question may hold that a reading does not need to explain (the question's own words).
FILLER = COMMON | {
    stem(w)
    for w in (
        "there please give answer round rounded decimal decimals place places whole integer nearest tell "
        "show list get find compute calculate it its me i we you our this that these those as so will would "
        "should can could often common frequent frequently popular usual appear appears occur occurs distinct "
        "unique different correlation correlated strongly pearson r percentage proportion fraction ratio larger "
        "greater higher bigger smaller lower fewer than above below under over least most equal equals "
        "deviation standard middle add up where whose when while overall entire full dataset whole exactly "
        "about approximately roughly std avg mode median earliest latest oldest youngest longest shortest "
        "biggest greatest heaviest lightest best worst bottom exceeding exceeds at or more less no to has have "
        "fewest "
        "had got get gets < > <= >= = == s one two three four five six seven eight nine ten cell cells "
        "empty blank null nan yyyy mm dd format date "
        # verbs that only tie rows to a value they name ("customers who live in Paris")
        "live located based come born work belong made built registered listed recorded "
        "still yet currently ever so far i e ie eg calendar combined together altogether anyone just % dp "
        # the first half of a negated verb ("don't" = "don" "t"): the "t" carries the negation
        "don doesn didn isn aren wasn weren hasn haven hadn"
    ).split()
}


def words_as_written(text: str) -> list[str]:
    """The words of `text` as `tokens` splits them, in their own case and unstemmed. A number's
    thousands separators go first: "32,000" is one number, not 32 and 0."""
    text = _THOUSANDS.sub("", str(text))
    return [p for t in _TOKEN.findall(text) for p in _CAMEL.split(t) if p]


def tokens(text: str, keep_numbers: bool = True) -> list[str]:
    out = [p.lower() for p in words_as_written(text)]
    return [t for t in out if keep_numbers or not NUMBER.match(t)]


class _HasWords(Protocol):
    words: list[str]

    def has(self, *stems: str) -> bool: ...


@dataclass(frozen=True)
class Agg:
    name: str
    method: str
    stems: tuple[str, ...]

    def matches(self, r: _HasWords) -> bool:
        return r.has(*self.stems)

    def stems_in(self, words: list[str]) -> bool:
        return any(stem(w) in self.stems for w in words)


AGGS = [
    Agg("median", "median", ("median", "middle")),
    Agg("standard deviation", "std", ("deviation", "std", "stdev")),
    Agg("mean", "mean", ("average", "mean", "avg", "averaged")),
    Agg("sum", "sum", ("total", "sum", "add")),
    Agg(
        "maximum",
        "max",
        ("highest", "maximum", "max", "largest", "biggest", "greatest", "longest", "oldest", "latest", "heaviest"),
    ),
    Agg(
        "minimum",
        "min",
        ("lowest", "minimum", "min", "smallest", "shortest", "youngest", "earliest", "first", "lightest"),
    ),
]


@dataclass(frozen=True)
class Span:
    name: str
    start: int
    end: int
    # Named by one distinctive word of a longer name ("bills" -> total_bill), which may also be
    # the rows' own noun ("the percentage of the bills"): a weaker reading than the whole name.
    partial: bool = False


def _col_tokens(name: str) -> list[str]:
    return [stem(t) for t in tokens(name) if t]


def find_spans(question: str, columns: Iterable[str]) -> list[Span]:
    """Columns the question names, as token spans (longest names first, a token used once)."""
    qt = [stem(t) for t in tokens(question)]
    taken = [False] * len(qt)
    spans: list[Span] = []
    cols = sorted({str(c) for c in columns}, key=lambda c: -len(_col_tokens(c)))

    def free(i: int, n: int) -> bool:
        return not any(taken[i : i + n])

    def take(name: str, i: int, n: int, partial: bool = False) -> None:
        taken[i : i + n] = [True] * n
        spans.append(Span(name, i, i + n, partial))

    for c in cols:  # whole names, word for word (a short word may be a prefix: "exp" of "expectancy")
        ct = _col_tokens(c)
        n = len(ct)
        for i in range(len(qt) - n + 1):
            if free(i, n) and all(
                q == t or (n > 1 and len(t) >= 3 and q.startswith(t) and any(a == b for a, b in zip(qt[i:i + n], ct, strict=True)))
                for q, t in zip(qt[i : i + n], ct, strict=True)
            ):  # fmt: skip
                take(c, i, n)
                break
    for c in cols:  # a run-together name in words: "copper price" -> COPPERPRICE, "alum price" too
        ct = _col_tokens(c)
        if any(s.name == c for s in spans) or len(ct) != 1 or len(ct[0]) < 6:
            continue
        for i in range(len(qt)):
            n = _spelled_out(ct[0], qt, i, taken)
            if n:
                take(c, i, n)
                break
    for c in cols:  # one distinctive word of a longer name ("bills" -> total_bill)
        if any(s.name == c for s in spans):
            continue
        for t in _col_tokens(c):
            if len(t) < 3 or t in COMMON:  # "tip" names tip_usd
                continue
            owners = [o for o in cols if t in _col_tokens(o)]
            hits = [i for i, q in enumerate(qt) if q == t and not taken[i]]
            if len(owners) == 1 and hits:
                take(c, hits[0], 1, partial=True)
                break
    for c in cols:  # a shortened name: `educ` for "education", `temp` for "temperature"
        ct = _col_tokens(c)
        if any(s.name == c for s in spans) or len(ct) != 1 or len(ct[0]) < 4 or ct[0] in COMMON:
            continue
        hits = [i for i, q in enumerate(qt) if not taken[i] and len(q) > len(ct[0]) and q.startswith(ct[0])]
        owners = [o for o in cols if len(_col_tokens(o)) == 1 and hits and qt[hits[0]].startswith(_col_tokens(o)[0])]
        if hits and owners == [c]:
            take(c, hits[0], 1)
    spans.sort(key=lambda s: s.start)

    # "capital values": a column called `value` is not named by the word after another column.
    def generic(s: Span) -> bool:  # "capital values", "values of capital": the word, not the column
        return (
            s.end - s.start == 1
            and qt[s.start] == "value"
            and any(o is not s and (0 <= s.start - o.end <= 1 or 0 <= o.start - s.end <= 1) for o in spans)
        )

    return [s for s in spans if not generic(s)]


def _spelled_out(name: str, qt: list[str], i: int, taken: list[bool]) -> int:
    """How many question words from `i` spell out the run-together column name `name` (0: they
    do not). Two or more free words, in order, using up the name, each whole (a stem may get its
    "s" back) or cut to its first four letters or more ("world consumption" = worldconsumption,
    "total sales" = totalsales, "aluminium price" = alumprice); the first word is no small word
    of the sentence ("the price" is no `theprice`)."""

    def spell(rest: str, n: int) -> int:
        if not rest:
            return n if n >= 2 else 0
        j = i + n
        if j >= len(qt) or taken[j]:
            return 0
        w = qt[j]
        cuts = [w + "s", w] + [w[:k] for k in range(len(w) - 1, 3, -1)]
        return next((m for c in cuts if rest.startswith(c) and (m := spell(rest[len(c) :], n + 1))), 0)

    if i >= len(qt) or len(qt[i]) < 3 or qt[i] in _SMALL:
        return 0
    return spell(name, 0)


def identifier(s: pd.Series, name: str) -> bool:
    """A column of row identifiers: unique values, text or named as a key ("order_id", "EmpNo";
    the profile's own test of a key's name, `core.detect.id_name`)."""
    if (id_name(name) or s.dtype == object) and bool(s.is_unique):
        return True
    # a running number ("respondent" = 1..600): the profile's detector says so (asked only of an
    # increasing integer column, the cheap sign of one: this runs for every column of every question)
    if pd.api.types.is_integer_dtype(s) and s.is_monotonic_increasing:
        found = key_finding(s, name)
        return found is not None and found.rule == "running_number"
    return False


def column_spans(question: str, frame: pd.DataFrame) -> list[Span]:
    """`find_spans` over the table, less the rows' own noun: "employees" names `employee_id` by one
    word and "students" is `student` in the plural, but an identifier column is never named that
    way (a question that wants it says "which employee")."""
    raw = [t.casefold() for t in words_as_written(question)]
    qt = [stem(t) for t in raw]

    def aggregate_word(s: Span) -> bool:
        """A column named by one word a question also uses as an aggregate ("Total", "Count"),
        followed by a noun nothing names: "the highest total sales" is a total of sales."""
        name = _col_tokens(s.name)
        nxt = qt[s.end] if s.end < len(qt) else ""
        return (
            len(name) == 1 and name[0] in ("total", "sum", "count", "average", "mean", "amount")
            and bool(nxt) and nxt not in COMMON and nxt not in FILLER and not NUMBER.match(nxt)
        )  # fmt: skip

    return [
        s for s in find_spans(question, [str(c) for c in frame.columns])
        if not (
            identifier(frame[s.name], s.name)
            and (s.partial or " ".join(raw[s.start : s.end]) == " ".join(tokens(s.name)) + "s")
        )
        and not aggregate_word(s)
    ]  # fmt: skip


def find_columns(question: str, columns: Iterable[str]) -> list[str]:
    return [s.name for s in find_spans(question, columns)]


def value_forms(last: str) -> set[str]:
    """Other forms of a value's last word that still say the value: a plural the stem does not
    undo ("adelies" of "Adelie") and, for words of 4+ letters, a past ("failed", "approved",
    "cancelled" of "Fail", "approve", "cancel")."""
    past = {last + "ed", last + "d", last + last[-1] + "ed"} if len(last) >= 4 and last.isalpha() else set()
    return {last + "s"} | past


def _numbered_value(
    qt: list[str], spans: list[Span], col: str, distinct: Any, taken: list[bool]
) -> tuple[tuple[int, int], Any] | None:
    """A text column's value named by the column's word and a number ("line 3" for `Line` =
    "L3", "store 12" for "Store #12"): the one value whose only number is that number."""
    for sp in spans:
        if sp.name != col or sp.end >= len(qt) or taken[sp.end] or not re.fullmatch(r"\d+", qt[sp.end]):
            continue
        n = int(qt[sp.end])
        hits = [v for v in distinct if isinstance(v, str) and [int(d) for d in re.findall(r"\d+", v)] == [n]]
        if len(hits) == 1:
            return (sp.end, 1), hits[0]
    return None


def _leading_words(
    qt: list[str], raw: list[str], frame: pd.DataFrame, exclude: set[str], taken: list[bool]
) -> dict[tuple[int, int], list[tuple[str, Any]]]:
    """A name said by its own first word(s), capitalised as a name ("NorthStar" for "NorthStar
    Cargo", "Coastal" for "Coastal Express"): only words that begin no other value of the table,
    are no column's word and are not the question's first word (capitalised anyway), at words
    where no value is said in full (`taken`)."""
    starts: dict[tuple[str, ...], list[tuple[str, Any]]] = {}
    col_words = {stem(t) for c in frame.columns for t in tokens(str(c))}
    for c in frame.columns:
        s = frame[c]
        if c in exclude or s.dtype != object:
            continue
        distinct = s.dropna().unique()
        if len(distinct) > 200:
            continue
        for v in distinct:
            vt = [stem(t) for t in tokens(str(v))]
            for k in range(1, len(vt)):
                starts.setdefault(tuple(vt[:k]), []).append((str(c), v))
    found: dict[tuple[int, int], list[tuple[str, Any]]] = {}
    used = list(taken)
    for i in range(len(qt)):
        for k in (2, 1):  # the longer start first ("North Star" before "North")
            words = qt[i : i + k]
            hits = starts.get(tuple(words), [])
            if (
                len(hits) == 1 and len(words) == k and not any(used[i : i + k])
                and i > 0 and raw[i][:1].isupper() and len("".join(words)) >= 5
                and not set(words) & (COMMON | col_words)
            ):  # fmt: skip
                found[(i, k)] = hits
                used[i : i + k] = [True] * k
    return found


def find_values(question: str, frame: pd.DataFrame, exclude: set[str]) -> list[tuple[str, Any]]:
    """(column, value) for each category value of the table the question names (one column each)."""
    low = tokens(question)
    qt = [stem(t) for t in low]
    # The question's words as written: a short code ("HR", "NY") is a value only in its own case.
    raw = words_as_written(question)
    taken = [False] * len(qt)
    spans = column_spans(question, frame)
    for s in spans:
        taken[s.start : s.end] = [True] * (s.end - s.start)
    found: dict[tuple[int, int], list[tuple[str, Any]]] = {}
    for c in frame.columns:
        s = frame[c]
        if c in exclude or pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        distinct = s.dropna().unique()
        if len(distinct) > 200:
            continue
        coded = _numbered_value(qt, spans, str(c), distinct, taken)
        if coded is not None:  # "line 3" for `Line` = "L3"
            found.setdefault(coded[0], []).append((str(c), coded[1]))
            continue
        for v in distinct:
            vt = [stem(t) for t in tokens(str(v))]
            if isinstance(v, str) and len(v) == 1 and v.isalpha() and v.isupper():
                # "grade A", "an A grade": a letter code as written, next to its column's name
                beside = {i for sp in spans if sp.name == str(c) for i in (sp.start - 1, sp.end)}
                hits = [i for i in beside if 0 <= i < len(raw) and raw[i] == v and not taken[i]]
                if hits:
                    found.setdefault((hits[0], 1), []).append((str(c), v))
                continue
            code = isinstance(v, str) and len(v) >= 2 and v.isupper() and v.isalnum()  # "HR", "B2"
            if code and len(v) < 3:  # as written, case and all ("HR", "B2" = "B" "2")
                n = len(vt)
                hits = [i for i in range(len(qt) - n + 1) if raw[i : i + n] == list(words_as_written(v))
                        and not any(taken[i : i + n])]  # fmt: skip
                if hits:
                    found.setdefault((hits[0], n), []).append((str(c), v))
                continue
            if not vt or (len(vt) == 1 and (len(vt[0]) < 3 or vt[0] in COMMON)):
                continue
            n = len(vt)
            # a plural the stem does not undo ("Adelies" of "Adelie": stem gives "adely"), or the
            # value said as what happened ("failed QC" for "Fail", "passed", "approved")
            forms = value_forms(tokens(str(v))[-1])
            for i in range(len(qt) - n + 1):
                same = qt[i : i + n] == vt or (qt[i : i + n - 1] == vt[:-1] and low[i + n - 1] in forms)
                same = same or (n >= 2 and sorted(qt[i : i + n]) == sorted(vt))  # "Reno DC" of "DC-Reno"
                if same and not any(taken[i : i + n]):
                    found.setdefault((i, n), []).append((str(c), v))
                    break
    said = list(taken)
    for i, n in found:
        said[i : i + n] = [True] * n
    for at, hits in _leading_words(qt, raw, frame, exclude, said).items():
        found.setdefault(at, hits)
    out = []
    for (_i, _n), hits in sorted(found.items()):
        if len({c for c, _ in hits}) == 1:  # a value in two columns is ambiguous: no filter
            out.append(hits[0])
    return out


_GT = r"(?:more|greater|larger|higher|bigger|older|longer|heavier|above|over|exceeding|exceeds|>)"
_LT = r"(?:less|fewer|smaller|lower|younger|shorter|lighter|below|under|<)"
_N = r"(-?\d+(?:\.\d+)?)"


def _holds_only_0_1(s: pd.Series) -> bool:
    """Any number column holding nothing but 0 and 1 (1.0 too, gaps aside): a flag, not a quantity
    (`ask_plan._zero_one` asks more: integers with both values, for what it counts)."""
    values = s.dropna().unique()
    return len(values) <= 2 and set(values.tolist()) <= {0, 1}


def _can_hold(s: pd.Series, m: re.Match[str], op: str) -> bool:
    """A 0/1 column is compared only with 0 or 1: "survived younger than 18" is no condition on
    `survived` (it would keep every row)."""
    return not _holds_only_0_1(s) or all(_number(g) in (0, 1) for g in m.groups() if g is not None)


# Units a column's name may end in and a question may ask for, by kind: (kind, unit) for each
# spelling. Short question words that are also ordinary words ("in", "m", "s", "c") are left out.
_UNITS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("g", "gram", "grams", "gr"), ("mass", "g")),
    **dict.fromkeys(("kg", "kgs", "kilogram", "kilograms", "kilo", "kilos"), ("mass", "kg")),
    **dict.fromkeys(("lb", "lbs", "pound", "pounds"), ("mass", "lb")),
    **dict.fromkeys(("oz", "ounce", "ounces"), ("mass", "oz")),
    **dict.fromkeys(("mm", "millimeter", "millimeters", "millimetre", "millimetres"), ("length", "mm")),
    **dict.fromkeys(("cm", "centimeter", "centimeters", "centimetre", "centimetres"), ("length", "cm")),
    **dict.fromkeys(("meter", "meters", "metre", "metres"), ("length", "m")),
    **dict.fromkeys(("km", "kms", "kilometer", "kilometers", "kilometre", "kilometres"), ("length", "km")),
    **dict.fromkeys(("mi", "mile", "miles"), ("length", "mi")),
    **dict.fromkeys(("ft", "feet", "foot"), ("length", "ft")),
    **dict.fromkeys(("sec", "secs", "second", "seconds"), ("time", "s")),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), ("time", "min")),
    **dict.fromkeys(("hr", "hrs", "hour", "hours"), ("time", "h")),
    **dict.fromkeys(("celsius",), ("temperature", "c")),
    **dict.fromkeys(("fahrenheit",), ("temperature", "f")),
}
# Units of amount a question may put between a number and the column it is about.
_COUNT_UNITS = {"kb", "mb", "gb", "tb", "year", "years", "month", "months", "week", "weeks", "day", "days",
                "hour", "hours", "dollar", "dollars", "usd", "eur", "euro", "euros", "percent", "pct"}  # fmt: skip
# What a column's name may end in besides the question's spellings ("_s", "(C)", "_m").
_NAME_UNITS = {**_UNITS, "s": ("time", "s"), "m": ("length", "m"), "c": ("temperature", "c"), "f": ("temperature", "f"), "h": ("time", "h")}


def unit_word(w: str) -> bool:
    """A unit a number may carry ("8 KB", "5 years", "10 km")."""
    return w in _UNITS or w in _COUNT_UNITS


def unit_conflict(question: str, columns: Iterable[str]) -> str | None:
    """The unit a question asks for that a named column is not in ("body mass in kilograms" of
    `body_mass_g`): a reading of that column would give the number in the wrong unit. None when
    no column names its unit or the question asks for none of the same kind."""
    asked = {_UNITS[w] for w in tokens(question) if w in _UNITS}
    if not asked:
        return None
    for c in columns:
        ct = tokens(str(c))
        unit = _NAME_UNITS.get(ct[-1]) if len(ct) > 1 else None
        if unit is None:
            continue
        other = [u for kind, u in asked if kind == unit[0] and u != unit[1]]
        if other and (unit[0], unit[1]) not in asked:
            return f"the question asks for {other[0]}, {c!r} is in {unit[1]}"
    return None


def cond_ops(question: str, frame: pd.DataFrame, named: list[str]) -> list[tuple[str, str, Any]]:
    """Numeric conditions: "older than 60", "at least 3 children", "8 cylinders", "in 2007"."""
    q = " " + " ".join(tokens(question)) + " "
    spans = column_spans(question, frame)
    qt = tokens(question)
    nums = [  # a yes/no column is no quantity ("without a scholarship scored above 90")
        s for s in spans
        if pd.api.types.is_numeric_dtype(frame[s.name]) and not pd.api.types.is_bool_dtype(frame[s.name])
    ]  # fmt: skip
    out: list[tuple[str, str, Any]] = []

    def near(pos: int, end: int) -> str | None:
        """The numeric column a comparison at words pos..end is about: one named right after it
        ("4 or more bedrooms") or its unit ("longer than 10 km" for `distance_km`), else the
        nearest before it ("sale price of houses with 4"), else one shortly after."""
        # "more than 8 KB of cache", "over 5 years of service": a unit and "of" before the name
        j = end
        while j < min(len(qt), end + 2) and (unit_word(qt[j]) or qt[j] == "of"):
            j += 1
        right = [s for s in nums if end <= s.start <= end + 1 or (j > end and s.start == j)]
        if right:
            return right[0].name
        if end < len(qt):
            units = [s for s in all_nums if qt[end] in _col_tokens(s)]
            if len(units) == 1:
                return units[0]
        # not past another column's name: in "by average ERP, only counting vendors with at least
        # 5 machines" the 5 is about the vendors, not ERP
        before = [
            s for s in nums
            if s.end <= pos and pos - s.end <= 4 and not {stem(w) for w in qt[s.end : pos]} & other_words
        ]  # fmt: skip
        after = [s for s in nums if s.start > pos and s.start - pos <= 3]
        if before:
            return before[-1].name
        if after:
            return after[0].name
        return None

    all_nums = [
        str(c) for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]  # fmt: skip
    # the words of the other columns' names (a text column named between a number column and a
    # comparison takes the comparison away from it)
    other_words = {t for c in map(str, frame.columns) if c not in all_nums for t in _col_tokens(c) if len(t) >= 3} - COMMON

    # the table's measures: numeric columns that are neither keys nor years
    measures = [c for c in all_nums if not identifier(frame[c], c) and "year" not in _col_tokens(c)]

    def index_of(m: re.Match[str]) -> int:
        return len(q[: m.start()].split())

    for pattern, op in (
        (rf" between {_N} and {_N} ", "between"),
        (rf" (?:at least|no less than|at or above|at or over|>=) {_N} ", ">="),
        (rf" (?:at most|no more than|at or below|at or under|<=) {_N} ", "<="),
        (rf" {_N} or (?:more|greater|above|higher) ", ">="),
        (rf" {_N} or (?:less|fewer|below|lower) ", "<="),
        (rf" {_GT} (?:than )?{_N} ", ">"),
        (rf" {_LT} (?:than )?{_N} ", "<"),
    ):
        for m in re.finditer(pattern, q):
            pos = index_of(m)
            # "younger than 18" is about the age column, even when another is named beside it
            # ("male passengers younger than 18 survived": not `survived` < 18)
            aged = re.search(r"older|younger", m.group(0)) is not None
            col = next((str(c) for c in frame.columns if "age" in _col_tokens(str(c))), None) if aged else None
            col = col or near(pos, pos + len(m.group(0).split()))
            if col is not None and not _can_hold(frame[col], m, op):
                col = None
            if col is None and len(measures) == 1:  # "readings at or above 370": the one measure
                col = measures[0]
            if col is not None and not any(c == col for c, _, _ in out):
                value = (_number(m.group(1)), _number(m.group(2))) if op == "between" else _number(m.group(1))
                out.append((col, op, value))
        # read once; the same number of words stays, so later positions still count right
        q = re.sub(pattern, lambda m: " " + " ".join("_" * len(m.group(0).split())) + " ", q)
    # "8 cylinders", "with 3 children": a number right before a numeric column's name, unless a
    # comparison read it ("younger than 18 survived"), or one a 0/1 column cannot hold
    used = {i for i, w in enumerate(q.split()) if set(w) == {"_"}}
    for s in nums:
        ranked = s.start > 1 and qt[s.start - 2] in ("top", "first", "last", "bottom")  # "top 5 yield"
        if (
            s.start > 0 and NUMBER.match(qt[s.start - 1]) and not ranked and s.start - 1 not in used
            and not any(c == s.name for c, _, _ in out)
            and (not _holds_only_0_1(frame[s.name]) or _number(qt[s.start - 1]) in (0, 1))
        ):  # fmt: skip
            out.append((s.name, "==", _number(qt[s.start - 1])))
        else:  # "idp of 1", "idp is 1", "idp equal to 1", "idp = 1"
            j = s.end
            while j < min(len(qt), s.end + 3) and qt[j] in ("of", "is", "equal", "equals", "to", "=", "=="):
                j += 1
            # "grade 12": a number straight after an integer column's name, when the column has it
            held = (
                j == s.end < len(qt) and NUMBER.match(qt[j]) is not None
                and pd.api.types.is_integer_dtype(frame[s.name]) and bool((frame[s.name] == _number(qt[j])).any())
            )  # fmt: skip
            if (
                (s.end < j or held)
                and j < len(qt)
                and NUMBER.match(qt[j])
                and not any(c == s.name for c, _, _ in out)
            ):
                out.append((s.name, "==", _number(qt[j])))
    # "in 2007": a year that one numeric column (a year column) holds
    for m in re.finditer(r" (?:in|from|during|of) (1[89]\d\d|20\d\d) ", q):
        year = int(m.group(1))
        holders = [
            str(c) for c in frame.columns
            if pd.api.types.is_integer_dtype(frame[c]) and bool((frame[c] == year).any())
            and "year" in " ".join(_col_tokens(str(c))) or str(c).lower() in ("yr", "year")
        ]  # fmt: skip
        holders = [c for c in holders if c in frame.columns and bool((frame[c] == year).any())]
        if len(holders) == 1 and not any(c == holders[0] for c, _, _ in out):
            out.append((holders[0], "==", year))
        elif not holders:
            dates = [c for c in map(str, frame.columns) if is_dates(frame[c])]
            named_dates = [c for c in dates if c in named]
            pick = named_dates or event_date(frame, dates)
            if len(pick) == 1:
                out.append((pick[0], "year", year))
    return out


# "which month …": a part of a date column, as the pandas code a plan writes and as the function
# that checks an answer, said back to the user as it is ("November", "Monday", 2024, "2024-03-05").
PERIODS: dict[str, tuple[str, Callable[[pd.Series], pd.Series]]] = {
    "month": (".dt.month_name()", lambda d: d.dt.month_name()),
    "year": (".dt.year", lambda d: d.dt.year),
    "weekday": (".dt.day_name()", lambda d: d.dt.day_name()),
    "day of the week": (".dt.day_name()", lambda d: d.dt.day_name()),
    "day of week": (".dt.day_name()", lambda d: d.dt.day_name()),
    "quarter": (".dt.quarter", lambda d: d.dt.quarter),
    "hour": (".dt.hour", lambda d: d.dt.hour),
    "day": (".dt.date.astype(str)", lambda d: d.dt.date.astype(str)),
    "date": (".dt.date.astype(str)", lambda d: d.dt.date.astype(str)),
}
_PERIOD_WORDS = "|".join(sorted(PERIODS, key=len, reverse=True))
# "which month …", "what calendar month …", "the day with the biggest total …"
PERIOD_ASKED = (
    rf" (?:(?:which|what) (?:calendar |single |particular )?({_PERIOD_WORDS})"
    rf"|the ({_PERIOD_WORDS}) (?:with|that had|that has|which had|which has) the) "
)


def period_asked(question: str, frame: pd.DataFrame) -> str | None:
    """The period a question asks for ("in which month …") when the table has dates and no column
    of that name (a `year` column answers "which year" the usual way); else None."""
    m = re.search(PERIOD_ASKED, " " + " ".join(tokens(question)) + " ")
    period = (m.group(1) or m.group(2)) if m else None
    if period is None or any(period in tokens(str(c)) for c in frame.columns):
        return None
    return period if any(is_dates(frame[c]) for c in frame.columns) else None


def period_labels(frame: pd.DataFrame, period: str) -> set[str]:
    """Every label `period` takes over the table's date columns, as text, casefolded ("november",
    "11" for a month), so an answer can be checked to be one of them."""
    out: set[str] = set()
    for c in frame.columns:
        if not is_dates(frame[c]):
            continue
        # each distinct value parsed once: a long table repeats its dates
        d = pd.to_datetime(pd.Series(frame[c].dropna().unique()), errors="coerce", format="mixed").dropna()
        out |= {str(v).casefold() for v in PERIODS[period][1](d).unique()}
        if period == "month":
            out |= {str(v) for v in d.dt.month.unique()}
    return out


def is_dates(s: pd.Series) -> bool:
    """A datetime column, or text that reads as dates (checked on its first values)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return True
    if pd.api.types.is_numeric_dtype(s):
        return False
    # the first values that are there (a column of a million texts is not scanned for gaps)
    head = s.iloc[:5000].dropna().head(50)
    if head.empty:
        head = s.dropna().head(50)
    if head.empty:
        return False
    head = head.astype(str)
    if not head.str.contains(r"\d{4}|\d{1,2}[/-]\d{1,2}", regex=True).all():
        return False
    return bool(pd.to_datetime(head, errors="coerce", format="mixed").notna().mean() > 0.9)


def _number(text: str) -> int | float:
    v = float(text)
    return int(v) if v.is_integer() else v


def decimals_asked(q: str) -> int | None:
    """The decimals a question asks its answer rounded to ("2 decimal places", "a whole number")."""
    q = " " + q.lower() + " "
    m = (
        re.search(rf"{_NUMBER} (?:decimal|dp\b|d\.p\.)", q)
        or re.search(rf"round(?:ed)? to {_NUMBER}\b", q)
    )
    if m:
        w = m.group(1)
        return int(w) if w.isdigit() else _WORDS[w]
    if re.search(r"nearest (?:whole|integer|dollar|euro|pound|yen|unit|percent|year|day)|whole number|round(?:ed)? to an integer", q):
        return 0
    if re.search(r"nearest cent", q):
        return 2
    return None


def top_k_asked(q: str) -> int | None:
    """The k of "top 3", "the 5 largest", "the 3 days with the most bills"."""
    q = " " + q.lower() + " "
    m = (
        re.search(rf"\b(?:top|first|last|bottom) {_NUMBER}\b", q)
        or re.search(
            rf"\b{_NUMBER} (?:most|least|largest|smallest|highest|lowest|biggest|best|worst|top)\b", q
        )
        or re.search(
            rf"\b{_NUMBER} \w+(?: \w+)? (?:with|by|having|have|has|had) (?:the )?(?:most|least|highest|lowest|largest|smallest)\b",
            q,
        )
    )
    if not m:
        return None
    w = m.group(1)
    k = int(w) if w.isdigit() else _WORDS.get(w)
    return k if k is not None and k < 1000 else None  # "In 2024, which month had the most …": a year


# ----------------------------------------------------------------------------- conditions said in words
# Words for the two groups of a sex/gender column, and the codes such a column holds for each.
_FEMALE_WORDS = {"woman", "women", "female", "females", "girl", "girls", "lady", "ladies"}
_MALE_WORDS = {"man", "men", "male", "males", "boy", "boys", "gentlemen"}
_FEMALE_CODES = {"f", "female", "woman", "women", "w", "girl", "fem"}
_MALE_CODES = {"m", "male", "man", "men", "boy"}
_OTHER_SEX_CODES = {"other", "o", "u", "unknown", "x", "nonbinary", "non-binary", "diverse", "d", "na", "n/a", ""}
MONTHS = {
    m: i + 1
    for i, names in enumerate(
        ("january jan", "february feb", "march mar", "april apr", "may", "june jun", "july jul",
         "august aug", "september sep sept", "october oct", "november nov", "december dec")
    )
    for m in names.split()
}  # fmt: skip
WEEKDAYS = {d: i for i, d in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())}
_QUARTERS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}


@dataclass(frozen=True)
class Worded:
    """A condition the question states in words the table does not hold ("women" for "F", "in
    March" over a date column), with the token positions that say it."""

    column: str
    op: str  # "==", or a part of a date: "month", "months" (a range), "weekday", "weekend", "quarter", "year"
    value: Any
    at: tuple[int, ...]


def sex_column(frame: pd.DataFrame) -> tuple[str, dict[str, Any]] | None:
    """The table's one column coding two sexes ("F"/"M", "Female"/"Male", "woman"/"man"), with the
    value it uses for each ("female", "male"); None when there is none or more than one."""
    found = []
    for c in frame.columns:
        s = frame[c]
        if s.dtype != object and not isinstance(s.dtype, pd.CategoricalDtype):
            continue
        distinct = [v for v in s.dropna().unique()[:8] if isinstance(v, str)]
        if not distinct or len(distinct) > 6:
            continue
        folded = {v.strip().casefold(): v for v in distinct}
        fem = [v for f, v in folded.items() if f in _FEMALE_CODES]
        mal = [v for f, v in folded.items() if f in _MALE_CODES]
        rest = set(folded) - _FEMALE_CODES - _MALE_CODES - _OTHER_SEX_CODES
        if len(fem) == 1 and len(mal) == 1 and not rest:
            found.append((str(c), {"female": fem[0], "male": mal[0]}))
    return found[0] if len(found) == 1 else None


def event_date(frame: pd.DataFrame, dates: list[str]) -> list[str]:
    """The date a row is about when a question names none ("which month had the most rides",
    "fines in Q1 2025" of a table with `issued_at` and `paid_date`): the one date column, else
    the first of those every row has. A row's own event is always dated; later ones (paid,
    terminated, shipped) are often still missing. Readings say which column they used."""
    if len(dates) <= 1:
        return dates
    return [c for c in dates if not frame[c].isna().any()][:1]


def worded_conds(question: str, frame: pd.DataFrame, named: list[str]) -> list[Worded]:
    """Conditions said in words no value of the table spells: a sex ("women", "male members") over
    the table's one sex column, and a part of the dates ("in March", "March 2024", "on Saturdays",
    "at weekends", "in the first quarter", "Q3") over its one date column (or the one named). A
    word with no such column to apply to gives nothing (the reader then has no plan)."""
    qt = tokens(question)
    raw = words_as_written(question)
    out: list[Worded] = []
    sex = sex_column(frame) if set(qt) & (_FEMALE_WORDS | _MALE_WORDS) else None
    if sex is not None:
        for i, w in enumerate(qt):
            group = "female" if w in _FEMALE_WORDS else "male" if w in _MALE_WORDS else None
            if group is not None:
                out.append(Worded(sex[0], "==", sex[1][group], (i,)))
    if not {stem(w) for w in qt} & (set(MONTHS) | set(WEEKDAYS) | {"weekend", "quarter", "q"}):
        return out
    dates = [str(c) for c in frame.columns if is_dates(frame[c])]
    pick = [c for c in dates if c in named] or event_date(frame, dates)
    col = pick[0] if len(pick) == 1 else None  # no date column, or more than one named: no date part
    # a column of month numbers ("month" = 1..12) answers "in March" itself
    numbered = [
        str(c) for c in frame.columns
        if "month" in tokens(str(c)) and pd.api.types.is_integer_dtype(frame[c])
        and bool(frame[c].dropna().between(1, 12).all())
    ]  # fmt: skip
    skip: set[int] = set()
    for i, w in enumerate(qt):
        before = qt[i - 1] if i else ""
        if i in skip:
            continue
        if w in MONTHS:
            if w in ("may", "mar", "jun", "dec") and not raw[i][0].isupper():
                continue  # "may" the verb, "dec" short for something else: a month only as a name
            if w == "may" and before not in ("in", "of", "during", "since", "until", "for", "from"):
                continue
            if len(numbered) == 1:
                out.append(Worded(numbered[0], "==", MONTHS[w], (i,)))
            elif col is not None and before in ("between", "from") and qt[i + 2 : i + 3] and qt[i + 1] in ("and", "to", "through", "until") and qt[i + 2] in MONTHS:
                # "between March and May", "from June to August": both ends included
                out.append(Worded(col, "months", (MONTHS[w], MONTHS[qt[i + 2]]), (i, i + 1, i + 2)))
                skip.update((i + 1, i + 2))
            elif col is not None:
                out.append(Worded(col, "month", MONTHS[w], (i,)))
                year = qt[i + 1] if i + 1 < len(qt) else ""
                if re.fullmatch(r"(1[89]|20)\d\d", year):  # "March 2024"
                    out.append(Worded(col, "year", int(year), (i + 1,)))
        elif col is None:
            continue
        elif stem(w) in WEEKDAYS:
            out.append(Worded(col, "weekday", WEEKDAYS[stem(w)], (i,)))
        elif stem(w) == "weekend":
            out.append(Worded(col, "weekend", True, (i,)))
        elif w == "quarter" and before in _QUARTERS:
            out.append(Worded(col, "quarter", _QUARTERS[before], (i - 1, i)))
            _quarter_year(qt, i + 1, col, out)  # "the first quarter of 2025"
        elif w == "q" and i + 1 < len(qt) and qt[i + 1] in ("1", "2", "3", "4"):
            out.append(Worded(col, "quarter", int(qt[i + 1]), (i, i + 1)))
            _quarter_year(qt, i + 2, col, out)  # "Q1 2025"
    return out


def _quarter_year(qt: list[str], j: int, col: str, out: list[Worded]) -> None:
    """The year a quarter is of, said right after it ("Q1 2025", "the first quarter of 2025")."""
    j += j < len(qt) and qt[j] in ("of", "in")
    if j < len(qt) and re.fullmatch(r"(1[89]|20)\d\d", qt[j]):
        out.append(Worded(col, "year", int(qt[j]), (j,)))
