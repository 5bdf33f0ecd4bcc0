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
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from core.diff_align import Pairs, by_content, by_index, by_key, equal_cells, key_columns
from core.diff_normal import Normal, expand_text, unique_names

ColumnStatus = Literal["added", "removed", "retyped", "changed", "same"]


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


# --------------------------------------------------------------------------- the diff
def diff_frames(before: pd.DataFrame, after: pd.DataFrame, sample_rows: int = 20) -> FrameDiff:
    """Compare two frames; rows are matched by index, a key column or content (best explains)."""
    return _diff(before, after, Normal(unique_names(before)), Normal(unique_names(after)), sample_rows)


# A Parquet file's frame with its normalised columns, by the sha256 of the file's bytes. Snapshots
# never change and each accepted preview becomes the next step's input, so a preview's `before`
# is usually the previous preview's `after`: read and normalised once, not once per step.
_SIDES: OrderedDict[str, tuple[pd.DataFrame, Normal]] = OrderedDict()
_SIDES_LOCK = threading.Lock()
_SIDES_KEEP = 4  # frames kept (the current input, its preview, a couple of alternatives)
_SIDES_MAX_BYTES = 128 * 1024**2  # all kept frames together (shallow); a larger one is never kept


_DIGESTS: OrderedDict[tuple[int, int, int, int], str] = OrderedDict()  # file identity -> sha256


def _file_sha256(path: Path) -> str:
    """The file's sha256, hashed once per file identity (device, inode, size, modification time
    in ns): snapshots and previews are written once and replaced by rename (a new inode), so the
    input of every step is not read through again just to find it in the cache."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        with _SIDES_LOCK:
            known = _DIGESTS.get(key)
        if known is not None:
            return known
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    with _SIDES_LOCK:
        _DIGESTS[key] = digest
        while len(_DIGESTS) > 64:
            _DIGESTS.popitem(last=False)
    return digest


def _side(path: str | Path) -> tuple[pd.DataFrame, Normal]:
    """The frame stored in `path` and its `Normal`, from the cache when the bytes are known."""
    digest = _file_sha256(Path(path))
    with _SIDES_LOCK:
        hit = _SIDES.get(digest)
        if hit is not None:
            _SIDES.move_to_end(digest)
            return hit
    text = _parquet_text_columns(Path(path))
    df, text_hashes = _read_parquet(Path(path), text)
    side = (df, Normal(unique_names(df), text, text_hashes))
    remember(digest, side)
    return side


def remember(digest: str, side: tuple[pd.DataFrame, Normal], path: str | Path | None = None) -> None:
    """Keep `side` as the frame of the Parquet file whose sha256 is `digest` (bounded cache);
    `path`: that file, just written, whose identity then stands for the digest (see
    `_file_sha256`)."""
    if path is not None:
        st = os.stat(path)
        with _SIDES_LOCK:
            _DIGESTS[(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)] = digest
    if _shallow_bytes(side[0]) > _SIDES_MAX_BYTES:
        return
    with _SIDES_LOCK:
        _SIDES[digest] = side
        while (
            len(_SIDES) > _SIDES_KEEP or sum(_shallow_bytes(f) for f, _ in _SIDES.values()) > _SIDES_MAX_BYTES
        ):
            _SIDES.popitem(last=False)


def _read_parquet(path: Path, text: dict[str, int | None]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The frame exactly as `pd.read_parquet` gives it, and `Normal.col_hash` of its text columns.

    The text columns are read dictionary-encoded: each distinct text becomes a Python string once
    and is hashed once, then the column is spread back into the object strings a plain read gives
    (`expand_text`). A 50,000-row preview with three text columns: read and hashed in 11 ms
    instead of 25; a column of 50,000 distinct texts is no slower. Anything unexpected (a column
    not read back as categories) falls back to the plain read."""
    import pyarrow.parquet as pq

    if not text:
        return pd.read_parquet(path), {}
    try:
        table = pq.read_table(path, read_dictionary=list(text), use_pandas_metadata=True)
        return _text_hashed(table.to_pandas(), text)
    except Exception:  # noqa: BLE001 - the plain read is always right, only slower
        return pd.read_parquet(path), {}


