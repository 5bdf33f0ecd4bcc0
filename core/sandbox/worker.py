"""Sandbox worker: a warm "zygote" process that forks one throwaway process per job.

Started by `LocalSandbox` as `python -I -s core/sandbox/worker.py --root <project root>` (a fresh
interpreter, never a fork of the Streamlit server), it imports pandas, numpy, pyarrow,
scikit-learn and plotly once, then serves JSON lines on stdin/stdout:

    parent -> {"job": {...SandboxJob...}, "workspace": "...", "limits": {...}}
    worker -> {"event": "started", "pid": <job pid>}
    worker -> {"event": "done", "status": {...}, "payload": {...SandboxResult fields...} | null}

Each job runs in a child forked from the warm zygote: the child starts with everything imported
(a fork costs milliseconds) and exits after the job, so monkey-patching pandas, leaked threads or
a poisoned namespace never reach the next step. The child moves into its own process group (so
the parent can kill everything it did), applies `core.sandbox.guard` (rlimits, network namespace,
Landlock, audit hook), runs the job through `execute_job` and writes its result to a pipe.

`execute_job` is also what `NotASandbox` runs in-process for benchmarks, so both paths share one
harness: transform (fn(df) -> DataFrame written as Parquet), model (core.modeling_harness) and
script (prints, figures and a `result`).
"""

from __future__ import annotations

import io
import json
import math
import os
import select
import signal
import sys
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

USER_FILENAME = "<step>"
MAX_FIGURES = 20
MAX_ROWS_IN_VALUE = 200
CACHE_MAX_BYTES = 512 * 1024 * 1024  # inputs above this are read by each job instead


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


