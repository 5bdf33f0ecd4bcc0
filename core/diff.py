"""The one frame diff: what a step changed, with rows matched by identity, not by position.

A step may filter, reorder, de-duplicate and `reset_index(drop=True)` its table. Comparing rows
by position (or by index label after a reset) then says that every column changed. Here the
rows of the two frames are paired by the alignment that explains the most unchanged cells
among three candidates:

- **index**: the same index label (filters, sorts and fills that keep the index);
- **key**: a column whose values are unique in both frames (an ID survives a reset);
- **content**: identical rows pair first (as a multiset, so order does not matter); rows left
  over that only repeat a kept row are removed duplicates; the rest pair in their order.

The result is a typed `FrameDiff`: rows added / removed / changed, columns added / removed /
retyped / changed, missing-value deltas per column, a sample of changed rows, and the
`StepResult` fields the project records. Pure pandas; no UI.

Speed (a step's preview waits on it): every count is exact, never from a sample. Columns are
normalised once per frame with vectorised numpy (bool, text, dates at midnight), hashed once per
column, and rows are paired by content through one integer hash-table lookup. `diff_parquet`
keeps the last few Parquet files it read (by the sha256 of their bytes) with that work done, so
a step's input - the previous step's accepted preview - is not read or normalised again.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

ColumnStatus = Literal["added", "removed", "retyped", "changed", "same"]
# Keys are looked for among the first columns only: an ID is nearly always near the front, and
# each candidate costs a full comparison.
_MAX_KEY_CANDIDATES = 3
_MISSING_MARK = "\x00<NA>"  # missing values compare equal to each other, never to a text


@dataclass(frozen=True)
class ColumnDelta:
    """One column's change. `None` on the side where the column does not exist."""

    name: str
    dtype_before: str | None
    dtype_after: str | None
    missing_before: int | None
    missing_after: int | None
    cells_changed: int = 0  # among the matched rows

    @property
    def status(self) -> ColumnStatus:
        if self.dtype_before is None:
            return "added"
        if self.dtype_after is None:
            return "removed"
        if self.dtype_before != self.dtype_after:
            return "retyped"
        return "changed" if self.cells_changed else "same"

    @property
    def missing_delta(self) -> int:
        return (self.missing_after or 0) - (self.missing_before or 0)


@dataclass(frozen=True, eq=False)
class FrameDiff:
    """What changed from `before` to `after` (see the module docstring for how rows are matched)."""

    rows_before: int
    rows_after: int
    cols_before: int
    cols_after: int
    matched_by: str  # "index" | "key:<column>" | "content" | "none"
    rows_matched: int
    rows_changed: int
    rows_added: int
    rows_removed: int
    duplicates_removed: int  # of rows_removed: rows that repeated a row that was kept
    missing_before: int
    missing_after: int
    columns: tuple[ColumnDelta, ...]
    changed_rows: pd.DataFrame = field(default_factory=pd.DataFrame)  # a sample, "<col> (before|after)"

    def _names(self, *status: ColumnStatus) -> list[str]:
        return [c.name for c in self.columns if c.status in status]

    @property
    def columns_added(self) -> list[str]:
        return self._names("added")

    @property
    def columns_removed(self) -> list[str]:
        return self._names("removed")

    @property
    def columns_retyped(self) -> list[str]:
        return self._names("retyped")

    @property
    def columns_changed(self) -> list[str]:
        """Columns in both frames whose kind or values changed."""
        return self._names("retyped", "changed")

    @property
    def missing_delta(self) -> int:
        return self.missing_after - self.missing_before

    @property
    def alignment(self) -> str:
        """How rows were matched, in words."""
        if self.matched_by.startswith("key:"):
            return f"by the key column `{self.matched_by[4:]}`"
        return {
            "index": "by index label",
            "content": "by row content (the index was reset or reordered)",
        }.get(self.matched_by, "not at all (no rows in common)")

    def dtypes(self) -> pd.DataFrame:
        """Column kinds before and after, one row per column."""
        return pd.DataFrame(
            {
                "before": [c.dtype_before for c in self.columns],
                "after": [c.dtype_after for c in self.columns],
                "missing before": [c.missing_before for c in self.columns],
                "missing after": [c.missing_after for c in self.columns],
                "cells changed": [c.cells_changed for c in self.columns],
            },
            index=[c.name for c in self.columns],
        )

    def step_fields(self) -> dict[str, object]:
        """The `core.models.StepResult` fields a transform step records."""
        return {
            "rows_before": self.rows_before,
            "rows_after": self.rows_after,
            "cols_before": self.cols_before,
            "cols_after": self.cols_after,
            "added_columns": self.columns_added,
            "removed_columns": self.columns_removed,
            "changed_columns": self.columns_changed,
            "missing_before": self.missing_before,
            "missing_after": self.missing_after,
        }


