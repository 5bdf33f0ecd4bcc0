"""Projects: open, duplicate, delete or start a project (all kept on disk in the projects folder)."""

from __future__ import annotations

import streamlit as st

import ui_common as ui

ui.sidebar("projects")
st.title("🗂️ Projects")
store = ui.get_store()
st.caption(f"Projects folder: `{ui.projects_root()}` (set GEMMA_WIZARD_PROJECTS to change it)")

with st.form("new_project"):
    name = st.text_input("New project name", value="My analysis")
    if st.form_submit_button("Create and open"):
        ui.set_project(store.create(name.strip() or "project"))
        st.switch_page(ui.PAGE_FILES["load"])

current = st.session_state.get("project_id")
projects = store.list()
if not projects:
    st.info("No project yet: load a file or a sample on the Load page.")
for p in projects:
    pid = getattr(p, "id", None) or p["id"]
    pname = getattr(p, "name", None) or p.get("name", pid)
    ds = getattr(p, "dataset", None)
    n_steps = len(getattr(p, "steps", []) or [])
    label = f"**{pname}**" + (" (open)" if pid == current else "")
    with st.container(border=True):
        c = st.columns([4, 1, 1, 1])
        c[0].markdown(f"{label}  \n`{pid}` · {ds.filename if ds else 'no data'} · {n_steps} steps")
        if c[1].button("Open", key=f"open_{pid}"):
            ui.set_project(store.open(pid))
            st.switch_page(ui.PAGE_FILES["load"])
        if c[2].button("Duplicate", key=f"dup_{pid}"):
            store.duplicate(pid)
            st.rerun()
        if c[3].button("Delete", key=f"del_{pid}"):
            store.delete(pid)
            if pid == current:
                ui.set_project(None)
            st.rerun()
