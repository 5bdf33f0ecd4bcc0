"""Rehearsal: a prepared job process does the kind of work a step does before its job arrives.

A job process is a fresh fork of the zygote, so the first pandas step it runs pays costs no warm
interpreter pays: copy-on-write faults on every inherited page it writes to (reference counts,
caches of the library paths it walks), fresh heap pages, and first-use set-up inside the
libraries (pyarrow's conversion of a frame took 33 ms on its first call, 9 ms after). Measured on
the benchmark's 50,000-row clean step: ~6,700 page faults, its code and Parquet write ~120 ms in a
fresh job process vs ~95 ms in one that rehearsed (~1,000 faults). Telling glibc to keep freed
memory as well made no difference (measured, interleaved) and made the exit slower: not done.

A prepared process (`LocalSandbox.prepare`) waits while the user reads the page. It spends that
time on ordinary pandas work (what clean and feature steps are made of, and the output's
conversion to Arrow IPC in memory) on a bounded part of its own input, then lets it go. This is
trusted code, run before any job code, on the input this process was prepared for (nothing of
another job reaches it), and it stops as soon as the job arrives.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from typing import Any

# The rehearsal's bounds: what it copies and works on is at most this big (the server's memory
# is limited: 2.7 GB on Community Cloud). It may share the CPU with a proposal being generated
# (~170 ms of one core for 50,000 rows x 10 columns, ~0.4 s at this bound), and a job that comes
# in the middle of an operation waits for its end (the longest, de-duplicating the whole part:
# ~80 ms at this bound, measured on 100,000 rows x 10 columns).
MAX_BYTES = 8 << 20
MAX_COLUMNS = 64


def bounded_part(frame: Any) -> Any:
    """The first rows and columns of `frame` that fit `MAX_BYTES` (shallow memory count)."""
    part = frame.iloc[:, :MAX_COLUMNS]
    per_row = max(1, int(part.memory_usage(index=False, deep=False).sum()) // max(1, len(part)))
    return part.iloc[: max(1, MAX_BYTES // per_row)]


# Operations that allocate like a step (new columns, filtered copies) run on the whole bounded
# part: they touch memory the way the step will. The rest only has to run its library code once,
# which a few hundred rows do (element-wise parsing of a long text column would take seconds).
CODE_PATH_ROWS = 256


def _operations(df: Any) -> Iterator[Callable[[], Any]]:
    """The rehearsal, one small operation at a time (the caller checks for the job in between):
    first whole-frame and whole-column work and the output's conversion (Arrow IPC, in memory),
    then what each kind of column meets in clean and feature steps, on a few rows."""
    import pandas as pd

    from core.sandbox.worker import frame_ipc

    def write() -> None:
        frame_ipc(df)  # what the job does with its output: Arrow IPC bytes in memory

    few = df.head(CODE_PATH_ROWS)
    numeric = [
        c
        for c in df.columns
        if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
    ]
    text = [c for c in df.columns if df[c].dtype == object or pd.api.types.is_string_dtype(df[c])]
    yield lambda: df.isna().sum()
    yield lambda: df.drop_duplicates().reset_index(drop=True)
    yield write
    for name in numeric:
        yield lambda c=df[name]: c.fillna(c.median())
    for name in text:
        yield lambda c=df[name]: c.str.strip()
    yield lambda: few.dropna(how="all").groupby(few.columns[0], sort=False, dropna=False).size()
    for name in few.columns:
        c = few[name]
        if name in numeric:
            yield lambda c=c: ((c - c.mean()) / (c.std() or 1.0)).clip(-3, 3).round(2)
        elif name in text:
            yield lambda c=c: c.fillna("missing").str.lower().str.title().value_counts()
            yield lambda c=c: (pd.to_numeric(c, errors="coerce"), pd.to_datetime(c, errors="coerce"))
            yield lambda c=c: c.astype("category").cat.codes
        elif pd.api.types.is_datetime64_any_dtype(c):
            yield lambda c=c: (c.dt.year, c.dt.month, c.dt.dayofweek)
        elif pd.api.types.is_bool_dtype(c):
            yield lambda c=c: c.astype("int64").sum()


def rehearse(frame: Any, job_arrived: Callable[[], bool]) -> int:
    """Run the rehearsal on a bounded copy of `frame` until done or until `job_arrived()`;
    returns how many operations ran. Never raises: it only warms, it decides nothing."""
    done = 0
    try:
        if frame is None or len(frame) == 0 or frame.shape[1] == 0 or job_arrived():
            return 0
        work = bounded_part(frame).copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. to_datetime's "could not infer format"
            for op in _operations(work):
                if job_arrived():
                    break
                with contextlib.suppress(Exception):  # a column an operation does not fit
                    op()
                done += 1
        del work  # no gc.collect(): it would touch every object of the zygote's imports (~40 ms)
    except Exception:  # noqa: BLE001, S110 - warming is optional: the job runs the same either way
        pass
    return done
