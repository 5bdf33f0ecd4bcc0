# ruff: noqa: E501
"""A fourth blind set of analyst questions for `ask`.

Written on 2026-12-02 by a session that did not read the answering engine: 54 questions on 8 tables.
Each spec is (question, expected(df)[, kind[, digits]]); answers are compared by `core.eval_blind_check.correct`.

Tables (name: source; licence):
- nls_young_men: Griliches (1976) NLS Young Men wage sample, 758 men (the GRILIC data of Hayashi's
  Econometrics), bundled with statsmodels as sandbox/regression/tests/griliches76.dta; loaded as float64
  with whole-number columns as integers, floats rounded to the 3 decimals of the source, and the two-digit
  survey year written as a four-digit year; statsmodels BSD-3-Clause, published research data.
- medicare_docvisits: MEPS 2003 sample of adults aged 65+ (doctor visits, insurance, chronic conditions) used in
  chapter 10 of Cameron & Trivedi's Regression Analysis of Count Data (racd10), bundled with statsmodels as sandbox/regression/tests/racd10data_with_transformed.csv, the
  derived columns (logs, squares, rescaled copies, docbin, the physician duplicate of docvis) left out;
  statsmodels BSD-3-Clause, textbook data.
- grad_school_apply: UCLA IDRE ordinal-logistic-regression example (likelihood of applying to graduate
  school, parent education, public college, GPA), bundled with statsmodels as
  miscmodels/tests/results/ologit_ucla.csv; statsmodels BSD-3-Clause, UCLA teaching data.
- euro_elec_equipment: Eurostat euro-area monthly total turnover index for the manufacture of electrical
  equipment, Jan 1995 - May 2016, from statsmodels.datasets.elec_equip (date parsed, column renamed);
  public domain per statsmodels.
- solar_installs: synthetic solar panel installations (640 rows), seeded numpy, generated here; no licence
  restrictions.
- marathon_results: synthetic results of five editions of a city marathon (900 rows), seeded numpy,
  generated here; no licence restrictions.
- dog_adoptions: synthetic dog shelter intakes and outcomes (560 rows), seeded numpy, generated here; no
  licence restrictions.
- coffee_sales: synthetic coffee shop transactions at three stores, Mar-Aug 2025 (2400 rows), seeded numpy,
  generated here; no licence restrictions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels

from core.eval_blind_check import B, D, M, N, P, S, T

_SM = Path(statsmodels.__file__).parent


def _griliches() -> pd.DataFrame:
    raw = pd.read_stata(_SM / "sandbox" / "regression" / "tests" / "griliches76.dta")
    df = raw.astype("float64").round(3)
    for col in df.columns:
        if (df[col] == df[col].round()).all():
            df[col] = df[col].astype("int64")
    df["year"] = df["year"] + 1900
    return df


def _docvisits() -> pd.DataFrame:
    raw = pd.read_csv(_SM / "sandbox" / "regression" / "tests" / "racd10data_with_transformed.csv")
    keep = [
        "age",
        "female",
        "educyr",
        "income",
        "totchr",
        "phylim",
        "actlim",
        "private",
        "medicaid",
        "offer",
        "ssiratio",
        "docvis",
        "nonphysician",
    ]
    return raw[keep].copy()


def _grad_apply() -> pd.DataFrame:
    return pd.read_csv(_SM / "miscmodels" / "tests" / "results" / "ologit_ucla.csv")


def _elec_equip() -> pd.DataFrame:
    raw = pd.read_csv(_SM / "datasets" / "elec_equip" / "elec_equip.csv")
    return pd.DataFrame(
        {
            "date": pd.to_datetime(raw["DATE"], format="%b-%d-%Y"),
            "turnover_index": raw.iloc[:, 1].astype(float),
        }
    )


def _solar() -> pd.DataFrame:
    rng = np.random.default_rng(4101)
    n = 640
    counties = np.array(["Alameda", "Fresno", "Kern", "Marin", "Riverside", "Sonoma"])
    installers = np.array(["SunPeak", "BrightWatt", "Helio Bros", "GreenRoof Co", "Solaris Home"])
    county = rng.choice(counties, n, p=[0.2, 0.18, 0.14, 0.1, 0.24, 0.14])
    installer = rng.choice(installers, n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    owner = rng.choice(["Residential", "Commercial"], n, p=[0.85, 0.15])
    kw = np.where(owner == "Commercial", rng.uniform(20, 120, n), rng.uniform(3, 14, n)).round(2)
    panel_w = rng.choice([370, 400, 430], n)
    panels = np.ceil(kw * 1000 / panel_w).astype(int)
    cost_per_w = {
        "SunPeak": 2.9,
        "BrightWatt": 3.2,
        "Helio Bros": 2.7,
        "GreenRoof Co": 3.6,
        "Solaris Home": 3.0,
    }
    cost = np.array(
        [kw[i] * 1000 * (cost_per_w[installer[i]] + rng.normal(0, 0.25)) for i in range(n)]
    ).round(0)
    battery = np.where(rng.random(n) < np.where(owner == "Commercial", 0.2, 0.38), "Y", "N")
    cost = cost + np.where(battery == "Y", rng.normal(11000, 1500, n).round(0), 0)
    roof = rng.choice(["Shingle", "Tile", "Metal", "Flat"], n, p=[0.45, 0.25, 0.12, 0.18])
    days = rng.integers(0, 365 * 3, n)
    dates = pd.Timestamp("2023-01-01") + pd.to_timedelta(np.sort(days), unit="D")
    sun = {"Alameda": 1450, "Fresno": 1700, "Kern": 1750, "Marin": 1400, "Riverside": 1680, "Sonoma": 1420}
    kwh = np.array([kw[i] * sun[county[i]] * rng.normal(1, 0.06) for i in range(n)]).round(0)
    kwh[rng.random(n) < 0.07] = np.nan
    rebate = np.where(
        owner == "Residential", (kw * rng.choice([0, 150, 250], n, p=[0.3, 0.4, 0.3])).round(0), np.nan
    )
    rebate[rng.random(n) < 0.05] = np.nan
    passed = rng.random(n) < 0.92
    return pd.DataFrame(
        {
            "install_id": [f"SI-{10001 + i}" for i in range(n)],
            "Install Date": dates,
            "County": county,
            "InstallerName": installer,
            "owner_type": owner,
            "system_kw": kw,
            "Panel Count": panels,
            "panel_watts": panel_w,
            "roof_type": roof,
            "battery": battery,
            "Total Cost ($)": cost,
            "rebate_usd": rebate,
            "annual_kwh": kwh,
            "inspection_passed": passed,
        }
    )


def _marathon() -> pd.DataFrame:
    rng = np.random.default_rng(4102)
    n = 900
    editions = {
        2019: "2019-10-13",
        2021: "2021-10-17",
        2022: "2022-10-16",
        2023: "2023-10-15",
        2024: "2024-10-13",
    }
    ed_years = rng.choice(list(editions), n, p=[0.18, 0.12, 0.2, 0.24, 0.26])
    race_date = pd.to_datetime([editions[y] for y in ed_years])
    sex = rng.choice(["M", "F"], n, p=[0.58, 0.42])
    age = np.clip(rng.normal(39, 10, n), 18, 78).astype(int)
    country = rng.choice(
        ["USA", "CAN", "MEX", "GBR", "KEN", "JPN", "DEU"], n, p=[0.55, 0.14, 0.08, 0.07, 0.04, 0.06, 0.06]
    )
    base = np.where(sex == "M", 245.0, 270.0) + np.maximum(age - 35, 0) * 1.6 + rng.normal(0, 28, n)
    base = base - np.where(country == "KEN", 45, 0)
    first = rng.random(n) < 0.27
    base = base + np.where(first, 14, 0)
    net_min = np.clip(base, 128, 420)
    half = net_min * rng.normal(0.475, 0.012, n)
    dnf = rng.random(n) < np.where(first, 0.07, 0.03)
    secs = np.round(net_min * 60).astype(int)
    finish = [
        None if d else f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
        for s, d in zip(secs, dnf, strict=True)
    ]
    half_split = np.where(dnf & (rng.random(n) < 0.5), np.nan, half.round(1))
    club = rng.choice(
        ["Harbor Striders", "Ridge Runners", "Metro Track Club", "Lakeside AC", None],
        n,
        p=[0.12, 0.1, 0.08, 0.1, 0.6],
    )
    corral = rng.choice(["A", "B", "C", "D"], n, p=[0.15, 0.3, 0.35, 0.2])
    df = pd.DataFrame(
        {
            "Bib": rng.choice(np.arange(100, 20000), n, replace=False),
            "RaceDate": race_date,
            "Gender": sex,
            "Age": age,
            "country_code": country,
            "Club": club,
            "start_corral": corral,
            "first_marathon": np.where(first, "Y", "N"),
            "half_split_min": half_split,
            "Finish Time": finish,
            "DNF": dnf.astype(int),
        }
    )
    return df.sort_values(["RaceDate", "Bib"]).reset_index(drop=True)


def _dog_adoptions() -> pd.DataFrame:
    rng = np.random.default_rng(4103)
    n = 560
    intake = pd.Timestamp("2024-01-02") + pd.to_timedelta(rng.integers(0, 640, n), unit="D")
    group = rng.choice(
        ["Terrier", "Hound", "Retriever", "Shepherd", "Toy", "Bully", "Mixed"],
        n,
        p=[0.12, 0.12, 0.1, 0.1, 0.1, 0.16, 0.3],
    )
    sex = rng.choice(["Male", "Female"], n)
    age_m = np.clip(rng.gamma(2.0, 18, n), 2, 180).astype(int)
    size_kg = {"Terrier": 9, "Hound": 25, "Retriever": 30, "Shepherd": 32, "Toy": 4, "Bully": 27, "Mixed": 18}
    weight = np.array([size_kg[g] * rng.normal(1, 0.18) for g in group]) * np.minimum(1, 0.35 + age_m / 18)
    weight = weight.round(1)
    weight[rng.random(n) < 0.06] = np.nan
    shelter = rng.choice(["North Branch", "Eastside", "Downtown"], n, p=[0.3, 0.3, 0.4])
    fee = np.where(age_m < 12, 250, np.where(age_m > 84, 75, 150)).astype(float)
    fee = fee + np.where(group == "Toy", 50, 0)
    outcome = []
    stay = []
    for i in range(n):
        p_adopt = 0.8 if age_m[i] < 24 else (0.45 if age_m[i] > 96 else 0.66)
        if group[i] == "Bully":
            p_adopt -= 0.2
        r = rng.random()
        if r < p_adopt:
            outcome.append("Adopted")
        elif r < p_adopt + 0.1:
            outcome.append("Transferred")
        elif r < p_adopt + 0.18:
            outcome.append("Returned to Owner")
        else:
            outcome.append("In Care")
        base = 8 if age_m[i] < 12 else 22
        stay.append(max(1, int(rng.gamma(2, base / 2) + (12 if group[i] == "Bully" else 0))))
    outcome = np.array(outcome)
    out_date = intake + pd.to_timedelta(stay, unit="D")
    out_date = pd.Series(out_date).where(outcome != "In Care")
    neutered = np.where(rng.random(n) < np.where(age_m > 6, 0.75, 0.2), "yes", "no")
    chip = (rng.random(n) < 0.82).astype(int)
    df = pd.DataFrame(
        {
            "AnimalID": [f"A{700000 + i * 7}" for i in range(n)],
            "intake_date": intake,
            "Outcome Date": out_date,
            "shelter": shelter,
            "BreedGroup": group,
            "Sex": sex,
            "age_months": age_m,
            "Weight (kg)": weight,
            "neutered": neutered,
            "microchipped": chip,
            "adoption_fee": np.where(outcome == "Adopted", fee, np.nan),
            "outcome": outcome,
        }
    )
    return df.sort_values("intake_date").reset_index(drop=True)


def _coffee_sales() -> pd.DataFrame:
    rng = np.random.default_rng(4104)
    n = 2400
    start = pd.Timestamp("2025-03-01 06:00")
    day = rng.integers(0, 184, n)
    hour_w = np.array([6, 14, 11, 8, 6, 6, 7, 6, 5, 5, 4, 3, 2, 1], dtype=float)
    minute = rng.choice(14, n, p=hour_w / hour_w.sum()) * 60 + rng.integers(0, 60, n)
    ts = start + pd.to_timedelta(day, unit="D") + pd.to_timedelta(minute, unit="m")
    ts = ts.sort_values()
    store = rng.choice(["Canal St", "Uptown", "Airport Kiosk"], n, p=[0.42, 0.36, 0.22])
    items = {
        "Latte": 4.6,
        "Espresso": 3.0,
        "Cappuccino": 4.4,
        "Cold Brew": 4.9,
        "Mocha": 5.2,
        "Chai Tea": 4.1,
        "Croissant": 3.6,
        "Blueberry Muffin": 3.4,
    }
    item = rng.choice(list(items), n, p=[0.22, 0.1, 0.14, 0.14, 0.08, 0.08, 0.14, 0.1])
    drink = ~np.isin(item, ["Croissant", "Blueberry Muffin"])
    size = np.where(drink, rng.choice(["S", "M", "L"], n, p=[0.25, 0.45, 0.3]), None)
    up = np.array([items[i] for i in item]) + np.where(size == "M", 0.5, 0) + np.where(size == "L", 1.0, 0)
    up = up * np.where(store == "Airport Kiosk", 1.2, 1.0)
    qty = rng.choice([1, 1, 1, 1, 2, 2, 3], n)
    pay = rng.choice(["card", "cash", "mobile app"], n, p=[0.55, 0.15, 0.3])
    loyal = np.where(rng.random(n) < np.where(pay == "mobile app", 0.8, 0.3), "Y", "N")
    disc = np.where(loyal == "Y", rng.choice([0, 10, 15], n, p=[0.5, 0.35, 0.15]), 0).astype(float)
    disc[rng.random(n) < 0.04] = np.nan
    barista = rng.choice(["JM", "AK", "RT", "LS", "PD", "CW"], n)
    total = (up * qty * (1 - np.nan_to_num(disc) / 100)).round(2)
    return pd.DataFrame(
        {
            "TransactionID": np.arange(50001, 50001 + n),
            "sold_at": ts,
            "Store": store,
            "item": item,
            "cup_size": size,
            "Qty": qty,
            "unit_price": up.round(2),
            "discount_pct": disc,
            "Total": total,
            "payment_method": pay,
            "loyalty_member": loyal,
            "barista": barista,
        }
    )


def _finish_min(d: pd.DataFrame) -> pd.Series:
    """Finish Time ("h:mm:ss", missing for non-finishers) in minutes."""
    return pd.to_timedelta(d["Finish Time"]).dt.total_seconds() / 60


def _stay_days(d: pd.DataFrame) -> pd.Series:
    return (d["Outcome Date"] - d["intake_date"]).dt.days


TABLES: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    "nls_young_men": (
        _griliches,
        "Griliches (1976) NLS Young Men, statsmodels test data griliches76.dta; statsmodels BSD-3-Clause, published research data",
    ),
    "medicare_docvisits": (
        _docvisits,
        "Cameron & Trivedi MEPS 2003 doctor visits, statsmodels test data racd10data_with_transformed.csv; statsmodels BSD-3-Clause, textbook data",
    ),
    "grad_school_apply": (
        _grad_apply,
        "UCLA IDRE ordinal logit example, statsmodels test data ologit_ucla.csv; statsmodels BSD-3-Clause, UCLA teaching data",
    ),
    "euro_elec_equipment": (
        _elec_equip,
        "Eurostat electrical equipment turnover index, statsmodels.datasets.elec_equip; public domain",
    ),
    "solar_installs": (_solar, "synthetic, seeded numpy, generated in this file; no licence restrictions"),
    "marathon_results": (
        _marathon,
        "synthetic, seeded numpy, generated in this file; no licence restrictions",
    ),
    "dog_adoptions": (
        _dog_adoptions,
        "synthetic, seeded numpy, generated in this file; no licence restrictions",
    ),
    "coffee_sales": (
        _coffee_sales,
        "synthetic, seeded numpy, generated in this file; no licence restrictions",
    ),
}

# fmt: off
SPECS: dict[str, list[tuple]] = {
    "nls_young_men": [
        ("How many men scored more than 120 on the IQ test?", lambda d: int((d["iq"] > 120).sum())),
        ("count of respondents who were married (mrt=1) and living in the South (rns=1) at the first survey", lambda d: int(((d["mrt"] == 1) & (d["rns"] == 1)).sum())),
        ("avg log wage (lw) for guys with exactly 16 years of schooling? 3 decimals", lambda d: float(d.loc[d["s"] == 16, "lw"].mean()), N, 3),
        ("Which survey year has the most respondents?", lambda d: int(d["year"].value_counts().idxmax())),
        ("Give me the correlation between IQ and years of schooling (s), rounded to 2 decimals.", lambda d: float(d["iq"].corr(d["s"])), N, 2),
        ("Do men who live in a metropolitan area (smsa = 1) have a higher mean log wage than men who don't?", lambda d: bool(d.loc[d["smsa"] == 1, "lw"].mean() > d.loc[d["smsa"] == 0, "lw"].mean()), B),
        ("What percent of the men had more years of schooling in 1980 (s80) than at the first interview (s)? One decimal.", lambda d: float((d["s80"] > d["s"]).mean() * 100), P, 1),
    ],
    "medicare_docvisits": [
        ("How many people had zero doctor visits?", lambda d: int((d["docvis"] == 0).sum())),
        ("share of respondents with 20 or more doctor visits, in %, 1 dp", lambda d: float((d["docvis"] >= 20).mean() * 100), P, 1),
        ("What's the mean number of doctor visits for people with three or more chronic conditions (totchr)? Round to 2 decimals.", lambda d: float(d.loc[d["totchr"] >= 3, "docvis"].mean()), N, 2),
        ("Is the median number of doctor visits higher for people with private supplementary insurance than for people without it?", lambda d: bool(d.loc[d["private"] == 1, "docvis"].median() > d.loc[d["private"] == 0, "docvis"].median()), B),
        ("corr between docvis and totchr? 3 decimals please", lambda d: float(d["docvis"].corr(d["totchr"])), N, 3),
        ("How many women aged 80 or older are in the data?", lambda d: int(((d["female"] == 1) & (d["age"] >= 80)).sum())),
        ("Which years-of-education value (educyr) has the highest median income?", lambda d: int(d.groupby("educyr")["income"].median().idxmax())),
    ],
    "grad_school_apply": [
        ("How many students said they are very likely to apply to grad school?", lambda d: int((d["apply"] == "very likely").sum())),
        ("Of the students with a parent who has a graduate degree (pared = 1), what percentage answered 'very likely'? Round to one decimal.", lambda d: float((d.loc[d["pared"] == 1, "apply"] == "very likely").mean() * 100), P, 1),
        ("Which apply answer has the lowest mean GPA?", lambda d: str(d.groupby("apply")["gpa"].mean().idxmin()), T),
        ("Are GPAs higher on average for students from public undergrad schools than for those from private ones?", lambda d: bool(d.loc[d["public"] == 1, "gpa"].mean() > d.loc[d["public"] == 0, "gpa"].mean()), B),
        ("number of students from a public college with a gpa above 3.5", lambda d: int(((d["public"] == 1) & (d["gpa"] > 3.5)).sum())),
        ("What's the top GPA among students who said 'unlikely'?", lambda d: float(d.loc[d["apply"] == "unlikely", "gpa"].max())),
    ],
    "euro_elec_equipment": [
        ("When did the turnover index reach its all-time high? Give the month.", lambda d: d.loc[d["turnover_index"].idxmax(), "date"].date(), D),
        ("Which calendar month is the weakest on average across all years?", lambda d: int(d.groupby(d["date"].dt.month)["turnover_index"].mean().idxmin()), M),
        ("Which year had the highest average turnover index?", lambda d: int(d.groupby(d["date"].dt.year)["turnover_index"].mean().idxmax())),
        ("How many months had an index value above 100?", lambda d: int((d["turnover_index"] > 100).sum())),
        ("Percent change in the index from January 2008 to January 2009? 1 decimal, negative if it fell", lambda d: float((d.set_index("date").loc["2009-01-01", "turnover_index"] / d.set_index("date").loc["2008-01-01", "turnover_index"] - 1) * 100), P, 1),
        ("average index in 2009, 1 dp", lambda d: float(d.loc[d["date"].dt.year == 2009, "turnover_index"].mean()), N, 1),
    ],
    "solar_installs": [
        ("How many installations included battery storage?", lambda d: int((d["battery"] == "Y").sum())),
        ("Which installer has the lowest median job cost (Total Cost per install)?", lambda d: str(d.groupby("InstallerName")["Total Cost ($)"].median().idxmin()), T),
        ("Which county produces the most annual kWh in total?", lambda d: str(d.groupby("County")["annual_kwh"].sum().idxmax()), T),
        ("Across all years, which month of the year had the most installs?", lambda d: int(d["Install Date"].dt.month.value_counts().idxmax()), M),
        ("How many residential installs from 2024 failed inspection?", lambda d: int(((d["owner_type"] == "Residential") & (d["Install Date"].dt.year == 2024) & ~d["inspection_passed"]).sum())),
        ("What's GreenRoof Co's average cost per watt? Take Total Cost ($) / (system_kw * 1000) for each of their installs and average it; 2 decimals.", lambda d: float((d["Total Cost ($)"] / (d["system_kw"] * 1000))[d["InstallerName"] == "GreenRoof Co"].mean()), N, 2),
        ("busiest weekday for installs?", lambda d: str(d["Install Date"].dt.day_name().value_counts().idxmax()), T),
    ],
    "marathon_results": [
        ("How many runners finished in under 4 hours?", lambda d: int((_finish_min(d) < 240).sum())),
        ("What's the median finish time for women, in minutes? Round to 1 decimal.", lambda d: float(_finish_min(d)[d["Gender"] == "F"].median()), N, 1),
        ("Which country's runners have the fastest mean finish time?", lambda d: str(_finish_min(d).groupby(d["country_code"]).mean().idxmin()), T),
        ("what % of first-time marathoners DNF'd? 1 dp", lambda d: float(d.loc[d["first_marathon"] == "Y", "DNF"].mean() * 100), P, 1),
        ("Which race date had the biggest field (most entrants)?", lambda d: d["RaceDate"].value_counts().idxmax().date(), D),
        ("How many runners have no club listed?", lambda d: int(d["Club"].isna().sum())),
        ("How many finishers ran a negative split, i.e. their second half (finish time minus half_split_min) was faster than their first half?", lambda d: int(((_finish_min(d) - d["half_split_min"]) < d["half_split_min"]).sum())),
    ],
    "dog_adoptions": [
        ("How many dogs are still in care?", lambda d: int((d["outcome"] == "In Care").sum())),
        ("Which breed group has the lowest adoption rate (share of its dogs with outcome Adopted)?", lambda d: str((d["outcome"] == "Adopted").groupby(d["BreedGroup"]).mean().idxmin()), T),
        ("median length of stay in days (Outcome Date minus intake_date) for adopted dogs", lambda d: float(_stay_days(d)[d["outcome"] == "Adopted"].median())),
        ("Total adoption fees collected at the Downtown shelter?", lambda d: float(d.loc[d["shelter"] == "Downtown", "adoption_fee"].sum())),
        ("How many dogs were taken in during 2025?", lambda d: int((d["intake_date"].dt.year == 2025).sum())),
        ("How many dogs are both neutered and microchipped?", lambda d: int(((d["neutered"] == "yes") & (d["microchipped"] == 1)).sum())),
        ("Of the dogs that were 8 years or older at intake, what percent got adopted? 1 decimal", lambda d: float((d.loc[d["age_months"] >= 96, "outcome"] == "Adopted").mean() * 100), P, 1),
    ],
    "coffee_sales": [
        ("Which store brought in the most revenue?", lambda d: str(d.groupby("Store")["Total"].sum().idxmax()), T),
        ("What hour of the day has the most transactions?", lambda d: int(d["sold_at"].dt.hour.value_counts().idxmax())),
        ("top 3 items by units sold", lambda d: d.groupby("item")["Qty"].sum().nlargest(3).index.tolist(), S),
        ("Which month had the highest total sales?", lambda d: int(d.groupby(d["sold_at"].dt.month)["Total"].sum().idxmax()), M),
        ("On which date was total revenue highest, all stores combined?", lambda d: d.groupby(d["sold_at"].dt.date)["Total"].sum().idxmax(), D),
        ("Is the average transaction total lower for loyalty members than for non-members?", lambda d: bool(d.loc[d["loyalty_member"] == "Y", "Total"].mean() < d.loc[d["loyalty_member"] == "N", "Total"].mean()), B),
        ("On how many distinct days did the Airport Kiosk make at least one sale?", lambda d: int(d.loc[d["Store"] == "Airport Kiosk", "sold_at"].dt.date.nunique())),
    ],
}
# fmt: on
