"""Helpers for the modeling / export tests: messy frames and hand-built projects.

Steps are run in-process here (not through the sandbox) so export tests do not depend on
the sandbox or the project store; the model step uses the real harness, so the recorded
metrics are what the app would record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from core.modeling_harness import train_and_evaluate
from core.models import DatasetProfile, DatasetRef, LoadOptions, Project, Step, StepResult


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """One OpenMP/BLAS thread: on a small shared machine, HistGradientBoosting with a thread per
    core slows down twenty-fold under load. Kernels and sandbox workers inherit the variable."""
    from threadpoolctl import threadpool_limits

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with threadpool_limits(limits=1):
        yield


def messy_classification(n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "Age (years)": rng.normal(40, 10, size=n).round(1),
            "city name": rng.choice(["Paris", "Lyon", "Nice", None], size=n),
            "signup": pd.date_range("2021-01-01", periods=n, freq="D"),
            "mixed": ([1, "a", 2.5, None] * (n // 4 + 1))[:n],
            "empty": [np.nan] * n,
            "vip": rng.choice([True, False], size=n),
            "naïve ünïcode": rng.normal(size=n),
        }
    )
    score = (df["Age (years)"] - 40) / 10 + (df["city name"] == "Paris") * 1.5 + rng.normal(scale=0.6, size=n)
    df["churn"] = np.where(score > 0.4, "yes", "no")
    return df


def messy_regression(n: int = 240, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.uniform(0, 10, size=n),
            "grade": rng.choice(["A", "B", "C"], size=n),
            "note": [f"n{i % 50}" for i in range(n)],
        }
    )
    df.loc[::7, "x2"] = np.nan
    df["price"] = 3 * df["x1"] + df["x2"].fillna(5) + (df["grade"] == "A") * 4 + rng.normal(scale=0.5, size=n)
    return df


def run_code(code: str, entrypoint: str) -> Any:
    ns: dict[str, Any] = {}
    exec(compile(code, "<step>", "exec"), ns)  # noqa: S102 - trusted test code
    return ns[entrypoint]


def transform_result(before: pd.DataFrame, after: pd.DataFrame) -> StepResult:
    return StepResult(
        ok=True,
        rows_before=len(before),
        rows_after=len(after),
        cols_before=before.shape[1],
        cols_after=after.shape[1],
        added_columns=[c for c in after.columns if c not in before.columns],
        removed_columns=[c for c in before.columns if c not in after.columns],
        missing_before=int(before.isna().sum().sum()),
        missing_after=int(after.isna().sum().sum()),
    )


def build_project(
    folder: Path,
    df: pd.DataFrame,
    target: str,
    task: str,
    transforms: list[tuple[str, str, str]] = (),  # (stage, code, provenance)
    model_code: str | None = None,
    cv: int = 2,
    drop_columns: list[str] | None = None,
    profile: DatasetProfile | None = None,
    filename: str = "data.csv",
) -> Project:
    """Write `df` as CSV in `folder`, run the steps in-process and record them in a Project."""
    folder.mkdir(parents=True, exist_ok=True)
    df.to_csv(folder / filename, index=False)
    current = pd.read_csv(folder / filename)
    steps: list[Step] = []
    for i, (stage, code, prov) in enumerate(transforms):
        entry = "clean" if stage == "clean" else "add_features"
        after = run_code(code, entry)(current)
        steps.append(
            Step(
                id=f"s{i}", stage=stage, code=code, entrypoint=entry, provenance=prov,
                provenance_detail="", rationale=f"{stage} the data", result=transform_result(current, after),
            )
        )
        current = after
    if model_code is not None:
        params = {
            "target": target, "task": task, "seed": 42, "test_size": 0.25, "cv": cv,
            "drop_columns": list(drop_columns or []),
        }
        metrics = train_and_evaluate(current, run_code(model_code, "build_model"), **params)
        metrics["params"] = params
        steps.append(
            Step(
                id="m1", stage="model", code=model_code, entrypoint="build_model", provenance="rule",
                provenance_detail="recipe", rationale="a tuned model",
                result=StepResult(ok=True, metrics=metrics),
            )
        )
    ref = DatasetRef(
        filename=filename, raw_path=f"raw/{filename}", sha256="ab" * 32, size_bytes=1,
        options=LoadOptions(format="csv"), n_rows=len(df), n_cols=df.shape[1],
    )
    return Project(
        id="p-test", name="Churn study", dataset=ref, profile=profile, target=target, task=task,
        steps=steps, cursor=len(steps), data_doc="Customers of a shop, one row per customer.",
    )
