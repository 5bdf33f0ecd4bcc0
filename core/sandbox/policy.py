"""Which containment layers a deployment needs, and which ones this machine really provides.

Two modes:

- **shared** (`GEMMA_WIZARD_SHARED=1`; on by default when the app detects a shared deployment such
  as Streamlit Community Cloud): many visitors share one server, so code runs only when the
  kernel layers (an empty network namespace and Landlock) are really active in the job process.
  Where they cannot be set up, every job is refused with a clear message; nothing runs degraded.
- **local** (single user, the default elsewhere): jobs run with whatever layers the machine
  offers, and `isolation_report()` says which ones those are (sidebar, step details, `doctor`).

`GEMMA_WIZARD_SANDBOX_DISABLE=netns,landlock` switches layers off on purpose (to see what the
degraded mode looks like, and for tests); in shared mode that simply makes every job refused.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

SHARED_ENV = "GEMMA_WIZARD_SHARED"
DISABLE_ENV = "GEMMA_WIZARD_SANDBOX_DISABLE"
# Layers a shared deployment cannot do without: the audit hook alone can be switched off by
# Python code (e.g. through objects reachable from a refusal's traceback); these cannot.
KERNEL_LAYERS = ("netns", "landlock")
SHARED_REQUIRED = (*KERNEL_LAYERS, "rlimits", "audit_hook")
LAYER_NAMES = {
    "netns": "network namespace (no network)",
    "landlock": "Landlock (file access limited to the project)",
    "rlimits": "rlimits (memory, CPU, file size, processes)",
    "audit_hook": "Python audit hook (readable refusals)",
}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def shared_markers() -> list[str]:
    """Signs that this process serves many visitors (Streamlit Community Cloud's container)."""
    found = []
    if os.environ.get("HOSTNAME", "") == "streamlit":
        found.append("HOSTNAME=streamlit")
    if Path("/mount/src").is_dir():
        found.append("/mount/src exists")
    if os.environ.get("HOME", "") == "/home/appuser" or os.environ.get("USER", "") == "appuser":
        found.append("appuser")
    return found


def shared_mode() -> bool:
    """True on a shared deployment: GEMMA_WIZARD_SHARED if set, else detected from the host."""
    raw = os.environ.get(SHARED_ENV, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    return bool(shared_markers())


def disabled_layers() -> tuple[str, ...]:
    raw = os.environ.get(DISABLE_ENV, "")
    return tuple(x.strip() for x in raw.split(",") if x.strip() in LAYER_NAMES)


def required_layers(shared: bool | None = None) -> tuple[str, ...]:
    """Layers a job must have before its code runs (none in local mode)."""
    return SHARED_REQUIRED if (shared_mode() if shared is None else shared) else ()


def missing_layers(isolation: dict[str, Any], required: tuple[str, ...]) -> list[str]:
    return [name for name in required if not isolation.get(name)]


def refusal_message(missing: list[str]) -> str:
    names = ", ".join(LAYER_NAMES.get(m, m) for m in missing)
    return (
        f"Refused: this is a shared deployment and the sandbox layer(s) {names} are not active on "
        "this machine, so no code is run (set GEMMA_WIZARD_SHARED=0 only for a single-user install)"
    )


_PROBE = """
import importlib.util, json, os, sys
# guard.py by path: it needs only the standard library (the package would import pydantic).
spec = importlib.util.spec_from_file_location("guard", os.path.join(sys.argv[1], "guard.py"))
guard = importlib.util.module_from_spec(spec)
spec.loader.exec_module(guard)
disable = set(sys.argv[2].split(",")) - {""}
ws = sys.argv[3]
out = {"rlimits": guard.apply_rlimits(2048, 60, 64) and "rlimits" not in disable}
out["netns"] = "netns" not in disable and guard.enter_network_namespace()
out["landlock"] = 0 if "landlock" in disable else guard.apply_landlock(ws, guard.default_read_roots())
out["audit_hook"] = "audit_hook" not in disable
print(json.dumps(out))
"""


@functools.lru_cache(maxsize=4)
def _probe(python: str, disable: tuple[str, ...]) -> dict[str, Any]:
    """Set every layer up in a throwaway process (never in the server: unshare would move it)."""
    here = str(Path(__file__).resolve().parent)
    try:
        cp = subprocess.run(
            [
                python,
                "-I",
                "-S",
                "-c",
                _PROBE,
                here,
                ",".join(disable),
                os.path.realpath(tempfile.gettempdir()),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
        layers = json.loads(cp.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as e:
        return {"netns": False, "landlock": 0, "rlimits": False, "audit_hook": True, "probe_error": str(e)}
    return {k: layers.get(k) for k in LAYER_NAMES} | (
        {"probe_error": cp.stderr[-300:]} if cp.returncode else {}
    )


def isolation_report(shared: bool | None = None, python: str | None = None) -> dict[str, Any]:
    """What a job started now would get: mode, each layer, what is missing, and one line to show.

    Used by the sidebar, the step details and `python -m core doctor`. The layers are set up for
    real in a short-lived process (cached), not guessed from the kernel version.
    """
    shared = shared_mode() if shared is None else shared
    layers = _probe(python or sys.executable, disabled_layers())
    required = required_layers(shared)
    missing = missing_layers(layers, required)
    active = [k for k in LAYER_NAMES if layers.get(k)]
    absent = [k for k in LAYER_NAMES if not layers.get(k)]
    if missing:
        line = refusal_message(missing)
    elif absent:
        line = "Sandbox degraded (single-user mode): missing " + ", ".join(absent)
    else:
        line = "Sandbox: every layer active (" + ", ".join(active) + ")"
    return {
        "mode": "shared" if shared else "local",
        "markers": shared_markers(),
        "layers": layers,
        "required": list(required),
        "missing": missing,
        "can_run": not missing,
        "probe_error": layers.get("probe_error"),
        "summary": line,
    }


def describe(isolation: dict[str, Any]) -> str:
    """One line for a job's step details: which layers that job ran under."""
    if not isolation:
        return "isolation: not reported"
    parts = []
    for k in LAYER_NAMES:
        v = isolation.get(k)
        parts.append(f"{k} {'on' if v else 'OFF'}" + (f" (ABI {v})" if k == "landlock" and v else ""))
    return "isolation: " + ", ".join(parts)
