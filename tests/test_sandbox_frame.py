"""A transform's output as the job sends it back (Arrow IPC bytes on the result pipe) and as the
server takes it: checked in memory (`results.read_frame`), written as Parquet by the server
(`results.write_frame`), diffed straight from the table (`diff.diff_table`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from core import diff
from core.sandbox import LocalSandbox, SandboxJob
from core.sandbox.results import OutputRefused, data_columns, read_frame, split_record, write_frame
from core.sandbox.worker import frame_ipc

CAP = 64 * 2**20


def _ipc(table: pa.Table, **options: object) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(**options)) as w:
        w.write_table(table)
    return sink.getvalue().to_pybytes()


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "n": rng.normal(size=300),
            "k": rng.integers(0, 5, 300),
            "s": rng.choice(["a", "bb", None], 300),
            "c": pd.Categorical(rng.choice(["x", "y"], 300)),
            "d": pd.date_range("2024-01-01", periods=300, freq="h"),
            "b": rng.random(300) < 0.5,
        },
        index=pd.RangeIndex(300),
    )
    return df


def test_the_output_round_trips_exactly_as_a_parquet_read_would_give_it(tmp_path: Path) -> None:
    df = _frame()
    buf, notes = frame_ipc(df)
    table = read_frame(memoryview(buf), CAP)
    assert notes == [] and data_columns(table) == 6 and table.num_rows == 300
    digest = write_frame(table, tmp_path / "out.parquet")
    back = pd.read_parquet(tmp_path / "out.parquet")
    pd.testing.assert_frame_equal(back, df)
    assert len(digest) == 64
    # a stored (non-range) index is a column of the table but not a data column
    indexed = read_frame(memoryview(frame_ipc(df.set_index("k"))[0]), CAP)
    assert data_columns(indexed) == 5


@pytest.mark.parametrize("codec", ["zstd", "lz4"])
def test_compressed_output_is_refused_before_it_is_decoded(codec: str) -> None:
    data = _ipc(pa.table({"x": pa.repeat(0, 100_000)}), compression=codec)
    with pytest.raises(OutputRefused, match="compressed"):
        read_frame(data, CAP)
    # the same table uncompressed is fine
    assert read_frame(_ipc(pa.table({"x": pa.repeat(0, 100_000)})), CAP).num_rows == 100_000


def test_outputs_that_unpack_past_the_cap_are_refused() -> None:
    n = 2_000_000
    text_bomb = pa.table(
        {"s": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype="int32")), pa.array(["z" * 100]))}
    )
    with pytest.raises(OutputRefused, match="unpacks"):
        read_frame(_ipc(text_bomb), CAP)
    # a column of nulls has no buffers at all, yet pandas fills every row
    nulls = _ipc(pa.table({f"c{i}": pa.nulls(n) for i in range(5)}))
    assert len(nulls) < 10_000
    with pytest.raises(OutputRefused, match="unpacks"):
        read_frame(nulls, CAP)
    # run-end encoding: a handful of bytes for any number of rows
    ree = pa.RunEndEncodedArray.from_arrays(pa.array([n], pa.int32()), pa.array([1.0]))
    with pytest.raises(OutputRefused, match="does not read"):
        read_frame(_ipc(pa.table({"r": ree})), CAP)


def test_mangled_output_is_refused_not_half_read() -> None:
    good = _ipc(pa.table({"s": ["a", "b", "c"], "x": [1, 2, 3]}))
    for bad in (good[: len(good) // 2], b"\xff" * 64, b"", good[:8] + bytes(len(good) - 8)):
        with pytest.raises(OutputRefused):
            read_frame(bad, CAP)
    # offsets pointing past the data (pyarrow will not write them: patched into the bytes)
    data = _ipc(pa.table({"s": ["abc", "defgh"]}))
    offsets = np.array([0, 3, 8], dtype="<i4").tobytes()
    at = data.rfind(offsets + b"\x00" * 4)  # in the body: the offsets buffer, padded to 8 bytes
    assert at > 0
    broken = data[:at] + np.array([0, 3, 1_000_000], dtype="<i4").tobytes() + data[at + 12 :]
    with pytest.raises(OutputRefused, match="not readable"):
        read_frame(broken, CAP)


def test_the_result_record_takes_exactly_the_announced_bytes() -> None:
    layers = b'{"layers": {"netns": true}}\n'
    frame = b"\x00\x01\x02"
    ok = layers + b'{"ok": true, "frame_bytes": 3}\n' + frame
    got_layers, payload, got = split_record(ok)
    assert got_layers == {"netns": True, "landlock": None, "rlimits": None, "audit_hook": None}
    assert payload == {"ok": True} and got is not None and bytes(got) == frame
    for bad in (
        layers + b'{"ok": true, "frame_bytes": 4}\n' + frame,  # fewer bytes than announced
        layers + b'{"ok": true, "frame_bytes": "3"}\n' + frame,  # not a count
        layers + b'{"ok": true}\n' + frame,  # bytes nobody announced
    ):
        assert split_record(bad)[1] is None
    assert split_record(layers + b'{"ok": true}')[1] == {"ok": True}  # no trailing newline


def test_write_frame_never_follows_a_planted_link_or_leaves_the_root(tmp_path: Path) -> None:
    table = pa.table({"x": [1, 2]})
    root = tmp_path / "ws"
    (root / "runs").mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (root / "runs" / "out.parquet").symlink_to(victim)
    write_frame(table, root / "runs" / "out.parquet", root)
    assert victim.read_text() == "keep" and not (root / "runs" / "out.parquet").is_symlink()
    assert pd.read_parquet(root / "runs" / "out.parquet")["x"].tolist() == [1, 2]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "linked").symlink_to(outside)
    with pytest.raises(OutputRefused, match="outside"):
        write_frame(table, root / "linked" / "out.parquet", root)
    assert os.listdir(outside) == []


def test_the_diff_of_a_table_is_the_diff_of_its_file(tmp_path: Path) -> None:
    before = _frame()
    before.to_parquet(tmp_path / "before.parquet")
    after = before.drop_duplicates(subset=["k", "s"]).copy()
    after["s"] = after["s"].fillna("missing").str.upper()
    after["n2"] = after["n"] * 2
    table = read_frame(memoryview(frame_ipc(after)[0]), CAP)
    write_frame(table, tmp_path / "after.parquet")
    diff.clear_cache()
    from_file = diff.diff_parquet(tmp_path / "before.parquet", tmp_path / "after.parquet").step_fields()
    diff.clear_cache()
    from_table, _side = diff.diff_table(tmp_path / "before.parquet", table)
    assert from_table.step_fields() == from_file


def test_a_transform_comes_back_as_a_table_or_as_a_file(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    src = ws / "in.parquet"
    pd.DataFrame({"a": [1, 2, 3]}).to_parquet(src)
    code = "def clean(df):\n    df['b'] = df['a'] * 2\n    return df\n"
    with LocalSandbox(ws, require=()) as box:
        as_table = box.run(
            SandboxJob(
                code=code, entrypoint="clean", input_path=src, output_path=ws / "t.parquet", output="table"
            )
        )
        assert as_table.ok, as_table.error
        assert as_table.table.column("b").to_pylist() == [2, 4, 6] and as_table.shape == (3, 2)
        assert not (ws / "t.parquet").exists()  # nothing written: the caller writes its own copy
        as_file = box.run(
            SandboxJob(code=code, entrypoint="clean", input_path=src, output_path=ws / "f.parquet")
        )
        assert as_file.ok, as_file.error
        assert as_file.table is None and pd.read_parquet(ws / "f.parquet")["b"].tolist() == [2, 4, 6]
        # the slot a table run left (its job process still being reaped) serves the next run
        again = box.run(
            SandboxJob(
                code=code, entrypoint="clean", input_path=src, output_path=ws / "t.parquet", output="table"
            )
        )
        assert again.ok and again.table.num_rows == 3


def test_a_parquet_file_from_elsewhere_is_still_checked_before_it_is_read(tmp_path: Path) -> None:
    """The store's path for a sandbox that writes files: the footer and the decoded text size."""
    import pyarrow.parquet as pq

    from core.sandbox.results import check_parquet

    n = 2_000_000
    bomb = pa.table(
        {"s": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype="int32")), pa.array(["z" * 100]))}
    )
    pq.write_table(bomb, tmp_path / "bomb.parquet")
    assert (tmp_path / "bomb.parquet").stat().st_size < 1_000_000
    with pytest.raises(OutputRefused, match="text unpacks"):
        check_parquet(tmp_path / "bomb.parquet", CAP)
    pq.write_table(pa.table({"s": ["a", "b"]}), tmp_path / "fine.parquet")
    assert check_parquet(tmp_path / "fine.parquet", CAP) == (2, 1)
