"""What a run shows on a stage page (its diff, computed once per run; charts), and the sandbox
process prepared for the next run while the page is read. Split from stage_view.py for size.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app import common as ui
from core.diff import FrameDiff, diff_frames, diff_parquet
from core.safe_text import escape_md
from core.sandbox import policy as sandbox_policy


def _column(df: pd.DataFrame, name: str) -> pd.Series:
    """A column by its text name (first of duplicates); empty when the frame lacks it."""
    for i, c in enumerate(df.columns):
        if str(c) == name:
            return df.iloc[:, i]
    return pd.Series([], dtype="float64", name=name)


def run_diff(project: Any, run: dict[str, Any]) -> FrameDiff | None:
    """The run's diff, once per run (kept in its record: each click reruns the page, and a fresh
    diff of 50k rows cost ~0.1-0.2 s), from the run's input snapshot and output through
    `diff_parquet`, whose content-keyed cache the preview just filled. None if the files are gone."""
    if "diff" in run:
        return run["diff"]
    result = run["result"]
    out, snap = getattr(result, "output_path", None), getattr(result, "input_snapshot", None)
    if not out or not snap:
        return None
    try:
        before_path = ui.get_store().snapshot_path(project, snap)
        d = diff_parquet(before_path, out) if before_path.is_file() and Path(out).is_file() else None
    except (OSError, KeyError, ValueError):
        return None
    run["diff"] = d
    return d


def _column_lists(added: list[str] | None, removed: list[str] | None, changed: list[str] | None) -> None:
    """A line per non-empty list of column names; each name inert code (it comes from the data)."""
    for label, names in (("New", added), ("Removed", removed), ("Changed", changed)):
        if names:
            st.markdown(f"**{label} columns:** " + ", ".join(escape_md(x, code=True) for x in names))


def before_after(before: pd.DataFrame, after: pd.DataFrame, key: str, d: FrameDiff | None = None) -> None:
    """What the run changed, rows matched by identity (core.diff), never by position. `d`: that
    diff when the caller has it already (see `run_diff`)."""
    d = d if d is not None else diff_frames(before, after)
    c = st.columns(4)
    c[0].metric("Rows", f"{d.rows_after:,}", delta=d.rows_after - d.rows_before)
    c[1].metric("Columns", f"{d.cols_after:,}", delta=d.cols_after - d.cols_before)
    c[2].metric("Missing cells", f"{d.missing_after:,}", delta=d.missing_delta, delta_color="inverse")
    c[3].metric("Changed columns", len(d.columns_changed))
    dups = f" ({d.duplicates_removed:,} duplicates)" if d.duplicates_removed else ""
    st.caption(
        f"Rows matched {d.alignment}: {d.rows_matched:,} kept, {d.rows_changed:,} of them changed; "
        f"{d.rows_removed:,} removed{dups}; {d.rows_added:,} added."
    )
    _column_lists(d.columns_added, d.columns_removed, d.columns_changed)
    tabs = st.tabs(["Changed rows (sample)", "Types and missing values", "Charts"])
    with tabs[0]:
        if d.changed_rows.empty:
            st.caption("No value changed in the rows both frames share.")
        else:
            st.dataframe(d.changed_rows)
    with tabs[1]:
        st.dataframe(d.dtypes())
    with tabs[2]:
        from core import charts  # plotly: loaded when a run is shown

        st.plotly_chart(charts.missingness_before_after(before, after), key=f"{key}_miss")
        cols = [c for c in d.columns_changed + d.columns_added if c in set(map(str, after.columns))]
        if cols:
            col = st.selectbox("Distribution of (changed and new columns)", cols, key=f"{key}_dist")
            fig = charts.distribution_before_after(_column(before, col), _column(after, col), name=col)
            st.plotly_chart(fig, key=f"{key}_distfig")


def show_result(stage: str, project: Any, run: dict[str, Any], before: pd.DataFrame | None) -> None:
    result = run["result"]
    if not result.ok:
        st.error(f"The run failed: {escape_md(result.error)}")
        if result.stdout:
            st.code(result.stdout[-3000:], language="text")
        return
    st.success(f"Ran in {result.duration_s:.2f} s.")
    sandboxed = getattr(result, "sandbox_result", None)
    if sandboxed is not None:  # issue 16: the layers this very run had
        st.caption(escape_md(sandbox_policy.describe(sandboxed.isolation)))
    if stage != "model" and project.target and project.target in (result.removed_columns or []):
        st.warning(
            f"This code removes the target column {escape_md(project.target, code=True)}; "
            "the model stage needs it."
        )
    if result.stdout:
        with st.expander("Printed output"):
            st.code(result.stdout[-3000:], language="text")
    if stage == "model":
        from app import model_view

        model_view.show_metrics(result.metrics or {}, key="run")
        return
    out = getattr(result, "output_path", None)
    after = pd.read_parquet(out) if out and Path(out).is_file() else None
    if after is not None and before is not None:
        before_after(before, after, key=f"{stage}_run", d=run_diff(project, run))
        return
    c = st.columns(3)
    c[0].metric("Rows", f"{result.rows_after}", delta=(result.rows_after or 0) - (result.rows_before or 0))
    c[1].metric("Columns", f"{result.cols_after}", delta=(result.cols_after or 0) - (result.cols_before or 0))
    c[2].metric("Missing cells", f"{result.missing_after}")
    _column_lists(result.added_columns, result.removed_columns, result.changed_columns)


def prepare_next_run(store: Any, project: Any) -> None:
    """While the page is read and the code edited, the sandbox forks the next run's process on the
    current data (contained as the run will be, input read ahead): Run then waits for the code
    only. A no-op when one is ready or the sandbox is busy; never needed for correctness."""
    # GEMMA_WIZARD_PREPARE=0 turns it off: every run then starts its own fresh process (the "cold"
    # row of benchmarks/sandbox_overhead.py). A browser walk once stalled at "Run on preview" with
    # it on; the same stall came with it off (the click was dropped by the editor's rerun), so it
    # is on by default again.
    if os.environ.get("GEMMA_WIZARD_PREPARE", "1") == "0":
        return
    prepare = getattr(ui.get_sandbox(), "prepare", None)
    if prepare is None or project.dataset is None:
        return
    try:
        prepare(store.current_data_path(project), store.workspace_path(project))
    except Exception:  # noqa: BLE001, S110 - a run without it reads its input itself
        pass
