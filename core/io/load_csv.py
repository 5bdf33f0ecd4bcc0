"""CSV loading: line-length guard, ragged-row widening, encoding retry, and the DuckDB
reservoir sample that stands in for files too large to read whole."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from core.io.code import csv_kwargs
from core.io.table import (
    MAX_LINE_BYTES,
    SAMPLE_SEED,
    LoadedTable,
    LoadError,
    _short,
    tidy_names,
)
from core.models import LoadOptions


def check_line_lengths(p: Path, limit: int) -> None:
    """Refuse files with a line over `limit` bytes (a giant cell) without reading them whole.

    Newline positions per 8 MB chunk come from numpy, so a 1 GB file is scanned in about a
    second instead of a Python loop over millions of lines.
    """
    import numpy as np

    def refuse(line_no: int) -> LoadError:
        return LoadError(
            f"{p.name}: line {line_no} is longer than {limit / (1024 * 1024):g} MB, which means one cell "
            "holds a huge value (a document or blob pasted into the table). Remove or shorten that cell "
            "(keep long documents in separate files) and upload the table again."
        )

    run = 0  # bytes since the last newline, carried across chunks
    line_no = 1
    with p.open("rb") as f:
        while chunk := f.read(8 * 1024 * 1024):
            nl = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            if len(nl) == 0:
                run += len(chunk)
                if run > limit:
                    raise refuse(line_no)
                continue
            lengths = np.empty(len(nl), dtype=np.int64)
            lengths[0] = run + nl[0]  # the line carried over from the previous chunk
            lengths[1:] = np.diff(nl) - 1
            k = int(np.argmax(lengths))
            if lengths[k] > limit:
                raise refuse(line_no + k)
            line_no += len(nl)
            run = len(chunk) - int(nl[-1]) - 1
    if run > limit:
        raise refuse(line_no)


def _raw_csv_record(p: Path, o: LoadOptions, index: int) -> list[str]:
    """The record at raw line `index` (the header line), read with the csv module."""
    with p.open("r", encoding=o.encoding or "utf-8", newline="") as f:
        for _ in range(index):
            f.readline()
        row = next(csv.reader(f, delimiter=o.delimiter or ","), [])
    return row


def _csv_width(p: Path, o: LoadOptions) -> tuple[int, int, int]:
    """(widest record, records wider than the header, records narrower) after the header."""
    header_line = o.skip_rows + (o.header_row or 0)
    with p.open("r", encoding=o.encoding or "utf-8", newline="") as f:
        for _ in range(header_line):
            f.readline()
        reader = csv.reader(f, delimiter=o.delimiter or ",")
        first = next(reader, [])
        width, wide, narrow = len(first), 0, 0
        hw = len(first)
        for r in reader:
            if not r:
                continue
            n = len(r)
            if n > hw:
                wide += 1
            elif n < hw:
                narrow += 1
            width = max(width, n)
    return width, wide, narrow


def load_csv(
    p: Path,
    o: LoadOptions,
    max_rows: int | None,
    large: bool,
    sample_rows: int,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> LoadedTable:
    warnings: list[str] = []
    header_line = o.skip_rows + (o.header_row or 0)
    if o.header_row is not None:
        try:
            raw = _raw_csv_record(p, o, header_line)
        except UnicodeDecodeError:
            if not _retry_encoding(p, o, warnings):
                raise
            raw = _raw_csv_record(p, o, header_line)
        names, name_warnings = tidy_names(raw)
        if names != raw:
            o.column_names = names
            warnings += name_warnings
    if large:
        return _sample_csv_duckdb(p, o, sample_rows, warnings, max_line_bytes)

    ragged_checked = False
    for _attempt in range(5):  # encoding fallbacks (2), no header (1), ragged (1), final read
        kw = csv_kwargs(o)
        if max_rows is not None:
            kw["nrows"] = max_rows
        try:
            df = pd.read_csv(p, **kw)
        except UnicodeDecodeError:
            if not _retry_encoding(p, o, warnings):
                raise
            continue
        except pd.errors.EmptyDataError as e:
            raise LoadError(
                f"{p.name} has no columns to read. Check that it is a table and upload it again."
            ) from e
        except pd.errors.ParserError as e:
            if ragged_checked or "Expected" not in str(e):
                raise
            ragged_checked = True
            _widen(p, o, warnings)
            continue
        if o.header_row is None and o.column_names is None:
            o.column_names = [f"column_{i + 1}" for i in range(df.shape[1])]
            warnings.append("No header row was found; columns are named column_1, column_2, ...")
            continue
        if not isinstance(df.index, pd.RangeIndex) and not ragged_checked:
            # pandas silently turns the first column into the index when the first data
            # row is wider than the header: treat as ragged.
            ragged_checked = True
            _widen(p, o, warnings)
            continue
        break
    else:  # pragma: no cover - five attempts always settle
        raise LoadError(f"{p.name} could not be read consistently. Check the delimiter and header settings.")

    if not ragged_checked and p.stat().st_size < 5 * 1024 * 1024 and o.header_row is not None:
        _, _wide, narrow = _csv_width(p, o)
        if narrow:
            warnings.append(
                f"{narrow} row(s) have fewer fields than the header; their missing cells are left empty."
            )
    sampled = max_rows is not None and len(df) >= max_rows
    if sampled:
        warnings.append(f"Only the first {max_rows:,} rows were loaded.")
    return LoadedTable(
        df=df, options=o, warnings=warnings, sampled=sampled, n_rows_total=None if sampled else len(df)
    )


def _retry_encoding(p: Path, o: LoadOptions, warnings: list[str]) -> bool:
    if o.encoding in ("utf-8", None):
        o.encoding = "cp1252"
        warnings.append("The file is not valid UTF-8 throughout; it was read as Windows-1252 (Latin-1).")
        return True
    if o.encoding == "cp1252":
        o.encoding = "latin-1"
        return True
    return False


def _widen(p: Path, o: LoadOptions, warnings: list[str]) -> None:
    width, wide, narrow = _csv_width(p, o)
    if o.header_row is not None:
        base = o.column_names or tidy_names(_raw_csv_record(p, o, o.skip_rows + (o.header_row or 0)))[0]
    else:
        base = []
    extra = [f"column_{i + 1}" for i in range(len(base), width)]
    o.column_names, _ = tidy_names(base + extra)
    msg = f"Ragged rows: {wide} row(s) have more fields than the header ({len(base)})"
    if extra:
        msg += f"; the extra values were kept in new columns {_short(extra, 3)}"
    if narrow:
        msg += f"; {narrow} row(s) have fewer fields (their missing cells are empty)"
    warnings.append(msg + ". Check the delimiter if this looks wrong.")


def _duckdb_csv_source(
    p: Path, o: LoadOptions, max_line_bytes: int = MAX_LINE_BYTES, parallel: bool = True
) -> tuple[str, list[Any]]:
    enc = (o.encoding or "utf-8").lower()
    enc = {"utf-8-sig": "utf-8", "cp1252": "latin-1", "utf-16-le": "utf-16", "utf-16-be": "utf-16"}.get(
        enc, enc
    )
    skip = o.skip_rows + (o.header_row or 0) + (1 if o.header_row is not None else 0)
    width = len(o.column_names or [])
    cols = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width))
    sql = (
        "read_csv(?, delim=?, header=false, skip=?, quote='\"', escape='\"', null_padding=true, "
        f"strict_mode=false, encoding=?, max_line_size=?, auto_detect=false, columns={{{cols}}}"
        + ("" if parallel else ", parallel=false")
        + ")"
    )
    # DuckDB refuses lines over max_line_size (default 2 MB): allow every line `check_line_lengths`
    # lets through, so a long cell is read, not refused.
    return sql, [str(p), o.delimiter or ",", skip, enc, max(max_line_bytes, 2_000_000)]


def _sample_csv_duckdb(
    p: Path, o: LoadOptions, sample_rows: int, warnings: list[str], max_line_bytes: int = MAX_LINE_BYTES
) -> LoadedTable:
    """Count rows and draw a reservoir sample with DuckDB; pandas parses the sample as it would the file."""
    import duckdb

    if o.column_names is not None:
        names = list(o.column_names)
    elif o.header_row is not None:
        names = tidy_names(_raw_csv_record(p, o, o.skip_rows + (o.header_row or 0)))[0]
    else:
        names = [f"column_{i + 1}" for i in range(len(_raw_csv_record(p, o, o.skip_rows)))]
        o.column_names = names
    o_sql = o.model_copy(update={"column_names": names})
    src, params = _duckdb_csv_source(p, o_sql, max_line_bytes)
    con = duckdb.connect()
    try:
        try:
            total = con.execute(f"SELECT count(*) FROM {src}", params).fetchone()[0]  # noqa: S608 - src is ours
        except duckdb.Error as e:
            # DuckDB's parallel scanner refuses quoted newlines (a long text cell often has them)
            # together with null_padding (ragged rows): read such files with one thread.
            if "parallel" not in str(e):
                raise
            src, params = _duckdb_csv_source(p, o_sql, max_line_bytes, parallel=False)
            total = con.execute(f"SELECT count(*) FROM {src}", params).fetchone()[0]  # noqa: S608
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "sample.csv"
            con.execute(
                f"COPY (SELECT * FROM {src} USING SAMPLE reservoir({int(sample_rows)} ROWS) "  # noqa: S608
                f"REPEATABLE ({SAMPLE_SEED})) TO '{out.as_posix()}' "
                "(HEADER false, DELIMITER '\t', QUOTE '\"', FORCE_QUOTE *)",
                params,
            )
            kw = csv_kwargs(o)
            for k in ("skiprows", "encoding"):
                kw.pop(k, None)
            kw.update(sep="\t", header=None, names=names, encoding="utf-8")
            df = pd.read_csv(out, **kw)
    finally:
        con.close()
    sampled = total > len(df)
    warnings.append(
        f"Large file: {total:,} rows. The wizard works on a uniform random sample of {len(df):,} rows "
        f"(DuckDB reservoir sample, seed {SAMPLE_SEED}); accepted steps are re-run on the full data in the "
        "exported notebook."
    )
    return LoadedTable(df=df, options=o, warnings=warnings, sampled=sampled, n_rows_total=int(total))
