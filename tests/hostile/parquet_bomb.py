# expect: refused
# mode: transform
# Replaces the harness's output writer: the Arrow data it sends back is small (one dictionary
# entry, 4 million int32 indices) but unpacks to ~4 GB of text. The server counts before pandas
# ever sees it.
import numpy as np
import pyarrow as pa

import core.sandbox.worker as harness

PARAMS: dict = {}


def bomb(df):
    n = 4_000_000
    col = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype="int32")), pa.array(["z" * 1000]))
    table = pa.table({"s": col})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue(), []


harness.frame_ipc = bomb


def clean(df):
    return df
