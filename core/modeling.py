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
from pathlib import Path
from typing import Any

import pandas as pd

from core import detect
from core import modeling_harness as harness
from core.detect import Finding
from core.models import DatasetProfile, Project, Step, StepResult

SEED = 42
TEST_SIZE = 0.25
CV_FOLDS = 5
# One thread: the sandbox refuses the semaphores joblib thread pools need (HistGradientBoosting
# bins features in a thread pool), and one thread keeps the notebook's numbers identical.
N_THREADS = 1


def detect_task(series: pd.Series) -> str:
    """ "classification" for labels (strings, booleans, a few integer values), else "regression"."""
    return harness.detect_task(series)


def leakage_and_id_checks(
    profile: DatasetProfile | None, df: pd.DataFrame, target: str, task: str | None = None
) -> list[Finding]:
    """The one detector's findings (identifiers, leaks, post-outcome columns) on the current data,
    plus any leak the profile recorded on earlier data that the scan no longer sees."""
    if target not in df.columns:
        return []
    findings = detect.scan(df, target, task)
    seen = {c for f in findings for c in f.columns}
    if profile is not None:
        for item in profile.leakage:
            cols = [str(c) for c in (item.get("columns") or [item.get("column", "")])]
            cols = [c for c in cols if c and c != target and c in df.columns and c not in seen]
            if cols and item.get("target", target) == target:
                findings.append(
                    Finding(
                        "leak",
                        tuple(cols),
                        "profile",
                        f"found by the profile: {item.get('reason', 'a leak')}",
                    )
                )
                seen.update(cols)
    return findings


def columns_to_drop_for_model(
    profile: DatasetProfile | None,
    df: pd.DataFrame,
    target: str,
    findings: list[Finding] | None = None,
    put_back: list[str] | tuple[str, ...] = (),
) -> list[str]:
    """Columns the harness removes before the split (in the frame's column order): every
    finding's columns except those the user put back."""
    findings = leakage_and_id_checks(profile, df, target) if findings is None else findings
    drop = set(detect.left_out(findings, put_back))
    return [str(c) for c in df.columns if c in drop and c != target]


