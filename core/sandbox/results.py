"""What the parent accepts from a job process: nothing it has not checked itself.

The job process runs code written by a model or typed by a visitor, so everything it sends back
is untrusted: a forged field, a path it chose, a result of a gigabyte. Here the parent

- caps the bytes it reads from the result pipe and the size of `value`, each figure, stdout,
  stderr and the traceback;
- validates the result against a schema (typed model metrics for model jobs);
- derives every path itself: the transform output is the path the parent chose, opened without
  following symlinks and re-checked (by the opened descriptor) to lie inside the workspace; a
  model file is kept only when it is the path the parent asked for;
- checks an output Parquet file's size from its metadata (rows, columns, uncompressed bytes)
  before anything reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from core.sandbox.base import SandboxJob, SandboxLimits, SandboxResult

MAX_RESULT_BYTES = 32 * 1024 * 1024  # everything read from the result pipe
MAX_VALUE_BYTES = 4 * 1024 * 1024  # `value` as JSON (model metrics with charts fit easily)
MAX_FIGURE_BYTES = 2 * 1024 * 1024  # one plotly figure as JSON
MAX_FIGURES_BYTES = 8 * 1024 * 1024
MAX_FIGURES = 20
MAX_TRACEBACK = 8000
MAX_ERROR = 400
MAX_OUTPUT_ROWS = 50_000_000
MAX_OUTPUT_COLUMNS = 20_000
ERROR_KINDS = {"timeout", "memory", "refused", "crash", "exception", "contract"}


class OutputRefused(Exception):
    """An output file the parent will not read (outside the workspace, a link, too big)."""


class ModelMetrics(BaseModel):
    """The harness's model result as the parent accepts it (core.modeling_harness)."""

    model_config = ConfigDict(extra="allow")

    task: Literal["classification", "regression"]
    target: str
    primary_metric: str
    test: dict[str, float | None]
    cv: dict[str, Any] = {}
    baselines: dict[str, dict[str, Any]] = {}
    estimator: str = ""
    n_train: int
    n_test: int
    feature_columns: list[str] = []
    dropped_columns: list[str] = []
    notes: list[str] = []
    charts: dict[str, Any] = {}
    model_path: str | None = None


def _json_size(obj: Any) -> int:
    return len(json.dumps(obj, default=str))


def _text(v: Any, cap: int) -> str:
    s = v if isinstance(v, str) else ("" if v is None else str(v))
    return s if len(s) <= cap else s[:cap] + f"\n... [{len(s) - cap} more characters not shown]"


def refused(msg: str, kind: str = "refused") -> SandboxResult:
    return SandboxResult(ok=False, error_kind=kind, error=msg[:MAX_ERROR])


def split_record(data: bytes) -> tuple[dict[str, Any] | None, Any]:
    """(layers record, result payload) from the result pipe's bytes; None/None when unreadable."""
    head, _, rest = data.partition(b"\n")
    try:
        first = json.loads(head)
        layers = first.get("layers") if isinstance(first, dict) else None
    except ValueError:
        return None, None
    if not isinstance(layers, dict):
        return None, None
    try:
        payload = json.loads(rest) if rest.strip() else None
    except ValueError:
        payload = None
    return {k: layers.get(k) for k in ("netns", "landlock", "rlimits", "audit_hook")}, payload


