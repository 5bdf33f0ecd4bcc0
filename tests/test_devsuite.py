"""Development suite: every dataset materialises once, with its target."""

from __future__ import annotations

import pandas as pd

from core.devsuite import DEV_SUITE, dev_dataset, materialize


def test_suite_is_big_and_mixed():
    assert len(DEV_SUITE) >= 8
    assert len({d.name for d in DEV_SUITE}) == len(DEV_SUITE)
    tasks = {d.task for d in DEV_SUITE}
    assert tasks == {"classification", "regression"}
    for d in DEV_SUITE:
        assert d.origin and d.licence


def test_every_dataset_materialises_with_its_target(tmp_path):
    n_multiclass = n_binary = n_text_cols = 0
    for d in DEV_SUITE:
        p = materialize(d, tmp_path)
        df = pd.read_csv(p)
        assert d.target in df.columns, d.name
        assert len(df) >= 100 and df.shape[1] >= 3, d.name
        if d.task == "classification":
            k = df[d.target].nunique()
            assert 2 <= k <= 20, d.name
            n_binary += k == 2
            n_multiclass += k > 2
        else:
            assert pd.api.types.is_numeric_dtype(df[d.target]), d.name
        n_text_cols += any(df[c].dtype == object for c in df.columns if c != d.target)
    assert n_binary >= 2 and n_multiclass >= 2 and n_text_cols >= 3


def test_materialize_is_cached(tmp_path):
    d = dev_dataset("tips")
    p = materialize(d, tmp_path)
    mtime = p.stat().st_mtime_ns
    assert materialize("tips", tmp_path) == p and p.stat().st_mtime_ns == mtime
