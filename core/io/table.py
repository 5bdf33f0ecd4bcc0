"""What a load returns and the frame-level tidying every loader shares: size limits, `LoadError`,
`LoadedTable`, column-name repair, nested cells as text, and the cut-down preview of long cells.
"""

from __future__ import annotations

import csv
import math
import re
import sys
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core.models import LoadOptions

# Files at or above this size are sampled for interactive work (DuckDB does the full pass).
LARGE_FILE_BYTES = 200 * 1024 * 1024
# Rows in the interactive sample of a large file.
SAMPLE_ROWS = 100_000
SAMPLE_SEED = 42
# A line longer than this almost always means one giant cell (a pasted document, a blob);
# pandas would load it, but every later step (profile, prompts, preview) would choke.
MAX_LINE_BYTES = 16 * 1024 * 1024
# Characters of one cell a preview shows; longer cells are cut there (the data keeps them whole).
PREVIEW_CELL_CHARS = 1_000


def _raise_csv_field_limit() -> None:
    """Let the csv module read cells of any length (its default refuses cells over 131,072 characters).

    The limit is process-wide state of the csv module; raising it changes nothing for other readers
    except that they stop refusing long cells. Giant lines are refused earlier, with advice, by
    `check_line_lengths`. sys.maxsize overflows a C long on some platforms, hence the loop."""
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 10


_raise_csv_field_limit()


class LoadError(Exception):
    """The file cannot be loaded; the message says what is wrong and what to do."""


@dataclass
class LoadedTable:
    df: pd.DataFrame
    options: LoadOptions
    warnings: list[str] = field(default_factory=list)
    sampled: bool = False
    n_rows_total: int | None = None
    sheets: list[str] = field(default_factory=list)


# =========================================================================== sniffing

# =========================================================================== column names
_UNNAMED = re.compile(r"^Unnamed: \d+(_level_\d+)?$")


def tidy_names(raw: list[Any]) -> tuple[list[str], list[str]]:
    """Blank names -> column_<position>, surrounding spaces stripped, duplicates -> name_2, name_3.

    Returns the names and the warnings that say what was renamed.
    """
    names: list[str] = []
    blank: list[str] = []
    stripped: list[str] = []
    for i, n in enumerate(raw):
        s = "" if n is None or (isinstance(n, float) and math.isnan(n)) else str(n)
        t = s.strip()
        if not t or _UNNAMED.match(t):
            t = f"column_{i + 1}"
            blank.append(t)
        elif t != s:
            stripped.append(repr(s))
        names.append(t)
    seen: dict[str, int] = {}
    taken = set(names)
    out: list[str] = []
    renamed: list[str] = []
    for n in names:
        if n in seen:
            k = seen[n] + 1
            while f"{n}_{k}" in taken:
                k += 1
            seen[n] = k
            new = f"{n}_{k}"
            taken.add(new)
            renamed.append(f"{n!r} -> {new!r}")
            out.append(new)
        else:
            seen[n] = 1
            out.append(n)
    warnings: list[str] = []
    if blank:
        warnings.append(f"{len(blank)} column(s) had no name and were named by position: {_short(blank)}.")
    if renamed:
        warnings.append(f"Duplicate column names were made unique: {_short(renamed)}.")
    if stripped:
        warnings.append(f"Spaces around {len(stripped)} column name(s) were removed: {_short(stripped)}.")
    return out, warnings


def _short(items: list[str], n: int = 5) -> str:
    more = f" and {len(items) - n} more" if len(items) > n else ""
    return ", ".join(items[:n]) + more


def nested_to_text(df: pd.DataFrame) -> list[int]:
    """Cells holding lists, arrays or objects (JSON, Parquet list/struct columns) become JSON text.

    Every later step (profile, Parquet snapshots, scikit-learn) expects one plain value per cell.
    Works in place on `df`; returns the positions of the converted columns. Its source is also
    the notebook's load cell (`load_code`), so both read the same table."""
    import json

    import numpy as np

    def nested(v):
        return isinstance(v, (list, tuple, dict, np.ndarray))

    def as_text(v):
        if isinstance(v, np.ndarray):
            v = v.tolist()
        return json.dumps(
            v, ensure_ascii=False, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)
        )

    converted = []
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if col.dtype == object and col.map(nested).any():
            df.isetitem(i, col.map(lambda v: as_text(v) if nested(v) else v))
            converted.append(i)
    return converted


# =========================================================================== preview
def preview_frame(df: pd.DataFrame, max_chars: int = PREVIEW_CELL_CHARS) -> tuple[pd.DataFrame, str | None]:
    """`df` for display: text cells longer than `max_chars` cut with "…", and a note saying so.

    A 200,000-character cell would freeze the browser's data grid; the loaded data keeps it
    whole. Returns `df` itself (no copy) and None when nothing is long; pass the rows you show
    (e.g. `df.head(100)`), since every text cell is inspected."""
    cut = 0
    longest = 0
    where: list[str] = []
    view = df
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if col.dtype != object and not pd.api.types.is_string_dtype(col):
            continue
        lengths = col.map(lambda v: len(v) if isinstance(v, str) else 0)
        long = lengths > max_chars
        if not long.any():
            continue
        if view is df:
            view = df.copy()
        view.isetitem(i, col.where(~long, col[long].map(lambda v: v[:max_chars] + "…")))
        cut += int(long.sum())
        longest = max(longest, int(lengths.max()))
        where.append(str(df.columns[i]))
    if not cut:
        return df, None
    note = (
        f"{cut:,} cell(s) longer than {max_chars:,} characters (longest: {longest:,}, in "
        f"{_short([repr(w) for w in where], 3)}) are shortened in this preview; the data keeps them whole."
    )
    return view, note


def apply_tidy(df: pd.DataFrame, o: LoadOptions, warnings: list[str]) -> None:
    names, w = tidy_names(list(df.columns))
    if names != list(df.columns):
        df.columns = names
        o.column_names = names
        warnings += w


def apply_nested(df: pd.DataFrame, warnings: list[str]) -> None:
    converted = nested_to_text(df)
    if converted:
        names = [str(df.columns[i]) for i in converted]
        warnings.append(
            f"{len(names)} column(s) hold lists or objects ({_short(names)}); "
            "they were turned into JSON text, one value per cell."
        )
