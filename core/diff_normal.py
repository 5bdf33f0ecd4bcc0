"""Frame values for the frame diff (`core.diff`): normalised once per column, hashed once.

A type change alone is not a value change (1 == 1.0; a date at midnight is its day), missing
values compare equal to each other and never to a text, and every column is normalised with
vectorised numpy on first use and remembered (`Normal`), with one hash per value, so rows over
any set of columns hash without hashing again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_MISSING_MARK = "\x00<NA>"  # missing values compare equal to each other, never to a text


def unique_names(df: pd.DataFrame) -> pd.DataFrame:
    """Columns as text, first of duplicated names kept (a diff needs one column per name)."""
    out = df.copy(deep=False)  # only the labels change: no data is copied
    out.columns = [str(c) for c in df.columns]
    dup = out.columns.duplicated()
    return out.loc[:, ~dup] if dup.any() else out


def normal(s: pd.Series, has_missing: bool = True) -> pd.Series:
    """Values in a form where 1 == 1.0 and a type change alone is not a value change.
    `has_missing=False` (the caller counted none) only skips looking for missing values."""
    if pd.api.types.is_bool_dtype(s):
        # "True" / "False" / the missing mark, as `str(bool(v))` per cell would give, vectorised.
        out = np.where(s.to_numpy(dtype=bool, na_value=False), "True", "False").astype(object)
        out[s.isna().to_numpy()] = _MISSING_MARK
        return pd.Series(out, index=s.index)
    if pd.api.types.is_numeric_dtype(s):
        return pd.Series(s.to_numpy(dtype="float64", na_value=np.nan), index=s.index)
    fast = _text_fast(s, has_missing)
    if fast is not None:
        return pd.Series(fast, index=s.index)
    text = s.astype("string")
    return text.fillna(_MISSING_MARK).astype("object")


def _text_fast(s: pd.Series, has_missing: bool = True) -> np.ndarray | None:
    """`normal` of a text or plain datetime column without a round trip through pandas' string
    dtype (the same values; None where the general path must run)."""
    if s.dtype == object:
        # Only Python strings and missing values: the strings are already their own text.
        if pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
            return None
        if not has_missing:
            return s.to_numpy(dtype=object)
        out = s.to_numpy(dtype=object, copy=True)
        out[pd.isna(out)] = _MISSING_MARK
        return out
    if s.dtype.kind == "M" and getattr(s.dtype, "tz", None) is None:
        # pandas writes dates alone when every value falls on midnight, as numpy's day unit does.
        values = s.to_numpy()
        nat = np.isnat(values)
        ticks = values.astype("datetime64[ns]").view("int64")
        if not (ticks[~nat] % (86_400 * 10**9) == 0).all():
            return None
        # Each distinct day written once (a column of dates repeats few of them).
        codes, days = pd.factorize(ticks // (86_400 * 10**9))
        text = np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype(object)
        out = text[codes] if len(days) else np.empty(len(values), dtype=object)
        out[nat] = _MISSING_MARK
        return out
    return None


def value_hashes(values: np.ndarray) -> np.ndarray:
    """One hash per value: the one hashing `Normal.col_hash` and `expand_text` share, so a side
    read either way hashes alike. Not `categorize=True`: that factorizes text first, and pandas'
    string hash table stops at a NUL character, so "" and the missing mark (or "a" and "a\\x00b")
    became one value and a missing text filled with "" showed as no change."""
    return pd.util.hash_array(values, categorize=False)


def expand_text(cat: pd.Categorical) -> tuple[np.ndarray, np.ndarray]:
    """A column of texts read as a Categorical, as the object array a plain read gives (the
    strings, None where missing), and `Normal.col_hash` of it: each distinct text is hashed once."""
    codes = np.asarray(cat.codes)
    missing = codes < 0
    texts = np.asarray(cat.categories, dtype=object)
    marker = value_hashes(np.array([_MISSING_MARK], dtype=object))[0]
    if len(texts) == 0:  # only missing values (or no rows)
        return np.full(len(codes), None, dtype=object), np.full(len(codes), marker, dtype="uint64")
    at = np.where(missing, 0, codes)
    values = texts.take(at)
    values[missing] = None
    # The hash of each distinct text, spread: what `col_hash` gives, for a fraction of the work.
    hashes = value_hashes(texts).take(at)
    hashes[missing] = marker
    return values, hashes


class Normal:
    """A frame's columns normalised (`normal`) once, on first use, as numpy arrays."""

    def __init__(
        self,
        df: pd.DataFrame,
        text: dict[str, int | None] | None = None,
        text_hashes: dict[str, np.ndarray] | None = None,
    ) -> None:
        """`text`: columns known (from a Parquet schema) to hold only text and nulls, name ->
        null count (None when the file does not record it): spares a scan of each. `text_hashes`:
        `col_hash` of some of them, already computed (`expand_text`)."""
        self.df = df
        self._text = {c: n for c, n in (text or {}).items() if c in df.columns and df[c].dtype == object}
        self._cols: dict[str, np.ndarray] = {}
        self._hashes: dict[tuple[str, ...], np.ndarray] = {}
        self._col_hashes: dict[str, np.ndarray] = {
            c: h for c, h in (text_hashes or {}).items() if c in self._text and len(h) == len(df)
        }
        self._unique: dict[str, bool] = {}
        self._missing: dict[str, int] | None = None

    def prepare(self) -> Normal:
        """Everything a diff may ask of this side, now (what a diff that used it leaves behind)."""
        for c in self.df.columns:
            self.col_hash(c)
        return self

    def unique(self, col: str) -> bool:
        """The column's raw values are unique (remembered: a kept side is asked every step)."""
        if col not in self._unique:
            s = self.df[col]
            # A repeat among the first values settles it (most columns show one at once) without a
            # hash table over every row: ~2 ms per column and side on 50k rows, each preview.
            self._unique[col] = bool(s.iloc[:1000].is_unique) and bool(s.is_unique)
        return self._unique[col]

    def col_hash(self, col: str) -> np.ndarray:
        """One hash per value of the normalised column (remembered per column, so any set of
        columns combines them without hashing again; `value_hashes`)."""
        if col not in self._col_hashes:
            self._col_hashes[col] = value_hashes(self(col))
        return self._col_hashes[col]

    @property
    def missing(self) -> dict[str, int]:
        """Missing cells per column (one pass over the frame)."""
        if self._missing is None:
            known = {c: n for c, n in self._text.items() if n is not None}
            rest = [c for c in self.df.columns if c not in known]
            counted = self.df[rest].isna().sum() if rest else {}
            self._missing = {str(c): int(known[c] if c in known else counted[c]) for c in self.df.columns}
        return self._missing

    def __call__(self, col: str) -> np.ndarray:
        if col not in self._cols:
            s, has_missing = self.df[col], self.missing[col] > 0
            if col in self._text:  # text and nulls only: `_text_fast` without looking
                out = s.to_numpy(dtype=object, copy=has_missing)
                if has_missing:
                    out[pd.isna(out)] = _MISSING_MARK
                self._cols[col] = out
            else:
                self._cols[col] = normal(s, has_missing=has_missing).to_numpy()
        return self._cols[col]

    def row_hashes(self, cols: list[str]) -> np.ndarray:
        """One hash per row over `cols` (normalised, so 1 and 1.0 hash alike)."""
        key = tuple(cols)
        if key not in self._hashes:
            if not cols:
                self._hashes[key] = np.zeros(len(self.df), dtype="uint64")
            else:
                self._hashes[key] = combine_hashes([self.col_hash(c) for c in cols])
        return self._hashes[key]


def combine_hashes(arrays: list[np.ndarray]) -> np.ndarray:
    """Row hashes from column hashes, as `pd.util.hash_pandas_object(frame, index=False)`
    combines them (the same numbers; written out because pandas keeps it private)."""
    mult = np.uint64(1000003)
    out = np.zeros_like(arrays[0]) + np.uint64(0x345678)
    with np.errstate(over="ignore"):
        for i, a in enumerate(arrays):
            inverse_i = len(arrays) - i
            out ^= a
            out *= mult
            mult += np.uint64(82520 + inverse_i + inverse_i)
        out += np.uint64(97531)
    return out


def equal(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Element-wise: two aligned normalised columns hold the same value (both missing: same)."""
    if x.dtype == "float64" and y.dtype == "float64":
        return np.isclose(x, y, rtol=1e-9, atol=0.0) | (np.isnan(x) & np.isnan(y))
    if x.dtype != y.dtype:  # a number became text (or back): compare as text
        x, y = x.astype(str), y.astype(str)
    return np.asarray(x == y, dtype=bool)
