"""Shared pieces of the intent checks: the verdict type, the findings collector, column-name
matching and the value helpers the request and answer checks use (`core.engine.intent` is the API).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

State = Literal["verified", "failed", "unchecked"]


@dataclass(frozen=True)
class IntentVerdict:
    state: State
    checks: tuple[str, ...] = ()
    reason: str | None = None


@dataclass
class _Findings:
    """Checks collected for one request: passed lines, failed lines, and what could not be read."""

    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    understood: bool = False

    def ok(self, line: str) -> None:
        self.passed.append(line)

    def bad(self, line: str) -> None:
        self.failed.append(line)

    def check(self, cond: bool, good: str, bad: str) -> None:
        (self.passed if cond else self.failed).append(good if cond else bad)

    def verdict(self) -> IntentVerdict:
        checks = tuple([f"✓ {c}" for c in self.passed] + [f"✗ {c}" for c in self.failed])
        if self.failed:
            return IntentVerdict("failed", checks, "; ".join(self.failed))
        if not self.understood or not self.passed or self.unread:
            why = "; ".join(self.unread) or "the request's wording gives no check this engine can derive"
            return IntentVerdict("unchecked", checks, f"not verified against your request: {why}")
        return IntentVerdict("verified", checks, None)


@dataclass(frozen=True, eq=False)
class IntentCase:
    """One request read against one table: the record every request checker gets.

    A checker is `(case, findings) -> bool`: False when the request is not its kind, True when it
    recognised it (and added its checks to the findings)."""

    req: str  # the request in lower case, the table's column names masked as "col"
    named: list[str]  # the table's columns the request names, in the order it names them
    before: pd.DataFrame
    after: pd.DataFrame
    raw: str  # the request as typed (a rename needs the new name's own spelling)

    @property
    def present(self) -> list[str]:
        """The named columns the table had before the code ran."""
        return [c for c in self.named if c in self.before.columns]

    @property
    def new_columns(self) -> list[str]:
        return _new_columns(self.before, self.after)

    def candidates(self, named: list[str]) -> list[str]:
        """Where a derived value may have landed: new columns first, then `named` in place."""
        return _candidates(self.before, self.after, named)

    def one_column(self, f: _Findings, needs: str) -> str | None:
        """The one column a single-column request names; None for none or many, noted as unread
        as `needs` and the count ("a log of one column: the request names 2")."""
        if len(self.present) == 1:
            return self.present[0]
        f.unread.append(f"{needs} {len(self.present)}")
        return None

    def rows_changed(self, f: _Findings) -> bool:
        """True, with a failed check, when rows were added or removed: the value checks compare
        row by row and cannot align tables of different lengths."""
        if len(self.after) == len(self.before):
            return False
        f.bad(self.rows_change)
        return True

    def same_rows(self, f: _Findings, good: str = "row count unchanged") -> None:
        f.check(len(self.after) == len(self.before), good, self.rows_change)

    @property
    def rows_change(self) -> str:
        return f"rows changed from {len(self.before)} to {len(self.after)}"


@dataclass(frozen=True)
class Checker:
    """One kind of request: the words that may mean it and the check that reads it.

    `trigger` is searched in the masked request first (None: the check reads the request
    itself); the first checker in `CHECKERS` that recognises a request owns it."""

    name: str
    run: Callable[[IntentCase, _Findings], bool]
    trigger: re.Pattern[str] | None = None

    def __call__(self, case: IntentCase, f: _Findings) -> bool:
        if self.trigger is not None and not self.trigger.search(case.req):
            return False
        return self.run(case, f)


def checker(trigger: str | None = None) -> Callable[[Callable[[IntentCase, _Findings], bool]], Checker]:
    """Declare a check and the words that trigger it: `@checker(r"sort|order")` above its function."""

    def wrap(run: Callable[[IntentCase, _Findings], bool]) -> Checker:
        return Checker(run.__name__.lstrip("_"), run, re.compile(trigger) if trigger else None)

    return wrap


# --------------------------------------------------------------------------- columns in the request
def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.casefold()).strip()


def _name_regex(normalised: str) -> str:
    """A normalised column name as a whole word, also in the plural ("countries" names `country`)."""
    n = re.escape(normalised)
    if re.search(r"[^aeiou]y$", normalised):
        n = re.escape(normalised[:-1]) + "(?:y|ies)"
    elif normalised[-1:].isalpha():
        n += "(?:s|es)?"
    return rf"(?<![\w]){n}(?![\w])"


def columns_named(request: str, columns: list[str]) -> list[str]:
    """Columns the request names, in the order they appear (case-, space- and underscore-blind).

    Longer names win ("total_charges" before "charges"), and a span is used once.
    """
    text = _norm(request)
    taken = [False] * len(text)
    hits: list[tuple[int, str]] = []
    for name in sorted((str(c) for c in columns), key=len, reverse=True):
        n = _norm(name)
        if not n:
            continue
        for m in re.finditer(_name_regex(n), text):
            if not any(taken[m.start() : m.end()]):
                taken[m.start() : m.end()] = [True] * (m.end() - m.start())
                hits.append((m.start(), name))
                break
    return [name for _, name in sorted(hits)]


def _masked(request: str, named: list[str]) -> str:
    """The request in lower case with column names replaced by "COL" (so "log_income" is not "log")."""
    # "a - b" would read as "a b" once hyphens are spaces: spaced operators become their words first.
    for op, word in ((" - ", " minus "), (" + ", " plus "), (" * ", " times "), (" / ", " divided by ")):
        request = request.replace(op, word)
    # A negative number keeps its sign ("clip x to between -2.5 and 40"); other hyphens are spaces.
    request = re.sub(r"(?<![\w.])-(?=\d)", "\x00", request)
    text = _norm(request).replace("\x00", "-")
    for name in sorted(named, key=len, reverse=True):
        text = re.sub(_name_regex(_norm(name)), " col ", text)
    return re.sub(r"\s+", " ", text)


# --------------------------------------------------------------------------- value helpers
def _num(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    cleaned = s.astype("string").str.replace(r"[^0-9eE.+\-]", "", regex=True)
    return pd.to_numeric(cleaned, errors="coerce").astype(float)


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return "numbers"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "dates"
    return "text"


def _same_values(a: pd.Series, b: pd.Series) -> bool:
    if len(a) != len(b):
        return False
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    if a.equals(b):
        return True
    if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
        x, y = a.astype(float).to_numpy(), b.astype(float).to_numpy()
        return bool(np.allclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True))
    na, nb = a.isna(), b.isna()
    return bool((na == nb).all() and (a[~na].astype(str) == b[~nb].astype(str)).all())


def _matches(got: pd.Series, want: pd.Series, share: float = 0.999) -> bool:
    """`got` equals `want` (numbers, relative tolerance) on the rows where `want` is defined."""
    if len(got) != len(want):
        return False
    g, w = _num(got).to_numpy(), want.astype(float).to_numpy()
    defined = np.isfinite(w)
    if defined.sum() == 0:
        return False
    close = np.isclose(g[defined], w[defined], rtol=1e-3, atol=1e-6)
    return bool(close.mean() >= share)


def _new_columns(before: pd.DataFrame, after: pd.DataFrame) -> list[str]:
    old = {str(c) for c in before.columns}
    return [str(c) for c in after.columns if str(c) not in old]


def _candidates(before: pd.DataFrame, after: pd.DataFrame, named: list[str]) -> list[str]:
    """Where a derived value may have landed: new columns first, then the named columns in place."""
    return _new_columns(before, after) + [c for c in named if c in after.columns]


def _dates(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    try:
        return pd.to_datetime(s, errors="coerce", format="mixed")
    except (TypeError, ValueError):
        return pd.to_datetime(s.astype(str), errors="coerce", format="mixed")


def decode_value(value: Any) -> Any:
    """A sandbox job's value back as pandas/numpy: the worker sends a Series as
    {"type": "series", "index", "data", "length"}, a DataFrame and an array likewise (JSON-safe).
    Anything else is returned unchanged. The true length (the data may be trimmed) is kept in
    `attrs["length"]` / `attrs["shape"]`."""
    if not isinstance(value, dict) or value.get("type") not in ("series", "dataframe", "array"):
        return value
    try:
        if value["type"] == "series":
            out = pd.Series(value.get("data") or [], index=value.get("index"), name=value.get("name"))
            out.attrs["length"] = int(value.get("length", len(out)))
            return out
        if value["type"] == "dataframe":
            frame = pd.DataFrame(
                value.get("data") or [], columns=value.get("columns"), index=value.get("index")
            )
            frame.attrs["shape"] = tuple(value.get("shape") or frame.shape)
            return frame
        arr = np.asarray(value.get("data") or [])
        shape = tuple(value.get("shape") or arr.shape)
        return arr.reshape(shape) if arr.size == int(np.prod(shape)) else arr
    except (TypeError, ValueError):
        return value


def plain_value(value: Any) -> Any:
    """numpy scalars -> Python; a one-item list/Series/array -> its item (a scalar answer in a box)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Series, pd.Index, np.ndarray, list, tuple)) and len(value) == 1:
        return plain_value(value.iloc[0] if isinstance(value, pd.Series) else list(value)[0])
    if isinstance(value, pd.DataFrame) and value.shape == (1, 1):
        return plain_value(value.iloc[0, 0])
    return value
