# One case per line reads best unwrapped.
# ruff: noqa: E501
"""A second development set for `ask`: 38 analyst questions on 5 tables, written on 2026-12-02.

Not blind: its failures were read while the question recipes and the answer checks were widened
(a yes/no column as a filter, run-together names, "equal to", "no <column>", a period of the dates,
arithmetic between two columns, an answer that drops a condition). It keeps those fixes measured;
the blind measure stays `core/eval_blind.py`. None of the tables is a training table; `rand_hie`
is also a development-suite table, the rest are in no other set.

    python -m core.eval_blind --set dev --mode plan
    python -m core.eval_blind --set dev --mode ask
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from core.eval_blind_check import B, D, M, N, P, S, T

# (the Case type and its constructor live with the blind set; imported lazily there)
Spec = tuple[object, ...]


def orders() -> pd.DataFrame:
    """A synthetic shop's orders (seeded): dates, names, categories, money, a yes/no column, gaps."""
    rng = np.random.default_rng(7)
    n = 1500
    first = np.array(["Ana", "Ben", "Chloe", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jade", "Kofi", "Lena"])
    last = np.array(["Smith", "Garcia", "Ng", "Okafor", "Muller", "Rossi"])
    customer = np.char.add(np.char.add(first[rng.integers(0, 12, n)], " "), last[rng.integers(0, 6, n)])
    cats = ["Electronics", "Furniture", "Office Supplies", "Toys", "Garden"]
    category = rng.choice(cats, n, p=[0.3, 0.15, 0.3, 0.15, 0.1])
    base = dict(zip(cats, [250, 400, 15, 30, 60], strict=True))
    price = np.array([base[c] for c in category]) * rng.lognormal(0, 0.4, n)
    df = pd.DataFrame(
        {
            "order_id": np.arange(10001, 10001 + n),
            "order_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366, n), unit="D"),
            "customer": customer,
            "region": rng.choice(["North", "South", "East", "West"], n, p=[0.35, 0.25, 0.2, 0.2]),
            "category": category,
            "quantity": rng.integers(1, 9, n),
            "unit_price": price.round(2),
            "discount": rng.choice([0.0, 0.05, 0.1, 0.2], n),
            "returned": rng.random(n) < 0.07,
        }
    )
    df.loc[rng.random(n) < 0.1, "discount"] = np.nan
    return df


def _plotly(name: str) -> Callable[[], pd.DataFrame]:
    return lambda: getattr(__import__("plotly.express").express.data, name)()


def _sm(name: str) -> Callable[[], pd.DataFrame]:
    return lambda: getattr(__import__("statsmodels.api").api.datasets, name).load_pandas().data.copy()


# name -> (loader, "source; licence")
TABLES: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    "orders": (orders, "synthetic shop orders, seeded, this file; written for this set"),
    "stocks": (_plotly("stocks"), "weekly tech stock prices 2018-2019, plotly.data; MIT package"),
    "interest": (_sm("interest_inflation"), "German interest and inflation 1972-1998, statsmodels; public domain"),
    "randhie": (_sm("randhie"), "RAND health insurance experiment, statsmodels; public domain"),
    "copper": (_sm("copper"), "World copper market 1951-1975, statsmodels; public domain"),
}


def _rev(d: pd.DataFrame) -> pd.Series:
    return d.quantity * d.unit_price


_SIX = ["GOOG", "AAPL", "AMZN", "FB", "NFLX", "MSFT"]

# fmt: off
SPECS: dict[str, list[Spec]] = {
    "orders": [
        ("How many orders were placed in total?", lambda d: len(d)),
        ("What is the total revenue, where revenue is quantity times unit price?", lambda d: _rev(d).sum()),
        ("Which region has the most orders?", lambda d: d.region.value_counts().idxmax(), T),
        ("What's the average discount for orders in the West region?", lambda d: d.discount[d.region == "West"].mean()),
        ("How many orders were returned?", lambda d: int(d.returned.sum())),
        ("What share of orders were returned? Give a percentage with one decimal.", lambda d: d.returned.mean() * 100, P, 1),
        ("Which product category has the highest average unit price?", lambda d: d.groupby("category").unit_price.mean().idxmax(), T),
        ("In which month were the most orders placed?", lambda d: d.order_date.dt.month.value_counts().idxmax(), M),
        ("What is the median quantity per order?", lambda d: d.quantity.median()),
        ("How many distinct customers are there?", lambda d: d.customer.nunique()),
        ("Which customer placed the most orders?", lambda d: d.customer.value_counts().idxmax(), T),
        ("What is the largest single order value (quantity times unit price)?", lambda d: _rev(d).max()),
        ("How many orders have no discount recorded?", lambda d: d.discount.isna().sum()),
        ("What is the average quantity of Electronics orders in the North region?",
         lambda d: d.quantity[(d.category == "Electronics") & (d.region == "North")].mean()),
        ("List the top 3 categories by total quantity sold.",
         lambda d: d.groupby("category").quantity.sum().nlargest(3).index.tolist(), S),
        ("What is the total quantity sold in the South region?", lambda d: d.quantity[d.region == "South"].sum()),
        ("How many orders had a unit price over 500?", lambda d: (d.unit_price > 500).sum()),
        ("What was the average unit price of returned orders?", lambda d: d.unit_price[d.returned].mean()),
    ],
    "stocks": [
        ("What was the highest AAPL value?", lambda d: d.AAPL.max()),
        ("On which date did NFLX reach its maximum?", lambda d: pd.Timestamp(d.date[d.NFLX.idxmax()]).date(), D),
        ("What is the average MSFT value in 2019?", lambda d: d.MSFT[d.date.str.startswith("2019")].mean()),
        ("How many weeks did GOOG close above 1.2?", lambda d: (d.GOOG > 1.2).sum()),
        ("Which stock has the highest mean value?", lambda d: d[_SIX].mean().idxmax(), T),
        ("What is the correlation between AMZN and MSFT? Round to 2 decimals.", lambda d: d.AMZN.corr(d.MSFT), N, 2),
        ("Is FB's average higher than GOOG's?", lambda d: d.FB.mean() > d.GOOG.mean(), B),
        ("What was the lowest FB value?", lambda d: d.FB.min()),
    ],
    "interest": [
        ("What is the average R?", lambda d: d.R.mean()),
        ("Which year had the highest average Dp?", lambda d: d.groupby("year").Dp.mean().idxmax()),
        ("How many quarters had an R above 0.1?", lambda d: (d.R > 0.1).sum()),
    ],
    "randhie": [
        ("What is the average of mdvis?", lambda d: d.mdvis.mean()),
        ("How many rows have idp equal to 1?", lambda d: (d.idp == 1).sum()),
        ("What's the maximum lpi?", lambda d: d.lpi.max()),
        ("What percentage of rows have hlthp equal to 1? Round to 2 decimals.", lambda d: (d.hlthp == 1).mean() * 100, P, 2),
        ("What is the mean mdvis for rows where idp is 1?", lambda d: d.mdvis[d.idp == 1].mean()),
        ("What is the standard deviation of disea?", lambda d: d.disea.std()),
    ],
    "copper": [
        ("In which TIME period was the copper price highest?", lambda d: d.TIME[d.COPPERPRICE.idxmax()]),
        ("What is the average world consumption?", lambda d: d.WORLDCONSUMPTION.mean()),
        ("How many periods had an aluminium price above 25?", lambda d: (d.ALUMPRICE > 25).sum()),
    ],
}
# fmt: on
