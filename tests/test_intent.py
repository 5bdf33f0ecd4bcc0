"""Intent checks for free-form requests: each test runs the kind of code a model (or a recipe)
would write on a small real-ish table and asserts the verdict, including the reported failures
(a "drop the company column" answered by title-casing text, a ratio request answered with code
that changes nothing)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from core.engine.intent import IntentVerdict, check_request, columns_named


@pytest.fixture()
def telco() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 60
    tenure = rng.integers(0, 72, n).astype(float)
    tenure[[3, 9]] = np.nan
    monthly = rng.uniform(20, 110, n).round(2)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "company": rng.choice(["acme corp", "globex", " initech "], n),
            "contract": rng.choice(["Month-to-month", "One year", "Two year"], n),
            "tenure": tenure,
            "monthly_charges": monthly,
            "total_charges": (monthly * np.nan_to_num(tenure, nan=1.0)).round(2),
            "signup_date": pd.date_range("2020-01-03", periods=n, freq="9D").strftime("%Y-%m-%d"),
            "price_text": [f"${v:,.2f}" for v in rng.uniform(5, 5000, n)],
            "Churn": rng.choice(["Yes", "No"], n),
        }
    )


def v(request: str, before: pd.DataFrame, after: pd.DataFrame, stage: str = "clean") -> IntentVerdict:
    verdict = check_request(request, stage, before, after)
    assert isinstance(verdict, IntentVerdict)
    assert verdict.state in ("verified", "failed", "unchecked")
    assert all(isinstance(c, str) and c for c in verdict.checks)
    return verdict


def title_case_text(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in ("company", "contract", "Churn"):
        df[c] = df[c].str.strip().str.title()
    return df


# ----------------------------------------------------------------------------- reported failures
def test_drop_company_answered_by_title_casing_fails(telco: pd.DataFrame) -> None:
    verdict = v("drop the company column", telco, title_case_text(telco))
    assert verdict.state == "failed"
    assert "company" in (verdict.reason or "")


def test_drop_company_done_verifies(telco: pd.DataFrame) -> None:
    verdict = v("drop the company column", telco, telco.drop(columns=["company"]))
    assert verdict.state == "verified", verdict
    assert any("company" in c for c in verdict.checks)


def test_drop_company_plus_other_changes_fails(telco: pd.DataFrame) -> None:
    after = title_case_text(telco).drop(columns=["company"])
    assert v("drop the company column", telco, after).state == "failed"
    assert v("drop the company column", telco, telco.drop(columns=["company", "Churn"])).state == "failed"


def test_ratio_with_code_that_changes_nothing_fails(telco: pd.DataFrame) -> None:
    verdict = v("add the ratio of total_charges to tenure", telco, telco.copy(), "feature")
    assert verdict.state == "failed"
    assert "ratio" in (verdict.reason or "")


def test_correct_ratio_verifies(telco: pd.DataFrame) -> None:
    after = telco.copy()
    after["charges_per_month"] = after["total_charges"] / after["tenure"].replace(0, np.nan)
    verdict = v("add the ratio of total_charges to tenure", telco, after, "feature")
    assert verdict.state == "verified", verdict


def test_ratio_in_the_wrong_order_fails(telco: pd.DataFrame) -> None:
    after = telco.copy()
    after["r"] = after["tenure"] / after["total_charges"]
    assert v("add the ratio of total_charges to tenure", telco, after).state == "failed"


def test_ratio_phrased_with_spaces_instead_of_underscores(telco: pd.DataFrame) -> None:
    after = telco.copy()
    after["ratio"] = telco["total_charges"] / telco["monthly_charges"]
    assert v("add the total charges to monthly charges ratio", telco, after).state == "verified"


def test_division_by_zero_rows_are_ignored(telco: pd.DataFrame) -> None:
    before = telco.copy()
    before.loc[0, "tenure"] = 0
    after = before.copy()
    with np.errstate(all="ignore"):
        after["ratio"] = (before["total_charges"] / before["tenure"]).fillna(0)  # inf at row 0 kept
    assert v("create total_charges divided by tenure", before, after).state == "verified"


def test_difference_either_sign(telco: pd.DataFrame) -> None:
    after = telco.copy()
    after["gap"] = telco["monthly_charges"] - telco["total_charges"]
    assert v("add the difference between total_charges and monthly_charges", telco, after).state == "verified"
    wrong = telco.copy()
    wrong["gap"] = telco["monthly_charges"] + 1
    assert v("add the difference between total_charges and monthly_charges", telco, wrong).state == "failed"


# ----------------------------------------------------------------------------- rows
def test_drop_rows_where_missing(telco: pd.DataFrame) -> None:
    good = telco.dropna(subset=["tenure"])
    assert v("drop rows where tenure is missing", telco, good).state == "verified"
    assert v("drop rows where tenure is missing", telco, telco.copy()).state == "failed"
    filled = telco.fillna({"tenure": 0})
    assert v("drop rows where tenure is missing", telco, filled).state == "failed"


def test_filter_numeric_condition(telco: pd.DataFrame) -> None:
    good = telco[~(telco["monthly_charges"] > 100)]
    assert v("remove rows where monthly_charges is greater than 100", telco, good).state == "verified"
    wrong = telco[~(telco["monthly_charges"] < 100)]
    assert v("remove rows where monthly_charges is greater than 100", telco, wrong).state == "failed"
    kept = telco[telco["tenure"] >= 12]
    assert v("keep only rows with tenure at least 12", telco, kept).state == "verified"


def test_drop_rows_by_category_value(telco: pd.DataFrame) -> None:
    good = telco[telco["contract"] != "Month-to-month"]
    assert v("drop rows where contract is month-to-month", telco, good).state == "verified"
    assert v("drop rows where contract is month-to-month", telco, telco.iloc[:10]).state == "failed"


def test_drop_duplicates(telco: pd.DataFrame) -> None:
    before = pd.concat([telco, telco.iloc[:5]], ignore_index=True)
    assert v("remove duplicate rows", before, before.drop_duplicates()).state == "verified"
    assert v("remove duplicate rows", before, before.iloc[:-2]).state == "failed"


def test_unreadable_filter_is_unchecked_not_verified(telco: pd.DataFrame) -> None:
    verdict = v("drop rows where the customer looks suspicious", telco, telco.iloc[:50])
    assert verdict.state == "unchecked"


# ----------------------------------------------------------------------------- fill / convert / types
def test_fill_missing_with_median(telco: pd.DataFrame) -> None:
    good = telco.copy()
    good["tenure"] = good["tenure"].fillna(good["tenure"].median())
    assert v("fill missing tenure with the median", telco, good).state == "verified"
    mean = telco.copy()
    mean["tenure"] = mean["tenure"].fillna(mean["tenure"].mean() + 7)
    assert v("fill missing tenure with the median", telco, mean).state == "failed"
    assert v("impute tenure", telco, telco.copy()).state == "failed"
    assert v("fill missing tenure with the median", telco, telco.dropna()).state == "failed"


def test_convert_money_text_to_number(telco: pd.DataFrame) -> None:
    good = telco.copy()
    good["price_text"] = pd.to_numeric(good["price_text"].str.replace(r"[$,]", "", regex=True))
    assert v("convert price_text to a number", telco, good).state == "verified"
    half = telco.copy()
    half["price_text"] = half["price_text"].str.replace("$", "")
    assert v("convert price_text to a number", telco, half).state == "failed"


def test_parse_dates(telco: pd.DataFrame) -> None:
    good = telco.copy()
    good["signup_date"] = pd.to_datetime(good["signup_date"])
    assert v("parse signup_date as a date", telco, good).state == "verified"
    assert v("parse signup_date as a date", telco, telco.copy()).state == "failed"


def test_one_hot(telco: pd.DataFrame) -> None:
    good = pd.get_dummies(telco, columns=["contract"], dtype=int)
    assert v("one-hot encode contract", telco, good, "feature").state == "verified"
    assert v("one-hot encode contract", telco, telco.copy(), "feature").state == "failed"


def test_extract_month(telco: pd.DataFrame) -> None:
    good = telco.copy()
    good["signup_month"] = pd.to_datetime(good["signup_date"]).dt.month
    assert v("extract the month from signup_date", telco, good, "feature").state == "verified"
    wrong = telco.copy()
    wrong["signup_month"] = pd.to_datetime(wrong["signup_date"]).dt.day
    assert v("extract the month from signup_date", telco, wrong, "feature").state == "failed"
    year = telco.copy()
    year["y"] = pd.to_datetime(year["signup_date"]).dt.year
    assert v("add the year of signup_date", telco, year, "feature").state == "verified"


def test_log_and_standardise(telco: pd.DataFrame) -> None:
    good = telco.copy()
    good["log_total"] = np.log1p(good["total_charges"])
    assert v("add a column with the log of total_charges", telco, good, "feature").state == "verified"
    assert v("add a column with the log of total_charges", telco, telco.copy(), "feature").state == "failed"
    z = telco.copy()
    z["monthly_charges"] = (z["monthly_charges"] - z["monthly_charges"].mean()) / z["monthly_charges"].std()
    assert v("standardise monthly_charges", telco, z, "feature").state == "verified"
    minmax = telco.copy()
    m = minmax["monthly_charges"]
    minmax["monthly_charges"] = (m - m.min()) / (m.max() - m.min())
    assert v("standardise monthly_charges", telco, minmax, "feature").state == "failed"
    assert v("scale monthly_charges", telco, minmax, "feature").state == "verified"


def test_rename(telco: pd.DataFrame) -> None:
    good = telco.rename(columns={"Churn": "churned"})
    assert v("rename Churn to churned", telco, good).state == "verified"
    assert v("rename Churn to churned", telco, telco.copy()).state == "failed"


def test_lowercase_and_strip(telco: pd.DataFrame) -> None:
    good = telco.copy()
    good["company"] = good["company"].str.strip()
    assert v("strip whitespace from company", telco, good).state == "verified"
    assert v("strip whitespace from company", telco, title_case_text(telco)).state == "failed"
    low = telco.copy()
    low["contract"] = low["contract"].str.lower()
    assert v("lowercase contract", telco, low).state == "verified"


def test_cap_outliers(telco: pd.DataFrame) -> None:
    before = telco.copy()
    before.loc[5, "monthly_charges"] = 10_000.0
    good = before.copy()
    q1, q3 = good["monthly_charges"].quantile([0.25, 0.75])
    good["monthly_charges"] = good["monthly_charges"].clip(upper=q3 + 1.5 * (q3 - q1))
    assert v("cap outliers in monthly_charges", before, good).state == "verified"
    assert v("cap outliers in monthly_charges", before, before.copy()).state == "failed"
    assert v("cap outliers in monthly_charges", before, before.drop(index=5)).state == "failed"


def test_bin(telco: pd.DataFrame) -> None:
    good = telco.copy()
    good["tenure_bin"] = pd.cut(good["tenure"], 4, labels=False)
    assert v("bin tenure into 4 bins", telco, good, "feature").state == "verified"
    wrong = telco.copy()
    wrong["tenure_bin"] = np.arange(len(wrong)) % 4
    assert v("bin tenure into 4 bins", telco, wrong, "feature").state == "failed"


# ----------------------------------------------------------------------------- honesty
@pytest.mark.parametrize("request_text", ["make it better", "tidy up the table please", "do the thing"])
def test_unknown_phrasing_is_unchecked_never_verified(telco: pd.DataFrame, request_text: str) -> None:
    after = title_case_text(telco)
    verdict = v(request_text, telco, after)
    assert verdict.state == "unchecked"
    assert verdict.reason and "not verified" in verdict.reason


def test_add_column_with_unknown_formula_is_unchecked(telco: pd.DataFrame) -> None:
    after = telco.copy()
    after["loyalty"] = telco["tenure"] * 2
    assert v("add a loyalty score", telco, after, "feature").state == "unchecked"
    assert v("add a loyalty score", telco, telco.copy(), "feature").state == "failed"


def test_no_table_back_fails(telco: pd.DataFrame) -> None:
    assert check_request("drop the company column", "clean", telco, None).state == "failed"  # type: ignore[arg-type]


def test_columns_named_longest_first_and_in_order(telco: pd.DataFrame) -> None:
    cols = list(telco.columns) + ["charges"]
    assert columns_named("ratio of total charges to Tenure", cols) == ["total_charges", "tenure"]
    assert columns_named("average age", ["age", "page"]) == ["age"]
    assert columns_named("the average", ["age"]) == []


# ----------------------------------------------------------------------------- more phrasings
def test_add_log_that_replaces_the_source_column_fails(telco: pd.DataFrame) -> None:
    replaced = telco.drop(columns=["total_charges"]).assign(
        log1p_total_charges=np.log1p(telco["total_charges"])
    )
    assert v("add the log of total_charges", telco, replaced, "feature").state == "failed"
    assert v("add the log of total_charges, replacing it", telco, replaced, "feature").state == "verified"
    in_place = telco.assign(total_charges=np.log1p(telco["total_charges"]))
    assert v("log-transform total_charges", telco, in_place, "feature").state == "verified"


def test_flag_column(telco: pd.DataFrame) -> None:
    good = telco.assign(high=(telco["monthly_charges"] > 80).astype(int))
    assert v("add a 0/1 column: monthly_charges > 80", telco, good, "feature").state == "verified"
    assert (
        v("mark rows with monthly_charges over 80 as 1, else 0", telco, good, "feature").state == "verified"
    )
    wrong = telco.assign(high=(telco["monthly_charges"] > 50).astype(int))
    assert (
        v("add a flag for rows where monthly_charges is above 80", telco, wrong, "feature").state == "failed"
    )


def test_group_aggregate_column(telco: pd.DataFrame) -> None:
    good = telco.assign(avg=telco.groupby("contract")["monthly_charges"].transform("mean"))
    assert v("add the average monthly_charges per contract as a new column", telco, good).state == "verified"
    wrong = telco.assign(avg=telco["monthly_charges"].mean())
    assert v("add the average monthly_charges per contract as a new column", telco, wrong).state == "failed"


def test_sum_of_three_columns_square_and_round(telco: pd.DataFrame) -> None:
    s3 = telco.assign(s=telco["tenure"] + telco["monthly_charges"] + telco["total_charges"])
    req = "add the sum of tenure, monthly_charges and total_charges"
    assert v(req, telco, s3).state == "verified"
    assert v(req, telco, telco.copy()).state == "failed"
    sq = telco.assign(m2=telco["monthly_charges"] ** 2)
    assert v("add the square of monthly_charges", telco, sq).state == "verified"
    assert (
        v("add the square of monthly_charges", telco, telco.assign(m2=telco["monthly_charges"] * 2)).state
        == "failed"
    )
    r = telco.assign(monthly_charges=telco["monthly_charges"].round(0))
    assert v("round monthly_charges to 0 decimals", telco, r).state == "verified"
    assert v("round monthly_charges to 0 decimals", telco, telco.copy()).state == "failed"


def test_spaced_operator_and_length(telco: pd.DataFrame) -> None:
    d = telco.assign(gap=telco["total_charges"] - telco["monthly_charges"])
    assert v("add a column with total_charges - monthly_charges", telco, d).state == "verified"
    n = telco.assign(company_length=telco["company"].str.len())
    assert v("add the length of company", telco, n).state == "verified"


def test_row_conditions_by_value_and_double_equals(telco: pd.DataFrame) -> None:
    kept = telco[telco["contract"] == "Two year"]
    assert v("filter to contract == Two year", telco, kept).state == "verified"
    dropped = telco[telco["contract"] != "One year"]
    assert v("remove the One year rows of contract", telco, dropped).state == "verified"
    assert v("remove the One year rows of contract", telco, telco.iloc[:30]).state == "failed"
    with_na = telco.dropna(subset=["tenure"])
    assert v("remove rows with no tenure", telco, with_na).state == "verified"


def test_call_the_column_rename_and_fill_most_common(telco: pd.DataFrame) -> None:
    assert (
        v("call the Churn column churned", telco, telco.rename(columns={"Churn": "churned"})).state
        == "verified"
    )
    before = telco.copy()
    before.loc[[1, 2], "contract"] = None
    mode = before["contract"].mode()[0]
    good = before.assign(contract=before["contract"].fillna(mode))
    assert v("fill missing contract with the most common value", before, good).state == "verified"
    other = before.assign(contract=before["contract"].fillna("zzz"))
    assert v("fill missing contract with the most common value", before, other).state == "failed"


def test_odd_tables_never_crash_the_check() -> None:
    before = pd.DataFrame({0: [1.0, 2.0, None], 1: ["a", "b", "c"]})
    after = before.dropna()
    assert v("drop rows where 0 is missing", before, after).state in ("verified", "unchecked")
    dup = pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"])
    assert v("drop the a column", dup, dup.iloc[:, :1]).state == "unchecked"
    empty = pd.DataFrame({"x": pd.Series([], dtype=float)})
    assert v("fill missing x with the median", empty, empty).state in ("verified", "unchecked", "failed")


def test_clip_at_an_explicit_bound(telco: pd.DataFrame) -> None:
    good = telco.assign(monthly_charges=telco["monthly_charges"].clip(upper=60))
    assert v("clip monthly_charges at 60", telco, good).state == "verified"
    q1, q3 = telco["monthly_charges"].quantile([0.25, 0.75])
    iqr = telco.assign(
        monthly_charges=telco["monthly_charges"].clip(q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1))
    )
    assert v("clip monthly_charges at 60", telco, iqr).state == "failed"  # an IQR cap is not "at 60"
    both = telco.assign(tenure=telco["tenure"].clip(10, 50))
    assert v("clip tenure to be between 10 and 50", telco, both).state == "verified"
    assert v(
        "cap tenure at a minimum of 10", telco, telco.assign(tenure=telco["tenure"].clip(lower=10))
    ).state == ("verified")
    # A negative bound keeps its sign (the IQR fences of a skewed column often go below zero).
    fenced = telco.assign(tenure=telco["tenure"].clip(-23.5, 50))
    assert v("clip tenure to between -23.5 and 50", telco, fenced).state == "verified"
    assert (
        v(
            "clip tenure to between -23.5 and 50", telco, telco.assign(tenure=telco["tenure"].clip(23.5, 50))
        ).state
        == "failed"
    )


def test_sum_that_leaves_out_a_mostly_zero_column_fails() -> None:
    rng = np.random.default_rng(5)
    n = 400
    df = pd.DataFrame(
        {"a": rng.integers(0, 2, n), "b": rng.integers(0, 2, n), "c": (rng.random(n) < 0.03).astype(int)}
    )
    partial = df.assign(a_plus_b=df["a"] + df["b"])  # equal to a+b+c on 97% of rows
    assert v("add the sum of a, b and c", df, partial, "feature").state == "failed"
    assert (
        v("add the sum of a, b and c", df, df.assign(s=df["a"] + df["b"] + df["c"]), "feature").state
        == "verified"
    )


def test_the_checker_table_names_each_kind_once_and_the_scope_rules_name_real_checkers():
    """`_untouched` scopes its checks by checker name: a renamed checker must not silently drop out."""
    import inspect

    from core.engine import intent
    from core.engine.intent_requests import CHECKERS

    names = [c.name for c in CHECKERS]
    assert len(names) == len(set(names)) == 17
    quoted = set(re.findall(r'"(\w+)"', inspect.getsource(intent._untouched)))
    assert {"rows", "drop_columns", "rename", "sort", "one_hot", "arith", "bin"} <= quoted <= set(names)


def test_fill_with_a_constant_checks_the_value() -> None:
    df = pd.DataFrame(
        {
            "temp": [1.5, np.nan, -3.0, np.nan, 7.0, 2.0],
            "city": ["Oslo", None, "Rome", "Oslo", None, "Rome"],
            "backup": [9.0, 8.0, 7.0, 6.0, 5.0, 4.0],
        }
    )
    assert v("fill missing temp with -1", df, df.assign(temp=df["temp"].fillna(-1))).state == "verified"
    assert v("fill missing temp with -1", df, df.assign(temp=df["temp"].fillna(1))).state == "failed"
    assert v(
        "fill missing temp with -1", df, df.assign(temp=df["temp"].fillna(df["temp"].median()))
    ).state == ("failed")
    assert v("fill missing city with 'Unknown'", df, df.assign(city=df["city"].fillna("Unknown"))).state == (
        "verified"
    )
    assert v(
        "replace empty city values with Unknown", df, df.assign(city=df["city"].fillna("Oslo"))
    ).state == ("failed")
    # Another column named after "with" is no value; two values are not read as one.
    from_backup = df.assign(temp=df["temp"].fillna(df["backup"]))
    assert v("fill missing temp with backup", df, from_backup).state != "failed"
    both = df.assign(temp=df["temp"].fillna(30))
    assert v("fill missing temp with 30 and backup with 10", df, both).state != "failed"


def test_equal_width_and_quantile_bins_are_told_apart() -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"age": rng.lognormal(3.5, 0.4, 400).round(1)})
    width = df.assign(age_bin=pd.cut(df["age"], 3, labels=False))
    quant = df.assign(age_bin=pd.qcut(df["age"], 3, labels=False))
    edges = np.linspace(df["age"].min(), df["age"].max(), 4)
    by_hand = df.assign(age_bin=np.digitize(df["age"], edges[1:-1]))  # right-open edges: same bins
    ask_w = "bin age into 3 equal-width bins"
    assert v(ask_w, df, width, "feature").state == "verified"
    assert v(ask_w, df, by_hand, "feature").state == "verified"
    assert v(ask_w, df, quant, "feature").state == "failed"
    ask_q = "bin age into 3 quantile bins"
    assert v(ask_q, df, quant, "feature").state == "verified"
    assert v(ask_q, df, width, "feature").state == "failed"
    assert v("bin age into 3 bins", df, quant, "feature").state == "verified"  # either kind


def test_arithmetic_with_more_than_two_columns_asks_is_not_verified_as_the_plain_one() -> None:
    df = pd.DataFrame({"weight": [60.0, 72.5, 90.0, 55.0], "height": [1.6, 1.75, 1.8, 1.5]})
    plain = df.assign(bmi=df["weight"] / df["height"])
    assert v("add bmi as weight divided by height squared", df, plain, "feature").state != "verified"
    assert v("add the ratio of weight to height times 100", df, plain, "feature").state != "verified"
    assert v("add bmi as weight divided by height", df, plain, "feature").state == "verified"


def test_convert_to_integer_needs_an_integer_type() -> None:
    df = pd.DataFrame({"age": [21.0, np.nan, 35.0, 40.0]})
    assert v("convert age to integer", df, df.copy()).state == "failed"  # whole floats: not converted
    assert v("convert age to integer", df, df.assign(age=df["age"].astype("Int64"))).state == "verified"
    assert v("convert age to numbers", df, df.copy()).state != "failed"


def test_a_rename_leaves_the_other_columns_alone() -> None:
    df = pd.DataFrame({"qty": [1, 2, 3], "price": [9.5, 3.0, 4.25], "region": ["a", "b", "c"]})
    assert v("rename qty to quantity", df, df.rename(columns={"qty": "quantity"})).state == "verified"
    both = df.rename(columns={"qty": "quantity", "price": "cost"})
    assert v("rename qty to quantity", df, both).state == "failed"
    changed = df.rename(columns={"qty": "quantity"}).assign(price=df["price"].round())
    assert v("rename qty to quantity", df, changed).state == "failed"


def test_duplicates_over_named_columns_and_rounding_to_whole_numbers() -> None:
    df = pd.DataFrame(
        {"region": ["n", "s", "n", "e", "s"], "qty": [1, 2, 3, 4, 5], "price": [1.26, 2.5, 3.7, 4.1, 5.9]}
    )
    by_region = df.drop_duplicates(subset=["region"]).reset_index(drop=True)
    assert v("drop duplicate rows based on region", df, by_region).state == "verified"
    assert v("drop duplicate rows based on region", df, df.iloc[:4]).state == "failed"
    assert v("remove duplicate rows", df, df).state != "failed"  # none over all columns
    rounded = df.assign(price_r=df["price"].round())
    assert v("add a column with price rounded to whole numbers", df, rounded, "feature").state == "verified"
    wrong = df.assign(price_r=df["price"].round(1))
    assert v("add a column with price rounded to whole numbers", df, wrong, "feature").state == "failed"


def test_rows_dropped_as_outliers_must_be_outliers() -> None:
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"price": np.r_[rng.normal(100, 10, 300), [400.0, 420.0, -150.0]]})
    q1, q3 = df["price"].quantile([0.25, 0.75])
    iqr_kept = df[df["price"].between(q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1))]
    assert v("remove outliers in price", df, iqr_kept.reset_index(drop=True)).state == "verified"
    z_kept = df[((df["price"] - df["price"].mean()).abs() <= 3 * df["price"].std())]
    assert v("remove outliers in price", df, z_kept.reset_index(drop=True)).state != "failed"
    p90 = df[df["price"] < df["price"].quantile(0.9)]
    assert v("remove outliers in price", df, p90.reset_index(drop=True)).state == "failed"
