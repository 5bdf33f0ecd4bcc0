"""Rendered prompts against checked-in snapshots: a prompt change shows up as a readable diff.

Regenerate with `UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_prompts_snapshot.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core import prompts
from core.context import build_context
from core.models import ColumnProfile, DatasetProfile
from core.propose import _examples, _plan_line, scaffold_prefix
from core.recipes import recipes_for

SNAPSHOTS = Path(__file__).parent / "snapshots" / "prompts"


def profile() -> DatasetProfile:
    def c(name, semantic, dtype="object", missing=0.0, n_unique=20, **kw):
        return ColumnProfile(
            name=name,
            dtype=dtype,
            semantic=semantic,
            n_missing=int(missing * 500),
            missing_share=missing,
            n_unique=n_unique,
            **kw,
        )

    return DatasetProfile(
        n_rows=500,
        n_cols=6,
        n_duplicate_rows=4,
        memory_mb=0.2,
        columns=[
            c("order_id", "id", n_unique=500, top_values=[("A-1", 1), ("A-2", 1)]),
            c("price", "money_text", missing=0.04, top_values=[("$1,234.50", 3), ("$980", 2)]),
            c("order_date", "date", top_values=[("2024-01-02", 4), ("03/04/2024", 3)]),
            c(
                "city",
                "category",
                n_unique=7,
                top_values=[("Paris", 200), ("paris ", 40), ("Lyon", 30)],
                notes=["2 spellings of 'Paris'"],
            ),
            c(
                "qty",
                "numeric",
                dtype="float64",
                missing=0.1,
                n_unique=40,
                min=1.0,
                max=400.0,
                skew=4.2,
                n_outliers=9,
            ),
            c("returned", "boolean", n_unique=2, top_values=[("yes", 300), ("no", 200)]),
        ],
    )


def cases() -> dict[str, str]:
    p = profile()
    ctx = build_context(p, "clean", "returned").text
    clean_plan = [_plan_line(r) for r in recipes_for("clean", p, "returned") if r.code.strip()]
    feat_ctx = build_context(
        p, "feature", "returned", request="add a column with the month of order_date"
    ).text
    return {
        "clean_scaffold": prompts.render(
            "clean/scaffold.j2",
            examples=_examples("clean", "examples.txt"),
            context=ctx,
            plan=clean_plan,
            prefix="",
        ),
        "feature_request": prompts.render(
            "feature/request.j2",
            examples=_examples("feature", "request_examples.txt"),
            context=feat_ctx,
            request="add a column with the month of order_date",
            prefix=scaffold_prefix("feature").rstrip("\n"),
        ),
        "clean_select": prompts.render(
            "clean/select.j2",
            context=ctx,
            title="Parse dates",
            columns="order_date",
            rationale="dates stored as text become real dates.",
        ),
        "model_choose": prompts.render(
            "model/choose.j2",
            task="classification",
            context=ctx,
            options=["Gradient boosting", "Random forest", "Linear model"],
        ),
        "repair": prompts.render(
            "fix/repair.j2",
            examples=_examples("clean", "examples.txt"),
            context=ctx,
            task="Parse dates: order_date",
            code="def clean(df):\n    return df['x']",
            error="KeyError: 'x'",
            prefix=scaffold_prefix("clean").rstrip("\n"),
        ),
        "ask": prompts.render(
            "ask/question.j2",
            examples=_examples("ask", "examples.txt"),
            context=ctx,
            question="how many orders per city?",
            prefix=scaffold_prefix("ask").rstrip("\n"),
        ),
        "explain": prompts.render(
            "explain/explain.j2",
            examples=_examples("explain", "examples.txt"),
            code='    df["m"] = pd.to_datetime(df["order_date"]).dt.month',
        ),
    }


@pytest.mark.parametrize("name", sorted(cases()))
def test_prompt_snapshot(name):
    text = cases()[name]
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing snapshot {path.name}: run with UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8")


def test_missing_variable_fails_loudly():
    with pytest.raises(prompts.PromptError):
        prompts.render("clean/scaffold.j2", examples="", context="")
