"""Clean and feature pages: proposal with code and provenance, run, accept, undo/redo, edit."""

from __future__ import annotations

from apptest_helpers import button, load_sample, open_project, open_stage, texts

import core.engine.session  # noqa: E402,F401 - a broken engine import fails these tests


def test_clean_proposal_accept_undo_redo(new_app, projects):
    at = open_stage(new_app, "pages/clean.py")
    button(at, "Propose").click().run()
    assert not at.exception, at.exception
    out = texts(at)
    assert "Provenance:" in out
    code = at.text_area(key="editor_clean_1_plain").value
    assert "def clean(" in code

    button(at, "Run on preview").click().run()
    assert not at.exception, at.exception
    assert "Result of the run" in texts(at)
    assert not [e for e in at.error if "failed" in e.value]

    button(at, "Accept").click().run()
    assert not at.exception, at.exception
    assert "Step accepted" in texts(at)
    project = open_project(at, projects)
    assert [s.stage for s in project.active_steps] == ["clean"]
    assert project.active_steps[0].code.strip() == code.strip()
    assert project.active_steps[0].provenance in ("gemma", "gemma-repaired", "rule")
    assert "3 · Clean (" in " ".join(str(p.label) for p in at.sidebar.get("page_link"))

    at.sidebar.button(key="sb_undo").click().run()
    assert open_project(at, projects).cursor == 0
    at.sidebar.button(key="sb_redo").click().run()
    assert open_project(at, projects).cursor == 1


def test_edited_code_is_recorded_as_user(new_app, projects):
    at = open_stage(new_app, "pages/feature.py")
    button(at, "Propose").click().run()
    editor = at.text_area(key="editor_feature_1_plain")
    edited = (
        "import pandas as pd\n\n\ndef add_features(df: pd.DataFrame) -> pd.DataFrame:\n"
        "    df = df.copy()\n    df['n_missing_in_row'] = df.isna().sum(axis=1)\n    return df\n"
    )
    editor.set_value(edited).run()
    button(at, "Run on preview").click().run()
    assert not at.exception, at.exception
    assert "n_missing_in_row" in texts(at)
    button(at, "Accept").click().run()
    step = open_project(at, projects).active_steps[-1]
    assert step.provenance == "user"
    assert "n_missing_in_row" in step.code


def test_failing_code_shows_error_and_fix_button(new_app, projects):
    at = open_stage(new_app, "pages/clean.py")
    button(at, "Start from empty code").click().run()
    bad = "import pandas as pd\n\n\ndef clean(df):\n    return df['no such column']\n"
    at.text_area(key="editor_clean_0_plain").set_value(bad).run()
    button(at, "Run on preview").click().run()
    assert not at.exception, at.exception
    assert any("failed" in e.value for e in at.error)
    assert not button(at, "Fix it").disabled
    assert "proposal_clean" not in at.session_state
    button(at, "Fix it").click().run()
    assert not at.exception, at.exception
    assert "proposal_clean" in at.session_state  # verified or not, the fix is what is shown now


def _accept_code(at, stage_page: str, code: str, version_key: str):
    at.switch_page(stage_page).run()
    button(at, "Start from empty code").click().run()
    at.text_area(key=version_key).set_value(code).run()
    button(at, "Accept").click().run()
    assert not at.exception, at.exception
    assert "Step accepted" in texts(at)


def test_edit_marks_later_steps_stale_and_replay_runs_them(new_app, projects):
    at = load_sample(new_app())
    clean = "import pandas as pd\n\n\ndef clean(df: pd.DataFrame) -> pd.DataFrame:\n    return df.copy()\n"
    feature = (
        "import pandas as pd\n\n\ndef add_features(df: pd.DataFrame) -> pd.DataFrame:\n"
        "    df = df.copy()\n    df['n_missing'] = df.isna().sum(axis=1)\n    return df\n"
    )
    _accept_code(at, "pages/clean.py", clean, "editor_clean_0_plain")
    _accept_code(at, "pages/feature.py", feature, "editor_feature_0_plain")
    project = open_project(at, projects)
    first = project.steps[0]

    at.switch_page("pages/clean.py").run()
    edited = clean.replace("return df.copy()", "return df.dropna(how='all').copy()")
    at.text_area(key=f"edit_step_{first.id}").set_value(edited).run()
    at.button(key=f"save_step_{first.id}").click().run()
    assert not at.exception, at.exception
    project = open_project(at, projects)
    assert project.steps[0].code == edited and project.steps[0].provenance == "user"
    assert project.steps[1].stale
    assert "stale" in texts(at)

    at.button(key="replay_clean").click().run()
    assert not at.exception, at.exception
    assert "Replayed 1 stale step(s) without error." in texts(at)
    assert not open_project(at, projects).steps[1].stale


def test_run_result_diff_is_computed_once_per_run(new_app, projects, monkeypatch):
    """Every click reruns the page: the run's diff is kept with the run, not recomputed. The run
    itself used the sandbox process the page prepared on the current data while it was shown."""
    from app import common as ui_common
    from core import diff

    monkeypatch.delenv("GEMMA_WIZARD_PREPARE", raising=False)  # the default: prepared ahead
    calls: list[int] = []
    real = diff._diff
    monkeypatch.setattr(diff, "_diff", lambda *a, **k: calls.append(1) or real(*a, **k))
    at = open_stage(new_app, "pages/clean.py")
    button(at, "Propose").click().run()
    button(at, "Run on preview").click().run()
    assert not at.exception, at.exception
    assert "Rows matched" in texts(at)
    assert isinstance(at.session_state["run_clean"]["diff"], diff.FrameDiff)
    assert sum(box.prepared_used for box in ui_common._SANDBOXES) == 1
    seen = len(calls)
    assert seen >= 1
    at.run()  # what any widget click does
    assert not at.exception, at.exception
    assert "Rows matched" in texts(at)
    assert len(calls) == seen
