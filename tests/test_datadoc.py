"""Data documentation: FakeBackend drafts are fact-checked; the template fallback; one real-model run."""

from __future__ import annotations

import pytest

from core.datadoc import draft_data_doc, profile_facts_text, template_doc
from core.factcheck import check_numbers
from core.io import load_table
from core.llm.base import BackendError
from core.llm.fake import FakeBackend
from core.profile import profile_dataframe, profile_to_facts
from core.samples import sample_path


@pytest.fixture(scope="module")
def gap_profile():
    df = load_table(sample_path("gapminder_health")).df
    return profile_dataframe(df, target="life_expectancy")


def test_prompt_is_a_completion_with_the_example_and_the_facts(gap_profile):
    fb = FakeBackend([" 30 rows are exact duplicates. Each row is one country in one year."])
    text, flags = draft_data_doc(gap_profile, fb, "gapminder_health.csv", target="life_expectancy")
    prompt, params = fb.history[0]
    assert "Dataset: house_sales.csv" in prompt  # the few-shot example
    assert "Dataset: gapminder_health.csv" in prompt
    assert "- gdp_per_capita (money_text)" in prompt
    assert prompt.rstrip().endswith("gapminder_health.csv has 1,734 rows and 10 columns;")
    assert "###" in params.stop and params.temperature == 0.0
    assert text == (
        "gapminder_health.csv has 1,734 rows and 10 columns; 30 rows are exact duplicates. "
        "Each row is one country in one year."
    )
    assert flags == []


def test_a_wrong_number_is_dropped_and_flagged(gap_profile):
    fb = FakeBackend([" 30 rows are exact duplicates. The table has 99 columns. GDP is missing in 58 rows."])
    text, flags = draft_data_doc(gap_profile, fb, "gapminder_health.csv", target="life_expectancy")
    assert "99" not in text and "58 rows" in text
    assert len(flags) == 1 and "99" in flags[0] and "The table has 99 columns." in flags[0]


def test_nothing_surviving_falls_back_to_the_template(gap_profile):
    fb = FakeBackend([" it is from 1850. The mean is 12345."])
    text, flags = draft_data_doc(gap_profile, fb, "gapminder_health.csv", target="life_expectancy")
    assert text == template_doc(gap_profile, "gapminder_health.csv", "life_expectancy")
    assert any("built from the profile" in f for f in flags)


def test_backend_error_falls_back_to_the_template(gap_profile):
    class Broken(FakeBackend):
        def complete(self, prompt, params):
            raise BackendError("model file missing")

    text, flags = draft_data_doc(gap_profile, Broken(), "g.csv")
    assert text.startswith("g.csv has 1,734 rows")
    assert "model file missing" in flags[0]


def test_repeated_sentences_and_cut_fragments_are_removed(gap_profile):
    fb = FakeBackend(
        [" each row is one country. There are 30 duplicate rows. There are 30 duplicate rows. The"]
    )
    text, _ = draft_data_doc(gap_profile, fb, "g.csv")
    assert text.count("30 duplicate rows") == 1 and not text.endswith("The")


def test_template_states_only_profile_facts(gap_profile):
    t = template_doc(gap_profile, "gapminder_health.csv", "life_expectancy")
    assert check_numbers(t, profile_to_facts(gap_profile)).ok
    assert "lifespan_months" in t and "gdp_per_capita" in t and "30 rows" in t


def test_facts_text_of_a_wide_profile_stays_short():
    import numpy as np
    import pandas as pd

    df = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 400)), columns=[f"c{i}" for i in range(400)])
    text = profile_facts_text(profile_dataframe(df))
    assert len(text.splitlines()) < 35 and "more columns not listed" in text


@pytest.mark.real_model
def test_real_gemma_draft_passes_the_check():
    from core.llm.registry import ModelSettings, build_backend

    df = load_table(sample_path("seattle_weather")).df[["obs_id", "weather", "wind_ms", "season"]]
    prof = profile_dataframe(df, target="weather")
    backend = build_backend(ModelSettings())
    text, flags = draft_data_doc(prof, backend, "seattle_weather.csv", target="weather", max_tokens=60)
    assert text.strip()
    # Whatever Gemma wrote, what is kept states only profile numbers.
    assert check_numbers(text, profile_to_facts(prof) | {profile_facts_text(prof, "weather")}).ok
    for word in ("listing_id", "Springfield", "sale_price", "house"):
        assert word not in text


def test_sentences_copied_from_the_example_are_dropped(gap_profile):
    # Gemma 270M's favourite failure: continuing the few-shot example. Its numbers may
    # happen to be facts (3, 12), so the words must give it away.
    reply = (
        " each row is one country in one year. City names are spelled inconsistently, with 3 spellings of"
        " 'Springfield'."
        " The listing_id column identifies each sale."
    )
    text, flags = draft_data_doc(gap_profile, FakeBackend([reply]), "g.csv")
    assert text == "g.csv has 1,734 rows and 10 columns; each row is one country in one year."
    assert any("copied from the prompt's example" in f for f in flags)
    assert any("listing_id" in f for f in flags)


def test_real_column_names_and_values_are_allowed(gap_profile):
    reply = " the gdp_per_capita column is text, and 'Europe' has several spellings."
    text, flags = draft_data_doc(gap_profile, FakeBackend([reply]), "g.csv")
    assert "gdp_per_capita" in text and "'Europe'" in text and flags == []


def test_claims_without_numbers_are_checked_against_the_profile(gap_profile):
    # Seen from Gemma 270M: "there are no duplicate rows" on a table with duplicates.
    reply = " there are no duplicate rows. The continent column has several spellings."
    text, flags = draft_data_doc(gap_profile, FakeBackend([reply]), "g.csv")
    assert "no duplicate" not in text and "continent" in text
    assert any("contradicts the profile (30 duplicate rows)" in f for f in flags)


def test_prompt_snapshot():
    """The rendered prompt against a checked-in snapshot (UPDATE_SNAPSHOTS=1 to regenerate)."""
    import os
    from pathlib import Path

    from tests.frames import column, profile

    prof = profile(
        [
            column("order_id", "id", dtype="object", n_unique=500),
            column(
                "amount",
                "money_text",
                0.05,
                rows=500,
                dtype="object",
                n_unique=400,
                min=3.5,
                max=1200.0,
                mean=210.25,
                notes=["numbers stored as text with currency signs"],
            ),
            column("returned", "boolean", dtype="object", n_unique=2, top_values=[("no", 450), ("yes", 50)]),
        ],
        rows=500,
        duplicates=4,
        leakage=[
            {
                "column": "refund_id",
                "target": "returned",
                "reason": "each of its values determines the target",
            }
        ],
    )
    fb = FakeBackend([" fine."])
    draft_data_doc(prof, fb, "orders.csv", target="returned")
    snap = Path(__file__).parent / "snapshots" / "prompts" / "datadoc_draft.txt"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        snap.write_text(fb.prompts[0], encoding="utf-8")
    assert fb.prompts[0] == snap.read_text(encoding="utf-8")
