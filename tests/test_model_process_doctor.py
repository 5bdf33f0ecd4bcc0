"""`python -m core doctor`: every check prints one line; anything broken makes the exit code 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import doctor

ROOT = Path(__file__).resolve().parent.parent
CPUINFO = """processor\t: 0
model name\t: Test CPU
flags\t\t: fpu sse4_2 avx avx2 fma f16c bmi2 avx512f amx_tile
"""


def test_cpu_flags_are_read_from_cpuinfo():
    name, flags = doctor.cpu_flags(CPUINFO)
    assert name == "Test CPU"
    assert {"avx2", "avx512f", "amx_tile"} <= flags and "avx512_fp16" not in flags
    assert doctor.cpu_flags("") == ("unknown", set())


def test_a_build_using_what_the_cpu_lacks_is_broken(monkeypatch):
    pytest.importorskip("llama_cpp")
    monkeypatch.setattr(doctor, "cpu_flags", lambda: ("Old CPU", {"sse4_2", "avx"}))  # no AVX2
    checks = {c.name: c for c in doctor.check_cpu_and_build()}
    assert checks["cpu vs build"].status == "FAIL"
    assert "AVX2" in checks["cpu vs build"].detail and "SIGILL" in checks["cpu vs build"].detail


def test_this_install_uses_only_what_this_cpu_has():
    pytest.importorskip("llama_cpp")
    checks = {c.name: c for c in doctor.check_cpu_and_build()}
    assert "cpu vs build" not in checks, checks.get("cpu vs build")
    assert checks["llama.cpp build"].status == "ok", checks["llama.cpp build"].detail  # portable flags
    assert "GGML_NATIVE=OFF" in checks["llama.cpp build"].detail


def test_supervision_check_passes():
    check = doctor.check_supervision()
    assert (check.status, check.name) == ("ok", "model process"), check.detail


def run_doctor(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core", "doctor"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "GEMMA_WIZARD_CACHE": str(tmp_path / "c"), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_crashing_model_is_reported_with_exit_code_1(tmp_path):
    # The configured model segfaults at its first token: doctor survives it and says so.
    proc = run_doctor(tmp_path, GEMMA_WIZARD_BACKEND="fake", GEMMA_WIZARD_FAULT="SIGSEGV@1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if "generation:" in x)
    assert line.startswith("FAIL") and "killed by signal SIGSEGV" in line
    assert "ok    model process:" in proc.stdout  # the supervision self-test itself is fine
    assert proc.stdout.rstrip().splitlines()[-1] == "doctor: broken: generation"
    assert "Traceback" not in proc.stderr


def test_a_missing_model_file_is_broken(tmp_path):
    proc = run_doctor(tmp_path, GEMMA_WIZARD_MODEL=str(tmp_path / "nope.gguf"))
    assert proc.returncode == 1
    assert "FAIL  generation: gguf:" in proc.stdout and "not found" in proc.stdout
    for name in ("settings", "cpu", "model", "adapter", "sandbox"):
        assert f"  {name}: " in proc.stdout
