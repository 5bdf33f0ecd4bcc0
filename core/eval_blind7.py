# ruff: noqa: E501
"""A seventh blind set of analyst questions for `ask`.

Written on 2026-12-02 by a session that did not read the answering engine: 55 questions on 8 tables.
Each spec is (question, expected(df)[, kind[, digits]]); answers are compared by `core.eval_blind_check.correct`.

Tables (name: source; licence):
- glass_samples: 163 glass fragments with refractive index and eight oxide contents (UCI Glass Identification,
  German 1987), the two-class "glass2" version of the Penn Machine Learning Benchmark, OpenML data set 40675,
  bundled with scikit-learn as the test fixture datasets/tests/data/openml/id_40675/data-v1-dl-4965250.arff.gz
  (as shipped, the class as 0/1); UCI CC BY 4.0; file shipped under scikit-learn's BSD-3-Clause.
- nile_flow: annual flow of the Nile at Aswan, 1871-1970, 10^8 m^3 (Cobb 1978; Durbin & Koopman),
  statsmodels datasets/nile/nile.csv read as integers; public domain; shipped under statsmodels' BSD-3-Clause.
- arizona_medpar: 3,676 Arizona Medicare hospital stays of 1991 (MedPar; Hilbe, Negative Binomial
  Regression, R COUNT `medpar`): length of stay, admission type and a grouping code, bundled with statsmodels
  as genmod/tests/results/stata_medpar1_glm.csv (as shipped); public US Medicare data; file shipped under
  statsmodels' BSD-3-Clause.
- city_311_requests: synthetic non-emergency (311) service requests of a city, Jan-Oct 2025 (3400 rows),
  seeded numpy (seed 7101), generated here; no licence restrictions.
- airline_flights: synthetic flights of four regional airlines, Mar-Aug 2025 (3800 rows), seeded numpy
  (seed 7102), generated here; no licence restrictions.
- purchase_orders: synthetic procurement purchase orders of a manufacturer, 2025 (1900 rows), seeded numpy
  (seed 7103), generated here; no licence restrictions.
- community_grants: synthetic applications to a city's community grant programmes, 2024-2025 (900 rows),
  seeded numpy (seed 7104), generated here; no licence restrictions.
- utility_bills: synthetic monthly electricity bills of 260 accounts, Jan-Dec 2025 (3120 rows), seeded
  numpy (seed 7105), generated here; no licence restrictions.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import statsmodels

from core.eval_blind_check import B, D, M, N, P, S, T

_OPENML = Path(sklearn.__file__).parent / "datasets" / "tests" / "data" / "openml"
_SM = Path(statsmodels.__file__).parent


def _glass() -> pd.DataFrame:
    path = next((_OPENML / "id_40675").glob("*.arff.gz"))
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    names = [ln.split()[1].strip("'") for ln in lines if ln.lower().startswith("@attribute")]
    start = next(i for i, ln in enumerate(lines) if ln.strip().lower() == "@data") + 1
    body = "\n".join(ln for ln in lines[start:] if ln.strip() and not ln.startswith("%"))
    return pd.read_csv(io.StringIO(body), names=names)


def _nile() -> pd.DataFrame:
    return pd.read_csv(_SM / "datasets" / "nile" / "nile.csv").astype("int64")


def _medpar() -> pd.DataFrame:
    return pd.read_csv(_SM / "genmod" / "tests" / "results" / "stata_medpar1_glm.csv")


def _requests_311() -> pd.DataFrame:
    rng = np.random.default_rng(7101)
    n = 3400
    types = ["Pothole", "Noise - Residential", "Illegal Dumping", "Streetlight Out", "Graffiti",
             "Missed Trash Pickup", "Water Leak", "Abandoned Vehicle"]  # fmt: skip
    type_p = np.array([0.17, 0.19, 0.1, 0.11, 0.08, 0.15, 0.09, 0.11])
    ctype = rng.choice(types, n, p=type_p)
    agency = pd.Series(ctype).map(
        {
            "Pothole": "Public Works",
            "Noise - Residential": "Police",
            "Illegal Dumping": "Sanitation",
            "Streetlight Out": "Public Works",
            "Graffiti": "Sanitation",
            "Missed Trash Pickup": "Sanitation",
            "Water Leak": "Water Dept",
            "Abandoned Vehicle": "Police",
        }  # fmt: skip
    )
    cal = pd.date_range("2025-01-01", "2025-10-31")
    season = {
        "Pothole": lambda m: 1 + 1.2 * np.isin(m, [2, 3, 4]),
        "Noise - Residential": lambda m: 1 + 0.9 * np.isin(m, [6, 7, 8]),
    }
    monday = 1 + 0.9 * (cal.dayofweek.to_numpy() == 0)  # weekend dumping is reported on Monday
    created = np.empty(n, dtype="datetime64[ns]")
    for t in types:
        idx = np.flatnonzero(ctype == t)
        w = season.get(t, lambda m: np.ones(len(m)))(cal.month.to_numpy()) * (
            monday if t == "Illegal Dumping" else 1.0
        )
        created[idx] = rng.choice(cal.values, len(idx), p=w / w.sum())
    created = pd.DatetimeIndex(created) + pd.to_timedelta(rng.integers(6 * 60, 23 * 60, n), unit="min")
    order = np.argsort(created.values, kind="stable")
    ctype, created = ctype[order], created[order]
    agency = agency.to_numpy()[order]
    district = rng.choice(np.arange(1, 10), n, p=[0.14, 0.12, 0.1, 0.13, 0.09, 0.11, 0.1, 0.12, 0.09])
    # streetlights skew to district 4
    sl = ctype == "Streetlight Out"
    district[sl] = rng.choice(
        np.arange(1, 10), sl.sum(), p=[0.08, 0.08, 0.08, 0.28, 0.08, 0.1, 0.1, 0.1, 0.1]
    )
    channel = rng.choice(["Phone", "Mobile App", "Web", "Walk-in"], n, p=[0.38, 0.33, 0.24, 0.05])
    priority = np.where(np.isin(ctype, ["Water Leak"]) & (rng.random(n) < 0.6), "High",
                        rng.choice(["Low", "Medium", "High"], n, p=[0.42, 0.46, 0.12]))  # fmt: skip
    mean_h = (
        pd.Series(ctype)
        .map(
            {
                "Pothole": 140,
                "Noise - Residential": 6,
                "Illegal Dumping": 95,
                "Streetlight Out": 210,
                "Graffiti": 120,
                "Missed Trash Pickup": 30,
                "Water Leak": 40,
                "Abandoned Vehicle": 170,
            }  # fmt: skip
        )
        .to_numpy()
    )
    hours = rng.gamma(2.0, mean_h / 2.0) + 0.25
    closed = created + pd.to_timedelta(np.round(hours * 60), unit="min")
    status = np.where(rng.random(n) < 0.03, "Duplicate", "Closed").astype(object)
    still = closed > pd.Timestamp("2025-11-03 08:00")
    status[still] = np.where(rng.random(still.sum()) < 0.5, "Open", "In Progress")
    closed_s = pd.Series(closed).where(~still)
    sat = rng.choice([1, 2, 3, 4, 5], n, p=[0.12, 0.12, 0.2, 0.3, 0.26]).astype(float)
    sat[(rng.random(n) < 0.62) | still] = np.nan
    return pd.DataFrame(
        {
            "Request ID": [f"SR-25-{100001 + i}" for i in range(n)],
            "Created Date": created,
            "Closed Date": closed_s.to_numpy(),
            "Complaint Type": ctype,
            "Agency": agency,
            "Council District": district,
            "Channel": channel,
            "Priority": priority,
            "Status": status,
            "SatisfactionScore": sat,
        }
    )


def _flights() -> pd.DataFrame:
    rng = np.random.default_rng(7102)
    n = 3800
    carriers = ["Aurora Air", "Pacific Jet", "Lakeshore Airlines", "Summit Connect"]
    carrier = rng.choice(carriers, n, p=[0.34, 0.28, 0.22, 0.16])
    airports = ["SEA", "PDX", "SFO", "DEN", "PHX", "LAS", "SLC", "BOI"]
    ap_w = np.array([0.2, 0.12, 0.17, 0.15, 0.1, 0.11, 0.09, 0.06])
    orig = rng.choice(airports, n, p=ap_w)
    dest = np.array(
        [
            rng.choice(
                [a for a in airports if a != o],
                p=np.delete(ap_w, airports.index(o)) / (1 - ap_w[airports.index(o)]),
            )
            for o in orig
        ]
    )
    coords = {"SEA": (47.4, -122.3), "PDX": (45.6, -122.6), "SFO": (37.6, -122.4), "DEN": (39.9, -104.7),
              "PHX": (33.4, -112.0), "LAS": (36.1, -115.2), "SLC": (40.8, -112.0), "BOI": (43.6, -116.2)}  # fmt: skip
    dist = np.array(
        [
            round(69 * np.hypot(coords[o][0] - coords[d][0], 0.8 * (coords[o][1] - coords[d][1])) * 1.05)
            for o, d in zip(orig, dest, strict=True)
        ]
    )
    cal = pd.date_range("2025-03-01", "2025-08-31")
    date = pd.DatetimeIndex(np.sort(rng.choice(cal.values, n)))
    fnum = np.array(
        [
            {"Aurora Air": "AU", "Pacific Jet": "PJ", "Lakeshore Airlines": "LS", "Summit Connect": "SC"}[c]
            for c in carrier
        ]
    )
    fnum = np.char.add(fnum, rng.integers(100, 2999, n).astype(str))
    p_cx = 0.012 + 0.02 * (date.month == 7) + 0.012 * (carrier == "Summit Connect") + 0.01 * (orig == "DEN")
    cancelled = rng.random(n) < p_cx
    reason = rng.choice(
        ["Weather", "Carrier", "Air Traffic Control", "Security"], n, p=[0.46, 0.34, 0.18, 0.02]
    ).astype(object)
    reason[~cancelled] = None
    base = (
        pd.Series(carrier)
        .map({"Aurora Air": 6, "Pacific Jet": 11, "Lakeshore Airlines": 8, "Summit Connect": 14})
        .to_numpy()
    )
    dep = np.where(
        rng.random(n) < 0.55, rng.integers(-8, 3, n), rng.exponential(base * 2.2 + 6 * (orig == "SFO"))
    ).round()
    arr = (dep + rng.normal(-4, 9, n)).round()
    dep, arr = dep.astype(float), arr.astype(float)
    dep[cancelled] = np.nan
    arr[cancelled] = np.nan
    seats = (
        pd.Series(carrier)
        .map({"Aurora Air": 178, "Pacific Jet": 150, "Lakeshore Airlines": 126, "Summit Connect": 76})
        .to_numpy()
    )
    pax = np.minimum(seats, rng.normal(seats * 0.82, seats * 0.1)).round().astype(float)
    pax[cancelled] = 0
    return pd.DataFrame(
        {
            "FlightDate": date,
            "Carrier": carrier,
            "FlightNo": fnum,
            "Orig": orig,
            "Dest": dest,
            "Distance (mi)": dist,
            "DepDelayMin": dep,
            "ArrDelayMin": arr,
            "Cancelled": cancelled.astype(int),
            "Cancel Reason": reason,
            "Seats": seats,
            "Pax": pax.astype(int),
        }
    )


def _purchase_orders() -> pd.DataFrame:
    rng = np.random.default_rng(7103)
    n = 1900
    vendors = [
        "Grainger",
        "Uline",
        "CDW",
        "Fisher Scientific",
        "McMaster-Carr",
        "Staples Business",
        "Acme Metals",
        "Pinnacle Facility Svcs",
    ]
    cats = {"Grainger": "MRO", "Uline": "Packaging", "CDW": "IT Hardware", "Fisher Scientific": "Lab Consumables",
            "McMaster-Carr": "MRO", "Staples Business": "Office Supplies", "Acme Metals": "Raw Materials",
            "Pinnacle Facility Svcs": "Facilities Services"}  # fmt: skip
    vendor = rng.choice(vendors, n, p=[0.16, 0.15, 0.12, 0.11, 0.14, 0.1, 0.14, 0.08])
    category = np.array([cats[v] for v in vendor])
    dept_for = {"MRO": ["Ops", "Facilities"], "Packaging": ["Ops"], "IT Hardware": ["IT", "Finance", "R&D"],
                "Lab Consumables": ["R&D"], "Office Supplies": ["Finance", "IT", "Ops", "R&D"],
                "Raw Materials": ["Ops"], "Facilities Services": ["Facilities"]}  # fmt: skip
    dept = np.array([rng.choice(dept_for[c]) for c in category])
    cal = pd.bdate_range("2025-01-02", "2025-11-28")
    order_date = pd.DatetimeIndex(np.sort(rng.choice(cal.values, n)))
    lead = pd.Series(vendor).map({"Grainger": 4, "Uline": 5, "CDW": 8, "Fisher Scientific": 7, "McMaster-Carr": 3,
                                  "Staples Business": 3, "Acme Metals": 21, "Pinnacle Facility Svcs": 10}).to_numpy()  # fmt: skip
    expected = order_date + pd.to_timedelta(lead, unit="D")
    p_late = pd.Series(vendor).map({"Acme Metals": 0.42, "CDW": 0.2, "Uline": 0.12}).fillna(0.08).to_numpy()
    slip = np.where(rng.random(n) < p_late, rng.integers(1, 12, n), -rng.integers(0, 3, n))
    received = expected + pd.to_timedelta(slip, unit="D")
    status = np.where(rng.random(n) < 0.045, "Cancelled", "Received").astype(object)
    pending = received > pd.Timestamp("2025-12-01")
    status[pending & (status != "Cancelled")] = "Open"
    part = (status == "Received") & (rng.random(n) < 0.05)
    status[part] = "Partially Received"
    rec = pd.Series(received).where(np.isin(status, ["Received", "Partially Received"]))
    price = pd.Series(category).map({"MRO": 38, "Packaging": 1.9, "IT Hardware": 640, "Lab Consumables": 85,
                                     "Office Supplies": 14, "Raw Materials": 5.5, "Facilities Services": 1250}).to_numpy()  # fmt: skip
    qty_mu = pd.Series(category).map({"MRO": 12, "Packaging": 900, "IT Hardware": 4, "Lab Consumables": 20,
                                      "Office Supplies": 25, "Raw Materials": 2500, "Facilities Services": 2}).to_numpy()  # fmt: skip
    qty = np.maximum(1, rng.poisson(qty_mu))
    unit = (price * rng.lognormal(0, 0.25, n)).round(2)
    approver = np.where(
        qty * unit > 10000, "J. Whitfield (CFO)", rng.choice(["M. Tan", "R. Oyelaran", "S. Becker"], n)
    )
    return pd.DataFrame(
        {
            "PO_Number": [f"PO{4500100 + i}" for i in range(n)],
            "OrderDate": order_date,
            "ExpectedDelivery": expected,
            "ReceivedDate": rec.to_numpy(),
            "Vendor": vendor,
            "Category": category,
            "Dept": dept,
            "Qty": qty,
            "UnitCost (USD)": unit,
            "TotalUSD": (qty * unit).round(2),
            "Approver": approver,
            "Status": status,
        }
    )


def _grants() -> pd.DataFrame:
    rng = np.random.default_rng(7104)
    n = 900
    programs = [
        "Arts & Culture",
        "Youth Sports",
        "Small Business Recovery",
        "Neighborhood Beautification",
        "Senior Services",
    ]
    program = rng.choice(programs, n, p=[0.22, 0.2, 0.27, 0.16, 0.15])
    app_type = np.array([
        rng.choice(["Individual Artist", "Nonprofit", "School"], p=[0.45, 0.45, 0.1]) if p == "Arts & Culture"
        else rng.choice(["Small Business", "Nonprofit"], p=[0.88, 0.12]) if p == "Small Business Recovery"
        else rng.choice(["Nonprofit", "School", "Neighborhood Association"], p=[0.55, 0.2, 0.25])
        for p in program
    ])  # fmt: skip
    ward = rng.choice([f"Ward {i}" for i in range(1, 9)], n)
    cycles = pd.to_datetime(["2024-03-15", "2024-09-15", "2025-03-15", "2025-09-15"])
    cyc = rng.choice(4, n, p=[0.22, 0.24, 0.27, 0.27])
    submitted = cycles[cyc] - pd.to_timedelta(rng.integers(0, 45, n), unit="D")
    ask_mu = pd.Series(program).map({"Arts & Culture": 9000, "Youth Sports": 14000, "Small Business Recovery": 22000,
                                     "Neighborhood Beautification": 7000, "Senior Services": 16000}).to_numpy()  # fmt: skip
    requested = (np.round(rng.lognormal(np.log(ask_mu), 0.45) / 50) * 50).clip(500, 75000)
    score = rng.normal(68, 12, n).clip(20, 99).round()
    p_ok = 1 / (1 + np.exp(-(score - 70) / 6))
    decision = np.where(rng.random(n) < p_ok, "Approved", "Declined").astype(object)
    decision[rng.random(n) < 0.04] = "Withdrawn"
    decided = cycles[cyc] + pd.to_timedelta(rng.integers(40, 110, n), unit="D")
    pending = (cyc == 3) & (rng.random(n) < 0.45)
    decision[pending] = "Pending"
    dec_date = pd.Series(decided).where(~np.isin(decision, ["Pending", "Withdrawn"]))
    awarded = np.where(
        decision == "Approved",
        np.round(requested * rng.choice([1.0, 0.75, 0.5], n, p=[0.55, 0.3, 0.15]) / 50) * 50,
        0.0,
    )
    awarded[np.isin(decision, ["Pending", "Withdrawn"])] = np.nan
    score[pending | (rng.random(n) < 0.05)] = np.nan
    return pd.DataFrame(
        {
            "App ID": [f"CG-{2400 + i}" for i in range(n)],
            "Submitted": submitted,
            "Decision Date": dec_date.to_numpy(),
            "Program": program,
            "Applicant Type": app_type,
            "Ward": ward,
            "AmountRequested": requested,
            "AmountAwarded": awarded,
            "Decision": decision,
            "ReviewerScore": score,
            "FirstTimeApplicant": rng.choice(["Y", "N"], n, p=[0.4, 0.6]),
        }
    )


def _bills() -> pd.DataFrame:
    rng = np.random.default_rng(7105)
    accts = 260
    plan = rng.choice(
        ["Residential Standard", "Residential TOU", "Small Commercial", "EV Saver"],
        accts,
        p=[0.5, 0.2, 0.18, 0.12],
    )
    area = rng.choice(
        ["Northgate", "Riverside", "Hillcrest", "Old Town", "Lakeview"],
        accts,
        p=[0.24, 0.22, 0.2, 0.16, 0.18],
    )
    meter = np.where(rng.random(accts) < 0.78, "Smart", "Analog")
    autopay = rng.random(accts) < 0.44
    base = (
        pd.Series(plan)
        .map(
            {"Residential Standard": 720, "Residential TOU": 680, "Small Commercial": 2300, "EV Saver": 1150}
        )
        .to_numpy()
    )
    base = base * rng.lognormal(0, 0.3, accts) * (1 + 0.25 * (area == "Hillcrest"))
    months = pd.date_range("2025-01-01", "2025-12-01", freq="MS")
    a_idx = np.repeat(np.arange(accts), 12)
    m_idx = np.tile(np.arange(12), accts)
    season = np.array([1.25, 1.15, 1.0, 0.88, 0.85, 1.05, 1.3, 1.35, 1.05, 0.9, 1.0, 1.2])
    kwh = (base[a_idx] * season[m_idx] * rng.normal(1, 0.08, len(a_idx))).round()
    rate = (
        pd.Series(plan[a_idx])
        .map(
            {
                "Residential Standard": 0.162,
                "Residential TOU": 0.148,
                "Small Commercial": 0.139,
                "EV Saver": 0.131,
            }
        )
        .to_numpy()
    )
    amount = (12.5 + kwh * rate).round(2)
    bill_month = months[m_idx]
    due = bill_month + pd.offsets.MonthEnd(0) + pd.to_timedelta(21, unit="D")
    pay_lag = np.where(autopay[a_idx], rng.integers(-3, 1, len(a_idx)), rng.integers(-15, 12, len(a_idx)))
    paid = pd.Series(due + pd.to_timedelta(pay_lag, unit="D"))
    paid = paid.where((paid <= pd.Timestamp("2026-01-10")) & (rng.random(len(a_idx)) > 0.015))
    est = np.where((meter[a_idx] == "Analog") & (rng.random(len(a_idx)) < 0.3), "Y", "N")
    kwh_col = kwh.copy()
    out = pd.DataFrame(
        {
            "AcctNo": [f"E-{310000 + a * 7}" for a in a_idx],
            "BillMonth": bill_month,
            "Rate Plan": plan[a_idx],
            "ServiceArea": area[a_idx],
            "MeterType": meter[a_idx],
            "kWh_used": kwh_col,
            "Amount Due ($)": amount,
            "DueDate": due,
            "PaidDate": paid.to_numpy(),
            "Autopay": autopay[a_idx],
            "EstimatedRead": est,
        }
    )
    return out


def _closed_hours(d: pd.DataFrame) -> pd.Series:
    return (d["Closed Date"] - d["Created Date"]).dt.total_seconds() / 3600


def _month_kwh(d: pd.DataFrame, month: int) -> float:
    return float(d.loc[d["BillMonth"].dt.month == month, "kWh_used"].sum())


TABLES: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    "glass_samples": (
        _glass,
        "UCI Glass Identification (German 1987), two-class glass2 version (PMLB), OpenML 40675 as bundled in scikit-learn's test fixtures; UCI CC BY 4.0, shipped under BSD-3-Clause",
    ),
    "nile_flow": (
        _nile,
        "Annual Nile flow at Aswan 1871-1970 (Cobb 1978; Durbin & Koopman), statsmodels datasets/nile; public domain, shipped under BSD-3-Clause",
    ),
    "arizona_medpar": (
        _medpar,
        "1991 Arizona Medicare (MedPar) hospital stays (Hilbe; R COUNT medpar), statsmodels test data stata_medpar1_glm.csv; public US data, shipped under BSD-3-Clause",
    ),
    "city_311_requests": (
        _requests_311,
        "synthetic, seeded numpy (seed 7101), generated in this file; no licence restrictions",
    ),
    "airline_flights": (
        _flights,
        "synthetic, seeded numpy (seed 7102), generated in this file; no licence restrictions",
    ),
    "purchase_orders": (
        _purchase_orders,
        "synthetic, seeded numpy (seed 7103), generated in this file; no licence restrictions",
    ),
    "community_grants": (
        _grants,
        "synthetic, seeded numpy (seed 7104), generated in this file; no licence restrictions",
    ),
    "utility_bills": (
        _bills,
        "synthetic, seeded numpy (seed 7105), generated in this file; no licence restrictions",
    ),
}

# fmt: off
SPECS: dict[str, list[tuple]] = {
    "glass_samples": [
        ("How many samples contain no barium at all?", lambda d: int((d["Barium"] == 0).sum())),
        ("mean refractive index of class 1 glass, 4 dp", lambda d: float(d.loc[d["class"] == 1, "Refractive_Index"].mean()), N, 4),
        ("What % of the fragments have any iron in them? 1 decimal", lambda d: float((d["Iron"] > 0).mean() * 100), P, 1),
        ("Median magnesium content for class 0 samples?", lambda d: float(d.loc[d["class"] == 0, "Magnesium"].median())),
        ("Is average calcium higher in class 1 than in class 0?", lambda d: bool(d.loc[d["class"] == 1, "Calcium"].mean() > d.loc[d["class"] == 0, "Calcium"].mean()), B),
        ("How many class 0 samples have sodium above 14?", lambda d: int(((d["class"] == 0) & (d["Sodium"] > 14)).sum())),
    ],
    "nile_flow": [
        ("Which year had the lowest Nile flow?", lambda d: int(d.loc[d["volume"].idxmin(), "year"])),
        ("how many years was the volume over 1000", lambda d: int((d["volume"] > 1000).sum())),
        ("Average annual volume before 1899 minus the average from 1899 on — 1 dp", lambda d: float(d.loc[d["year"] < 1899, "volume"].mean() - d.loc[d["year"] >= 1899, "volume"].mean()), N, 1),
        ("Median flow in the 1950s (1950-1959)?", lambda d: float(d.loc[d["year"].between(1950, 1959), "volume"].median())),
        ("In which year did the flow fall the most compared with the year before?", lambda d: int(d.loc[d["volume"].diff().idxmin(), "year"])),
        ("By what percent did the mean flow of the 1960s differ from that of the 1870s (1871-1879)? 1 dp, negative if it fell", lambda d: float((d.loc[d["year"].between(1960, 1969), "volume"].mean() / d.loc[d["year"].between(1871, 1879), "volume"].mean() - 1) * 100), P, 1),
    ],
    "arizona_medpar": [
        ("Average length of stay for type3 admissions, 2 decimals", lambda d: float(d.loc[d["admitype"] == "type3", "los"].mean()), N, 2),
        ("How many stays were longer than 30 days?", lambda d: int((d["los"] > 30).sum())),
        ("What share of admissions are type1|2? as a percentage, 1 dp", lambda d: float((d["admitype"] == "type1|2").mean() * 100), P, 1),
        ("total bed days (sum of LOS) for stays with code 9", lambda d: int(d.loc[d["codes"] == 9, "los"].sum())),
        ("Is the mean LOS of type3 admissions more than 1.5 times that of type1|2 admissions?", lambda d: bool(d.loc[d["admitype"] == "type3", "los"].mean() > 1.5 * d.loc[d["admitype"] == "type1|2", "los"].mean()), B),
        ("How many single-day stays (los of 1) were type3?", lambda d: int(((d["los"] == 1) & (d["admitype"] == "type3")).sum())),
    ],
    "city_311_requests": [
        ("How many pothole reports came in through the mobile app?", lambda d: int(((d["Complaint Type"] == "Pothole") & (d["Channel"] == "Mobile App")).sum())),
        ("Which month had the most noise complaints?", lambda d: int(d.loc[d["Complaint Type"] == "Noise - Residential", "Created Date"].dt.month.value_counts().idxmax()), M),
        ("how many requests don't have a closed date yet", lambda d: int(d["Closed Date"].isna().sum())),
        ("Median time to close a water leak request, in hours, 1 dp (only requests with a closed date)", lambda d: float(_closed_hours(d[d["Complaint Type"] == "Water Leak"]).median()), N, 1),
        ("Which council district logged the most streetlight outages?", lambda d: int(d.loc[d["Complaint Type"] == "Streetlight Out", "Council District"].value_counts().idxmax())),
        ("Avg satisfaction score for Sanitation requests? 2 dp", lambda d: float(d.loc[d["Agency"] == "Sanitation", "SatisfactionScore"].mean()), N, 2),
        ("What day of the week do people report illegal dumping most?", lambda d: str(d.loc[d["Complaint Type"] == "Illegal Dumping", "Created Date"].dt.day_name().value_counts().idxmax()), T),
        ("Which complaint type takes longest to close on average? Measure from created to closed date, requests with a closed date only.", lambda d: str(_closed_hours(d).groupby(d["Complaint Type"]).mean().idxmax()), T),
    ],
    "airline_flights": [
        ("How many flights were cancelled in July?", lambda d: int(((d["Cancelled"] == 1) & (d["FlightDate"].dt.month == 7)).sum())),
        ("What % of Summit Connect flights got cancelled? 2 dp", lambda d: float(d.loc[d["Carrier"] == "Summit Connect", "Cancelled"].mean() * 100), P, 2),
        ("avg departure delay in minutes for flights out of SFO that actually flew, 1 dp", lambda d: float(d.loc[(d["Orig"] == "SFO") & (d["Cancelled"] == 0), "DepDelayMin"].mean()), N, 1),
        ("How many weather cancellations were there?", lambda d: int((d["Cancel Reason"] == "Weather").sum())),
        ("Load factor for Lakeshore: total passengers over total seats on its non-cancelled flights, as a %, 1 dp", lambda d: float(d.loc[(d["Carrier"] == "Lakeshore Airlines") & (d["Cancelled"] == 0), "Pax"].sum() / d.loc[(d["Carrier"] == "Lakeshore Airlines") & (d["Cancelled"] == 0), "Seats"].sum() * 100), P, 1),
        ("Top 3 destination airports by total passengers", lambda d: d.groupby("Dest")["Pax"].sum().nlargest(3).index.tolist(), S),
        ("Which carrier has the worst on-time arrival rate, counting a flight late if it arrived 15+ min behind schedule? Ignore cancelled flights.", lambda d: str((d.loc[d["Cancelled"] == 0, "ArrDelayMin"] >= 15).groupby(d.loc[d["Cancelled"] == 0, "Carrier"]).mean().idxmax()), T),
    ],
    "purchase_orders": [
        ("How many R&D POs got cancelled?", lambda d: int(((d["Dept"] == "R&D") & (d["Status"] == "Cancelled")).sum())),
        ("Total spend on packaging, excluding cancelled POs, to the nearest dollar", lambda d: float(d.loc[(d["Category"] == "Packaging") & (d["Status"] != "Cancelled"), "TotalUSD"].sum()), N, 0),
        ("Which vendor delivered late the most times? late = received after the expected delivery date", lambda d: str(d.loc[d["ReceivedDate"] > d["ExpectedDelivery"], "Vendor"].value_counts().idxmax()), T),
        ("Average days from order to receipt for IT Hardware orders that have a received date, 1 dp", lambda d: float((d["ReceivedDate"] - d["OrderDate"]).dt.days[d["Category"] == "IT Hardware"].mean()), N, 1),
        ("When was the last PO placed with Acme Metals?", lambda d: d.loc[d["Vendor"] == "Acme Metals", "OrderDate"].max().date(), D),
        ("What percentage of POs have no received date? 1dp", lambda d: float(d["ReceivedDate"].isna().mean() * 100), P, 1),
        ("Was Q2 spend higher than Q1 spend? Use order date, leave out cancelled POs.", lambda d: bool(d.loc[(d["OrderDate"].dt.quarter == 2) & (d["Status"] != "Cancelled"), "TotalUSD"].sum() > d.loc[(d["OrderDate"].dt.quarter == 1) & (d["Status"] != "Cancelled"), "TotalUSD"].sum()), B),
    ],
    "community_grants": [
        ("How many nonprofits were approved?", lambda d: int(((d["Applicant Type"] == "Nonprofit") & (d["Decision"] == "Approved")).sum())),
        ("Approval rate for Youth Sports, as % of the applications that were approved or declined (ignore pending and withdrawn), 1 dp", lambda d: float((d.loc[(d["Program"] == "Youth Sports") & d["Decision"].isin(["Approved", "Declined"]), "Decision"] == "Approved").mean() * 100), P, 1),
        ("Total $ awarded in Ward 3?", lambda d: float(d.loc[d["Ward"] == "Ward 3", "AmountAwarded"].sum()), N, 0),
        ("Which program has the highest average amount requested?", lambda d: str(d.groupby("Program")["AmountRequested"].mean().idxmax()), T),
        ("On average how many days from submission to decision? 1 dp, only apps with a decision date", lambda d: float((d["Decision Date"] - d["Submitted"]).dt.days.mean()), N, 1),
        ("For approved Small Business Recovery apps, what fraction of the money requested was actually awarded (total awarded / total requested)? as a %, 1 dp", lambda d: float(d.loc[(d["Program"] == "Small Business Recovery") & (d["Decision"] == "Approved"), "AmountAwarded"].sum() / d.loc[(d["Program"] == "Small Business Recovery") & (d["Decision"] == "Approved"), "AmountRequested"].sum() * 100), P, 1),
        ("When did the first Youth Sports application come in?", lambda d: d.loc[d["Program"] == "Youth Sports", "Submitted"].min().date(), D),
        ("how many applications are missing a reviewer score", lambda d: int(d["ReviewerScore"].isna().sum())),
    ],
    "utility_bills": [
        ("Total kWh billed in Riverside for July 2025?", lambda d: float(d.loc[(d["ServiceArea"] == "Riverside") & (d["BillMonth"].dt.month == 7), "kWh_used"].sum())),
        ("How many bills were paid after the due date?", lambda d: int((d["PaidDate"] > d["DueDate"]).sum())),
        ("average bill for EV Saver customers, to 2 decimals", lambda d: float(d.loc[d["Rate Plan"] == "EV Saver", "Amount Due ($)"].mean()), N, 2),
        ("Which service area has the highest median monthly usage?", lambda d: str(d.groupby("ServiceArea")["kWh_used"].median().idxmax()), T),
        ("What % of bills were based on an estimated read? one decimal", lambda d: float((d["EstimatedRead"] == "Y").mean() * 100), P, 1),
        ("How many different accounts are on autopay?", lambda d: int(d.loc[d["Autopay"], "AcctNo"].nunique())),
        ("Percent change in total kWh from January to April, 1 dp", lambda d: float((_month_kwh(d, 4) / _month_kwh(d, 1) - 1) * 100), P, 1),
    ],
}
# fmt: on
