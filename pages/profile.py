"""Profile: column facts (no LLM), charts, target choice, full ydata report, data documentation."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import ask_view, progress_view
from app import common as ui
from core import charts, datadoc
from core import profile as profile_mod
from core.safe_text import escape_md

project = ui.page_project("profile", "🔎 Profile")
store = ui.get_store()
df = ui.current_frame(project)
if df is None:
    st.stop()

if project.profile is None or st.button("Recompute the profile", key="reprofile"):
    with st.spinner("Profiling…"):
        project.profile = profile_mod.profile_dataframe(df, target=project.target)
    store.save(project)
prof = project.profile

c = st.columns(4)
c[0].metric("Rows", f"{prof.n_rows:,}")
c[1].metric("Columns", f"{prof.n_cols:,}")
c[2].metric("Duplicate rows", f"{prof.n_duplicate_rows:,}")
c[3].metric("Memory", f"{prof.memory_mb:.1f} MB")
if prof.sampled_from:
    st.caption(f"Profiled on a sample of {prof.n_rows:,} of {prof.sampled_from:,} rows.")

# --------------------------------------------------------------------------- target
st.subheader("Target")
columns = [str(col) for col in df.columns]
suggested = [t for t in prof.target_candidates if t in columns]
options = ["(none)", *columns]
current = project.target if project.target in columns else None
index = options.index(current) if current else 0
label = "What do you want to predict?"
if suggested:
    label += f" (suggested: {', '.join(suggested[:3])})"
target = st.selectbox(label, options, index=index, key="profile_target")
new_target = None if target == "(none)" else target
if new_target != project.target:
    project.target = new_target
    if new_target is not None:
        from core import modeling  # scikit-learn: loaded only when a target is chosen

        project.task = modeling.detect_task(
            df[new_target].iloc[:, 0] if df[new_target].ndim > 1 else df[new_target]
        )
    else:
        project.task = None
    project.profile = profile_mod.profile_dataframe(df, target=new_target)
    store.save(project)
    st.rerun()
if project.target and project.task is None and project.target in columns:
    from core import modeling

    y = df[project.target]
    project.task = modeling.detect_task(y.iloc[:, 0] if y.ndim > 1 else y)
    store.save(project)
if project.target:
    target_md = escape_md(project.target, code=True)
    st.caption(f"Target column: {target_md} · task: {project.task or 'not detected'}")
for leak in prof.leakage:
    st.warning(
        f"Possible leakage: {escape_md(leak.get('column'), code=True)} — {escape_md(leak.get('reason', ''))}"
    )

# --------------------------------------------------------------------------- column facts
st.subheader("Columns")
rows = []
for col in prof.columns:
    rows.append(
        {
            "column": col.name,
            "dtype": col.dtype,
            "kind": col.semantic,
            "missing %": round(100 * col.missing_share, 1),
            "unique": col.n_unique,
            "min": None if col.min is None else str(col.min),
            "max": None if col.max is None else str(col.max),
            "mean": col.mean,
            "outliers": col.n_outliers,
            "top values": ", ".join(f"{v} ({n})" for v, n in col.top_values[:3]),
            "notes": "; ".join(col.notes),
        }
    )
facts = pd.DataFrame(rows)
search = st.text_input("Search columns", key="profile_search", placeholder="name, kind or note")
if search:
    mask = facts.apply(lambda r: search.lower() in " ".join(map(str, r.values)).lower(), axis=1)
    facts = facts[mask]
PAGE = 50
n_pages = max(1, -(-len(facts) // PAGE))
page = 1
if n_pages > 1:
    page = int(
        st.number_input(f"Page (of {n_pages})", min_value=1, max_value=n_pages, value=1, key="facts_page")
    )
st.dataframe(facts.iloc[(page - 1) * PAGE : page * PAGE], hide_index=True)

# --------------------------------------------------------------------------- charts
t1, t2, t3 = st.tabs(["Missing values", "Distribution", "Correlation"])
with t1:
    # Wide tables: one page of columns at a time (those matching the search above).
    names = [c for c in columns if not search or search.lower() in c.lower()] or columns
    pages = charts.column_pages(names)
    chart_page = 1
    if len(pages) > 1:
        chart_page = int(st.number_input(f"Column page (of {len(pages)})", 1, len(pages), 1, key="miss_page"))
    st.plotly_chart(charts.missingness_chart(prof, pages[chart_page - 1]), key="fig_missing")
with t2:
    col = st.selectbox("Column (type to search)", columns, key="dist_col")
    if col:
        st.plotly_chart(charts.distribution_chart(df, col), key="fig_dist")
with t3:
    st.plotly_chart(charts.correlation_heatmap(df, prof), key="fig_corr")
if prof.high_correlations:
    st.caption(
        "High correlations: " + "; ".join(f"{a} ~ {b} ({r:+.2f})" for a, b, r in prof.high_correlations[:10])
    )

# --------------------------------------------------------------------------- ydata report
st.subheader("Full profiling report")
st.caption("ydata-profiling: thorough but slow; computed on a sample for big tables and cached per dataset.")
if st.button("Build the full report", key="ydata_build"):
    with st.status("Building the ydata-profiling report…", expanded=True) as status:
        st.write("Computing statistics, interactions and correlations…")
        try:
            # Cached beside the project (not in the sandbox's workspace, which model code may write).
            path = profile_mod.ydata_report(df, cache_dir=store.project_dir(project) / "cache")
            st.session_state["ydata_path"] = str(path)
            status.update(label="Report ready", state="complete")
        except Exception as e:  # noqa: BLE001 - a failed report is shown, the page keeps working
            status.update(label="The report failed", state="error")
            st.error(f"ydata-profiling failed: {e}")
ypath = st.session_state.get("ydata_path")
if ypath:
    from pathlib import Path

    html = Path(ypath).read_text(encoding="utf-8")
    st.download_button(
        "⬇ Download the report (HTML)", html, file_name="profile_report.html", mime="text/html"
    )
    with st.expander("View the report here", expanded=False):
        # ydata-profiling escapes the data's values; the HTML is our own generated report.
        st.iframe(Path(ypath), height=900)

# --------------------------------------------------------------------------- questions
ask_view.render(project, df)

# --------------------------------------------------------------------------- data documentation
st.subheader("Data documentation")
st.caption("Gemma drafts it from the profile facts only; numbers it states are checked against the profile.")
if st.button("Draft with Gemma", key="datadoc_draft"):
    backend = ui.get_backend()
    if backend is None:
        st.error("No model is loaded.")
    else:
        with st.status("Gemma is writing from the profile facts…", expanded=True) as status:
            live = progress_view.streaming_backend(backend, st.empty())
            text, flags = datadoc.draft_data_doc(
                prof, live, dataset_name=project.dataset.filename, target=project.target
            )
            status.update(label="Draft ready (numbers checked against the profile)", state="complete")
        project.data_doc = text
        project.data_doc_flags = list(flags)
        store.save(project)
        st.session_state["datadoc_text"] = text
for flag in project.data_doc_flags:
    st.warning(f"Flagged: {escape_md(flag)}")
st.session_state.setdefault("datadoc_text", project.data_doc)
doc = st.text_area("Documentation (editable; goes into the report)", key="datadoc_text", height=200)
if st.button("Save documentation", key="datadoc_save"):
    project.data_doc = doc
    store.save(project)
    st.success("Saved.")
st.page_link(ui.PAGE_FILES["clean"], label="Next: clean the data →", icon="🧹")
