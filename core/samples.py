"""Bundled messy sample datasets, so a first-time user can try the whole wizard in one click.

The CSV files live in `core/samples/` (a data folder, not a package) and are built by
`scripts/make_samples.py` from real public data shipped in pip packages; origins and
licences are in `core/samples/SOURCES.md`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"


@dataclass(frozen=True)
class SampleInfo:
    name: str
    path: Path
    target: str
    task: Literal["classification", "regression"]
    description: str
    origin: str
    licence: str


_SAMPLES = [
    SampleInfo(
        name="seattle_weather",
        path=SAMPLES_DIR / "seattle_weather.csv",
        target="weather",
        task="classification",
        description=(
            "Daily weather at Seattle-Tacoma airport 2012-2015 (1,486 rows): predict the day's weather "
            "(sun, fog, rain, drizzle, snow). Messy: dates in "
            "three formats, temperatures with units as text, "
            "misspelt station and season names, missing values, 25 duplicated rows, and a condition code "
            "that leaks the target."
        ),
        origin=(
            "NOAA daily observations via vega_datasets "
            "(local_data.seattle_weather), messed by scripts/make_samples.py"
        ),
        licence="Public domain (US government work, NOAA); vega-datasets package BSD-3-Clause",
    ),
    SampleInfo(
        name="gapminder_health",
        path=SAMPLES_DIR / "gapminder_health.csv",
        target="life_expectancy",
        task="regression",
        description=(
            "Country health and wealth indicators 1952-2007 "
            "(1,734 rows): predict life expectancy. Messy: GDP "
            "per capita as '$1,234.56' / 'USD 1,235' text, "
            "population with thousands separators, mixed survey "
            "date formats, inconsistent continent spellings, missing values, 30 duplicated rows, and a "
            "lifespan-in-months column that leaks the target."
        ),
        origin="Gapminder indicators via plotly.data.gapminder, messed by scripts/make_samples.py",
        licence="CC BY 4.0 (Gapminder Foundation, free material from www.gapminder.org); plotly package MIT",
    ),
]


def list_samples() -> list[SampleInfo]:
    return list(_SAMPLES)


def sample_path(name: str) -> Path:
    for s in _SAMPLES:
        if s.name == name:
            return s.path
    raise KeyError(f"no sample dataset named {name!r}; available: {', '.join(s.name for s in _SAMPLES)}")


def sample_info(name: str) -> SampleInfo:
    for s in _SAMPLES:
        if s.name == name:
            return s
    raise KeyError(f"no sample dataset named {name!r}; available: {', '.join(s.name for s in _SAMPLES)}")
