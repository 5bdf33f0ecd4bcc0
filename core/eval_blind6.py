# ruff: noqa: E501
"""A sixth blind set of analyst questions for `ask`.

Written on 2026-12-02 by a session that did not read the answering engine: 53 questions on 8 tables.
Each spec is (question, expected(df)[, kind[, digits]]); answers are compared by `core.eval_blind_check.correct`.

Tables (name: source; licence):
- titanic_passengers: the 1,309 passengers of the Titanic (Frank Harrell's titanic3 table, from Encyclopedia
  Titanica), OpenML data set 40945, bundled with scikit-learn as the test fixture
  datasets/tests/data/openml/id_40945/data-v1-dl-16826755.arff.gz (read as shipped, "?" as missing);
  OpenML public data; file shipped under scikit-learn's BSD-3-Clause.
- palmer_penguins: 344 penguins measured at Palmer Station, Antarctica (Gorman, Williams & Fraser 2014;
  R palmerpenguins), OpenML data set 42585, bundled with scikit-learn as the test fixture
  datasets/tests/data/openml/id_42585/data-v1-dl-21854866.arff.gz (as shipped, including its one "_" sex);
  CC0; file shipped under scikit-learn's BSD-3-Clause.
- cpu_performance: relative CPU performance of 209 computers (Ein-Dor & Feldmesser 1987, UCI Computer
  Hardware), OpenML data set 561, bundled with scikit-learn as the test fixture
  datasets/tests/data/openml/id_561/data-v1-dl-52739.arff.gz; the target column "class" (the estimated
  relative performance) renamed ERP; UCI CC BY 4.0; file shipped under scikit-learn's BSD-3-Clause.
- zoo_animals: UCI Zoo database (Forsyth 1990), 101 animals with 16 traits and a type, OpenML data set 62,
  bundled with scikit-learn as the test fixture datasets/tests/data/openml/id_62/data-v1-dl-52352.arff.gz
  (as shipped: the trait columns as booleans, the type as a label); UCI CC BY 4.0; file shipped under
  scikit-learn's BSD-3-Clause.
- freight_shipments: synthetic outbound freight shipments from four distribution centres, Jan-Nov 2025
  (2400 rows), seeded numpy (seed 6101), generated here; no licence restrictions.
- production_batches: synthetic factory production batches with QC results, Jan-Sep 2025 (1600 rows),
  seeded numpy (seed 6102), generated here; no licence restrictions.
- fleet_fuel_log: synthetic fuel-card transactions of a delivery fleet, Jan-Jun 2025 (2800 rows), seeded
  numpy (seed 6103), generated here; no licence restrictions.
- concert_ticket_sales: synthetic ticket orders for eight concerts and shows, 2025 (3000 rows), seeded
  numpy (seed 6104), generated here; no licence restrictions.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn

from core.eval_blind_check import B, D, M, N, P, S, T

_OPENML = Path(sklearn.__file__).parent / "datasets" / "tests" / "data" / "openml"


def _arff(folder: str) -> pd.DataFrame:
    """A dense ARFF file of scikit-learn's OpenML fixtures, read as a table ("?" is missing)."""
    path = next((_OPENML / folder).glob("*.arff.gz"))
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    names = [ln.split()[1].strip("'") for ln in lines if ln.lower().startswith("@attribute")]
    start = next(i for i, ln in enumerate(lines) if ln.strip().lower() == "@data") + 1
    body = "\n".join(ln for ln in lines[start:] if ln.strip() and not ln.startswith("%"))
    return pd.read_csv(
        io.StringIO(body), names=names, na_values=["?"], keep_default_na=False, skipinitialspace=True
    )


def _titanic() -> pd.DataFrame:
    return _arff("id_40945")


def _penguins() -> pd.DataFrame:
    return _arff("id_42585")


def _cpu() -> pd.DataFrame:
    return _arff("id_561").rename(columns={"class": "ERP"})


def _zoo() -> pd.DataFrame:
    return _arff("id_62")


