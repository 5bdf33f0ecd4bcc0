"""Headless autopilot: load -> profile -> clean -> feature -> model -> report without a browser.

It drives the SAME machinery as the pages (core.io via ProjectStore.import_raw, core.profile,
core.engine, the sandbox, ProjectStore.accept_step -> core.modeling.train_step, the exports),
accepting each verified proposal, and writes into the output folder:

- `notebook.ipynb` and a copy of the raw file beside it (the notebook loads it by relative path);
- `report.md` (narrative from the backend, fact-checked);
- `scorecard.json`: dataset, target, task, per-step stage/provenance/ok/seconds, and the model's
  held-out metrics beside both baselines' and the columns dropped as leaky or ID-like.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import stages as stage_registry
from core.models import Project

# The built-in code stages, for the suite table; a run walks the registry (`run_autopilot(stages=None)`).
STAGES = tuple(s.name for s in stage_registry.code_stages())


class AutopilotError(Exception):
    """Bad input or a failed run; the message is for the user (the CLI exits non-zero)."""


@dataclass
class AutopilotResult:
    project: Project
    scorecard: dict[str, Any]
    out_dir: Path


def _log_default(msg: str) -> None:
    print(msg, flush=True)


def check_target(df: Any, target: str) -> str:
    """The target's column name; refuse a target that is not a column or has fewer than two
    distinct values.

    The loader strips spaces around column names (core.io.tidy_names), so a name given as it is
    written in the file's header (" Price ") resolves to the loaded column ("Price")."""
    if target not in df.columns and target.strip() in df.columns:
        target = target.strip()
    if target not in df.columns:
        close = [c for c in df.columns if str(c).strip().lower() == target.strip().lower()]
        hint = f" Did you mean {close[0]!r}?" if close else ""
        cols = ", ".join(repr(str(c)) for c in list(df.columns)[:15])
        raise AutopilotError(f"target column {target!r} is not in the data.{hint} Columns: {cols}")
    col = df[target]
    if getattr(col, "ndim", 1) != 1:
        raise AutopilotError(f"the column name {target!r} is used by several columns; rename them first")
    n = col.dropna().astype(str).nunique()
    if n < 2:
        raise AutopilotError(
            f"target column {target!r} has {'no values' if n == 0 else 'a single value'}; "
            "there is nothing to predict"
        )
    return target


