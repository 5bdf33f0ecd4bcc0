"""Report: preview the generated report, edit the narrative, download every export."""

from __future__ import annotations

import streamlit as st

from app import common as ui
from core.export import notebook, report
from core.models import utcnow
from core.safe_text import defuse_md

project = ui.page_project("report", "📄 Report")
store = ui.get_store()
stem = ui.file_stem(project)
# Opening the report is what marks the stage done in the sidebar (stale again after a new step).
project.report_viewed_at = utcnow()
store.save(project)


def _fill_boxes(narrative: dict[str, str]) -> None:
    """Put the narrative into the edit boxes. Set through session state (before the boxes are
    drawn): a box keeps what the browser last sent for its key, so `value=` alone would leave it
    empty until a reload."""
    for sec in report.SECTIONS:
        st.session_state[f"narr_{sec}"] = narrative.get(sec, "")


if st.session_state.get("narr_project") != project.id:
    _fill_boxes(project.report_narrative)
    st.session_state["narr_project"] = project.id

if not any(s.stage == "model" and s.result and s.result.ok for s in project.active_steps):
    st.info("No model trained yet: the report covers the steps so far. Train a model on the **Model** page.")

# --------------------------------------------------------------------------- narrative
with st.expander("Write the narrative (goes into every export)", expanded=not project.report_narrative):
    st.caption(
        "Gemma writes connecting sentences from the recorded facts; numbers always come from the recorded "
        "results, sentences with numbers not found there are dropped, and each sentence is said once. "
        "Edit freely before exporting."
    )
    if st.button("Draft the narrative with Gemma", key="report_draft"):
        with st.status("Gemma is writing the narrative…", expanded=True) as status:
            # A click re-runs the page, which stops the draft at its next output; nothing is lost.
            st.button("Cancel", key="report_cancel", help="Stop; the current narrative is kept.")
            where = st.empty()

            def _section(title: str, i: int, n: int) -> None:
                status.update(label=f"Gemma is writing section {i} of {n}: {title}…", expanded=True)
                where.markdown(f"Writing **{title}** ({i}/{n}); every sentence is fact-checked.")

            try:
                project.report_narrative = report.narrative(project, ui.get_backend(), on_section=_section)
                store.save(project)
                status.update(label="Narrative drafted", state="complete", expanded=False)
                _fill_boxes(project.report_narrative)
            except Exception as e:  # noqa: BLE001 - a failed draft keeps the current narrative
                status.update(label="Could not draft", state="error")
                st.error(f"Could not draft the narrative: {e}")
    if st.session_state.get("report_cancel"):
        st.info("Cancelled: the narrative was not changed.")
    edited: dict[str, str] = {}
    for sec, title in report.SECTIONS.items():
        edited[sec] = st.text_area(
            title,
            key=f"narr_{sec}",
            height=110,
            placeholder="(empty: the report states the recorded facts only)",
        )
    if st.button("Save narrative", key="report_save"):
        project.report_narrative = {k: v for k, v in edited.items() if v.strip()}
        store.save(project)
        st.success("Narrative saved.")

# --------------------------------------------------------------------------- downloads
# Built after the narrative so a draft or an edit is in the files at once.
st.subheader("Downloads")
md = report.to_markdown(project)
c = st.columns(4)
c[0].download_button(
    "⬇ Notebook (.ipynb)",
    notebook.to_ipynb_bytes(project, data_rel_path=project.dataset.filename),
    file_name=f"{stem}.ipynb",
    mime="application/x-ipynb+json",
    key="dl_ipynb",
)
c[1].download_button("⬇ Report (.md)", md, file_name=f"{stem}.md", mime="text/markdown", key="dl_md")
if st.session_state.get("report_zip_ready"):
    with st.spinner("Rendering charts…"):
        data = report.to_zip(project)
    c[2].download_button(
        "⬇ Report + charts (.zip)", data, file_name=f"{stem}.zip", mime="application/zip", key="dl_zip"
    )
elif c[2].button("Prepare the zip (charts as images)", key="prep_zip"):
    st.session_state["report_zip_ready"] = True
    st.rerun()
c[3].download_button(
    "⬇ Report (.html)", report.to_html(project), file_name=f"{stem}.html", mime="text/html", key="dl_html"
)

st.subheader("Preview of the report")
with st.container(border=True):
    st.markdown(defuse_md(md))  # issue 16: data-derived images must not load
