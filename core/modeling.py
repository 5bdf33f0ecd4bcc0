"""Model stage logic around the trusted harness: task detection, leakage / ID checks,
training a proposed pipeline through the sandbox, and comparing several model steps.

The numbers themselves come from `core.modeling_harness` (run in the sandbox's "model" mode);
this module decides what the harness is given (target, task, columns to drop) and turns its
JSON result into a `StepResult`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import modeling_harness as harness
from core.models import DatasetProfile, Project, Step, StepResult

SEED = 42
TEST_SIZE = 0.25
CV_FOLDS = 5
# One thread: the sandbox refuses the semaphores joblib thread pools need (HistGradientBoosting
# bins features in a thread pool), and one thread keeps the notebook's numbers identical.
N_THREADS = 1
# Checks run on at most this many rows: enough to see a copy of the target or an ID.
CHECK_MAX_ROWS = 50_000
ID_NAME_HINTS = ("id", "uuid", "guid", "key", "identifier", "index", "row", "record")


def detect_task(series: pd.Series) -> str:
    """ "classification" for labels (strings, booleans, a few integer values), else "regression"."""
    return harness.detect_task(series)


@dataclass(frozen=True)
class ColumnWarning:
    """A column the model should not learn from, and why (shown before training)."""

    column: str
    reason: str
    kind: str  # "id" | "target_copy" | "perfect_predictor" | "profile_leak"
    drop: bool = True


def _name_hints_id(name: str) -> bool:
    low = str(name).lower().replace("-", "_").replace(" ", "_")
    parts = [p for p in low.split("_") if p]
    return low in ID_NAME_HINTS or any(p in ID_NAME_HINTS for p in parts) or low.endswith("id")


def _is_id_like(col: pd.Series, name: str, profile_semantic: str | None) -> str | None:
    """A reason when the column identifies rows rather than describing them."""
    s = col.dropna()
    if len(s) < 5:
        return None
    if profile_semantic == "id":
        return "identifier column (profile)"
    share_unique = s.nunique() / len(s)
    if pd.api.types.is_float_dtype(s) and not np.all(np.mod(s.to_numpy(dtype="float64"), 1) == 0):
        return None  # continuous measurements are unique too, and are not identifiers
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        if share_unique >= 0.99 and (_name_hints_id(name) or s.is_monotonic_increasing):
            return "unique integer per row (an identifier or row number)"
        return None
    if share_unique >= 0.99 and not pd.api.types.is_datetime64_any_dtype(s):
        return "a different text value in almost every row (an identifier or free text)"
    return None


def _perfect_predictor(col: pd.Series, y: pd.Series, task: str) -> str | None:
    """A reason when the column (almost) determines the target: a likely leak."""
    both = pd.DataFrame({"x": col, "y": y}).dropna()
    if len(both) < 30:  # on fewer rows a small category can be pure by chance
        return None
    if (
        task == "regression"
        and pd.api.types.is_numeric_dtype(both["x"])
        and not pd.api.types.is_bool_dtype(both["x"])
    ):
        x = both["x"].astype("float64")
        yy = pd.to_numeric(both["y"], errors="coerce").astype("float64")
        if x.std() > 0 and yy.std() > 0:
            r = float(np.corrcoef(x, yy)[0, 1])
            if abs(r) >= 0.995:
                return f"correlation {r:.3f} with the target (a copy of it)"
        return None
    # Classification (or a categorical feature): every value maps to one class, with values
    # shared by many rows (otherwise it is just an identifier, checked separately).
    n_groups = both["x"].astype(str).nunique()
    if n_groups >= len(both) * 0.5 or n_groups < 2 and both["y"].nunique() > 1:
        return None
    purity = both.groupby(both["x"].astype(str))["y"].agg(lambda v: v.value_counts().iloc[0]).sum() / len(
        both
    )
    if purity >= 0.999 and both["y"].nunique() > 1:
        return "determines the target in every row (a leak or a copy of it)"
    return None


def leakage_and_id_checks(
    profile: DatasetProfile | None, df: pd.DataFrame, target: str
) -> list[ColumnWarning]:
    """ID-like columns, near-copies of the target and columns that perfectly predict it."""
    if target not in df.columns:
        return []
    sample = df if len(df) <= CHECK_MAX_ROWS else df.sample(CHECK_MAX_ROWS, random_state=SEED)
    y = sample[target]
    if isinstance(y, pd.DataFrame):
        y = y.iloc[:, 0]
    task = detect_task(y)
    semantics: dict[str, str] = {}
    warnings: list[ColumnWarning] = []
    seen: set[str] = set()
    if profile is not None:
        semantics = {c.name: c.semantic for c in profile.columns}
        for item in profile.leakage:
            col = str(item.get("column", ""))
            if col and col != target and col in df.columns and item.get("target", target) == target:
                warnings.append(ColumnWarning(col, str(item.get("reason", "leak (profile)")), "profile_leak"))
                seen.add(col)
    for i, name in enumerate(sample.columns):
        if name == target or name in seen:
            continue
        col = sample.iloc[:, i]
        reason = _perfect_predictor(col, y, task)
        if reason:
            kind = "target_copy" if "copy" in reason and "correlation" in reason else "perfect_predictor"
            warnings.append(ColumnWarning(str(name), reason, kind))
            seen.add(name)
            continue
        reason = _is_id_like(col, str(name), semantics.get(str(name)))
        if reason:
            warnings.append(ColumnWarning(str(name), reason, "id"))
            seen.add(name)
    return warnings


def columns_to_drop_for_model(
    profile: DatasetProfile | None,
    df: pd.DataFrame,
    target: str,
    warnings: list[ColumnWarning] | None = None,
) -> list[str]:
    """Columns the harness removes before the split (in the frame's column order)."""
    warnings = leakage_and_id_checks(profile, df, target) if warnings is None else warnings
    drop = {w.column for w in warnings if w.drop}
    return [str(c) for c in df.columns if c in drop and c != target]


def harness_params(project: Project, drop_columns: list[str]) -> dict[str, Any]:
    """The exact keyword arguments given to `train_and_evaluate` (recorded for the notebook)."""
    return {
        "target": project.target,
        "task": project.task,
        "seed": SEED,
        "test_size": TEST_SIZE,
        "cv": CV_FOLDS,
        "drop_columns": list(drop_columns),
        "n_threads": N_THREADS,
    }


def step_result_from_harness(
    value: dict[str, Any] | None, stdout: str = "", duration_s: float = 0.0
) -> StepResult:
    """A StepResult from the harness's JSON dict."""
    if not isinstance(value, dict) or "test" not in value:
        return StepResult(
            ok=False, error="the model run returned no metrics", stdout=stdout, duration_s=duration_s
        )
    return StepResult(
        ok=True,
        rows_before=int(value.get("n_train", 0)) + int(value.get("n_test", 0)),
        cols_before=len(value.get("feature_columns", [])) + len(value.get("dropped_columns", [])),
        cols_after=len(value.get("feature_columns", [])),
        removed_columns=list(value.get("dropped_columns", [])),
        stdout=stdout,
        duration_s=duration_s,
        metrics=value,
    )


def train_step(
    project: Project,
    code: str,
    store: Any,
    sandbox: Any,
    drop_columns: list[str] | None = None,
    timeout_s: float = 300.0,
    save_model: bool = True,
) -> StepResult:
    """Train `build_model` from `code` on the project's current data in the sandbox ("model" mode).

    `drop_columns` defaults to the leakage / ID checks on the current data. The returned
    StepResult's `metrics` is the harness's dict plus `params` (the exact call arguments), which
    the notebook export repeats so it reproduces these numbers. With `save_model` the fitted
    pipeline is pickled into the sandbox workspace (`metrics["model_path"]`) for download.
    """
    from core.sandbox.base import SandboxJob, SandboxLimits

    if not project.target:
        return StepResult(ok=False, error="pick a target column before training")
    data_path = store.current_data_path(project)
    checks: list[ColumnWarning] = []
    if project.task is None or drop_columns is None:
        df = pd.read_parquet(data_path)
        if project.target not in df.columns:
            return StepResult(
                ok=False, error=f"the target column {project.target!r} is not in the current data"
            )
        if project.task is None:
            project.task = detect_task(df[project.target])  # type: ignore[assignment]
        if drop_columns is None:
            checks = leakage_and_id_checks(project.profile, df, project.target)
            drop_columns = columns_to_drop_for_model(project.profile, df, project.target, checks)
    params = harness_params(project, drop_columns)
    job_params = dict(params)
    workspace = getattr(sandbox, "workspace", None)
    if save_model and workspace is not None:
        # Named by what was trained, so re-training the same code on the same data overwrites it.
        what = code + json.dumps(params, sort_keys=True) + str(data_path)
        key = hashlib.sha256(what.encode()).hexdigest()
        models = Path(workspace) / "models"
        models.mkdir(parents=True, exist_ok=True)
        job_params["model_path"] = str(models / f"model-{key[:12]}.pkl")
    job = SandboxJob(
        code=code,
        mode="model",
        entrypoint="build_model",
        input_path=data_path,
        params=job_params,
        limits=SandboxLimits(timeout_s=timeout_s, cpu_s=int(timeout_s * 2)),
    )
    t0 = time.perf_counter()
    res = sandbox.run(job)
    seconds = res.duration_s or (time.perf_counter() - t0)
    if not res.ok:
        return StepResult(
            ok=False, error=res.error or "model run failed", stdout=res.stdout, duration_s=seconds
        )
    out = step_result_from_harness(res.value, res.stdout, seconds)
    if out.ok and out.metrics is not None:
        out.metrics["params"] = params
        out.metrics["checks"] = [
            {"column": w.column, "reason": w.reason, "kind": w.kind, "dropped": w.column in drop_columns}
            for w in checks
        ]
    return out


def model_summary(step: Step) -> dict[str, Any] | None:
    """The scorecard's model block for one trained step (test metrics only)."""
    m = step.result.metrics if step.result else None
    if not m:
        return None
    return {
        "primary_metric": m.get("primary_metric"),
        "estimator": m.get("estimator"),
        "test": m.get("test", {}),
        "cv": (m.get("cv") or {}).get("mean"),
        "baselines": {k: v.get("test", v) for k, v in (m.get("baselines") or {}).items()},
        "dropped_columns": m.get("dropped_columns", []),
        "n_train": m.get("n_train"),
        "n_test": m.get("n_test"),
    }


def compare_table(steps: list[Step]) -> pd.DataFrame:
    """One row per trained model step plus the baselines (from the latest step), for comparing."""
    rows: list[dict[str, Any]] = []
    baselines: dict[str, Any] = {}
    for i, step in enumerate(s for s in steps if s.stage == "model"):
        m = step.result.metrics if step.result and step.result.ok else None
        if not m:
            continue
        row: dict[str, Any] = {"model": f"#{i + 1} {m.get('estimator', '')}", "provenance": step.provenance}
        for k, v in (m.get("test") or {}).items():
            row[f"test {k}"] = v
        for k, v in ((m.get("cv") or {}).get("mean") or {}).items():
            row[f"cv {k}"] = v
        rows.append(row)
        baselines = m.get("baselines") or baselines
    for name, b in baselines.items():
        if "test" not in b:
            continue
        row = {"model": f"baseline: {name}", "provenance": "baseline"}
        for k, v in b["test"].items():
            row[f"test {k}"] = v
        for k, v in ((b.get("cv") or {}).get("mean") or {}).items():
            row[f"cv {k}"] = v
        rows.append(row)
    return pd.DataFrame(rows)