def _freight() -> pd.DataFrame:
    rng = np.random.default_rng(6101)
    n = 2400
    carriers = np.array(["BlueLine Logistics", "NorthStar Cargo", "Coastal Express", "Prairie Freight"])
    carrier = rng.choice(carriers, n, p=[0.32, 0.28, 0.22, 0.18])
    origin = rng.choice(["DC-Reno", "DC-Dallas", "DC-Atlanta", "DC-Columbus"], n, p=[0.2, 0.3, 0.28, 0.22])
    service = rng.choice(["Ground", "2-Day", "Overnight"], n, p=[0.62, 0.26, 0.12])
    cal = pd.date_range("2025-01-02", "2025-11-28")
    day_w = np.where(cal.dayofweek >= 5, 0.15, 1.0) * (1 + 0.25 * np.isin(cal.month, [9, 10]))
    ship = pd.DatetimeIndex(np.sort(rng.choice(cal.values, n, p=day_w / day_w.sum())))
    states = ["CA", "TX", "FL", "NY", "IL", "GA", "OH", "WA", "AZ", "CO", "NC", "PA"]
    dest = rng.choice(states, n, p=[0.16, 0.14, 0.11, 0.1, 0.08, 0.07, 0.07, 0.06, 0.06, 0.05, 0.05, 0.05])
    promised = pd.Series(service).map({"Ground": 5, "2-Day": 2, "Overnight": 1}).to_numpy()
    p_late = pd.Series(carrier).map(
        {"BlueLine Logistics": 0.08, "NorthStar Cargo": 0.12, "Coastal Express": 0.2, "Prairie Freight": 0.15}
    )
    late = rng.random(n) < p_late.to_numpy()
    early = np.where(service == "Ground", rng.integers(0, 3, n), 0)
    transit = np.maximum(1, promised - early + np.where(late, rng.integers(1, 5, n), 0))
    status = np.where(rng.random(n) < 0.012, "Lost", np.where(rng.random(n) < 0.02, "Returned", "Delivered"))
    arrives = ship + pd.to_timedelta(transit, unit="D")
    status = np.where((status == "Delivered") & (arrives > pd.Timestamp("2025-11-30")), "In Transit", status)
    delivered = pd.Series(arrives).where(status == "Delivered")
    wt = rng.lognormal(np.log(160), 0.7, n).clip(2, 4000).round(1)
    rate = pd.Series(service).map({"Ground": 0.42, "2-Day": 0.95, "Overnight": 1.9}).to_numpy()
    c_adj = pd.Series(carrier).map(
        {"BlueLine Logistics": 1.05, "NorthStar Cargo": 1.0, "Coastal Express": 0.9, "Prairie Freight": 0.95}
    )
    cost = ((35 + rate * wt) * c_adj.to_numpy() * rng.normal(1, 0.06, n)).round(2)
    cost[status == "In Transit"] = np.nan
    claim = np.where(rng.random(n) < 0.035 + 0.03 * (origin == "DC-Reno"), "Y", "N").astype(object)
    claim[rng.random(n) < 0.1] = None
    return pd.DataFrame(
        {
            "Shipment ID": [f"SHP-{25000 + i:06d}" for i in range(n)],
            "ShipDate": ship,
            "Delivered Date": delivered.to_numpy(),
            "Carrier": carrier,
            "origin_dc": origin,
            "dest_state": dest,
            "Service Level": service,
            "wt_kg": wt,
            "Pallets": np.maximum(1, np.ceil(wt / 450)).astype(int),
            "FreightCost_USD": cost,
            "promised_days": promised,
            "Status": status,
            "damage_claim": claim,
        }
    )


