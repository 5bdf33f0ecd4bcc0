"""Gemma Data Wizard: the router. Pages live in pages/ and stay thin; logic lives in core/."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Gemma Data Wizard", page_icon="🧙", layout="wide")

pages = {
    "Wizard": [
        st.Page("pages/load.py", title="1 · Load", icon="📂", url_path="load", default=True),
        st.Page("pages/profile.py", title="2 · Profile", icon="🔎", url_path="profile"),
        st.Page("pages/clean.py", title="3 · Clean", icon="🧹", url_path="clean"),
        st.Page("pages/feature.py", title="4 · Features", icon="🧪", url_path="feature"),
        st.Page("pages/model.py", title="5 · Model", icon="🤖", url_path="model"),
        st.Page("pages/report.py", title="6 · Report", icon="📄", url_path="report"),
    ],
    "Workspace": [
        st.Page("pages/projects.py", title="Projects", icon="🗂️", url_path="projects"),
        st.Page("pages/settings.py", title="Model settings", icon="⚙️", url_path="settings"),
    ],
}

# The sidebar draws its own navigation: the six stages with their progress, then the workspace.
st.navigation(pages, position="hidden").run()