def checks_record(findings: list[Finding], drop_columns: list[str]) -> list[dict[str, Any]]:
    """The findings as recorded with a model step, each with whether it was left out."""
    out = []
    for f in findings:
        d = f.to_dict()
        d["dropped"] = all(c in drop_columns for c in f.columns)
        out.append(d)
    return out


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

    `drop_columns` defaults to the detector's findings on the current data (`core.detect`) less
    the columns the user put back (`project.model_put_back`). The returned
    StepResult's `metrics` is the harness's dict plus `params` (the exact call arguments), which
    the notebook export repeats so it reproduces these numbers. With `save_model` the fitted
    pipeline is pickled into the sandbox workspace (`metrics["model_path"]`) for download.
    """
    from core.sandbox.base import SandboxJob, SandboxLimits

    if not project.target:
        return StepResult(ok=False, error="pick a target column before training")
    data_path = store.current_data_path(project)
    findings: list[Finding] = []
    if project.task is None or drop_columns is None:
        df = pd.read_parquet(data_path)
        if project.target not in df.columns:
            return StepResult(
                ok=False, error=f"the target column {project.target!r} is not in the current data"
            )
        if project.task is None:
            project.task = detect_task(df[project.target])  # type: ignore[assignment]
        if drop_columns is None:
            # Safe by default: whatever the detector suspects is left out unless the user put it back.
            findings = leakage_and_id_checks(project.profile, df, project.target, project.task)
            drop_columns = columns_to_drop_for_model(
                project.profile, df, project.target, findings, project.model_put_back
            )
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
        out.metrics["checks"] = checks_record(findings, drop_columns)
        out.metrics["put_back"] = [c for c in project.model_put_back if c not in drop_columns]
    return out


def search_step(
    project: Project,
    store: Any,
    sandbox: Any,
    budget_s: float | None = None,
    n_threads: int | None = None,
) -> Step:
    """Run the budgeted search on the current data (suspects left out as in `train_step`) and accept
    the winner's code as a model step; the sandbox then trains it beside both baselines, so its
    metrics sit on the same split and folds and its code goes into the notebook.

    Raises ValueError when nothing could be searched (no target, no candidate trained) and
    `core.project.StepError` when the winner fails in the sandbox.
    """
    from core import model_search

    if not project.target:
        raise ValueError("pick a target column before searching")
    df = store.current_frame(project)
    if project.target not in df.columns:
        raise ValueError(f"the target column {project.target!r} is not in the current data")
    if project.task is None:
        project.task = detect_task(df[project.target])  # type: ignore[assignment]
    findings = leakage_and_id_checks(project.profile, df, project.target, project.task)
    drop = columns_to_drop_for_model(project.profile, df, project.target, findings, project.model_put_back)
    found = model_search.search(
        df,
        project.target,
        project.task,
        drop,
        budget_s=model_search.DEFAULT_BUDGET_S if budget_s is None else budget_s,
        n_threads=n_threads or model_search.DEFAULT_THREADS,
        seed=SEED,
        test_size=TEST_SIZE,
        cv=CV_FOLDS,
    )
    if found.best is None:
        raise ValueError("the model search trained no candidate: " + found.summary())
    from core.project import StepError

    # A blend costs its members' time in the sandbox (one thread, a time limit): if it fails
    # there, the best single candidate is trained instead.
    order = [found.best]
    singles = [t for t in found.tried if t["cv"] is not None and t["id"] in found.scored]
    singles = sorted(
        (t for t in singles if not t["id"].startswith("blend")), key=lambda t: t["cv"], reverse=True
    )
    if found.best.id.startswith("blend") and singles:
        order.append(found.scored[singles[0]["id"]])
    for i, cand in enumerate(order):
        try:
            return store.accept_step(
                project,
                "model",
                cand.code,
                "build_model",
                "rule",
                f"rule ({found.summary()})" + (f"; the blend failed, trained {cand.id}" if i else ""),
                rationale=f"{cand.title}: the best cross-validated candidate of the budgeted search.",
                sandbox=sandbox,
            )
        except StepError:
            if i == len(order) - 1:
                raise
    raise AssertionError("unreachable: the loop returns or raises")


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
    """One row per trained model step plus the baselines (from the latest step), for comparing.

    Rendered with `ModelResult`'s labels; the step recommended by `recommended_index` is marked.
    """
    from core.model_result import ModelResult

    rows: list[dict[str, Any]] = []
    trained = [s for s in steps if s.stage == "model" and s.result and s.result.ok and s.result.metrics]
    best = recommended_index(trained)
    last: ModelResult | None = None
    for i, step in enumerate(trained):
        res = ModelResult.from_metrics(step.result.metrics)  # type: ignore[union-attr]
        row: dict[str, Any] = {
            "model": f"#{i + 1} {res.estimator}" + (" ⚠ suspected leak" if res.leak_label else ""),
            "provenance": step.provenance,
            "recommended": "★" if i == best else "",
        }
        head = res.header()
        row.update(dict(zip(head[2:], res.table()[0][2:], strict=True)))
        rows.append(row)
        last = res
    if last is not None:
        head = last.header()
        for r in last.table()[1:]:
            rows.append(
                {
                    "model": r[0],
                    "provenance": "baseline",
                    "recommended": "",
                    **dict(zip(head[2:], r[2:], strict=True)),
                }
            )
    return pd.DataFrame(rows)


def recommended_index(steps: list[Step]) -> int | None:
    """The trained model step to recommend: the best cross-validated primary metric among models
    that used no suspected leak (test scores are not used to choose, so they stay honest)."""
    from core.model_result import ModelResult, better

    best: int | None = None
    best_score: float | None = None
    for i, step in enumerate(steps):
        res = ModelResult.from_metrics(step.result.metrics if step.result else None)
        if res.leak_label or not step.result or not step.result.ok:
            continue
        cv = res.score(split="cv")
        score = cv if cv is not None else res.score()
        if best is None or better(score, best_score, res.primary_metric):
            best, best_score = i, score
    return best
