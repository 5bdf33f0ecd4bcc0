"""Load a table with sniffed (or given) options: CSV (DuckDB reservoir sample for large files),
Excel, Parquet and JSON, with honest warnings and the checks every loaded frame passes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from core.io.code import excel_kwargs
from core.io.load_csv import check_line_lengths, load_csv
from core.io.sniff import excel_sheets, read_head, sniff
from core.io.table import (
    LARGE_FILE_BYTES,
    MAX_LINE_BYTES,
    SAMPLE_ROWS,
    SAMPLE_SEED,
    LoadedTable,
    LoadError,
    _short,
    apply_nested,
    apply_tidy,
    tidy_names,
)
from core.models import LoadOptions

_WIDE_COLUMNS = 1000


# =========================================================================== loading
def load_table(
    path: str | Path,
    options: LoadOptions | None = None,
    max_rows: int | None = None,
    *,
    large_bytes: int = LARGE_FILE_BYTES,
    sample_rows: int = SAMPLE_ROWS,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> LoadedTable:
    """Load a table file; options from `sniff` when not given.

    Files of `large_bytes` or more are sampled (`sampled=True`, `n_rows_total` = rows in
    the file): CSV and Parquet through DuckDB (uniform reservoir sample of `sample_rows`
    rows, seed 42, file order not kept), JSON Lines by taking the first `sample_rows` rows.
    The returned `options` are the ones to store: they carry repaired column names.
    """
    p = Path(path)
    read_head(p)  # empty / missing file errors
    opts = (options or sniff(p)).model_copy(deep=True)
    opts.column_names = None  # derived below from the file, never trusted from a caller
    size = p.stat().st_size
    if opts.format in ("csv", "json", "jsonl") and size > max_line_bytes:
        check_line_lengths(p, max_line_bytes)
    try:
        if opts.format == "csv":
            table = load_csv(p, opts, max_rows, size >= large_bytes, sample_rows, max_line_bytes)
        elif opts.format == "excel":
            table = _load_excel(p, opts, max_rows)
            if size >= large_bytes:
                table.warnings.append(
                    f"Large workbook ({size / 1e6:,.0f} MB): Excel files are read whole. "
                    "Save the sheet as CSV or Parquet to have it sampled instead."
                )
        elif opts.format == "parquet":
            table = _load_parquet(p, opts, max_rows, size >= large_bytes, sample_rows)
        else:
            table = _load_json(p, opts, max_rows, size >= large_bytes, sample_rows)
    except LoadError:
        raise
    except MemoryError as e:
        raise LoadError(
            f"{p.name} does not fit in memory. Upload a smaller extract or a Parquet file (it is sampled)."
        ) from e
    except Exception as e:  # every parser error must reach the user as a message, not a crash
        raise LoadError(
            f"{p.name} could not be read as {opts.format.upper()} ({type(e).__name__}: {str(e)[:300]}). "
            "Check the detected settings (format, delimiter, encoding, header row) and try again."
        ) from e
    _final_checks(p, table)
    return table


def _load_excel(p: Path, o: LoadOptions, max_rows: int | None) -> LoadedTable:
    warnings: list[str] = []
    sheets = excel_sheets(p)
    if not sheets:
        raise LoadError(f"{p.name} has no sheets. Save a workbook with the table in its first sheet.")
    if o.sheet is None:
        o.sheet = sheets[0]
    if o.sheet not in sheets:
        raise LoadError(f"{p.name} has no sheet named {o.sheet!r}. Pick one of: {', '.join(sheets)}.")
    if len(sheets) > 1:
        warnings.append(
            f"The workbook has {len(sheets)} sheets ({_short(sheets)}); "
            f"loaded {o.sheet!r}. Pick another sheet to load it."
        )
    if o.skip_rows:
        warnings.append(f"{o.skip_rows} row(s) above the header (a title or notes) were skipped.")
    kw = excel_kwargs(o)
    if max_rows is not None:
        kw["nrows"] = max_rows
    df = pd.read_excel(p, **kw)
    if df.shape[1] == 0:
        raise LoadError(f"Sheet {o.sheet!r} of {p.name} is empty. Pick the sheet that holds the table.")
    if o.header_row is None:
        names = [f"column_{i + 1}" for i in range(df.shape[1])]
    else:
        hdr = pd.read_excel(
            p,
            sheet_name=o.sheet,
            engine="openpyxl",
            header=None,
            skiprows=o.skip_rows,
            nrows=(o.header_row or 0) + 1,
        )
        raw = list(hdr.iloc[o.header_row or 0]) if len(hdr) else list(df.columns)
        raw = raw[: df.shape[1]] + [None] * (df.shape[1] - len(raw))
        names, w = tidy_names(raw)
        if names != [c for c in df.columns]:
            warnings += w
    if names != list(df.columns):
        o.column_names = names
        df.columns = names
    sampled = max_rows is not None and len(df) >= max_rows
    return LoadedTable(
        df=df,
        options=o,
        warnings=warnings,
        sampled=sampled,
        n_rows_total=None if sampled else len(df),
        sheets=sheets,
    )


def _load_parquet(
    p: Path, o: LoadOptions, max_rows: int | None, large: bool, sample_rows: int
) -> LoadedTable:
    import pyarrow.parquet as pq

    warnings: list[str] = []
    total = pq.ParquetFile(p).metadata.num_rows
    sampled = False
    if large and total > sample_rows:
        import duckdb

        con = duckdb.connect()
        try:
            rel = con.sql(
                f"SELECT * FROM read_parquet($path) USING SAMPLE reservoir({int(sample_rows)} ROWS) "  # noqa: S608
                f"REPEATABLE ({SAMPLE_SEED})",
                params={"path": str(p)},
            )
            # DuckDB 2 renamed fetch_arrow_table to to_arrow_table.
            tbl = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
        finally:
            con.close()
        df = tbl.to_pandas()
        sampled = True
        warnings.append(
            f"Large file: {total:,} rows. The wizard works on a uniform random sample of {len(df):,} rows "
            f"(DuckDB reservoir sample, seed {SAMPLE_SEED}); "
            "accepted steps are re-run on the full data in the "
            "exported notebook."
        )
    else:
        df = pd.read_parquet(p)
        if max_rows is not None and len(df) > max_rows:
            df = df.head(max_rows)
            sampled = True
            warnings.append(f"Only the first {max_rows:,} rows were loaded.")
    apply_nested(df, warnings)
    apply_tidy(df, o, warnings)
    return LoadedTable(df=df, options=o, warnings=warnings, sampled=sampled, n_rows_total=int(total))


def _json_records(data: Any) -> Any:
    """The list of records inside a JSON document: a list, or the first list inside an object."""
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if lists and all(isinstance(v, list) for v in data.values()) and len({len(v) for v in lists}) == 1:
            return data  # column-oriented: {"a": [...], "b": [...]}
        if lists:
            return lists[0]
    return data


def _load_json(p: Path, o: LoadOptions, max_rows: int | None, large: bool, sample_rows: int) -> LoadedTable:
    warnings: list[str] = []
    enc = o.encoding or "utf-8"
    sampled = False
    total: int | None
    if o.format == "jsonl":
        limit = max_rows if max_rows is not None else (sample_rows if large else None)
        rows = []
        total = 0
        with p.open("r", encoding=enc) as f:
            for line in f:
                if not line.strip():
                    continue
                total += 1
                if limit is None or len(rows) < limit:
                    try:
                        rows.append(json.loads(line))
                    except ValueError as e:
                        raise LoadError(
                            f"{p.name}: line {total} is not valid JSON ({e}). "
                            "Fix or remove that line and upload again."
                        ) from e
        if limit is not None and total > limit:
            sampled = True
            warnings.append(
                f"{total:,} rows in the file; the first {limit:,} were loaded for interactive work."
            )
        df = pd.json_normalize(rows)
    else:
        if large:
            # One JSON document must be parsed whole: refuse rather than exhaust memory.
            raise LoadError(
                f"{p.name} is one large JSON document ({p.stat().st_size / 1e6:,.0f} MB), which must be read "
                "whole. Convert it to JSON Lines (one record per line), CSV or Parquet, which are sampled, "
                "and upload that."
            )
        with p.open("r", encoding=enc) as f:
            try:
                data = json.load(f)
            except ValueError as e:
                raise LoadError(f"{p.name} is not valid JSON ({e}). Fix the file or export it again.") from e
        recs = _json_records(data)
        if isinstance(recs, dict):
            df = pd.DataFrame(recs)
        elif isinstance(recs, list) and recs and all(isinstance(r, dict) for r in recs):
            df = pd.json_normalize(recs)
        else:
            raise LoadError(
                f'{p.name} is JSON but not a table. Upload a list of records ([{{"a": 1}}, ...]) '
                "or one object per line (JSON Lines)."
            )
        total = len(df)
        if max_rows is not None and len(df) > max_rows:
            df = df.head(max_rows)
            sampled = True
    apply_nested(df, warnings)
    apply_tidy(df, o, warnings)
    return LoadedTable(df=df, options=o, warnings=warnings, sampled=sampled, n_rows_total=total)


def _final_checks(p: Path, t: LoadedTable) -> None:
    df = t.df
    if df.shape[1] == 0:
        raise LoadError(f"{p.name} has no columns. Check that it is a table and upload it again.")
    if len(df) == 0:
        raise LoadError(
            f"{p.name} has column names but no data rows. Export "
            "the table again with its rows and upload that."
        )
    if df.shape[1] == 1:
        col = df.columns[0]
        vals = df.iloc[:50, 0].astype(str)
        hint = ""
        for d in (";", "\t", "|", ","):
            if vals.str.contains(re.escape(d)).mean() > 0.5 or d in str(col):
                hint = (
                    f" The values contain {d!r}: choose it as the delimiter if that is what separates "
                    "the fields."
                )
                break
        t.warnings.append(f"Only one column was found ({col!r}); a table needs at least two to model.{hint}")
    if df.shape[1] >= _WIDE_COLUMNS:
        t.warnings.append(
            f"Wide table: {df.shape[1]:,} columns. The profile "
            "and charts page through them; prompts get a summary."
        )
