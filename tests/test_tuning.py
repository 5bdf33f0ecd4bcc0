"""The tuning data: pairs render through the app's prompt path, checks reject wrong targets, the
split is table-disjoint, and the committed data and manifest match what the generator makes now.

No training and no model here: `make adapter` trains; these tests read the committed files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.tuning import checks
from core.tuning.format import STOPS, tuned_prompt
from core.tuning.pairs import (
    SEED,
    TARGET_END,
    Verifier,
    candidate_digest,
    digest,
    full_code,
)
from core.tuning.tables import EVAL_TABLES, TRAIN_TABLES

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "adapters" / "data"
MANIFEST = ROOT / "adapters" / "manifest.json"
BANK = ROOT / "prompts" / "bank" / "examples.jsonl"


def _rows(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def train_rows() -> list[dict]:
    return _rows("train.jsonl")


def test_split_is_table_disjoint(train_rows: list[dict]) -> None:
    train_names = {t.name for t in TRAIN_TABLES}
    eval_names = {t.name for t in EVAL_TABLES}
    assert not train_names & eval_names
    assert {r["table"] for r in train_rows} <= train_names
    assert {r["table"] for r in _rows("eval.jsonl")} <= eval_names


def test_pairs_render_through_tuned_prompt(train_rows: list[dict]) -> None:
    # Every 97th pair: the prompt is exactly what the app sends a tuned model, and prompt +
    # target (up to the stop) is a whole function of the stage contract.
    assert len(train_rows) >= 2000
    for r in train_rows[::97]:
        tp = tuned_prompt(r["task"], r["context"], r["request"])
        assert r["prompt"] == tp.text
        assert tp.text.endswith(tp.prefix)
        assert r["target"].endswith(TARGET_END) and ("\n" + TARGET_END) in r["target"]
        assert any(("\n" + TARGET_END).startswith(s) for s in STOPS if s.startswith("\n#"))
        code = full_code(r["task"], r["target"][: -len(TARGET_END)])
        compile(code, "<pair>", "exec")
        assert "\n    return" in code


def test_intents_are_varied(train_rows: list[dict]) -> None:
    tasks = {r["task"] for r in train_rows}
    assert tasks == {"clean", "feature", "ask"}
    intents = {r["intent"] for r in train_rows}
    for needed in ("ratio", "datepart", "onehot", "fill", "filter", "rename", "drop_cols", "clip", "stage",
                   "mean", "group_mean", "count_value", "corr", "percent", "topk_values"):  # fmt: skip
        assert needed in intents
    requests = {r["request"] for r in train_rows if r["intent"] == "ratio"}
    assert len({q.split(" ")[0] for q in requests}) >= 3  # several phrasings, not one template


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "price": rng.uniform(1, 100, 40).round(2),
            "qty": rng.integers(1, 9, 40).astype(float),
            "city": rng.choice(["Oslo", "Rome", "Lima"], 40),
        }
    )


def test_checks_accept_the_right_outcome_and_reject_a_wrong_one() -> None:
    df = _frame()
    spec = {"kind": "values", "expect": "ratio", "cols": ["price", "qty"]}
    right = df.assign(price_per_qty=df["price"] / df["qty"])
    wrong = df.assign(price_per_qty=df["price"] - df["qty"])
    assert checks.check_transform(spec, df, right)[0]
    assert not checks.check_transform(spec, df, wrong)[0]
    assert not checks.check_transform(spec, df, df)[0]  # nothing added
    fill = df.copy()
    fill.loc[[1, 5], "qty"] = np.nan
    spec = {"kind": "fill", "col": "qty", "fill": float(fill["qty"].median())}
    assert checks.check_transform(spec, fill, fill.fillna({"qty": fill["qty"].median()}))[0]
    assert not checks.check_transform(spec, fill, fill.fillna({"qty": 0}))[0]
    rows = {"kind": "rows", "how": "cmp", "col": "price", "op": ">", "value": 50}
    assert checks.check_transform(rows, df, df[df["price"] > 50])[0]
    assert not checks.check_transform(rows, df, df[df["price"] < 50])[0]
    assert checks.same_answer(pd.Series({"Oslo": 1.0}), {"Oslo": 1.0})
    assert checks.same_answer(3.14159, 3.14, digits=2) and not checks.same_answer(3.2, 3.14, digits=2)


def test_sandbox_verification_rejects_a_wrong_target(tmp_path: Path) -> None:
    df = _frame()
    ratio = {"kind": "values", "expect": "ratio", "cols": ["price", "qty"]}
    mean = {"kind": "answer", "expected": round(float(np.mean(df["price"])), 2), "digits": 2}
    items = [
        ("feature", full_code("feature", '    df["r"] = df["price"] / df["qty"]\n    return df\n'), ratio),
        ("feature", full_code("feature", '    df["r"] = df["price"] * df["qty"]\n    return df\n'), ratio),
        ("ask", full_code("ask", '    return round(float(df["price"].mean()), 2)\n'), mean),
        ("ask", full_code("ask", "    return len(df)\n"), mean),
        ("ask", full_code("ask", '    return df["nope"].mean()\n'), mean),
    ]
    verifier = Verifier(tmp_path)
    try:
        path, _ = verifier.put(df, "t")
        out = verifier.run(path, items)
    finally:
        verifier.close()
    assert [o["passed"] for o in out] == [True, False, True, False, False]
    assert out[4]["ran"] is False and "KeyError" in out[4]["error"]


def test_manifest_and_data_match_the_generator_now() -> None:
    summary = json.loads((DATA / "summary.json").read_text(encoding="utf-8"))["splits"]["train"]
    assert digest(_rows("train.jsonl")) == summary["data_hash"]
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert manifest["data_hash"] == summary["data_hash"]
    assert manifest["table_candidate_hashes"] == summary["table_candidate_hashes"]
    assert (ROOT / "adapters" / manifest["adapter"]).stat().st_size > 100_000
    # Regenerating every table takes minutes on a shared CPU; two small tables, rendered afresh
    # (profile, context, prompt, targets), must hash to what the training data was made from.
    by_name = {t.name: t for t in TRAIN_TABLES}
    for name in ("engel", "linnerud"):
        assert candidate_digest(by_name[name], "train", SEED) == manifest["table_candidate_hashes"][name]


def test_bank_examples_are_verified_training_pairs(train_rows: list[dict]) -> None:
    with open(BANK, encoding="utf-8") as f:
        bank = [json.loads(line) for line in f]
    assert len(bank) >= 1000
    train_requests = {r["request"] for r in train_rows}
    for ex in bank[::211]:
        assert set(ex) == {"task", "request", "columns", "context", "code"}
        assert ex["request"] in train_requests
        compile(ex["code"], "<bank>", "exec")
        assert all(c in ex["context"] or c.replace("_", " ") in ex["request"] for c in ex["columns"])