def open_inside(path: str | Path, root: Path) -> int:
    """Open `path` read-only, never through a symlink, and only if the file really is in `root`.

    The check is made on the opened descriptor (/proc/self/fd), so a link or a directory swapped
    in between the check and the read cannot redirect the server to another file.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise OutputRefused(f"the output {Path(path).name} cannot be opened ({e.strerror})") from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OutputRefused("the output is not a regular file")
        real = (
            os.readlink(f"/proc/self/fd/{fd}") if os.path.isdir("/proc/self/fd") else os.path.realpath(path)
        )
        r = os.path.realpath(root)
        if not (real == r or real.startswith(r.rstrip("/") + "/")):
            raise OutputRefused("the output is outside the workspace")
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_parquet(fd_or_path: int | str | Path, max_bytes: int) -> tuple[int, int]:
    """(rows, columns) from the Parquet footer; OutputRefused when it is too big to read safely."""
    import pyarrow.parquet as pq

    if isinstance(fd_or_path, int):
        fh: Any = os.fdopen(os.dup(fd_or_path), "rb")
    else:
        fh = open(fd_or_path, "rb")
    with fh:
        size = os.fstat(fh.fileno()).st_size
        if size > max_bytes:
            raise OutputRefused(
                f"the output file is {size / 2**20:.0f} MB; the limit is {max_bytes / 2**20:.0f} MB"
            )
        try:
            md = pq.ParquetFile(fh).metadata
        except Exception as e:  # noqa: BLE001 - a mangled file is refused, never half-read
            raise OutputRefused(f"the output is not a readable Parquet file ({type(e).__name__})") from e
        rows, cols = int(md.num_rows), int(md.num_columns)
        try:  # a stored pandas index is a Parquet column but not a data column
            index_cols = (md.schema.to_arrow_schema().pandas_metadata or {}).get("index_columns", [])
            cols -= sum(isinstance(c, str) for c in index_cols)
        except Exception:  # noqa: BLE001, S110 - no pandas metadata: every column is data
            pass
        unpacked = sum(
            max(0, int(md.row_group(i).column(j).total_uncompressed_size))
            for i in range(md.num_row_groups)
            for j in range(md.row_group(i).num_columns)
        )
    if rows > MAX_OUTPUT_ROWS or cols > MAX_OUTPUT_COLUMNS:
        raise OutputRefused(
            f"the output has {rows} rows x {cols} columns; "
            f"the limit is {MAX_OUTPUT_ROWS} x {MAX_OUTPUT_COLUMNS}"
        )
    if unpacked > max_bytes:
        raise OutputRefused(
            f"the output unpacks to {unpacked / 2**20:.0f} MB; the limit is {max_bytes / 2**20:.0f} MB"
        )
    decoded = _decoded_text_bytes(fd_or_path, max_bytes)
    if decoded > max_bytes:
        raise OutputRefused(
            f"the output's text unpacks to {decoded / 2**20:.0f} MB; the limit is {max_bytes / 2**20:.0f} MB"
        )
    return rows, cols


def _decoded_text_bytes(fd_or_path: int | str | Path, stop_at: int) -> int:
    """Bytes the text columns take once decoded (pandas makes one object per cell).

    A dictionary-encoded column stores each distinct value once, so the footer's sizes say
    nothing about a column of 4 million copies of one 1 kB string. Reading it *as dictionary*
    costs only the encoded size; the decoded size is then summed from the dictionary's value
    lengths, one row group at a time, stopping as soon as it is over the cap.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    fh: Any = os.fdopen(os.dup(fd_or_path), "rb") if isinstance(fd_or_path, int) else open(fd_or_path, "rb")
    with fh:
        pf = pq.ParquetFile(fh)
        schema = pf.schema_arrow

        def is_text(t: Any) -> bool:
            if pa.types.is_dictionary(t):
                t = t.value_type
            return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t))

        text = [f.name for f in schema if is_text(f.type)]
        if not text:
            return 0
        pf = pq.ParquetFile(fh, read_dictionary=text)
        total = 0
        for i in range(pf.num_row_groups):
            table = pf.read_row_group(i, columns=text)
            for col in table.columns:
                for chunk in col.chunks:
                    total += 56 * len(chunk)  # a Python str object per cell
                    if pa.types.is_dictionary(chunk.type):
                        lengths = pc.binary_length(chunk.dictionary).fill_null(0)
                        total += int(pc.sum(pc.take(lengths, chunk.indices.fill_null(0))).as_py() or 0)
                    else:
                        total += chunk.nbytes
            if total > stop_at:
                break
        return total


def output_cap_bytes(limits: SandboxLimits) -> int:
    """The biggest output the server will read: what the step itself was allowed to write."""
    return int(min(limits.max_file_mb, max(limits.memory_mb, 64))) * 1024 * 1024


