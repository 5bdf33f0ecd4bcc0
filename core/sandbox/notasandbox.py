"""NotASandbox: runs jobs with `exec` in the calling process. NOT isolated; benchmarks only.

It exists so that benchmarks can compare the contained path with plain in-process execution
through the very same harness (`core.sandbox.worker.execute_job`). Never use it for model-written
or user code in the app: that code could read, change or delete anything the server can.
"""

from __future__ import annotations

from pathlib import Path

from core.sandbox.base import SandboxJob, SandboxLimits, SandboxResult
from core.sandbox.results import take_frame, write_output
from core.sandbox.worker import execute_job


class NotASandbox:
    """In-process `exec` behind the Sandbox interface (no limits, no isolation)."""

    def __init__(self, workspace: Path, limits: SandboxLimits | None = None) -> None:
        self.workspace = Path(workspace)
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.limits = limits or SandboxLimits()

    def run(self, job: SandboxJob) -> SandboxResult:
        if "limits" not in job.model_fields_set:
            job = job.model_copy(update={"limits": self.limits})
        payload = execute_job(job.model_dump(mode="json"))
        frame = payload.pop("frame", None)
        res = SandboxResult.model_validate(
            {k: v for k, v in payload.items() if k in SandboxResult.model_fields and k != "shape"}
        )
        if res.ok and frame is not None:  # the same output handling as the contained path
            take_frame(res, job, memoryview(frame))
            write_output(res, job, None)
        return res

    def close(self) -> None:
        pass
