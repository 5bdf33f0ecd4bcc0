"""Blind, held-out eval of `ask`: 48 analyst questions on 8 tables the product never trained or tuned on.

The questions were written from the tables alone, without reading the answering engine, so they measure
how the product copes with everyday wording rather than with the phrasings it was built around. None of
the tables is in adapters/manifest.json (train and eval tables) or core/devsuite.py; all load offline.

    python -m core.eval_blind --mode plan   # the deterministic planner alone, in-process, seconds
    python -m core.eval_blind --mode ask    # the full ask() with the tuned local GGUF model, minutes

`--set dev` runs the same harness on `core/eval_blind_dev.py`, a second question set whose failures
were read while the engine was widened (a development set, not a blind one).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core.eval_blind_check import B, D, M, N, P, S, T, correct


def _sm(name: str) -> Callable[[], pd.DataFrame]:
    return lambda: getattr(__import__("statsmodels.api").api.datasets, name).load_pandas().data.copy()


def _vega(name: str) -> Callable[[], pd.DataFrame]:
    return lambda: getattr(__import__("vega_datasets").local_data, name)()


def _insurance() -> pd.DataFrame:
    import phik

    return pd.read_csv(Path(phik.__file__).parent / "data" / "fake_insurance_data.csv.gz")


def _msft() -> pd.DataFrame:
    import matplotlib.cbook as cbook

    df = pd.read_csv(cbook.get_sample_data("msft.csv", asfileobj=False))
    # Parsed as any upload loader would, so the date questions have one right answer.
    df["Date"] = pd.to_datetime(df["Date"], format="%d-%b-%y")
    return df


# name -> (loader, "source; licence")
TABLES: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    "burtin": (_vega("burtin"), "Burtin (1951) antibiotic MICs, vega_datasets; BSD-3-Clause package"),
    "anscombe": (_vega("anscombe"), "Anscombe's quartet (1973), vega_datasets; BSD-3-Clause package"),
    "sf_temps": (_vega("sf_temps"), "NOAA hourly SF temperatures 2010, vega_datasets; public domain"),
    "fertility": (_sm("fertility"), "World Bank fertility rate 1960-2013, statsmodels; World Bank terms"),
    "stackloss": (_sm("stackloss"), "Brownlee (1965) stack loss plant, statsmodels; public domain"),
    "sunspots": (_sm("sunspots"), "Yearly sunspot numbers 1700-2008 (NOAA), statsmodels; public domain"),
    "insurance": (_insurance, "phik fake_insurance_data (synthetic car insurance), phik; MIT"),
    "msft": (_msft, "MSFT daily prices Jun-Sep 2003, matplotlib sample_data; matplotlib (PSF-style)"),
}


@dataclass(frozen=True)
class Case:
    table: str
    question: str
    expected: Callable[[pd.DataFrame], Any]  # the reference answer, computed from the table
    kind: str = N
    digits: int | None = None  # the rounding the question asks for; None: 1e-6 relative tolerance


def _cases(table: str, *specs: tuple[Any, ...]) -> list[Case]:
    return [Case(table, *spec) for spec in specs]


def _top(df: pd.DataFrame, label: str, col: str, n: int = 1, low: bool = False) -> list[Any]:
    return (df.nsmallest(n, col) if low else df.nlargest(n, col))[label].tolist()


# fmt: off
CASES: list[Case] = [
    *_cases("burtin",
        ("How many of the bacteria are gram positive?", lambda d: (d.Gram_Staining == "positive").sum()),
        ("What is the average neomycin value for gram negative bacteria?",
         lambda d: d.Neomycin[d.Gram_Staining == "negative"].mean()),
        ("Which bacterium needs the highest neomycin dose?", lambda d: _top(d, "Bacteria", "Neomycin")[0], T),
        ("What percentage of bacteria have a streptomycin value below 1? Round to 1 decimal.",
         lambda d: (d.Streptomycin < 1).mean() * 100, P, 1),
        ("Is the mean penicillin value higher than the mean streptomycin value?",
         lambda d: d.Penicillin.mean() > d.Streptomycin.mean(), B),
        ("List the 3 bacteria with the lowest neomycin values.",
         lambda d: _top(d, "Bacteria", "Neomycin", 3, low=True), S),
    ),
    *_cases("anscombe",
        ("What's the average Y for series II?", lambda d: d.Y[d.Series == "II"].mean()),
        ("How many points have an X greater than 10?", lambda d: (d.X > 10).sum()),
        ("What is the correlation between X and Y? Round to 3 decimals.", lambda d: d.X.corr(d.Y), N, 3),
        ("Which series has the largest maximum Y?", lambda d: d.groupby("Series").Y.max().idxmax(), T),
        ("How many rows belong to series IV?", lambda d: (d.Series == "IV").sum()),
        ("What is the total of Y across all points, rounded to 2 decimal places?", lambda d: d.Y.sum(), N, 2),
    ),
    *_cases("sf_temps",
        ("What was the average temperature over the year?", lambda d: d.temp.mean()),
        ("What was the highest temperature recorded?", lambda d: d.temp.max()),
        ("How many hourly readings were above 70 degrees?", lambda d: (d.temp > 70).sum()),
        ("Which month had the highest average temperature?",
         lambda d: d.groupby(d.date.dt.month).temp.mean().idxmax(), M),
        ("Which day had the lowest average temperature?",
         lambda d: d.groupby(d.date.dt.date).temp.mean().idxmin(), D),
        ("What percentage of readings are below 50 degrees? Round to 2 decimals.",
         lambda d: (d.temp < 50).mean() * 100, P, 2),
    ),
    *_cases("fertility",
        ("Which country had the highest fertility rate in 2010?",
         lambda d: _top(d, "Country Name", "2010")[0], T),
        ("What was the average fertility rate in 1960?", lambda d: d["1960"].mean()),
        ("How many countries had a fertility rate below 2.1 in 2010?", lambda d: (d["2010"] < 2.1).sum()),
        ("What was the fertility rate of the United States in 2000?",
         lambda d: d["2000"][d["Country Name"] == "United States"].iloc[0]),
        ("Show the top 3 countries by fertility rate in 2010.",
         lambda d: _top(d, "Country Name", "2010", 3), S),
        ("How many countries have no data for 1960?", lambda d: d["1960"].isna().sum()),
    ),
    *_cases("stackloss",
        ("What's the mean stack loss?", lambda d: d.STACKLOSS.mean()),
        ("What is the correlation between air flow and stack loss?", lambda d: d.AIRFLOW.corr(d.STACKLOSS)),
        ("How many runs had a water temperature of at least 24?", lambda d: (d.WATERTEMP >= 24).sum()),
        ("What is the most common acid concentration?", lambda d: d.ACIDCONC.mode().iloc[0]),
        ("What was the average stack loss for runs with air flow above 60? Round to 2 decimals.",
         lambda d: d.STACKLOSS[d.AIRFLOW > 60].mean(), N, 2),
        ("Is the median water temperature above 20?", lambda d: d.WATERTEMP.median() > 20, B),
    ),
    *_cases("sunspots",
        ("Which year had the most sunspot activity?", lambda d: _top(d, "YEAR", "SUNACTIVITY")[0]),
        ("What is the average yearly sunspot activity since 1900?",
         lambda d: d.SUNACTIVITY[d.YEAR >= 1900].mean()),
        ("How many years had zero sunspot activity?", lambda d: (d.SUNACTIVITY == 0).sum()),
        ("What was the total sunspot activity in the 1800s?",
         lambda d: d.SUNACTIVITY[d.YEAR.between(1800, 1899)].sum()),
        ("List the 3 years with the highest sunspot activity.",
         lambda d: _top(d, "YEAR", "SUNACTIVITY", 3), S),
        ("What's the median sunspot number, rounded to one decimal?", lambda d: d.SUNACTIVITY.median(), N, 1),
    ),
    *_cases("insurance",
        ("What is the average driver age?", lambda d: d.driver_age.mean()),
        ("How many drivers are over 65?", lambda d: (d.driver_age > 65).sum()),
        ("What's the most common car colour?", lambda d: d.car_color.mode().iloc[0], T),
        ("Which area has the highest average mileage?",
         lambda d: d.groupby("area").mileage.mean().idxmax(), T),
        ("What percentage of cars are XXL?", lambda d: (d.car_size == "XXL").mean() * 100, P),
        ("How many policies are from downtown?", lambda d: (d.area == "downtown").sum()),
    ),
    *_cases("msft",
        ("What was the average closing price?", lambda d: d.Close.mean()),
        ("On which date was the trading volume highest?", lambda d: d.Date[d.Volume.idxmax()].date(), D),
        ("How many days did the stock close above 27?", lambda d: (d.Close > 27).sum()),
        ("What's the median daily volume?", lambda d: d.Volume.median()),
        ("What was the highest high price in August 2003?",
         lambda d: d.High[(d.Date.dt.year == 2003) & (d.Date.dt.month == 8)].max()),
        ("Is the average closing price higher than the average opening price?",
         lambda d: d.Close.mean() > d.Open.mean(), B),
    ),
]
# fmt: on


def question_set(name: str) -> tuple[dict[str, tuple[Callable[[], pd.DataFrame], str]], list[Case]]:
    """The tables and cases of a question set: "blind" (this file) or "dev" (`core.eval_blind_dev`,
    whose failures were read while the engine was widened: not blind)."""
    if name == "blind":
        return TABLES, CASES
    modules = {
        "dev": "core.eval_blind_dev",
        "blind2": "core.eval_blind2",
        "blind3": "core.eval_blind3",
        "blind4": "core.eval_blind4",
        "blind5": "core.eval_blind5",
        "blind6": "core.eval_blind6",
        "blind7": "core.eval_blind7",
    }
    if name in modules:
        from importlib import import_module

        mod = import_module(modules[name])
        return mod.TABLES, [c for t, specs in mod.SPECS.items() for c in _cases(t, *specs)]
    raise ValueError(f"no question set {name!r} (blind, {', '.join(modules)})")


def _plan(question: str, df: pd.DataFrame) -> tuple[bool, Any]:
    from core.engine.ask_plan import plan_question

    plan = plan_question(question, df)
    if plan is None:
        return False, None
    ns: dict[str, Any] = {}
    try:
        # In-process on purpose: these are the planner's own templates, not model-written code.
        exec(compile(plan.code, "<plan>", "exec"), ns)  # noqa: S102
        return True, ns["answer"](df.copy())
    except Exception as e:  # noqa: BLE001 - a crashing plan is a wrong answer, kept in the record
        return True, f"error: {type(e).__name__}: {e}"


def _ask(ask: Callable[..., Any], df: pd.DataFrame, question: str, *engine: Any) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        a = ask(df.copy(), question, *engine)
        out = {"value": a.value, "source": a.source, "intent": a.intent, "code": a.code}
    except Exception as e:  # noqa: BLE001 - one failing question must not end the run
        out = {"value": f"error: {type(e).__name__}: {e}", "source": "error", "intent": "error", "code": ""}
    return out | {"seconds": round(time.perf_counter() - t0, 2)}


def run(mode: str, tables: Sequence[str], which: str = "blind") -> list[dict[str, Any]]:
    """One row per question: the reference, the planner's answer and (ask mode) the full product's."""
    table_set, cases = question_set(which)
    engine: tuple[Any, ...] = ()
    if mode == "ask":
        from core.engine.answer import ask
        from core.llm.registry import ModelSettings, build_local
        from core.sandbox.local import LocalSandbox

        tmp = tempfile.TemporaryDirectory(prefix="eval_blind_")
        backend = build_local(ModelSettings(kind="gguf", adapter=True, n_threads=2))
        engine = (backend, LocalSandbox(Path(tmp.name)))
    rows: list[dict[str, Any]] = []
    try:
        for name in tables:
            df = table_set[name][0]()
            for case in (c for c in cases if c.table == name):
                exp = case.expected(df)
                covered, value = _plan(case.question, df)
                row = {"table": name, "question": case.question, "kind": case.kind, "expected": repr(exp),
                       "plan_covered": covered, "plan_answer": repr(value)[:200],
                       "plan_correct": covered and correct(case.kind, case.digits, value, exp)}  # fmt: skip
                if mode == "ask":
                    got = _ask(ask, df, case.question, *engine)
                    ok = correct(case.kind, case.digits, got["value"], exp)
                    row |= got | {"value": repr(got["value"])[:200], "correct": ok}
                rows.append(row)
    finally:
        for resource in reversed(engine):
            resource.close()
        if engine:
            tmp.cleanup()
    return rows


def _frac(rows: list[dict[str, Any]], key: str) -> str:
    k = sum(bool(r[key]) for r in rows)
    return f"{k}/{len(rows)} ({100 * k / max(len(rows), 1):.0f}%)"


def report(mode: str, rows: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """Markdown side by side (the planner alone vs the full ask) and the summary numbers."""
    ask = mode == "ask"
    head = "| table | n | plan covered | plan correct |" + (" ask correct |" if ask else "")
    lines = [head, "|---" * head.count(" |") + "|"]
    for name in dict.fromkeys(r["table"] for r in rows):
        rs = [r for r in rows if r["table"] == name]
        cells = [name, str(len(rs)), _frac(rs, "plan_covered"), _frac(rs, "plan_correct")]
        lines.append("| " + " | ".join(cells + ([_frac(rs, "correct")] if ask else [])) + " |")
    n, cov = max(len(rows), 1), sum(r["plan_covered"] for r in rows)
    ok = sum(r["plan_correct"] for r in rows)
    summary: dict[str, Any] = {"mode": mode, "n": len(rows), "plan_covered": cov, "plan_correct": ok}
    summary |= {"plan_coverage": round(cov / n, 3), "plan_accuracy": round(ok / n, 3)}
    summary["plan_precision"] = round(ok / max(cov, 1), 3)
    if ask:
        right = sum(r["correct"] for r in rows)
        summary |= {"correct": right, "accuracy": round(right / n, 3)}
        summary["verified_wrong"] = sum(r["intent"] == "verified" and not r["correct"] for r in rows)
        summary["p50_s"] = round(statistics.median(r["seconds"] for r in rows), 2) if rows else 0.0
        lines += ["", "| answer source | n | correct |", "|---|---|---|"]
        for src in sorted({r["source"] for r in rows}):
            rs = [r for r in rows if r["source"] == src]
            lines.append(f"| {src} | {len(rs)} | {_frac(rs, 'correct')} |")
            summary[f"src_{src}"] = f"{sum(r['correct'] for r in rs)}/{len(rs)}"
    return "\n".join(lines), summary


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m core.eval_blind", description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=["plan", "ask"], default="plan")
    sets = ["blind", "blind2", "blind3", "blind4", "blind5", "blind6", "blind7", "dev"]
    p.add_argument("--set", default="blind", choices=sets,
                   dest="which", help="blind (held out; default), blind2..blind7 (core/eval_blind2.py ..: "
                   "later held-out sets, written by sessions that did not read the engine) or dev "
                   "(core/eval_blind_dev.py: not blind)")  # fmt: skip
    p.add_argument("--tables", default="", help="comma-separated subset of the tables (default: all)")
    p.add_argument("--out", help="JSON path; default docs/eval/blind.json, or blind_plan.json in plan mode")
    a = p.parse_args(argv)
    table_set, _ = question_set(a.which)
    tables = [t for t in a.tables.split(",") if t] or list(table_set)
    if unknown := [t for t in tables if t not in table_set]:
        p.error(f"unknown tables {unknown}; known: {', '.join(table_set)}")
    rows = run(a.mode, tables, a.which)
    table, summary = report(a.mode, rows)
    summary = {"set": a.which} | summary
    # A plan run takes seconds and must not overwrite the record of an expensive model run.
    stem = "blind" if a.which == "blind" else "blind_dev"
    out = Path(a.out or f"docs/eval/{stem}{'' if a.mode == 'ask' else '_plan'}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    when = datetime.now().astimezone().isoformat(timespec="seconds")
    record = {"summary": summary, "when": when, "cases": rows}
    out.write_text(json.dumps(record, indent=1, default=str) + "\n")
    print(table)
    print("eval_blind " + " ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
