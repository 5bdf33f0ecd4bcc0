"""The one column detector on real package-shipped tables, with planted traps and without.

Traps: an ID column and a sample number, a noisy copy of the target, two columns that sum to
the target, a column missing exactly when the target has one value, a payment amount that tracks
the target, a recoding of a class target, names with one value per row. Without traps: ordinary
columns (humidity, a paid amount unrelated to the target) and several untouched real tables must
raise no finding.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd
import pytest

from core import detect
from core.detect import THRESHOLDS

statsmodels_api = pytest.importorskip("statsmodels.api")  # a shipped-data package, not the project
vega = pytest.importorskip("vega_datasets")


def _diabetes() -> pd.DataFrame:
    from sklearn.datasets import load_diabetes

    return load_diabetes(as_frame=True).frame


def _breast_cancer() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).frame


def _by_column(findings: list[detect.Finding]) -> dict[str, detect.Finding]:
    return {c: f for f in findings for c in f.columns}


@pytest.mark.parametrize(
    "name", ["Individual ID", "Sample Number", "PassengerId", "order_no", "customerID", "uuid", "row_index"]
)
def test_key_names_are_whole_tokens(name):
    assert detect.id_name(name)


@pytest.mark.parametrize("name", ["paid_total", "humidity", "valid", "Android", "period", "width", "notes"])
def test_names_ending_in_id_are_not_keys(name):
    assert not detect.id_name(name)


def test_thresholds_are_one_frozen_table():
    with pytest.raises(dataclasses.FrozenInstanceError):
        THRESHOLDS.single_feature_skill = 0.5  # type: ignore[misc]
    assert 0.9 <= THRESHOLDS.single_feature_skill < 1


def test_planted_traps_in_a_regression_table_are_all_found():
    df = _diabetes()
    rng = np.random.default_rng(7)
    n = len(df)
    df.insert(0, "Individual ID", rng.permutation(n) + 10_000)
    df["Sample Number"] = np.arange(1, n + 1)
    df["Order"] = rng.permutation(n) + 1  # a shuffled running number, named like nothing
    df["target_noisy"] = df["target"] + rng.normal(0, 0.1 * df["target"].std(), n)
    df["part_a"] = rng.uniform(0, 100, n).round(2)
    df["part_b"] = df["target"] - df["part_a"]
    df["humidity"] = rng.uniform(20, 90, n).round(1)
    df["paid_total"] = rng.gamma(2, 50, n).round(2)
    found = _by_column(detect.scan(df, "target"))
    assert {c: found[c].kind for c in ("Individual ID", "Sample Number", "Order")} == dict.fromkeys(
        ("Individual ID", "Sample Number", "Order"), "identifier"
    )
    assert (
        found["target_noisy"].rule == "single_feature"
        and "correlation 0.99" in found["target_noisy"].evidence
    )
    assert found["part_a"] is found["part_b"] and found["part_a"].rule == "sum"
    assert "equals the target in 100% of rows" in found["part_a"].evidence
    # No false alarm on the real columns or the ordinary planted ones.
    assert set(found) == {"Individual ID", "Sample Number", "Order", "target_noisy", "part_a", "part_b"}
    assert detect.left_out(detect.scan(df, "target"), put_back=["Order"]) == [
        "Individual ID",
        "Sample Number",
        "target_noisy",
        "part_b",
        "part_a",
    ]


def test_a_product_of_two_columns_equal_to_the_target_is_a_leak():
    df = statsmodels_api.datasets.grunfeld.load_pandas().data
    rng = np.random.default_rng(5)
    df["shares"] = rng.integers(10, 500, len(df))
    df["invest_per_share"] = df["invest"] / df["shares"]  # invest = shares x invest_per_share
    found = _by_column(detect.scan(df, "invest"))
    assert set(found) == {"shares", "invest_per_share"} and found["shares"].rule == "product"


def test_planted_post_outcome_columns_in_a_classification_table():
    df = _breast_cancer()
    rng = np.random.default_rng(3)
    n = len(df)
    benign = df["target"] == 1
    df["followup_date"] = np.where(benign, None, "2020-02-0" + pd.Series(rng.integers(1, 9, n)).astype(str))
    df["patient name"] = [f"Patient {i} {chr(65 + i % 26)}" for i in range(n)]
    df["amount_paid"] = np.where(benign, rng.gamma(2, 50, n), 0) + rng.normal(0, 5, n)
    df["diagnosis_code"] = np.where(benign, "B-01", "M-02")  # a recoding of the target
    df["humidity"] = rng.uniform(20, 90, n)
    df["paid_total"] = rng.gamma(2, 50, n)
    found = _by_column(detect.scan(df, "target"))
    assert found["followup_date"].rule == "missing_pattern" and found["followup_date"].kind == "post_outcome"
    assert found["amount_paid"].kind == "post_outcome"
    assert found["patient name"].kind == "identifier"
    assert found["diagnosis_code"].rule == "mapping"
    assert set(found) == {"followup_date", "amount_paid", "patient name", "diagnosis_code"}
    for f in found.values():
        assert f.evidence and f.action and any(ch.isdigit() for ch in f.evidence)


def _ordinary_tables() -> list[tuple[str, pd.DataFrame, str]]:
    from sklearn.datasets import load_iris, load_wine

    sm = statsmodels_api.datasets
    vd = vega.data
    out = [
        ("diabetes", _diabetes(), "target"),
        ("breast_cancer", _breast_cancer(), "target"),
        ("wine", load_wine(as_frame=True).frame, "target"),
        ("iris", load_iris(as_frame=True).frame, "target"),
        ("cars", vd.cars(), "Miles_per_Gallon"),
        ("seattle_weather", vd.seattle_weather(), "weather"),
        ("fair", sm.fair.load_pandas().data, "affairs"),
        ("star98", sm.star98.load_pandas().data, "NABOVE"),
        ("grunfeld", sm.grunfeld.load_pandas().data, "invest"),
        ("randhie", sm.randhie.load_pandas().data, "mdvis"),
        ("spector", sm.spector.load_pandas().data, "GRADE"),
    ]
    return out


def test_no_more_than_one_false_alarm_per_ten_ordinary_tables():
    alarms = {}
    for name, df, target in _ordinary_tables():
        found = detect.scan(df, target)
        if found:
            alarms[name] = [(f.column, f.rule) for f in found]
    assert len(alarms) <= len(_ordinary_tables()) // 10, alarms


def test_scan_is_fast_on_a_big_table():
    import core.modeling_harness  # noqa: F401 - scikit-learn's import time is not the scan's

    rng = np.random.default_rng(0)
    n = 200_000
    df = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(25)})
    df["cat"] = rng.choice(list("abcdefgh"), n)
    df["y"] = (df["x0"] + rng.normal(size=n) > 0).astype(int)
    t0 = time.perf_counter()
    assert detect.scan(df, "y") == []
    assert time.perf_counter() - t0 < 10  # a sample of rows and binned one-column CV, not models
    wide = pd.DataFrame({f"x{i}": rng.normal(size=20_000) for i in range(300)})
    wide["y"] = 2 * wide["x0"] + rng.normal(size=20_000)
    t0 = time.perf_counter()
    found = detect.scan(wide, "y")
    assert found == [] and time.perf_counter() - t0 < 20  # wide tables are scanned on fewer rows


def test_profile_uses_the_detector_and_skips_outliers_of_flags():
    from core.profile import profile_dataframe

    rng = np.random.default_rng(2)
    n = 3000
    df = pd.DataFrame(
        {
            "Individual ID": rng.permutation(n),
            "flag": (rng.random(n) < 0.05).astype(int),  # a rare 1 is not an outlier
            "rating": rng.integers(1, 6, n),
            "humidity": rng.normal(60, 10, n),
            "paid_total": rng.gamma(2, 50, n).round(0),
        }
    )
    p = profile_dataframe(df)
    sem = {c.name: c.semantic for c in p.columns}
    assert sem["Individual ID"] == "id" and sem["humidity"] == "numeric" and sem["paid_total"] == "numeric"
    assert p.column("flag").n_outliers is None and p.column("rating").n_outliers is None
    assert p.column("paid_total").n_outliers is not None
