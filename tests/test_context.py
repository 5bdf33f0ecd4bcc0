"""Prompt context: relevance ranking, honest summaries of the rest, the token budget, exclusions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.context import build_context, column_line, named_in, profile_frame
from tests.frames import column, profile


def wide_profile(n=500):
    cols = [
        column("price", "money_text", 0.03, dtype="object", top_values=[("$1,234.50", 3), ("$980", 2)]),
        column("target"),
    ]
    cols += [column(f"x_{i}") for i in range(1, n - 1)]
    return profile(cols, rows=1000, memory_mb=1.0)


def test_column_line_format():
    c = column("price", "money_text", 0.03, dtype="object", top_values=[("$1,234.50", 3), ("$980", 2)])
    assert column_line(c) == '- price (money_text, 3% missing, e.g. "$1,234.50", "$980")'


def test_500_columns_fit_the_budget_and_the_rest_is_summarised():
    p = wide_profile(500)
    ctx = build_context(p, "clean", target="target", budget_tokens=600)
    assert ctx.tokens <= 600
    assert "- target (TARGET" in ctx.text
    assert "- price (money_text" in ctx.text  # a column with an issue ranks before clean ones
    # Nothing disappears silently: every column is either shown or counted in a summary line.
    assert len(ctx.shown) + len(ctx.summarised) == 500
    assert f"+ {len(ctx.summarised)} more numeric columns named" in ctx.text
    assert "x_498" in ctx.text  # the last name of the summarised range


def test_budget_is_measured_with_the_backend_counter():
    p = wide_profile(60)
    small = build_context(p, "clean", "target", budget_tokens=200, count_tokens=lambda t: len(t) // 2)
    assert len(small.text) // 2 <= 200
    big = build_context(p, "clean", "target", budget_tokens=5000)
    assert len(big.shown) == 60 and not big.summarised


def test_columns_named_in_the_request_come_first():
    p = wide_profile(300)
    ctx = build_context(p, "feature", "target", request="add the log of x_250", budget_tokens=250)
    assert "x_250" in ctx.shown


def test_named_in_matches_whole_names_only():
    assert named_in("log of price please", ["price", "price_usd", "rice"]) == ["price"]
    assert named_in("merge rare City values", ["city"]) == ["city"]


def test_excluded_columns_send_no_values():
    p = profile(
        [
            column(
                "ssn",
                "text",
                dtype="object",
                top_values=[("123-45-6789", 1)],
                sample_values=["123-45-6789"],
                notes=["looks like 123-45-6789"],
            ),
            column("y"),
        ],
        rows=10,
    )
    ctx = build_context(p, "clean", "y", excluded=["ssn"])
    assert "ssn" in ctx.text and "values hidden" in ctx.text
    assert "123-45" not in ctx.text


def test_profile_frame_on_a_messy_frame_feeds_the_context():
    df = pd.DataFrame(
        {
            "price": ["$1,200", "$85", None, "$3,000"] * 10,
            "y": np.arange(40) % 2,
            "when": ["2024-01-02", "03/04/2024", "2024-05-06", None] * 10,
        }
    )
    p = profile_frame(df, "y")
    ctx = build_context(p, "clean", "y")
    assert "price" in ctx.text and "Target: y." in ctx.text
