"""Sandbox harness: what a job process does with a job (transform, model or script mode).

`execute_job` runs inside the contained job process that `core.sandbox.zygote` forks for each
job, and in-process for benchmarks (`NotASandbox`), so both paths share one harness: transform
(fn(df) -> DataFrame, sent back as Arrow IPC bytes: `frame_ipc`), model (core.modeling_harness)
and script (prints, figures and a `result`). Everything it returns is re-checked by the parent (results.py).
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

USER_FILENAME = "<step>"
MAX_FIGURES = 20
MAX_ROWS_IN_VALUE = 200


# ----------------------------------------------------------------------------- output capture
class CappedWriter(io.TextIOBase):
    """A stdout/stderr stand-in that keeps the first `limit` characters and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:  # type: ignore[override]
        s = str(s)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(s[:room])
            self.kept += min(len(s), room)
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def getvalue(self) -> str:
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n... [{self.dropped} more characters not shown]"
        return text


# ----------------------------------------------------------------------------- Parquet
def _isna(v: Any) -> bool:
    try:
        import pandas as pd

        return v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and math.isnan(v))
    except Exception:  # noqa: BLE001
        return v is None


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out: list[str] = []
    taken = set(names)
    for n in names:
        if n not in seen:
            seen[n] = 1
            out.append(n)
            continue
        k = seen[n] + 1
        while f"{n}_{k}" in taken:
            k += 1
        seen[n] = k
        taken.add(f"{n}_{k}")
        out.append(f"{n}_{k}")
    return out


def parquet_ready(df: Any) -> tuple[Any, list[str]]:
    """Column names as unique strings (MultiIndex joined); returns the frame and notes."""
    import pandas as pd

    notes: list[str] = []
    if isinstance(df.columns, pd.MultiIndex):
        names = ["_".join(str(x) for x in tup if str(x) not in ("", "nan")) or "column" for tup in df.columns]
        notes.append("multi-level column names joined with '_'")
    else:
        names = [str(c) for c in df.columns]
    unique = _unique_names(names)
    if unique != names:
        notes.append("duplicate column names made unique")
    if unique != list(df.columns):
        df = df.copy(deep=False)
        df.columns = unique
    return df, notes


def parquet_table(df: Any) -> tuple[Any, list[str], list[str] | bool]:
    """Any valid pandas DataFrame as a pyarrow Table; returns (table, conversion notes, the
    `use_dictionary` argument for `pq.write_table`).

    The fast path converts the frame as is; when pyarrow refuses a column (mixed types in an
    object column, complex numbers, float16, odd extension types) that column becomes text with
    missing values kept missing, and an index pyarrow cannot store is dropped.
    """
    import pyarrow as pa

    df, notes = parquet_ready(df)
    try:
        # One thread: faster for step-sized frames (6 ms vs 9 ms for 50,000 x 10, measured),
        # and a job process has one core to itself.
        table = pa.Table.from_pandas(df, nthreads=1)
    except Exception:  # noqa: BLE001 - fall back to column-by-column conversion below
        df = df.copy()
        for i, name in enumerate(df.columns):
            col = df.iloc[:, i]
            if str(col.dtype) == "float16":
                df.isetitem(i, col.astype("float32"))
                continue
            try:
                pa.array(col, from_pandas=True)
            except Exception:  # noqa: BLE001
                df.isetitem(i, col.map(lambda v: None if _isna(v) else str(v)).astype("object"))
                notes.append(f"column {name!r} stored as text (mixed or unsupported types)")
        try:
            table = pa.Table.from_pandas(df)
        except Exception:  # noqa: BLE001 - the index is the last thing pyarrow may refuse
            df = df.reset_index(drop=True)
            notes.append("index dropped (not storable)")
            table = pa.Table.from_pandas(df)
    return table, notes, text_columns(table.schema)


def text_columns(schema: Any) -> list[str] | bool:
    """The `use_dictionary` argument for `pq.write_table`: dictionary encoding for text columns
    only (on numeric columns it costs ~3x the write time for no gain)."""
    import pyarrow as pa

    text = [
        f.name
        for f in schema
        if pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_binary(f.type)
        or pa.types.is_dictionary(f.type)
    ]
    return text or False


def frame_ipc(df: Any) -> tuple[Any, list[str]]:
    """A transform's output as the job sends it back: an uncompressed Arrow IPC stream in memory
    (a pyarrow Buffer), written after the result line on the result pipe. No file: the server
    checks and decodes the bytes it received (`results.read_frame`) and writes any Parquet itself.
    Returns (buffer, conversion notes)."""
    import pyarrow as pa

    table, notes, _ = parquet_table(df)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue(), notes


