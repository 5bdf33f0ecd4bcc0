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
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


def _normal(s: pd.Series) -> pd.Series:
    """Values in a form where 1 == 1.0 and a type change alone is not a value change."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("object").map(lambda v: _MISSING_MARK if pd.isna(v) else str(bool(v)))
    if pd.api.types.is_numeric_dtype(s):
        return pd.Series(s.to_numpy(dtype="float64", na_value=np.nan), index=s.index)
    text = s.astype("string")
    return text.fillna(_MISSING_MARK).astype("object")


class _Normal:
    """A frame's columns normalised (`_normal`) once, on first use, as numpy arrays."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self._cols: dict[str, np.ndarray] = {}
        self._hashes: dict[tuple[str, ...], np.ndarray] = {}
        self._missing: dict[str, int] | None = None

    @property
    def missing(self) -> dict[str, int]:
        """Missing cells per column (one pass over the frame)."""
        if self._missing is None:
            self._missing = {str(k): int(v) for k, v in self.df.isna().sum().items()}
        return self._missing

    def __call__(self, col: str) -> np.ndarray:
        if col not in self._cols:
            self._cols[col] = _normal(self.df[col]).to_numpy()
        return self._cols[col]

    def row_hashes(self, cols: list[str]) -> np.ndarray:
        """One hash per row over `cols` (normalised, so 1 and 1.0 hash alike)."""
        key = tuple(cols)
        if key not in self._hashes:
            if not cols:
                self._hashes[key] = np.zeros(len(self.df), dtype="uint64")
            else:
                norm = pd.DataFrame({c: self(c) for c in cols})
                self._hashes[key] = pd.util.hash_pandas_object(norm, index=False).to_numpy()
        return self._hashes[key]


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
        if nb.missing[c] or na.missing[c] or not (bs.is_unique and as_.is_unique):
            continue
        keys.append(c)
        if len(keys) >= _MAX_KEY_CANDIDATES:
            break
    return keys


def _by_key(nb: _Normal, na: _Normal, key: str) -> Pairs:
    pos = pd.Index(nb(key)).get_indexer(pd.Index(na(key)))
    found = pos >= 0
    return pos[found], np.flatnonzero(found)


def _by_content(hb: np.ndarray, ha: np.ndarray) -> Pairs:
    """Identical rows pair as a multiset. Of the rows left over, `before`'s surplus is taken
    from repeated rows first (de-duplication removed them); the rest pair in their order."""
    # The n-th occurrence of a row in `after` pairs with its n-th occurrence in `before`.
    occ_b = pd.Series(hb).groupby(hb).cumcount().to_numpy()
    occ_a = pd.Series(ha).groupby(ha).cumcount().to_numpy()
    left = pd.DataFrame({"h": hb, "n": occ_b, "pb": np.arange(len(hb))})
    right = pd.DataFrame({"h": ha, "n": occ_a, "pa": np.arange(len(ha))})
    m = left.merge(right, on=["h", "n"], how="outer")
    exact = m.dropna(subset=["pb", "pa"])
    rest_b = m[m["pa"].isna()].sort_values("pb")
    rest_a = m[m["pb"].isna()].sort_values("pa")
    surplus = len(rest_b) - len(rest_a)
    if surplus > 0:
        repeat = rest_b["pb"].astype(int).map(lambda i: bool(occ_b[i] > 0))
        drop = rest_b.index[repeat.to_numpy()][:surplus]
        rest_b = rest_b.drop(index=drop)
    n = min(len(rest_b), len(rest_a))
    pb = np.concatenate([exact["pb"].to_numpy(dtype=int), rest_b["pb"].to_numpy(dtype=int)[:n]])
    pa = np.concatenate([exact["pa"].to_numpy(dtype=int), rest_a["pa"].to_numpy(dtype=int)[:n]])
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
    b, a = _unique_names(before), _unique_names(after)
    nb, na = _Normal(b), _Normal(a)
    common = [c for c in a.columns if c in set(b.columns)]

    best: tuple[str, Pairs, np.ndarray] | None = None
    by_index = _by_index(b, a)
    if by_index is not None:
        best = ("index", by_index, _equal_cells(b, a, nb, na, by_index, common))
    # When the index explains every row of the smaller side unchanged, nothing can do better.
    perfect = best is not None and len(best[1][0]) == min(len(b), len(a)) and bool(best[2].all())
    if not perfect:
        others = [(f"key:{k}", _by_key(nb, na, k)) for k in _key_columns(nb, na, common)]
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
    groups = pd.DataFrame({"h": hb, "removed": removed}).groupby("h")["removed"].agg(["sum", "size"])
    return int(np.minimum(groups["sum"], groups["size"] - 1).sum())


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