def _text_hashed(df: pd.DataFrame, text: dict[str, int | None]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """`df` with its text columns (read as categories) spread back into object strings, and
    their `Normal.col_hash`; TypeError when a text column did not come as categories."""
    hashes: dict[str, np.ndarray] = {}
    for c in text:
        col = df[c]
        if not isinstance(col, pd.Series) or not isinstance(col.dtype, pd.CategoricalDtype):
            raise TypeError(f"{c!r} did not come back as categories")
        values, hashes[c] = expand_text(col.array)
        df[c] = values
    return df, hashes


def _table_side(table: Any) -> tuple[pd.DataFrame, Normal]:
    """The frame a Parquet file of `table` reads back as (written by `core.sandbox.results.
    write_frame`), with its `Normal`; what `_side` gives for that file, without the file."""
    import pyarrow.compute as pc

    text = _text_columns(table.schema, [table.column(i).null_count for i in range(table.num_columns)])
    df = None
    if text:
        try:
            encoded = table
            for c in text:  # as `_read_parquet` reads them: dictionary-encoded, hashed once per text
                i = table.schema.get_field_index(c)
                encoded = encoded.set_column(i, c, pc.dictionary_encode(table.column(i)))
            df, hashes = _text_hashed(encoded.to_pandas(), text)
        except Exception:  # noqa: BLE001 - the plain conversion is always right, only slower
            df = None
    if df is None:
        df, hashes = table.to_pandas(), {}
    return df, Normal(unique_names(df), text, hashes)


def _parquet_text_columns(path: Path) -> dict[str, int | None]:
    """Data columns the file stores as Arrow strings (so only text and nulls), with their null
    count where every row group records one. From the footer only; {} when it cannot tell."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
    except Exception:  # noqa: BLE001 - a hint only: the diff then looks at the values
        return {}
    nulls: list[int | None] = []
    for i in range(len(schema)):
        total: int | None = 0
        for r in range(meta.num_row_groups):
            col = meta.row_group(r).column(i) if i < meta.num_columns else None
            stats = col.statistics if col is not None and col.path_in_schema == schema[i].name else None
            if stats is None or not stats.has_null_count:
                total = None
                break
            total += stats.null_count
        nulls.append(total)
    return _text_columns(schema, nulls)


def _text_columns(schema: Any, nulls: list[int | None]) -> dict[str, int | None]:
    """Data columns of an Arrow schema stored as strings where pandas had an object column
    (not its string dtype), with their null counts (None: unknown)."""
    import json

    import pyarrow as pa

    try:
        pandas_meta = json.loads((schema.metadata or {}).get(b"pandas", b"{}"))
    except ValueError:
        return {}
    if not isinstance(pandas_meta, dict):
        return {}
    index = {c for c in pandas_meta.get("index_columns", []) if isinstance(c, str)}
    stored = {
        c.get("field_name"): c.get("numpy_type")
        for c in pandas_meta.get("columns", [])
        if isinstance(c, dict)
    }
    names = [f.name for f in schema]
    out: dict[str, int | None] = {}
    for i, f in enumerate(schema):
        if f.name in index or names.count(f.name) > 1 or stored.get(f.name, "object") != "object":
            continue
        if not (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)):
            continue
        out[f.name] = nulls[i]
    return out


def clear_cache() -> None:
    """Forget every kept Parquet frame (tests and benchmarks; memory is bounded anyway)."""
    with _SIDES_LOCK:
        _SIDES.clear()
        _DIGESTS.clear()


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


def diff_table(
    before: str | Path, after: Any, sample_rows: int = 20
) -> tuple[FrameDiff, tuple[pd.DataFrame, Normal]]:
    """`diff_parquet` of a Parquet file and a pyarrow Table (a step's checked output, before
    it is written): the same diff the file would give. Also returns the table's side, for
    `remember` once the file is written."""
    side = _table_side(after)
    (b_df, nb), (a_df, na) = _side(before), side
    return _diff(b_df, a_df, nb, na, sample_rows), side


# Candidate alignments are scored on this many random pairs first; only those the sample cannot
# tell from the best (within `_MARGIN_SE` standard errors) are compared on every row. A preview
# then compares every cell once, for the alignment it shows, not once per candidate.
_SCORE_SAMPLE = 2048
_MARGIN_SE = 4.0


def _sample_score(
    b: pd.DataFrame, a: pd.DataFrame, nb: Normal, na: Normal, pairs: Pairs, common: list[str]
) -> tuple[float, float]:
    """Estimated unchanged cells under `pairs` and its standard error, from a seeded random
    sample of the pairs (exact, with error 0, when there are few pairs)."""
    pb, pa = pairs
    if len(pb) <= _SCORE_SAMPLE:
        return float(equal_cells(b, a, nb, na, pairs, common).sum()), 0.0
    idx = np.sort(np.random.default_rng(0).choice(len(pb), _SCORE_SAMPLE, replace=False))
    per_row = equal_cells(b, a, nb, na, (pb[idx], pa[idx]), common).sum(axis=1)
    scale = len(pb)
    return float(per_row.mean()) * scale, float(per_row.std(ddof=1)) / np.sqrt(len(idx)) * scale


def _best_alignment(
    b: pd.DataFrame, a: pd.DataFrame, nb: Normal, na: Normal, common: list[str]
) -> tuple[str, Pairs, np.ndarray] | None:
    """The alignment explaining the most unchanged cells, with its full equality matrix. More
    unchanged cells wins; on a tie the earlier candidate (index, then key, then content) stays."""
    indexed = by_index(b, a)
    index_score = _sample_score(b, a, nb, na, indexed, common) if indexed is not None else None
    if indexed is not None and index_score is not None and len(indexed[0]) == min(len(b), len(a)):
        # The index explains every row of the smaller side unchanged: nothing can do better.
        if index_score[0] == len(indexed[0]) * len(common):
            eq = equal_cells(b, a, nb, na, indexed, common)
            if bool(eq.all()):
                return "index", indexed, eq
    candidates: list[tuple[str, Pairs]] = [("index", indexed)] if indexed is not None else []
    keyed = [(f"key:{k}", by_key(nb, na, k)) for k in key_columns(nb, na, common)]
    candidates += [(name, p) for name, p in keyed if p is not None]
    if common and len(b) and len(a):
        candidates.append(("content", by_content(nb.row_hashes(common), na.row_hashes(common))))
    if not candidates:
        return None
    scores = [
        index_score if name == "index" and index_score is not None else _sample_score(b, a, nb, na, p, common)
        for name, p in candidates
    ]
    lead = max(range(len(scores)), key=lambda i: (scores[i][0], -i))
    top, top_se = scores[lead]
    best: tuple[str, Pairs, np.ndarray] | None = None
    for (name, pairs), (score, se) in zip(candidates, scores, strict=True):
        if score + _MARGIN_SE * (se + top_se) < top:
            continue  # clearly worse on the sample: never compared in full
        eq = equal_cells(b, a, nb, na, pairs, common)
        if best is None or int(eq.sum()) > int(best[2].sum()):
            best = (name, pairs, eq)
    return best


def _diff(before: pd.DataFrame, after: pd.DataFrame, nb: Normal, na: Normal, sample_rows: int) -> FrameDiff:
    b, a = nb.df, na.df
    common = [c for c in a.columns if c in set(b.columns)]
    best = _best_alignment(b, a, nb, na, common)
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


def _total_missing(original: pd.DataFrame, norm: Normal) -> int:
    """Missing cells of the whole frame (columns with a repeated name included)."""
    if original.shape[1] == norm.df.shape[1]:
        return sum(norm.missing.values())
    return int(original.isna().sum().sum())


def _column_deltas(nb: Normal, na: Normal, cells_changed: dict[str, int]) -> tuple[ColumnDelta, ...]:
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
