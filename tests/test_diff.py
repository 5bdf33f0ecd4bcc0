"""The one frame diff: rows are matched by identity (index, key or content), never by position."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.diff import FrameDiff, diff_frames


def _churn(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "customer": [f"c{i:03d}" for i in range(n)],
            "tenure": rng.integers(1, 72, n),
            "charges": rng.normal(70, 20, n).round(2),
            "plan": rng.choice(["basic", "plus", "pro"], n),
            "churn": rng.choice(["yes", "no"], n),
        }
    )
    df.loc[[3, 7, 11], "charges"] = np.nan
    return df


def _with_duplicates() -> pd.DataFrame:
    df = _churn().drop(columns=["customer"])
    # Rows 5 and 20 appear twice, each copy right after the original (no ID tells them apart), so
    # after de-duplication and a reset, every later row has moved up by one or two positions.
    order = np.r_[0:6, 5, 6:21, 20, 21:40]
    return df.iloc[order].reset_index(drop=True)


def test_drop_duplicates_and_reset_index_changes_no_column():
    before = _with_duplicates()
    after = before.drop_duplicates().reset_index(drop=True)
    d = diff_frames(before, after)
    assert isinstance(d, FrameDiff)
    assert d.matched_by == "content"
    assert d.columns_changed == [] and d.columns_added == [] and d.columns_removed == []
    assert (d.rows_before, d.rows_after) == (42, 40)
    assert (d.rows_removed, d.duplicates_removed, d.rows_added, d.rows_changed) == (2, 2, 0, 0)
    assert d.changed_rows.empty


def test_reorder_with_index_kept_is_no_change():
    before = _churn()
    after = before.sample(frac=1.0, random_state=1)
    d = diff_frames(before, after)
    assert d.matched_by == "index"
    assert (d.rows_changed, d.rows_added, d.rows_removed) == (0, 0, 0)
    assert d.columns_changed == []


def test_sort_and_reset_is_matched_by_the_key_column():
    before = _churn()
    after = before.sort_values("charges").reset_index(drop=True)
    after.loc[after["customer"] == "c010", "plan"] = "enterprise"
    d = diff_frames(before, after)
    assert d.matched_by == "key:customer"
    assert d.rows_changed == 1 and d.columns_changed == ["plan"]
    assert d.changed_rows.to_dict("records") == [
        {"plan (before)": before.loc[10, "plan"], "plan (after)": "enterprise"}
    ]


def test_sort_and_reset_without_key_is_matched_by_content():
    before = _churn().drop(columns=["customer"])
    after = before.sort_values(["tenure", "charges"]).reset_index(drop=True)
    d = diff_frames(before, after)
    assert d.matched_by == "content"
    assert d.columns_changed == [] and d.rows_changed == 0


def test_dedupe_fill_and_reset_counts_the_filled_cells_only():
    before = _with_duplicates()
    after = before.drop_duplicates().reset_index(drop=True)
    after["charges"] = after["charges"].fillna(after["charges"].median())
    d = diff_frames(before, after)
    assert d.columns_changed == ["charges"]
    assert d.rows_changed == 3 and d.duplicates_removed == 2
    charges = next(c for c in d.columns if c.name == "charges")
    assert (charges.missing_before, charges.missing_after, charges.missing_delta) == (3, 0, -3)
    assert charges.cells_changed == 3
    assert (d.missing_before, d.missing_after, d.missing_delta) == (3, 0, -3)


def test_filter_keeps_index_and_counts_removed_rows():
    before = _churn()
    after = before[before["tenure"] > 30]
    d = diff_frames(before, after)
    assert d.matched_by == "index"
    assert d.rows_removed == len(before) - len(after) and d.rows_added == 0
    assert d.duplicates_removed == 0
    assert d.columns_changed == []


def test_filter_and_reset_still_finds_the_kept_rows():
    before = _churn().drop(columns=["customer"])
    after = before[before["tenure"] > 30].reset_index(drop=True)
    d = diff_frames(before, after)
    assert d.rows_changed == 0 and d.columns_changed == []
    assert d.rows_removed == len(before) - len(after)


def test_new_column_and_retyped_column():
    before = _churn()
    after = before.assign(
        charges_per_month=before["charges"] / before["tenure"],
        tenure=before["tenure"].astype("float64"),  # same values, another kind
        churn=before["churn"].eq("yes"),
    )
    d = diff_frames(before, after)
    assert d.columns_added == ["charges_per_month"]
    assert d.columns_removed == []
    assert set(d.columns_retyped) == {"tenure", "churn"}
    tenure = next(c for c in d.columns if c.name == "tenure")
    assert tenure.cells_changed == 0  # 12 and 12.0 are the same value
    assert (d.cols_before, d.cols_after) == (5, 6)
    assert d.missing_after == d.missing_before + 3  # the new column is missing where charges is


def test_value_changes_at_the_same_index():
    before = pd.DataFrame({"a": [1, 2, None], "b": ["x", "y", "z"], "c c": [1.0, 2.0, 3.0]})
    after = before.drop(columns=["c c"]).assign(a=[1, 2, 0], d=[True, False, True])
    d = diff_frames(before, after)
    assert d.columns_added == ["d"] and d.columns_removed == ["c c"]
    assert d.columns_changed == ["a"]
    assert (d.missing_before, d.missing_after) == (1, 0)
    assert list(d.changed_rows.columns) == ["a (before)", "a (after)"]
    assert d.changed_rows.index.tolist() == [2]


def test_step_fields_are_the_project_record():
    before = _with_duplicates()
    after = before.drop_duplicates().reset_index(drop=True).drop(columns=["plan"])
    fields = diff_frames(before, after).step_fields()
    assert fields == {
        "rows_before": 42,
        "rows_after": 40,
        "cols_before": 4,
        "cols_after": 3,
        "added_columns": [],
        "removed_columns": ["plan"],
        "changed_columns": [],
        "missing_before": 3,
        "missing_after": 3,
    }


def test_wild_frames_do_not_break_it():
    before = pd.DataFrame(np.arange(12).reshape(4, 3), columns=["x", "x", 3])
    d = diff_frames(before, before.iloc[:2])
    assert (d.rows_after, d.cols_after) == (2, 3) and d.columns_changed == []
    assert diff_frames(before, before.iloc[0:0]).rows_removed == 4
    empty = diff_frames(pd.DataFrame(), pd.DataFrame({"a": []}))
    assert empty.columns_added == ["a"] and empty.rows_after == 0
    # Non-unique index on both sides: content still matches.
    dup_index = pd.DataFrame({"v": [1, 2, 3]}, index=[0, 0, 1])
    assert diff_frames(dup_index, dup_index.iloc[::-1]).rows_changed == 0


def test_dedupe_then_change_every_row_still_pairs_each_row_with_its_origin():
    # The walk-through's clean step: duplicates dropped, the index reset, and a column rewritten
    # in every row, so no row is identical any more.
    before = _with_duplicates()
    after = before.drop_duplicates().reset_index(drop=True)
    after["plan"] = after["plan"].str.upper()
    d = diff_frames(before, after)
    assert (d.rows_removed, d.duplicates_removed, d.rows_changed) == (2, 2, 40)
    assert d.columns_changed == ["plan"]
    cells = {c.name: c.cells_changed for c in d.columns}
    assert cells == {"tenure": 0, "charges": 0, "plan": 40, "churn": 0}


# --------------------------------------------------------------------------- fast paths
def _slow_normal(s: pd.Series) -> list[object]:
    """The per-cell definition the vectorised `normal` must reproduce."""
    if pd.api.types.is_bool_dtype(s):
        return ["\x00<NA>" if pd.isna(v) else str(bool(v)) for v in s.astype("object")]
    return s.astype("string").fillna("\x00<NA>").astype("object").tolist()


def test_vectorised_normal_forms_match_the_per_cell_definition():
    from core.diff_normal import normal

    midnight = pd.Series(pd.to_datetime(["2020-01-01", None, "2021-12-31", "1969-12-31", "2020-01-01"]))
    columns = [
        pd.Series([True, False, True]),
        pd.Series([True, None, False], dtype="boolean"),
        pd.Series(["a", None, float("nan"), "b"], dtype=object),
        pd.Series(["a", "b"], dtype=object),
        pd.Series([1, "1", None], dtype=object),  # not all text: the general path
        midnight,
        pd.Series(pd.to_datetime(["2020-01-01 10:30", None])),  # a time of day: the general path
        pd.Series(pd.to_datetime(["2020-01-01"]).tz_localize("UTC")),
        pd.Series([None, None], dtype=object),
    ]
    for s in columns:
        assert normal(s).tolist() == _slow_normal(s), s
    # A caller that counted no missing value may skip looking for them: the same result.
    assert normal(columns[3], has_missing=False).tolist() == ["a", "b"]


def _reference_by_content(hb: np.ndarray, ha: np.ndarray):
    """The pairing rule written with a merge (the first implementation), to check the fast one."""
    occ_b = pd.Series(hb).groupby(hb).cumcount().to_numpy()
    occ_a = pd.Series(ha).groupby(ha).cumcount().to_numpy()
    left = pd.DataFrame({"h": hb, "n": occ_b, "pb": np.arange(len(hb))})
    right = pd.DataFrame({"h": ha, "n": occ_a, "pa": np.arange(len(ha))})
    m = left.merge(right, on=["h", "n"], how="outer")
    exact = m.dropna(subset=["pb", "pa"])
    rest_b = m[m["pa"].isna()].sort_values("pb")
    rest_a = m[m["pb"].isna()].sort_values("pa")
    surplus = len(rest_b) - len(rest_a)
    if surplus > 0:
        repeat = rest_b["pb"].astype(int).map(lambda i: bool(occ_b[i] > 0))
        rest_b = rest_b.drop(index=rest_b.index[repeat.to_numpy()][:surplus])
    n = min(len(rest_b), len(rest_a))
    pb = np.concatenate([exact["pb"].to_numpy(dtype=int), rest_b["pb"].to_numpy(dtype=int)[:n]])
    pa = np.concatenate([exact["pa"].to_numpy(dtype=int), rest_a["pa"].to_numpy(dtype=int)[:n]])
    order = np.argsort(pa, kind="stable")
    return pb[order], pa[order]


def test_content_pairing_matches_the_reference_rule():
    from core.diff_align import by_content

    rng = np.random.default_rng(3)
    for _ in range(200):
        hb = rng.integers(0, 8, rng.integers(0, 30)).astype("uint64")
        ha = rng.integers(0, 10, rng.integers(0, 30)).astype("uint64")
        got, want = by_content(hb, ha), _reference_by_content(hb, ha)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]), (hb, ha)


def test_a_key_unique_only_before_normalising_is_not_used():
    # 1 and "1" are distinct values but the same text: such a column cannot pair rows.
    before = pd.DataFrame({"id": [1, "1", 2], "v": [1.0, 2.0, 3.0]})
    after = before.iloc[::-1].reset_index(drop=True)
    d = diff_frames(before, after)
    assert d.matched_by == "content" and d.rows_changed == 0


def test_diff_parquet_is_diff_frames_and_reads_a_known_file_once(tmp_path, monkeypatch):
    from core import diff

    before = _with_duplicates()
    after = before.drop_duplicates().reset_index(drop=True).assign(plan=lambda f: f["plan"].str.upper())
    before.to_parquet(tmp_path / "b.parquet")
    after.to_parquet(tmp_path / "a.parquet")
    want = diff_frames(pd.read_parquet(tmp_path / "b.parquet"), pd.read_parquet(tmp_path / "a.parquet"))
    diff.clear_cache()
    reads = []
    real = diff._read_parquet
    monkeypatch.setattr(diff, "_read_parquet", lambda p, *a, **k: reads.append(p) or real(p, *a, **k))
    got = diff.diff_parquet(tmp_path / "b.parquet", tmp_path / "a.parquet")
    assert got.step_fields() == want.step_fields() and got.columns == want.columns
    assert got.changed_rows.equals(want.changed_rows)
    # The next step's input is this preview under another name: known by its bytes, not re-read.
    (tmp_path / "snap.parquet").write_bytes((tmp_path / "a.parquet").read_bytes())
    again = diff.diff_parquet(tmp_path / "snap.parquet", tmp_path / "a.parquet")
    assert len(reads) == 2 and again.rows_changed == 0 and again.matched_by == "index"
    # Other bytes under a known name are read again.
    after.head(5).to_parquet(tmp_path / "a.parquet")
    assert diff.diff_parquet(tmp_path / "b.parquet", tmp_path / "a.parquet").rows_after == 5
    assert len(reads) == 3
    diff.clear_cache()


def _stored_frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(3)
    n = 400
    low = pd.DataFrame(
        {
            "city": rng.choice([" paris", "LYON", "nice", None], n),
            "x": rng.random(n),
            "empty_text": pd.Series([None] * n, dtype=object),
        }
    )
    low.loc[::7, "x"] = np.nan
    distinct = pd.DataFrame({"name": [f"person {i}" if i % 9 else None for i in range(n)]})
    kinds = pd.DataFrame(
        {
            "s": pd.array(rng.choice(["a", "b", None], n), dtype="string"),  # pandas' string dtype
            "c": pd.Categorical(rng.choice(["u", "v"], n)),
            "t": rng.choice(["a", "b"], n),
        },
        index=pd.Index([f"r{i}" for i in range(n)], name="rid"),  # a stored text index
    )
    return {
        "low-cardinality": low,
        "all distinct": distinct,
        "other kinds": kinds,
        "no rows": low.head(0),
        "int names": pd.DataFrame({0: ["a", "b"], 1: [1.0, 2.0]}),
        "unicode": pd.DataFrame({"é": ["naïve", "日本", "", None]}),
    }


@pytest.mark.parametrize("name", list(_stored_frames()))
def test_text_read_dictionary_encoded_is_the_plain_read_and_hashes(tmp_path, name):
    """The diff reads text columns dictionary-encoded (each distinct text hashed once): the frame
    must be exactly `pd.read_parquet`'s and the hashes exactly those of the plain route."""
    from core import diff
    from core.diff_normal import Normal, unique_names
    from core.sandbox.worker import write_parquet

    path = tmp_path / "f.parquet"
    write_parquet(_stored_frames()[name], path)
    text = diff._parquet_text_columns(path)
    got, hashes = diff._read_parquet(path, text)
    plain = pd.read_parquet(path)
    pd.testing.assert_frame_equal(got, plain)
    reference = Normal(unique_names(plain), text)
    for c, h in hashes.items():
        np.testing.assert_array_equal(h, reference.col_hash(c))
    if name in ("low-cardinality", "all distinct"):
        assert set(hashes) == set(text) and text  # the fast route was taken
    if name == "other kinds":
        assert set(text) == {"t"}  # pandas' string dtype stays what read_parquet makes of it


