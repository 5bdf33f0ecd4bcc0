"""The blind eval: output format of a plan-mode run, the answer comparator, and that its tables are held out.

Accuracy is deliberately not asserted: the eval measures the product, the tests only keep the harness honest.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from core.devsuite import DEV_SUITE
from core.eval_blind import CASES, TABLES, main
from core.eval_blind_check import correct

ROOT = Path(__file__).resolve().parent.parent


def test_plan_mode_prints_a_table_and_a_key_value_line_and_writes_every_case(tmp_path, capsys):
    out = tmp_path / "blind.json"
    assert main(["--mode", "plan", "--tables", "burtin,insurance", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "| table | n | plan covered | plan correct |"
    assert lines[1] == "|---|---|---|---|"
    assert [line.split(" | ")[0] for line in lines[2:4]] == ["| burtin", "| insurance"]
    assert all(re.fullmatch(r"\| \w+ \| 6 \| \d/6 \(\d+%\) \| \d/6 \(\d+%\) \|", line) for line in lines[2:4])
    last = lines[-1].split()
    assert last[0] == "eval_blind"
    summary = dict(kv.split("=", 1) for kv in last[1:])
    assert summary["mode"] == "plan" and summary["n"] == "12"
    keys = {"plan_covered", "plan_correct", "plan_coverage", "plan_accuracy", "plan_precision"}
    assert keys <= set(summary)
    record = json.loads(out.read_text())
    assert record["summary"]["n"] == 12 and len(record["cases"]) == 12
    questions = [c.question for c in CASES if c.table in ("burtin", "insurance")]
    assert [r["question"] for r in record["cases"]] == questions
    fields = {"table", "question", "kind", "expected", "plan_covered", "plan_answer", "plan_correct"}
    for r in record["cases"]:
        assert fields <= set(r)
        assert r["plan_correct"] <= r["plan_covered"]  # an unplanned question is never counted right


def test_unknown_table_is_refused():
    with pytest.raises(SystemExit):
        main(["--mode", "plan", "--tables", "no_such_table"])


def test_the_tables_are_held_out_from_training_tuning_and_the_dev_suite():
    manifest = json.loads((ROOT / "adapters" / "manifest.json").read_text())
    seen = {*manifest["train_tables"], *manifest["eval_tables"], *manifest.get("table_candidate_hashes", {})}
    seen |= {d.name for d in DEV_SUITE}
    assert not set(TABLES) & seen
    assert len(TABLES) == 8 and len(CASES) == 48
    assert all(sum(c.table == t for c in CASES) == 6 for t in TABLES)


def test_comparator_is_lenient_on_shape_and_strict_on_value():
    assert correct("num", None, pd.DataFrame({"x": [7.0]}), 7)
    assert not correct("num", None, 7.001, 7)
    assert not correct("num", None, True, 1)  # a yes/no is not a count
    assert correct("num", 1, 43.8, 43.75) and correct("num", 1, 43.75, 43.75)
    assert not correct("num", 1, 43.9, 43.75)
    assert correct("pct", None, 0.574, 57.4) and correct("pct", None, "57.4%", 57.4)
    assert correct("text", None, pd.Series(["Niger"]), "Niger") and not correct("text", None, 7.584, "Niger")
    top = pd.Series([7.5, 6.8], index=["Niger", "Mali"])
    assert correct("set", None, top, ["Mali", "Niger"])
    assert not correct("set", None, [7.5, 6.8], ["Mali", "Niger"])  # the values, not the names
    assert correct("set", None, [1957.0, 1958.0], [1958, 1957])
    assert correct("bool", None, "Yes", True) and not correct("bool", None, 1, True)
    assert correct("date", None, "2003-09-03", pd.Timestamp("2003-09-03").date())
    assert correct("month", None, "September", 9) and correct("month", None, 9, 9)
    assert not correct("month", None, 8, 9)


def test_the_dev_set_runs_the_same_way_and_never_trains(tmp_path, capsys):
    # The second, non-blind set (core/eval_blind_dev.py): same harness, its own tables.
    from core.eval_blind import question_set

    tables, cases = question_set("dev")
    manifest = json.loads((ROOT / "adapters" / "manifest.json").read_text())
    assert not set(tables) & {*manifest["train_tables"], *manifest.get("table_candidate_hashes", {})}
    assert not set(tables) & set(TABLES)  # and none is a blind table
    out = tmp_path / "dev.json"
    assert main(["--set", "dev", "--mode", "plan", "--tables", "copper", "--out", str(out)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1].split()
    summary = dict(kv.split("=", 1) for kv in last[1:])
    assert summary["set"] == "dev" and summary["n"] == str(sum(c.table == "copper" for c in cases))
    assert len(json.loads(out.read_text())["cases"]) == int(summary["n"])


def test_the_later_blind_sets_are_held_out_from_every_other_set():
    # core/eval_blind2.py .. eval_blind7.py: written on 2026-12-02 by sessions that did not
    # read the engine; their tables are in no training, tuning, development or other blind set.
    from core.eval_blind import question_set

    manifest = json.loads((ROOT / "adapters" / "manifest.json").read_text())
    seen = {*manifest["train_tables"], *manifest["eval_tables"], *manifest.get("table_candidate_hashes", {})}
    seen |= {d.name for d in DEV_SUITE} | set(TABLES) | set(question_set("dev")[0])
    later = [question_set(name) for name in ("blind2", "blind3", "blind4", "blind5", "blind6", "blind7")]
    for i, (tables, cases) in enumerate(later):
        assert not set(tables) & seen
        assert len(tables) == 8 and 48 <= len(cases) <= 56
        assert {c.table for c in cases} == set(tables)
        for other_tables, other_cases in later[i + 1 :]:
            assert not set(tables) & set(other_tables)
            assert not {c.question for c in cases} & {c.question for c in other_cases}
