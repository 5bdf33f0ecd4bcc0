"""Model stage logic: task detection, leakage / ID checks, recipes, training through a sandbox."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import modeling
from core.lint import errors, lint
from core.models import Step, StepResult
from core.recipes.model import build_model_code
from core.stages import recipes_for, render_stage
from tests.modeling_helpers import messy_classification, messy_regression, one_thread, run_code  # noqa: F401


def test_detect_task_on_wild_series():
    assert modeling.detect_task(pd.Series(["yes", "no", None])) == "classification"
    assert modeling.detect_task(pd.Series([0.0, 1.0, 1.0, np.nan])) == "classification"
    assert modeling.detect_task(pd.Series(np.random.default_rng(0).normal(size=30))) == "regression"
    assert modeling.detect_task(pd.Series(pd.array([1, 2, 3, None], dtype="Int64"))) == "classification"


def _frame(n=200):
    rng = np.random.default_rng(5)
    df = pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "email": [f"user{i}@x.org" for i in range(n)],
            "income": rng.normal(50, 10, size=n),
            "segment": rng.choice(["a", "b", "c"], size=n),
        }
    )
    df["bought"] = np.where(df["income"] + rng.normal(scale=5, size=n) > 50, "yes", "no")
    df["bought_flag"] = df["bought"].map({"yes": "Y", "no": "N"})  # a relabelled copy: leak
    return df


def test_leakage_and_id_checks_find_ids_and_copies_but_not_features():
    df = _frame()
    found = {f.columns: f for f in modeling.leakage_and_id_checks(None, df, "bought")}
    assert found[("customer_id",)].kind == "identifier"
    assert found[("email",)].kind == "identifier"
    assert found[("bought_flag",)].kind == "leak" and found[("bought_flag",)].rule == "mapping"
    assert ("income",) not in found and ("segment",) not in found
    assert modeling.columns_to_drop_for_model(None, df, "bought") == ["customer_id", "email", "bought_flag"]
    # A column the user put back stays in the features.
    assert modeling.columns_to_drop_for_model(None, df, "bought", put_back=["email"]) == [
        "customer_id",
        "bought_flag",
    ]


def test_regression_copy_of_target_is_flagged():
    df = messy_regression()
    df["price_eur"] = df["price"] * 0.9 + 1
    found = modeling.leakage_and_id_checks(None, df, "price")
    assert [(f.column, f.kind, f.rule) for f in found] == [("price_eur", "leak", "single_feature")]
    assert "correlation 1.000" in found[0].evidence


def test_profile_leakage_list_is_reused():
    from core.profile import profile_dataframe

    df = _frame()
    prof = profile_dataframe(df, target="bought")
    prof.leakage = [{"column": "segment", "target": "bought", "reason": "recorded after purchase"}]
    found = modeling.leakage_and_id_checks(prof, df, "bought")
    assert ("segment", "leak", "profile") in [(f.column, f.kind, f.rule) for f in found]


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_model_recipes_lint_clean_and_train_on_messy_data(task):
    from core.modeling_prep import prepare_features

    df = messy_classification() if task == "classification" else messy_regression()
    target = "churn" if task == "classification" else "price"
    recipes = recipes_for("model", None, target, task)
    assert [r.id for r in recipes] == ["model.random_forest", "model.hgb", "model.linear"]
    assert render_stage("model", recipes) == recipes[0].code
    X, _ = prepare_features(df.drop(columns=[target]))
    y = df[target]
    for r in recipes:
        assert errors(lint(r.code)) == [], r.id
        assert "def build_model(X: pd.DataFrame):" in r.code
        model = run_code(r.code, "build_model")(X)
        assert not hasattr(model, "classes_") and not hasattr(model[-1], "n_features_in_")  # unfitted
        model.fit(X, y)
        assert model.score(X, y) > 0.5, r.id


def test_compare_table_lists_models_then_baselines():
    def step(i, auc):
        metrics = {
            "estimator": f"Est{i}", "primary_metric": "roc_auc", "test": {"roc_auc": auc},
            "cv": {"mean": {"roc_auc": auc - 0.01}},
            "baselines": {"dummy": {"test": {"roc_auc": 0.5}}, "hgb_default": {"test": {"roc_auc": 0.8}}},
        }
        return Step(
            id=f"m{i}", stage="model", code="", entrypoint="build_model", provenance="rule",
            provenance_detail="", result=StepResult(ok=True, metrics=metrics),
        )

    t = modeling.compare_table([step(1, 0.7), step(2, 0.9)])
    assert t["model"].tolist() == ["#1 Est1", "#2 Est2", "baseline: dummy", "baseline: hgb_default"]
    assert t["test ROC-AUC"].tolist() == [0.7, 0.9, 0.5, 0.8]
    # The recommendation is chosen by cross-validation, never by the test score.
    assert t["recommended"].tolist() == ["", "★", "", ""]


class _Store:
    def __init__(self, path):
        self.path = path

    def current_data_path(self, project):
        return self.path


def test_train_step_runs_model_mode_and_records_params(tmp_path):
    from core.sandbox import NotASandbox
    from tests.modeling_helpers import build_project

    df = _frame(160)
    data = tmp_path / "current.parquet"
    df.to_parquet(data)
    project = build_project(tmp_path / "p", df, "bought", None)
    project.task = None
    res = modeling.train_step(
        project, build_model_code("linear", "classification"), _Store(data), NotASandbox(tmp_path)
    )
    assert res.ok, res.error
    assert project.task == "classification"
    m = res.metrics
    assert m["params"]["drop_columns"] == ["customer_id", "email", "bought_flag"]
    assert m["dropped_columns"] == m["params"]["drop_columns"]
    assert {c["column"] for c in m["checks"]} >= {"customer_id", "bought_flag"}
    assert m["test"]["roc_auc"] > m["baselines"]["dummy"]["test"]["roc_auc"]
    # The fitted pipeline is saved in the workspace for download, outside the recorded params.
    assert m["model_path"].startswith(str(tmp_path)) and "model_path" not in m["params"]
    import pickle

    assert hasattr(pickle.loads(open(m["model_path"], "rb").read()), "predict")
    summary = modeling.model_summary(Step(
        id="x", stage="model", code="", entrypoint="build_model", provenance="rule", provenance_detail="",
        result=res,
    ))
    assert summary["baselines"]["dummy"]["roc_auc"] == pytest.approx(0.5)


def test_train_step_reports_a_failing_pipeline(tmp_path):
    from core.sandbox import NotASandbox
    from tests.modeling_helpers import build_project

    df = _frame(80)
    data = tmp_path / "current.parquet"
    df.to_parquet(data)
    project = build_project(tmp_path / "p", df, "bought", "classification")
    bad = "def build_model(X):\n    raise ValueError('no model today')\n"
    res = modeling.train_step(project, bad, _Store(data), NotASandbox(tmp_path))
    assert not res.ok and "no model today" in res.error


def test_model_figures_for_both_tasks():
    from core.model_charts import model_figures

    clf = {
        "test": {"roc_auc": 0.8},
        "charts": {
            "confusion_matrix": {"labels": ["a", "b"], "matrix": [[3, 1], [0, 4]]},
            "roc_curve": {"fpr": [0, 0.5, 1], "tpr": [0, 0.9, 1], "positive": "b"},
            "importance": {"features": ["x", "y"], "mean": [0.2, 0.1], "std": [0.01, 0.02], "rows": 8},
        },
    }
    figs = model_figures(clf)
    assert list(figs) == ["confusion_matrix", "roc_curve", "importance"]
    assert figs["confusion_matrix"].data[0].z[0][1] == 1
    assert "0.800" in figs["roc_curve"].data[0].name
    assert list(figs["importance"].data[0].y) == ["y", "x"]  # most important drawn on top
    reg = {"charts": {"residuals": {"predicted": [1.0, 2.0], "residual": [0.1, -0.2]}, "importance": None}}
    assert list(model_figures(reg)) == ["residuals"]
