"""Projects on disk: folders, the raw upload, snapshot paths, owners and durable writes.

Layout of a projects folder (`ProjectFiles(root)`, used as `core.project.ProjectStore`), one
directory per project:

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

In single-user mode every project is visible; on a shared deployment the UI uses
`store.for_owner(visitor)` (`OwnedStore`), which lists, opens, duplicates and deletes only that
visitor's projects (another's reads exactly like a missing one).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from core.models import DatasetRef, LoadOptions, Project, utcnow
from core.sandbox.base import SandboxJob, SandboxResult
from core.sandbox.results import OutputRefused, open_inside

log = logging.getLogger(__name__)

BASE_SNAPSHOT = "base"

OWNER_FILE = "owner"  # per project: the owner id on shared deployments (absent in single-user mode)
MAX_MODEL_FILE_MB = 512  # the biggest pickled model offered for download
_MODEL_FILE_RE = re.compile(r"^model-[0-9a-f]{12}\.pkl$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$")


# ----------------------------------------------------------------------------- durable writes
def fsync_dir(path: Path) -> None:
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


def _write_durably(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """`write(fh)` into a temporary name, fsync it, rename it over `path`, fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write-then-rename with fsync: readers see the old or the new file, never a torn one."""
    _write_durably(path, lambda fh: fh.write(data))


def durable_move(src: Path, dst: Path) -> None:
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
    fsync_dir(dst.parent)


# ----------------------------------------------------------------------------- sandbox wrapper
class ProjectSandbox:
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
class ProjectFiles:
    """Projects on disk under `root` (see the module docstring for the layout)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()

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
        return ProjectSandbox(sandbox, self.workspace_path(project))

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
        fsync_dir(self.root)
        return new

    def delete(self, project_id: str, owner: str | None = None) -> None:
        d = self.project_dir(project_id)
        if not d.exists():
            raise KeyError(f"no project {project_id!r}")
        self._check_owner(project_id, owner)
        trash = self.root / f".trash-{d.name}-{uuid.uuid4().hex[:6]}"
        os.replace(d, trash)  # gone from list() at once, even if the rmtree below is interrupted
        fsync_dir(self.root)
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
            sha, size = sha256_file(dest), dest.stat().st_size
        else:
            if dest.exists():  # a different upload under the same name: keep both
                dest = pdir / "raw" / f"{uuid.uuid4().hex[:6]}-{name}"
            sha, size = copy_durable(src, dest)
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
        fsync_dir(pdir / "snapshots")
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


def sha256_file(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def copy_durable(src: Path, dest: Path) -> tuple[str, int]:
    """Copy bytes unchanged (temp + fsync + rename); returns (sha256, size)."""
    h, size = hashlib.sha256(), 0

    def copy(fout: BinaryIO) -> None:
        nonlocal size
        with open(src, "rb") as fin:
            for chunk in iter(lambda: fin.read(1 << 20), b""):
                h.update(chunk)
                size += len(chunk)
                fout.write(chunk)

    _write_durably(dest, copy)
    return h.hexdigest(), size


def owner_id(key: str) -> str:
    """What is stored for a visitor key or login: a hash, so a copied projects folder reveals no
    key that would open someone's projects."""
    return hashlib.sha256(f"gemma-wizard-owner\0{key}".encode()).hexdigest()[:32]


class OwnedStore:
    """A project store as one owner sees it: create, open, list, duplicate and delete only ever
    reach that owner's projects; everything else is the store's own method."""

    def __init__(self, store: ProjectFiles, owner: str) -> None:
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
