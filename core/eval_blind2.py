# ruff: noqa: E501
"""A second blind evaluation set for `ask`.

Written on 2026-12-02 by a session that did not read the answering engine (nor its prompts, tests or
the first blind set): 55 analyst questions on 8 tables, worded the way analysts type them and answered
here from the tables alone with plain pandas.

Tables (name: source; licence):

- autos: UCI Automobile data set (1985 Ward's Automotive Yearbook, Schlimmer), as bundled in
  statsmodels' GAM test data (`statsmodels/gam/tests/results/autos.csv`); CC BY 4.0 (UCI), file shipped
  under statsmodels' BSD-3-Clause.
- births: Cattaneo (2010) Pennsylvania birth-weight sample (Stata's `cattaneo2`), as bundled in
  statsmodels' treatment-effect test data (`statsmodels/treatment/tests/results/cataneo2.csv`);
  public-use natality records, file shipped under statsmodels' BSD-3-Clause.
- framing: Brader, Valentino & Suhay (2008) immigration news-framing survey experiment (the `framing`
  data of R's `mediation` package), as bundled in statsmodels' test data
  (`statsmodels/stats/tests/results/framing.csv`); GPL-2+ (R `mediation`), file shipped with statsmodels.
- co2: Mauna Loa weekly atmospheric CO2 (Scripps / CDIAC), `statsmodels.api.datasets.co2`; public domain.
- clinic_appointments: synthetic outpatient-clinic bookings, seeded numpy (seed 11); made here, no licence needed.
- support_tickets: synthetic customer-support tickets, seeded numpy (seed 22); made here.
- library_loans: synthetic public-library checkouts, seeded numpy (seed 33); made here.
- restaurant_inspections: synthetic health inspections of restaurants, seeded numpy (seed 44); made here.

Each spec is (question, expected(df)[, kind[, digits]]); kinds and the comparison live in
`core.eval_blind_check`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.eval_blind_check import B, D, M, N, P, S, T


def _statsmodels_file(rel: str) -> Path:
    import statsmodels

    return Path(statsmodels.__file__).parent / rel


# --------------------------------------------------------------------------- real tables


def _autos() -> pd.DataFrame:
    return pd.read_csv(_statsmodels_file("gam/tests/results/autos.csv"))


def _births() -> pd.DataFrame:
    return pd.read_csv(_statsmodels_file("treatment/tests/results/cataneo2.csv"))


def _framing() -> pd.DataFrame:
    return pd.read_csv(_statsmodels_file("stats/tests/results/framing.csv"), index_col=0).reset_index(
        drop=True
    )


def _co2() -> pd.DataFrame:
    from statsmodels.datasets import co2

    return co2.load_pandas().data.rename_axis("date").reset_index()


# --------------------------------------------------------------------------- synthetic tables


def _pick(rng: np.random.Generator, options: list[str], n: int, p: list[float] | None = None) -> np.ndarray:
    return rng.choice(np.array(options, dtype=object), size=n, p=p)


def _clinic_appointments() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n_pat, n = 380, 640
    pat_sex = _pick(rng, ["F", "M"], n_pat, [0.56, 0.44])
    pat_age = np.clip(rng.normal(46, 20, n_pat).round(), 1, 94).astype(int)
    pat_ins = (rng.random(n_pat) < 0.82).astype(int)
    pid = rng.integers(0, n_pat, n)
    month_w = np.array([11, 9, 10, 8, 8, 7, 6, 7, 9, 12, 10, 7], dtype=float)
    month = rng.choice(np.arange(1, 13), size=n, p=month_w / month_w.sum())
    day = np.minimum(rng.integers(1, 29, n), 28)
    dates = pd.to_datetime({"year": 2025, "month": month, "day": day})
    depts = ["General Practice", "Cardiology", "Dermatology", "Pediatrics", "Orthopedics", "Neurology"]
    dept = _pick(rng, depts, n, [0.32, 0.14, 0.14, 0.15, 0.15, 0.10])
    dept = np.where(pat_age[pid] < 16, "Pediatrics", np.where(dept == "Pediatrics", "General Practice", dept))
    site = _pick(rng, ["North", "Central", "Riverside"], n, [0.3, 0.45, 0.25])
    visit = _pick(rng, ["New", "Follow-up", "Telehealth"], n, [0.35, 0.45, 0.20])
    p_ns = 0.08 + 0.07 * (pat_sex[pid] == "M") + 0.06 * (pat_ins[pid] == 0)
    no_show = np.where(rng.random(n) < p_ns, "Y", "N")
    base_wait = {
        "General Practice": 18,
        "Cardiology": 27,
        "Dermatology": 22,
        "Pediatrics": 15,
        "Orthopedics": 31,
        "Neurology": 25,
    }
    wait = np.array([rng.gamma(2.2, base_wait[d] / 2.2) for d in dept]).round(0)
    wait = np.where(visit == "Telehealth", (wait * 0.4).round(0), wait)
    wait = np.where(no_show == "Y", np.nan, wait)
    copay = np.where(
        pat_ins[pid] == 1,
        _pick(rng, ["10", "20", "25", "40"], n).astype(float),
        rng.uniform(60, 180, n).round(2),
    )
    copay = np.where(visit == "Telehealth", (copay * 0.75).round(2), copay)
    sat = np.clip(np.round(4.6 - wait / 30 + rng.normal(0, 0.8, n)), 1, 5)
    sat = np.where((no_show == "Y") | (rng.random(n) < 0.18), np.nan, sat)
    df = pd.DataFrame(
        {
            "appointment_id": "",
            "Appointment Date": dates,
            "PatientID": 50000 + pid,
            "patient_sex": pat_sex[pid],
            "Age": pat_age[pid],
            "Department": dept,
            "clinic_site": site,
            "VisitType": visit,
            "no_show": no_show,
            "wait_minutes": wait,
            "copay_usd": copay,
            "insured": pat_ins[pid],
            "satisfaction": sat,
        }
    )
    df = df.sort_values("Appointment Date", kind="stable").reset_index(drop=True)
    df["appointment_id"] = [f"A25-{i:04d}" for i in range(1, n + 1)]
    return df


def _support_tickets() -> pd.DataFrame:
    rng = np.random.default_rng(22)
    n = 820
    opened = pd.Timestamp("2025-07-01") + pd.to_timedelta(np.sort(rng.integers(0, 153, n)), unit="D")
    channel = _pick(rng, ["Email", "Phone", "Chat", "Web Form"], n, [0.38, 0.17, 0.30, 0.15])
    prio = _pick(rng, ["Low", "Medium", "High", "Urgent"], n, [0.30, 0.40, 0.21, 0.09])
    area = _pick(
        rng,
        ["Billing", "Login", "Mobile App", "Integrations", "Reports", "Notifications"],
        n,
        [0.24, 0.20, 0.19, 0.15, 0.12, 0.10],
    )
    region = _pick(rng, ["NA", "EMEA", "APAC", "LATAM"], n, [0.40, 0.31, 0.18, 0.11])
    agents = [
        "Priya Nair",
        "Tom Becker",
        "Lucia Gomez",
        "Ahmed Saleh",
        "Mei Chen",
        "Jonas Berg",
        "Sara Olsen",
        "Kofi Mensah",
        "Ana Ruiz",
        "Dmitri Volkov",
    ]
    agent = _pick(rng, agents, n, [0.13, 0.12, 0.11, 0.11, 0.10, 0.10, 0.09, 0.09, 0.08, 0.07])
    age_days = (pd.Timestamp("2025-12-01") - opened).days.to_numpy()
    p_open = np.where(age_days < 10, 0.55, 0.04)
    u = rng.random(n)
    status = np.where(
        u < p_open,
        np.where(rng.random(n) < 0.6, "Open", "Pending"),
        np.where(rng.random(n) < 0.55, "Closed", "Resolved"),
    )
    speed = {"Urgent": 4, "High": 14, "Medium": 30, "Low": 52}
    res = np.array([rng.gamma(1.6, speed[p] / 1.6) for p in prio]).round(1)
    res = np.where(np.isin(status, ["Open", "Pending"]), np.nan, res)
    frt = np.where(
        channel == "Chat",
        rng.gamma(1.5, 3, n),
        np.where(channel == "Phone", rng.gamma(1.2, 2, n), rng.gamma(2.0, 90, n)),
    ).round(1)
    reopened = ((rng.random(n) < 0.09) & ~np.isin(status, ["Open"])).astype(int)
    csat = np.clip(np.round(4.5 - res / 40 - reopened * 1.2 + rng.normal(0, 0.7, n)), 1, 5)
    csat = np.where(np.isnan(res) | (rng.random(n) < 0.45), np.nan, csat)
    return pd.DataFrame(
        {
            "TicketID": np.arange(100001, 100001 + n),
            "Opened On": opened,
            "Channel": channel,
            "priority": prio,
            "product_area": area,
            "Region": region,
            "status": status,
            "AgentName": agent,
            "first_response_min": frt,
            "resolution_hours": res,
            "reopened": reopened,
            "CSAT": csat,
        }
    )


def _library_loans() -> pd.DataFrame:
    rng = np.random.default_rng(33)
    n_mem, n = 260, 720
    mem_type = _pick(rng, ["Adult", "Child", "Teen", "Senior"], n_mem, [0.50, 0.20, 0.12, 0.18])
    mem_branch = _pick(rng, ["Central", "Eastside", "Hillcrest", "Harbor"], n_mem, [0.38, 0.24, 0.21, 0.17])
    mid = rng.integers(0, n_mem, n)
    branch = np.where(
        rng.random(n) < 0.8, mem_branch[mid], _pick(rng, ["Central", "Eastside", "Hillcrest", "Harbor"], n)
    )
    fmt = _pick(rng, ["Book", "DVD", "Audiobook", "Magazine"], n, [0.68, 0.14, 0.10, 0.08])
    genres_adult = ["Fiction", "Mystery", "Biography", "History", "Science", "Romance", "Cooking"]
    genre = np.where(
        mem_type[mid] == "Child",
        _pick(rng, ["Picture Book", "Children's Fiction", "Science"], n, [0.45, 0.45, 0.10]),
        _pick(rng, genres_adult, n, [0.26, 0.20, 0.10, 0.12, 0.10, 0.12, 0.10]),
    )
    senior = mem_type[mid] == "Senior"
    genre = np.where(senior & (rng.random(n) < 0.35), "History", genre)
    checkout = pd.Timestamp("2024-01-02") + pd.to_timedelta(np.sort(rng.integers(0, 335, n)), unit="D")
    loan_days = np.where(fmt == "DVD", 7, np.where(fmt == "Magazine", 14, 21))
    renewals = rng.choice([0, 1, 2], size=n, p=[0.66, 0.24, 0.10])
    renewals = np.where(fmt == "Magazine", 0, renewals)
    due = checkout + pd.to_timedelta(loan_days * (1 + renewals), unit="D")
    kept = np.maximum(
        1,
        np.round(
            loan_days * (1 + renewals) * rng.uniform(0.3, 1.0, n)
            + rng.gamma(1.5, 6, n) * (rng.random(n) < 0.22)
        ),
    ).astype(int)
    returned = checkout + pd.to_timedelta(kept, unit="D")
    out = (checkout > pd.Timestamp("2024-11-20")) & (rng.random(n) < 0.7) | (rng.random(n) < 0.03)
    returned = returned.where(~out)
    overdue = (returned - due).days.to_numpy()
    rate = np.where(fmt == "DVD", 1.0, 0.25)
    fee = np.where(
        np.isnan(overdue), np.nan, np.minimum(np.clip(np.nan_to_num(overdue), 0, None) * rate, 10.0)
    ).round(2)
    fee = np.where(mem_type[mid] == "Child", np.where(np.isnan(fee), np.nan, 0.0), fee)
    auto = np.where(rng.random(n) < 0.4, "Y", "N")
    return pd.DataFrame(
        {
            "LoanID": [f"L-{i:06d}" for i in rng.choice(np.arange(100000, 999999), size=n, replace=False)],
            "member_id": 7000 + mid,
            "MemberType": mem_type[mid],
            "Branch": branch,
            "Format": fmt,
            "genre": genre,
            "Checkout Date": checkout,
            "due_date": due,
            "Returned": returned,
            "renewals": renewals,
            "late_fee": fee,
            "auto_renew": auto,
        }
    )


def _restaurant_inspections() -> pd.DataFrame:
    rng = np.random.default_rng(44)
    first = "Golden Blue Little Old Lucky Green Red Happy Silver Royal Corner Sunny".split()
    second = "Dragon Olive Taco Spoon Garden Lantern Fork Bistro Grill Noodle Oven Harbor".split()
    names = sorted({f"{a} {b}" for a in first for b in second})
    names = list(rng.choice(np.array(names, dtype=object), size=120, replace=False))
    n_r = len(names)
    cuisines = ["American", "Chinese", "Mexican", "Italian", "Indian", "Japanese", "Thai", "Cafe/Bakery"]
    r_cuis = _pick(rng, cuisines, n_r, [0.22, 0.14, 0.14, 0.14, 0.10, 0.09, 0.07, 0.10])
    r_dist = _pick(
        rng, ["Downtown", "Uptown", "Old Town", "Riverside", "Westgate"], n_r, [0.28, 0.22, 0.18, 0.17, 0.15]
    )
    r_qual = rng.normal(0, 6, n_r)
    n = 540
    rid = rng.integers(0, n_r, n)
    dates = pd.Timestamp("2023-01-03") + pd.to_timedelta(np.sort(rng.integers(0, 728, n)), unit="D")
    itype = _pick(rng, ["Routine", "Follow-up", "Complaint"], n, [0.66, 0.20, 0.14])
    dist_eff = {"Downtown": -2.0, "Uptown": 1.5, "Old Town": -3.5, "Riverside": 0.5, "Westgate": 2.0}
    score = (
        88
        + r_qual[rid]
        + np.array([dist_eff[d] for d in r_dist[rid]])
        - 5 * (itype == "Complaint")
        + rng.normal(0, 5, n)
    )
    score = np.clip(score.round(), 40, 100).astype(int)
    crit = rng.poisson(np.clip((100 - score) / 9, 0.1, None))
    noncrit = rng.poisson(np.clip((100 - score) / 4, 0.3, None))
    grade = np.where(score >= 90, "A", np.where(score >= 80, "B", "C")).astype(object)
    grade[rng.random(n) < 0.06] = None
    closed = np.where((crit >= 4) & (rng.random(n) < 0.6), "Y", "N")
    return pd.DataFrame(
        {
            "InspectionID": np.arange(1, n + 1) * 7 + 30000,
            "Restaurant Name": np.array(names, dtype=object)[rid],
            "cuisine": r_cuis[rid],
            "District": r_dist[rid],
            "inspection_date": dates,
            "InspectionType": itype,
            "inspector_id": _pick(rng, ["INS-04", "INS-11", "INS-17", "INS-23", "INS-31"], n),
            "score": score,
            "grade": grade,
            "critical_violations": crit,
            "noncritical_violations": noncrit,
            "closed_by_order": closed,
        }
    )


TABLES: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    "autos": (
        _autos,
        "UCI Automobile data via statsmodels GAM test data; CC BY 4.0 (UCI), shipped under BSD-3-Clause",
    ),
    "births": (
        _births,
        "Cattaneo (2010) birth-weight sample (Stata cattaneo2) via statsmodels test data; public-use natality records, shipped under BSD-3-Clause",
    ),
    "framing": (
        _framing,
        "Brader, Valentino & Suhay (2008) framing experiment, R mediation package data via statsmodels test data; GPL-2+",
    ),
    "co2": (_co2, "Mauna Loa weekly CO2 (Scripps/CDIAC), statsmodels.datasets.co2; public domain"),
    "clinic_appointments": (
        _clinic_appointments,
        "synthetic, numpy seed 11, made for this set; no licence needed",
    ),
    "support_tickets": (_support_tickets, "synthetic, numpy seed 22, made for this set; no licence needed"),
    "library_loans": (_library_loans, "synthetic, numpy seed 33, made for this set; no licence needed"),
    "restaurant_inspections": (
        _restaurant_inspections,
        "synthetic, numpy seed 44, made for this set; no licence needed",
    ),
}


def _top(s: pd.Series) -> Any:
    """The label of the largest value of a Series."""
    return s.idxmax()


# fmt: off
SPECS: dict[str, list[tuple[Any, ...]]] = {
    "autos": [
        ("What's the average price of the turbocharged cars? Round to the nearest dollar.",
         lambda d: d.loc[d["aspir"] == "turbo", "price"].mean(), N, 0),
        ("Which make has the highest median price?",
         lambda d: _top(d.groupby("make")["price"].median()), T),
        ("Give me the 3 makes with the most cars listed.",
         lambda d: d["make"].value_counts().head(3).index.tolist(), S),
        ("What percentage of all cars in the table have four doors? One decimal place.",
         lambda d: 100 * (d["doors"] == "four").mean(), P, 1),
        ("How many cars have no price?",
         lambda d: int(d["price"].isna().sum())),
        ("What is the Pearson correlation between engine size (eng_cc) and horsepower? Round to 2 decimals.",
         lambda d: d["eng_cc"].corr(d["hp"]), N, 2),
        ("Do front-wheel-drive cars get a higher average highway mpg than rear-wheel-drive cars?",
         lambda d: bool(d.loc[d["drive"] == "fwd", "hw_mpg"].mean() > d.loc[d["drive"] == "rwd", "hw_mpg"].mean()), B),
    ],
    "births": [
        ("What is the average birth weight, in grams, of babies whose mothers smoked? Round to 1 decimal.",
         lambda d: d.loc[d["mbsmoke"] == "smoker", "bweight"].mean(), N, 1),
        ("What percent of the mothers are married? Give one decimal.",
         lambda d: 100 * (d["mmarried"] == "married").mean(), P, 1),
        ("Which birth month has the most births?",
         lambda d: int(d["birthmonth"].value_counts().idxmax()), M),
        ("How many babies weighing under 2500 grams were born to mothers who drank alcohol during pregnancy?",
         lambda d: int(((d["bweight"] < 2500) & (d["alcohol"] == 1)).sum())),
        ("Median age of mothers having their first baby?",
         lambda d: d.loc[d["fbaby"] == "Yes", "mage"].median()),
        ("Is the mean birth weight lower for unmarried mothers than for married mothers?",
         lambda d: bool(d.loc[d["mmarried"] == "notmarried", "bweight"].mean() < d.loc[d["mmarried"] == "married", "bweight"].mean()), B),
        ("What's the heaviest birth weight recorded for a mother who smoked 11 or more cigarettes a day?",
         lambda d: int(d.loc[d["msmoke"] == "11+ daily", "bweight"].max())),
    ],
    "framing": [
        ("How many female respondents are there?",
         lambda d: int((d["gender"] == "female").sum())),
        ("Average age of respondents with a bachelor's degree or higher, rounded to 1 decimal?",
         lambda d: d.loc[d["educ"] == "bachelor's degree or higher", "age"].mean(), N, 1),
        ("What percentage of respondents answered Strongly Oppose on the english question? Round to one decimal.",
         lambda d: 100 * (d["english"] == "Strongly Oppose").mean(), P, 1),
        ("Which education level has the highest mean p_harm?",
         lambda d: _top(d.groupby("educ")["p_harm"].mean()), T),
        ("Among respondents who sent a message to Congress (cong_mesg = 1), how many said they were very anxious?",
         lambda d: int(((d["cong_mesg"] == 1) & (d["anx"] == "very anxious")).sum())),
        ("Correlation between emo and p_harm, to 2 decimals?",
         lambda d: d["emo"].corr(d["p_harm"]), N, 2),
    ],
    "co2": [
        ("How many weeks have no CO2 reading?",
         lambda d: int(d["co2"].isna().sum())),
        ("What is the most recent week with a missing CO2 reading? Give the date.",
         lambda d: d.loc[d["co2"].isna(), "date"].max().date(), D),
        ("What was the average CO2 level in 1990? Round to 2 decimals.",
         lambda d: d.loc[d["date"].dt.year == 1990, "co2"].mean(), N, 2),
        ("Averaged over all years, which calendar month has the highest mean CO2 reading?",
         lambda d: int(d.groupby(d["date"].dt.month)["co2"].mean().idxmax()), M),
        ("When was CO2 first measured above 350 ppm?",
         lambda d: d.loc[d["co2"] > 350, "date"].min().date(), D),
        ("By how much did the yearly average CO2 go up between 1960 and 2000? Round to 2 decimals.",
         lambda d: d.loc[d["date"].dt.year == 2000, "co2"].mean() - d.loc[d["date"].dt.year == 1960, "co2"].mean(), N, 2),
        ("How many weekly readings were at or above 370?",
         lambda d: int((d["co2"] >= 370).sum())),
    ],
    "clinic_appointments": [
        ("How many appointments were no-shows?",
         lambda d: int((d["no_show"] == "Y").sum())),
        ("What percentage of male patients' appointments were no-shows? Round to 1 decimal.",
         lambda d: 100 * (d.loc[d["patient_sex"] == "M", "no_show"] == "Y").mean(), P, 1),
        ("Which department has the longest median wait time?",
         lambda d: _top(d.groupby("Department")["wait_minutes"].median()), T),
        ("Average copay for telehealth visits? 2 decimals please.",
         lambda d: d.loc[d["VisitType"] == "Telehealth", "copay_usd"].mean(), N, 2),
        ("Which month had the most appointments?",
         lambda d: int(d["Appointment Date"].dt.month.value_counts().idxmax()), M),
        ("How many different patients had at least one appointment at the Riverside site?",
         lambda d: int(d.loc[d["clinic_site"] == "Riverside", "PatientID"].nunique())),
        ("Is the mean satisfaction of insured patients higher than that of uninsured patients?",
         lambda d: bool(d.loc[d["insured"] == 1, "satisfaction"].mean() > d.loc[d["insured"] == 0, "satisfaction"].mean()), B),
    ],
    "support_tickets": [
        ("How many urgent tickets came in through chat?",
         lambda d: int(((d["priority"] == "Urgent") & (d["Channel"] == "Chat")).sum())),
        ("What's the median resolution time in hours for high priority tickets?",
         lambda d: d.loc[d["priority"] == "High", "resolution_hours"].median()),
        ("Which agent handled the most urgent tickets?",
         lambda d: d.loc[d["priority"] == "Urgent", "AgentName"].value_counts().idxmax(), T),
        ("What share of tickets were reopened? Percent, one decimal.",
         lambda d: 100 * d["reopened"].mean(), P, 1),
        ("Top 3 product areas by number of tickets?",
         lambda d: d["product_area"].value_counts().head(3).index.tolist(), S),
        ("Average CSAT for EMEA tickets, rounded to 2 decimals?",
         lambda d: d.loc[d["Region"] == "EMEA", "CSAT"].mean(), N, 2),
        ("How many tickets are still unresolved, i.e. status Open or Pending?",
         lambda d: int(d["status"].isin(["Open", "Pending"]).sum())),
    ],
    "library_loans": [
        ("How many loans haven't been returned yet?",
         lambda d: int(d["Returned"].isna().sum())),
        ("What is the average number of renewals for DVDs? Round to 2 decimals.",
         lambda d: d.loc[d["Format"] == "DVD", "renewals"].mean(), N, 2),
        ("Which branch has the largest total late fees?",
         lambda d: _top(d.groupby("Branch")["late_fee"].sum()), T),
        ("What percentage of loans were made by child members? One decimal.",
         lambda d: 100 * (d["MemberType"] == "Child").mean(), P, 1),
        ("How many items were returned after their due date?",
         lambda d: int((d["Returned"] > d["due_date"]).sum())),
        ("What genre do senior members borrow most often?",
         lambda d: d.loc[d["MemberType"] == "Senior", "genre"].value_counts().idxmax(), T),
        ("For books that have been returned, what's the average number of days between checkout and return? Round to 1 decimal.",
         lambda d: (d["Returned"] - d["Checkout Date"]).dt.days[(d["Format"] == "Book") & d["Returned"].notna()].mean(), N, 1),
    ],
    "restaurant_inspections": [
        ("How many inspections ended with an A grade?",
         lambda d: int((d["grade"] == "A").sum())),
        ("What's the average inspection score for Mexican restaurants? Round to 1 decimal.",
         lambda d: d.loc[d["cuisine"] == "Mexican", "score"].mean(), N, 1),
        ("Which district has the lowest average score?",
         lambda d: d.groupby("District")["score"].mean().idxmin(), T),
        ("How many distinct restaurants were inspected?",
         lambda d: int(d["Restaurant Name"].nunique())),
        ("What percent of complaint inspections led to a closure order? Round to 1 decimal.",
         lambda d: 100 * (d.loc[d["InspectionType"] == "Complaint", "closed_by_order"] == "Y").mean(), P, 1),
        ("Total number of critical violations found in routine inspections during 2024?",
         lambda d: int(d.loc[(d["InspectionType"] == "Routine") & (d["inspection_date"].dt.year == 2024), "critical_violations"].sum())),
        ("Which 3 cuisines have the most critical violations in total?",
         lambda d: d.groupby("cuisine")["critical_violations"].sum().nlargest(3).index.tolist(), S),
    ],
}
# fmt: on
