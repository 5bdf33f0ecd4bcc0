"""The one frame diff: rows are matched by identity (index, key or content), never by position."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
