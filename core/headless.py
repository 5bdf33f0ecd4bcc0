"""The free-form request and the question, headless: what `python -m core request | ask` run.

`run_request` takes the UI's path for a free-form request: the file is loaded with `core.io`,
imported into a project store (a temporary one unless given), profiled, and the engine proposes
(`core.engine.session.propose`) on the project's current snapshot; a proposal whose code is
verified and shown to do what was asked (intent "verified") is accepted as a step through
`ProjectStore.accept_step` (the same run, snapshot and diff as the Accept button), and the
resulting table is written out. Intent "unchecked" is accepted only when the caller says so
(the UI asks for a confirmation there); "failed" never is.

`run_question` answers a question with `core.engine.answer.ask` and returns a JSON-ready dict.
Nothing here prints; the CLI (`core.__main__`) renders the outcomes.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.models import Proposal


class HeadlessInputError(ValueError):
    """Input the user must fix: an empty table, an unknown stage or target (exit code 2)."""


@dataclass
class RequestOutcome:
    proposal: Proposal
    applied: bool = False
    output: Path | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    withheld: str | None = None  # why a verified proposal was not applied
    model: str = "none"
    seconds: float = 0.0

    @property
    def status(self) -> str:
        """done | needs-confirmation | could-not-do"""
        if self.applied:
            return "done"
        return "needs-confirmation" if self.proposal.verified and self.withheld else "could-not-do"

    def to_json(self, request: str, stage: str, data: str) -> dict[str, Any]:
        p = self.proposal
        return {
            "request": request,
            "stage": stage,
            "data": data,
            "status": self.status,
            "code": p.code,
            "provenance": p.provenance,
            "provenance_detail": p.provenance_detail,
            "verified": p.verified,
            "intent": p.intent,
            "intent_checks": list(p.intent_checks),
            "intent_reason": p.intent_reason,
            "applied": self.applied,
            "withheld": self.withheld,
            "output": str(self.output) if self.output else None,
            "changes": self.changes,
            "attempts": len(p.attempts),
            "model": self.model,
            "seconds": round(self.seconds, 2),
        }


def load_nonempty(path: str | Path) -> Any:
    """`core.io.load_table`, refusing a table without rows or columns (nothing to work on)."""
    from core.io import load_table

    table = load_table(Path(path))
    rows, cols = table.df.shape
    if rows == 0 or cols == 0:
        raise HeadlessInputError(f"{path}: the table is empty ({rows} rows, {cols} columns)")
    return table


def _model_name(backend: Any) -> str:
    info = getattr(backend, "info", None)
    if info is None:
        return "none (recipes only)"
    return f"{info.name}{' + wizard adapter' if getattr(info, 'tuned', False) else ''}"


def run_request(
    data: str | Path,
    request: str,
    stage: str,
    backend: Any,
    out: str | Path | None = None,
    target: str | None = None,
    projects: str | Path | None = None,
    accept_unchecked: bool = False,
) -> RequestOutcome:
    """Propose for `request` at `stage` on the file `data`; apply and write the table when done."""
    from core.engine.session import propose
    from core.profile import profile_dataframe
    from core.project import ProjectStore, StepError
    from core.sandbox import LocalSandbox

    if stage not in ("clean", "feature"):
        raise HeadlessInputError(f"requests are for the clean or feature stage, not {stage!r}")
    if not request or not request.strip():
        raise HeadlessInputError("the request is empty")
    t0 = time.perf_counter()
    table = load_nonempty(data)
    if target is not None and target not in table.df.columns:
        raise HeadlessInputError(
            f"target {target!r} is not a column; columns: {', '.join(map(str, table.df.columns))}"
        )
    with tempfile.TemporaryDirectory(prefix="gdw-request-") as tmp:
        store = ProjectStore(Path(projects) if projects else Path(tmp) / "projects")
        project = store.create(Path(data).name)
        store.import_raw(
            project,
            data,
            table.options,
            filename=Path(data).name,
            loaded_df=table.df,
            warnings=table.warnings,
            sampled=table.sampled,
            n_rows_total=table.n_rows_total,
        )
        project.target = target
        project.profile = profile_dataframe(table.df, target=target)
        store.save(project)
        # The shared sandbox's workspace lies beside the projects (as in the app), jobs scoped to the project.
        raw_sandbox = LocalSandbox(Path(tmp) / "sandbox")
        try:
            sandbox = store.scoped_sandbox(project, raw_sandbox)
            proposal = propose(
                stage,
                project,
                backend,
                sandbox,
                request=request.strip(),
                data=store.current_data_path(project),
            )
            outcome = RequestOutcome(proposal, model=_model_name(backend))
            if not proposal.verified:
                outcome.withheld = None  # could not do it: the proposal says why
            elif proposal.intent == "failed":
                outcome.withheld = f"it does not do what was asked: {proposal.intent_reason}"
            elif proposal.intent == "unchecked" and not accept_unchecked:
                outcome.withheld = (
                    "not verified against your request"
                    + (f" ({proposal.intent_reason})" if proposal.intent_reason else "")
                    + "; rerun with --accept-unchecked to apply it anyway"
                )
            else:
                before = store.current_frame(project)
                try:
                    store.accept_proposal(project, stage, proposal, request, sandbox)
                except StepError as e:
                    outcome.withheld = f"the code failed on the whole table: {e}"
                else:
                    after = store.current_frame(project)
                    outcome.changes = changes(before, after)
                    outcome.applied = True
                    if out is not None:
                        outcome.output = write_table(after, Path(out), Path(data).stem, stage)
        finally:
            raw_sandbox.close()
    outcome.seconds = time.perf_counter() - t0
    return outcome


def changes(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, Any]:
    """What the step changed, from the one frame diff (`core.diff`)."""
    from core.diff import diff_frames

    d = diff_frames(before, after)
    fields = d.step_fields()
    fields.update(
        {
            "rows_removed": d.rows_removed,
            "rows_changed": d.rows_changed,
            "duplicates_removed": d.duplicates_removed,
            "retyped_columns": d.columns_retyped,
        }
    )
    return jsonable(fields)


def describe_changes(c: dict[str, Any]) -> list[str]:
    """The changes as short lines for a terminal."""
    if not c:
        return []
    lines = [
        f"rows {c['rows_before']} -> {c['rows_after']}, columns {c['cols_before']} -> {c['cols_after']}, "
        f"missing cells {c['missing_before']} -> {c['missing_after']}"
    ]
    for key, label in (
        ("added_columns", "added"),
        ("removed_columns", "removed"),
        ("retyped_columns", "retyped"),
        ("changed_columns", "changed"),
    ):
        if c.get(key):
            lines.append(f"{label}: {', '.join(map(str, c[key][:12]))}" + (" …" if len(c[key]) > 12 else ""))
    return lines


def write_table(df: pd.DataFrame, out: Path, stem: str, stage: str) -> Path:
    """`<out>/<stem>.<stage>.csv`, written then renamed so a reader never sees half a file."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stem}.{stage}.csv"
    tmp = path.with_suffix(".csv.tmp")
    df.to_csv(tmp, index=False)
    tmp.replace(path)
    return path