def _batches() -> pd.DataFrame:
    rng = np.random.default_rng(6102)
    n = 1600
    cal = pd.date_range("2025-01-06", "2025-09-30")
    cal = cal[cal.dayofweek < 6]
    date = pd.DatetimeIndex(np.sort(rng.choice(cal.values, n)))
    line = rng.choice(["L1", "L2", "L3", "L4"], n, p=[0.3, 0.25, 0.25, 0.2])
    shift = rng.choice(["Day", "Swing", "Night"], n, p=[0.4, 0.33, 0.27])
    product = rng.choice(
        ["Bracket-A", "Bracket-B", "Hinge-S", "Hinge-L", "Clamp-X"], n, p=[0.25, 0.2, 0.2, 0.15, 0.2]
    )
    size = pd.Series(product).map(
        {"Bracket-A": 1400, "Bracket-B": 1100, "Hinge-S": 1800, "Hinge-L": 900, "Clamp-X": 1250}
    )
    units = np.maximum(100, rng.normal(size.to_numpy(), 180)).astype(int)
    p_def = 0.014 + 0.008 * (shift == "Night") + 0.003 * (shift == "Swing") + 0.005 * (line == "L3")
    p_def = p_def * rng.lognormal(0, 0.45, n)
    defective = rng.binomial(units, np.clip(p_def, 0, 0.2))
    rate = defective / units
    qc = np.where(rate > 0.035, "Fail", np.where(rate > 0.026, "Rework", "Pass")).astype(object)
    flip = rng.random(n) < 0.03
    qc[flip] = rng.choice(["Pass", "Rework", "Fail"], flip.sum())
    downtime = np.where(rng.random(n) < 0.4, 0, rng.exponential(28, n) * (1 + 0.6 * (line == "L4"))).astype(
        int
    )
    crews = {"L1": ["R. Patel", "J. Moreno", "K. Osei"], "L2": ["A. Novak", "S. Kim", "T. Brennan"],
             "L3": ["M. Haddad", "L. Fischer", "D. Okoro"], "L4": ["P. Silva", "E. Larsen", "C. Wu"]}  # fmt: skip
    crew_p = [0.45, 0.33, 0.22]
    operator = np.array([crews[ln][rng.choice(3, p=crew_p)] for ln in line])
    temp = rng.normal(21.5 + 2.5 * np.isin(date.month, [6, 7, 8]), 1.4).round(1)
    temp[rng.random(n) < 0.06] = np.nan
    return pd.DataFrame(
        {
            "BatchNo": [f"B25-{i + 1:05d}" for i in range(n)],
            "prod_date": date,
            "Line": line,
            "Shift": shift,
            "Product": product,
            "UnitsProduced": units,
            "UnitsDefective": defective,
            "DowntimeMin": downtime,
            "Operator": operator,
            "QC_Result": qc,
            "Ambient Temp (C)": temp,
        }
    )


def _fleet_fuel() -> pd.DataFrame:
    rng = np.random.default_rng(6103)
    n = 2800
    vehicles = (
        [f"VAN-{i:02d}" for i in range(1, 15)]
        + [f"TRK-{i:02d}" for i in range(1, 9)]
        + [f"PU-{i:02d}" for i in range(1, 9)]
    )
    vclass = {v: {"VAN": "Van", "TRK": "Box Truck", "PU": "Pickup"}[v.split("-")[0]] for v in vehicles}
    regions = ["North", "South", "East", "West"]
    home = {v: regions[i % 4] for i, v in enumerate(vehicles)}
    van_fuel = {v: ("Diesel" if rng.random() < 0.6 else "Unleaded") for v in vehicles if vclass[v] == "Van"}
    vw = np.array([{"Van": 1.0, "Box Truck": 1.3, "Pickup": 0.7}[vclass[v]] for v in vehicles]) * rng.uniform(
        0.7, 1.3, len(vehicles)
    )
    veh = rng.choice(vehicles, n, p=vw / vw.sum())
    cal = pd.date_range("2025-01-01", "2025-06-30")
    day_w = np.where(cal.dayofweek == 6, 0.35, np.where(cal.dayofweek == 5, 0.6, 1.0))
    days = rng.choice(len(cal), n, p=day_w / day_w.sum())
    ts = (
        pd.Timestamp("2025-01-01")
        + pd.to_timedelta(days, unit="D")
        + pd.to_timedelta(rng.integers(5 * 60, 21 * 60, n), unit="min")
    )
    order = np.argsort(ts.values)
    veh, ts = veh[order], ts[order]
    cls = np.array([vclass[v] for v in veh])
    fuel = np.array(
        [van_fuel[v] if c == "Van" else "Diesel" if c == "Box Truck" else ("Premium" if r < 0.15 else "Unleaded")
         for v, c, r in zip(veh, cls, rng.random(n), strict=True)]
    )  # fmt: skip
    tank = pd.Series(cls).map({"Van": 55, "Box Truck": 120, "Pickup": 60}).to_numpy()
    litres = np.clip(rng.normal(tank, tank * 0.22), 8, None).round(2)
    station = rng.choice(["Shell", "BP", "Esso", "Costco", "Circle K"], n, p=[0.28, 0.22, 0.18, 0.17, 0.15])
    base = pd.Series(fuel).map({"Diesel": 1.62, "Unleaded": 1.55, "Premium": 1.78}).to_numpy()
    drift = 0.025 * (ts.month.to_numpy() - 1) - 0.04 * (ts.month.to_numpy() == 3)
    price = (base + drift - 0.07 * (station == "Costco") + rng.normal(0, 0.03, n)).round(3)
    drivers = ["Alvarez", "Baker", "Chen", "Dubois", "Evans", "Farah", "Gupta", "Hughes", "Ito", "Jensen",
               "Kowalski", "Lopez", "Mensah", "Nguyen", "O'Brien", "Price", "Quinn", "Rossi"]  # fmt: skip
    crew = {r: drivers[i::4] for i, r in enumerate(regions)}  # each driver works in one region
    main_driver = {v: crew[home[v]][i % len(crew[home[v]])] for i, v in enumerate(vehicles)}
    cover = [crew[home[v]][j % len(crew[home[v]])] for v, j in zip(veh, rng.integers(0, 5, n), strict=True)]
    driver = np.where(rng.random(n) < 0.8, [main_driver[v] for v in veh], cover)
    odo = np.zeros(n)
    for v in vehicles:
        idx = np.flatnonzero(veh == v)
        odo[idx] = rng.integers(20000, 140000) + np.cumsum(rng.normal(450, 120, len(idx)).clip(50))
    odo = odo.round(0)
    odo[rng.random(n) < 0.07] = np.nan
    return pd.DataFrame(
        {
            "txn_id": [f"FC{880001 + i}" for i in range(n)],
            "TxnDateTime": ts,
            "Vehicle": veh,
            "VehicleClass": cls,
            "Driver": driver,
            "Region": [home[v] for v in veh],
            "FuelType": fuel,
            "Litres": litres,
            "Price/L": price,
            "Total": (litres * price).round(2),
            "Station": station,
            "Odometer_km": odo,
        }
    )


