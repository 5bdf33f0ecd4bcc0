"""The development evaluation: shares and latency per stage, records, end to end without a model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import evaluation as E
from core.devsuite import DevDataset
from core.sandbox.local import LocalSandbox


def rec(stage, technique, verified, provenance, seconds):
    return {
        "stage": stage,
        "technique": technique,
        "verified": verified,
        "provenance": provenance,
        "seconds": seconds,
    }


def test_summarise_counts_shares_and_median():
    records = [
        rec("clean", "scaffold", True, "gemma", 10.0),
        rec("clean", "scaffold", True, "gemma-repaired", 30.0),
        rec("clean", "scaffold", True, "rule", 50.0),
        rec("clean", "scaffold", False, "rule", 70.0),
        rec("model", "select", True, "rule", 2.0),
    ]
    rows = E.summarise(records)
    assert [(r["stage"], r["technique"]) for r in rows] == [("clean", "scaffold"), ("model", "select")]
    c = rows[0]
    assert (c["n"], c["verified"], c["gemma"], c["gemma_repaired"], c["rule"]) == (4, 0.75, 0.25, 0.25, 0.25)
    assert c["median_s"] == 40.0
    table = E.table(rows)
    assert "| clean | scaffold | 4 | 75% | 25% | 25% | 25% | 40.0 |" in table


def test_request_for_picks_a_non_negative_numeric_column():
    df = pd.DataFrame({"y": range(20), "neg": np.linspace(-1, 1, 20), "amount": np.arange(20.0)})
    assert E.request_for(df, "y") == "add a column with the log of amount"
    assert E.request_for(df[["y"]], "y") is None


def test_evaluate_end_to_end_with_recipes_only(tmp_path):
    rng = np.random.default_rng(0)
    n = 150

    def load() -> pd.DataFrame:
        return pd.DataFrame(
            {
                "price": [f"${x:,.2f}" for x in rng.lognormal(5, 1, n)],
                "when": pd.date_range("2024-01-01", periods=n).astype(str),
                "kind": rng.choice(["a", "b", "c"], n),
                "y": rng.choice([0, 1], n),
            }
        )

    ds = DevDataset("toy", "y", "classification", "generated in the test", "none", load)
    sb = LocalSandbox(tmp_path / "ws")
    try:
        seen = []
        records = E.evaluate([ds], None, sb, ("select",), tmp_path / "data", on_dataset=seen.append)
    finally:
        sb.close()
    assert [(r["stage"], r["verified"], r["provenance"]) for r in records] == [
        ("clean", True, "rule"),
        ("feature", True, "rule"),
        ("model", True, "rule"),
    ]
    assert seen and seen[-1] is records
    # The feature stage saw the cleaned data: price was already a number, the date already a date.
    assert "feature.date_parts" in records[1]["recipes"]


@pytest.mark.parametrize("argv", [["--datasets", "no_such_dataset"]])
def test_main_rejects_unknown_datasets(argv):
    with pytest.raises(KeyError):
        E.main(argv + ["--backend", "fake"])
