"""Read any real table file: sniff how it is written, load it, say what went wrong.

`sniff` decides format, delimiter, encoding, decimal comma and header row from the
file's bytes (not its extension). `load_table` reads the file with those options and
returns the frame plus honest warnings; files above `LARGE_FILE_BYTES` are never read
whole into pandas: DuckDB counts the rows and draws a reservoir sample that pandas
then parses with the same options, so the sample's dtypes match a full pandas load.
`load_code` renders the pandas code that reproduces `load_table`'s frame from the raw
file (the notebook's first cell); both are built from the same keyword arguments.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from core.models import DatasetRef, LoadOptions

# Files at or above this size are sampled for interactive work (DuckDB does the full pass).
LARGE_FILE_BYTES = 200 * 1024 * 1024
# Rows in the interactive sample of a large file.
SAMPLE_ROWS = 100_000
SAMPLE_SEED = 42
# A line longer than this almost always means one giant cell (a pasted document, a blob);
# pandas would load it, but every later step (profile, prompts, preview) would choke.
MAX_LINE_BYTES = 16 * 1024 * 1024
# Bytes read from the head of the file for sniffing.
_SNIFF_BYTES = 256 * 1024
_DELIMITERS = (",", ";", "\t", "|")
_WIDE_COLUMNS = 1000
# Characters of one cell a preview shows; longer cells are cut there (the data keeps them whole).
PREVIEW_CELL_CHARS = 1_000


def _raise_csv_field_limit() -> None:
    """Let the csv module read cells of any length (its default refuses cells over 131,072 characters).

    The limit is process-wide state of the csv module; raising it changes nothing for other readers
    except that they stop refusing long cells. Giant lines are refused earlier, with advice, by
    `_check_line_lengths`. sys.maxsize overflows a C long on some platforms, hence the loop."""
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
def sniff(path: str | Path) -> LoadOptions:
    """Guess how the file is written from its content. Raises LoadError for unusable files."""
    p = Path(path)
    head = _read_head(p)
    fmt = _binary_format(p, head)
    if fmt == "excel":
        sheet = _largest_sheet(p)
        return LoadOptions(format="excel", sheet=sheet, skip_rows=_excel_title_rows(p, sheet))
    if fmt == "parquet":
        return LoadOptions(format="parquet")

    encoding = _guess_encoding(p, head)
    text = _decode_head(head, encoding)
    stripped = text.lstrip()
    if stripped[:1] in ("[", "{"):
        jfmt = _json_kind(stripped)
        if jfmt is not None:
            return LoadOptions(format=jfmt, encoding=encoding)
    return _sniff_csv(text, encoding)


def _read_head(p: Path) -> bytes:
    if not p.exists():
        raise LoadError(f"{p.name}: file not found. Upload it again.")
    if p.stat().st_size == 0:
        raise LoadError(
            f"{p.name} is empty (0 bytes). Export the table again and upload the file that has the data."
        )
    with p.open("rb") as f:
        head = f.read(_SNIFF_BYTES)
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise LoadError(
            f"{p.name} holds only blank space, no table. Export the table again and upload that file."
        )
    return head


def _binary_format(p: Path, head: bytes) -> str | None:
    """'excel' / 'parquet' for known binary tables, None for text; LoadError for other binaries."""
    name = p.name
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(p) as z:
                if any(n.startswith("xl/") for n in z.namelist()):
                    return "excel"
        except zipfile.BadZipFile:
            pass
        raise LoadError(
            f"{name} is a zip archive, not a table. Unzip it and "
            "upload the CSV, Excel, Parquet or JSON file inside."
        )
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise LoadError(
            f"{name} is an old Excel 97-2003 (.xls) or other Office file. Open it in Excel or LibreOffice, "
            "save it as .xlsx or .csv and upload that."
        )
    if head.startswith(b"\x1f\x8b"):
        raise LoadError(f"{name} is gzip-compressed. Decompress it (gunzip) and upload the table inside.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return None  # text with a byte-order mark
    if b"\x00" in head:
        # UTF-16 without BOM shows NULs at every other byte for ASCII text.
        if _looks_utf16(head) is None:
            raise LoadError(
                f"{name} is a binary file (extension {p.suffix or 'none'}), not a text or spreadsheet table. "
                "Upload a CSV, TSV, Excel (.xlsx), Parquet or JSON file."
            )
        return None
    control = sum(1 for b in head[:65536] if b < 9 or 13 < b < 32)
    if control > max(8, len(head[:65536]) // 100):
        raise LoadError(
            f"{name} looks like a binary file, not a table (many control bytes). "
            "Upload a CSV, TSV, Excel (.xlsx), Parquet or JSON file."
        )
    return None


def _looks_utf16(head: bytes) -> str | None:
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even_nul = sample[0::2].count(0) / max(1, len(sample[0::2]))
    odd_nul = sample[1::2].count(0) / max(1, len(sample[1::2]))
    if odd_nul > 0.4 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.4 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _guess_encoding(p: Path, head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    bom_less = _looks_utf16(head)
    if bom_less:
        return bom_less
    # Check a larger slice than the sniff head: a Latin-1 accent may first appear far down.
    with p.open("rb") as f:
        chunk = f.read(8 * 1024 * 1024)
    try:
        chunk.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        # A multi-byte character cut at the end of the chunk is not an error.
        if e.start >= len(chunk) - 3 and len(chunk) == 8 * 1024 * 1024:
            return "utf-8"
    try:
        chunk.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _decode_head(head: bytes, encoding: str) -> str:
    text = head.decode(encoding, errors="ignore")
    return text.lstrip("\ufeff")


def _json_kind(text: str) -> str | None:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if text.startswith("{") and len(lines) >= 2:
        try:
            json.loads(lines[0])
            json.loads(lines[1])
            return "jsonl"
        except ValueError:
            pass
    if len(lines) == 1 and text.startswith("{"):
        try:
            json.loads(lines[0])
        except ValueError:
            return "json"  # cut by the sniff window; a single big JSON object
        return "jsonl" if isinstance(json.loads(lines[0]), dict) and not _has_list_value(lines[0]) else "json"
    # '[' may also open a CSV header such as "[id],[name]": JSON arrays hold values.
    if text.startswith("[") and not re.match(r"\[\s*([\[{\"\]\d-]|true|false|null)", text):
        return None
    return "json"


def _has_list_value(line: str) -> bool:
    obj = json.loads(line)
    return isinstance(obj, dict) and any(isinstance(v, list) for v in obj.values())


_NUM_DOT = re.compile(r"^[-+]?\d+\.\d+$")
_NUM_COMMA_DEC = re.compile(r"^[-+]?\d+,\d+$")
_THOUSANDS_DOT = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$")
_THOUSANDS_COMMA = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
_PLAIN_NUM = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?$")


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(start line, fields) for each record in the sniff text; the last, maybe cut, record is dropped."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    out: list[tuple[int, list[str]]] = []
    start = 0
    try:
        for row in reader:
            out.append((start, row))
            start = reader.line_num
            if len(out) >= 500:
                break
    except csv.Error:
        pass
    if len(out) > 1 and not text.endswith(("\n", "\r")) and len(out) < 500:
        out = out[:-1]
    return out


def _sniff_csv(text: str, encoding: str) -> LoadOptions:
    best: tuple[float, int, str] | None = None
    for d in _DELIMITERS:
        recs = [r for _, r in _records(text, d) if r]
        if not recs:
            continue
        counts = [len(r) for r in recs]
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        consistency = counts.count(mode) / len(counts)
        score = (round(consistency, 2), mode, d)
        if best is None or score[:2] > best[:2]:
            best = score
    delimiter = best[2] if best else ","
    records = _records(text, delimiter)
    nonblank = [(ln, r) for ln, r in records if r and any(c.strip() for c in r)]
    if not nonblank:
        return LoadOptions(format="csv", delimiter=delimiter, encoding=encoding)
    counts = [len(r) for _, r in nonblank]
    mode = max(set(counts), key=counts.count)
    # Skip preamble lines ("Report generated 2024-01-01") above the real header.
    first = next(i for i, (_, r) in enumerate(nonblank) if len(r) == mode)
    skip_rows = nonblank[first][0]
    body = [r for _, r in nonblank[first + 1 :]]
    cells = [c.strip() for r in body for c in r]

    decimal, thousands = ".", None
    if delimiter != ",":
        comma_dec = sum(1 for c in cells if _NUM_COMMA_DEC.match(c) or (_THOUSANDS_DOT.match(c) and "," in c))
        dotted_thousands = sum(1 for c in cells if _THOUSANDS_DOT.match(c))
        dot_dec = sum(1 for c in cells if _NUM_DOT.match(c) and not _THOUSANDS_DOT.match(c))
        if comma_dec > dot_dec and comma_dec > 0:
            decimal = ","
            thousands = "." if dotted_thousands and not dot_dec else None
        elif sum(1 for c in cells if _THOUSANDS_COMMA.match(c)) and not comma_dec:
            thousands = ","

    header = nonblank[first][1]
    has_header = _looks_like_header(header, body, decimal)
    return LoadOptions(
        format="csv",
        delimiter=delimiter,
        encoding=encoding,
        decimal=decimal,
        thousands=thousands,
        header_row=0 if has_header else None,
        skip_rows=skip_rows,
    )


def _is_num(s: str) -> bool:
    s = s.strip()
    return bool(s) and bool(_PLAIN_NUM.match(s) or _THOUSANDS_DOT.match(s) or _THOUSANDS_COMMA.match(s))


def _looks_like_header(first: list[str], body: list[list[str]], decimal: str) -> bool:
    """A row is data, not a header, when it has a number where the column below holds numbers."""
    if not body:
        return True
    if first and all(_is_num(c) for c in first if c.strip()) and any(c.strip() for c in first):
        return False
    for j, cell in enumerate(first):
        col = [r[j] for r in body if j < len(r) and r[j].strip()]
        if col and sum(_is_num(c) for c in col) / len(col) >= 0.8 and _is_num(cell):
            return False
    return True


# =========================================================================== excel helpers
def excel_sheets(path: str | Path) -> list[str]:
    import openpyxl

    try:
        # A file object, not the path: openpyxl refuses paths whose extension is not .xlsx,
        # and content, not the extension, decides the format here.
        with open(path, "rb") as f:
            wb = openpyxl.load_workbook(io.BytesIO(f.read()), read_only=True)
    except Exception as e:  # openpyxl raises many types for broken workbooks
        raise LoadError(
            f"{Path(path).name} could not be opened as an Excel "
            f"workbook ({e}). Re-save it from Excel as .xlsx."
        ) from e
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _largest_sheet(path: Path) -> str | None:
    """The sheet with the most cells: workbooks often open on a notes or cover sheet."""
    import openpyxl

    sheets = excel_sheets(path)
    if len(sheets) < 2:
        return sheets[0] if sheets else None
    try:
        with open(path, "rb") as f:
            wb = openpyxl.load_workbook(io.BytesIO(f.read()), read_only=True)
        try:
            sizes = [(ws.max_row or 0) * (ws.max_column or 0) for ws in wb.worksheets]
        finally:
            wb.close()
    except Exception:  # noqa: BLE001 - sizes are a guess; the first sheet is the fallback
        return sheets[0]
    if len(sizes) != len(sheets):
        return sheets[0]
    return sheets[max(range(len(sizes)), key=lambda i: (sizes[i], -i))]


def _excel_title_rows(path: Path, sheet: str | None) -> int:
    """Rows above the header (a title, a date, blank rows): each holds at most one value, and the
    header below them is a full row of text."""
    if sheet is None:
        return 0
    try:
        head = pd.read_excel(path, sheet_name=sheet, engine="openpyxl", header=None, nrows=30)
    except Exception:  # noqa: BLE001 - the loader reports unreadable sheets itself
        return 0
    if head.empty or head.shape[1] < 2:
        return 0
    filled = head.notna().sum(axis=1)
    width = int(filled.max())
    for i in range(len(head)):
        if filled.iloc[i] > 1:
            row = head.iloc[i].dropna()
            full_text = filled.iloc[i] == width and all(isinstance(v, str) for v in row)
            return i if i > 0 and full_text else 0
    return 0


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


# =========================================================================== reader kwargs
def _csv_kwargs(o: LoadOptions) -> dict[str, Any]:
    """The read_csv arguments for options; load_table and load_code both use exactly these."""
    kw: dict[str, Any] = {"sep": o.delimiter or ",", "encoding": o.encoding or "utf-8"}
    if o.decimal != ".":
        kw["decimal"] = o.decimal
    if o.thousands:
        kw["thousands"] = o.thousands
    header_line = o.skip_rows + (o.header_row or 0)
    if o.column_names is not None:
        # Repaired header: skip it (when there is one) and name the columns ourselves.
        skip = header_line + 1 if o.header_row is not None else o.skip_rows
        if skip:
            kw["skiprows"] = skip
        kw["header"] = None
        kw["names"] = list(o.column_names)
    else:
        if o.skip_rows:
            kw["skiprows"] = o.skip_rows
        if o.header_row != 0:
            kw["header"] = o.header_row
    # One pass over the whole column decides its dtype (no mixed-type chunks).
    kw["low_memory"] = False
    return kw


def _excel_kwargs(o: LoadOptions) -> dict[str, Any]:
    kw: dict[str, Any] = {"sheet_name": o.sheet if o.sheet is not None else 0, "engine": "openpyxl"}
    if o.skip_rows:
        kw["skiprows"] = o.skip_rows
    if o.header_row != 0:
        kw["header"] = o.header_row
    return kw


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
    _read_head(p)  # empty / missing file errors
    opts = (options or sniff(p)).model_copy(deep=True)
    opts.column_names = None  # derived below from the file, never trusted from a caller
    size = p.stat().st_size
    if opts.format in ("csv", "json", "jsonl") and size > max_line_bytes:
        _check_line_lengths(p, max_line_bytes)
    try:
        if opts.format == "csv":
            table = _load_csv(p, opts, max_rows, size >= large_bytes, sample_rows, max_line_bytes)
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


def _check_line_lengths(p: Path, limit: int) -> None:
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


def _load_csv(
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
        kw = _csv_kwargs(o)
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
    # DuckDB refuses lines over max_line_size (default 2 MB): allow every line `_check_line_lengths`
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
            kw = _csv_kwargs(o)
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
    kw = _excel_kwargs(o)
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
    _apply_nested(df, warnings)
    _apply_tidy(df, o, warnings)
    return LoadedTable(df=df, options=o, warnings=warnings, sampled=sampled, n_rows_total=int(total))


def _apply_tidy(df: pd.DataFrame, o: LoadOptions, warnings: list[str]) -> None:
    names, w = tidy_names(list(df.columns))
    if names != list(df.columns):
        df.columns = names
        o.column_names = names
        warnings += w


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


def _apply_nested(df: pd.DataFrame, warnings: list[str]) -> None:
    converted = nested_to_text(df)
    if converted:
        names = [str(df.columns[i]) for i in converted]
        warnings.append(
            f"{len(names)} column(s) hold lists or objects ({_short(names)}); "
            "they were turned into JSON text, one value per cell."
        )


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
    _apply_nested(df, warnings)
    _apply_tidy(df, o, warnings)
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


# =========================================================================== code for the notebook
def load_code(ref: DatasetRef, rel_path: str) -> str:
    """Pandas code that loads the raw file into `df` exactly as `load_table` did (full data)."""
    o = ref.options
    path = repr(rel_path)
    lines = ["import pandas as pd", ""]
    if o.format == "csv":
        kw = _csv_kwargs(o)
        if o.column_names is not None:
            lines.append("# Column names as repaired on load (blank, duplicate or missing in the file)")
        lines.append(_call("df = pd.read_csv", path, kw))
    elif o.format == "excel":
        lines.append(_call("df = pd.read_excel", path, _excel_kwargs(o)))
        if o.column_names is not None:
            lines.append(f"df.columns = {list(o.column_names)!r}")
    elif o.format == "parquet":
        lines.append(f"df = pd.read_parquet({path})")
        if o.column_names is not None:
            lines.append(f"df.columns = {list(o.column_names)!r}")
    elif o.format == "jsonl":
        lines[0] = "import json\n\nimport pandas as pd"
        lines.append(f"with open({path}, encoding={(o.encoding or 'utf-8')!r}) as f:")
        lines.append("    df = pd.json_normalize([json.loads(line) for line in f if line.strip()])")
        if o.column_names is not None:
            lines.append(f"df.columns = {list(o.column_names)!r}")
    else:
        lines[0] = "import json\n\nimport pandas as pd"
        lines.append(f"with open({path}, encoding={(o.encoding or 'utf-8')!r}) as f:")
        lines.append("    data = json.load(f)")
        lines.append("# A list of records, or the first list inside an object ({'data': [...]}).")
        lines.append("if isinstance(data, dict):")
        lines.append("    lists = [v for v in data.values() if isinstance(v, list)]")
        lines.append("    columnar = lists and len(lists) == len(data) and len({len(v) for v in lists}) == 1")
        lines.append("    data = data if columnar else lists[0]")
        lines.append("df = pd.DataFrame(data) if isinstance(data, dict) else pd.json_normalize(data)")
        if o.column_names is not None:
            lines.append(f"df.columns = {list(o.column_names)!r}")
    if o.format in ("parquet", "json", "jsonl"):
        import inspect

        lines += [
            "",
            "",
            "# Cells holding lists or objects become JSON text, one value per cell (as in the app).",
            inspect.getsource(nested_to_text).rstrip(),
            "",
            "",
            "nested_to_text(df)",
        ]
    return "\n".join(lines) + "\n"


def _call(head: str, path: str, kw: dict[str, Any]) -> str:
    args = [path] + [f"{k}={v!r}" for k, v in kw.items()]
    one = f"{head}({', '.join(args)})"
    if len(one) <= 100:
        return one
    return f"{head}(\n" + "".join(f"    {a},\n" for a in args) + ")"
