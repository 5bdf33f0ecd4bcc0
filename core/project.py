"""One typed project state on disk: the single source for the UI, undo, persistence and exports.

Layout of a projects folder (`ProjectStore(root)`), one directory per project:

    root/<project_id>/project.json          the `Project` record (steps, cursor, profile, ...)
    root/<project_id>/raw/<original file>   the upload, byte for byte, read-only, never modified
    root/<project_id>/snapshots/<id>.parquet  immutable data snapshots ("base" = the loaded table)
    root/<project_id>/workspace/            the only place sandboxed code may write
    root/<project_id>/previews/<id>.parquet  previewed outputs, copied out of the workspace and
                                            hashed; only these can become snapshots
    root/<project_id>/owner                 on shared deployments: the owner id (a hash)

Durability: every file is written to a temporary name, fsynced and renamed over the target
(`os.replace`), and the directory is fsynced; a snapshot is durable before the project.json that
names it. A `kill -9` at any moment leaves either the old or the new state, never a torn one.

Steps: `steps[:cursor]` are active. Undo/redo move the cursor; the current data is the snapshot
of the last active transform step (or "base"). Editing or removing a step marks the later ones
stale; `replay` re-runs stale steps in order and reports the ones that now fail. Model steps
are stored like the others with their metrics and no data snapshot.

The store knows nothing about the UI. In single-user mode every project is visible; on a shared
deployment the UI uses `store.for_owner(visitor)` (`OwnedStore`), which lists, opens, duplicates
and deletes only that visitor's projects (another's reads exactly like a missing one).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
from pydantic import Field

from core import stages
from core.diff import diff_frames
from core.models import DatasetRef, LoadOptions, Project, Step, StepResult, utcnow
from core.sandbox.base import SandboxJob, SandboxResult
from core.sandbox.results import OutputRefused, check_parquet, copy_output, open_inside, output_cap_bytes

log = logging.getLogger(__name__)

BASE_SNAPSHOT = "base"


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
OWNER_FILE = "owner"  # per project: the owner id on shared deployments (absent in single-user mode)
MAX_MODEL_FILE_MB = 512  # the biggest pickled model offered for download
_MODEL_FILE_RE = re.compile(r"^model-[0-9a-f]{12}\.pkl$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$")
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


# ----------------------------------------------------------------------------- durable writes
def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write-then-rename with fsync: readers see the old or the new file, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(path.parent)


def _durable_move(src: Path, dst: Path) -> None:
    """Move a finished file into place durably (same file system: a rename)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb+") as fh:
        os.fsync(fh.fileno())
    try:
        os.replace(src, dst)
    except OSError:  # another file system: copy, sync, rename
        tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:8]}.tmp")
        shutil.copyfile(src, tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dst)
        src.unlink(missing_ok=True)
    _fsync_dir(dst.parent)


def _inside(path: Path, root: Path) -> bool:
    p, r = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    return p == r or r in p.parents


# ----------------------------------------------------------------------------- diff
def diff_summary(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, Any]:
    """StepResult fields describing what a transform did: the one frame diff (core.diff)."""
    return diff_frames(before, after).step_fields()


# ----------------------------------------------------------------------------- sandbox wrapper
class _ProjectSandbox:
    """Scopes every job to the project's workspace (inputs stay where they are, read-only)."""

    def __init__(self, inner: Any, workspace: Path) -> None:
        self.inner = inner
        self.workspace = workspace

    def run(self, job: SandboxJob) -> SandboxResult:
        runs = self.workspace / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        update: dict[str, Any] = {}
        if job.workspace is None:
            update["workspace"] = self.workspace
        if job.mode == "transform" and job.output_path is None:
            update["output_path"] = runs / f"{uuid.uuid4().hex[:12]}-out.parquet"
        try:
            return self.inner.run(job.model_copy(update=update))
        except Exception as e:  # noqa: BLE001 - a sandbox that raises is reported, not propagated
            return SandboxResult(ok=False, error_kind="crash", error=f"Crash: {type(e).__name__}: {e}")

    def close(self) -> None:
        pass


