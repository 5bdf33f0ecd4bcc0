"""Report downloads, model settings errors, and the project list."""

from __future__ import annotations

from apptest_helpers import button, load_sample, texts


def test_report_page_offers_downloads(new_app, projects):
    at = load_sample(new_app())
    at.switch_page("pages/report.py").run()
    assert not at.exception, at.exception
    labels = [b.label for b in at.get("download_button")]
    assert any("Notebook" in label for label in labels)
    assert any("Report (.md)" in label for label in labels)
    assert "Preview of the report" in texts(at)
    # The zip (charts rendered as images) is built on demand.
    at.button(key="prep_zip").click().run()
    assert not at.exception, at.exception
    assert any("Report + charts (.zip)" in b.label for b in at.get("download_button"))


def test_wrong_model_path_keeps_the_app_usable(new_app, projects, tmp_path):
    at = new_app()
    at.run()
    at.switch_page("pages/settings.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="set_kind").set_value("gguf")
    at.text_input(key="set_model").set_value(str(tmp_path / "no-such-model.gguf"))
    button(at, "Apply").click().run()
    assert not at.exception, at.exception
    assert any("previous model stays loaded" in e.value for e in at.error)
    # The sidebar still names the model that was loaded before (the fake).
    assert "scripted fake" in "\n".join(m.value for m in at.sidebar.markdown)


def test_projects_duplicate_and_delete(new_app, projects):
    at = load_sample(new_app())
    at.switch_page("pages/projects.py").run()
    assert not at.exception, at.exception
    n = len([b for b in at.button if b.label == "Duplicate"])
    assert n == 1
    button(at, "Duplicate").click().run()
    assert len([b for b in at.button if b.label == "Duplicate"]) == 2
    at.button(key=[b.key for b in at.button if b.label == "Delete"][-1]).click().run()
    assert len([b for b in at.button if b.label == "Duplicate"]) == 1


def test_report_narrative_edit_reaches_the_markdown(new_app, projects):
    at = load_sample(new_app())
    at.switch_page("pages/report.py").run()
    at.text_area(key="narr_dataset").set_value("Weather observations, tidied by hand.").run()
    at.button(key="report_save").click().run()
    assert not at.exception, at.exception
    preview = "\n".join(m.value for m in at.markdown)
    assert "Weather observations, tidied by hand." in preview