def run_autopilot(
    data_path: str | Path,
    target: str,
    out_dir: str | Path,
    backend: Any,
    projects_root: str | Path | None = None,
    sandbox: Any = None,
    name: str | None = None,
    log: Callable[[str], None] = _log_default,
    stages: tuple[str, ...] | None = None,
    search_budget_s: float | None = None,
) -> AutopilotResult:
    """Run the whole workflow on one table; write notebook, report and scorecard to `out_dir`.

    Suspected identifiers and leaks are left out of the model (core.detect, as on the page).
    After the model stage a budgeted search (`search_budget_s`, default env
    GEMMA_WIZARD_SEARCH_S or 30 s; 0 turns it off) adds its winner as a second model step; the
    scorecard reports the recommended model (best cross-validated, no suspected leak)."""
    from core.export.notebook import to_ipynb_bytes
    from core.export.report import narrative, to_markdown
    from core.io import LoadError
    from core.modeling import detect_task
    from core.profile import profile_dataframe
    from core.project import ProjectStore

    src = Path(data_path)
    if not src.is_file():
        raise AutopilotError(f"data file not found: {src}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp_root = None
    if projects_root is None:
        tmp_root = tempfile.mkdtemp(prefix="autopilot-projects-")
        projects_root = tmp_root
    store = ProjectStore(Path(projects_root))
    project = store.create(name or src.stem)
    own_sandbox = sandbox is None
    steps: list[dict[str, Any]] = []
    t_all = time.perf_counter()
    try:
        # ---- load + profile
        t0 = time.perf_counter()
        try:
            store.import_raw(project, src)
        except LoadError as e:
            raise AutopilotError(f"could not read {src.name}: {e}") from e
        df = store.current_frame(project)
        target = check_target(df, target)
        project.target = target
        project.task = detect_task(df[target])  # type: ignore[assignment]
        project.profile = profile_dataframe(df, target=target, n_rows_total=project.dataset.n_rows)  # type: ignore[union-attr]
        project.data_doc = _data_doc(project, backend, log)
        store.save(project)
        steps.append(
            {"stage": "load", "provenance": "rule", "ok": True, "seconds": round(time.perf_counter() - t0, 2)}
        )
        log(
            f"loaded {src.name}: {df.shape[0]} rows x {df.shape[1]} columns; "
            f"target {target!r} ({project.task})"
        )

        if sandbox is None:
            from core.sandbox import LocalSandbox

            sandbox = LocalSandbox(store.workspace_path(project))
        # ---- clean, feature, model
        for stage in stages or [s.name for s in stage_registry.code_stages()]:
            steps.append(_run_stage(stage, project, store, backend, sandbox, log))
            if stage == "model" and steps[-1].get("ok"):
                steps[-1]["search"] = _search(project, store, sandbox, search_budget_s, log)

        # ---- report
        t0 = time.perf_counter()
        project.report_narrative = narrative(project, backend)
        store.save(project)
        data_copy = out / project.dataset.filename  # type: ignore[union-attr]
        shutil.copyfile(store.raw_path(project), data_copy)
        data_copy.chmod(0o644)
        (out / "notebook.ipynb").write_bytes(to_ipynb_bytes(project, data_copy.name))
        (out / "report.md").write_text(to_markdown(project), encoding="utf-8")
        steps.append(
            {
                "stage": "report",
                "provenance": "rule",
                "ok": True,
                "seconds": round(time.perf_counter() - t0, 2),
            }
        )
        card = scorecard(project, steps, time.perf_counter() - t_all, backend)
        (out / "scorecard.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        log(f"wrote {out / 'notebook.ipynb'}, {out / 'report.md'}, {out / 'scorecard.json'}")
        return AutopilotResult(project=project, scorecard=card, out_dir=out)
    finally:
        if own_sandbox and sandbox is not None:
            sandbox.close()
        if tmp_root is not None:
            shutil.rmtree(tmp_root, ignore_errors=True)


def _search(
    project: Project, store: Any, sandbox: Any, budget_s: float | None, log: Callable[[str], None]
) -> dict[str, Any]:
    """The budgeted model search after the model stage; a failure is recorded, never fatal."""
    import os

    from core.modeling import search_step
    from core.project import StepError

    if budget_s is None:
        budget_s = float(os.environ.get("GEMMA_WIZARD_SEARCH_S", "30"))
    if budget_s <= 0:
        return {"ok": False, "skipped": True}
    t0 = time.perf_counter()
    try:
        step = search_step(project, store, sandbox, budget_s=budget_s)
    except (ValueError, StepError) as e:
        log(f"model search: no model ({e})")
        return {"ok": False, "error": str(e)[:300], "seconds": round(time.perf_counter() - t0, 2)}
    log(f"model search: {step.provenance_detail[:200]}")
    return {"ok": True, "detail": step.provenance_detail, "seconds": round(time.perf_counter() - t0, 2)}


def _data_doc(project: Project, backend: Any, log: Callable[[str], None]) -> str:
    try:
        from core.datadoc import draft_data_doc

        text, _flags = draft_data_doc(
            project.profile,  # type: ignore[arg-type]
            backend,
            dataset_name=project.dataset.filename if project.dataset else "The dataset",
            target=project.target,
        )
        return text
    except Exception as e:  # noqa: BLE001 - documentation is a nicety; the run goes on without it
        log(f"data documentation skipped: {type(e).__name__}: {e}")
        return ""


def _run_stage(
    stage: str, project: Project, store: Any, backend: Any, sandbox: Any, log: Callable[[str], None]
) -> dict:
    """Propose, then accept the verified proposal (a failing Gemma proposal falls back to recipes)."""
    from core.engine.session import propose
    from core.project import StepError

    t0 = time.perf_counter()
    entry: dict[str, Any] = {"stage": stage, "provenance": None, "ok": False, "seconds": 0.0}
    try:
        proposal = propose(stage, project, backend, sandbox, data=store.current_frame(project))
    except Exception as e:  # noqa: BLE001 - a stage that cannot be proposed is recorded, not fatal
        entry.update(error=f"{type(e).__name__}: {e}", seconds=round(time.perf_counter() - t0, 2))
        log(f"{stage}: no proposal ({entry['error']})")
        return entry
    entry["provenance"] = proposal.provenance
    entry["provenance_detail"] = proposal.provenance_detail
    entry["attempts"] = len(proposal.attempts)
    entry["propose_seconds"] = round(proposal.seconds, 2)
    if proposal.nothing_to_do:
        # The stage has nothing to change on this table: no step, and nothing is wrong.
        entry.update(ok=True, nothing_to_do=True, seconds=round(time.perf_counter() - t0, 2))
        log(f"{stage}: nothing to do ({proposal.rationale})")
        return entry
    if not proposal.verified:
        if stage == "model":
            # The model must be trained: accept the recipes directly (each one is trained by
            # the harness in the sandbox, which is the real check), best first.
            return _model_from_recipes(project, store, sandbox, entry, proposal, t0, log)
        entry.update(error="no verified proposal", seconds=round(time.perf_counter() - t0, 2))
        log(f"{stage}: no verified proposal; stage skipped")
        return entry
    try:
        step = store.accept_proposal(project, stage, proposal, proposal.request, sandbox)
        entry["ok"] = True
        r = step.result
        if r is not None and stage_registry.transforms(stage):
            entry["shape"] = [r.rows_after, r.cols_after]
    except StepError as e:
        entry["error"] = str(e)
    return _finish(entry, stage, entry["provenance"], t0, log)


def _finish(entry: dict, stage: str, how: str, t0: float, log: Callable[[str], None]) -> dict:
    """Time the stage's entry and log its outcome."""
    entry["seconds"] = round(time.perf_counter() - t0, 2)
    log(
        f"{stage}: {'ok' if entry['ok'] else 'FAILED'} ({how}, {entry['seconds']} s)"
        + (f" {entry.get('error')}" if entry.get("error") else "")
    )
    return entry


def _model_from_recipes(
    project: Project,
    store: Any,
    sandbox: Any,
    entry: dict,
    proposal: Any,
    t0: float,
    log: Callable[[str], None],
) -> dict:
    from core.project import StepError
    from core.stages import recipes_for

    why = (proposal.provenance_detail or "no verified proposal")[:200]
    errors: list[str] = []
    for recipe in recipes_for("model", project.profile, project.target, project.task):
        try:
            store.accept_step(
                project,
                "model",
                recipe.code,
                "build_model",
                "rule",
                f"rule: recipe {recipe.id} trained directly ({why})",
                rationale=recipe.rationale,
                sandbox=sandbox,
            )
        except StepError as e:
            errors.append(f"{recipe.id}: {e}")
            continue
        entry.update(ok=True, provenance="rule", provenance_detail=f"recipe {recipe.id} ({why})")
        break
    else:
        entry["error"] = "; ".join(errors) or "no model recipe"
    return _finish(entry, "model", "rule", t0, log)


def scorecard(
    project: Project, steps: list[dict[str, Any]], seconds: float, backend: Any = None
) -> dict[str, Any]:
    """The scorecard.json shape of issue 6 (plus a few more keys)."""
    from core.model_result import ModelResult
    from core.modeling import model_summary, recommended_index

    models = [s for s in project.active_steps if s.stage == "model" and s.result and s.result.ok]
    best = recommended_index(models)
    chosen = models[best if best is not None else -1] if models else None
    model = model_summary(chosen) if chosen is not None else None
    if model is not None and chosen is not None:
        res = ModelResult.from_metrics(chosen.result.metrics)  # type: ignore[union-attr]
        model["dropped_reasons"] = {c["column"]: c["reason"] for c in res.checks if c.get("dropped")}
        model["suspected_leak"] = res.leak_label  # None, or the label the page and report show
        model["recommended"] = f"model {models.index(chosen) + 1} of {len(models)}"
        pm = model["primary_metric"]
        ours = (model["test"] or {}).get(pm)
        dummy = (model["baselines"].get("dummy") or {}).get(pm)
        model["beats_dummy"] = bool(ours is not None and dummy is not None and ours > dummy)
    info = getattr(backend, "info", None)
    return {
        "dataset": project.dataset.filename if project.dataset else None,
        "rows": project.dataset.n_rows if project.dataset else None,
        "columns": project.dataset.n_cols if project.dataset else None,
        "target": project.target,
        "task": project.task,
        "backend": getattr(info, "name", None),
        "steps": steps,
        "model": model,
        "seconds": round(seconds, 2),
    }


def run_suite(
    out_root: str | Path,
    backend: Any,
    names: list[str] | None = None,
    log: Callable[[str], None] = _log_default,
) -> list[dict[str, Any]]:
    """The autopilot on every development-suite dataset; one results row per dataset.

    Writes `out_root/<name>/` (notebook, report, scorecard) and `out_root/suite.md` (the table).
    A dataset that fails is a row with its error, never the end of the run.
    """
    from core.devsuite import DEV_SUITE, materialize

    out = Path(out_root)
    rows: list[dict[str, Any]] = []
    for ds in DEV_SUITE:
        if names and ds.name not in names:
            continue
        row: dict[str, Any] = {"dataset": ds.name, "task": ds.task, "target": ds.target}
        t0 = time.perf_counter()
        try:
            path = materialize(ds, out / "_data")
            card = run_autopilot(
                path, ds.target, out / ds.name, backend, log=lambda m, n=ds.name: log(f"[{n}] {m}")
            )
            m = card.scorecard["model"] or {}
            pm = m.get("primary_metric")
            row.update(
                metric=pm,
                ours=(m.get("test") or {}).get(pm),
                hgb_default=((m.get("baselines") or {}).get("hgb_default") or {}).get(pm),
                dummy=((m.get("baselines") or {}).get("dummy") or {}).get(pm),
                estimator=m.get("estimator"),
                provenance={s["stage"]: s.get("provenance") for s in card.scorecard["steps"]
                            if s["stage"] in STAGES},
                dropped=m.get("dropped_columns", []),
                beats_dummy=m.get("beats_dummy", False),
            )
        except Exception as e:  # noqa: BLE001 - one dataset's failure is a row, not the end
            row["error"] = f"{type(e).__name__}: {e}"
        row["seconds"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
        log(f"[{ds.name}] {row.get('metric')} ours {row.get('ours')} hgb {row.get('hgb_default')} "
            f"({row['seconds']} s){' ERROR ' + row['error'] if 'error' in row else ''}")
    (out / "suite.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    (out / "suite.md").write_text(suite_table(rows), encoding="utf-8")
    return rows


def suite_table(rows: list[dict[str, Any]]) -> str:
    """Markdown results table: dataset, task, our metric, HGB-default metric (and the dummy)."""

    def f(v: Any) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    lines = [
        "| dataset | task | metric | ours (test) | HGB default (test) | dummy (test) | model "
        "| provenance (clean/feature/model) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['dataset']} | {r['task']} | error | {r['error'][:80]} | | | | |")
            continue
        prov = "/".join(str(r["provenance"].get(s)) for s in STAGES)
        lines.append(
            f"| {r['dataset']} | {r['task']} | {r['metric']} | {f(r['ours'])} | {f(r['hgb_default'])} | "
            f"{f(r['dummy'])} | {r.get('estimator')} | {prov} |"
        )
    return "\n".join(lines) + "\n"
