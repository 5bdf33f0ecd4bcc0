"""The reader keyword arguments for `LoadOptions` and the pandas code that replays a load.

`load_table` and `load_code` are built from the same arguments, so the notebook's first cell
reproduces the app's frame.
"""

from __future__ import annotations

from typing import Any

from core.io.table import nested_to_text
from core.models import DatasetRef, LoadOptions


# =========================================================================== reader kwargs
def csv_kwargs(o: LoadOptions) -> dict[str, Any]:
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


def excel_kwargs(o: LoadOptions) -> dict[str, Any]:
    kw: dict[str, Any] = {"sheet_name": o.sheet if o.sheet is not None else 0, "engine": "openpyxl"}
    if o.skip_rows:
        kw["skiprows"] = o.skip_rows
    if o.header_row != 0:
        kw["header"] = o.header_row
    return kw


# =========================================================================== code for the notebook
def load_code(ref: DatasetRef, rel_path: str) -> str:
    """Pandas code that loads the raw file into `df` exactly as `load_table` did (full data)."""
    o = ref.options
    path = repr(rel_path)
    lines = ["import pandas as pd", ""]
    if o.format == "csv":
        kw = csv_kwargs(o)
        if o.column_names is not None:
            lines.append("# Column names as repaired on load (blank, duplicate or missing in the file)")
        lines.append(_call("df = pd.read_csv", path, kw))
    elif o.format == "excel":
        lines.append(_call("df = pd.read_excel", path, excel_kwargs(o)))
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
