"""Gemma Data Wizard: the router. Pages live in pages/ and stay thin; logic lives in core/.

The wizard's pages come from the stage registry (core.stages): a new stage with a page appears
here and in the sidebar without an edit. Every page has its own URL (`/load`, `/clean`, …), so
a link such as `/load?project=<id>` opens that project on that page.
"""

from __future__ import annotations

import streamlit as st

from app import common as ui

st.set_page_config(page_title="Gemma Data Wizard", page_icon="🧙", layout="wide")

wizard = [
    st.Page(
        ui.PAGE_FILES[name],
        title=ui.STAGE_TITLES[name],
        icon=ui.STAGE_PAGE_ICONS.get(name, "📄"),
        url_path=name,
    )
    for name in ui.STAGES
]
workspace = [
    st.Page("pages/projects.py", title="Projects", icon="🗂️", url_path="projects"),
    st.Page("pages/settings.py", title="Model settings", icon="⚙️", url_path="settings"),
]


def _home() -> None:
    """The root URL opens the first stage at its own address, keeping `?project=`."""
    st.switch_page(wizard[0], query_params=st.query_params.to_dict())


home = st.Page(_home, title="Gemma Data Wizard", url_path="home", default=True)
# The sidebar draws its own navigation: the stages with their progress, then the workspace.
st.navigation({"": [home], "Wizard": wizard, "Workspace": workspace}, position="hidden").run()