# --------------------------------------------------------------------------- helpers
def _unique_names(df: pd.DataFrame) -> pd.DataFrame:
    """Columns as text, first of duplicated names kept (a diff needs one column per name)."""
    out = df.copy(deep=False)  # only the labels change: no data is copied
    out.columns = [str(c) for c in df.columns]
    dup = out.columns.duplicated()
    return out.loc[:, ~dup] if dup.any() else out


def _normal(s: pd.Series, has_missing: bool = True) -> pd.Series:
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
    """`_normal` of a text or plain datetime column without a round trip through pandas' string
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


class _Normal:
    """A frame's columns normalised (`_normal`) once, on first use, as numpy arrays."""

    def __init__(self, df: pd.DataFrame, text: dict[str, int | None] | None = None) -> None:
        self.df = df
        # Columns known (from a Parquet schema) to hold only text and nulls: name -> null count
        # (None when the file does not record it). Spares a scan of each such column.
        self._text = {c: n for c, n in (text or {}).items() if c in df.columns and df[c].dtype == object}
        self._cols: dict[str, np.ndarray] = {}
        self._hashes: dict[tuple[str, ...], np.ndarray] = {}
        self._col_hashes: dict[str, np.ndarray] = {}
        self._unique: dict[str, bool] = {}
        self._missing: dict[str, int] | None = None

    def prepare(self) -> _Normal:
        """Everything a diff may ask of this side, now (what a diff that used it leaves behind)."""
        for c in self.df.columns:
            self.col_hash(c)
        return self

    def unique(self, col: str) -> bool:
        """The column's raw values are unique (remembered: a kept side is asked every step)."""
        if col not in self._unique:
            self._unique[col] = bool(self.df[col].is_unique)
        return self._unique[col]

    def col_hash(self, col: str) -> np.ndarray:
        """One hash per value of the normalised column (remembered per column, so any set of
        columns combines them without hashing again)."""
        if col not in self._col_hashes:
            self._col_hashes[col] = pd.util.hash_array(self(col), categorize=True)
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
                self._cols[col] = _normal(s, has_missing=has_missing).to_numpy()
        return self._cols[col]

    def row_hashes(self, cols: list[str]) -> np.ndarray:
        """One hash per row over `cols` (normalised, so 1 and 1.0 hash alike)."""
        key = tuple(cols)
        if key not in self._hashes:
            if not cols:
                self._hashes[key] = np.zeros(len(self.df), dtype="uint64")
            else:
                self._hashes[key] = _combine_hashes([self.col_hash(c) for c in cols])
        return self._hashes[key]


def _combine_hashes(arrays: list[np.ndarray]) -> np.ndarray:
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


