"""Everyday requests and questions for the app-path eval, on the development-suite tables.

Written for this project, in the words a user of the wizard would type (no public benchmark
question is reused). None of these tables is a training table of the adapter
(`core.tuning.tables` excludes the development suite). Each case carries reference pandas code;
the expected outcome is computed from the table at eval time (nothing is hard-coded), and the
outcome check here is independent of the engine's own intent checks (`core.engine.intent`).

A request case's `outcome(before, after)` returns None when `after` is what was asked, else the
reason; a question case's `reference(df)` is the right answer and `kind` says how to compare.
"""

# The case tables read best one case a line.
# ruff: noqa: E501

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

Outcome = Callable[[pd.DataFrame, pd.DataFrame], str | None]


@dataclass(frozen=True)
class RequestCase:
    table: str
    stage: str  # "clean" | "feature"
    request: str
    outcome: Outcome


@dataclass(frozen=True)
class QuestionCase:
    table: str
    question: str
    reference: Callable[[pd.DataFrame], Any]
    kind: str = "number"  # number | count | text | bool | set
    decimals: int | None = None


# --------------------------------------------------------------------------- outcome checks
def _num(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").astype(float).to_numpy()


def _close(got: pd.Series, want: pd.Series, share: float = 0.999) -> bool:
    if len(got) != len(want):
        return False
    g, w = _num(got.reset_index(drop=True)), _num(want.reset_index(drop=True))
    defined = np.isfinite(w)
    if not defined.any():
        return False
    return bool(np.isclose(g[defined], w[defined], rtol=1e-4, atol=1e-8).mean() >= share)


def _same(a: pd.Series, b: pd.Series) -> bool:
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    if len(a) != len(b):
        return False
    if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
        return bool(np.allclose(_num(a), _num(b), equal_nan=True, rtol=1e-9))
    return bool((a.isna() == b.isna()).all() and (a.dropna().astype(str) == b.dropna().astype(str)).all())


def _others_same(before: pd.DataFrame, after: pd.DataFrame, touched: set[str]) -> str | None:
    if len(after) != len(before):
        return f"rows changed from {len(before)} to {len(after)}"
    for c in before.columns:
        if c in touched:
            continue
        if c not in after.columns:
            return f"column {c!r} was removed"
        if not _same(before[c], after[c]):
            return f"column {c!r} was changed"
    return None


def new_values(
    ref: Callable[[pd.DataFrame], pd.Series | list[pd.Series]], in_place: str | None = None
) -> Outcome:
    """A column (new, or `in_place`) holds one of the reference series; nothing else changed."""

    def check(before: pd.DataFrame, after: pd.DataFrame) -> str | None:
        refs = ref(before)
        refs = refs if isinstance(refs, list) else [refs]
        refs = [r.replace([np.inf, -np.inf], np.nan) for r in refs]
        places = [c for c in after.columns if c not in before.columns] + ([in_place] if in_place else [])
        hit = next((c for c in places if c in after.columns for r in refs if _close(after[c], r)), None)
        if hit is None:
            return "no column holds the expected values"
        return _others_same(before, after, {in_place} if in_place else set())

    return check


def frame_like(ref: Callable[[pd.DataFrame], pd.DataFrame]) -> Outcome:
    """`after` has the reference frame's columns, rows and values."""

    def check(before: pd.DataFrame, after: pd.DataFrame) -> str | None:
        want = ref(before)
        if set(map(str, after.columns)) != set(map(str, want.columns)):
            return f"columns differ: {sorted(set(map(str, after.columns)) ^ set(map(str, want.columns)))[:5]}"
        if len(after) != len(want):
            return f"{len(after)} rows, expected {len(want)}"
        for c in want.columns:
            if not _same(after[c], want[c]):
                return f"column {c!r} differs from the expected values"
        return None

    return check


def indicators(col: str) -> Outcome:
    """One-hot: a 0/1 column per category of `col` (one may be left out), rows unchanged."""

    def check(before: pd.DataFrame, after: pd.DataFrame) -> str | None:
        if len(after) != len(before):
            return "rows changed"
        new = [c for c in after.columns if c not in before.columns]
        cats = before[col].dropna().unique()
        found = 0
        for v in cats:
            want = (before[col] == v).astype(float)
            if any(_close(after[c], want, share=1.0) for c in new):
                found += 1
        if found < len(cats) - 1:
            return f"{found} of {len(cats)} categories have an indicator column"
        return _others_same(before, after, {col})

    return check


def datetimes(col: str) -> Outcome:
    def check(before: pd.DataFrame, after: pd.DataFrame) -> str | None:
        if col not in after.columns or not pd.api.types.is_datetime64_any_dtype(after[col]):
            return f"{col!r} is not a datetime column"
        want = pd.to_datetime(before[col], errors="coerce")
        got = after[col].reset_index(drop=True)
        if getattr(got.dt, "tz", None) is not None:
            got = got.dt.tz_localize(None)
        if not (got == want.reset_index(drop=True)).all():
            return f"{col!r} holds other dates"
        return _others_same(before, after, {col})

    return check


def bins(col: str, k: int) -> Outcome:
    def check(before: pd.DataFrame, after: pd.DataFrame) -> str | None:
        if len(after) != len(before):
            return "rows changed"
        x = before[col].reset_index(drop=True)
        for c in [c for c in after.columns if c not in before.columns] + [col]:
            y = after[c].reset_index(drop=True)
            if y.nunique() != k:
                continue
            spans = x.groupby(y.astype(str)).agg(["min", "max"]).sort_values("min")
            if (spans["min"].to_numpy()[1:] > spans["max"].to_numpy()[:-1]).all():
                return _others_same(before, after, {col})
        return f"no column puts {col} into {k} ordered bins"

    return check


def _logs(col: str) -> Callable[[pd.DataFrame], list[pd.Series]]:
    return lambda d: [np.log1p(d[col]), np.log(d[col]), np.log10(d[col])]


def _z(col: str) -> Callable[[pd.DataFrame], list[pd.Series]]:
    return lambda d: [(d[col] - d[col].mean()) / d[col].std(), (d[col] - d[col].mean()) / d[col].std(ddof=0)]


def _diff(a: str, b: str) -> Callable[[pd.DataFrame], list[pd.Series]]:
    return lambda d: [d[a] - d[b], d[b] - d[a], (d[a] - d[b]).abs()]


# --------------------------------------------------------------------------- the requests
R = RequestCase
REQUESTS: list[RequestCase] = [
    # tips
    R(
        "tips",
        "feature",
        "add the ratio of tip to total_bill",
        new_values(lambda d: d["tip"] / d["total_bill"]),
    ),
    R("tips", "clean", "drop the smoker column", frame_like(lambda d: d.drop(columns=["smoker"]))),
    R("tips", "feature", "one-hot encode the day column", indicators("day")),
    R("tips", "clean", "remove rows where size is greater than 4", frame_like(lambda d: d[~(d["size"] > 4)])),
    R(
        "tips",
        "feature",
        "add the bill per person: total_bill divided by size",
        new_values(lambda d: d["total_bill"] / d["size"]),
    ),
    # gapminder
    R("gapminder", "feature", "add the log of pop", new_values(_logs("pop"))),
    R(
        "gapminder",
        "feature",
        "add a gdp column with gdpPercap times pop",
        new_values(lambda d: d["gdpPercap"] * d["pop"]),
    ),
    R("gapminder", "clean", "drop the iso_num column", frame_like(lambda d: d.drop(columns=["iso_num"]))),
    R("gapminder", "feature", "standardize gdpPercap", new_values(_z("gdpPercap"), in_place="gdpPercap")),
    # seattle_weather
    R(
        "seattle_weather",
        "feature",
        "extract the month from date",
        new_values(lambda d: pd.to_datetime(d["date"]).dt.month),
    ),
    R(
        "seattle_weather",
        "feature",
        "add the difference between temp_max and temp_min",
        new_values(_diff("temp_max", "temp_min")),
    ),
    R("seattle_weather", "clean", "convert date to a datetime", datetimes("date")),
    R(
        "seattle_weather",
        "feature",
        "add the year of date",
        new_values(lambda d: pd.to_datetime(d["date"]).dt.year),
    ),
    R(
        "seattle_weather",
        "clean",
        "drop rows where wind is greater than 7",
        frame_like(lambda d: d[~(d["wind"] > 7)]),
    ),
    # cars
    R(
        "cars",
        "clean",
        "drop rows where Horsepower is missing",
        frame_like(lambda d: d.dropna(subset=["Horsepower"])),
    ),
    R(
        "cars",
        "clean",
        "fill missing Horsepower with the mean",
        frame_like(lambda d: d.assign(Horsepower=d["Horsepower"].fillna(d["Horsepower"].mean()))),
    ),
    R(
        "cars",
        "feature",
        "add the ratio of Horsepower to Weight_in_lbs",
        new_values(lambda d: d["Horsepower"] / d["Weight_in_lbs"]),
    ),
    R(
        "cars",
        "clean",
        "lowercase the Name column",
        frame_like(lambda d: d.assign(Name=d["Name"].str.lower())),
    ),
    R("cars", "feature", "bin Acceleration into 4 bins", bins("Acceleration", 4)),
    # diabetes
    R("diabetes", "feature", "add the square of bmi", new_values(lambda d: d["bmi"] ** 2)),
    R(
        "diabetes",
        "clean",
        "rename bp to blood_pressure",
        frame_like(lambda d: d.rename(columns={"bp": "blood_pressure"})),
    ),
    R("diabetes", "feature", "add a column with bmi times age", new_values(lambda d: d["bmi"] * d["age"])),
    # iris
    R(
        "iris",
        "feature",
        "add the ratio of petal length (cm) to petal width (cm)",
        new_values(lambda d: d["petal length (cm)"] / d["petal width (cm)"]),
    ),
    R(
        "iris",
        "clean",
        "rename target to species",
        frame_like(lambda d: d.rename(columns={"target": "species"})),
    ),
    # wine
    R("wine", "feature", "add the log of proline", new_values(_logs("proline"))),
    R(
        "wine",
        "clean",
        "drop the magnesium and ash columns",
        frame_like(lambda d: d.drop(columns=["magnesium", "ash"])),
    ),
    # fair_affairs
    R(
        "fair_affairs",
        "feature",
        "add the ratio of yrs_married to age",
        new_values(lambda d: d["yrs_married"] / d["age"]),
    ),
    R("fair_affairs", "clean", "drop rows where children is 0", frame_like(lambda d: d[d["children"] != 0])),
    # rand_hie
    R(
        "rand_hie",
        "clean",
        "clip disea at 30",
        frame_like(lambda d: d.assign(disea=d["disea"].clip(upper=30))),
    ),
    R(
        "rand_hie",
        "feature",
        "add the sum of hlthg, hlthf and hlthp",
        new_values(lambda d: d["hlthg"] + d["hlthf"] + d["hlthp"]),
    ),
    # anes96
    R("anes96", "clean", "drop the popul column", frame_like(lambda d: d.drop(columns=["popul"]))),
    R(
        "anes96",
        "feature",
        "add the difference between ClinLR and DoleLR",
        new_values(_diff("ClinLR", "DoleLR")),
    ),
    # modechoice
    R(
        "modechoice",
        "clean",
        "uppercase the mode column",
        frame_like(lambda d: d.assign(mode=d["mode"].str.upper())),
    ),
    R("modechoice", "feature", "add the sum of ttme and invt", new_values(lambda d: d["ttme"] + d["invt"])),
]


# --------------------------------------------------------------------------- the questions
Q = QuestionCase
QUESTIONS: list[QuestionCase] = [
    # One case a line: table, question, reference answer, the kind of answer (and the rounding asked).
    Q("tips", "What is the average tip?", lambda d: d["tip"].mean()),
    Q("tips", "How many tables were served at dinner?", lambda d: int((d["time"] == "Dinner").sum()), "count"),
    Q("tips", "Which day has the highest total of bills?", lambda d: d.groupby("day")["total_bill"].sum().idxmax(), "text"),
    Q("tips", "What percentage of the bills were paid by smokers?", lambda d: 100 * (d["smoker"] == "Yes").mean()),
    Q("tips", "Is the average tip larger than 3 dollars?", lambda d: bool(d["tip"].mean() > 3), "bool"),
    Q("gapminder", "How many different countries are in the table?", lambda d: int(d["country"].nunique()), "count"),
    Q("gapminder", "Which country had the highest life expectancy in 2007?", lambda d: d.loc[d.loc[d["year"] == 2007, "lifeExp"].idxmax(), "country"], "text"),
    Q("gapminder", "What is the median gdpPercap?", lambda d: d["gdpPercap"].median()),
    Q("seattle_weather", "How many days had rain as the weather?", lambda d: int((d["weather"] == "rain").sum()), "count"),
    Q("seattle_weather", "What was the highest temp_max?", lambda d: d["temp_max"].max()),
    Q("seattle_weather", "What is the average wind speed, rounded to 2 decimals?", lambda d: round(d["wind"].mean(), 2), decimals=2),
    Q("cars", "How many cars have 8 cylinders?", lambda d: int((d["Cylinders"] == 8).sum()), "count"),
    Q("cars", "What is the average Horsepower of cars from Japan?", lambda d: d.loc[d["Origin"] == "Japan", "Horsepower"].mean()),
    Q("cars", "Which origin has the most cars?", lambda d: d["Origin"].value_counts().idxmax(), "text"),
    Q("diabetes", "What is the mean bmi?", lambda d: d["bmi"].mean()),
    Q("diabetes", "How many patients are older than 60?", lambda d: int((d["age"] > 60).sum()), "count"),
    Q("iris", "What is the largest petal length (cm)?", lambda d: d["petal length (cm)"].max()),
    Q("iris", "How many flowers are of the species setosa?", lambda d: int((d["target"] == "setosa").sum()), "count"),
    Q("wine", "What is the correlation between alcohol and color_intensity?", lambda d: d["alcohol"].corr(d["color_intensity"])),
    Q("fair_affairs", "What share of the people in the survey had an affair?", lambda d: d["had_affair"].mean()),
    Q("rand_hie", "What is the average number of doctor visits (mdvis)?", lambda d: d["mdvis"].mean()),
    Q("anes96", "How many respondents voted for Clinton?", lambda d: int((d["vote"] == "Clinton").sum()), "count"),
    Q("modechoice", "Which travel mode was chosen most often?", lambda d: d.loc[d["choice"] == "yes", "mode"].value_counts().idxmax(), "text"),
    Q("tips", "What are the 3 days with the most bills?", lambda d: set(d["day"].value_counts().index[:3]), "set"),
]  # fmt: skip


def answer_correct(case: QuestionCase, value: Any, frame: pd.DataFrame) -> bool:
    """Does `value` answer the question? Compared with the reference computed on `frame` now."""
    from core.engine.intent_base import decode_value, plain_value

    want = case.reference(frame)
    value = decode_value(value)  # the sandbox sends a Series / frame / array as a tagged dict
    v = plain_value(value)
    if case.kind == "set":
        items = value.index if isinstance(value, pd.Series) and value.dtype.kind in "iuf" else value
        try:
            return {str(x).strip().casefold() for x in items} == {str(x).casefold() for x in want}
        except TypeError:
            return False
    if case.kind == "bool":
        if isinstance(v, str):
            return v.strip().casefold() in (("yes", "true") if want else ("no", "false"))
        return isinstance(v, (bool, np.bool_)) and bool(v) == want
    if case.kind == "text":
        return isinstance(v, str) and v.strip().casefold() == str(want).strip().casefold()
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    if case.kind == "count":
        return float(v) == float(want)
    if case.decimals is not None:
        return abs(v - want) <= 0.5 * 10**-case.decimals + 1e-9
    # A value rounded to two or more decimals without being asked is still the answer (0.55 for 0.5464).
    return bool(np.isclose(v, want, rtol=1e-3, atol=1e-6)) or any(
        abs(v - round(want, d)) < 1e-9 for d in (2, 3, 4)
    )