def _tickets() -> pd.DataFrame:
    rng = np.random.default_rng(6104)
    n = 3000
    events = [
        ("Summer Jazz Night", "Riverside Amphitheater", "2025-06-21", 55, 0.14),
        ("Indie Rock Fest", "The Foundry", "2025-07-12", 48, 0.17),
        ("Symphony Under the Stars", "Riverside Amphitheater", "2025-08-02", 70, 0.1),
        ("Comedy Gala", "Grand Theater", "2025-05-17", 40, 0.12),
        ("Hip-Hop Block Party", "The Foundry", "2025-09-06", 45, 0.15),
        ("Country Classics", "Grand Theater", "2025-06-07", 52, 0.09),
        ("Electronic Nights", "Warehouse 9", "2025-08-23", 38, 0.13),
        ("Latin Dance Party", "Warehouse 9", "2025-07-26", 35, 0.1),
    ]
    ev = rng.choice(len(events), n, p=[e[4] for e in events])
    name = np.array([events[i][0] for i in ev])
    venue = np.array([events[i][1] for i in ev])
    show = pd.DatetimeIndex([pd.Timestamp(events[i][2]) for i in ev])
    lead = np.minimum(rng.exponential(28, n).astype(int), 110)
    order_ts = (
        show.normalize()
        - pd.to_timedelta(lead, unit="D")
        - pd.to_timedelta(rng.integers(1, 24 * 60, n), unit="min")
    )
    tier = rng.choice(["GA", "Reserved", "VIP"], n, p=[0.65, 0.25, 0.1])
    mult = pd.Series(tier).map({"GA": 1.0, "Reserved": 1.6, "VIP": 3.2}).to_numpy()
    price = (np.array([events[i][3] for i in ev]) * mult * np.where(lead < 7, 1.1, 1.0)).round(0)
    qty = rng.choice([1, 2, 3, 4, 5, 6], n, p=[0.22, 0.45, 0.12, 0.14, 0.04, 0.03])
    channel = rng.choice(["Web", "App", "Box Office", "Reseller"], n, p=[0.45, 0.3, 0.15, 0.1])
    fees = np.where(channel == "Box Office", 0.0, (qty * price * 0.12 + 2.5)).round(2)
    refunded = rng.random(n) < np.where(channel == "Box Office", 0.02, 0.045)
    promo = rng.choice(["EARLYBIRD", "FANCLUB", "STUDENT10"], n, p=[0.5, 0.3, 0.2]).astype(object)
    promo[rng.random(n) >= np.where(lead > 45, 0.3, 0.08)] = None
    out = pd.DataFrame(
        {
            "order_ts": order_ts,
            "Event": name,
            "Event Date": show,
            "Venue": venue,
            "Tier": tier,
            "Qty": qty,
            "UnitPrice": price,
            "Fees": fees,
            "SalesChannel": channel,
            "Refunded": refunded,
            "PromoCode": promo,
        }
    )
    out = out.sort_values("order_ts", kind="stable").reset_index(drop=True)
    out.insert(0, "OrderID", [f"ORD{510001 + i}" for i in range(n)])
    return out


