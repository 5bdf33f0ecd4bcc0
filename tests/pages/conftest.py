"""AppTest fixtures: the real app with the scripted fake model and a temporary projects folder."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 120  # one script run may train three models in the sandbox on a busy CPU


@pytest.fixture
def projects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "projects"
    monkeypatch.setenv("GEMMA_WIZARD_PROJECTS", str(root))
    monkeypatch.setenv("GEMMA_WIZARD_BACKEND", "fake")
    # AppTest cannot drive the Ace component: the stage pages use a plain text area.
    monkeypatch.setenv("GEMMA_WIZARD_PLAIN_EDITOR", "1")
    monkeypatch.chdir(ROOT)
    yield root
    from app import common as ui_common

    ui_common.close_sandboxes()


@pytest.fixture
def new_app(projects: Path):
    from streamlit.testing.v1 import AppTest

    def make(project_id: str | None = None, timeout: float = TIMEOUT) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=timeout)
        if project_id:
            at.query_params["project"] = project_id
        return at

    return make