def write_parquet(df: Any, path: str | Path, fsync: bool = False) -> list[str]:
    """Write any valid pandas DataFrame as Parquet (write-then-rename, see `parquet_table`);
    returns conversion notes."""
    import pyarrow.parquet as pq

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    table, notes, use_dictionary = parquet_table(df)
    pq.write_table(table, tmp, use_dictionary=use_dictionary)
    if fsync:  # durable snapshots; sandbox outputs are moved (and synced) by the store
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
    os.replace(tmp, path)
    return notes


# ----------------------------------------------------------------------------- JSON-safe values
def jsonable(value: Any, figures: list[dict[str, Any]] | None = None, depth: int = 0) -> Any:
    """A JSON-safe rendering of what user code returned (tables trimmed, floats finite)."""
    if depth > 6:
        return repr(value)[:500]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    mod = type(value).__module__ or ""
    if mod.startswith("numpy"):
        import numpy as np

        if isinstance(value, np.generic):
            return jsonable(value.item(), figures, depth + 1)
        if isinstance(value, np.ndarray):
            flat = value.ravel()[:1000].tolist()
            return {"type": "array", "shape": list(value.shape), "data": jsonable(flat, figures, depth + 1)}
    if mod.startswith("pandas"):
        import pandas as pd

        if isinstance(value, pd.DataFrame):
            head = value.head(MAX_ROWS_IN_VALUE)
            return {
                "type": "dataframe",
                "shape": list(value.shape),
                "columns": [str(c) for c in value.columns],
                "index": jsonable(head.index.tolist(), figures, depth + 1),
                "data": jsonable(head.to_numpy().tolist(), figures, depth + 1),
            }
        if isinstance(value, pd.Series):
            head = value.head(MAX_ROWS_IN_VALUE)
            return {
                "type": "series",
                "name": str(value.name),
                "length": len(value),
                "index": jsonable(head.index.tolist(), figures, depth + 1),
                "data": jsonable(head.tolist(), figures, depth + 1),
            }
        if _isna(value):
            return None
        if isinstance(value, pd.Timestamp | pd.Timedelta):
            return str(value)
    if mod.startswith("plotly") and hasattr(value, "to_plotly_json"):
        if figures is not None:
            _add_figure(figures, value)
        return {"type": "figure"}
    if isinstance(value, dict):
        return {str(k): jsonable(v, figures, depth + 1) for k, v in list(value.items())[:1000]}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, figures, depth + 1) for v in list(value)[:1000]]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return repr(value)[:2000]


def _add_figure(figures: list[dict[str, Any]], fig: Any) -> None:
    if len(figures) >= MAX_FIGURES:
        return
    try:
        d = json.loads(fig.to_json())
    except Exception:  # noqa: BLE001 - a figure that cannot serialise is skipped, not fatal
        return
    if d not in figures:
        figures.append(d)


class _FigureCapture:
    """Collects figures passed to `Figure.show()` / `plotly.io.show()` instead of opening a browser."""

    def __init__(self, figures: list[dict[str, Any]]) -> None:
        self.figures = figures
        self.saved: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> _FigureCapture:
        try:
            import plotly.basedatatypes as bdt
            import plotly.io as pio
        except ImportError:
            return self

        def show(fig: Any, *_a: Any, **_k: Any) -> None:
            _add_figure(self.figures, fig)

        for owner, name in ((bdt.BaseFigure, "show"), (pio, "show")):
            self.saved.append(
                (owner, name, owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name))
            )
            setattr(owner, name, show)
        return self

    def __exit__(self, *exc: Any) -> None:
        for owner, name, orig in self.saved:
            setattr(owner, name, orig)


def _joblib_in_process() -> Any:
    """`n_jobs=-1` (GridSearchCV, cross_val_score) would start worker processes, which the
    sandbox refuses, and joblib's thread pool needs POSIX semaphores in /dev/shm, which it
    cannot write; the sequential backend gives the same results inside the one process."""
    try:
        from joblib import parallel_config

        return parallel_config(backend="sequential")
    except Exception:  # noqa: BLE001 - an old joblib: processes stay refused, with a clear error
        from contextlib import nullcontext

        return nullcontext()


# ----------------------------------------------------------------------------- the job
class ContractError(Exception):
    """The code ran but did not honour the stage contract."""


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    msg = f"{type(e).__name__}: {text[0]}" if text else type(e).__name__
    return msg[:300]


