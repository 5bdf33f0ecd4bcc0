"""Safe by default and the budgeted search: suspects left out unless put back, a model trained with
a put-back leak labelled on every rendering, the search's candidates, budget and winner step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import model_search, modeling
from core.export.notebook import to_notebook
from core.export.report import to_markdown
from core.lint import errors, lint
from core.model_result import ModelResult
from core.models import LoadOptions
from core.project import ProjectStore
from core.sandbox import NotASandbox
from tests.modeling_helpers import messy_classification, messy_regression, one_thread  # noqa: F401


def _leaky(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    df = pd.DataFrame(
        {
            "Customer ID": rng.permutation(n) + 500,
            "income": rng.normal(50, 10, n),
            "segment": rng.choice(["a", "b", "c"], n),
            "humidity": rng.uniform(20, 90, n),
        }
    )
    df["bought"] = np.where(df["income"] + rng.normal(scale=6, size=n) > 50, "yes", "no")
    df["refund_paid"] = np.where(df["bought"] == "yes", rng.gamma(2, 20, n), np.nan)  # after the outcome
    return df


@pytest.fixture()
def store_project(tmp_path):
    store = ProjectStore(tmp_path / "projects")
    df = _leaky()
    raw = tmp_path / "shop.csv"
    df.to_csv(raw, index=False)
    project = store.create("shop")
    store.import_raw(project, raw, LoadOptions(), filename=raw.name, loaded_df=df)
    project.target, project.task = "bought", "classification"
    store.save(project)
    return store, project, NotASandbox(tmp_path / "ws")


def _train(store, project, sandbox):
    from core.recipes.model import build_model_code

    return store.accept_step(
        project, "model", build_model_code("linear", "classification"), "build_model", "rule", sandbox=sandbox
    )


def test_suspects_are_left_out_by_default_and_put_back_with_a_label_everywhere(store_project):
    store, project, sandbox = store_project
    step = _train(store, project, sandbox)
    m = step.result.metrics
    assert m["dropped_columns"] == ["Customer ID", "refund_paid"]
    res = ModelResult.from_metrics(m)
    assert res.leak_label is None
    assert any("refund_paid" in line and "after the outcome" in line for line in res.left_out_lines())

    project.model_put_back = ["refund_paid"]  # the user's one click, recorded in the project
    store.save(project)
    leaky = _train(store, store.open(project.id), sandbox)
    m2 = leaky.result.metrics
    assert m2["dropped_columns"] == ["Customer ID"] and m2["put_back"] == ["refund_paid"]
    res2 = ModelResult.from_metrics(m2)
    assert res2.leak_label and "refund_paid" in res2.leak_label
    assert "⚠ suspected leak" in res2.markdown() and "SUSPECTED LEAK" in res2.markdown()

    project = store.open(project.id)
    md = to_markdown(project)
    section = md[md.index("## Model results") : md.index("### Model 1")]
    assert "Left out of model 1" in section and "`Customer ID`" in section  # before any score
    assert "Model 2: SUSPECTED LEAK" in section
    nb = to_notebook(project, "shop.csv")
    assert sum("SUSPECTED LEAK" in c["source"] for c in nb.cells) == 1
    table = modeling.compare_table(project.active_steps)
    assert table["model"].str.contains("suspected leak").tolist()[:2] == [False, True]
    assert modeling.recommended_index([s for s in project.active_steps if s.stage == "model"]) == 0

    from core.autopilot import scorecard

    card = scorecard(project, [], 1.0)
    assert card["model"]["suspected_leak"] is None and card["model"]["recommended"] == "model 1 of 2"


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_candidates_are_lint_clean_pipelines_that_train(task):
    from core.modeling_prep import prepare_features

    df = messy_classification() if task == "classification" else messy_regression()
    target = "churn" if task == "classification" else "price"
    X, _ = prepare_features(df.drop(columns=[target]))
    y = df[target]
    cands = model_search.candidates(task, X, y)
    assert [c.id for c in cands][:3] == ["hgb_default", "linear", "random_forest"]
    for c in cands:
        assert errors(lint(c.code)) == [], c.id
        model = model_search.build(c.code)(X)
        model.fit(X, y)
        assert model.score(X, y) > 0.5, c.id


def test_data_driven_variants():
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({"x": rng.normal(size=n), "shop": [f"s{i % 120}" for i in range(n)]})
    skewed = pd.Series(np.exp(rng.normal(2, 1, n)))
    ids = [c.id for c in model_search.candidates("regression", X, skewed)]
    assert "hgb_log_target" in ids
    rare = pd.Series(np.where(rng.random(n) < 0.08, "fraud", "ok"))
    assert "hgb_balanced" in [c.id for c in model_search.candidates("classification", X, rare)]
    tuned = next(c for c in model_search.candidates("classification", X, rare) if c.id == "hgb_tuned")
    assert (
        "TargetEncoder" in tuned.code and "> 50" in tuned.code
    )  # wide categories target-encoded in-pipeline


def test_search_respects_the_budget_and_scores_on_the_harness_folds(monkeypatch):
    df = messy_regression()
    tiny = model_search.search(df, "price", "regression", budget_s=0.0, n_threads=1)
    # The first two always run; then the blend of both is scored from their kept predictions.
    assert [t["id"] for t in tiny.tried] == ["hgb_default", "linear", "blend_2"]
    monkeypatch.setattr(model_search, "SEARCH_FOLDS", 5)  # all of the harness's folds
    full = model_search.search(df, "price", "regression", budget_s=300, n_threads=1)
    singles = [c.id for c in model_search.candidates("regression", *_xy(df, "price"))]
    assert [t["id"] for t in full.tried] == [*singles, "blend_2", "blend_3"]
    scores = {t["id"]: t["cv"] for t in full.tried}
    assert full.best is not None and scores[full.best.id] == max(v for v in scores.values() if v is not None)
    # Scored on the harness's own split and folds: a candidate's search score is its harness CV score,
    # the blend's score from kept predictions is what fitting the blend gives.
    from core.modeling_harness import train_and_evaluate

    checks = {
        "hgb_default": _cand(df, "hgb_default").code,
        "blend_3": model_search.blend("regression", [_cand(df, t) for t in _top3(scores)]).code,
    }
    for cid, code in checks.items():
        m = train_and_evaluate(df, model_search.build(code), "price", "regression", importance=False)
        assert m["cv"]["mean"]["r2"] == pytest.approx(scores[cid], abs=1e-5), cid  # JSON rounds to 6 places


def _top3(scores: dict[str, float | None]) -> list[str]:
    singles = {k: v for k, v in scores.items() if not k.startswith("blend") and v is not None}
    return sorted(singles, key=lambda k: -singles[k])[:3]


def _cand(df: pd.DataFrame, cid: str) -> model_search.Candidate:
    return next(c for c in model_search.candidates("regression", *_xy(df, "price")) if c.id == cid)


def _xy(df: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.Series]:
    from core.modeling_harness import split_data

    out = split_data(df, target, "regression", 42, 0.25, (), [])
    return out[3], out[5]


def test_search_step_adds_the_winner_as_a_model_step(store_project):
    store, project, sandbox = store_project
    step = modeling.search_step(project, store, sandbox, budget_s=5, n_threads=1)
    assert step.stage == "model" and step.provenance == "rule" and "budgeted search" in step.provenance_detail
    m = step.result.metrics
    assert m["dropped_columns"] == ["Customer ID", "refund_paid"]  # the search is safe by default too
    assert m["test"]["roc_auc"] > m["baselines"]["dummy"]["test"]["roc_auc"]


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_blend_of_candidates_is_one_lint_clean_build_model(task):
    from core.modeling_prep import prepare_features

    df = messy_classification() if task == "classification" else messy_regression()
    target = "churn" if task == "classification" else "price"
    X, _ = prepare_features(df.drop(columns=[target]))
    members = model_search.candidates(task, X, df[target])[:3]
    b = model_search.blend(task, members)
    assert errors(lint(b.code)) == [] and b.code.count("def build_model(") == 1
    model = model_search.build(b.code)(X).fit(X, df[target])
    assert [name for name, _ in model.estimators] == [m.id for m in members]
    assert model.score(X, df[target]) > 0.5