def run_question(data: str | Path, question: str, backend: Any) -> dict[str, Any]:
    """Answer `question` about the file `data`; a JSON-ready dict (error set when it could not)."""
    from core.engine.answer import AskError, ask
    from core.engine.intent_base import decode_value
    from core.sandbox import LocalSandbox

    if not question or not question.strip():
        raise HeadlessInputError("the question is empty")
    t0 = time.perf_counter()
    table = load_nonempty(data)
    out: dict[str, Any] = {"question": question, "data": str(data), "model": _model_name(backend)}
    with tempfile.TemporaryDirectory(prefix="gdw-ask-") as ws:
        sandbox = LocalSandbox(Path(ws))
        try:
            answer = ask(table.df, question.strip(), backend, sandbox)
        except AskError as e:
            out.update({"status": "could-not-answer", "error": str(e), "attempts": len(e.attempts)})
        else:
            out.update(
                {
                    "status": "answered",
                    "code": answer.code,
                    "stdout": answer.stdout,
                    "value": jsonable(decode_value(answer.value)),
                    "value_type": type(decode_value(answer.value)).__name__,
                    "intent": answer.intent,
                    "intent_checks": list(answer.intent_checks),
                    "intent_reason": answer.intent_reason,
                    "attempts": len(answer.attempts),
                    "written_by": answer.source,
                    "reading": answer.reading,
                    # Why Gemma's own answer was not used, when a recipe's was (a crash says so here).
                    "gemma_failure": next(
                        (a.failure for a in reversed(answer.attempts) if a.source == "gemma" and not a.ok),
                        None,
                    )
                    if answer.source == "rule"
                    else None,
                }
            )
        finally:
            sandbox.close()
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out


def _gemma_failure(attempts: list[Any]) -> str | None:
    return next((a.failure for a in reversed(attempts) if a.source == "gemma" and not a.ok), None)


def jsonable(value: Any, depth: int = 0) -> Any:
    """A value from a sandbox job as JSON: numpy/pandas scalars as numbers, frames as records."""
    if depth > 4:
        return str(value)
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return jsonable(value.item(), depth + 1)
    if isinstance(value, pd.DataFrame):
        return [jsonable(r, depth + 1) for r in value.head(100).to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {str(k): jsonable(v, depth + 1) for k, v in value.head(100).items()}
    if isinstance(value, dict):
        return {str(k): jsonable(v, depth + 1) for k, v in list(value.items())[:100]}
    if isinstance(value, (list, tuple, set, pd.Index, np.ndarray)):
        return [jsonable(v, depth + 1) for v in list(value)[:100]]
    if isinstance(value, (pd.Timestamp, pd.Timedelta)):
        return str(value)
    return str(value)
