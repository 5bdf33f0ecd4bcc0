"""Retrieval of few-shot examples from the verified bank: ranking, column substitution, no bank."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from core.engine import retrieve
from core.engine.retrieve import examples_for

HEAD = "import numpy as np\nimport pandas as pd\n\n\n"
FEAT = HEAD + "def add_features(df: pd.DataFrame) -> pd.DataFrame:\n    df = df.copy()\n"
CLEAN = HEAD + "def clean(df: pd.DataFrame) -> pd.DataFrame:\n    df = df.copy()\n"
CTX = (
    "Table: 400 rows, 4 columns. Target: y.\nColumns:\n"
    "- debt (numeric, range 0..9000)\n- income (numeric, range 100..90000)\n"
    '- city (category, 12 values, e.g. "Paris")\n- signup (date, e.g. "2020-01-01")'
)


def rec(task: str, request: str, columns: list[str], code: str) -> dict[str, object]:
    return {"task": task, "request": request, "columns": columns, "context": CTX, "code": code}


BANK = [
    rec(
        "feature",
        "add the ratio of debt to income",
        ["debt", "income"],
        FEAT + '    df["debt_per_income"] = df["debt"] / df["income"].replace(0, np.nan)\n    return df\n',
    ),
    rec(
        "feature",
        "create debt_per_income as debt divided by income",
        ["debt", "income"],
        FEAT + '    df["debt_per_income"] = df["debt"] / df["income"].replace(0, np.nan)\n    return df\n',
    ),
    rec(
        "feature",
        "add the log of income",
        ["income"],
        FEAT + '    df["log_income"] = np.log1p(df["income"])\n    return df\n',
    ),
    rec(
        "feature",
        "extract the month from signup",
        ["signup"],
        FEAT
        + '    when = pd.to_datetime(df["signup"], errors="coerce")\n    df["signup_month"] = when.dt.month\n'
        "    return df\n",
    ),
    rec(
        "clean",
        "drop rows where income is missing",
        ["income"],
        CLEAN + '    df = df.dropna(subset=["income"])\n    return df\n',
    ),
    rec(
        "clean",
        "fill missing city with 'Unknown'",
        ["city"],
        CLEAN + '    df["city"] = df["city"].fillna("Unknown")\n    return df\n',
    ),
    rec(
        "ask",
        "how many rows have city Paris?",
        ["city"],
        HEAD + 'def answer(df: pd.DataFrame):\n    return int((df["city"] == "Paris").sum())\n',
    ),
]


@pytest.fixture()
def bank(tmp_path: Path) -> Path:
    path = tmp_path / "examples.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in BANK) + "\n", encoding="utf-8")
    retrieve.clear_cache()
    return path


def test_no_bank_gives_empty_text(tmp_path: Path) -> None:
    retrieve.clear_cache()
    assert (
        examples_for("feature", "add the ratio of a to b", ["a", "b"], bank=tmp_path / "missing.jsonl") == ""
    )


def test_no_request_gives_empty_text(bank: Path) -> None:
    assert examples_for("feature", None, ["a"], bank=bank) == ""
    assert examples_for("feature", "  ", ["a"], bank=bank) == ""


def test_nearest_example_with_the_users_columns(bank: Path) -> None:
    text = examples_for(
        "feature", "add the ratio of total_charges to tenure", ["tenure", "total_charges"], k=1, bank=bank
    )
    assert "### Request: add the ratio of total_charges to tenure" in text
    assert 'df["total_charges"] / df["tenure"].replace(0, np.nan)' in text
    assert 'df["total_charges_per_tenure"]' in text  # the derived name follows the substitution
    assert "debt" not in text and "income" not in text
    assert "- total_charges (numeric" in text and "city" not in text  # only the used columns' lines


def test_spoken_column_names_are_found(bank: Path) -> None:
    text = examples_for(
        "feature", "add the log of Total Charges", ["customer", "Total Charges"], k=1, bank=bank
    )
    assert 'np.log1p(df["Total Charges"])' in text
    assert 'df["log_Total Charges"]' in text


def test_date_part_request_ranks_the_date_example(bank: Path) -> None:
    text = examples_for(
        "feature", "extract the month from arrival_date", ["arrival_date", "adr"], k=1, bank=bank
    )
    assert 'pd.to_datetime(df["arrival_date"]' in text and "dt.month" in text


def test_task_filter_and_the_distractor_floor(bank: Path) -> None:
    text = examples_for("clean", "drop rows where Income is missing", ["Income", "Age"], k=2, bank=bank)
    assert text.count("### Task: clean") == 1 and "### Task: feature" not in text
    assert "fillna" not in text  # the fill example scores far below the drop example: left out
    assert text.rstrip().endswith('df = df.dropna(subset=["Income"])\n    return df'.rstrip())
    ask = examples_for("ask", "how many rows have region North?", ["region"], k=2, bank=bank)
    assert ask.count("### Task: ask") == 1 and 'df["region"]' in ask


def test_two_close_examples_nearest_last(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    rows = [
        rec(
            "feature",
            "add the log of income",
            ["income"],
            FEAT + '    df["log_income"] = np.log(df["income"])\n    return df\n',
        ),
        rec(
            "feature",
            "add a column with the log of income",
            ["income"],
            FEAT + '    df["log1p_income"] = np.log1p(df["income"])\n    return df\n',
        ),
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    text = examples_for("feature", "add the log of fare", ["fare"], k=2, bank=path)
    assert text.count("### Task: feature") == 2
    assert text.rstrip().endswith('df["log_fare"] = np.log(df["fare"])\n    return df'.rstrip())


def test_example_context_is_names_and_kinds_only(bank: Path) -> None:
    text = examples_for("feature", "add the ratio of a to b", ["a", "b"], k=1, bank=bank)
    assert "- a (numeric)\n- b (numeric)" in text
    assert "range" not in text and "Table:" not in text and "Target" not in text


def test_rename_example_renames_only_the_column(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    row = rec(
        "clean",
        "rename the column debt as DEBT",
        ["debt"],
        CLEAN + '    df = df.rename(columns={"debt": "DEBT"})\n    return df\n',
    )
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    text = examples_for("clean", "rename bp to blood_pressure", ["bp", "age"], k=1, bank=path)
    assert "### Request: rename the column bp as DEBT" in text
    assert 'rename(columns={"bp": "DEBT"})' in text


def test_identical_code_is_not_shown_twice(bank: Path) -> None:
    text = examples_for("feature", "add the ratio of a to b", ["a", "b"], k=2, bank=bank)
    assert text.count('df["a_per_b"] = df["a"] / df["b"]') == 1


def test_unclear_mapping_keeps_the_bank_names(bank: Path) -> None:
    # The request names one column, the ratio example uses two: no guessing which is which.
    text = examples_for("feature", "add the ratio of x to something", ["x", "y"], k=1, bank=bank)
    assert "debt" in text or "income" in text


def test_substitution_touches_string_literals_only() -> None:
    code = 'df = df.copy()\ndf["df_x"] = df["x"] + 1\nx = 3\n'
    out = retrieve._substitute_code(code, {"x": "y", "df": "zz"})
    assert out == 'df = df.copy()\ndf["zz_y"] = df["y"] + 1\nx = 3\n'
    assert retrieve._substitute_code('d["a"] + d["b"]', {"a": "b", "b": "a"}) == 'd["b"] + d["a"]'


def test_rewritten_bank_is_reloaded(bank: Path) -> None:
    assert "pd.cut" not in examples_for("feature", "bin tenure into 4 bins", ["tenure"], bank=bank)
    extra = rec(
        "feature",
        "bin income into 4 bins",
        ["income"],
        FEAT + '    df["income_bin"] = pd.cut(df["income"], bins=4, labels=False)\n    return df\n',
    )
    bank.write_text(bank.read_text() + json.dumps(extra) + "\n", encoding="utf-8")
    later = time.time() + 5
    os.utime(bank, (later, later))
    text = examples_for("feature", "bin tenure into 4 bins", ["tenure"], k=1, bank=bank)
    assert 'pd.cut(df["tenure"], bins=4' in text


def test_torn_line_is_skipped(bank: Path) -> None:
    bank.write_text(bank.read_text() + '{"task": "feature", "request": "half', encoding="utf-8")
    retrieve.clear_cache()
    assert "np.log1p" in examples_for("feature", "add the log of fare", ["fare"], k=1, bank=bank)


def test_default_bank_path_is_under_prompts() -> None:
    assert retrieve.BANK.parts[-3:] == ("prompts", "bank", "examples.jsonl")
