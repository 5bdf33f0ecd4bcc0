"""Report: preview the generated report, edit the narrative, download every export."""

from __future__ import annotations

import streamlit as st

import ui_common as ui
from core.export import notebook, report

ui.sidebar("report")
st.title("📄 Report")

project = ui.require_project()
if project is None:
    st.stop()
store = ui.get_store()
stem = ui.file_stem(project)

if not any(s.stage == "model" and s.result and s.result.ok for s in project.active_steps):
    st.info("No model trained yet: the report covers the steps so far. Train a model on the **Model** page.")

# --------------------------------------------------------------------------- downloads
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

# --------------------------------------------------------------------------- narrative
with st.expander("Edit the narrative (goes into every export)", expanded=False):
    st.caption(
        "Gemma writes connecting sentences from the recorded facts; numbers always come from the recorded "
        "results, and sentences with numbers not found there are flagged. Edit freely before exporting."
    )
    if st.button("Draft the narrative with Gemma", key="report_draft"):
        with st.status("Gemma is writing the narrative (every sentence is fact-checked)…") as status:
            try:
                project.report_narrative = report.narrative(project, ui.get_backend())
                store.save(project)
                status.update(label="Narrative drafted", state="complete")
            except Exception as e:  # noqa: BLE001 - a failed draft keeps the current narrative
                status.update(label="Could not draft", state="error")
                st.error(f"Could not draft the narrative: {e}")
        for k in list(st.session_state):
            if str(k).startswith("narr_"):
                del st.session_state[k]
        st.rerun()  # the downloads and the preview above are rebuilt with the new narrative
    edited: dict[str, str] = {}
    for sec, title in report.SECTIONS.items():
        edited[sec] = st.text_area(
            title,
            value=project.report_narrative.get(sec, ""),
            key=f"narr_{sec}",
            height=110,
            placeholder="(empty: the report states the recorded facts only)",
        )
    if st.button("Save narrative", key="report_save"):
        project.report_narrative = {k: v for k, v in edited.items() if v.strip()}
        store.save(project)
        st.rerun()

st.subheader("Preview of the report")
with st.container(border=True):
    st.markdown(md)