def _on_time(d: pd.DataFrame) -> pd.Series:
    done = d[d["Status"] == "Delivered"]
    return (
        ((done["Delivered Date"] - done["ShipDate"]).dt.days <= done["promised_days"])
        .groupby(done["Carrier"])
        .mean()
    )


def _defect_rate(d: pd.DataFrame, shift: str) -> float:
    s = d[d["Shift"] == shift]
    return float(s["UnitsDefective"].sum() / s["UnitsProduced"].sum())


def _month_spend(d: pd.DataFrame, month: int) -> float:
    return float(d.loc[d["TxnDateTime"].dt.month == month, "Total"].sum())


TABLES: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    "titanic_passengers": (
        _titanic,
        "Titanic passenger list (Harrell's titanic3, Encyclopedia Titanica), OpenML 40945 as bundled in scikit-learn's test fixtures; OpenML public data, shipped under BSD-3-Clause",
    ),
    "palmer_penguins": (
        _penguins,
        "Palmer Station penguins (Gorman, Williams & Fraser 2014), OpenML 42585 as bundled in scikit-learn's test fixtures; CC0, shipped under BSD-3-Clause",
    ),
    "cpu_performance": (
        _cpu,
        "Ein-Dor & Feldmesser (1987) relative CPU performance (UCI Computer Hardware), OpenML 561 as bundled in scikit-learn's test fixtures; UCI CC BY 4.0, shipped under BSD-3-Clause",
    ),
    "zoo_animals": (
        _zoo,
        "UCI Zoo database (Forsyth 1990), OpenML 62 as bundled in scikit-learn's test fixtures; UCI CC BY 4.0, shipped under BSD-3-Clause",
    ),
    "freight_shipments": (
        _freight,
        "synthetic, seeded numpy (seed 6101), generated in this file; no licence restrictions",
    ),
    "production_batches": (
        _batches,
        "synthetic, seeded numpy (seed 6102), generated in this file; no licence restrictions",
    ),
    "fleet_fuel_log": (
        _fleet_fuel,
        "synthetic, seeded numpy (seed 6103), generated in this file; no licence restrictions",
    ),
    "concert_ticket_sales": (
        _tickets,
        "synthetic, seeded numpy (seed 6104), generated in this file; no licence restrictions",
    ),
}

