"""Profile tests: real facts on the bundled samples, semantic guesses, leakage, wide and large tables."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from core.io import load_table
from core.profile import (
    correlation_matrix,
    dataset_hash,
    find_leakage,
    profile_dataframe,
    profile_to_facts,
)
from core.samples import sample_path


@pytest.fixture(scope="module")
def weather():
    df = load_table(sample_path("seattle_weather")).df
    return df, profile_dataframe(df, target="weather")


@pytest.fixture(scope="module")
def gapminder():
    df = load_table(sample_path("gapminder_health")).df
    return df, profile_dataframe(df, target="life_expectancy")


def test_gapminder_sample_facts(gapminder):
    df, p = gapminder
    assert (p.n_rows, p.n_cols) == (len(df), 10)
    # The messing script inserted 30 exact duplicate rows.
    assert p.n_duplicate_rows == 30 == int(df.duplicated().sum())
    sem = {c.name: c.semantic for c in p.columns}
    assert sem["gdp_per_capita"] == "money_text"
    assert sem["population"] == "numeric_text"
    assert sem["record_id"] == "id"
    assert sem["survey_date"] == "date"
    assert sem["continent"] == "category"
    assert sem["life_expectancy"] == "numeric"
    gdp = p.column("gdp_per_capita")
    assert gdp.n_missing == int(df["gdp_per_capita"].isna().sum()) > 0
    # Parsed from the money text: the real Gapminder range (Myanmar 1952 .. Kuwait 1957).
    assert gdp.min == pytest.approx(241.17, abs=0.5)
    assert gdp.max == pytest.approx(113523.13, rel=1e-3)
    assert any("spellings of 'Europe'" in n for n in p.column("continent").notes)
    assert any(n.startswith("mixed date formats") for n in p.column("survey_date").notes)
    le = p.column("life_expectancy")
    assert le.mean == pytest.approx(df["life_expectancy"].mean())
    assert le.std == pytest.approx(df["life_expectancy"].std())
    assert le.quantiles["q50"] == pytest.approx(df["life_expectancy"].median())
    assert le.skew == pytest.approx(df["life_expectancy"].skew(), abs=1e-6)


def test_gapminder_leakage_and_target(gapminder):
    _, p = gapminder
    leaks = {d["column"]: d["reason"] for d in p.leakage}
    assert "lifespan_months" in leaks and "correlation" in leaks["lifespan_months"]
    assert "year" not in leaks and "country" not in leaks
    assert p.target_candidates[0] == "life_expectancy"
    assert ("lifespan_months", "life_expectancy") in {(a, b) for a, b, _ in p.high_correlations}


def test_weather_sample_facts(weather):
    df, p = weather
    assert p.n_duplicate_rows == 25
    sem = {c.name: c.semantic for c in p.columns}
    assert sem["obs_id"] == "id"
    assert sem["date"] == "date"
    assert sem["temp_max_c"] == "numeric_text"  # '12.8 °C'
    assert sem["weather"] == "category"
    station = p.column("station")
    assert any("spellings of 'Seattle-Tacoma Intl'" in n for n in station.notes)
    assert p.column("temp_min_c").n_missing == int(df["temp_min_c"].isna().sum()) > 0  # 'n/a' read as missing
    top = dict(p.column("weather").top_values)
    assert top["sun"] == int((df["weather"] == "sun").sum())
    leaks = {d["column"] for d in p.leakage}
    assert leaks == {"condition_code"}
    assert p.target_candidates[0] == "weather"


def test_profile_is_json_serialisable(gapminder):
    _, p = gapminder
    data = json.loads(p.model_dump_json())
    assert data["n_rows"] == p.n_rows
    assert type(p).model_validate(data) == p


def _messy() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "row": np.arange(n),
            "signup": pd.date_range("2021-01-01", periods=n, freq="D"),
            "active": rng.choice(["yes", "no"], n),
            "flag01": rng.integers(0, 2, n),
            "const": "same",
            "empty": [None] * n,
            "price": [f"€{v:,.2f}" for v in rng.uniform(10, 5000, n)],
            "comment": [
                f"the customer wrote a long free text number {i} about the service" for i in range(n)
            ],
            "amount": rng.normal(100, 10, n),
            "tax": rng.normal(10, 1, n),
        }
    )


def test_semantic_guesses():
    df = _messy()
    p = profile_dataframe(df)
    sem = {c.name: c.semantic for c in p.columns}
    assert sem == {
        "customer_id": "id",
        "row": "id",
        "signup": "date",
        "active": "boolean",
        "flag01": "boolean",
        "const": "constant",
        "empty": "empty",
        "price": "money_text",
        "comment": "text",
        "amount": "numeric",
        "tax": "numeric",
    }
    assert p.column("empty").missing_share == 1.0


def test_sum_leakage_is_found():
    df = _messy()
    df["total"] = df["amount"] + df["tax"]
    p = profile_dataframe(df, target="total")
    cols = [d["column"] for d in p.leakage]
    assert any(set(d.get("columns", [])) == {"amount", "tax"} for d in p.leakage), cols


def test_no_false_leakage_on_independent_columns():
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {"a": rng.normal(size=500), "b": rng.choice(list("xyz"), 500), "y": rng.choice(["p", "q"], 500)}
    )
    assert profile_dataframe(df, target="y").leakage == []
    df["y_num"] = rng.normal(size=500)
    assert profile_dataframe(df, target="y_num").leakage == []


def test_categorical_recoding_leak():
    rng = np.random.default_rng(4)
    y = rng.choice(["churn", "stay"], 300)
    df = pd.DataFrame({"x": rng.normal(size=300), "status_code": np.where(y == "churn", "C1", "S0"), "y": y})
    p = profile_dataframe(df, target="y")
    assert [d["column"] for d in p.leakage] == ["status_code"]
    assert find_leakage(df, p, "y")[0]["column"] == "status_code"


def test_target_candidates_prefer_named_and_last_columns():
    rng = np.random.default_rng(5)
    df = pd.DataFrame(
        {
            "id": range(100),
            "age": rng.integers(18, 80, 100),
            "label": rng.choice(["a", "b"], 100),
            "score": rng.normal(size=100),
        }
    )
    cands = profile_dataframe(df).target_candidates
    assert cands[0] == "label" and "id" not in cands


def test_wide_table_is_profiled_in_seconds():
    rng = np.random.default_rng(6)
    df = pd.DataFrame(rng.normal(size=(300, 2000)), columns=[f"f{i}" for i in range(2000)])
    df["f1"] = df["f0"] * 2 + 0.001  # one perfectly correlated pair
    t0 = time.perf_counter()
    p = profile_dataframe(df)
    elapsed = time.perf_counter() - t0
    assert p.n_cols == 2000 and len(p.columns) == 2000
    assert ("f0", "f1") in {(a, b) for a, b, _ in p.high_correlations}
    assert elapsed < 30, elapsed  # a few seconds on a quiet machine; CI boxes are shared
    c = correlation_matrix(df, p, top_k=30)
    assert c.shape == (30, 30)


def test_large_table_samples_expensive_parts_and_says_so():
    rng = np.random.default_rng(7)
    n = 30_000
    df = pd.DataFrame(
        {"x": rng.normal(size=n), "k": rng.choice(["a", "b", "c"], n), "x2": rng.normal(size=n)}
    )
    df = pd.concat([df, df.iloc[:100]], ignore_index=True)  # 100 duplicate rows
    p = profile_dataframe(df, sample_rows=5_000)
    assert p.n_rows == n + 100 and p.n_duplicate_rows == 100  # counts use every row
    assert p.notes and "5,000" in p.notes[0]
    assert any("sample" in note for note in p.column("k").notes)
    assert p.column("x").mean == pytest.approx(df["x"].mean())
    assert p.column("x").min == df["x"].min()


def test_sampled_file_rows_are_reported():
    df = pd.DataFrame({"a": range(50), "b": ["x"] * 25 + ["y"] * 25})
    p = profile_dataframe(df, n_rows_total=1_000_000)
    assert p.sampled_from == 1_000_000 and p.n_rows == 50
    assert "Profiled on a sample of 50 rows of 1,000,000 in the file." in p.notes


@pytest.mark.parametrize(
    "df",
    [
        pd.DataFrame({"a": [1]}),
        pd.DataFrame({"a": [None, None], "b": ["x", None]}),
        pd.DataFrame({"a": [[1, 2], [3]], "b": [{"k": 1}, {"k": 2}]}),
        pd.DataFrame({"dup": [1, 2], "dup ": ["a", "b"], "ü n ï": [True, False]}),
        pd.DataFrame({"x": [np.inf, -np.inf, 1.0, np.nan]}),
        pd.DataFrame([[1, "a"], [2, "b"]], columns=["same", "same"]),
    ],
)
def test_edge_frames_do_not_crash(df):
    p = profile_dataframe(df, target=str(df.columns[0]))
    assert p.n_cols == df.shape[1]
    json.loads(p.model_dump_json())


def test_profile_to_facts_holds_counts_shares_and_names(gapminder):
    _, p = gapminder
    facts = profile_to_facts(p)
    assert float(p.n_rows) in facts and 30.0 in facts
    gdp = p.column("gdp_per_capita")
    assert gdp.missing_share in facts and 100 * gdp.missing_share in facts
    assert "gdp_per_capita" in facts


def test_dataset_hash_changes_with_content():
    a = pd.DataFrame({"x": [1, 2]})
    assert dataset_hash(a) == dataset_hash(a.copy())
    assert dataset_hash(a) != dataset_hash(pd.DataFrame({"x": [1, 3]}))


@pytest.mark.slow
def test_ydata_report_is_cached(tmp_path):
    from core.profile import ydata_report

    df = pd.DataFrame({"a": range(60), "b": ["x", "y", "z"] * 20})
    t0 = time.perf_counter()
    p1 = ydata_report(df, tmp_path, title="t", sample_rows=50)
    first = time.perf_counter() - t0
    assert p1.exists() and "<html" in p1.read_text(encoding="utf-8")[:5000].lower()
    t0 = time.perf_counter()
    p2 = ydata_report(df, tmp_path, title="t", sample_rows=50)
    assert p2 == p1 and time.perf_counter() - t0 < first / 5


def test_years_codes_and_compact_dates():
    df = pd.DataFrame(
        {
            "YEAR": range(1947, 1990),  # unique and increasing, but a time axis
            "code": [str(10000000 + i * 37) for i in range(43)],  # digits, but an identifier
            "d": ["20120105"] * 20 + ["20130607"] * 23,
            "amount_text": [f"{i * 1000:,}" for i in range(43)],
        }
    )
    sem = {c.name: c.semantic for c in profile_dataframe(df).columns}
    assert sem == {"YEAR": "numeric", "code": "id", "d": "date", "amount_text": "numeric_text"}


def test_nullable_and_special_dtypes():
    df = pd.DataFrame(
        {
            "b": pd.array([True, None, False, True], dtype="boolean"),
            "i": pd.array([1, None, 3, 4], dtype="Int64"),
            "s": pd.array(["a", None, "b", "a"], dtype="string"),
            "c": pd.Categorical(["x", "y", "x", None], categories=["x", "y", "z"]),
            "t": pd.to_datetime(["2020-01-01", None, "2021-01-01", "2022-01-01"]).tz_localize("UTC"),
            "td": pd.to_timedelta([1, 2, 3, None], unit="D"),
        }
    )
    p = profile_dataframe(df, target="b")
    sem = {c.name: (c.semantic, c.n_unique, c.n_missing) for c in p.columns}
    assert sem == {
        "b": ("boolean", 2, 1),
        "i": ("numeric", 3, 1),
        "s": ("category", 2, 1),
        "c": ("category", 2, 1),  # the unused category 'z' is not counted
        "t": ("date", 3, 1),
        "td": ("numeric", 3, 1),
    }


def test_dates_with_mixed_utc_offsets_profile_without_deprecated_parsing():
    # A timezone-aware export spans a DST change: "-08:00" in winter, "-07:00" in summer.
    import warnings

    when = pd.date_range("2012-01-01", periods=300, freq="D", tz="US/Pacific").astype(str)
    df = pd.DataFrame({"date": when, "y": np.arange(300) % 3})
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # pandas 3 turns this warning into an error
        p = profile_dataframe(df, target="y")
    col = p.columns[0]
    assert col.semantic == "date"
    assert col.min.startswith("2012-01-01") and col.max.startswith("2012-10-2")


def test_recoding_leak_with_a_many_valued_target_is_found_fast():
    """The mapping check on a continuous target (a dense groups x target-values table would have
    millions of cells; it once cost the 1M-row profile seconds) still finds a price per product."""
    rng = np.random.default_rng(8)
    n, k = 20_000, 1_500
    price_of = rng.uniform(1, 500, k).round(2)
    code = rng.integers(0, k, n)
    df = pd.DataFrame(
        {"product": np.char.add("P", code.astype(str)), "x": rng.normal(size=n), "price": price_of[code]}
    )
    t0 = time.perf_counter()
    p = profile_dataframe(df, target="price")
    assert time.perf_counter() - t0 < 20  # ~0.3 s on a quiet machine
    assert [(d["column"], d["rule"]) for d in p.leakage] == [("product", "mapping")]
    df["price"] = rng.permutation(df["price"].to_numpy())  # the same values, no longer decided by product
    assert profile_dataframe(df, target="price").leakage == []


def test_mapping_purity_counts_match_a_crosstab():
    from core.detect_leaks import _largest_share_per_group

    rng = np.random.default_rng(9)
    for k, nt, n in ((5, 3, 1_000), (40, 50_000, 50_000), (3_000, 2_000, 20_000)):
        codes, ty = rng.integers(0, k, n), rng.integers(0, nt, n)
        expected = int(pd.crosstab(codes, ty).to_numpy().max(axis=1).sum())
        assert _largest_share_per_group(codes, ty, k, nt) == expected


def test_leakage_checks_on_a_sample_say_so_with_their_margin():
    rng = np.random.default_rng(10)
    n = 60_000
    df = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    df["leak"] = df["y"] * 3
    p = profile_dataframe(df, target="y")
    assert [d["column"] for d in p.leakage] == ["leak"]  # still found on 50,000 of the rows
    assert any("Leakage checks used 50,000 random rows of 60,000" in s and "±0.6" in s for s in p.notes)
    assert not any("Leakage" in s for s in profile_dataframe(df.head(1_000), target="y").notes)
