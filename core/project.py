"""One typed project state on disk: the single source for the UI, undo, persistence and exports.

`ProjectStore` adds the step history to the project files of `core.project_files` (layout,
durability and owners are described there).

Steps: `steps[:cursor]` are active. Undo/redo move the cursor; the current data is the snapshot
of the last active transform step (or "base"). Editing or removing a step marks the later ones
stale; `replay` re-runs stale steps in order and reports the ones that now fail. Model steps
are stored like the others with their metrics and no data snapshot. A preview's output is copied
out of the workspace and hashed; only such a copy, unchanged, can become a snapshot.

The store knows nothing about the UI.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
from pydantic import Field

from core import stages
from core.diff import diff_frames, diff_parquet
from core.models import Project, Step, StepResult, utcnow
from core.project_files import BASE_SNAPSHOT, ProjectFiles, ProjectSandbox, durable_move, sha256_file
from core.sandbox.base import SandboxJob, SandboxResult
from core.sandbox.results import OutputRefused, check_parquet, copy_output, output_cap_bytes, write_frame


def _transforms(stage: str) -> bool:
    """The stage's accepted code makes the next snapshot (its StageSpec says)."""
    spec = stages.find(stage)
    return spec is not None and spec.transforms


def _entrypoint(stage: str) -> str:
    """The function the stage's contract names ("answer" for code that is no stage's)."""
    spec = stages.find(stage)
    return spec.contract.entry if spec is not None and spec.contract is not None else "answer"


KEEP_PREVIEWS = 20  # preview outputs kept per project workspace (accepted ones become snapshots)
PREVIEWS = "previews"  # per project, beside the workspace: copies no job can write
_STEP_FIELDS = tuple(StepResult.model_fields)


class StepError(Exception):
    """A step could not be accepted/edited because its code failed; `run` says how."""

    def __init__(self, message: str, run: StepResult | None = None) -> None:
        super().__init__(message)
        self.run = run


class StepRun(StepResult):
    """A preview run: the StepResult fields plus what the UI shows before accepting.

    It *is* a StepResult (so `.ok`, `.error`, the diff fields work as usual); `sandbox_result`
    is the raw `SandboxResult` and `output_path` the previewed Parquet in the workspace.
    """

    output_path: str | None = None
    figures: list[dict[str, Any]] = Field(default_factory=list)
    value: Any = None
    input_snapshot: str | None = None
    sandbox_result: SandboxResult | None = None

    def step_result(self) -> StepResult:
        return StepResult(**{k: getattr(self, k) for k in _STEP_FIELDS})


class ReplayOutcome(NamedTuple):
    """One re-run step: a `(step_id, ok, error)` tuple that also reads like a step (`.id`, `.result`)."""

    step_id: str
    ok: bool
    error: str | None

    @property
    def id(self) -> str:
        return self.step_id

    @property
    def result(self) -> StepResult:
        return StepResult(ok=self.ok, error=self.error)


# ----------------------------------------------------------------------------- diff
def diff_summary(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, Any]:
    """StepResult fields describing what a transform did: the one frame diff (core.diff)."""
    return diff_frames(before, after).step_fields()