def _equal(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Element-wise: two aligned normalised columns hold the same value (both missing: same)."""
    if x.dtype == "float64" and y.dtype == "float64":
        return np.isclose(x, y, rtol=1e-9, atol=0.0) | (np.isnan(x) & np.isnan(y))
    if x.dtype != y.dtype:  # a number became text (or back): compare as text
        x, y = x.astype(str), y.astype(str)
    return np.asarray(x == y, dtype=bool)


# --------------------------------------------------------------------------- alignments
Pairs = tuple[np.ndarray, np.ndarray]  # positions in before, positions in after


def _by_index(b: pd.DataFrame, a: pd.DataFrame) -> Pairs | None:
    if not (b.index.is_unique and a.index.is_unique):
        return None
    common = a.index.intersection(b.index, sort=False)
    return b.index.get_indexer(common), a.index.get_indexer(common)


def _key_columns(nb: _Normal, na: _Normal, common: list[str]) -> list[str]:
    keys = []
    for c in common:
        bs, as_ = nb.df[c], na.df[c]
        if pd.api.types.is_float_dtype(bs) or pd.api.types.is_float_dtype(as_):
            continue  # measurements, not identifiers
        if nb.missing[c] or na.missing[c] or not (nb.unique(c) and na.unique(c)):
            continue
        keys.append(c)
        if len(keys) >= _MAX_KEY_CANDIDATES:
            break
    return keys


def _by_key(nb: _Normal, na: _Normal, key: str) -> Pairs | None:
    kb, ka = pd.Index(nb(key)), pd.Index(na(key))
    if not (kb.is_unique and ka.is_unique):  # e.g. 1 and "1": distinct values, one text
        return None
    pos = kb.get_indexer(ka)
    found = pos >= 0
    return pos[found], np.flatnonzero(found)


def _occurrence(codes: np.ndarray) -> np.ndarray:
    """For each element, how many equal elements come before it (0 for the first of its kind)."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(len(codes)), 0))
    occ = np.empty(len(codes), dtype=np.int64)
    occ[order] = np.arange(len(codes)) - run_start
    return occ


def _by_content(hb: np.ndarray, ha: np.ndarray) -> Pairs:
    """Identical rows pair as a multiset. Of the rows left over, `before`'s surplus is taken
    from repeated rows first (de-duplication removed them); the rest pair in their order."""
    # The n-th occurrence of a row in `after` pairs with its n-th occurrence in `before`: one
    # exact integer key per (row hash, n), looked up in a hash table (no merge, no Python loop).
    codes, _ = pd.factorize(np.concatenate([hb, ha]))
    cb, ca = codes[: len(hb)].astype(np.int64), codes[len(hb) :].astype(np.int64)
    occ_b, occ_a = _occurrence(cb), _occurrence(ca)
    width = int(max(occ_b.max(initial=0), occ_a.max(initial=0))) + 1
    pos = pd.Index(cb * width + occ_b).get_indexer(ca * width + occ_a)  # unique keys in `before`
    hit = pos >= 0
    exact_b, exact_a = pos[hit], np.flatnonzero(hit)
    left_b = np.ones(len(hb), dtype=bool)
    left_b[exact_b] = False
    rest_b = np.flatnonzero(left_b)  # in order of position
    rest_a = np.flatnonzero(~hit)
    surplus = len(rest_b) - len(rest_a)
    if surplus > 0:
        repeats = np.flatnonzero(occ_b[rest_b] > 0)[:surplus]
        rest_b = np.delete(rest_b, repeats)
    n = min(len(rest_b), len(rest_a))
    pb = np.concatenate([exact_b, rest_b[:n]]).astype(np.intp)
    pa = np.concatenate([exact_a, rest_a[:n]]).astype(np.intp)
    order = np.argsort(pa, kind="stable")
    return pb[order], pa[order]


def _equal_cells(
    b: pd.DataFrame, a: pd.DataFrame, nb: _Normal, na: _Normal, pairs: Pairs, common: list[str]
) -> np.ndarray:
    """A (pairs × common columns) boolean matrix: the cell is unchanged."""
    pb, pa = pairs
    if not common or len(pb) == 0:
        return np.ones((len(pb), len(common)), dtype=bool)
    # Row i paired with row i throughout: an untouched column is seen equal without normalising.
    same_rows = len(pb) == len(b) == len(a) and bool((pb == np.arange(len(pb))).all() and (pa == pb).all())
    cols = []
    for c in common:
        if same_rows and b[c].reset_index(drop=True).equals(a[c].reset_index(drop=True)):
            cols.append(np.ones(len(pb), dtype=bool))
        else:
            cols.append(_equal(nb(c)[pb], na(c)[pa]))
    return np.column_stack(cols)


# --------------------------------------------------------------------------- the diff
def diff_frames(before: pd.DataFrame, after: pd.DataFrame, sample_rows: int = 20) -> FrameDiff:
    """Compare two frames; rows are matched by index, a key column or content (best explains)."""
    return _diff(before, after, _Normal(_unique_names(before)), _Normal(_unique_names(after)), sample_rows)


# A Parquet file's frame with its normalised columns, by the sha256 of the file's bytes. Snapshots
# never change and each accepted preview becomes the next step's input, so a preview's `before`
# is usually the previous preview's `after`: read and normalised once, not once per step.
_SIDES: OrderedDict[str, tuple[pd.DataFrame, _Normal]] = OrderedDict()
_SIDES_LOCK = threading.Lock()
_SIDES_KEEP = 4  # frames kept (the current input, its preview, a couple of alternatives)
_SIDES_MAX_BYTES = 128 * 1024**2  # all kept frames together (shallow); a larger one is never kept


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _side(path: str | Path) -> tuple[pd.DataFrame, _Normal]:
    """The frame stored in `path` and its `_Normal`, from the cache when the bytes are known."""
    digest = _file_sha256(Path(path))
    with _SIDES_LOCK:
        hit = _SIDES.get(digest)
        if hit is not None:
            _SIDES.move_to_end(digest)
            return hit
    df = pd.read_parquet(path)
    side = (df, _Normal(_unique_names(df), _parquet_text_columns(Path(path))))
    size = _shallow_bytes(df)
    if size <= _SIDES_MAX_BYTES:
        with _SIDES_LOCK:
            _SIDES[digest] = side
            while (
                len(_SIDES) > _SIDES_KEEP
                or sum(_shallow_bytes(f) for f, _ in _SIDES.values()) > _SIDES_MAX_BYTES
            ):
                _SIDES.popitem(last=False)
    return side


def _parquet_text_columns(path: Path) -> dict[str, int | None]:
    """Data columns the file stores as Arrow strings (so only text and nulls), with their null
    count where every row group records one. From the footer only; {} when it cannot tell."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
        pandas_meta = json.loads((schema.metadata or {}).get(b"pandas", b"{}"))
    except Exception:  # noqa: BLE001 - a hint only: the diff then looks at the values
        return {}
    index = {c for c in pandas_meta.get("index_columns", []) if isinstance(c, str)}
    names = [f.name for f in schema]
    out: dict[str, int | None] = {}
    for i, f in enumerate(schema):
        if f.name in index or names.count(f.name) > 1:
            continue
        if not (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)):
            continue
        nulls: int | None = 0
        for r in range(meta.num_row_groups):
            col = meta.row_group(r).column(i) if i < meta.num_columns else None
            stats = col.statistics if col is not None and col.path_in_schema == f.name else None
            if stats is None or not stats.has_null_count:
                nulls = None
                break
            nulls += stats.null_count
        out[f.name] = nulls
    return out


def clear_cache() -> None:
    """Forget every kept Parquet frame (tests and benchmarks; memory is bounded anyway)."""
    with _SIDES_LOCK:
        _SIDES.clear()


def warm(path: str | Path) -> None:
    """Keep `path` read, normalised and hashed, as a diff that used it as `after` leaves it."""
    _side(path)[1].prepare()


def _shallow_bytes(df: pd.DataFrame) -> int:
    return int(df.memory_usage(index=True, deep=False).sum())


def diff_parquet(before: str | Path, after: str | Path, sample_rows: int = 20) -> FrameDiff:
    """`diff_frames` of two Parquet files. The same bytes give the same frame, so a file seen in
    a recent call (by content hash) is not read or normalised again. Callers must not change the
    frames they get back from a `FrameDiff` (its `changed_rows` is a fresh frame)."""
    (b_df, nb), (a_df, na) = _side(before), _side(after)
    return _diff(b_df, a_df, nb, na, sample_rows)


def _diff(before: pd.DataFrame, after: pd.DataFrame, nb: _Normal, na: _Normal, sample_rows: int) -> FrameDiff:
    b, a = nb.df, na.df
    common = [c for c in a.columns if c in set(b.columns)]

    best: tuple[str, Pairs, np.ndarray] | None = None
    by_index = _by_index(b, a)
    if by_index is not None:
        best = ("index", by_index, _equal_cells(b, a, nb, na, by_index, common))
    # When the index explains every row of the smaller side unchanged, nothing can do better.
    perfect = best is not None and len(best[1][0]) == min(len(b), len(a)) and bool(best[2].all())
    if not perfect:
        keyed = [(f"key:{k}", _by_key(nb, na, k)) for k in _key_columns(nb, na, common)]
        others: list[tuple[str, Pairs]] = [(name, p) for name, p in keyed if p is not None]
        if common and len(b) and len(a):
            others.append(("content", _by_content(nb.row_hashes(common), na.row_hashes(common))))
        for name, pairs in others:
            eq = _equal_cells(b, a, nb, na, pairs, common)
            # More unchanged cells wins; on a tie the earlier (index, then key) stays.
            if best is None or int(eq.sum()) > int(best[2].sum()):
                best = (name, pairs, eq)
    if best is None:
        empty = (np.array([], dtype=int), np.array([], dtype=int))
        best = ("none", empty, np.ones((0, len(common)), dtype=bool))
    matched_by, (pb, pa), eq = best
    removed = len(b) - len(pb)
    duplicates = _removed_duplicates(nb.row_hashes(common), pb) if common and removed else 0

    changed_mask = ~eq.all(axis=1) if eq.size else np.zeros(len(pb), dtype=bool)
    counts = (~eq).sum(axis=0).tolist() if eq.size else [0] * len(common)
    return FrameDiff(
        rows_before=int(before.shape[0]),
        rows_after=int(after.shape[0]),
        cols_before=int(before.shape[1]),
        cols_after=int(after.shape[1]),
        matched_by=matched_by,
        rows_matched=len(pb),
        rows_changed=int(changed_mask.sum()),
        rows_added=len(a) - len(pa),
        rows_removed=removed,
        duplicates_removed=min(duplicates, removed),
        missing_before=_total_missing(before, nb),
        missing_after=_total_missing(after, na),
        columns=_column_deltas(nb, na, dict(zip(common, counts, strict=True))),
        changed_rows=_sample(b, a, (pb, pa), changed_mask, eq, common, sample_rows),
    )


def _removed_duplicates(hb: np.ndarray, pb: np.ndarray) -> int:
    """Removed `before` rows that repeated another row of `before` (on the shared columns): in
    each group of identical rows, every removed row counts while one copy of the group is left."""
    if len(hb) == 0:
        return 0
    removed = np.ones(len(hb), dtype=bool)
    removed[pb] = False
    codes, uniques = pd.factorize(hb)
    size = np.bincount(codes, minlength=len(uniques))
    gone = np.bincount(codes, weights=removed, minlength=len(uniques)).astype(np.int64)
    return int(np.minimum(gone, size - 1).sum())


def _total_missing(original: pd.DataFrame, norm: _Normal) -> int:
    """Missing cells of the whole frame (columns with a repeated name included)."""
    if original.shape[1] == norm.df.shape[1]:
        return sum(norm.missing.values())
    return int(original.isna().sum().sum())


def _column_deltas(nb: _Normal, na: _Normal, cells_changed: dict[str, int]) -> tuple[ColumnDelta, ...]:
    b, a = nb.df, na.df
    out = []
    for c in a.columns:
        in_b = c in b.columns
        out.append(
            ColumnDelta(
                name=c,
                dtype_before=str(b[c].dtype) if in_b else None,
                dtype_after=str(a[c].dtype),
                missing_before=nb.missing[c] if in_b else None,
                missing_after=na.missing[c],
                cells_changed=cells_changed.get(c, 0),
            )
        )
    for c in b.columns:
        if c not in a.columns:
            out.append(ColumnDelta(c, str(b[c].dtype), None, nb.missing[c], None))
    return tuple(out)


def _sample(
    b: pd.DataFrame,
    a: pd.DataFrame,
    pairs: Pairs,
    changed: np.ndarray,
    eq: np.ndarray,
    common: list[str],
    n: int,
) -> pd.DataFrame:
    """Up to `n` changed rows: "<col> (before)" / "<col> (after)" for the columns that changed."""
    pb, pa = pairs
    rows = np.flatnonzero(changed)[:n]
    if not len(rows):
        return pd.DataFrame()
    cols = [c for j, c in enumerate(common) if not eq[rows, j].all()][:8]
    parts: dict[str, object] = {}
    for c in cols:
        parts[f"{c} (before)"] = b[c].iloc[pb[rows]].to_numpy()
        parts[f"{c} (after)"] = a[c].iloc[pa[rows]].to_numpy()
    return pd.DataFrame(parts, index=a.index[pa[rows]])
