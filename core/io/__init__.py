"""Read any real table file: sniff how it is written, load it, say what went wrong.

`sniff` (core.io.sniff) decides format, delimiter, encoding, decimal comma and header row from
the file's bytes (not its extension). `load_table` (core.io.load) reads the file with those
options and returns the frame plus honest warnings; files above `LARGE_FILE_BYTES` are never read
whole into pandas: DuckDB counts the rows and draws a reservoir sample that pandas then parses
with the same options, so the sample's dtypes match a full pandas load. `load_code`
(core.io.code) renders the pandas code that reproduces `load_table`'s frame from the raw file
(the notebook's first cell); both are built from the same keyword arguments. core.io.table holds
what a load returns and the tidying every loader shares.
"""

from core.io.code import load_code
from core.io.load import load_table
from core.io.sniff import excel_sheets, sniff
from core.io.table import (
    LARGE_FILE_BYTES,
    MAX_LINE_BYTES,
    PREVIEW_CELL_CHARS,
    SAMPLE_ROWS,
    SAMPLE_SEED,
    LoadedTable,
    LoadError,
    nested_to_text,
    preview_frame,
    tidy_names,
)

__all__ = [
    "LARGE_FILE_BYTES",
    "MAX_LINE_BYTES",
    "PREVIEW_CELL_CHARS",
    "SAMPLE_ROWS",
    "SAMPLE_SEED",
    "LoadError",
    "LoadedTable",
    "excel_sheets",
    "load_code",
    "load_table",
    "nested_to_text",
    "preview_frame",
    "sniff",
    "tidy_names",
]