# fmt: off
SPECS: dict[str, list[tuple]] = {
    "titanic_passengers": [
        ("What share of the female passengers survived, in percent to 1 dp?", lambda d: float(d.loc[d["sex"] == "female", "survived"].mean() * 100), P, 1),
        ("Median fare paid by first-class passengers who boarded at Cherbourg?", lambda d: float(d.loc[(d["pclass"] == 1) & (d["embarked"] == "C"), "fare"].median())),
        ("how many passengers have no age recorded", lambda d: int(d["age"].isna().sum())),
        ("Which embarkation port code had the best survival rate?", lambda d: str(d.groupby("embarked")["survived"].mean().idxmax()), T),
        ("How many male passengers younger than 18 survived?", lambda d: int(((d["sex"] == "male") & (d["age"] < 18) & (d["survived"] == 1)).sum())),
        ("Did kids under 12 survive at a higher rate than adults aged 18 and over?", lambda d: bool(d.loc[d["age"] < 12, "survived"].mean() > d.loc[d["age"] >= 18, "survived"].mean()), B),
        ("How many distinct ticket numbers are there?", lambda d: int(d["ticket"].nunique())),
    ],
    "palmer_penguins": [
        ("Average body mass of the Gentoo penguins in kilograms, 2 decimals", lambda d: float(d.loc[d["species"] == "Gentoo", "body_mass_g"].mean() / 1000), N, 2),
        ("Which island has the most Adelies?", lambda d: str(d.loc[d["species"] == "Adelie", "island"].value_counts().idxmax()), T),
        ("How many female chinstraps are in the data?", lambda d: int(((d["species"] == "Chinstrap") & (d["sex"] == "FEMALE")).sum())),
        ("Which species has the longest flippers on average?", lambda d: str(d.groupby("species")["flipper_length_mm"].mean().idxmax()), T),
        ("On average how many grams heavier are male Gentoos than female Gentoos? whole grams", lambda d: float(d.loc[(d["species"] == "Gentoo") & (d["sex"] == "MALE"), "body_mass_g"].mean() - d.loc[(d["species"] == "Gentoo") & (d["sex"] == "FEMALE"), "body_mass_g"].mean()), N, 0),
        ("What percent of all the penguins were sampled on Biscoe? one decimal", lambda d: float((d["island"] == "Biscoe").mean() * 100), P, 1),
    ],
    "cpu_performance": [
        ("How many machines have a cycle time (MYCT) under 50 ns?", lambda d: int((d["MYCT"] < 50).sum())),
        ("What's the median MYCT of machines with no cache at all?", lambda d: float(d.loc[d["CACH"] == 0, "MYCT"].median())),
        ("mean ERP for machines whose max main memory is at least 32,000 KB, to 1 decimal place", lambda d: float(d.loc[d["MMAX"] >= 32000, "ERP"].mean()), N, 1),
        ("Top 3 vendors by average ERP, only counting vendors with at least 5 machines", lambda d: d.groupby("vendor")["ERP"].agg(["mean", "size"]).query("size >= 5")["mean"].nlargest(3).index.tolist(), S),
        ("What share of machines have more than 8 KB of cache? as a %, 1 dp", lambda d: float((d["CACH"] > 8).mean() * 100), P, 1),
        ("Is the average ERP of Amdahl machines more than 3x the average across all machines?", lambda d: bool(d.loc[d["vendor"] == "amdahl", "ERP"].mean() > 3 * d["ERP"].mean()), B),
    ],
    "zoo_animals": [
        ("How many mammals lay eggs?", lambda d: int(((d["type"] == "mammal") & d["eggs"]).sum())),
        ("Which animal type has the highest average number of legs?", lambda d: str(d.groupby("type")["legs"].mean().idxmax()), T),
        ("How many animals are both venomous and aquatic?", lambda d: int((d["venomous"] & d["aquatic"]).sum())),
        ("which animals have 8 legs", lambda d: d.loc[d["legs"] == 8, "animal"].tolist(), S),
        ("How many unique animal names are in the list?", lambda d: int(d["animal"].nunique())),
        ("Are more than half of the animals predators?", lambda d: bool(d["predator"].mean() > 0.5), B),
    ],
    "freight_shipments": [
        ("How many overnight shipments did NorthStar handle?", lambda d: int(((d["Carrier"] == "NorthStar Cargo") & (d["Service Level"] == "Overnight")).sum())),
        ("For delivered Ground shipments, what's total freight cost divided by total weight? $/kg, 3 decimals", lambda d: float(d.loc[(d["Status"] == "Delivered") & (d["Service Level"] == "Ground"), "FreightCost_USD"].sum() / d.loc[(d["Status"] == "Delivered") & (d["Service Level"] == "Ground"), "wt_kg"].sum()), N, 3),
        ("Which carrier has the lowest on-time rate? A delivered shipment is on time if it arrived within its promised days; ignore anything not delivered.", lambda d: str(_on_time(d).idxmin()), T),
        ("Which month did the most shipments go out?", lambda d: int(d["ShipDate"].dt.month.value_counts().idxmax()), M),
        ("How many shipments are still in transit?", lambda d: int((d["Status"] == "In Transit").sum())),
        ("top 3 destination states by total freight spend", lambda d: d.groupby("dest_state")["FreightCost_USD"].sum().nlargest(3).index.tolist(), S),
        ("What % of shipments out of the Reno DC had a damage claim? Treat a blank claim field as no claim. 1 dp", lambda d: float((d.loc[d["origin_dc"] == "DC-Reno", "damage_claim"] == "Y").mean() * 100), P, 1),
    ],
    "production_batches": [
        ("Overall defect rate, i.e. total defective units over total units produced, as a percent to 2 dp?", lambda d: float(d["UnitsDefective"].sum() / d["UnitsProduced"].sum() * 100), P, 2),
        ("Which production line racked up the most downtime minutes in total?", lambda d: str(d.groupby("Line")["DowntimeMin"].sum().idxmax()), T),
        ("How many night shift batches failed QC?", lambda d: int(((d["Shift"] == "Night") & (d["QC_Result"] == "Fail")).sum())),
        ("Average units produced per batch on line 3 in March, rounded to a whole number", lambda d: float(d.loc[(d["Line"] == "L3") & (d["prod_date"].dt.month == 3), "UnitsProduced"].mean()), N, 0),
        ("Which operator ran the most batches?", lambda d: str(d["Operator"].value_counts().idxmax()), T),
        ("Is the night shift's defect rate (total defective / total produced) higher than the day shift's?", lambda d: bool(_defect_rate(d, "Night") > _defect_rate(d, "Day")), B),
        ("When did line 2 first have a batch fail QC?", lambda d: d.loc[(d["Line"] == "L2") & (d["QC_Result"] == "Fail"), "prod_date"].min().date(), D),
    ],
    "fleet_fuel_log": [
        ("How much did we spend on diesel in Q2? nearest dollar", lambda d: float(d.loc[(d["FuelType"] == "Diesel") & (d["TxnDateTime"].dt.quarter == 2), "Total"].sum()), N, 0),
        ("At Costco, what did we pay per litre overall, i.e. total spend / total litres? 3 decimals", lambda d: float(d.loc[d["Station"] == "Costco", "Total"].sum() / d.loc[d["Station"] == "Costco", "Litres"].sum()), N, 3),
        ("Which vehicle burned through the most litres overall?", lambda d: str(d.groupby("Vehicle")["Litres"].sum().idxmax()), T),
        ("Which day of the week sees the most fuel purchases?", lambda d: str(d["TxnDateTime"].dt.day_name().value_counts().idxmax()), T),
        ("What % of transactions are missing an odometer reading? 1 dp", lambda d: float(d["Odometer_km"].isna().mean() * 100), P, 1),
        ("How many different drivers filled up vans in the West region?", lambda d: int(d.loc[(d["VehicleClass"] == "Van") & (d["Region"] == "West"), "Driver"].nunique())),
        ("By what percent did total fuel spend change from January to June? 1 decimal", lambda d: float((_month_spend(d, 6) / _month_spend(d, 1) - 1) * 100), P, 1),
    ],
    "concert_ticket_sales": [
        ("Gross ticket revenue (qty x unit price) from VIP tickets, leaving out refunded orders — nearest dollar", lambda d: float((d["Qty"] * d["UnitPrice"])[(d["Tier"] == "VIP") & ~d["Refunded"]].sum()), N, 0),
        ("Which show moved the most tickets? add up ticket quantities over all orders, refunded ones too", lambda d: str(d.groupby("Event")["Qty"].sum().idxmax()), T),
        ("How many orders used a promo code?", lambda d: int(d["PromoCode"].notna().sum())),
        ("What's the refund rate on box office orders, in %, 2 decimals?", lambda d: float(d.loc[d["SalesChannel"] == "Box Office", "Refunded"].mean() * 100), P, 2),
        ("How many days ahead of the show do people typically buy? Median number of calendar days from order date to event date.", lambda d: float((d["Event Date"] - d["order_ts"].dt.normalize()).dt.days.median())),
        ("When was the first order placed for Electronic Nights?", lambda d: d.loc[d["Event"] == "Electronic Nights", "order_ts"].min().date(), D),
        ("avg number of tickets per order for app purchases, 2 dp", lambda d: float(d.loc[d["SalesChannel"] == "App", "Qty"].mean()), N, 2),
    ],
}
# fmt: on
