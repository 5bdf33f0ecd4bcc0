"""Decide from a file's bytes how it is written: format, encoding, delimiter, decimal comma,
header row, Excel sheet and title rows (never from the extension).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd

from core.io.table import LoadError
from core.models import LoadOptions

# Bytes read from the head of the file for sniffing.
_SNIFF_BYTES = 256 * 1024
_DELIMITERS = (",", ";", "\t", "|")


# =========================================================================== sniffing
def sniff(path: str | Path) -> LoadOptions:
    """Guess how the file is written from its content. Raises LoadError for unusable files."""
    p = Path(path)
    head = read_head(p)
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


def read_head(p: Path) -> bytes:
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
