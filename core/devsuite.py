"""The development suite: real tables shipped inside pip packages, for the eval and the autopilot.

Every dataset is real published data (no synthetic tables), read offline from files that
sklearn, statsmodels, plotly and vega_datasets install. `materialize(ds, dir)` writes each
one as a CSV once (cached by name) so the autopilot can load it like any upload.
The mix: binary and multiclass classification and regression, numeric-only tables and
tables with text categories, dates and missing values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd


@dataclass(frozen=True)
class DevDataset:
    name: str
    target: str
    task: Literal["classification", "regression"]
    origin: str
    licence: str
    load: Callable[[], pd.DataFrame] = field(repr=False, compare=False, default=lambda: pd.DataFrame())
    note: str = ""


def _sklearn(loader: str, target_name: str = "target", **kw: object) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import sklearn.datasets as skd

        bunch = getattr(skd, loader)(as_frame=True, **kw)
        df = bunch.frame.copy()
        if target_name != "target":
            df = df.rename(columns={"target": target_name})
        names = getattr(bunch, "target_names", None)
        if names is not None and len(names) and df[target_name].dtype.kind in "iu":
            # Class names, not codes: what a real export would hold.
            df[target_name] = [str(names[i]) for i in df[target_name]]
        return df

    return load


def _statsmodels(
    name: str, prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None
) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import statsmodels.api as sm

        df = getattr(sm.datasets, name).load_pandas().data.copy()
        return prepare(df) if prepare else df

    return load


def _plotly(name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import plotly.data

        return getattr(plotly.data, name)()

    return load


def _vega(name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        from vega_datasets import local_data

        return local_data(name)

    return load


def _fair(df: pd.DataFrame) -> pd.DataFrame:
    # The statsmodels docs' binary version: any affair time reported. `affairs` is the
    # measure the label is made from, so it is dropped (keeping it would be leakage).
    df = df.copy()
    df["had_affair"] = (df.pop("affairs") > 0).astype(int)
    return df


def _anes(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["vote"] = df["vote"].map({0.0: "Clinton", 1.0: "Dole"})
    return df.drop(columns=["logpopul"])  # log of `popul`, kept out as a pure duplicate


def _modechoice(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["mode"] = df["mode"].map({1.0: "air", 2.0: "train", 3.0: "bus", 4.0: "car"})
    df["choice"] = df["choice"].map({0.0: "no", 1.0: "yes"})
    return df


_SKLEARN_LIC = "CC BY 4.0 (UCI Machine Learning Repository); scikit-learn package BSD-3-Clause"

DEV_SUITE: list[DevDataset] = [
    DevDataset(
        "breast_cancer",
        "target",
        "classification",
        "Breast Cancer Wisconsin (Diagnostic), UCI, via sklearn.datasets.load_breast_cancer",
        _SKLEARN_LIC,
        _sklearn("load_breast_cancer"),
        "binary, 30 numeric features",
    ),
    DevDataset(
        "wine",
        "target",
        "classification",
        "Wine recognition, UCI, via sklearn.datasets.load_wine",
        _SKLEARN_LIC,
        _sklearn("load_wine"),
        "3 classes, numeric",
    ),
    DevDataset(
        "diabetes",
        "disease_progression",
        "regression",
        "Diabetes (Efron et al. 2004, 'Least Angle Regression'), "
        "via sklearn.datasets.load_diabetes(scaled=False)",
        "Distributed with scikit-learn (BSD-3-Clause)",
        _sklearn("load_diabetes", target_name="disease_progression", scaled=False),
        "numeric",
    ),
    DevDataset(
        "tips",
        "tip",
        "regression",
        "Restaurant tips (Bryant & Smith 1995), via plotly.data.tips",
        "plotly package MIT; data published in a textbook",
        _plotly("tips"),
        "text categories",
    ),
    DevDataset(
        "gapminder",
        "lifeExp",
        "regression",
        "Gapminder country indicators 1952-2007, via plotly.data.gapminder",
        "CC BY 4.0 (Gapminder Foundation); plotly package MIT",
        _plotly("gapminder"),
        "country/continent categories, codes",
    ),
    DevDataset(
        "seattle_weather",
        "weather",
        "classification",
        "NOAA daily weather at Seattle-Tacoma airport 2012-2015, via vega_datasets local_data",
        "Public domain (NOAA); vega_datasets BSD-3-Clause",
        _vega("seattle-weather"),
        "5 classes, a date column",
    ),
    DevDataset(
        "cars",
        "Miles_per_Gallon",
        "regression",
        "Auto MPG (StatLib / UCI), via vega_datasets local_data.cars",
        "CC BY 4.0 (UCI Machine Learning Repository); vega_datasets BSD-3-Clause",
        _vega("cars"),
        "missing values, a car-name text column, origin category, year date",
    ),
    DevDataset(
        "fair_affairs",
        "had_affair",
        "classification",
        "Fair (1978) extramarital affairs survey, via statsmodels.datasets.fair",
        "Included in statsmodels with permission of the author (Ray Fair); statsmodels BSD-3-Clause",
        _statsmodels("fair", _fair),
        "binary, 6,366 rows",
    ),
    DevDataset(
        "rand_hie",
        "mdvis",
        "regression",
        "RAND Health Insurance Experiment, via statsmodels.datasets.randhie",
        "Public domain (statsmodels dataset notes); statsmodels BSD-3-Clause",
        _statsmodels("randhie"),
        "count target, 20,190 rows",
    ),
    DevDataset(
        "anes96",
        "vote",
        "classification",
        "American National Election Studies 1996, via statsmodels.datasets.anes96",
        "Public domain (statsmodels dataset notes); statsmodels BSD-3-Clause",
        _statsmodels("anes96", _anes),
        "binary text labels",
    ),
    DevDataset(
        "modechoice",
        "choice",
        "classification",
        "Travel mode choice (Greene & Hensher 1997), via statsmodels.datasets.modechoice",
        "Public domain (statsmodels dataset notes); statsmodels BSD-3-Clause",
        _statsmodels("modechoice", _modechoice),
        "binary, a mode category, grouped rows per traveller",
    ),
    DevDataset(
        "iris",
        "target",
        "classification",
        "Fisher's Iris, UCI, via sklearn.datasets.load_iris",
        _SKLEARN_LIC,
        _sklearn("load_iris"),
        "3 classes, tiny",
    ),
]


def dev_dataset(name: str) -> DevDataset:
    for d in DEV_SUITE:
        if d.name == name:
            return d
    raise KeyError(f"no dev-suite dataset {name!r}; available: {', '.join(d.name for d in DEV_SUITE)}")


def materialize(ds: DevDataset | str, dir: str | Path) -> Path:  # noqa: A002 - the documented signature
    """Write the dataset as `<dir>/<name>.csv` once; later calls return the cached file."""
    if isinstance(ds, str):
        ds = dev_dataset(ds)
    out = Path(dir) / f"{ds.name}.csv"
    if out.exists() and out.stat().st_size > 0:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    df = ds.load()
    if ds.target not in df.columns:
        raise KeyError(f"{ds.name}: target {ds.target!r} not in columns {list(df.columns)}")
    tmp = out.with_suffix(".tmp")
    df.to_csv(tmp, index=False)
    tmp.replace(out)  # write-then-rename: a concurrent reader never sees half a file
    return out
