"""A few page tests on the real embedded Gemma 3 270M GGUF (slow; marked real_model)."""

from __future__ import annotations

import pytest
from apptest_helpers import button, load_sample, texts

pytestmark = [pytest.mark.real_model, pytest.mark.slow]
# A proposal with the real model generates, verifies and may repair: minutes on a busy 2-core CPU.
REAL_TIMEOUT = 600


@pytest.fixture
def real(projects, monkeypatch):
    pytest.importorskip("llama_cpp")
    monkeypatch.delenv("GEMMA_WIZARD_BACKEND", raising=False)
    monkeypatch.delenv("GEMMA_WIZARD_MODEL", raising=False)
    return projects


def test_sidebar_answers_with_the_embedded_gemma(new_app, real):
    at = new_app(timeout=REAL_TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "gguf" in sidebar and "Q4_K_M" in sidebar.upper()
    at.sidebar.text_input(key="sb_test_prompt").set_value("Name one summary statistic.").run()
    at.sidebar.button(key="sb_test_ask").click().run()
    assert not at.exception, at.exception
    answer = [
        m.value for m in at.sidebar.markdown if m.value and "Model:" not in m.value and "###" not in m.value
    ]
    assert any(len(a.strip()) > 0 for a in answer[1:]) or any(" s" in c.value for c in at.sidebar.caption)
    # The guarded backend measured the call; the sidebar shows the speed on the next run.
    at.run()
    assert any("tok/s" in c.value or "first token" in c.value for c in at.sidebar.caption)


def test_clean_proposal_with_the_embedded_gemma(new_app, real):
    import core.engine.session  # noqa: F401 - a broken engine import fails, not skips

    at = load_sample(new_app(timeout=REAL_TIMEOUT))
    at.switch_page("pages/profile.py").run()
    at.switch_page("pages/clean.py").run()
    button(at, "Propose").click().run()
    assert not at.exception, at.exception
    assert "Provenance:" in texts(at)
    assert "def clean(" in at.text_area(key="editor_clean_1_plain").value
    button(at, "Accept").click().run()
    assert "Step accepted" in texts(at)


def test_wrong_model_path_falls_back_to_the_embedded_gemma(new_app, real, monkeypatch, tmp_path):
    monkeypatch.setenv("GEMMA_WIZARD_MODEL", str(tmp_path / "missing.gguf"))
    at = new_app(timeout=REAL_TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.sidebar.error]
    assert errors and "missing.gguf" in errors[0]
    assert any("embedded Gemma" in c.value for c in at.sidebar.caption)
    # The app stays usable: the sidebar names the loaded embedded model.
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "gguf" in sidebar and "Q4_K_M" in sidebar.upper()
