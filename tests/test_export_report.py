"""Markdown / HTML / zip report: content, numbers only from the project state, narrative checks."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from core.export import report
from core.factcheck import check_numbers
from core.llm.fake import FakeBackend
from core.profile import profile_dataframe
from core.recipes.model import build_model_code
from tests.modeling_helpers import build_project, messy_classification, one_thread  # noqa: F401
from tests.test_export_notebook import CLEAN, FEATURE


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    df = messy_classification(n=160)
    df["row id"] = range(len(df))
    prof = profile_dataframe(df, target="churn")
    return build_project(
        tmp_path_factory.mktemp("rep"), df, "churn", "classification",
        transforms=[("clean", CLEAN, "rule"), ("feature", FEATURE, "gemma")],
        model_code=build_model_code("linear", "classification"), cv=2, drop_columns=["row id"], profile=prof,
    )


def state_facts(project) -> list[object]:
    """Every number and string recorded anywhere in the project state."""
    out: list[object] = []

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                out.append(str(k))
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif v is not None:
            out.append(v)

    walk(project.model_dump(mode="json"))
    return out


def prose(md: str) -> str:
    """The report without fenced code (code is shown verbatim, not stated as facts)."""
    return re.sub(r"```.*?```", " ", md, flags=re.S)


def test_markdown_has_every_section_and_step(project):
    md = report.to_markdown(project)
    for head in ("## Dataset", "## Steps", "## Model results", "## Known limitations", "### About the data"):
        assert head in md
    assert md.index("### Cleaning") < md.index("### Features") < md.index("### Model 1")
    assert CLEAN.strip() in md and "df['age_sq']" in md
    m = project.active_steps[-1].result.metrics
    assert report.fmt(m["test"]["roc_auc"]) in md
    assert report.fmt(m["baselines"]["hgb_default"]["test"]["roc_auc"]) in md
    assert "dummy baseline" in md and "HistGradientBoosting (defaults)" in md
    assert "Column row id was left out of the model" in md
    assert "What changed:" in md and "Added columns: `age_sq`" in md


def test_report_states_no_number_missing_from_the_project_state(project):
    project = project.model_copy(deep=True)
    project.report_narrative = report.narrative(project, backend=None)
    md = report.to_markdown(project)
    checked = check_numbers(prose(md), state_facts(project), rel_tol=0.0005)
    assert checked.n_numbers > 20
    assert checked.flagged == []
    # The check can fail: a number that is not in the state is caught.
    bad = check_numbers("The model reached a score of 0.4321.", state_facts(project), rel_tol=0.0005)
    assert bad.flagged


def test_narrative_drops_sentences_with_invented_numbers(project):
    m = project.active_steps[-1].result.metrics
    good = f"The model reached a test ROC-AUC of {report.fmt(m['test']['roc_auc'])}."
    backend = FakeBackend(default=f"{good} It is 37.5 times better than chance. Nothing else matters.")
    text = report.narrative(project, backend, sections=["model"])["model"]
    assert good in text and "37.5" not in text and "Nothing else matters." in text
    assert "Facts:" in backend.prompts[0] and report.fmt(m["test"]["roc_auc"]) in backend.prompts[0]


def test_narrative_falls_back_to_facts_when_the_model_fails(project):
    backend = FakeBackend(default="99 999 999.")
    out = report.narrative(project, backend)
    assert set(out) == {"dataset", "steps", "model"}  # limitations are listed as they are
    assert out["dataset"].startswith("The file data.csv has 160 rows")


def test_html_and_zip(project):
    html = report.to_html(project)
    assert html.startswith("<!DOCTYPE html>") and "<table>" in html and "plotly" in html.lower()
    assert "charts:model1" not in html
    data = report.to_zip(project, png=False)
    z = zipfile.ZipFile(io.BytesIO(data))
    names = z.namelist()
    assert "report.md" in names and "report.html" in names
    assert "charts/model1_confusion_matrix.html" in names and "charts/plotly.min.js" in names
    md = z.read("report.md").decode()
    assert "(charts/model1_roc_curve.html)" in md and "kaleido" in md
    assert report.to_zip(project, png=False) == data  # fixed timestamps: same bytes


@pytest.mark.slow
def test_zip_with_png_charts_when_kaleido_works(project):
    images = report._png_images({"x": next(iter(report.report_figures(project).values()))})
    if images is None:
        pytest.skip("kaleido/Chromium not available here")
    z = zipfile.ZipFile(io.BytesIO(report.to_zip(project)))
    pngs = [n for n in z.namelist() if n.endswith(".png")]
    assert pngs and z.read(pngs[0])[:4] == b"\x89PNG"
    assert f"]({pngs[0]})" in z.read("report.md").decode()


def test_narrative_turns_a_bulleted_reply_into_sentences(project):
    reply = "- The target column is churn (classification).\n- It has two classes.\n\nExtra"
    backend = FakeBackend(default=reply)
    text = report.narrative(project, backend, sections=["dataset"])["dataset"]
    assert text == "The target column is churn (classification). It has two classes."


def test_narrative_drops_a_sentence_cut_by_the_token_limit(project):
    backend = FakeBackend(default="The target column is churn (classification). The model was trained on")
    text = report.narrative(project, backend, sections=["dataset"])["dataset"]
    assert text == "The target column is churn (classification)."


def test_narrative_says_each_sentence_once_and_ends_with_a_full_stop(project):
    m = project.active_steps[-1].result.metrics
    dummy = m["baselines"]["dummy"]["test"]["roc_auc"]
    line = f"On the same split the dummy baseline reached a test ROC-AUC of {report.fmt(dummy)}."
    # The walk-through's reply: one sentence five times, then a sentence cut by the token limit.
    backend = FakeBackend(default=" ".join([line] * 5) + " The model was then compared with")
    seen: list[tuple[str, int, int]] = []
    out = report.narrative(project, backend, on_section=lambda *a: seen.append(a))
    text = " ".join(out.values())
    assert out["model"].count("dummy baseline") == 1
    assert text.count(line) == 1  # said once in the whole narrative, not once per section
    assert all(v.rstrip().endswith((".", "!", "?")) for v in out.values())
    assert [s[0] for s in seen] == [report.SECTIONS[k] for k in report.SECTIONS][: len(seen)]
    assert seen[-1][1] == seen[-1][2] == len(seen)


def test_narrative_drops_a_sentence_about_a_column_that_does_not_exist(project):
    facts = report.section_facts(project)["dataset"]
    real = next(f for f in facts if f.startswith("The file "))
    # The real Gemma's slip seen in the walk-through: a fact's shape with a made-up column name.
    backend = FakeBackend(default=f"{real} Column humidity_mm has 1 missing values.")
    text = report.narrative(project, backend, sections=["dataset"])["dataset"]
    assert real in text and "humidity_mm" not in text


def test_narrative_drops_a_stray_quote_mark_around_the_reply(project):
    real = next(f for f in report.section_facts(project)["dataset"] if f.startswith("The file "))
    backend = FakeBackend(default=f'"{real}')
    assert report.narrative(project, backend, sections=["dataset"])["dataset"] == real