class ProjectStore(ProjectFiles):
    """Projects on disk plus their step history: run, accept, undo/redo, edit and replay steps."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        # Preview copies that accept_step may reuse:
        # private path -> (project, input snapshot, code key, sha256 of the copy).
        self._previews: dict[str, tuple[str, str, str, str]] = {}

    def _input_snapshot(self, project: Project, index: int) -> str:
        """Snapshot the step at `index` runs on: the last transform step before it, else base."""
        for step in reversed(project.steps[:index]):
            if _transforms(step.stage) and step.snapshot_id:
                return step.snapshot_id
        return BASE_SNAPSHOT

    def current_snapshot_id(self, project: Project) -> str:
        return self._input_snapshot(project, project.cursor)

    def current_data_path(self, project: Project) -> Path:
        return self.snapshot_path(project, self.current_snapshot_id(project))

    def current_frame(self, project: Project) -> pd.DataFrame:
        return pd.read_parquet(self.current_data_path(project))

    # ------------------------------------------------------------------ running steps
    def run_step(
        self,
        project: Project,
        stage: str,
        code: str,
        entrypoint: str | None = None,
        sandbox: Any = None,
        params: dict[str, Any] | None = None,
    ) -> StepRun:
        """Preview: run `code` on the current data in the sandbox; nothing is persisted."""
        if sandbox is None:
            raise ValueError("run_step needs a sandbox")
        return self._execute(
            project,
            stage,
            code,
            entrypoint or _entrypoint(stage),
            sandbox,
            project.cursor,
            params,
        )

    def _execute(
        self,
        project: Project,
        stage: str,
        code: str,
        entrypoint: str,
        sandbox: Any,
        index: int,
        params: dict[str, Any] | None = None,
    ) -> StepRun:
        in_snap = self._input_snapshot(project, index)
        in_path = self.snapshot_path(project, in_snap)
        box = ProjectSandbox(sandbox, self.workspace_path(project))
        if stage == "model":
            return self._execute_model(project, code, box, index, in_snap, params)
        mode = "transform" if _transforms(stage) else "script"
        out_path = box.workspace / "runs" / f"{uuid.uuid4().hex[:12]}-out.parquet"
        job = SandboxJob(
            code=code,
            mode=mode,
            entrypoint=entrypoint,
            input_path=in_path,
            output_path=out_path if mode == "transform" else None,
            output="table",  # the output comes back in memory; the store writes its preview
            params=params or {},
        )
        res = box.run(job)
        fields: dict[str, Any] = {
            "ok": res.ok,
            "stdout": res.stdout,
            "error": res.error,
            "duration_s": res.duration_s,
        }
        preview = None
        if res.ok and mode == "transform" and (res.table is not None or res.output_path is not None):
            try:
                if res.table is not None:
                    preview, digest, diffed = self._keep_table(project, in_path, res)
                else:  # a sandbox that only writes files
                    preview, digest = self._keep_preview(project, Path(res.output_path), box.workspace, job)  # type: ignore[arg-type]
                    diffed = diff_parquet(in_path, preview).step_fields()  # cached by content
            except (OutputRefused, OSError) as e:
                fields.update(ok=False, error=f"Refused: {e}")
            else:
                fields.update(diffed)
                self._previews[str(preview)] = (
                    project.id,
                    in_snap,
                    _code_key(stage, code),
                    digest,
                )
        self._prune_runs(box.workspace / "runs")
        return StepRun(
            **fields,
            output_path=str(preview) if preview else None,
            figures=res.figures,
            value=res.value,
            input_snapshot=in_snap,
            sandbox_result=res,
        )

    def _execute_model(
        self,
        project: Project,
        code: str,
        box: ProjectSandbox,
        index: int,
        in_snap: str,
        params: dict[str, Any] | None,
    ) -> StepRun:
        try:
            from core import modeling
        except Exception:  # noqa: BLE001 - fall back to the bare harness call
            modeling = None  # type: ignore[assignment]
        saved_cursor = project.cursor
        project.cursor = index  # modeling reads the data at the cursor; point it at this step's input
        try:
            if modeling is not None and hasattr(modeling, "train_step") and not params:
                sr = modeling.train_step(project, code, self, box)
                return StepRun(**sr.model_dump(), input_snapshot=in_snap)
            job = SandboxJob(
                code=code,
                mode="model",
                entrypoint=_entrypoint("model"),
                input_path=self.snapshot_path(project, in_snap),
                params=params or {"target": project.target, "task": project.task},
            )
            res = box.run(job)
            return StepRun(
                ok=res.ok,
                error=res.error,
                stdout=res.stdout,
                duration_s=res.duration_s,
                metrics=res.value if isinstance(res.value, dict) else None,
                input_snapshot=in_snap,
                sandbox_result=res,
            )
        finally:
            project.cursor = saved_cursor

    def _keep_table(
        self, project: Project, in_path: Path, res: SandboxResult
    ) -> tuple[Path, str, dict[str, Any]]:
        """Write a transform's checked output (in memory, `SandboxResult.table`) as the preview
        and diff it against the input at the same time: the Parquet write runs on another thread
        (pyarrow leaves the GIL) while the diff converts and compares the same table. Returns
        (preview path, its sha256, the diff's step fields). The preview lies outside the
        workspace from the start: no job can touch it."""
        from core import diff

        table, res._table = res.table, None  # the result is kept in the session: not the data
        dest = self.project_dir(project) / PREVIEWS / f"{uuid.uuid4().hex[:12]}.parquet"
        dest.parent.mkdir(parents=True, exist_ok=True)
        written: dict[str, Any] = {}

        def write() -> None:
            try:
                # Synced here, beside the diff, so that accepting it (durable_move) finds nothing
                # left to flush: ~3 ms less between Accept and the next page.
                written["digest"] = write_frame(table, dest, sync=True)
            except BaseException as e:  # noqa: BLE001 - raised below, in the caller's thread
                written["error"] = e

        writer = threading.Thread(target=write, name="preview-writer", daemon=True)
        writer.start()
        try:
            fd, side = diff.diff_table(in_path, table)
        finally:
            writer.join()
        if "error" in written:
            dest.unlink(missing_ok=True)
            raise written["error"]
        diff.remember(written["digest"], side, dest)  # the next step's input, if accepted
        return dest, written["digest"], fd.step_fields()

    def _keep_preview(
        self, project: Project, out: Path, workspace: Path, job: SandboxJob
    ) -> tuple[Path, str]:
        """Copy a transform's output out of the writable workspace (never through a link, size
        checked from the Parquet footer first); only this copy, whose hash (returned, taken
        while copying) is recorded, can become a snapshot, so a later job that rewrites or
        swaps the workspace file changes nothing."""
        cap = output_cap_bytes(job.limits)
        dest = self.project_dir(project) / PREVIEWS / f"{uuid.uuid4().hex[:12]}.parquet"
        try:
            digest, _size = copy_output(out, workspace, dest, cap)
        finally:
            out.unlink(missing_ok=True)
        try:
            check_parquet(dest, cap)
        except OutputRefused:
            dest.unlink(missing_ok=True)
            raise
        return dest, digest

    def _prune_runs(self, runs: Path, keep: int = KEEP_PREVIEWS) -> None:
        """Previews never accepted would pile up: keep only the newest few."""
        for folder in (runs, runs.parent.parent / PREVIEWS):
            try:
                files = sorted(folder.glob("*.parquet"), key=lambda p: p.stat().st_mtime, reverse=True)
            except OSError:
                continue
            for old in files[keep:]:
                self._previews.pop(str(old), None)
                old.unlink(missing_ok=True)

    def _commit_run(self, project: Project, step: Step, run: StepResult) -> None:
        """Give `step` the run's result and, for transforms, a new immutable snapshot."""
        if _transforms(step.stage):
            out = getattr(run, "output_path", None)
            if not out or not Path(out).is_file():
                raise StepError("the step produced no data to snapshot", run)
            known = self._previews.get(str(out))
            # Only a preview this store copied out of the workspace, unchanged since (hash).
            if (
                known is None
                or known[0] != project.id
                or Path(out).is_symlink()
                or sha256_file(Path(out)) != known[3]
            ):
                raise StepError(
                    "the previewed data is unknown or changed since the run; run the step again", run
                )
            snap = f"{step.id}-{uuid.uuid4().hex[:6]}"
            durable_move(Path(out), self.snapshot_path(project, snap))
            self._previews.pop(str(out), None)
            step.snapshot_id = snap
        step.result = run.step_result() if isinstance(run, StepRun) else StepResult(**run.model_dump())
        step.updated_at = utcnow()
        step.stale = False

    def _reusable(self, project: Project, step: Step, result: Any) -> StepResult | None:
        """A preview the caller already ran for exactly this code on exactly this input, if any."""
        if isinstance(result, SandboxResult):
            return None  # raw sandbox results carry no input identity: run again
        if not isinstance(result, StepResult) or not result.ok:
            return None
        if step.stage == "model":
            return result if result.metrics else None
        out = getattr(result, "output_path", None)
        key = self._previews.get(str(out)) if out else None
        if (
            key is not None
            and key[:3] == (project.id, self.current_snapshot_id(project), _code_key(step.stage, step.code))
            and Path(out).is_file()
        ):  # type: ignore[arg-type]
            return result
        return None

    def accept_step(
        self,
        project: Project,
        step_or_stage: Step | str,
        code: Any = None,
        entrypoint: str | None = None,
        provenance: str = "user",
        provenance_detail: str = "",
        proposal: Any = None,
        request: str | None = None,
        rationale: str = "",
        sandbox: Any = None,
        result: Any = None,
    ) -> Step:
        """Run (unless `result` is a matching preview), snapshot, append at the cursor, save.

        Call as `accept_step(project, step, sandbox)` with a prepared `Step`, or with the parts:
        `accept_step(project, stage, code, entrypoint, provenance, provenance_detail, ...,
        sandbox=...)`. Raises `StepError` (nothing saved) when the code fails.
        """
        if isinstance(step_or_stage, Step):
            step = step_or_stage.model_copy(deep=True)
            if sandbox is None and hasattr(code, "run"):
                sandbox = code
        else:
            stage = step_or_stage
            step = Step(
                id=self.new_step_id(),
                stage=stage,
                code=str(code),
                proposal=proposal,
                request=request,
                entrypoint=entrypoint or _entrypoint(stage),
                rationale=rationale,
                provenance=provenance,
                provenance_detail=provenance_detail or provenance,
            )  # type: ignore[arg-type]
        run = self._reusable(project, step, result)
        if run is None:
            if sandbox is None:
                raise ValueError("accept_step needs a sandbox to run the step")
            run = self._execute(project, step.stage, step.code, step.entrypoint, sandbox, project.cursor)
        if not run.ok:
            raise StepError(f"the step failed: {run.error}", run)
        with self._lock:
            self._commit_run(project, step, run)
            project.steps = project.steps[: project.cursor] + [step]  # accepting drops the redo tail
            project.cursor = len(project.steps)
            self.save(project)
        return step

    def accept_proposal(
        self, project: Project, stage: str, proposal: Any, request: str | None, sandbox: Any
    ) -> Step:
        """`accept_step` for an engine proposal: its code, entrypoint, provenance and rationale."""
        return self.accept_step(
            project,
            stage,
            proposal.code,
            proposal.entrypoint,
            proposal.provenance,
            proposal.provenance_detail,
            proposal=proposal,
            request=request,
            rationale=proposal.rationale,
            sandbox=sandbox,
        )

    # ------------------------------------------------------------------ history
    def undo(self, project: Project) -> bool:
        with self._lock:
            if project.cursor <= 0:
                return False
            project.cursor -= 1
            self.save(project)
            return True

    def redo(self, project: Project) -> bool:
        with self._lock:
            if project.cursor >= len(project.steps):
                return False
            project.cursor += 1
            self.save(project)
            return True

    def _index(self, project: Project, step_id: str) -> int:
        for i, s in enumerate(project.steps):
            if s.id == step_id:
                return i
        raise KeyError(f"no step {step_id!r}")

    def edit_step(
        self,
        project: Project,
        step_id: str,
        code: str,
        sandbox: Any = None,
        provenance_detail: str = "edited by the user",
    ) -> Step:
        """Change a step's code and mark the later steps stale.

        With a sandbox the step is re-run on its own input snapshot now (StepError, nothing
        changed, if it fails); without one it is marked stale too and re-run by `replay`.
        """
        i = self._index(project, step_id)
        step = project.steps[i]
        run = None
        if sandbox is not None:
            run = self._execute(project, step.stage, code, step.entrypoint, sandbox, i)
            if not run.ok:
                raise StepError(f"the edited step failed: {run.error}", run)
        with self._lock:
            step.code = code
            step.provenance = "user"
            step.provenance_detail = provenance_detail
            step.updated_at = utcnow()
            if run is not None:
                self._commit_run(project, step, run)
            else:
                step.stale = True
            for later in project.steps[i + 1 :]:
                later.stale = True
            self.save(project)
        return step

    def remove_step(self, project: Project, step_id: str) -> None:
        with self._lock:
            i = self._index(project, step_id)
            removed = project.steps.pop(i)
            if i < project.cursor:
                project.cursor -= 1
            if _transforms(removed.stage):
                for later in project.steps[i:]:
                    later.stale = True
            self.save(project)

    def replay(self, project: Project, sandbox: Any) -> list[ReplayOutcome]:
        """Re-run stale steps in order; returns `(step_id, ok, error)` for each one.

        After a transform step fails, the later stale steps are not run (their input would be
        wrong) and are reported as such; they stay stale.
        """
        out: list[ReplayOutcome] = []
        blocked: int | None = None
        for i, step in enumerate(project.steps):
            if not step.stale:
                continue
            if blocked is not None:
                out.append(ReplayOutcome(step.id, False, f"not re-run: step {blocked} failed"))
                continue
            run = self._execute(project, step.stage, step.code, step.entrypoint, sandbox, i)
            with self._lock:
                if run.ok:
                    self._commit_run(project, step, run)
                    out.append(ReplayOutcome(step.id, True, None))
                else:
                    step.result = run.step_result() if isinstance(run, StepRun) else run
                    out.append(ReplayOutcome(step.id, False, run.error))
                    if _transforms(step.stage):
                        blocked = i + 1
                self.save(project)  # progress survives a crash in the middle of a long replay
        return out


# ----------------------------------------------------------------------------- helpers
def _code_key(stage: str, code: str) -> str:
    return hashlib.sha256(f"{stage}\0{code}".encode()).hexdigest()


def project_summary(project: Project) -> dict[str, Any]:
    """A small JSON-safe line for project lists (no data)."""
    return json.loads(
        json.dumps(
            {
                "id": project.id,
                "name": project.name,
                "updated_at": project.updated_at.isoformat(),
                "dataset": project.dataset.filename if project.dataset else None,
                "steps": len(project.active_steps),
            }
        )
    )
