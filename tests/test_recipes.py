"""Every recipe renders correct pandas that runs on messy frames (warnings are errors here)."""

from __future__ import annotations

import ast
import warnings

import numpy as np
import pandas as pd
import pytest

from core.context import profile_frame
from core.lint import errors, lint
from core.recipes import clean as C
from core.recipes import feature as F
from core.recipes.steps import column_recipe
from core.stages import recipes_for, render_stage


def run(stage: str, recipes, df: pd.DataFrame) -> pd.DataFrame:
    code = render_stage(stage, recipes)
    ast.parse(code)
    assert errors(lint(code)) == []
    ns: dict = {}
    exec(code, ns)  # trusted recipe code, in-process on purpose
    entry = {"clean": "clean", "feature": "add_features"}[stage]
    before = df.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FutureWarning / chained-assignment warnings fail the test
        out = ns[entry](df)
    pd.testing.assert_frame_equal(df, before)  # the input is never modified
    return out


@pytest.fixture
def messy() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 120
    df = pd.DataFrame(
        {
            "row id": [f"R{i:04d}" for i in range(n)],
            "Prix (€)": [f"€{x:,.2f}" if i % 9 else None for i, x in enumerate(rng.lognormal(7, 1, n))],
            "pct": [f"{x:.1f}%" for x in rng.uniform(0, 100, n)],
            "neg": ["(12)", "1,000", "-5", "7"] * (n // 4),
            "when": [["2024-01-02", "03/04/2024", "5 May 2024", "not a date"][i % 4] for i in range(n)],
            "city": rng.choice(["New York", "new york ", "NEW  YORK", "Boston", "boston", "N/A", ""], n),
            "answer": rng.choice(["yes", "No", "Y", "n", None], n),
            "amount": np.where(rng.random(n) < 0.15, np.nan, rng.lognormal(3, 1.5, n)),
            "empty": [None] * n,
            "const": ["x"] * n,
            "target": rng.choice(["a", "b", None], n, p=[0.45, 0.45, 0.1]),
        }
    )
    return pd.concat([df, df.iloc[:4]], ignore_index=True)


def test_clean_recipes_from_the_profile_fix_a_messy_frame(messy):
    profile = profile_frame(messy, "target")
    recipes = recipes_for("clean", profile, "target")
    ids = {r.id for r in recipes}
    assert {"clean.drop_duplicates", "clean.drop_empty", "clean.drop_missing_target"} <= ids
    out = run("clean", recipes, messy)
    assert "target" in out.columns and out["target"].notna().all()
    assert "empty" not in out.columns and "const" not in out.columns
    assert not out.duplicated().any()
    assert pd.api.types.is_numeric_dtype(out["Prix (€)"])
    assert out["Prix (€)"].notna().all()  # imputed
    # Nothing drops the target, whatever its semantic.
    for r in recipes:
        assert "target" not in r.params.get("columns", [])


def test_parse_numbers_handles_currency_thousands_percent_and_parentheses():
    df = pd.DataFrame({"m": ["$1,234.50", "(12)", "-5", "45%", None, "abc"]})
    out = run("clean", [column_recipe("clean.parse_numbers", ["m"])], df)
    assert out["m"].tolist()[:4] == [1234.5, -12.0, -5.0, 45.0]
    assert out["m"].isna().tolist()[4:] == [True, True]


def test_parse_numbers_leaves_a_text_column_alone():
    df = pd.DataFrame({"m": ["red", "green", "blue", "1"]})
    out = run("clean", [column_recipe("clean.parse_numbers", ["m"])], df)
    assert out["m"].tolist() == ["red", "green", "blue", "1"]


def test_parse_dates_mixed_formats():
    df = pd.DataFrame({"d": ["2024-01-02", "03/04/2024", "5 May 2024", "garbage", None]})
    out = run("clean", [column_recipe("clean.parse_dates", ["d"])], df)
    assert pd.api.types.is_datetime64_any_dtype(out["d"])
    assert out["d"].iloc[0] == pd.Timestamp("2024-01-02")
    assert out["d"].isna().tolist()[3:] == [True, True]


def test_booleans_yes_no_true_false_one_zero():
    df = pd.DataFrame({"b": ["yes", "No", " TRUE", "false", "1", "0", None, "y"]})
    out = run("clean", [C.parse_booleans_recipe(["b"])], df)
    assert out["b"].tolist()[:6] == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    assert np.isnan(out["b"].iloc[6]) and out["b"].iloc[7] == 1.0


def test_standardise_categories_merges_variants_into_the_most_common_spelling():
    df = pd.DataFrame({"c": ["New York", "New York", "new york ", "NEW  YORK", "Boston", None]})
    out = run("clean", [column_recipe("clean.standardise_categories", ["c"])], df)
    assert out["c"].tolist()[:5] == ["New York"] * 4 + ["Boston"]
    assert pd.isna(out["c"].iloc[5])


def test_missing_markers_become_missing():
    df = pd.DataFrame({"c": ["a", "N/A", "?", "", " null ", "b"]})
    out = run("clean", [C.missing_markers_recipe(["c"])], df)
    assert out["c"].isna().tolist() == [False, True, True, True, True, False]


def test_impute_with_indicators():
    df = pd.DataFrame({"x": [1.0, np.nan, 3.0, np.nan], "c": ["a", None, "a", "b"]})
    out = run("clean", [C.impute_recipe(["x"], ["c"], ["x"])], df)
    assert out["x"].tolist() == [1.0, 2.0, 3.0, 2.0]
    assert out["x_was_missing"].tolist() == [0, 1, 0, 1]
    assert out["c"].tolist() == ["a", "a", "a", "b"]


def test_cap_outliers_only_clips_the_far_tail():
    x = list(range(1, 100)) + [10_000]
    out = run("clean", [column_recipe("clean.cap_outliers", ["x"])], pd.DataFrame({"x": x}))
    assert out["x"].max() < 10_000 and out["x"].iloc[:99].tolist() == list(range(1, 100))


def test_cap_outliers_is_planned_only_when_a_value_lies_beyond_its_own_fences():
    # Skewed, with IQR-rule (1.5 x IQR) outliers, but none beyond the 3 x IQR fences the recipe
    # clips at: capping would change nothing, so the plan has no such step.
    rng = np.random.default_rng(0)
    base = rng.exponential(10, 400).round(2)
    q25, q75 = np.quantile(base, [0.25, 0.75])
    mild = np.clip(base, None, q75 + 2.5 * (q75 - q25))
    df = pd.DataFrame({"amount": mild, "y": rng.integers(0, 2, 400)})
    profile = profile_frame(df, "y")
    assert profile.column("amount").n_outliers
    assert "clean.cap_outliers" not in {r.id for r in recipes_for("clean", profile, "y")}
    # One far-out value: the step is planned, and it changes exactly that value.
    far = df.assign(amount=np.r_[mild[:-1], 10 * mild.max()])
    recipes = [r for r in recipes_for("clean", profile_frame(far, "y"), "y") if r.id == "clean.cap_outliers"]
    assert recipes and recipes[0].applies_to == ["amount"]
    out = run("clean", recipes, far)
    assert (out["amount"] != far["amount"]).sum() == 1


def test_drop_columns_and_duplicates_and_missing_target():
    df = pd.DataFrame({"a": [1, 1, 2, 3], "id": [9, 9, 8, 7], "t": [1, 1, None, 0]})
    recipes = [
        C.drop_duplicates_recipe(1),
        C.drop_columns_recipe("clean.drop_ids", "Drop", "why", ["id"]),
        C.drop_missing_target_recipe("t"),
    ]
    out = run("clean", recipes, df)
    assert out.to_dict("list") == {"a": [1, 3], "t": [1.0, 0.0]}


def test_feature_recipes_date_parts_log_frequency_rare():
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame(
        {
            "d": pd.date_range("2023-01-01", periods=n, freq="D"),
            "money": rng.lognormal(5, 2, n),
            "store": [f"S{i % 120}" for i in range(n)],
            "city": rng.choice([f"c{i}" for i in range(30)] + ["big"] * 200, n),
            "y": rng.random(n),
        }
    )
    profile = profile_frame(df, "y")
    recipes = recipes_for("feature", profile, "y")
    ids = [r.id for r in recipes]
    assert ids[:3] == ["feature.date_parts", "feature.log1p", "feature.frequency_encode"]
    out = run("feature", recipes, df)
    assert {"d_year", "d_month", "d_dayofweek", "log1p_money", "store_freq"} <= set(out.columns)
    assert "d" not in out.columns and "money" not in out.columns and "y" in out.columns
    np.testing.assert_allclose(out["log1p_money"], np.log1p(df["money"]))


def test_rare_categories_become_other():
    df = pd.DataFrame({"c": ["a"] * 198 + ["b", "c"]})
    out = run("feature", [F.rare_recipe(["c"], 0.01)], df)
    assert out["c"].value_counts().to_dict() == {"a": 198, "Other": 2}


def test_wild_column_names_render_valid_code():
    names = ['it\'s "odd"', "naïve col", "a\\b", "{braces}"]
    df = pd.DataFrame({n: ["$1", "$2", None, "$4"] for n in names})
    out = run("clean", [column_recipe("clean.parse_numbers", names), C.impute_recipe(names, [], names)], df)
    assert all(pd.api.types.is_numeric_dtype(out[n]) for n in names)
    assert f"{names[3]}_was_missing" in out.columns


def test_one_row_and_all_missing_frames():
    df = pd.DataFrame({"x": [np.nan], "y": [1]})
    profile = profile_frame(df, "y")
    out = run("clean", recipes_for("clean", profile, "y"), df)
    assert "y" in out.columns


def test_no_recipe_renders_an_identity_function():
    out = run("clean", [], pd.DataFrame({"a": [1, 2]}))
    assert out.to_dict("list") == {"a": [1, 2]}


def test_model_stage_goes_through_the_same_registry():
    recipes = recipes_for("model", None, "y", "regression")
    code = render_stage("model", recipes)
    assert "def build_model(X" in code
    ns: dict = {}
    exec(code, ns)
    assert hasattr(ns["build_model"](pd.DataFrame({"a": [1.0, 2.0]})), "fit")


def test_every_column_step_of_steps_toml_renders_code_that_runs():
    """A step added to steps.toml is built by the one builder and must run on a messy frame."""
    from core.recipes.steps import column_steps

    df = pd.DataFrame({"it's a col": ["1", "2024-01-02", None, " x ", "yes", "3.5"] * 5})
    fill = {
        "clean.parse_booleans": C.parse_booleans_recipe,
        "clean.missing_markers": C.missing_markers_recipe,
    }
    fill |= {"feature.frequency_encode": F.frequency_recipe, "feature.rare_to_other": F.rare_recipe}
    for rid in column_steps():
        build = fill.get(rid, lambda cols, rid=rid: column_recipe(rid, cols))
        recipe = build(["it's a col"])
        assert recipe.id == rid and recipe.params["columns"] == ["it's a col"]
        run(rid.split(".")[0], [recipe], df)


def test_a_step_template_value_nobody_gives_is_an_error_not_a_hole():
    with pytest.raises(KeyError):
        column_recipe("clean.parse_booleans", ["b"])  # `truth` is filled by parse_booleans_recipe only