def classify(e: BaseException, limits: dict[str, Any]) -> tuple[str, str]:
    """(error_kind, one-line error) for an exception raised by job code."""
    from core.sandbox.guard import SandboxRefused

    if isinstance(e, ContractError):
        return "contract", f"ContractError: {str(e)[:300]}"
    if isinstance(e, MemoryError):
        return "memory", f"MemoryError: the step needed more than its {limits.get('memory_mb')} MB memory cap"
    if isinstance(e, SandboxRefused):
        return "refused", f"Refused: {str(e)[:300]}"
    if isinstance(e, PermissionError):  # the kernel layer (Landlock) said no
        return "refused", f"Refused: the sandbox does not allow this ({str(e)[:250]})"
    if isinstance(e, SystemExit):
        return "exception", f"SystemExit: the code called sys.exit({e.code!r}); steps must return instead"
    if isinstance(e, KeyboardInterrupt):
        return "exception", "KeyboardInterrupt: the code interrupted itself"
    return "exception", _one_line(e)


def _user_traceback(e: BaseException) -> str:
    """The traceback without the harness's and the guard's own frames (they only add noise)."""
    hidden = {os.path.abspath(__file__), os.path.join(os.path.dirname(os.path.abspath(__file__)), "guard.py")}
    try:
        te = traceback.TracebackException(type(e), e, e.__traceback__)
        te.stack = traceback.StackSummary.from_list([f for f in te.stack if f.filename not in hidden])
        text = "".join(te.format())
    except Exception:  # noqa: BLE001 - fall back to the plain format
        text = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    return text[-8000:]


def execute_job(
    job: dict[str, Any],
    user_filename: str = USER_FILENAME,
    refusals: list[str] | None = None,
    frame: Any = None,
) -> dict[str, Any]:
    """Run one SandboxJob (as a JSON dict) here; return SandboxResult fields. Never raises.

    `refusals` is the guard's live list of refused operations: a failure after a refusal is
    reported as "refused" even when a library wrapped the refusal in its own exception.
    `frame` is the input already in memory (the zygote's cache, a private copy-on-write view).
    """
    limits = job.get("limits") or {}
    cap = int(limits.get("max_output_chars", 20_000))
    out, err = CappedWriter(cap), CappedWriter(cap)
    figures: list[dict[str, Any]] = []
    res: dict[str, Any] = {"ok": False}
    t0 = time.perf_counter()
    mode = job.get("mode", "transform")
    entry = job.get("entrypoint")
    try:
        with redirect_stdout(out), redirect_stderr(err), _FigureCapture(figures), _joblib_in_process():
            import pandas as pd

            ns: dict[str, Any] = {"__name__": "__step__", "__builtins__": __builtins__}
            df = None
            if frame is not None:
                df = frame
            elif job.get("input_path"):
                df = pd.read_parquet(job["input_path"])
            if mode == "script" and df is not None:
                ns["df"] = df
            code = compile(job.get("code", ""), user_filename, "exec")
            exec(code, ns)  # noqa: S102 - this IS the sandboxed execution
            fn = ns.get(entry) if entry else None
            if entry and mode != "script" and not callable(fn):
                raise ContractError(f"the code must define a function {entry}(...)")
            if mode == "transform":
                if df is None:
                    raise ContractError("no input data was given to the step")
                out_df = fn(df)  # type: ignore[misc]
                if not isinstance(out_df, pd.DataFrame):
                    raise ContractError(
                        f"{entry}() returned {type(out_df).__name__}, expected a pandas DataFrame"
                    )
                frame, notes = frame_ipc(out_df)
                res.update(shape=list(out_df.shape), frame=frame)
                if notes:
                    print("note: " + "; ".join(notes), file=sys.stderr)
            elif mode == "model":
                if df is None:
                    raise ContractError("no input data was given to the model step")
                from core.modeling_harness import train_and_evaluate

                res["value"] = jsonable(train_and_evaluate(df, fn, **(job.get("params") or {})))
            else:
                if callable(fn):
                    value = fn(df) if df is not None else fn()
                else:
                    value = ns.get("result")
                res["value"] = jsonable(value, figures)
            for v in list(ns.values()):
                if type(v).__module__.startswith("plotly") and hasattr(v, "to_plotly_json"):
                    _add_figure(figures, v)
        res["ok"] = True
    except BaseException as e:  # noqa: BLE001 - everything the code does becomes a typed result
        kind, line = classify(e, limits)
        if kind == "exception" and refusals:
            kind, line = "refused", f"Refused: {refusals[0][:250]} ({_one_line(e)[:120]})"
        res.update(ok=False, error=line, error_kind=kind, traceback=_user_traceback(e))
    if res["ok"] and refusals:
        err.write("\nnote: " + "; ".join(dict.fromkeys(refusals)))
    res.update(
        stdout=out.getvalue(), stderr=err.getvalue(), figures=figures, duration_s=time.perf_counter() - t0
    )
    return res
