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
    fb = FakeBackend([" is one country in one year. There are 30 duplicate rows."])
    text, flags = draft_data_doc(gap_profile, fb, "gapminder_health.csv", target="life_expectancy")
    prompt, params = fb.history[0]
    assert "Dataset: house_sales.csv" in prompt  # the few-shot example
    assert "Dataset: gapminder_health.csv" in prompt
    assert "- gdp_per_capita (money_text)" in prompt
    assert prompt.rstrip().endswith("Each of the 1,734 rows")
    assert "###" in params.stop and params.temperature == 0.0
    assert text == "Each of the 1,734 rows is one country in one year. There are 30 duplicate rows."
    assert flags == []


def test_a_wrong_number_is_dropped_and_flagged(gap_profile):
    fb = FakeBackend([" is one country in one year. The table has 99 columns. GDP is missing in 58 rows."])
    text, flags = draft_data_doc(gap_profile, fb, "gapminder_health.csv", target="life_expectancy")
    assert "99" not in text and "58 rows" in text
    assert len(flags) == 1 and "99" in flags[0] and "The table has 99 columns." in flags[0]


def test_nothing_surviving_falls_back_to_the_template(gap_profile):
    fb = FakeBackend([" is from 1850. The mean is 12345."])
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
        [" is one country in one year. There are 30 duplicate rows. There are 30 duplicate rows. The"]
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
