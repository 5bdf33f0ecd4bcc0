# expect: refused
# mode: transform
# Replaces the harness's Parquet writer: the file is tiny (one dictionary entry, run-length
# encoded indices) but unpacks to ~4 GB of text. The server checks before it reads.
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import core.sandbox.worker as harness

PARAMS: dict = {}


def bomb(df, path, fsync=False):
    n = 4_000_000
    col = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype="int32")), pa.array(["z" * 1000]))
    pq.write_table(pa.table({"s": col}), str(path))
    return []


harness.write_parquet = bomb


def clean(df):
    return df
