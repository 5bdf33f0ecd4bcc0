"""Profile charts: pages for wide tables, binned histograms, before/after helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import charts
from core.io import load_table
from core.profile import profile_dataframe
from core.samples import sample_path


def _gap():
    df = load_table(sample_path("gapminder_health")).df
    return df, profile_dataframe(df)


def test_missingness_sorted_and_paged():
    df, p = _gap()
    fig = charts.missingness_chart(p)
    shares = list(fig.data[0].x)
    assert shares == sorted(shares, reverse=True)
    assert fig.data[0].y[0] == "gdp_per_capita"  # the most missing column
    sub = charts.missingness_figure(p, columns=["year", "population"])
    assert set(sub.data[0].y) == {"year", "population"}


def test_column_pages():
    pages = charts.column_pages([f"c{i}" for i in range(320)], page_size=50)
    assert len(pages) == 7 and pages[-1] == [f"c{i}" for i in range(300, 320)]


def test_distribution_numeric_text_is_binned_and_category_is_counted():
    df, _ = _gap()
    money = charts.distribution_chart(df, "gdp_per_capita")
    assert len(money.data[0].x) == 40 and sum(money.data[0].y) == df["gdp_per_capita"].notna().sum()
    cat = charts.distribution_figure(df, "continent")
    assert cat.data[0].orientation == "h" and sum(cat.data[0].x) == len(df)


def test_histogram_of_a_million_rows_sends_bins_only():
    df = pd.DataFrame({"x": np.random.default_rng(0).normal(size=1_000_000)})
    fig = charts.distribution_chart(df, "x", bins=30)
    assert len(fig.data[0].y) == 30 and sum(fig.data[0].y) == 1_000_000


def test_correlation_heatmap_limits_wide_tables():
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.normal(size=(100, 60)), columns=[f"f{i}" for i in range(60)])
    fig = charts.correlation_figure(df, top_k=20)
    assert len(fig.data[0].x) == 20 and "20 of 60" in fig.layout.title.text
    empty = charts.correlation_figure(pd.DataFrame({"a": ["x", "y"]}))
    assert not empty.data


def test_before_after_helpers():
    df, _ = _gap()
    after = df.copy()
    after["population"] = pd.to_numeric(after["population"].str.replace(",", ""), errors="coerce").fillna(0)
    fig = charts.missingness_before_after(df, after)
    names = list(fig.data[0].y)
    i = names.index("population")
    assert fig.data[0].x[i] > 0 and fig.data[1].x[i] == 0
    dist = charts.distribution_before_after(df["population"], after["population"])
    assert [t.name for t in dist.data] == ["before", "after"]
    cats = charts.distribution_before_after(df["continent"], df["continent"].str.strip().str.title())
    assert "Europe" in cats.data[1].y
