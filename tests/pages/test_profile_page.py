"""Profile page: column facts, target choice, charts, data documentation."""

from __future__ import annotations

from apptest_helpers import load_sample, texts


def test_profile_shows_facts_and_target(new_app, projects):
    at = load_sample(new_app())
    at.switch_page("pages/profile.py").run()
    assert not at.exception, at.exception
    out = texts(at)
    assert "Duplicate rows" in out
    facts = at.dataframe[0].value
    assert {"column", "kind", "missing %"} <= set(facts.columns)
    assert len(facts) >= 2
    # The sample's target is preselected and its task detected.
    assert "Target column:" in out
    assert "classification" in out or "regression" in out


def test_search_filters_columns(new_app, projects):
    at = load_sample(new_app())
    at.switch_page("pages/profile.py").run()
    facts = at.dataframe[0].value
    first = str(facts["column"].iloc[0])
    at.text_input(key="profile_search").set_value(first).run()
    filtered = at.dataframe[0].value
    assert first in list(filtered["column"])
    assert len(filtered) <= len(facts)


def test_changing_target_reprofiles(new_app, projects):
    at = load_sample(new_app())
    at.switch_page("pages/profile.py").run()
    sel = at.selectbox(key="profile_target")
    other = next(o for o in sel.options if o not in ("(none)", sel.value))
    sel.set_value(other).run()
    assert not at.exception
    assert f"Target column: `{other}`" in texts(at) or f"Target column: {other}" in texts(at)


def test_data_documentation_draft_is_saved(new_app, projects):
    from core.project import ProjectStore

    at = load_sample(new_app())
    at.switch_page("pages/profile.py").run()
    at.button(key="datadoc_draft").click().run()
    assert not at.exception, at.exception
    text = at.text_area(key="datadoc_text").value
    assert len(text) > 20
    pid = at.query_params["project"]
    project = ProjectStore(projects).open(pid[0] if isinstance(pid, list) else pid)
    assert project.data_doc == text
    # Every number the documentation states is one of the profile's facts (or it is flagged).
    assert str(project.profile.n_rows) in text.replace(",", "") or project.data_doc_flags
    at.text_area(key="datadoc_text").set_value("My own words about this table.").run()
    at.button(key="datadoc_save").click().run()
    assert ProjectStore(projects).open(project.id).data_doc == "My own words about this table."


def ask_on_profile(new_app, question: str):
    at = load_sample(new_app())
    at.switch_page("pages/profile.py").run()
    at.text_input(key="ask_question").set_value(question).run()
    at.button(key="ask_go").click().run()
    assert not at.exception, at.exception
    return at


def test_asking_a_question_shows_the_answer_who_wrote_it_and_the_check(new_app, projects):
    from core.project import ProjectStore

    at = ask_on_profile(new_app, "How many rows are there?")
    out = texts(at)
    pid = at.query_params["project"]
    project = ProjectStore(projects).open(pid[0] if isinstance(pid, list) else pid)
    assert f"**Answer:** `{project.profile.n_rows}`" in out  # the right count, run on the whole table
    assert "Written by" in out  # who wrote the code is always said
    assert "Checked against your question" in out or "Not verified against your question" in out


def test_a_question_nothing_can_answer_says_so(new_app, projects):
    at = ask_on_profile(new_app, "Which customers will leave us next year?")
    assert "Could not answer this" in texts(at)
