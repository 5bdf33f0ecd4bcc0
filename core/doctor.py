"""`python -m core doctor`: is this machine able to run the wizard, and if not, why.

Checks, each printed as one line (ok / warn / FAIL):
- the CPU's instruction-set extensions (from /proc/cpuinfo) against what the llama.cpp build uses,
- the llama.cpp build: the flags `scripts/install_llama.sh` recorded and llama.cpp's own report,
- a one-line generation with the configured model, in a model process (a segfault is reported,
  not fatal), and that the supervisor catches a crash of that process and restarts it,
- the sandbox's isolation layers (set up for real in a throwaway process by `core.sandbox`),
- the model file and the wizard-tuned adapter.

Exit code 1 when something is broken (a FAIL), else 0.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.llm.base import BackendError, GenerationParams
from core.llm.paths import ADAPTER_DIR, adapter_path, adapter_switched_off, default_gguf_path
from core.llm.process import FAULT_ENV, log_path
from core.llm.registry import ModelSettings, build_backend, settings_from_env

BUILD_FLAGS_FILE = "GEMMA_WIZARD_BUILD_FLAGS"
# Extensions worth showing: what llama.cpp's CPU code can use, and the ones that crashed builds.
CPU_FEATURES = (
    "sse4_2 avx avx2 fma f16c bmi2 avx_vnni avx512f avx512bw avx512vl avx512_vnni avx512_bf16 "
    "avx512_fp16 amx_tile amx_int8 amx_bf16 neon asimd sve"
).split()
# llama.cpp's system-info names → the /proc/cpuinfo flag the CPU must have for that code path.
NEEDS = {
    "AVX": "avx",
    "AVX2": "avx2",
    "FMA": "fma",
    "F16C": "f16c",
    "BMI2": "bmi2",
    "AVX_VNNI": "avx_vnni",
    "AVX512": "avx512f",
    "AVX512_VBMI": "avx512vbmi",
    "AVX512_VNNI": "avx512_vnni",
    "AVX512_BF16": "avx512_bf16",
    "AMX_INT8": "amx_int8",
}


@dataclass
class Check:
    name: str
    status: str  # "ok" | "warn" | "FAIL"
    detail: str


def cpu_flags(cpuinfo: str | None = None) -> tuple[str, set[str]]:
    """(model name, flags) of the first CPU in /proc/cpuinfo (x86 "flags", ARM "Features")."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "unknown (no /proc/cpuinfo)", set()
    name = re.search(r"^(?:model name|Hardware|CPU part)\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    flags = re.search(r"^(?:flags|Features)\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    return (name.group(1).strip() if name else "unknown"), set(flags.group(1).split() if flags else ())


def llama_system_info() -> dict[str, str]:
    """llama.cpp's own "AVX2 = 1 | …" report, as {"AVX2": "1", …}; {} when llama.cpp is missing."""
    import llama_cpp

    text = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")
    return dict(re.findall(r"([A-Z0-9_]+) = (\w+)", text))


def check_cpu_and_build() -> list[Check]:
    name, flags = cpu_flags()
    shown = " ".join(f for f in CPU_FEATURES if f in flags) or "none of the listed extensions"
    checks = [Check("cpu", "ok", f"{name}; {len(os.sched_getaffinity(0))} usable cores; {shown}")]
    try:
        import llama_cpp
    except ImportError:  # third-party: the app falls back to transformers without it
        return [*checks, Check("llama.cpp", "warn", "llama-cpp-python is not installed (make install)")]
    recorded = Path(llama_cpp.__file__).parent / BUILD_FLAGS_FILE
    if recorded.exists():
        flags_text = recorded.read_text(encoding="utf-8").strip()
        status = "warn" if "GGML_NATIVE=ON" in flags_text else "ok"
        checks.append(Check("llama.cpp build", status, f"{llama_cpp.__version__}, flags: {flags_text}"))
    else:
        checks.append(
            Check(
                "llama.cpp build",
                "warn",
                f"{llama_cpp.__version__} was not built by scripts/install_llama.sh (no recorded "
                "flags); a default build targets the build machine's CPU and may crash on others",
            )
        )
    info = llama_system_info()
    used = [k for k, v in info.items() if v == "1"]
    checks.append(Check("llama.cpp code paths", "ok", " ".join(used) or "none reported"))
    if flags:  # only judge when /proc/cpuinfo said something
        lacking = [k for k in used if k in NEEDS and NEEDS[k] not in flags]
        if lacking:
            checks.append(
                Check(
                    "cpu vs build",
                    "FAIL",
                    f"llama.cpp was built with {', '.join(lacking)} but this CPU lacks it: the model "
                    "would crash (SIGILL). Rebuild: rm -rf .venv && make install",
                )
            )
    return checks


def check_generation(settings: ModelSettings, timeout_s: float = 120.0) -> Check:
    """One short answer from the configured model, in a model process so a crash is a result."""
    s = settings.model_copy(update={"isolate": True, "hang_timeout_s": timeout_s})
    t0 = time.perf_counter()
    try:
        backend = build_backend(s)
    except BackendError as e:
        return Check("generation", "FAIL", f"{s.describe()} did not load: {e}")
    try:
        load_s = time.perf_counter() - t0
        text = backend.complete("def add(a, b):\n    return", GenerationParams(max_tokens=8))
        stats = backend.stats
        tuned = " (with the wizard adapter)" if backend.info.tuned else ""
        return Check(
            "generation",
            "ok" if text.strip() else "warn",
            f"{backend.info.name}{tuned}, loaded in {load_s:.1f} s, answered {text.strip()[:40]!r}; "
            f"{stats.summary()}",
        )
    except BackendError as e:
        return Check("generation", "FAIL", f"{e} (details: {log_path()})")
    finally:
        backend.close()


def check_supervision() -> Check:
    """A model process that crashes mid-answer must be reported and replaced (with a tiny fake)."""
    saved = os.environ.get(FAULT_ENV)
    os.environ[FAULT_ENV] = "SIGSEGV@1"
    try:
        backend = build_backend(ModelSettings(kind="fake", isolate=True))
    except BackendError as e:
        return Check("model process", "FAIL", f"could not start a model process: {e}")
    finally:
        if saved is None:
            os.environ.pop(FAULT_ENV, None)
        else:
            os.environ[FAULT_ENV] = saved
    try:
        try:
            backend.complete("x", GenerationParams())
            return Check("model process", "FAIL", "an injected crash was not noticed")
        except BackendError as e:
            if "SIGSEGV" not in str(e):
                return Check("model process", "FAIL", f"unexpected report of a crash: {e}")
        backend.complete("x", GenerationParams())
        return Check("model process", "ok", "a crash mid-answer is reported and the process restarted")
    except BackendError as e:
        return Check("model process", "FAIL", f"no restart after a crash: {e}")
    finally:
        backend.close()


def check_sandbox() -> Check:
    from core.sandbox.policy import isolation_report

    report = isolation_report()
    status = "FAIL" if not report.get("can_run", True) else ("warn" if report.get("missing") else "ok")
    layers = report.get("layers", {})
    if status == "ok" and not all(layers.get(k) for k in ("netns", "landlock", "rlimits", "audit_hook")):
        status = "warn"
    on = ", ".join(f"{k}={v}" for k, v in layers.items() if k != "probe_error")
    return Check("sandbox", status, f"{report.get('mode')} mode; {on}; {report.get('summary')}")


def check_model_files(settings: ModelSettings) -> list[Check]:
    checks: list[Check] = []
    if settings.kind == "gguf" and not settings.model:
        try:
            path = default_gguf_path()
            checks.append(Check("model", "ok", f"{path} ({path.stat().st_size / 1e6:.0f} MB)"))
        except BackendError as e:
            checks.append(Check("model", "FAIL", str(e)))
    else:
        checks.append(Check("model", "ok", settings.describe()))
    adapter = adapter_path()
    if adapter_switched_off() or not settings.adapter:
        checks.append(Check("adapter", "ok", "switched off (GEMMA_WIZARD_ADAPTER / model settings)"))
    elif adapter is None:
        checks.append(
            Check("adapter", "ok", f"none built yet ({ADAPTER_DIR.name}/ has no adapter): base model")
        )
    else:
        manifest = adapter.parent / "manifest.json"
        extra = "with manifest.json" if manifest.exists() else "no manifest.json"
        checks.append(Check("adapter", "ok", f"{adapter} ({adapter.stat().st_size / 1e6:.1f} MB, {extra})"))
    return checks


def run(out: Callable[[str], None] = print, generate: bool = True) -> int:
    """Run every check, print one line each, return the exit code (1 when something is broken)."""
    checks: list[Check] = []
    try:
        settings = settings_from_env()
        first = Check("settings", "ok", settings.describe())
    except BackendError as e:
        first = Check("settings", "FAIL", str(e))
        settings = ModelSettings()
    steps: list[Callable[[], list[Check]]] = [
        lambda: [first],
        check_cpu_and_build,
        lambda: check_model_files(settings),
        lambda: [check_supervision()],
        lambda: [check_generation(settings)] if generate else [],
        lambda: [check_sandbox()],
    ]
    for step in steps:
        for c in step():
            checks.append(c)
            out(f"{c.status:<4}  {c.name}: {c.detail}")
    failed = [c.name for c in checks if c.status == "FAIL"]
    out(f"doctor: {'broken: ' + ', '.join(failed) if failed else 'everything needed works'}")
    return 1 if failed else 0
