"""What the parent accepts from a job process: nothing it has not checked itself.

The job process runs code written by a model or typed by a visitor, so everything it sends back
is untrusted: a forged field, a path it chose, a result of a gigabyte. Here the parent

- caps the bytes it reads from the result pipe and the size of `value`, each figure, stdout,
  stderr and the traceback;
- validates the result against a schema (typed model metrics for model jobs);
- derives every path itself: a model file is kept only when it is the path the parent asked
  for, opened without following symlinks and re-checked (by the opened descriptor) to lie inside
  the workspace;
- takes a transform's output only as the bytes it received (Arrow IPC, `read_frame`): refused if
  compressed, malformed (every offset checked) or too big once pandas holds it, then written as
  Parquet by the parent itself (`write_frame`).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
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


def split_record(data: bytes | bytearray) -> tuple[dict[str, Any] | None, Any, memoryview | None]:
    """(layers record, result payload, a transform's output bytes) from the result pipe's bytes;
    None/None/None when unreadable. The pipe carries a JSON line of layers (written before any
    job code ran), a JSON line of the payload and, when the payload says `frame_bytes`, that
    many bytes of Arrow IPC (returned as a view: never copied)."""
    first = data.find(b"\n")
    try:
        head = json.loads(bytes(data[: first if first >= 0 else len(data)]))
        layers = head.get("layers") if isinstance(head, dict) else None
    except ValueError:
        return None, None, None
    if not isinstance(layers, dict) or first < 0:
        return (None, None, None) if not isinstance(layers, dict) else (_layers(layers), None, None)
    second = data.find(b"\n", first + 1)
    end = second if second >= 0 else len(data)
    tail = end + 1 if second >= 0 else len(data)
    try:
        line = bytes(data[first + 1 : end])
        payload = json.loads(line) if line.strip() else None
    except ValueError:
        payload = None
    frame = None
    if isinstance(payload, dict) and "frame_bytes" in payload:
        # Exactly the announced bytes, or the payload is not believed.
        n = payload.pop("frame_bytes")
        if type(n) is int and len(data) - tail == n:
            frame = memoryview(data)[tail:]
        else:
            payload = None
    elif len(data) > tail:
        payload = None
    return _layers(layers), payload, frame


def _layers(layers: dict[str, Any]) -> dict[str, Any]:
    return {k: layers.get(k) for k in ("netns", "landlock", "rlimits", "audit_hook")}


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
                    total += _decoded_bytes(chunk)  # read as dictionary: counted per cell
            if total > stop_at:
                break
        return total


# ----------------------------------------------------------------------------- a transform's output
def _u32(buf: bytes, pos: int) -> int:
    if pos < 0:
        raise ValueError("negative offset")
    return int(struct.unpack_from("<I", buf, pos)[0])


def _fb_field(buf: bytes, table: int, index: int) -> int:
    """Where field `index` of the flatbuffer table at `table` lies (0: absent)."""
    vtable = table - int(struct.unpack_from("<i", buf, table)[0])
    if vtable < 0:
        raise ValueError("vtable outside the buffer")
    vt_len = int(struct.unpack_from("<H", buf, vtable)[0])
    slot = 4 + 2 * index
    off = int(struct.unpack_from("<H", buf, vtable + slot)[0]) if slot < vt_len else 0
    return table + off if off else 0


def _fb_table_at(buf: bytes, field: int) -> int:
    """The table a table-valued field (an offset) points to."""
    return field + _u32(buf, field)


def _body_compressed(metadata: bytes, kind: str) -> bool:
    """Whether an IPC message's body is compressed (format/Message.fbs: Message.header is field 2;
    RecordBatch.compression field 3; DictionaryBatch.data field 1). pyarrow decompresses into
    buffers as large as the message claims, so a compressed body is refused before decoding."""
    root = _u32(metadata, 0)
    header = _fb_field(metadata, root, 2)
    if not header:
        raise ValueError("a message without a header")
    batch = _fb_table_at(metadata, header)
    if kind == "dictionary":
        data = _fb_field(metadata, batch, 1)
        if not data:
            raise ValueError("a dictionary batch without data")
        batch = _fb_table_at(metadata, data)
    return bool(_fb_field(metadata, batch, 3))


def _decoded_bytes(arr: Any) -> int:
    """What one column chunk takes once pandas holds it: fixed-width values their width, each
    text, list, struct or other object-making cell a Python object (56 bytes, plus its text),
    a null cell a pointer. Counted from the lengths, never from the buffers: a column of nulls
    or of run-end-encoded values has no buffers to speak of, and pandas still fills every row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t, n = arr.type, len(arr)
    if isinstance(t, pa.ExtensionType):
        return _decoded_bytes(arr.storage)
    if pa.types.is_dictionary(t):
        values = arr.dictionary
        if (
            pa.types.is_string(values.type)
            or pa.types.is_large_string(values.type)
            or pa.types.is_binary(values.type)
            or pa.types.is_large_binary(values.type)
        ):
            lengths = pc.binary_length(values).fill_null(0)
            taken = pc.sum(pc.take(lengths, arr.indices.fill_null(0))).as_py() if n else 0
            return 56 * n + int(taken or 0)
        return 8 * n + _decoded_bytes(values)
    if pa.types.is_null(t):
        return 8 * n
    if pa.types.is_boolean(t):
        return n
    if (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_duration(t)
    ):
        return n * (t.bit_width // 8)
    if (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_fixed_size_binary(t)
    ):
        return 56 * n + int(pc.sum(pc.binary_length(arr)).as_py() or 0) if n else 0
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return 56 * n + _decoded_bytes(arr.values)
    if pa.types.is_map(t):
        return 56 * n + _decoded_bytes(arr.keys) + _decoded_bytes(arr.items)
    if pa.types.is_struct(t):
        return 56 * n + sum(_decoded_bytes(arr.field(i)) for i in range(t.num_fields))
    if pa.types.is_date(t) or pa.types.is_time(t) or pa.types.is_decimal(t) or pa.types.is_interval(t):
        return 56 * n  # one Python object per cell
    raise OutputRefused(f"the output has a column of type {t}, which the server does not read")


def read_frame(data: memoryview | bytes, max_bytes: int) -> Any:
    """A transform's output (Arrow IPC stream bytes the job sent) as a checked pyarrow Table;
    OutputRefused when it is malformed, compressed, or too big once pandas holds it.

    The bytes are in the server's memory, so the job cannot change them after the check.
    Uncompressed buffers are read in place (zero copy): decoding cannot take more memory than
    the bytes themselves; `validate(full=True)` then checks every offset and index before
    anything dereferences them; rows, columns and the decoded size are bounded like any output.
    """
    import pyarrow as pa

    if len(data) > max_bytes:
        raise OutputRefused(
            f"the output is {len(data) / 2**20:.0f} MB; the limit is {max_bytes / 2**20:.0f} MB"
        )
    buf = pa.py_buffer(data)
    try:
        reader = pa.ipc.MessageReader.open_stream(buf)
        while True:
            try:
                msg = reader.read_next_message()
            except StopIteration:
                break
            if msg.type in ("record batch", "dictionary"):
                if _body_compressed(msg.metadata.to_pybytes(), msg.type):
                    raise OutputRefused(
                        "the output is compressed Arrow data (refused: it could unpack to anything)"
                    )
            elif msg.type != "schema":
                raise OutputRefused(f"the output holds an Arrow {msg.type} message")
        table = pa.ipc.open_stream(buf).read_all()
        table.validate(full=True)
    except OutputRefused:
        raise
    except Exception as e:  # noqa: BLE001 - a mangled stream is refused, never half-read
        raise OutputRefused(f"the output is not readable Arrow data ({type(e).__name__})") from e
    rows, cols = table.num_rows, table.num_columns
    if rows > MAX_OUTPUT_ROWS or cols > MAX_OUTPUT_COLUMNS:
        raise OutputRefused(
            f"the output has {rows} rows x {cols} columns; "
            f"the limit is {MAX_OUTPUT_ROWS} x {MAX_OUTPUT_COLUMNS}"
        )
    decoded = 0
    for col in table.columns:
        for chunk in col.chunks:
            decoded += _decoded_bytes(chunk)
            if decoded > max_bytes:
                raise OutputRefused(
                    f"the output unpacks to over {max_bytes / 2**20:.0f} MB in memory; that is the limit"
                )
    return table


def take_frame(res: SandboxResult, job: SandboxJob, frame: memoryview) -> None:
    """Give an ok transform's result its output: the checked table (`read_frame`), its shape and
    the output path the parent chose (never one reported). OutputRefused when it is refused."""
    table = read_frame(frame, output_cap_bytes(job.limits))
    res.shape = (table.num_rows, data_columns(table))
    res._table = table
    res.output_path = Path(job.output_path) if job.output_path else None


def write_output(res: SandboxResult, job: SandboxJob, root: Path | None) -> None:
    """For a transform with output="file": write its table at `output_path` (`write_frame`;
    `root`: the workspace it must lie in) and drop the table, the file being the result.
    OutputRefused or OSError when it cannot be written."""
    if not (res.ok and job.mode == "transform" and job.output == "file" and res.table is not None):
        return
    try:
        write_frame(res.table, Path(job.output_path), root)  # type: ignore[arg-type]
    finally:
        res._table = None


def data_columns(table: Any) -> int:
    """Columns of `table` that are data (a stored pandas index is a column but not data)."""
    try:
        index_cols = (table.schema.pandas_metadata or {}).get("index_columns", [])
        return table.num_columns - sum(isinstance(c, str) for c in index_cols)
    except Exception:  # noqa: BLE001 - no (or odd) pandas metadata: every column is data
        return table.num_columns


def write_frame(table: Any, dest: Path, root: Path | None = None, sync: bool = False) -> str:
    """Write a checked output table as Parquet at `dest` (write, then rename); returns its
    sha256. Trusted code on checked data. With `root` (a folder a job could write to, the job
    being over), the folder `dest` lies in must really be inside `root`, and a link planted at
    `dest` is replaced, never followed. `sync`: fsync the data before the rename (a preview that
    may become a snapshot: its accept then finds nothing left to flush)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from core.sandbox.worker import text_columns

    if root is not None:
        parent = os.path.realpath(dest.parent)
        r = os.path.realpath(root)
        if not (parent == r or parent.startswith(r.rstrip("/") + "/")):
            raise OutputRefused("the output folder is outside the workspace")
    # Encoded in memory, hashed and written in one call each: the thread doing this (the store
    # writes previews while it diffs) then hardly needs the GIL, which the diff holds; a Python
    # file object or a chunked hash would wait for it at every call (up to 5 ms each).
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, use_dictionary=text_columns(table.schema))
    data = sink.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    tmp = dest.with_name(f".{dest.name}.{os.urandom(6).hex()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, 0o600)  # a new file of ours, never a link planted there
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, dest)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    return digest


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


def validate(
    payload: Any, job: SandboxJob, ws: Path, isolation: dict[str, Any], frame: memoryview | None = None
) -> SandboxResult:
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
        if job.output == "file" and job.output_path is None:
            return refused("Crash: no output path was given", "crash")
        if frame is None:
            return refused("Crash: the step sent back no data", "crash")
        try:
            take_frame(res, job, frame)
        except OutputRefused as e:
            return refused(f"Refused: {e}")
        # The file (output="file") is written by the parent once the job process is gone.
    if notes:
        res.stderr = (res.stderr + "\nnote: " + "; ".join(notes)).strip()
    return res
