"""Sandbox: the only way model-written or user-edited code is run (see base.py for the interface).

`isolation_report()` says which containment layers a job gets on this machine and whether this
deployment (shared or single-user) lets code run at all (policy.py).
"""

from core.sandbox.base import Sandbox, SandboxJob, SandboxLimits, SandboxResult
from core.sandbox.local import LocalSandbox
from core.sandbox.notasandbox import NotASandbox
from core.sandbox.policy import isolation_report, shared_mode

__all__ = [
    "LocalSandbox",
    "NotASandbox",
    "Sandbox",
    "SandboxJob",
    "SandboxLimits",
    "SandboxResult",
    "isolation_report",
    "shared_mode",
]