def write_parquet(df: Any, path: str | Path, fsync: bool = False) -> list[str]:
    """Write any valid pandas DataFrame as Parquet (write-then-rename); returns conversion notes.

    The fast path converts the frame as is; when pyarrow refuses a column (mixed types in an
    object column, complex numbers, float16, odd extension types) that column becomes text with
    missing values kept missing, and an index pyarrow cannot store is dropped. Dictionary
    encoding is used for text columns only: on numeric columns it costs ~3x the write time for
    no gain (measured in benchmarks/sandbox_overhead.py).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    df, notes = parquet_ready(df)
    try:
        table = pa.Table.from_pandas(df)
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
    text_cols = [
        f.name
        for f in table.schema
        if pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_binary(f.type)
        or pa.types.is_dictionary(f.type)
    ]
    pq.write_table(table, tmp, use_dictionary=text_cols or False)
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
                if not job.get("output_path"):
                    raise ContractError("no output path was given to the step")
                notes = write_parquet(out_df, job["output_path"])
                res.update(output_path=job["output_path"], shape=list(out_df.shape))
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


# ----------------------------------------------------------------------------- zygote
def _warm_imports() -> None:
    import numpy  # noqa: F401
    import pandas
    import plotly.express  # noqa: F401
    import plotly.graph_objects
    import plotly.io  # noqa: F401
    import plotly.io._renderers  # noqa: F401 - `plotly.io.show` is lazy; resolve it before forking
    import pyarrow.parquet  # noqa: F401
    import sklearn.compose  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import sklearn.impute  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.pipeline  # noqa: F401
    import sklearn.preprocessing  # noqa: F401

    try:
        import core.modeling_harness  # noqa: F401
    except Exception:  # noqa: BLE001, S110 - imported lazily by model jobs if it appears later
        pass
    # Exercise the lazy paths once (Parquet engine lookup, plotly JSON) so forks start warm.
    buf = io.BytesIO()
    frame = pandas.DataFrame(
        {"a": [1.0, None], "b": ["x", None], "c": pandas.to_datetime(["2024-01-01", None])}
    )
    frame.to_parquet(buf)
    buf.seek(0)
    pandas.read_parquet(buf)
    plotly.graph_objects.Figure(data=[plotly.graph_objects.Bar(x=[1], y=[1])]).to_json()


def _status(raw: int) -> dict[str, Any]:
    if os.WIFSIGNALED(raw):
        return {"signal": os.WTERMSIG(raw)}
    return {"exit_code": os.WEXITSTATUS(raw) if os.WIFEXITED(raw) else -1}


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def _die_with_parent() -> None:
    """SIGKILL this job if the zygote dies (the zygote is single-threaded, so its main thread's
    death is the process's); Linux only, best effort."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001, S110 - not available on this platform
        pass
    if os.getppid() == 1:  # the zygote was already gone before the death signal was armed
        os._exit(1)


def _child(
    msg: dict[str, Any],
    w: int,
    proto_fds: tuple[int, ...],
    baseline_vm: int,
    read_roots: list[str],
    frame: Any,
) -> None:
    """Runs in the forked job process; never returns."""
    payload: dict[str, Any]
    try:
        os.setpgid(0, 0)
        _die_with_parent()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        for fd in proto_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        from core.sandbox import guard

        ws = os.path.realpath(msg["workspace"])
        tmp = os.path.join(ws, "tmp")
        os.makedirs(tmp, exist_ok=True)
        os.chdir(ws)
        os.environ.update(HOME=ws, TMPDIR=tmp)
        import tempfile

        tempfile.tempdir = None
        lim = msg["job"].get("limits") or {}
        guard.apply_rlimits(
            int(lim.get("memory_mb", 2048)),
            int(math.ceil(lim.get("cpu_s", 120))),
            int(lim.get("max_file_mb", 1024)),
            baseline_vm,
        )
        # The input may live outside the workspace (an immutable snapshot): readable, not writable.
        inp = msg["job"].get("input_path")
        roots = [*read_roots, os.path.realpath(inp)] if inp else list(read_roots)
        netns = guard.enter_network_namespace()
        landlock = guard.apply_landlock(ws, roots)
        guard.neuter_process_spawning()
        refusals = guard.install_audit_hook(ws, roots, (USER_FILENAME,))
        payload = execute_job(msg["job"], refusals=refusals, frame=frame)
        payload["isolation"] = {"netns": netns, "landlock": landlock, "audit_hook": True, "rlimits": True}
        data = json.dumps(payload, default=str).encode()
    except BaseException as e:  # noqa: BLE001
        data = json.dumps(
            {"ok": False, "error_kind": "crash", "error": f"sandbox setup failed: {_one_line(e)}"}
        ).encode()
    try:
        _write_all(w, data)
    finally:
        os._exit(0)


def _cached_input(cache: dict[str, Any], path: str | None) -> Any:
    """The input frame, read once per file version and inherited by each fork for free.

    Steps on one snapshot come in runs (preview, accept, repair attempts); reading the Parquet
    once in the zygote instead of in every job removes the biggest per-step cost. The key
    includes size, mtime and inode, so a changed file is read again. Children get copy-on-write
    pages: whatever a step does to its frame stays in that step.
    """
    if not path:
        return None
    try:
        st = os.stat(path)
        if st.st_size > CACHE_MAX_BYTES:
            return None
        key = (os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino)
        if cache["key"] != key:
            import pandas as pd

            cache["key"], cache["frame"] = None, None
            cache["frame"], cache["key"] = pd.read_parquet(path), key
        return cache["frame"]
    except Exception:  # noqa: BLE001 - the job reads (and reports on) the file itself
        return None


def serve(root: str) -> None:
    """The zygote loop (see module docstring)."""
    if root not in sys.path:
        sys.path.insert(0, root)
    # The protocol gets private descriptors; fd 1/2 go to /dev/null so stray prints cannot corrupt it.
    proto_in = os.dup(0)
    proto_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    _warm_imports()
    from core.sandbox import guard

    read_roots = guard.default_read_roots()
    guard.landlock_abi()  # loads and caches libc for the children
    baseline_vm = guard._vm_size_bytes()
    inp = os.fdopen(proto_in, "r", encoding="utf-8")
    out = os.fdopen(proto_out, "w", encoding="utf-8")

    def send(obj: dict[str, Any]) -> None:
        out.write(json.dumps(obj) + "\n")
        out.flush()

    send({"event": "ready", "pid": os.getpid(), "landlock_abi": guard.landlock_abi()})
    cache: dict[str, Any] = {"key": None, "frame": None}
    for line in inp:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("op") == "exit":
            break
        frame = _cached_input(cache, msg["job"].get("input_path"))
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            _child(msg, w, (proto_in, proto_out), baseline_vm, read_roots, frame)
        os.close(w)
        send({"event": "started", "pid": pid})
        chunks = []
        while True:
            # Also watch our stdin: the parent never writes during a job, so anything there
            # (normally EOF: the server died or closed us) means stop the job and exit, so
            # no job outlives its server, even one that sleeps instead of burning CPU.
            ready, _, _ = select.select([r, proto_in], [], [])
            if proto_in in ready and r not in ready:
                _kill_group(pid)
                os.waitpid(pid, 0)
                os._exit(0)
            b = os.read(r, 1 << 20)
            if not b:
                break
            chunks.append(b)
        os.close(r)
        _, raw = os.waitpid(pid, 0)
        try:
            payload = json.loads(b"".join(chunks)) if chunks else None
        except ValueError:
            payload = None
        send({"event": "done", "status": _status(raw), "payload": payload})


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    serve(ap.parse_args().root)
