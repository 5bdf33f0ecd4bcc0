"""Sandbox: the only way model-written or user-edited code is run (see base.py for the interface)."""

from core.sandbox.base import Sandbox, SandboxJob, SandboxLimits, SandboxResult
from core.sandbox.local import LocalSandbox
from core.sandbox.notasandbox import NotASandbox

__all__ = ["LocalSandbox", "NotASandbox", "Sandbox", "SandboxJob", "SandboxLimits", "SandboxResult"]
