"""Projects: open, duplicate, delete or start a project (all kept on disk in the projects folder).

On a shared deployment the store from `ui.get_store()` is this visitor's view (issue 16): only
their own projects are listed, and opening, duplicating or deleting another's id fails like a
missing project. In single-user mode every project in the folder is shown, as before.
"""

from __future__ import annotations

import streamlit as st

from app import common as ui
from app import visitor
from core.safe_text import escape_md

ui.sidebar("projects")
st.title("🗂️ Projects")
store = ui.get_store()
shared = visitor.report()["mode"] == "shared"
if shared:
    if visitor.logged_in_user():
        st.caption("Shared server: you see the projects of your login only.")
        st.button("Log out", on_click=st.logout, key="sec_logout")
    else:
        st.caption(
            "Shared server: you see only the projects made through this link (`?visitor=` in the "
            "address). Keep the link private; anyone who has it sees these projects."
        )
        if visitor.auth_configured():
            st.button("Log in to keep your projects across devices", on_click=st.login, key="sec_login")
else:
    st.caption(
        f"Projects folder: {escape_md(ui.projects_root(), code=True)} "
        "(set GEMMA_WIZARD_PROJECTS to change it; single-user mode: every project in it is shown)"
    )

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
    pid = p.id
    ds = p.dataset
    label = f"**{escape_md(p.name)}**" + (" (open)" if pid == current else "")
    data = escape_md(ds.filename) if ds else "no data"
    with st.container(border=True):
        c = st.columns([4, 1, 1, 1])
        c[0].markdown(f"{label}  \n{escape_md(pid, code=True)} · {data} · {len(p.steps or [])} steps")
        try:
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
        except KeyError:  # deleted meanwhile (another tab), or not this visitor's
            st.warning("That project is gone; the list is refreshed.")
