"""Build the bundled messy sample datasets from real public data shipped in pip packages.

Deterministic (seeded): running it again writes byte-identical files to core/samples/.
Origins and licences are recorded in core/samples/SOURCES.md.

- seattle_weather.csv (classification, target `weather`): vega_datasets' local copy of
  NOAA daily weather at Seattle-Tacoma airport, 2012-2015.
- gapminder_health.csv (regression, target `life_expectancy`): plotly.data.gapminder,
  Gapminder country indicators 1952-2007.

What the "messing" adds (each is a realistic defect the clean stage should handle):
ID column; mixed date formats; numbers stored as text with currency signs / thousands
separators / units; inconsistent category spellings; scattered missing values (also as
"n/a" or "-" strings); duplicated rows; one leakage column that gives the target away.

Usage: python scripts/make_samples.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent.parent / "core" / "samples"
SEED = 20240601


def _mixed_dates(dates: pd.Series, rng: np.random.Generator) -> pd.Series:
    """ISO for most rows, US month/day/year and 'Mon d, yyyy' for others."""
    d = pd.to_datetime(dates)
    iso = d.dt.strftime("%Y-%m-%d")
    us = d.dt.strftime("%m/%d/%Y")
    words = d.dt.strftime("%b %d, %Y").str.replace(" 0", " ", regex=False)
    pick = rng.choice(3, size=len(d), p=[0.7, 0.2, 0.1])
    return pd.Series(np.where(pick == 0, iso, np.where(pick == 1, us, words)), index=dates.index)


def _respell(
    values: pd.Series, variants: dict[str, list[str]], share: float, rng: np.random.Generator
) -> pd.Series:
    out = values.astype(object).copy()
    for canon, alts in variants.items():
        idx = out.index[(out == canon).to_numpy() & (rng.random(len(out)) < share)]
        out.loc[idx] = rng.choice(alts, size=len(idx))
    return out


def _blank(
    s: pd.Series, share: float, rng: np.random.Generator, tokens: tuple[object, ...] = (np.nan,)
) -> pd.Series:
    out = s.astype(object).copy()
    idx = out.index[rng.random(len(out)) < share]
    out.loc[idx] = rng.choice(np.array(tokens, dtype=object), size=len(idx))
    return out


def _duplicate(df: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Insert `n` exact copies of random rows right after their originals (as exports do)."""
    rows = np.sort(rng.choice(len(df), size=n, replace=False))
    parts = []
    prev = 0
    for r in rows:
        parts.append(df.iloc[prev : r + 1])
        parts.append(df.iloc[[r]])
        prev = r + 1
    parts.append(df.iloc[prev:])
    return pd.concat(parts, ignore_index=True)


def seattle_weather(rng: np.random.Generator) -> pd.DataFrame:
    from vega_datasets import local_data

    w = local_data.seattle_weather()
    df = pd.DataFrame({"obs_id": [f"SEA-{i:05d}" for i in range(1, len(w) + 1)]})
    df["date"] = _mixed_dates(w["date"], rng)
    df["station"] = _respell(
        pd.Series("Seattle-Tacoma Intl", index=w.index),
        {
            "Seattle-Tacoma Intl": [
                "SEATTLE-TACOMA INTL",
                "seattle-tacoma intl ",
                "Seattle Tacoma Intl",
                "SeaTac",
            ]
        },
        0.15,
        rng,
    )
    df["precipitation_mm"] = _blank(w["precipitation"], 0.04, rng)
    # Some exports write the unit into the cell.
    tmax = w["temp_max"].map(lambda v: f"{v:.1f}")
    with_unit = rng.random(len(w)) < 0.25
    df["temp_max_c"] = np.where(with_unit, tmax + " °C", tmax)
    df["temp_min_c"] = _blank(w["temp_min"], 0.03, rng, (np.nan, "n/a"))
    df["wind_ms"] = _blank(w["wind"], 0.05, rng)
    df["season"] = _respell(
        pd.to_datetime(w["date"]).dt.month.map(
            {
                12: "winter",
                1: "winter",
                2: "winter",
                3: "spring",
                4: "spring",
                5: "spring",
                6: "summer",
                7: "summer",
                8: "summer",
                9: "autumn",
                10: "autumn",
                11: "autumn",
            }
        ),
        {
            "winter": ["Winter", "WINTER", "winter "],
            "autumn": ["Autumn", "fall", "Fall"],
            "summer": ["Summer"],
        },
        0.12,
        rng,
    )
    # Leakage: the observer's condition code is written after the day is classified.
    df["condition_code"] = w["weather"].map(
        {"sun": "S", "fog": "F", "rain": "R", "drizzle": "D", "snow": "N"}
    )
    df["weather"] = w["weather"]
    return _duplicate(df, 25, rng)


def gapminder_health(rng: np.random.Generator) -> pd.DataFrame:
    import plotly.data

    g = plotly.data.gapminder()
    df = pd.DataFrame({"record_id": [f"GM-{i:05d}" for i in range(1, len(g) + 1)]})
    df["country"] = g["country"]
    df["iso_code"] = g["iso_alpha"]
    df["continent"] = _respell(
        g["continent"],
        {
            "Europe": ["europe", "EUROPE", "Europe "],
            "Americas": ["America", "americas"],
            "Asia": ["asia", " Asia"],
        },
        0.1,
        rng,
    )
    survey = pd.to_datetime(g["year"].astype(str) + "-07-01") + pd.to_timedelta(
        rng.integers(0, 28, len(g)), unit="D"
    )
    df["survey_date"] = _mixed_dates(survey, rng)
    pop = g["pop"].map(lambda v: f"{int(v):,}")
    df["population"] = _blank(pop, 0.03, rng, (np.nan, "-"))
    gdp = g["gdpPercap"].map(lambda v: f"${v:,.2f}")
    eur_style = rng.random(len(g)) < 0.1
    gdp = gdp.where(~eur_style, g["gdpPercap"].map(lambda v: f"USD {v:,.0f}"))
    df["gdp_per_capita"] = _blank(gdp, 0.04, rng)
    df["year"] = g["year"]
    life = g["lifeExp"].round(2)
    # Leakage: lifespan in months is the target times twelve, recorded alongside it.
    df["lifespan_months"] = (life * 12).round(1)
    df["life_expectancy"] = _blank(life, 0.01, rng)
    return _duplicate(df, 30, rng)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    for name, build in (("seattle_weather", seattle_weather), ("gapminder_health", gapminder_health)):
        df = build(rng)
        path = OUT / f"{name}.csv"
        df.to_csv(path, index=False, lineterminator="\n")
        print(f"{path.relative_to(OUT.parent.parent)}: {df.shape[0]} rows x {df.shape[1]} columns")


if __name__ == "__main__":
    main()