# ----------------------------------------------------------------------------- the store
class ProjectStore:
    """Projects on disk under `root` (see the module docstring for the layout)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        # Preview copies that accept_step may reuse:
        # private path -> (project, input snapshot, code key, sha256 of the copy).
        self._previews: dict[str, tuple[str, str, str, str]] = {}

    # ------------------------------------------------------------------ ids and paths
    @staticmethod
    def new_step_id() -> str:
        return uuid.uuid4().hex[:12]

    def _new_project_id(self, name: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:32] or "project"
        return f"{slug}-{uuid.uuid4().hex[:8]}"

    def project_dir(self, project_or_id: Project | str) -> Path:
        pid = project_or_id.id if isinstance(project_or_id, Project) else str(project_or_id)
        if not _ID_RE.match(pid) or pid.startswith("."):
            raise KeyError(f"not a project id: {pid!r}")
        return self.root / pid

    def workspace_path(self, project: Project | str) -> Path:
        ws = self.project_dir(project) / "workspace"
        ws.mkdir(parents=True, exist_ok=True)
        return ws

    def raw_path(self, project: Project) -> Path:
        if project.dataset is None:
            raise FileNotFoundError("the project has no dataset yet")
        return self.project_dir(project) / project.dataset.raw_path

    def snapshot_path(self, project: Project | str, snapshot_id: str) -> Path:
        if not _ID_RE.match(snapshot_id):
            raise KeyError(f"not a snapshot id: {snapshot_id!r}")
        return self.project_dir(project) / "snapshots" / f"{snapshot_id}.parquet"

    def scoped_sandbox(self, project: Project, sandbox: Any) -> Any:
        """`sandbox` with every job confined to this project's workspace (for callers that build
        their own jobs, e.g. `core.modeling.train_step`): a step can then neither read nor
        change another project's files, nor its own snapshots and raw upload."""
        return _ProjectSandbox(sandbox, self.workspace_path(project))

    # ------------------------------------------------------------------ projects
    def model_file_bytes(self, project: Project, metrics: dict[str, Any] | None) -> bytes | None:
        """The pickled model a trained step saved, or None.

        The path is derived here, not taken from the step's result: only the file name is used,
        it must look like the name `core.modeling` gives (model-<hash>.pkl), and the file is
        read from this project's own workspace/models folder, never through a link and only up
        to MAX_MODEL_FILE_MB. A result that names /proc/self/environ, the secrets file or another
        project's upload therefore gets nothing.
        """
        name = Path(str((metrics or {}).get("model_path") or "")).name
        if not _MODEL_FILE_RE.match(name):
            return None
        models = self.workspace_path(project) / "models"
        try:
            fd = open_inside(models / name, models)
        except OutputRefused:
            return None
        with os.fdopen(fd, "rb") as fh:
            if os.fstat(fh.fileno()).st_size > MAX_MODEL_FILE_MB * 2**20:
                return None
            return fh.read()

    # ------------------------------------------------------------------ owners
    def owner_of(self, project_id: str) -> str | None:
        """The stored owner id of a project (None: made in single-user mode, owned by nobody)."""
        try:
            return (self.project_dir(project_id) / OWNER_FILE).read_text().strip() or None
        except OSError:
            return None

    def _check_owner(self, project_id: str, owner: str | None) -> None:
        # Someone else's project reads exactly like a missing one: ids are not confirmed.
        if owner is not None and self.owner_of(project_id) != owner_id(owner):
            raise KeyError(f"no project {project_id!r}")

    def for_owner(self, owner: str | None) -> Any:
        """This store as one visitor sees it (`OwnedStore`); itself when `owner` is None."""
        return self if owner is None else OwnedStore(self, owner)

    # ------------------------------------------------------------------ projects
    def create(self, name: str, owner: str | None = None) -> Project:
        project = Project(id=self._new_project_id(name), name=name.strip() or "project")
        d = self.project_dir(project)
        for sub in ("raw", "snapshots", "workspace"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        if owner is not None:  # before project.json: a project never exists without its owner
            atomic_write_bytes(d / OWNER_FILE, owner_id(owner).encode())
        self.save(project)
        return project

    def open(self, project_id: str, owner: str | None = None) -> Project:
        path = self.project_dir(project_id) / "project.json"
        if not path.is_file():
            raise KeyError(f"no project {project_id!r}")
        self._check_owner(project_id, owner)
        return Project.model_validate_json(path.read_bytes())

    def list(self, owner: str | None = None) -> list[Project]:
        """Every readable project (with `owner`: only that owner's), most recently changed first
        (broken ones are skipped, logged)."""
        out: list[Project] = []
        want = owner_id(owner) if owner is not None else None
        for d in self.root.iterdir():
            if d.name.startswith(".") or not (d / "project.json").is_file():
                continue
            if want is not None and self.owner_of(d.name) != want:
                continue
            try:
                out.append(Project.model_validate_json((d / "project.json").read_bytes()))
            except Exception as e:  # noqa: BLE001 - one broken folder must not hide the others
                log.warning("skipping unreadable project %s: %s", d.name, e)
        return sorted(out, key=lambda p: p.updated_at, reverse=True)

    def save(self, project: Project) -> None:
        with self._lock:
            project.updated_at = utcnow()
            atomic_write_bytes(
                self.project_dir(project) / "project.json", project.model_dump_json(indent=1).encode()
            )

    def duplicate(self, project_id: str, owner: str | None = None) -> Project:
        src = self.open(project_id, owner)
        new = src.model_copy(deep=True)
        new.id = self._new_project_id(src.name)
        new.name = f"{src.name} (copy)"
        new.created_at = utcnow()
        dst_dir = self.project_dir(new)
        tmp = self.root / f".dup-{new.id}"
        for sub in ("raw", "snapshots"):
            if (self.project_dir(src) / sub).is_dir():
                shutil.copytree(self.project_dir(src) / sub, tmp / sub)
        (tmp / "workspace").mkdir(parents=True, exist_ok=True)
        who = owner_id(owner) if owner is not None else self.owner_of(project_id)
        if who is not None:
            atomic_write_bytes(tmp / OWNER_FILE, who.encode())
        new.updated_at = utcnow()
        atomic_write_bytes(tmp / "project.json", new.model_dump_json(indent=1).encode())
        os.replace(tmp, dst_dir)  # the copy appears whole or not at all
        _fsync_dir(self.root)
        return new

    def delete(self, project_id: str, owner: str | None = None) -> None:
        d = self.project_dir(project_id)
        if not d.exists():
            raise KeyError(f"no project {project_id!r}")
        self._check_owner(project_id, owner)
        trash = self.root / f".trash-{d.name}-{uuid.uuid4().hex[:6]}"
        os.replace(d, trash)  # gone from list() at once, even if the rmtree below is interrupted
        _fsync_dir(self.root)
        for p in trash.rglob("*"):  # raw files are read-only
            try:
                p.chmod(0o700 if p.is_dir() else 0o600)
            except OSError:
                pass
        shutil.rmtree(trash, ignore_errors=True)

    # ------------------------------------------------------------------ data
    def import_raw(
        self,
        project: Project,
        src_path: str | Path,
        options: LoadOptions | str | None = None,
        filename: str | LoadOptions | None = None,
        loaded_df: pd.DataFrame | None = None,
        warnings: list[str] | None = None,
        sampled: bool | None = None,
        n_rows_total: int | None = None,
    ) -> DatasetRef:
        """Store the raw file once (unchanged, sha256) and the loaded table as snapshot "base".

        Accepts both `(project, src, options, filename=...)` and `(project, src, filename, options)`.
        Without `loaded_df` the table is loaded with `core.io.load_table`. Re-importing the same
        file with other options replaces "base" and marks every step stale.
        """
        if isinstance(options, str) and not isinstance(filename, str):
            options, filename = filename, options
        src = Path(src_path)
        name = Path(str(filename or src.name)).name.strip() or "data"
        name = re.sub(r"[\x00-\x1f/\\]", "_", name)
        pdir = self.project_dir(project)
        dest = pdir / "raw" / name
        if dest.exists() and os.path.realpath(dest) == os.path.realpath(src):
            sha, size = _sha256(dest), dest.stat().st_size
        else:
            if dest.exists():  # a different upload under the same name: keep both
                dest = pdir / "raw" / f"{uuid.uuid4().hex[:6]}-{name}"
            sha, size = _copy_durable(src, dest)
            dest.chmod(0o444)
        loaded = None
        if loaded_df is None:
            from core.io import load_table

            loaded = load_table(dest, options if isinstance(options, LoadOptions) else None)
            loaded_df = loaded.df
            options = loaded.options
            warnings = warnings if warnings is not None else loaded.warnings
            sampled = loaded.sampled if sampled is None else sampled
            n_rows_total = n_rows_total or loaded.n_rows_total
        from core.sandbox.worker import write_parquet

        notes = write_parquet(loaded_df, self.snapshot_path(project, BASE_SNAPSHOT), fsync=True)
        _fsync_dir(pdir / "snapshots")
        ref = DatasetRef(
            filename=name,
            raw_path=str(dest.relative_to(pdir)),
            sha256=sha,
            size_bytes=size,
            options=options if isinstance(options, LoadOptions) else LoadOptions(),
            n_rows=int(n_rows_total or len(loaded_df)),
            n_cols=int(loaded_df.shape[1]),
            sampled=bool(sampled),
            sample_rows=len(loaded_df) if sampled else None,
            warnings=list(warnings or []) + notes,
        )
        with self._lock:
            had_data = project.dataset is not None
            project.dataset = ref
            if had_data:
                for s in project.steps:
                    s.stale = True
            self.save(project)
        return ref

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
        box = _ProjectSandbox(sandbox, self.workspace_path(project))
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
        if res.ok and mode == "transform" and res.output_path is not None:
            try:
                preview = self._keep_preview(project, Path(res.output_path), box.workspace, job)
            except OutputRefused as e:
                fields.update(ok=False, error=f"Refused: {e}")
            else:
                fields.update(diff_summary(pd.read_parquet(in_path), pd.read_parquet(preview)))
                self._previews[str(preview)] = (project.id, in_snap, _code_key(stage, code), _sha256(preview))
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
        box: _ProjectSandbox,
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

    def _keep_preview(self, project: Project, out: Path, workspace: Path, job: SandboxJob) -> Path:
        """Copy a transform's output out of the writable workspace (never through a link, size
        checked from the Parquet footer first); only this copy, whose hash is recorded, can
        become a snapshot, so a later job that rewrites or swaps the workspace file changes
        nothing."""
        cap = output_cap_bytes(job.limits)
        dest = self.project_dir(project) / PREVIEWS / f"{uuid.uuid4().hex[:12]}.parquet"
        try:
            copy_output(out, workspace, dest, cap)
        finally:
            out.unlink(missing_ok=True)
        try:
            check_parquet(dest, cap)
        except OutputRefused:
            dest.unlink(missing_ok=True)
            raise
        return dest

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
                or _sha256(Path(out)) != known[3]
            ):
                raise StepError(
                    "the previewed data is unknown or changed since the run; run the step again", run
                )
            snap = f"{step.id}-{uuid.uuid4().hex[:6]}"
            _durable_move(Path(out), self.snapshot_path(project, snap))
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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _copy_durable(src: Path, dest: Path) -> tuple[str, int]:
    """Copy bytes unchanged (temp + fsync + rename); returns (sha256, size)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")
    h, size = hashlib.sha256(), 0
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            for chunk in iter(lambda: fin.read(1 << 20), b""):
                h.update(chunk)
                size += len(chunk)
                fout.write(chunk)
            fout.flush()
            os.fsync(fout.fileno())
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(dest.parent)
    return h.hexdigest(), size


def owner_id(key: str) -> str:
    """What is stored for a visitor key or login: a hash, so a copied projects folder reveals no
    key that would open someone's projects."""
    return hashlib.sha256(f"gemma-wizard-owner\0{key}".encode()).hexdigest()[:32]


class OwnedStore:
    """A `ProjectStore` as one owner sees it: create, open, list, duplicate and delete only ever
    reach that owner's projects; everything else is the store's own method."""

    def __init__(self, store: ProjectStore, owner: str) -> None:
        self.store = store
        self.owner = owner

    def create(self, name: str) -> Project:
        return self.store.create(name, owner=self.owner)

    def open(self, project_id: str) -> Project:
        return self.store.open(project_id, owner=self.owner)

    def list(self) -> list[Project]:
        return self.store.list(owner=self.owner)

    def duplicate(self, project_id: str) -> Project:
        return self.store.duplicate(project_id, owner=self.owner)

    def delete(self, project_id: str) -> None:
        self.store.delete(project_id, owner=self.owner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


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
