"""A tuned Gemma writes a stage's plan step by step (core.engine.plan_requests, session route "steps")."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.engine.plan_requests import body_of, requests_for, write_steps
from core.engine.session import propose
from core.llm.fake import FakeBackend
from core.models import Project
from core.recipes.clean import drop_missing_target_recipe, impute_recipe
from core.recipes.model import ORDER
from core.recipes.steps import column_recipe


def messy() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 80
    age = rng.normal(40, 10, n).round(1)
    age[::40] = np.nan  # 2.5% missing: filled, no "was missing" indicator
    return pd.DataFrame(
        {
            "age": age,
            "income": rng.normal(3000, 400, n).round(2),  # no two rows alike: nothing to dedupe
            "city": rng.choice(["Paris", "Lyon", "Nice"], n),
            "y": rng.choice([0, 1], n),
        }
    )


def test_recipes_become_the_requests_the_adapter_knows():
    assert requests_for(impute_recipe(["age"], ["city"], []), "y") == [
        "fill missing age with the median",
        "fill missing city with the most common value",
    ]
    assert requests_for(drop_missing_target_recipe("y"), "y") == ["drop rows where y is missing"]
    assert requests_for(column_recipe("clean.parse_dates", ["when"]), None) == ["parse when as dates"]
    # "was missing" indicators have no such request: that step keeps the recipe's code
    assert requests_for(impute_recipe(["age"], [], ["age"]), "y") is None
    # too many columns: more model time than it is worth
    assert requests_for(column_recipe("clean.parse_dates", list("abcde")), None) is None


def test_body_of_takes_the_statements_between_the_copy_and_the_return():
    code = 'def clean(df):\n    df = df.copy()\n    df["a"] = df["a"].fillna(0)\n    return df\n'
    assert body_of(code, "clean") == 'df["a"] = df["a"].fillna(0)'
    assert body_of("def clean(df):\n    return df.dropna()\n", "clean") is None  # not `return df`
    early = "def clean(df):\n    if len(df) < 2:\n        return df\n    df = df.head(1)\n    return df\n"
    assert body_of(early, "clean") is None


def test_write_steps_splices_the_pieces_and_counts_them():
    recipes = [impute_recipe(["age"], [], []), column_recipe("clean.standardise_categories", ["city"])]
    plan = write_steps(recipes, None, lambda req: f"# piece for: {req}")
    assert (plan.by_gemma, plan.steps) == (1, 2)
    assert plan.recipes[0].code == "# piece for: fill missing age with the median"
    assert plan.recipes[1].code == recipes[1].code  # no request: the recipe's own code
    failed = write_steps(recipes, None, lambda req: None)
    assert failed.by_gemma == 0 and failed.recipes[0].code == recipes[0].code


def test_a_tuned_backend_writes_the_clean_plan_as_requests(sandbox):
    df = messy()
    fb = FakeBackend(default='    df["age"] = df["age"].fillna(df["age"].median())\n    return df\n')
    fb.info.tuned = True
    p = propose("clean", Project(id="p", name="p", target="y"), fb, sandbox, data=df)
    assert p.verified and p.origin is not None and p.origin.route == "steps"
    assert p.origin.steps_by_gemma and p.origin.steps_by_gemma <= (p.origin.steps or 0)
    assert "plan step" in p.provenance_detail or "every step of the plan" in p.provenance_detail
    assert any("### Request: fill missing age with the median" in prompt for prompt in fb.prompts)
    assert 'fillna(df["age"].median())' in p.code


def test_a_piece_that_does_not_do_its_request_keeps_the_recipe(sandbox):
    df = messy()
    fb = FakeBackend(default='    df["age"] = df["age"] * 2\n    return df\n')  # not a fill
    fb.info.tuned = True
    p = propose("clean", Project(id="p", name="p", target="y"), fb, sandbox, data=df)
    assert p.verified and p.provenance == "rule"
    assert "df['age'] * 2" not in p.code and 'df["age"] * 2' not in p.code


def test_a_tuned_backend_does_not_pick_the_model_the_recommended_recipe_stands(sandbox):
    fb = FakeBackend(default="3")
    fb.info.tuned = True
    p = propose("model", Project(id="p", name="p", target="y"), fb, sandbox, data=messy())
    assert p.verified and p.provenance == "rule" and p.origin.route == "recipes"
    assert p.recipes[0] == f"model.{ORDER[0]}" and "recommended recipe" in p.provenance_detail
    assert fb.history == []  # the adapter was not asked to choose
