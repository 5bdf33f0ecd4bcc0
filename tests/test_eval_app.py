"""The app-path eval: its own requests and questions, reference outcome checks that can fail,
and the base/tuned JSON + Markdown written through the app's engine (scripted fake backend)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import eval_app, evaluation
from core.devsuite import DEV_SUITE, dev_dataset, materialize
from core.eval_cases import QUESTIONS, REQUESTS, answer_correct
from core.io import load_table

DATA = Path("/tmp/gdw-devsuite-tests")


def frame(name: str) -> pd.DataFrame:
    return load_table(materialize(dev_dataset(name), DATA)).df


def case(request: str):
    return next(c for c in REQUESTS if c.request == request)


def test_enough_everyday_cases_on_eval_tables_only() -> None:
    assert len(REQUESTS) >= 30 and len(QUESTIONS) >= 20
    suite = {d.name for d in DEV_SUITE}
    assert {c.table for c in REQUESTS} <= suite and {q.table for q in QUESTIONS} <= suite
    assert len({c.table for c in REQUESTS}) >= 10
    assert len({c.request for c in REQUESTS}) == len(REQUESTS)
    from core.tuning.tables import tables

    training = {t.name for t in tables("train")}
    assert not training & suite, "an eval table is also a training table"


@pytest.mark.parametrize("c", REQUESTS, ids=lambda c: c.request[:40])
def test_doing_nothing_never_passes_a_request(c) -> None:
    df = frame(c.table)
    assert c.outcome(df, df.copy()) is not None


def test_correct_outcomes_pass_and_near_misses_fail() -> None:
    tips = frame("tips")
    good = tips.assign(r=tips["tip"] / tips["total_bill"])
    assert case("add the ratio of tip to total_bill").outcome(tips, good) is None
    wrong = tips.assign(r=tips["total_bill"] / tips["tip"])
    assert case("add the ratio of tip to total_bill").outcome(tips, wrong) is not None
    side_effect = good.assign(sex=good["sex"].str.upper())
    assert case("add the ratio of tip to total_bill").outcome(tips, side_effect) is not None
    assert case("drop the smoker column").outcome(tips, tips.drop(columns=["smoker"])) is None
    assert case("drop the smoker column").outcome(tips, tips.drop(columns=["smoker", "sex"])) is not None
    assert case("one-hot encode the day column").outcome(tips, pd.get_dummies(tips, columns=["day"])) is None
    kept = tips[tips["size"] <= 4].reset_index(drop=True)
    assert case("remove rows where size is greater than 4").outcome(tips, kept) is None
    weather = frame("seattle_weather")
    month = weather.assign(m=pd.to_datetime(weather["date"]).dt.month)
    assert case("extract the month from date").outcome(weather, month) is None
    dated = weather.assign(date=pd.to_datetime(weather["date"]))
    assert case("convert date to a datetime").outcome(weather, dated) is None
    cars = frame("cars")
    binned = cars.assign(b=pd.cut(cars["Acceleration"], 4, labels=False))
    assert case("bin Acceleration into 4 bins").outcome(cars, binned) is None
    filled = cars.assign(Horsepower=cars["Horsepower"].fillna(cars["Horsepower"].median()))
    assert case("fill missing Horsepower with the mean").outcome(cars, filled) is not None


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.question[:40])
def test_reference_answers_are_correct_and_len_df_is_not(q) -> None:
    df = frame(q.table)
    assert answer_correct(q, q.reference(df), df)
    assert not answer_correct(q, len(df), df) or q.reference(df) == len(df)


def test_answer_formats() -> None:
    q = next(q for q in QUESTIONS if q.kind == "set")
    df = frame(q.table)
    assert answer_correct(q, df["day"].value_counts().head(3), df)
    assert answer_correct(q, list(df["day"].value_counts().index[:3]), df)
    assert not answer_correct(q, list(df["day"].value_counts().index[:2]), df)
    rounded = next(q for q in QUESTIONS if q.decimals == 2)
    wdf = frame(rounded.table)
    assert answer_correct(rounded, np.float64(round(wdf["wind"].mean(), 2)), wdf)
    assert not answer_correct(rounded, round(wdf["wind"].mean(), 2) + 0.01, wdf)


def test_eval_app_end_to_end_with_the_fake_writes_both_sides(tmp_path: Path) -> None:
    out, md = tmp_path / "eval.json", tmp_path / "RESULTS.md"
    argv = [
        "--backend",
        "fake",
        "--tables",
        "iris",
        "--stage-tables",
        "iris",
        "--out",
        str(out),
        "--md",
        str(md),
        "--data-dir",
        str(DATA),
    ]
    assert evaluation.main(["app", "--side", "base", *argv]) == 0
    assert eval_app.main(["--side", "tuned", *argv]) == 0
    result = json.loads(out.read_text())
    assert set(result["sides"]) == {"base", "tuned"}
    base = result["sides"]["base"]
    assert base["summary"]["requests"] == sum(c.table == "iris" for c in REQUESTS)
    assert base["summary"]["questions"] == sum(q.table == "iris" for q in QUESTIONS)
    assert {s["stage"] for s in base["stages"]} == {"clean", "feature", "model"}
    # The fake writes no code: nothing may count as Gemma's, nothing as verified-but-wrong.
    assert base["summary"]["request_success_by_gemma"] == 0
    assert base["summary"]["shown_verified_but_wrong"] == 0
    text = md.read_text()
    assert "| metric | base (" in text and "tuned (" in text and "Questions answered correctly" in text
    md.unlink()
    assert eval_app.main(["--render-only", "--out", str(out), "--md", str(md)]) == 0
    assert md.read_text() == text


def test_summary_percentiles_and_counts() -> None:
    reqs = [
        {
            "success": i < 3,
            "provenance": "gemma" if i < 2 else "rule",
            "intent": "verified",
            "seconds": float(i),
        }
        for i in range(5)
    ]
    qs = [
        {"correct": True, "intent": "verified", "seconds": 1.0},
        {"correct": False, "intent": "verified", "seconds": 3.0},
    ]
    st = [
        {"accepted": True, "provenance": "gemma"},
        {"accepted": True, "provenance": "rule"},
        {"accepted": False},
    ]
    s = eval_app.summarise(reqs, qs, st)
    assert s["request_success"] == 0.6 and s["request_success_by_gemma"] == 0.4
    assert s["shown_verified_but_wrong"] == 2 and s["answers_checked_but_wrong"] == 1
    assert s["question_accuracy"] == 0.5 and s["stage_steps_by_gemma"] == 0.5
    assert s["request_p50_s"] == 2.0 and s["request_p95_s"] == 4.0


def test_answers_as_the_sandbox_sends_them() -> None:
    from core.sandbox.worker import jsonable as sandbox_json

    q = next(q for q in QUESTIONS if q.kind == "set")
    df = frame(q.table)
    assert answer_correct(q, sandbox_json(df["day"].value_counts().head(3)), df)
    count = next(q for q in QUESTIONS if q.kind == "count")
    cdf = frame(count.table)
    assert answer_correct(count, sandbox_json(np.int64(count.reference(cdf))), cdf)


def test_schedule_goes_round_the_tables() -> None:
    plan = eval_app.schedule(set(), {"requests", "questions"})
    assert len(plan) == len(REQUESTS) + len(QUESTIONS)
    n_tables = len({c.table for _, c in plan})
    first_round = plan[: 2 * n_tables]
    assert len({c.table for _, c in first_round}) >= n_tables - 1  # every table early on
    only_q = eval_app.schedule({"iris"}, {"questions"})
    assert only_q and all(k == "question" and c.table == "iris" for k, c in only_q)
