"""The trusted model harness: split before fitting, baselines, metrics, robustness to messy data."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import modeling_harness as h
from core import modeling_prep as prep
from core.export.notebook import INLINED_MODULES, module_source
from core.recipes.model import build_model_code
from tests.modeling_helpers import messy_classification, messy_regression, one_thread, run_code  # noqa: F401

LINEAR_CLF = build_model_code("linear", "classification")
LINEAR_REG = build_model_code("linear", "regression")


def _imports(source: str) -> set[str]:
    import ast

    tree = ast.parse(source)
    mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    return mods | {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}


@pytest.mark.parametrize("name", INLINED_MODULES)
def test_inlined_modules_import_nothing_from_core_in_the_notebook(name):
    """The notebook has no `core` package: each inlined module, as inlined, stands on its own."""
    allowed = {"__future__", "json", "math", "time", "typing", "numpy", "pandas", "sklearn", "pickle"}
    allowed |= {"threadpoolctl", "plotly"}  # a scikit-learn dependency (caps threads); the charts
    mods = _imports(module_source(name))
    assert mods and {m.split(".")[0] for m in mods} <= allowed, mods


def test_inlined_modules_import_only_earlier_inlined_modules_of_core():
    for i, name in enumerate(INLINED_MODULES):
        source = (Path(h.__file__).parent / f"{name}.py").read_text(encoding="utf-8")
        ours = {m for m in _imports(source) if m.split(".")[0] == "core"}
        assert ours <= {f"core.{m}" for m in INLINED_MODULES[:i]}, (name, ours)
    assert "from core.modeling_prep import" in Path(h.__file__).read_text(encoding="utf-8")


def test_classification_on_messy_frame_beats_dummy_and_is_json_safe():
    df = messy_classification()
    seen = {}

    def build_model(X):
        seen["rows"], seen["cols"] = len(X), list(X.columns)
        return run_code(LINEAR_CLF, "build_model")(X)

    r = h.train_and_evaluate(df, build_model, target="churn", task="classification", cv=3)
    json.dumps(r)
    # The pipeline is built from the training split only, and never sees the target.
    assert seen["rows"] == r["n_train"] and "churn" not in seen["cols"]
    assert r["n_train"] + r["n_test"] == len(df)
    assert r["primary_metric"] == "roc_auc"
    assert set(r["test"]) == {"roc_auc", "balanced_accuracy", "f1_macro"}
    assert r["baselines"]["dummy"]["test"]["roc_auc"] == pytest.approx(0.5)
    assert r["test"]["roc_auc"] > 0.75 > r["baselines"]["dummy"]["test"]["roc_auc"]
    assert r["baselines"]["hgb_default"]["test"]["roc_auc"] > 0.7
    assert r["cv"]["n_splits"] == 3 and 0 < r["cv"]["mean"]["roc_auc"] <= 1
    # Wild columns: datetime converted, all-missing dropped, names kept.
    assert "empty" not in r["feature_columns"] and "signup" in r["feature_columns"]
    assert any("signup" in n and "datetime" in n for n in r["notes"])
    cm = r["charts"]["confusion_matrix"]
    assert cm["labels"] == ["no", "yes"] and sum(map(sum, cm["matrix"])) == r["n_test"]
    assert len(r["charts"]["roc_curve"]["fpr"]) == len(r["charts"]["roc_curve"]["tpr"]) > 2
    assert r["charts"]["importance"]["features"][0] in ("Age (years)", "city name")


def test_regression_metrics_and_residuals():
    df = messy_regression()
    r = h.train_and_evaluate(df, run_code(LINEAR_REG, "build_model"), target="price", cv=2)
    assert r["task"] == "regression" and r["primary_metric"] == "r2"
    assert r["test"]["r2"] > 0.8 and r["baselines"]["dummy"]["test"]["r2"] < 0.05
    assert r["test"]["rmse"] < r["baselines"]["dummy"]["test"]["rmse"]
    assert len(r["charts"]["residuals"]["predicted"]) == r["n_test"]
    assert "confusion_matrix" not in r["charts"]


def test_rows_without_target_are_dropped_and_split_is_deterministic():
    df = messy_classification(n=200)
    df.loc[::10, "churn"] = None
    build = run_code(LINEAR_CLF, "build_model")
    a = h.train_and_evaluate(df, build, target="churn", cv=2, importance=False)
    b = h.train_and_evaluate(df, build, target="churn", cv=2, importance=False)
    assert a["n_train"] + a["n_test"] == 180
    assert any("without a target" in n for n in a["notes"])
    assert _same_but_seconds(a, b)


def _same_but_seconds(a, b):
    strip = lambda d: {k: {kk: vv for kk, vv in v.items() if kk != "seconds"} for k, v in d.items()}  # noqa: E731
    return a["test"] == b["test"] and strip(a["baselines"]) == strip(b["baselines"])


def test_tiny_data_uses_fewer_folds_and_bool_target():
    df = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10], "y": [True, False] * 5})
    r = h.train_and_evaluate(df, run_code(LINEAR_CLF, "build_model"), target="y", cv=5)
    assert r["task"] == "classification" and r["classes"] == ["False", "True"]
    assert r["cv"]["n_splits"] <= 4  # at most the smallest class count in the training split


def test_many_rare_classes_do_not_crash():
    rng = np.random.default_rng(3)
    n = 200
    y = [f"class {i}" for i in rng.integers(0, 12, size=n)]
    y[0] = "singleton"
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "y": y})
    r = h.train_and_evaluate(df, run_code(LINEAR_CLF, "build_model"), target="y", cv=3, importance=False)
    assert r["n_classes"] == 13
    assert r["test"]["roc_auc"] is None or 0 <= r["test"]["roc_auc"] <= 1
    assert any("not stratified" in n for n in r["notes"])
    assert len(r["charts"]["confusion_matrix"]["labels"]) <= h.MAX_CM_CLASSES + 1


def test_duplicate_and_non_string_column_names():
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(80, 3)), columns=["a", "a", 7])
    df["t"] = (df.iloc[:, 0] > 0).astype(int)
    r = h.train_and_evaluate(df, run_code(LINEAR_CLF, "build_model"), target="t", cv=2, importance=False)
    assert r["feature_columns"] == ["a", "a_1", "7"]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"x": range(10), "y": ["a"] * 10}), "single value"),
        (pd.DataFrame({"x": range(3), "y": ["a", "b", "a"]}), "at least 4"),
        (pd.DataFrame({"x": range(10)}), "not in the data"),
    ],
)
def test_bad_input_raises_clear_errors(frame, message):
    with pytest.raises(ValueError, match=message):
        h.train_and_evaluate(frame, run_code(LINEAR_CLF, "build_model"), target="y")


def test_model_is_pickled_when_asked(tmp_path):
    df = messy_regression(n=120)
    path = tmp_path / "model.pkl"
    r = h.train_and_evaluate(
        df, run_code(LINEAR_REG, "build_model"), target="price", cv=2, model_path=str(path), baselines=False
    )
    model = pickle.loads(path.read_bytes())
    X, _ = prep.prepare_features(df.drop(columns=["price"]))
    assert len(model.predict(X)) == len(df) and r["model_path"] == str(path)


def test_detect_task():
    assert prep.detect_task(pd.Series(["a", "b"])) == "classification"
    assert prep.detect_task(pd.Series([True, False])) == "classification"
    assert prep.detect_task(pd.Series([1, 2, 3, 1, 2, 5])) == "classification"
    assert prep.detect_task(pd.Series(np.linspace(0, 1, 50))) == "regression"
    assert prep.detect_task(pd.Series(range(100))) == "regression"


def test_drop_columns_are_removed_before_training():
    df = messy_regression(n=120)
    df["leak"] = df["price"] * 2
    r = h.train_and_evaluate(
        df, run_code(LINEAR_REG, "build_model"), target="price", cv=2, drop_columns=["leak"], importance=False
    )
    assert "leak" not in r["feature_columns"] and r["dropped_columns"] == ["leak"]
    assert r["test"]["r2"] < 0.999


def test_wide_tables_skip_permutation_importance_with_a_note():
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(40, h.IMPORTANCE_MAX_COLUMNS + 1)))
    X.columns = [f"c{i}" for i in range(X.shape[1])]
    y = pd.Series(np.where(X["c0"] > 0, "a", "b"))

    class Majority:  # any fitted estimator will do: importance is skipped before predicting
        classes_ = np.array(["a", "b"])

        def predict(self, X):
            return np.array(["a"] * len(X))

    charts = h.chart_data(Majority(), X, y, "classification", seed=0)
    assert charts["importance"] is None and "skipped" in charts["importance_note"]


def test_numbers_stored_as_text_are_a_regression_target():
    # Money as text ("$1,234.50") is a number to predict, not hundreds of classes.
    rng = np.random.default_rng(0)
    x = rng.normal(size=120)
    cost = 1000 + 300 * x + rng.normal(scale=20, size=120)
    y = pd.Series([f"${v:,.2f}" for v in cost])
    assert prep.detect_task(y) == "regression"
    assert prep.detect_task(pd.Series(["yes", "no", "yes", "1"])) == "classification"
    num, notes = prep.prepare_target(y, "regression")
    assert num.notna().all() and not notes and abs(num.iloc[0] - cost[0]) < 0.01
    eu = prep.number_text(pd.Series(["1.234,5 €", "12%", "(3)", None, "n/a"]), min_share=0.0)
    assert eu.iloc[:3].tolist() == [1234.5, 12.0, -3.0] and eu.iloc[3:].isna().all()
    sci, _ = prep.prepare_target(pd.Series(["1e-05", "2.5", None], dtype=object), "regression")
    assert sci.iloc[:2].tolist() == [1e-05, 2.5]  # what pd.to_numeric reads still reads
    df = pd.DataFrame({"x": x, "Cost": y})
    r = h.train_and_evaluate(df, run_code(LINEAR_REG, "build_model"), target="Cost", cv=2, importance=False)
    assert r["task"] == "regression" and r["test"]["r2"] > 0.9
