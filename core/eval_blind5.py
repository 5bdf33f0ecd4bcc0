# ruff: noqa: E501
"""A fifth blind set of analyst questions for `ask`.

Written on 2026-12-02 by a session that did not read the answering engine: 54 questions on 8 tables.
Each spec is (question, expected(df)[, kind[, digits]]); answers are compared by `core.eval_blind_check.correct`.

Tables (name: source; licence):
- us_housing_starts: US Census Bureau new privately-owned housing units started, monthly, not seasonally
  adjusted, thousands of units (FRED series HOUSTNSA), Jan 1959 - Jun 2018, bundled with statsmodels as
  tsa/holtwinters/tests/results/housing-data.csv (DATE parsed as a date, column names kept); US government
  data, public domain; file shipped under statsmodels' BSD-3-Clause.
- marrow_transplants: bone marrow transplant disease-free survival of 137 leukaemia patients (Copelan et al.
  1991, Klein & Moeschberger's Survival Analysis table 1.3: disease group, days T, Status 1 = death or
  relapse), bundled with statsmodels as duration/tests/results/bmt.csv (as shipped); statsmodels BSD-3-Clause,
  textbook data.
- ship_damage: McCullagh & Nelder (1989) wave damage to cargo ships (Lloyd's Register data, R MASS `ships`),
  bundled with statsmodels as discrete/tests/results/ships.csv; the coded ship type, construction period and
  operation period written out as labels (A-E, "1960-64" .., "1960-74"/"1975-79"), the dummy columns left
  out and the rows without service data kept as missing; statsmodels BSD-3-Clause, MASS GPL-2/3, textbook data.
- west_german_macro: West German quarterly fixed investment, disposable income and consumption
  expenditure, billions of DM, 1960Q1-1982Q4 (Lütkepohl's New Introduction to Multiple Time Series Analysis,
  file E1), bundled with statsmodels as tsa/tests/results/lutkepohl2.dta; the log and difference columns
  left out, the three levels as int64; statsmodels BSD-3-Clause, textbook data.
- hotel_bookings: synthetic bookings at four hotels, 2023-2025 (1800 rows), seeded numpy (seed 5101),
  generated here; no licence restrictions.
- bike_share_trips: synthetic bike-share trips, Apr-Sep 2025 (3200 rows), seeded numpy (seed 5102),
  generated here; no licence restrictions.
- staff_roster: synthetic HR roster of a company's employees, hires 2012-2025 (420 rows), seeded numpy
  (seed 5103), generated here; no licence restrictions.
- parking_citations: synthetic city parking tickets, Jan-Oct 2025 (2600 rows), seeded numpy (seed 5104),
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


def _housing() -> pd.DataFrame:
    raw = pd.read_csv(_SM / "tsa" / "holtwinters" / "tests" / "results" / "housing-data.csv")
    return pd.DataFrame({"DATE": pd.to_datetime(raw["DATE"]), "HOUSTNSA": raw["HOUSTNSA"].astype(float)})


def _marrow() -> pd.DataFrame:
    return pd.read_csv(_SM / "duration" / "tests" / "results" / "bmt.csv")


def _ships() -> pd.DataFrame:
    raw = pd.read_csv(_SM / "discrete" / "tests" / "results" / "ships.csv")
    built = {1: "1960-64", 2: "1965-69", 3: "1970-74", 4: "1975-79"}
    return pd.DataFrame(
        {
            "ship_type": raw["ship"].map(dict(enumerate("ABCDE", start=1))),
            "year_built": raw["yr_con"].map(built),
            "period_of_operation": raw["yr_op"].map({1: "1960-74", 2: "1975-79"}),
            "months_service": raw["service"],
            "damage_incidents": raw["accident"],
        }
    )


def _west_german() -> pd.DataFrame:
    raw = pd.read_stata(_SM / "tsa" / "tests" / "results" / "lutkepohl2.dta")
    df = raw[["qtr", "inv", "inc", "consump"]].copy()
    for col in ("inv", "inc", "consump"):
        df[col] = df[col].astype("int64")
    return df


def _hotel_bookings() -> pd.DataFrame:
    rng = np.random.default_rng(5101)
    n = 1800
    hotels = np.array(["Harbor View", "City Center", "Airport Inn", "Lakeside Resort"])
    hotel = rng.choice(hotels, n, p=[0.3, 0.3, 0.2, 0.2])
    room = rng.choice(["Standard", "Deluxe", "Suite"], n, p=[0.6, 0.3, 0.1])
    booked = pd.Timestamp("2023-11-01") + pd.to_timedelta(np.sort(rng.integers(0, 640, n)), unit="D")
    lead = np.minimum(rng.exponential(40, n).astype(int), 300)
    arrival = booked + pd.to_timedelta(lead, unit="D")
    stay_mean = {"Airport Inn": 0.6, "City Center": 1.5, "Harbor View": 2.0, "Lakeside Resort": 3.5}
    nights = 1 + rng.poisson([stay_mean[h] for h in hotel])
    base = {"Airport Inn": 120, "City Center": 180, "Harbor View": 210, "Lakeside Resort": 250}
    mult = {"Standard": 1.0, "Deluxe": 1.4, "Suite": 2.2}
    weekend = np.isin(arrival.dayofweek, [4, 5])
    adr = np.array(
        [
            base[hotel[i]] * mult[room[i]] * (1.1 if weekend[i] else 1.0) * rng.normal(1, 0.08)
            for i in range(n)
        ]
    ).round(2)
    channel = rng.choice(["Direct", "OTA", "Travel Agent", "Corporate"], n, p=[0.3, 0.4, 0.15, 0.15])
    p_cancel = 0.15 + 0.12 * (channel == "OTA") + 0.1 * (lead > 60) - 0.07 * (channel == "Corporate")
    canceled = np.where(rng.random(n) < p_cancel, "Yes", "No")
    country = rng.choice(
        ["US", "CA", "GB", "DE", "FR", "MX", "JP"], n, p=[0.45, 0.12, 0.12, 0.1, 0.08, 0.08, 0.05]
    ).astype(object)
    country[rng.random(n) < 0.04] = None
    tier = rng.choice(["Silver", "Gold", "Platinum"], n, p=[0.5, 0.35, 0.15]).astype(object)
    tier[rng.random(n) < 0.55] = None
    review = rng.normal(8.1, 1.2, n).clip(1, 10).round(1)
    review[(canceled == "Yes") | (rng.random(n) < 0.3)] = np.nan
    return pd.DataFrame(
        {
            "booking_id": [f"BK{240001 + i}" for i in range(n)],
            "Hotel": hotel,
            "room_type": room,
            "Booked On": booked,
            "arrival_date": arrival,
            "nights": nights,
            "adults": rng.choice([1, 2, 3, 4], n, p=[0.3, 0.55, 0.1, 0.05]),
            "children": rng.choice([0, 1, 2], n, p=[0.75, 0.15, 0.1]),
            "ADR": adr,
            "channel": channel,
            "is_canceled": canceled,
            "guest_country": country,
            "loyalty_tier": tier,
            "special_requests": rng.poisson(0.7, n),
            "review_score": review,
        }
    )


def _bike_trips() -> pd.DataFrame:
    rng = np.random.default_rng(5102)
    n = 3200
    stations = np.array(
        ["Union Square", "Riverside Park", "Central Station", "Oak & 5th", "University Ave", "Market Hall",
         "Harbor Pier", "City Library", "Elm Street"]
    )  # fmt: skip
    days = rng.integers(0, 183, n)
    hour_p = np.array([1, 1, 1, 1, 1, 2, 4, 8, 9, 6, 5, 5, 6, 6, 6, 7, 9, 10, 8, 6, 4, 3, 2, 1], dtype=float)
    hours = rng.choice(24, n, p=hour_p / hour_p.sum())
    start = (
        pd.Timestamp("2025-04-01")
        + pd.to_timedelta(days, unit="D")
        + pd.to_timedelta(hours, unit="h")
        + pd.to_timedelta(rng.integers(0, 3600, n), unit="s")
    )
    order = np.argsort(start.values)
    start = start[order]
    rider = rng.choice(["member", "casual"], n, p=[0.65, 0.35])
    bike = rng.choice(["classic", "electric"], n, p=[0.6, 0.4])
    minutes = rng.lognormal(np.log(np.where(rider == "member", 11, 22)), 0.55) * np.where(
        bike == "electric", 0.8, 1.0
    )
    secs = np.maximum((minutes * 60).round(), 60).astype(int)
    end = start + pd.to_timedelta(secs, unit="s")
    s_idx = rng.choice(len(stations), n, p=[0.16, 0.1, 0.2, 0.08, 0.12, 0.1, 0.09, 0.08, 0.07])
    e_idx = np.where(rng.random(n) < 0.08, s_idx, rng.integers(0, len(stations), n))
    speed = np.where(bike == "electric", 17, 12) * rng.normal(1, 0.15, n)
    dist = (speed * secs / 3600).round(2)
    dist[rng.random(n) < 0.05] = np.nan
    mins = secs / 60
    fare = np.where(
        rider == "member",
        np.where(bike == "electric", 0.17 * mins, np.maximum(mins - 45, 0) * 0.15),
        1.0 + np.where(bike == "electric", 0.39, 0.17) * mins,
    ).round(2)
    return pd.DataFrame(
        {
            "trip_id": [f"T{700001 + i}" for i in range(n)],
            "started_at": start,
            "ended_at": end,
            "start_station": stations[s_idx],
            "end_station": stations[e_idx],
            "rider_type": rider,
            "bike_type": bike,
            "distance_km": dist,
            "fare_usd": fare,
        }
    )


def _staff_roster() -> pd.DataFrame:
    rng = np.random.default_rng(5103)
    n = 420
    depts = ["Engineering", "Sales", "Marketing", "Finance", "HR", "Operations", "Customer Support"]
    dept = rng.choice(depts, n, p=[0.28, 0.18, 0.1, 0.08, 0.05, 0.13, 0.18])
    level = rng.choice(["Junior", "Mid", "Senior", "Lead"], n, p=[0.3, 0.35, 0.25, 0.1])
    hire = pd.Timestamp("2012-01-02") + pd.to_timedelta(rng.permutation(4930)[:n], unit="D")
    quit_p = {"Engineering": 0.22, "Sales": 0.4, "Marketing": 0.3, "Finance": 0.15, "HR": 0.2,
              "Operations": 0.28, "Customer Support": 0.45}  # fmt: skip
    left = rng.random(n) < np.array([quit_p[d] for d in dept])
    term = hire + pd.to_timedelta(rng.integers(90, 2500, n), unit="D")
    term = pd.Series(term).where(left & (term <= pd.Timestamp("2025-10-31")))
    base = {"Engineering": 118000, "Sales": 78000, "Marketing": 82000, "Finance": 95000, "HR": 72000,
            "Operations": 70000, "Customer Support": 52000}  # fmt: skip
    lvl = {"Junior": 0.75, "Mid": 1.0, "Senior": 1.3, "Lead": 1.6}
    office = rng.choice(["Austin", "Denver", "Boston", "Remote"], n, p=[0.35, 0.2, 0.25, 0.2])
    office_adj = {"Austin": 1.0, "Denver": 0.97, "Boston": 1.08, "Remote": 0.95}
    salary = np.array(
        [base[dept[i]] * lvl[level[i]] * office_adj[office[i]] * rng.normal(1, 0.07) for i in range(n)]
    ).round(-2)
    etype = np.where(
        rng.random(n) < np.where(dept == "Customer Support", 0.3, 0.06), "Part-time", "Full-time"
    )
    rating = rng.choice([1, 2, 3, 4, 5], n, p=[0.04, 0.12, 0.42, 0.3, 0.12]).astype(float)
    rating[hire > pd.Timestamp("2025-01-01")] = np.nan
    return pd.DataFrame(
        {
            "EmpID": [f"E{1000 + i}" for i in range(n)],
            "Department": dept,
            "Level": level,
            "Hire Date": hire,
            "Termination Date": term.to_numpy(),
            "Annual Salary": salary,
            "bonus_pct": np.where(dept == "Sales", rng.uniform(8, 20, n), rng.uniform(0, 10, n)).round(1),
            "Office": office,
            "employment_type": etype,
            "perf_rating": rating,
        }
    )


def _parking() -> pd.DataFrame:
    rng = np.random.default_rng(5104)
    n = 2600
    fines = {"Expired Meter": 45, "Street Cleaning": 73, "No Parking Zone": 60, "Fire Hydrant": 110,
             "Double Parking": 95, "Residential Permit": 80}  # fmt: skip
    violation = rng.choice(list(fines), n, p=[0.32, 0.24, 0.14, 0.06, 0.1, 0.14])
    hoods = ["Mission", "Sunset", "Marina", "SoMa", "Richmond", "Nob Hill"]
    hood = rng.choice(hoods, n, p=[0.22, 0.15, 0.14, 0.2, 0.13, 0.16])
    day_w = np.array([0.6 if d.dayofweek == 6 else 1.0 for d in pd.date_range("2025-01-01", "2025-10-31")])
    days = rng.choice(len(day_w), n, p=day_w / day_w.sum())
    issued = (
        pd.Timestamp("2025-01-01")
        + pd.to_timedelta(days, unit="D")
        + pd.to_timedelta(rng.integers(7 * 60, 20 * 60, n), unit="min")
    )
    issued = issued[np.argsort(issued.values)]
    state = rng.choice(["CA", "NV", "OR", "AZ", "WA", "TX"], n, p=[0.8, 0.05, 0.05, 0.04, 0.03, 0.03]).astype(
        object
    )
    state[rng.random(n) < 0.03] = None
    make = rng.choice(["Toyota", "Honda", "Ford", "Tesla", "Chevrolet", "Subaru", "BMW"], n)
    status = rng.choice(["Paid", "Open", "Dismissed"], n, p=[0.68, 0.24, 0.08])
    delay = rng.integers(1, 60, n)
    paid_date = pd.Series(issued.normalize() + pd.to_timedelta(delay, unit="D")).where(status == "Paid")
    fine = np.array([fines[v] for v in violation], dtype=float)
    paid_amt = np.where(status == "Paid", fine + np.where(delay > 21, 25, 0), np.nan)
    return pd.DataFrame(
        {
            "Citation #": [f"PC-{25000001 + i}" for i in range(n)],
            "issued_at": issued,
            "Violation": violation,
            "Fine": fine,
            "Neighborhood": hood,
            "plate_state": state,
            "vehicle_make": make,
            "Status": status,
            "paid_date": paid_date.to_numpy(),
            "amount_paid": paid_amt,
        }
    )


def _annual(d: pd.DataFrame) -> pd.Series:
    return d.groupby(d["DATE"].dt.year)["HOUSTNSA"].sum()


def _trip_min(d: pd.DataFrame) -> pd.Series:
    return (d["ended_at"] - d["started_at"]).dt.total_seconds() / 60


TABLES: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    "us_housing_starts": (
        _housing,
        "US Census Bureau housing starts (FRED HOUSTNSA) 1959-2018, statsmodels test data housing-data.csv; public domain, shipped under BSD-3-Clause",
    ),
    "marrow_transplants": (
        _marrow,
        "Copelan et al. (1991) bone marrow transplant data (Klein & Moeschberger), statsmodels test data bmt.csv; statsmodels BSD-3-Clause, textbook data",
    ),
    "ship_damage": (
        _ships,
        "McCullagh & Nelder ship damage incidents (MASS `ships`), statsmodels test data ships.csv; statsmodels BSD-3-Clause, MASS GPL-2/3",
    ),
    "west_german_macro": (
        _west_german,
        "Lütkepohl West German investment/income/consumption 1960-1982, statsmodels test data lutkepohl2.dta; statsmodels BSD-3-Clause, textbook data",
    ),
    "hotel_bookings": (
        _hotel_bookings,
        "synthetic, seeded numpy (seed 5101), generated in this file; no licence restrictions",
    ),
    "bike_share_trips": (
        _bike_trips,
        "synthetic, seeded numpy (seed 5102), generated in this file; no licence restrictions",
    ),
    "staff_roster": (
        _staff_roster,
        "synthetic, seeded numpy (seed 5103), generated in this file; no licence restrictions",
    ),
    "parking_citations": (
        _parking,
        "synthetic, seeded numpy (seed 5104), generated in this file; no licence restrictions",
    ),
}

# fmt: off
SPECS: dict[str, list[tuple]] = {
    "us_housing_starts": [
        ("When did housing starts hit their all-time peak? Give the month.", lambda d: d.loc[d["HOUSTNSA"].idxmax(), "DATE"].date(), D),
        ("In which single month (month and year) were housing starts lowest on record?", lambda d: d.loc[d["HOUSTNSA"].idxmin(), "DATE"].date(), D),
        ("total housing starts in 2005 (thousands of units), 1 decimal", lambda d: float(d.loc[d["DATE"].dt.year == 2005, "HOUSTNSA"].sum()), N, 1),
        ("Which year had the lowest average monthly starts?", lambda d: int(d.groupby(d["DATE"].dt.year)["HOUSTNSA"].mean().idxmin())),
        ("How many months saw more than 200k starts?", lambda d: int((d["HOUSTNSA"] > 200).sum())),
        ("Averaged over all the years, what's the typical (mean) level of starts in May? round to 1 dp", lambda d: float(d.loc[d["DATE"].dt.month == 5, "HOUSTNSA"].mean()), N, 1),
        ("% change in full-year housing starts from 2006 to 2009? one decimal, negative if they fell", lambda d: float((_annual(d)[2009] / _annual(d)[2006] - 1) * 100), P, 1),
    ],
    "marrow_transplants": [
        ("How many patients are in the high-risk AML group?", lambda d: int((d["Group"] == "AML-High Risk").sum())),
        ("What share of the ALL patients died or relapsed? percent, 1 decimal", lambda d: float(d.loc[d["Group"] == "ALL", "Status"].mean() * 100), P, 1),
        ("Which disease group has the longest median time T?", lambda d: str(d.groupby("Group")["T"].median().idxmax()), T),
        ("mean follow-up in days for the censored patients (status 0), rounded to a whole day", lambda d: float(d.loc[d["Status"] == 0, "T"].mean()), N, 0),
        ("How many patients were followed for more than two years (T > 730 days) with no death or relapse?", lambda d: int(((d["T"] > 730) & (d["Status"] == 0)).sum())),
        ("Is the average T in the AML low-risk group more than double the average T in the AML high-risk group?", lambda d: bool(d.loc[d["Group"] == "AML-Low Risk", "T"].mean() > 2 * d.loc[d["Group"] == "AML-High Risk", "T"].mean()), B),
    ],
    "ship_damage": [
        ("Which ship type had the most damage incidents overall?", lambda d: str(d.groupby("ship_type")["damage_incidents"].sum().idxmax()), T),
        ("fleet-wide incidents per 1,000 months of service, 2 decimals", lambda d: float(d["damage_incidents"].sum() / d["months_service"].sum() * 1000), N, 2),
        ("For type E ships, which construction period had the most incidents?", lambda d: str(d[d["ship_type"] == "E"].groupby("year_built")["damage_incidents"].sum().idxmax()), T),
        ("Were there more damage incidents in the 1975-79 operating period than in 1960-74?", lambda d: bool(d.loc[d["period_of_operation"] == "1975-79", "damage_incidents"].sum() > d.loc[d["period_of_operation"] == "1960-74", "damage_incidents"].sum()), B),
        ("Which ship type has the highest damage rate, i.e. total incidents divided by total months in service?", lambda d: str((d.groupby("ship_type")["damage_incidents"].sum() / d.groupby("ship_type")["months_service"].sum()).idxmax()), T),
        ("how many rows are missing the service months?", lambda d: int(d["months_service"].isna().sum())),
    ],
    "west_german_macro": [
        ("What was average quarterly consumption in 1978? 1 dp", lambda d: float(d.loc[d["qtr"].dt.year == 1978, "consump"].mean()), N, 1),
        ("In which quarter did income first go above 2000?", lambda d: d.loc[d["inc"] > 2000, "qtr"].min().date(), D),
        ("How many quarters did investment fall from the previous quarter?", lambda d: int((d["inv"].diff() < 0).sum())),
        ("What was the saving rate, 1 minus consumption over income, in the final quarter of 1982? as a %, 2 decimals", lambda d: float((1 - d.loc[d["qtr"] == "1982-10-01", "consump"].iloc[0] / d.loc[d["qtr"] == "1982-10-01", "inc"].iloc[0]) * 100), P, 2),
        ("By how many percent did disposable income grow between 1960 Q1 and 1982 Q4? Round to 1 decimal.", lambda d: float((d["inc"].iloc[-1] / d["inc"].iloc[0] - 1) * 100), P, 1),
        ("Which year had the largest total investment?", lambda d: int(d.groupby(d["qtr"].dt.year)["inv"].sum().idxmax())),
        ("avg ratio of investment to income over all quarters, 3 decimals", lambda d: float((d["inv"] / d["inc"]).mean()), N, 3),
    ],
    "hotel_bookings": [
        ("What percentage of bookings got cancelled? 1 decimal", lambda d: float((d["is_canceled"] == "Yes").mean() * 100), P, 1),
        ("Which hotel charges the highest average daily rate for suites?", lambda d: str(d[d["room_type"] == "Suite"].groupby("Hotel")["ADR"].mean().idxmax()), T),
        ("avg length of stay for non-cancelled bookings made through online travel agencies, 2 dp", lambda d: float(d.loc[(d["channel"] == "OTA") & (d["is_canceled"] == "No"), "nights"].mean()), N, 2),
        ("How many bookings had an arrival date in July 2025?", lambda d: int(((d["arrival_date"].dt.year == 2025) & (d["arrival_date"].dt.month == 7)).sum())),
        ("Room revenue (rate x nights) at Lakeside Resort from stays arriving in 2024 that weren't cancelled, to the nearest dollar", lambda d: float((d["ADR"] * d["nights"])[(d["Hotel"] == "Lakeside Resort") & (d["arrival_date"].dt.year == 2024) & (d["is_canceled"] == "No")].sum()), N, 0),
        ("What's the median lead time in days between booking and arrival?", lambda d: float((d["arrival_date"] - d["Booked On"]).dt.days.median())),
        ("How many Gold or Platinum members booked a deluxe room?", lambda d: int((d["loyalty_tier"].isin(["Gold", "Platinum"]) & (d["room_type"] == "Deluxe")).sum())),
    ],
    "bike_share_trips": [
        ("How many rides did casual riders take on e-bikes?", lambda d: int(((d["rider_type"] == "casual") & (d["bike_type"] == "electric")).sum())),
        ("Average ride length in minutes for members? 1 decimal", lambda d: float(_trip_min(d)[d["rider_type"] == "member"].mean()), N, 1),
        ("top 3 stations people start trips from", lambda d: d["start_station"].value_counts().nlargest(3).index.tolist(), S),
        ("Which month had the most rides?", lambda d: int(d["started_at"].dt.month.value_counts().idxmax()), M),
        ("What share of trips ended at the same station they started from? In %, 2 decimals.", lambda d: float((d["start_station"] == d["end_station"]).mean() * 100), P, 2),
        ("total fares paid by casual riders in August, 2 dp", lambda d: float(d.loc[(d["rider_type"] == "casual") & (d["started_at"].dt.month == 8), "fare_usd"].sum()), N, 2),
        ("On weekends, what hour of the day do the most rides start?", lambda d: int(d.loc[d["started_at"].dt.dayofweek >= 5, "started_at"].dt.hour.value_counts().idxmax())),
    ],
    "staff_roster": [
        ("How many people still work here (no termination date)?", lambda d: int(d["Termination Date"].isna().sum())),
        ("median salary of current engineering staff", lambda d: float(d.loc[(d["Department"] == "Engineering") & d["Termination Date"].isna(), "Annual Salary"].median())),
        ("Which department has the highest attrition rate, meaning the share of its employees who have left?", lambda d: str(d["Termination Date"].notna().groupby(d["Department"]).mean().idxmax()), T),
        ("How many employees were hired in 2021?", lambda d: int((d["Hire Date"].dt.year == 2021).sum())),
        ("What's the average performance rating of senior-level people? 2 decimals", lambda d: float(d.loc[d["Level"] == "Senior", "perf_rating"].mean()), N, 2),
        ("Percentage of part-timers in customer support, 1 dp", lambda d: float((d.loc[d["Department"] == "Customer Support", "employment_type"] == "Part-time").mean() * 100), P, 1),
        ("Who's the longest-tenured employee still with us? employee id please", lambda d: str(d.loc[d.loc[d["Termination Date"].isna(), "Hire Date"].idxmin(), "EmpID"]), T),
    ],
    "parking_citations": [
        ("What's the most common violation?", lambda d: str(d["Violation"].value_counts().idxmax()), T),
        ("Total fines issued in Q1 2025?", lambda d: float(d.loc[d["issued_at"].dt.quarter == 1, "Fine"].sum())),
        ("What percent of tickets have been paid? 1 decimal", lambda d: float((d["Status"] == "Paid").mean() * 100), P, 1),
        ("how many street cleaning tix went to cars with out-of-state plates? (skip blank plate states; we're in CA)", lambda d: int(((d["Violation"] == "Street Cleaning") & d["plate_state"].notna() & (d["plate_state"] != "CA")).sum())),
        ("For tickets that were paid, how many days on average from issue to payment? Round to 1 decimal.", lambda d: float((d["paid_date"] - d["issued_at"].dt.normalize()).dt.days.mean()), N, 1),
        ("Which neighborhood got the most fire hydrant tickets?", lambda d: str(d.loc[d["Violation"] == "Fire Hydrant", "Neighborhood"].value_counts().idxmax()), T),
        ("Which day of the week has the fewest citations?", lambda d: str(d["issued_at"].dt.day_name().value_counts().idxmin()), T),
    ],
}
# fmt: on
