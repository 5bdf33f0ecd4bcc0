"""Fact check: numbers in text against allowed facts (shared by the data doc and the report)."""

from __future__ import annotations

import pytest

from core.factcheck import check_numbers, number_tokens, numbers_in


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1,234.5 rows", [1234.5]),
        ("12% missing", [12.0]),
        ("a share of 0.25", [0.25]),
        ("about 3k users", [3000.0]),
        ("1.2 million people", [1_200_000.0]),
        ("-5 degrees and +7", [-5.0, 7.0]),
        ("costs $12.50", [12.5]),
        ("12 percent", [12.0]),
    ],
)
def test_numbers_in(text, expected):
    assert numbers_in(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "on 2021-03-01 at 12:30",
        "from 03/01/2021",
        "since Jan 4, 2012",
        "on 4 March 2020",
        "columns num_1, f2 and Q3",
        "the x2 feature",
    ],
)
def test_dates_and_identifiers_are_not_claims(text):
    assert numbers_in(text) == []


def test_percent_token_flags():
    (tok,) = number_tokens("12.3%")
    assert tok.percent and tok.value == 12.3 and tok.half_unit == pytest.approx(0.05)


def test_rounding_and_percent_shares_match_facts():
    facts = [1234.0, 0.1234, 38.6, 3400.0]
    r = check_numbers(
        "There are 1,234 rows. 12.3% are missing. About 12% are missing. Roughly 3k users.", facts
    )
    assert r.flagged == [] and r.ok
    assert r.n_numbers == 4


def test_wrong_numbers_are_dropped_and_listed():
    text = "The table has 1,234 rows. The mean age is 40. Prices range from 3 to 99."
    r = check_numbers(text, [1234, 38.6, 3, 99])
    assert r.flagged == [("The mean age is 40.", [40.0])]
    assert r.text_kept == "The table has 1,234 rows. Prices range from 3 to 99."


def test_rel_tol_controls_closeness():
    assert check_numbers("It is 105.", [100], rel_tol=0.01).flagged
    assert not check_numbers("It is 105.", [100], rel_tol=0.06).flagged


def test_numbers_inside_allowed_strings_count():
    # A year from a date range stated in the profile is a fact.
    r = check_numbers("Data runs from 2012 to 2015.", ["2012-01-01", "2015-12-31"])
    assert r.ok


def test_lines_are_kept_as_lines():
    text = "- 10 rows\n- 7 duplicates\n- 3 columns"
    r = check_numbers(text, [10, 3])
    assert r.text_kept == "- 10 rows\n- 3 columns"
    assert r.flagged == [("- 7 duplicates", [7.0])]


def test_text_without_numbers_passes_untouched():
    text = "The data describes houses. Some prices are text."
    assert check_numbers(text, []).text_kept == text


def test_numbers_in_allowed_strings_are_read_whole():
    # "1,486" in a facts string allows 1486, not the pieces 1 and 486.
    assert check_numbers("There are 1,486 rows.", ["rows: 1,486"]).ok
    assert not check_numbers("There are 486 rows.", ["rows: 1,486"]).ok


def test_tidy_sentences_keeps_complete_sentences_once():
    from core.factcheck import tidy_sentences

    looped = "The dummy baseline reached 0.5. The dummy  baseline reached 0.5. The model reached 0.9. It was"
    assert tidy_sentences(looped) == "The dummy baseline reached 0.5. The model reached 0.9."
    assert tidy_sentences("no full stop at all") == ""
    seen: set[str] = set()
    assert tidy_sentences("A first one. A second one.", seen) == "A first one. A second one."
    assert tidy_sentences("A second one! A third one.", seen) == "A third one."
    assert tidy_sentences('He wrote "done." Then it ended.') == 'He wrote "done." Then it ended.'


def test_drop_unknown_names_keeps_sentences_naming_known_columns():
    from core.factcheck import drop_unknown_names

    facts = ["Column temp_min_c has 39 missing values.", "The file seattle_weather.csv has 1486 rows."]
    text = "Column temp_min_c has 39 missing values. Column humidity_mm has 39 missing values. It is `x`."
    out = drop_unknown_names(text, facts)
    assert out.text_kept == "Column temp_min_c has 39 missing values."
    assert [s for s, _ in out.flagged] == ["Column humidity_mm has 39 missing values.", "It is `x`."]


def test_tidy_sentences_drops_unmatched_quote_marks():
    from core.factcheck import tidy_sentences

    quoted = '"The file has 10 rows. It has 2 columns."'
    assert tidy_sentences(quoted) == "The file has 10 rows. It has 2 columns."
    assert tidy_sentences('He wrote "done." Then it ended.') == 'He wrote "done." Then it ended.'