def test_row_hashes_are_pandas_row_hashes():
    from core.diff_normal import Normal

    df = pd.DataFrame({"a": [1.0, None, 3.0], "b": ["x", None, "z"], "c": [True, False, True]})
    norm = Normal(df)
    frame = pd.DataFrame({c: norm(c) for c in df.columns})
    want = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    assert np.array_equal(norm.row_hashes(list(df.columns)), want)
    assert np.array_equal(
        norm.prepare().row_hashes(["b"]), pd.util.hash_pandas_object(frame[["b"]], index=False)
    )


def test_parquet_text_hints_give_the_same_diff(tmp_path):
    from core import diff

    before = pd.DataFrame(
        {"s": ["a", None, "c", "d"], "n": [1.0, np.nan, 3.0, 4.0], "o": [1, "x", None, 2.5]},
        index=pd.Index([10, 11, 12, 13], name="s2"),
    )
    after = before.assign(s=["a", "b", None, "d"]).iloc[[0, 1, 3, 2]].reset_index(drop=True)
    before.assign(o=before["o"].astype(str)).to_parquet(tmp_path / "b.parquet")
    after.assign(o=after["o"].astype(str)).to_parquet(tmp_path / "a.parquet")
    hints = diff._parquet_text_columns(tmp_path / "b.parquet")
    assert hints == {"s": 1, "o": 0}  # the index column is not a data column
    diff.clear_cache()
    got = diff.diff_parquet(tmp_path / "b.parquet", tmp_path / "a.parquet")
    want = diff_frames(pd.read_parquet(tmp_path / "b.parquet"), pd.read_parquet(tmp_path / "a.parquet"))
    assert got.step_fields() == want.step_fields() and got.columns == want.columns
    assert got.matched_by == want.matched_by and got.changed_rows.equals(want.changed_rows)
    diff.clear_cache()