def copy_output(src: str | Path, root: Path, dest: Path, max_bytes: int) -> tuple[str, int]:
    """Copy a workspace output to `dest` (outside the workspace); returns (sha256, size).

    The copy is what may later become a snapshot: a job that rewrites or swaps the workspace
    file afterwards changes nothing the project uses.
    """
    fd = open_inside(src, root)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    h, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "rb") as fin, open(tmp, "wb") as fout:
            for chunk in iter(lambda: fin.read(1 << 20), b""):
                size += len(chunk)
                if size > max_bytes:
                    raise OutputRefused(f"the output is over {max_bytes / 2**20:.0f} MB")
                h.update(chunk)
                fout.write(chunk)
        # No fsync: a preview need not survive a crash; accepting it moves it durably.
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return h.hexdigest(), size


def _figures(raw: Any, notes: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    total = 0
    for fig in raw if isinstance(raw, list) else []:
        if len(out) >= MAX_FIGURES:
            notes.append(f"only the first {MAX_FIGURES} figures are kept")
            break
        if not isinstance(fig, dict):
            continue
        n = _json_size(fig)
        if n > MAX_FIGURE_BYTES or total + n > MAX_FIGURES_BYTES:
            notes.append(
                f"a figure of {n / 2**20:.1f} MB was dropped (limit {MAX_FIGURE_BYTES / 2**20:.0f} MB)"
            )
            continue
        total += n
        out.append(fig)
    return out


def validate(payload: Any, job: SandboxJob, ws: Path, isolation: dict[str, Any]) -> SandboxResult:
    """The parent's SandboxResult from an untrusted payload (see the module docstring)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("ok"), bool):
        return refused("Crash: the step returned an unreadable result", "crash")
    limits = job.limits
    notes: list[str] = []
    ok = payload["ok"]
    kind = payload.get("error_kind")
    res = SandboxResult(
        ok=ok,
        stdout=_text(payload.get("stdout"), limits.max_output_chars + 200),
        stderr=_text(payload.get("stderr"), limits.max_output_chars + 200),
        error=None
        if ok
        else " ".join(_text(payload.get("error") or "the step failed", MAX_ERROR).split())[:MAX_ERROR],
        error_kind=None if ok else (kind if kind in ERROR_KINDS else "crash"),
        traceback=None if payload.get("traceback") is None else _text(payload["traceback"], MAX_TRACEBACK),
        isolation=isolation,
    )
    res.figures = _figures(payload.get("figures"), notes)
    value = payload.get("value")
    if value is not None and _json_size(value) > MAX_VALUE_BYTES:
        return refused(
            f"Refused: the step's result is {_json_size(value) / 2**20:.1f} MB; the limit is "
            f"{MAX_VALUE_BYTES / 2**20:.0f} MB (return a summary, not the data)"
        )
    if ok and job.mode == "model":
        try:
            metrics = ModelMetrics.model_validate(value).model_dump(exclude_unset=False)
        except ValidationError as e:
            return refused(
                f"Crash: the model step returned malformed metrics ({e.errors()[0]['loc']})", "crash"
            )
        # Only the file the parent asked for, and only if it is a real file in the workspace.
        asked = (job.params or {}).get("model_path")
        metrics.pop("model_path", None)
        if asked and value.get("model_path") == asked:
            try:
                os.close(open_inside(asked, ws))
                metrics["model_path"] = str(asked)
            except OutputRefused:
                notes.append("the saved model file was not kept (not a regular file in the workspace)")
        value = metrics
    res.value = value
    if ok and job.mode == "transform":
        if job.output_path is None:
            return refused("Crash: no output path was given", "crash")
        try:
            fd = open_inside(job.output_path, ws)
            try:
                res.shape = check_parquet(fd, output_cap_bytes(limits))
            finally:
                os.close(fd)
        except OutputRefused as e:
            return refused(f"Refused: {e}")
        res.output_path = Path(job.output_path)  # the parent's path, never the one reported
    if notes:
        res.stderr = (res.stderr + "\nnote: " + "; ".join(notes)).strip()
    return res
