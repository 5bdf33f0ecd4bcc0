# ruff: noqa: E501
"""A third blind set for `ask`: analyst questions with reference answers computed by pandas.

Written on 2026-12-02 by a session that did not read the answering engine (nor the earlier blind
sets, the dev suite, the prompts or the tests), from the tables alone: 54 questions on 8 tables.

Tables, their sources and licences:
- lbw: Hosmer & Lemeshow low-birth-weight study (Stata `lbw`, 189 births), the CSV bundled in
  statsmodels' genmod test results; statsmodels BSD-3-Clause.
- dietox: pig growth under vitamin E / copper diets (Lauridsen et al.; R geepack `dietox`), the CSV
  bundled in statsmodels' regression test results; geepack GPL-2/3.
- epil: progabide epilepsy trial seizure counts (Thall & Vail 1990; R MASS `epil`), the CSV bundled in
  statsmodels' genmod test results; MASS GPL-2/3.
- vic_elec: hourly electricity demand in Victoria, Australia, Jan-May 2012 (AEMO via R tsibbledata
  `vic_elec`), the CSV bundled in statsmodels' STL test results; tsibbledata GPL-3.
- blood_donations: synthetic, blood-service donations 2024-2025, built here with numpy seed 3101.
- wildfires: synthetic, wildfire incidents 2020-2024, built here with numpy seed 3102.
- ferry: synthetic, ferry crossings in 2025, built here with numpy seed 3103.
- music_streams: synthetic, music-streaming plays Mar-May 2025, built here with numpy seed 3104.
The synthetic tables are released into the public domain. Every table loads offline.

Each spec is (question, expected(df)[, kind[, digits]]); kinds and the comparison live in
core.eval_blind_check.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import statsmodels

from core.eval_blind_check import B, D, M, N, P, S, T

_SM_DIR = os.path.dirname(statsmodels.__file__)


def _sm(rel: str) -> str:
    """A CSV that ships inside the installed statsmodels package (read offline)."""
    return os.path.join(_SM_DIR, rel)


# --- real tables bundled with statsmodels' test suite -------------------------------------------


def load_lbw() -> pd.DataFrame:
    """Hosmer & Lemeshow low-birth-weight study (Stata `lbw`): 189 births."""
    return pd.read_csv(_sm("genmod/tests/results/stata_lbw_glm.csv"))


def load_dietox() -> pd.DataFrame:
    """Growth of slaughter pigs under vitamin E / copper diets (R geepack `dietox`)."""
    return pd.read_csv(_sm("regression/tests/results/dietox.csv"), index_col=0).reset_index(drop=True)


def load_epil() -> pd.DataFrame:
    """Seizure counts in the progabide epilepsy trial (Thall & Vail 1990; R MASS `epil`)."""
    return pd.read_csv(_sm("genmod/tests/results/epil.csv"), index_col=0).reset_index(drop=True)


def load_vic_elec() -> pd.DataFrame:
    """Hourly electricity demand in Victoria, Australia, Jan-May 2012 (tsibbledata `vic_elec`)."""
    df = pd.read_csv(_sm("tsa/stl/tests/results/mstl_elec_vic.csv"), parse_dates=["ds"])
    return df.rename(columns={"ds": "timestamp", "y": "demand"})


# --- synthetic, seeded tables -----------------------------------------------------------------


def load_blood_donations() -> pd.DataFrame:
    """Donations at a regional blood service, 2024-01 to 2025-06 (synthetic, seed 3101)."""
    rng = np.random.default_rng(3101)
    n_donors = 420
    types = ["O+", "A+", "B+", "AB+", "O-", "A-", "B-", "AB-"]
    donors = pd.DataFrame(
        {
            "Donor ID": [f"D{5000 + i}" for i in range(n_donors)],
            "sex": rng.choice(["F", "M"], n_donors, p=[0.53, 0.47]),
            "age": rng.integers(18, 70, n_donors),
            "BloodType": rng.choice(types, n_donors, p=[0.37, 0.33, 0.09, 0.04, 0.07, 0.06, 0.02, 0.02]),
            "new": rng.random(n_donors) < 0.3,
        }
    )
    n = 1150
    who = rng.choice(n_donors, n, p=rng.dirichlet(np.full(n_donors, 1.5)))
    start = pd.Timestamp("2024-01-02")
    days = rng.integers(0, 546, n)
    df = donors.iloc[who].reset_index(drop=True)
    df["donation_date"] = start + pd.to_timedelta(days, unit="D")
    df["Site"] = rng.choice(
        ["Central Hospital", "Northside Clinic", "Mobile Unit", "University Campus", "Westfield Mall"],
        n,
        p=[0.32, 0.22, 0.2, 0.14, 0.12],
    )
    kind = rng.choice(["Whole Blood", "Plasma", "Platelets"], n, p=[0.68, 0.21, 0.11])
    df["Donation Type"] = kind
    female = df["sex"].eq("F").to_numpy()
    hb = np.where(female, rng.normal(13.5, 0.95, n), rng.normal(14.9, 1.05, n)).round(1)
    deferred = np.where(female, hb < 12.5, hb < 13.0) | (rng.random(n) < 0.02)
    vol = np.select(
        [kind == "Whole Blood", kind == "Plasma"],
        [rng.normal(472, 12, n), rng.normal(690, 45, n)],
        rng.normal(265, 18, n),
    ).round()
    df["volume_ml"] = np.where(deferred, np.nan, vol)
    hb_missing = rng.random(n) < 0.04
    df["Hemoglobin"] = np.where(hb_missing, np.nan, hb)
    df["deferred"] = deferred.astype(int)
    df = df.sort_values(["donation_date", "Donor ID"], kind="stable").reset_index(drop=True)
    first = ~df["Donor ID"].duplicated()
    df["first_time"] = np.where(first & df["new"], "Y", "N")
    df["donation_id"] = [f"BD-{24000 + i}" for i in range(n)]
    cols = ["donation_id", "Donor ID", "donation_date", "Site", "sex", "age", "BloodType",
            "Donation Type", "volume_ml", "Hemoglobin", "deferred", "first_time"]  # fmt: skip
    return df[cols]


def load_wildfires() -> pd.DataFrame:
    """Wildfire incidents reported in one state, 2020-2024 (synthetic, seed 3102)."""
    rng = np.random.default_rng(3102)
    n = 640
    month_w = np.array([1, 1.5, 3, 5, 6, 9, 16, 18, 15, 9, 4, 1.5])
    year = rng.choice([2020, 2021, 2022, 2023, 2024], n, p=[0.17, 0.24, 0.18, 0.16, 0.25])
    month = rng.choice(np.arange(1, 13), n, p=month_w / month_w.sum())
    day = rng.integers(1, 29, n)
    hour = rng.choice(
        np.arange(24), n, p=np.r_[np.full(9, 0.5), np.full(6, 2.5), np.full(6, 2.0), np.full(3, 0.8)] / 33.9
    )
    minute = rng.integers(0, 60, n)
    disc = pd.to_datetime(
        pd.DataFrame({"year": year, "month": month, "day": day, "hour": hour, "minute": minute})
    )
    county = rng.choice(
        ["Alder", "Butte Ridge", "Cedar", "Dry Creek", "Elk Valley", "Fremont", "Granite", "Hollis"],
        n,
        p=[0.09, 0.17, 0.11, 0.2, 0.12, 0.08, 0.14, 0.09],
    )
    cause = rng.choice(
        [
            "Lightning",
            "Campfire",
            "Debris Burning",
            "Equipment Use",
            "Arson",
            "Powerline",
            "Vehicle",
            "Undetermined",
        ],
        n,
        p=[0.24, 0.12, 0.14, 0.13, 0.08, 0.07, 0.09, 0.13],
    )
    acres = np.round(np.exp(rng.normal(2.6, 1.9, n)) + 0.1, 1)
    acres = np.where(cause == "Lightning", np.round(acres * 1.8, 1), acres)
    days_open = np.ceil(np.log1p(acres) * rng.uniform(0.3, 1.4, n))
    contained = (
        disc + pd.to_timedelta(days_open, unit="D") + pd.to_timedelta(rng.integers(1, 720, n), unit="min")
    )
    contained = contained.where(rng.random(n) > 0.035)
    structures = rng.poisson(np.clip(acres / 900, 0, 40))
    evac = (acres > 300) & (rng.random(n) < 0.8) | (structures > 0)
    fatalities = rng.poisson(np.clip(structures / 60, 0, 3))
    agency = np.where(
        acres > 5000, "Federal", rng.choice(["State", "County", "Federal"], n, p=[0.5, 0.35, 0.15])
    )
    cost = np.round(acres * rng.lognormal(7.0, 0.6, n) + rng.uniform(2000, 15000, n), -2)
    cost = np.where(rng.random(n) < 0.08, np.nan, cost)
    df = pd.DataFrame(
        {
            "Discovery Date": disc,
            "contained_date": contained,
            "County": county,
            "Cause": cause,
            "AcresBurned": acres,
            "structures_destroyed": structures,
            "Evacuation Ordered": evac,
            "fatalities": fatalities,
            "lead_agency": agency,
            "SuppressionCostUSD": cost,
        }
    )
    df = df.sort_values("Discovery Date", kind="stable").reset_index(drop=True)
    seq = df.groupby(df["Discovery Date"].dt.year).cumcount() + 1
    df.insert(
        0, "incident_id", [f"WF-{y}-{s:04d}" for y, s in zip(df["Discovery Date"].dt.year, seq, strict=True)]
    )
    return df


def load_ferry() -> pd.DataFrame:
    """Ferry crossings of a coastal operator in 2025 (synthetic, seed 3103)."""
    rng = np.random.default_rng(3103)
    n = 1500
    routes = {
        "Mainport - Isle North": (45, ["MV Gannet", "MV Puffin"], 14.0),
        "Mainport - Isle South": (70, ["MV Tern", "MV Puffin"], 19.5),
        "Isle North - Isle South": (30, ["MV Kittiwake"], 9.0),
        "Mainport - Bayhaven": (25, ["MV Gannet", "MV Kittiwake"], 7.5),
    }
    capacity = {"MV Gannet": 400, "MV Puffin": 350, "MV Tern": 600, "MV Kittiwake": 180}
    route = rng.choice(list(routes), n, p=[0.33, 0.27, 0.18, 0.22])
    day = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    slot = rng.choice(np.arange(6, 22), n)
    minute = rng.choice([0, 15, 30, 45], n)
    dep = day + pd.to_timedelta(slot, unit="h") + pd.to_timedelta(minute, unit="min")
    vessel = np.array([rng.choice(routes[r][1]) for r in route])
    cap = np.array([capacity[v] for v in vessel])
    summer = np.isin(dep.month, [6, 7, 8])
    weekend = dep.dayofweek >= 5
    load = np.clip(rng.beta(2.2, 3.0, n) + 0.25 * summer + 0.08 * weekend, 0.02, 1.0)
    pax = np.round(cap * load).astype(int)
    vehicles = np.round(pax / rng.uniform(6, 14, n)).astype(int)
    winter = np.isin(dep.month, [1, 2, 3, 11, 12])
    sea = np.where(
        winter,
        rng.choice(["Calm", "Moderate", "Rough"], n, p=[0.35, 0.4, 0.25]),
        rng.choice(["Calm", "Moderate", "Rough"], n, p=[0.6, 0.32, 0.08]),
    )
    cancelled = (sea == "Rough") & (rng.random(n) < 0.35) | (rng.random(n) < 0.01)
    delay = np.round(rng.exponential(4, n) + np.where(sea == "Rough", 12, np.where(sea == "Moderate", 3, 0)))
    fare = np.array([routes[r][2] for r in route])
    direction = rng.choice(["Outbound", "Inbound"], n)
    df = pd.DataFrame(
        {
            "Departure": dep,
            "Route": route,
            "vessel": vessel,
            "direction": direction,
            "Passengers": np.where(cancelled, 0, pax),
            "Vehicles": np.where(cancelled, 0, vehicles),
            "VesselCapacity": cap,
            "delay_min": np.where(cancelled, np.nan, delay),
            "Cancelled": np.where(cancelled, "Y", "N"),
            "sea_state": sea,
            "fare_revenue_eur": np.where(cancelled, 0.0, np.round(pax * fare + vehicles * fare * 2.5, 2)),
        }
    )
    df = df.sort_values("Departure", kind="stable").reset_index(drop=True)
    df.insert(0, "crossing_id", np.arange(70001, 70001 + n))
    return df


def load_music_streams() -> pd.DataFrame:
    """Track plays on a music-streaming service, March-May 2025 (synthetic, seed 3104)."""
    rng = np.random.default_rng(3104)
    n_users = 260
    users = pd.DataFrame(
        {
            "user_id": [f"u{10400 + i}" for i in range(n_users)],
            "country": rng.choice(
                ["US", "GB", "DE", "BR", "MX", "SE", "JP"], n_users, p=[0.3, 0.14, 0.14, 0.14, 0.1, 0.08, 0.1]
            ),
            "Listener Gender": rng.choice(
                ["Female", "Male", "Non-binary", None], n_users, p=[0.46, 0.44, 0.03, 0.07]
            ),
            "listener_age": rng.integers(15, 66, n_users).astype(float),
            "is_premium": (rng.random(n_users) < 0.42).astype(int),
        }
    )
    users.loc[rng.random(n_users) < 0.06, "listener_age"] = np.nan
    genres = {
        "Pop": ["Nova Lane", "The Glass Hours", "Mira Kale"],
        "Hip-Hop": ["Lil Orbit", "K-Dune", "Verse Theory"],
        "Rock": ["Static Harbor", "Iron Meadow"],
        "Electronic": ["Pulsewidth", "Neon Fathom"],
        "Latin": ["Sol y Rio", "Banda Cielo"],
        "Classical": ["Aurora Strings"],
        "Jazz": ["Blue Tandem"],
    }
    n = 2400
    who = rng.choice(n_users, n, p=rng.dirichlet(np.full(n_users, 1.2)))
    df = users.iloc[who].reset_index(drop=True)
    genre = rng.choice(list(genres), n, p=[0.3, 0.22, 0.14, 0.12, 0.1, 0.05, 0.07])
    artist = np.array([rng.choice(genres[g]) for g in genre])
    track_len = (
        np.round(rng.normal(np.where(np.isin(genre, ["Classical", "Jazz"]), 360, 205), 40))
        .clip(90, 900)
        .astype(int)
    )
    skipped = rng.random(n) < np.where(df["is_premium"].eq(1), 0.22, 0.3)
    played = np.where(
        skipped, rng.integers(3, 30, n), np.round(track_len * rng.uniform(0.85, 1.0, n))
    ).astype(int)
    day = pd.Timestamp("2025-03-01") + pd.to_timedelta(rng.integers(0, 92, n), unit="D")
    hour_p = np.r_[np.full(6, 0.3), np.full(3, 1.2), np.full(8, 1.0), np.full(4, 1.6), np.full(3, 1.1)]
    secs = rng.choice(np.arange(24), n, p=hour_p / hour_p.sum()) * 3600 + rng.integers(0, 3600, n)
    df["PlayedAt"] = day + pd.to_timedelta(secs, unit="s")
    df["Genre"] = genre
    df["artist_name"] = artist
    df["track_seconds"] = track_len
    df["seconds_played"] = played
    df["skipped"] = skipped
    df["Device"] = rng.choice(["Mobile", "Desktop", "Smart Speaker", "TV"], n, p=[0.58, 0.22, 0.13, 0.07])
    df["shuffle"] = np.where(rng.random(n) < 0.4, "Y", "N")
    df = df.sort_values("PlayedAt", kind="stable").reset_index(drop=True)
    df.insert(0, "stream_id", np.arange(1, n + 1) + 880000)
    cols = ["stream_id", "user_id", "PlayedAt", "country", "Listener Gender", "listener_age", "is_premium",
            "Genre", "artist_name", "track_seconds", "seconds_played", "skipped", "Device", "shuffle"]  # fmt: skip
    return df[cols]


TABLES: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    "lbw": (
        load_lbw,
        "Hosmer & Lemeshow low-birth-weight data (Stata `lbw`), CSV bundled in statsmodels genmod test results; statsmodels BSD-3-Clause",
    ),
    "dietox": (
        load_dietox,
        "Lauridsen et al. pig growth trial, R geepack `dietox`, CSV bundled in statsmodels regression test results; geepack GPL-2/3",
    ),
    "epil": (
        load_epil,
        "Thall & Vail (1990) progabide epilepsy trial, R MASS `epil`, CSV bundled in statsmodels genmod test results; MASS GPL-2/3",
    ),
    "vic_elec": (
        load_vic_elec,
        "AEMO Victoria electricity demand, hourly, via R tsibbledata `vic_elec`, CSV bundled in statsmodels STL test results; tsibbledata GPL-3",
    ),
    "blood_donations": (
        load_blood_donations,
        "synthetic, generated in this file (numpy seed 3101); public domain",
    ),
    "wildfires": (load_wildfires, "synthetic, generated in this file (numpy seed 3102); public domain"),
    "ferry": (load_ferry, "synthetic, generated in this file (numpy seed 3103); public domain"),
    "music_streams": (
        load_music_streams,
        "synthetic, generated in this file (numpy seed 3104); public domain",
    ),
}


def _per_listener(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop_duplicates("user_id")


# fmt: off
SPECS: dict[str, list[tuple[Any, ...]]] = {
    "lbw": [
        ("How many of the mothers smoked during pregnancy?", lambda df: int(df["smoke"].eq(1).sum())),
        ("By how many grams is the mean birth weight of babies born to non-smokers higher than for smokers? Round to 1 decimal.", lambda df: df.loc[df["smoke"].eq(0), "bwt"].mean() - df.loc[df["smoke"].eq(1), "bwt"].mean(), N, 1),
        ("which race has the highest rate of low birth weight babies?", lambda df: df.groupby("race")["low"].mean().idxmax(), T),
        ("correlation between lwt and bwt, 3 decimals", lambda df: df["lwt"].corr(df["bwt"]), N, 3),
        ("count mothers younger than 20 who had zero physician visits in the first trimester", lambda df: int((df["age"].lt(20) & df["ftv"].eq(0)).sum())),
        ("Is the share of low-birth-weight babies higher for mothers with uterine irritability than for mothers without it?", lambda df: bool(df.loc[df["ui"].eq(1), "low"].mean() > df.loc[df["ui"].eq(0), "low"].mean()), B),
        ("how old was the mother of the heaviest baby?", lambda df: int(df.loc[df["bwt"].idxmax(), "age"])),
    ],
    "dietox": [
        ("How many different pigs are in this data?", lambda df: int(df["Pig"].nunique())),
        ("number of rows where Feed is not missing", lambda df: int(df["Feed"].notna().sum())),
        ("Give me the average Weight at Time 12, rounded to 2 decimals.", lambda df: df.loc[df["Time"].eq(12), "Weight"].mean(), N, 2),
        ("Which pig reached the highest weight of anyone? Just the Pig number.", lambda df: df.loc[df["Weight"].idxmax(), "Pig"], T),
        ("At Time 12, which Evit level has the highest mean weight?", lambda df: df[df["Time"].eq(12)].groupby("Evit")["Weight"].mean().idxmax(), T),
        ("how many week-12 weigh-ins were over 100 kg?", lambda df: int((df["Time"].eq(12) & df["Weight"].gt(100)).sum())),
        ("For pigs weighed at both Time 1 and Time 12, what is the average weight gain between those two weigh-ins? 2 decimals please", lambda df: (lambda w: (w[12] - w[1]).mean())(df.pivot(index="Pig", columns="Time", values="Weight")), N, 2),
    ],
    "epil": [
        ("What's the total number of seizures recorded for patients on progabide, all periods together?", lambda df: int(df.loc[df["trt"].eq("progabide"), "y"].sum())),
        ("how many patients were in the placebo group?", lambda df: int(df.loc[df["trt"].eq("placebo"), "subject"].nunique())),
        ("Is the mean seizure count per period lower under progabide than under placebo?", lambda df: bool(df.loc[df["trt"].eq("progabide"), "y"].mean() < df.loc[df["trt"].eq("placebo"), "y"].mean()), B),
        ("Which subject had the most seizures summed over the four periods?", lambda df: df.groupby("subject")["y"].sum().idxmax(), T),
        ("What percent of the rows have zero seizures (y = 0)? One decimal.", lambda df: df["y"].eq(0).mean() * 100, P, 1),
        ("In period 4 only, what is the correlation between base and y? round to 2 dp", lambda df: (lambda p: p["base"].corr(p["y"]))(df[df["period"].eq(4)]), N, 2),
    ],
    "vic_elec": [
        ("On which date was the single highest hourly demand recorded?", lambda df: df.loc[df["demand"].idxmax(), "timestamp"].date(), D),
        ("avg demand in February 2012? 1 decimal", lambda df: df.loc[(df["timestamp"].dt.year == 2012) & (df["timestamp"].dt.month == 2), "demand"].mean(), N, 1),
        ("Which day of the week has the highest average demand?", lambda df: df.groupby(df["timestamp"].dt.day_name())["demand"].mean().idxmax(), T),
        ("How many hours had demand above 12000?", lambda df: int(df["demand"].gt(12000).sum())),
        ("Which month had the lowest mean demand?", lambda df: int(df.groupby(df["timestamp"].dt.month)["demand"].mean().idxmin()), M),
        ("Show me the day with the biggest total demand, adding up all its hours.", lambda df: df.groupby(df["timestamp"].dt.date)["demand"].sum().idxmax(), D),
    ],
    "blood_donations": [
        ("How many donations from female donors ended up deferred?", lambda df: int((df["sex"].eq("F") & df["deferred"].eq(1)).sum())),
        ("How many litres of whole blood were collected in 2024 in total? Round to one decimal.", lambda df: df.loc[df["Donation Type"].eq("Whole Blood") & df["donation_date"].dt.year.eq(2024), "volume_ml"].sum() / 1000, N, 1),
        ("Which site had the most donations in 2025?", lambda df: df.loc[df["donation_date"].dt.year.eq(2025), "Site"].value_counts().idxmax(), T),
        ("what % of donations were made by first-time donors? 1 dp", lambda df: df["first_time"].eq("Y").mean() * 100, P, 1),
        ("Mean hemoglobin of men minus mean hemoglobin of women, to 2 decimals?", lambda df: df.loc[df["sex"].eq("M"), "Hemoglobin"].mean() - df.loc[df["sex"].eq("F"), "Hemoglobin"].mean(), N, 2),
        ("In 2024, which month had the most donations?", lambda df: int(df.loc[df["donation_date"].dt.year.eq(2024), "donation_date"].dt.month.value_counts().idxmax()), M),
        ("top 3 blood types by number of donations", lambda df: list(df["BloodType"].value_counts().head(3).index), S),
    ],
    "wildfires": [
        ("How many lightning-caused fires were discovered in 2021?", lambda df: int((df["Cause"].eq("Lightning") & df["Discovery Date"].dt.year.eq(2021)).sum())),
        ("Which county has the largest total AcresBurned?", lambda df: df.groupby("County")["AcresBurned"].sum().idxmax(), T),
        ("What percentage of incidents had an evacuation ordered? Give it to 2 decimals.", lambda df: df["Evacuation Ordered"].mean() * 100, P, 2),
        ("On average how many days does it take from discovery to containment? Ignore fires with no contained date, round to 1 decimal.", lambda df: ((df["contained_date"] - df["Discovery Date"]).dt.total_seconds() / 86400).mean(), N, 1),
        ("which calendar month has the most fires discovered, all years combined?", lambda df: int(df["Discovery Date"].dt.month.value_counts().idxmax()), M),
        ("Is the average suppression cost of federally led fires more than three times that of state-led fires?", lambda df: bool(df.loc[df["lead_agency"].eq("Federal"), "SuppressionCostUSD"].mean() > 3 * df.loc[df["lead_agency"].eq("State"), "SuppressionCostUSD"].mean()), B),
        ("List the two causes with the highest total suppression cost.", lambda df: list(df.groupby("Cause")["SuppressionCostUSD"].sum().nlargest(2).index), S),
    ],
    "ferry": [
        ("How many sailings were cancelled when the sea was rough?", lambda df: int((df["Cancelled"].eq("Y") & df["sea_state"].eq("Rough")).sum())),
        ("total passengers on the Mainport - Isle South route in July 2025", lambda df: int(df.loc[df["Route"].eq("Mainport - Isle South") & df["Departure"].dt.year.eq(2025) & df["Departure"].dt.month.eq(7), "Passengers"].sum())),
        ("For crossings that actually ran, what's the average load factor per crossing (Passengers divided by VesselCapacity)? As a percent, 1 decimal.", lambda df: (lambda ok: (ok["Passengers"] / ok["VesselCapacity"]).mean() * 100)(df[df["Cancelled"].eq("N")]), P, 1),
        ("Which weekday carries the most passengers in total?", lambda df: df.groupby(df["Departure"].dt.day_name())["Passengers"].sum().idxmax(), T),
        ("What was the total fare revenue in euros for the whole year? Nearest euro.", lambda df: df["fare_revenue_eur"].sum(), N, 0),
        ("How many minutes longer is the average delay in rough seas than in calm seas? Leave out cancelled sailings, 1 decimal.", lambda df: df.loc[df["Cancelled"].eq("N") & df["sea_state"].eq("Rough"), "delay_min"].mean() - df.loc[df["Cancelled"].eq("N") & df["sea_state"].eq("Calm"), "delay_min"].mean(), N, 1),
        ("date of the last cancelled crossing of the year?", lambda df: df.loc[df["Cancelled"].eq("Y"), "Departure"].max().date(), D),
    ],
    "music_streams": [
        ("What's the skip rate for premium users, in percent to 1 decimal?", lambda df: df.loc[df["is_premium"].eq(1), "skipped"].mean() * 100, P, 1),
        ("Which artist has the most plays?", lambda df: df["artist_name"].value_counts().idxmax(), T),
        ("How many distinct listeners are from Germany?", lambda df: int(df.loc[df["country"].eq("DE"), "user_id"].nunique())),
        ("Counting each listener once, what is the average age of listeners in Sweden? 1 decimal", lambda df: _per_listener(df).loc[lambda u: u["country"].eq("SE"), "listener_age"].mean(), N, 1),
        ("give me the top 3 genres by number of plays from female listeners", lambda df: list(df.loc[df["Listener Gender"].eq("Female"), "Genre"].value_counts().head(3).index), S),
        ("Total hours actually played on smart speakers? round to 1 decimal", lambda df: df.loc[df["Device"].eq("Smart Speaker"), "seconds_played"].sum() / 3600, N, 1),
        ("how many plays have no listener gender recorded?", lambda df: int(df["Listener Gender"].isna().sum())),
    ],
}
# fmt: on
