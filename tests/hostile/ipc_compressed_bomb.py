# expect: refused
# mode: transform
# Sends its output as compressed Arrow data: zeros pack into almost nothing, and pyarrow would
# unpack each buffer to the size its message claims, whatever that is. Compressed output is
# refused before anything is decoded (the size here is kept small; the claim is what matters).
import pyarrow as pa

import core.sandbox.worker as harness

PARAMS: dict = {}


def bomb(df):
    table = pa.table({"x": pa.repeat(0, 2_000_000)})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as w:
        w.write_table(table)
    return sink.getvalue(), []


harness.frame_ipc = bomb


def clean(df):
    return df