def _exact_choice(before: pd.DataFrame, after: pd.DataFrame) -> tuple[str, int]:
    """The alignment a diff comparing every candidate on every row would pick, and its score."""
    from core.diff_align import by_content, by_index, by_key, equal_cells, key_columns
    from core.diff_normal import Normal, unique_names

    nb, na = Normal(unique_names(before)), Normal(unique_names(after))
    b, a = nb.df, na.df
    common = [c for c in a.columns if c in set(b.columns)]
    cands = [("index", by_index(b, a))]
    cands += [(f"key:{k}", by_key(nb, na, k)) for k in key_columns(nb, na, common)]
    cands.append(("content", by_content(nb.row_hashes(common), na.row_hashes(common))))
    scored = [(name, int(equal_cells(b, a, nb, na, p, common).sum())) for name, p in cands if p is not None]
    return max(scored, key=lambda s: (s[1], -scored.index(s)))


def test_alignments_scored_on_a_sample_pick_what_comparing_every_row_picks():
    # Large enough that candidates are first scored on a sample: every kind of step, and a close
    # race (a reorder that keeps the index vs the content) must end as the exact comparison does.
    rng = np.random.default_rng(3)
    n = 20_000
    df = pd.DataFrame(
        {
            "id": np.arange(n),
            "x": rng.normal(size=n).round(2),
            "g": rng.choice(["a", "b", "c"], n),
            "t": rng.choice(["u", "v"], n),
        }
    )
    dup = df.copy()
    dup.iloc[1::50] = dup.iloc[0::50].to_numpy()[: len(dup.iloc[1::50])]
    steps = {
        "fill then reset": df.assign(x=df["x"].where(df["x"] > -1, 0))
        .sample(frac=1, random_state=1)
        .reset_index(drop=True),
        "dedupe and reset": dup.drop_duplicates().reset_index(drop=True),
        "filter keeps index": df[df["x"] > 0].assign(g=lambda d: d["g"].str.upper()),
        "half the rows changed, shuffled": df.assign(t=np.where(np.arange(n) % 2, "w", df["t"])).sample(
            frac=1, random_state=2
        ),
        "nothing": df.copy(),
    }
    for name, after in steps.items():
        before = dup if name == "dedupe and reset" else df
        d = diff_frames(before, after)
        choice, score = _exact_choice(before, after)
        assert d.matched_by == choice, name
        changed = sum(c.cells_changed for c in d.columns if c.dtype_before and c.dtype_after)
        common = len([c for c in after.columns if c in before.columns])
        assert d.rows_matched * common - changed == score, name


def test_a_missing_text_filled_with_an_empty_one_is_a_change():
    # pandas' string hash table ends a text at a NUL character: hashing through it made "" and
    # the missing mark one value (and "a" the same as "a\x00b").
    before = pd.DataFrame({"note": ["", None, "b", None, "", "a", "a\x00b"]})
    after = before.fillna("")
    d = diff_frames(before, after)
    assert (d.rows_changed, d.columns[0].cells_changed) == (2, 2)
    assert diff_frames(before, before.replace("a\x00b", "a")).rows_changed == 1

