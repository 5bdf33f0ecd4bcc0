"""Sandbox interface: the only way model-written or user-edited code is run.

A job names the code, the function the stage contract requires, the input data
(a Parquet file inside the workspace) and a mode that says what the trusted
harness in the worker does with the function's return value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, PrivateAttr

Mode = Literal["transform", "model", "script"]


class SandboxLimits(BaseModel):
    timeout_s: float = 60.0
    memory_mb: int = 2048
    cpu_s: int = 120
    max_output_chars: int = 20_000
    max_file_mb: int = 1024  # largest file the code may write (RLIMIT_FSIZE)


class SandboxJob(BaseModel):
    code: str
    # transform: fn(df) -> DataFrame; model: fn(X) -> unfitted sklearn estimator;
    # script: the code is run for its side effects (prints, figures, a `result` variable).
    mode: Mode = "transform"
    entrypoint: str | None = None
    input_path: Path | None = None  # Parquet inside the workspace
    output_path: Path | None = None  # where a transform's DataFrame is written
    # "table": the caller takes a transform's checked output in memory (`SandboxResult.table`)
    # and writes any file itself; nothing is written at `output_path`, and the run returns
    # without waiting for the job process to be torn down.
    output: Literal["file", "table"] = "file"
    params: dict[str, Any] = Field(default_factory=dict)  # e.g. target, task, seed for "model"
    limits: SandboxLimits = Field(default_factory=SandboxLimits)
    # Per-job workspace (e.g. one per project) so one warm pool serves every project; None: the
    # sandbox's own workspace. Input and output paths must lie inside it.
    workspace: Path | None = None


class SandboxResult(BaseModel):
    ok: bool
    output_path: Path | None = None  # Parquet the transform wrote (ok transforms only)
    shape: tuple[int, int] | None = None
    stdout: str = ""
    stderr: str = ""
    figures: list[dict[str, Any]] = Field(default_factory=list)  # plotly figure JSON dicts
    value: Any = None  # JSON-safe value: model metrics, a script's `result`
    error: str | None = None  # one line for the user: "TimeoutError: step ran over 60 s"
    error_kind: str | None = None  # "timeout" | "memory" | "refused" | "crash" | "exception" | "contract"
    traceback: str | None = None
    duration_s: float = 0.0
    # Which containment layers were active for this job, e.g. {"netns": true, "landlock": 7}.
    isolation: dict[str, Any] = Field(default_factory=dict)
    _table: Any = PrivateAttr(default=None)

    @property
    def table(self) -> Any:
        """A transform's checked output as a pyarrow Table (jobs with output="table"), else None."""
        return self._table


class Sandbox(Protocol):
    workspace: Path

    def run(self, job: SandboxJob) -> SandboxResult: ...

    def close(self) -> None: ...
