"""What the first real walk-through tripped on (issue 17), each as a page test that would catch it."""

from __future__ import annotations

from apptest_helpers import button, load_sample, open_project, open_stage, proposal, shown, texts


def _sidebar(at) -> str:
    return " ".join(str(p.label) for p in at.sidebar.get("page_link"))


def _provenance(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Provenance:**"))


def test_clean_run_counts_rows_not_positions(new_app, projects):
    # The sample has duplicated rows: the rule proposal drops them and resets the index.
    at = open_stage(new_app, "pages/clean.py")
    button(at, "Propose").click().run()
    button(at, "Run on preview").click().run()
    assert not at.exception, at.exception
    project = open_project(at, projects)
    n_cols = project.dataset.n_cols
    changed = next(m for m in at.metric if m.label == "Changed columns")
    assert int(changed.value) < n_cols, "every column reported as changed: rows compared by position"
    line = next(c.value for c in at.caption if c.value.startswith("Rows matched"))
    assert f"({project.profile.n_duplicate_rows} duplicates)" in line, line


def test_a_failed_request_is_red_and_cannot_be_accepted(new_app, projects):
    at = open_stage(new_app, "pages/clean.py")
    # The scripted model writes nothing and no recipe matches this request: the proposal fails.
    at.text_input(key="request_clean").set_value("translate every value into Klingon poetry").run()
    button(at, "Propose from my request").click().run()
    assert not at.exception, at.exception
    line = _provenance(at)
    assert "🔴" in line and "🟢" not in line, line
    assert any(shown(e.value).startswith("Not done:") for e in at.error)
    assert not [s for s in at.success if "ready" in s.value.lower()]
    assert button(at, "Accept").disabled


def test_unchecked_intent_asks_before_accepting(new_app, projects):
    at = open_stage(new_app, "pages/clean.py")
    at.session_state["proposal_clean"] = proposal(request="tidy it up", intent="unchecked")
    at.run()
    assert "🟠" in _provenance(at)
    assert any("nothing checked" in shown(w.value).lower() for w in at.warning)
    button(at, "Accept").click().run()
    assert not at.exception, at.exception
    assert open_project(at, projects).active_steps == []  # not yet: a question first
    assert any("Accept it anyway?" in shown(w.value) for w in at.warning)
    button(at, "Yes, accept it").click().run()
    assert not at.exception, at.exception
    flash = next(shown(s.value) for s in at.success if "Step accepted" in shown(s.value))
    assert "🟠" in flash and "🟢" not in flash, flash
    assert [s.stage for s in open_project(at, projects).active_steps] == ["clean"]
    # Listed with its orange mark too: accepting did not make the unchecked request green.
    assert any("🟠" in m.value for m in at.markdown if m.value.startswith("**Provenance:**"))


def test_nothing_to_do_offers_the_request_and_recipes_not_a_step(new_app, projects):
    at = open_stage(new_app, "pages/feature.py")
    at.session_state["proposal_feature"] = proposal(
        stage="feature",
        entrypoint="add_features",
        provenance="rule",
        provenance_detail="rule (nothing to do: the profile shows no issue this stage handles)",
        code="def add_features(df):\n    return df.copy()\n",
        nothing_to_do=True,
    )
    at.run()
    assert not at.exception, at.exception
    assert any("Nothing worth doing" in shown(i.value) for i in at.info)
    assert not [t for t in at.text_area if str(t.key).startswith("editor_feature")], "a no-op step is offered"
    assert not [b for b in at.button if b.label == "Accept"]
    suggestion = next(b for b in at.button if str(b.key).startswith("suggest_feature_"))
    suggestion.click().run()
    assert at.text_input(key="request_feature").value == suggestion.label


def test_sidebar_report_is_done_only_after_it_was_opened(new_app, projects):
    at = load_sample(new_app())
    assert "6 · Report (todo)" in _sidebar(at)
    at.switch_page("pages/report.py").run()
    assert "6 · Report (current)" in _sidebar(at)
    at.switch_page("pages/load.py").run()
    assert "6 · Report (done)" in _sidebar(at)


def test_stage_undo_is_disabled_when_the_last_step_is_another_stage(new_app, projects):
    at = open_stage(new_app, "pages/clean.py")
    button(at, "Start from empty code").click().run()
    button(at, "Accept").click().run()
    assert "Step accepted" in texts(at)
    button(at, "Start from empty code").click().run()
    assert not button(at, "Undo last step").disabled  # the clean step is the latest
    at.switch_page("pages/feature.py").run()
    button(at, "Start from empty code").click().run()
    assert button(at, "Undo last step").disabled  # nothing of the feature stage to undo
    assert not at.sidebar.button(key="sb_undo").disabled  # the global undo still can


def test_empty_code_state_does_not_follow_into_another_project(new_app, projects):
    at = open_stage(new_app, "pages/clean.py")
    button(at, "Start from empty code").click().run()
    assert at.text_area(key="editor_clean_0_plain")
    at.switch_page("pages/load.py").run()
    button(at, "Load sample: ").click().run()  # a new project
    at.switch_page("pages/clean.py").run()
    assert not at.exception, at.exception
    assert not [t for t in at.text_area if str(t.key).startswith("editor_clean")]


def test_deep_link_opens_the_project_on_the_linked_page(new_app, projects):
    at = load_sample(new_app())
    pid = open_project(at, projects).id
    link = new_app(pid)  # a new session from `/…?project=<id>`
    link.switch_page("pages/profile.py").run()
    assert not link.exception, link.exception
    assert "Duplicate rows" in texts(link)
    assert "2 · Profile (current)" in _sidebar(link)


def test_narrative_boxes_are_filled_by_the_draft(new_app, projects):
    at = load_sample(new_app())
    at.switch_page("pages/report.py").run()
    assert at.text_area(key="narr_dataset").value == ""
    at.button(key="report_draft").click().run()
    assert not at.exception, at.exception
    text = at.text_area(key="narr_dataset").value
    assert text.startswith("The file ") and text.endswith(".")
    project = open_project(at, projects)
    assert project.report_narrative["dataset"] == text
    sentences = [s for s in text.split(". ") if s]
    assert len(sentences) == len(set(sentences))
