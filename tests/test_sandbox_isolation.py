"""Issue 16 at the sandbox level: no state crosses jobs, nothing from the child is trusted, shared
deployments fail closed, and one slow step cannot hold the only worker forever.

The sandboxes here require every kernel layer (shared mode) unless a test says otherwise, so on a
machine without a network namespace or Landlock these tests fail; they never skip.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest

from core.sandbox import LocalSandbox, SandboxJob, SandboxLimits, policy
from tests.hostile_code import snippet_code

LIMITS = SandboxLimits(timeout_s=20, memory_mb=1024, cpu_s=30)


@pytest.fixture(scope="module")
def shared_box(tmp_path_factory):
    base = tmp_path_factory.mktemp("iso")
    box = LocalSandbox(base / ".sandbox", pool_size=1, limits=LIMITS, require=policy.SHARED_REQUIRED)
    yield box, base
    box.close()


def _ws(base: Path, name: str) -> Path:
    ws = base / name / "workspace"
    ws.mkdir(parents=True, exist_ok=True)
    return ws


def _scanner(own: str) -> str:
    """Frames, tracebacks (switching the audit hook off), the gc and /proc/self/mem, in one job.

    `own` is planted by the scanning job itself: finding it proves the scan really looks."""
    parts = [snippet_code(n) for n in ("frame_walk", "gc_secret_scan", "proc_mem_scan")]
    code = [f"PLANTED = {own!r}.encode()"]
    for i, text in enumerate(parts):
        code.append(text.replace("result = ", f"result_{i} = "))
    code.append("result = {'frames': result_0, 'gc': result_1, 'mem': result_2}")
    return "\n".join(code)


def test_no_state_crosses_jobs_or_projects(shared_box):
    box, base = shared_box
    secret = f"PREVJOB-{uuid.uuid4().hex}"
    ws1, ws2 = _ws(base, "project1"), _ws(base, "project2")
    pd.DataFrame({"s": [secret] * 5}).to_parquet(ws1 / "in.parquet")
    a = box.run(
        SandboxJob(
            code=f"def answer(df):\n    print({secret!r})\n    return {{'v': {secret!r}, 'n': len(df)}}",
            mode="script",
            entrypoint="answer",
            input_path=ws1 / "in.parquet",
            workspace=ws1,
        )
    )
    assert a.ok and a.value["v"] == secret, a.error
    own = f"PREVJOB-{uuid.uuid4().hex}"
    b = box.run(SandboxJob(code=_scanner(own), mode="script", workspace=ws2))
    assert b.ok, f"{b.error}\n{b.traceback}"
    assert own in b.value["mem"], "the memory scan did not even find its own token"
    blob = json.dumps(b.model_dump(mode="json"))
    assert secret not in blob, "job B (project 2) found job A's (project 1) data"
    assert len(b.value["frames"]) >= 3  # it did walk up into the harness and the zygote


def test_a_job_cannot_read_another_projects_workspace(shared_box):
    box, base = shared_box
    ws1, ws2 = _ws(base, "p1"), _ws(base, "p2")
    (ws1 / "private.txt").write_text("project one only")
    res = box.run(
        SandboxJob(code=f"result = open({str(ws1 / 'private.txt')!r}).read()", mode="script", workspace=ws2)
    )
    assert not res.ok and res.error_kind == "refused", res.error


def test_forged_model_metrics_are_refused_or_stripped(shared_box, tmp_path):
    box, base = shared_box
    ws = _ws(base, "model")
    pd.DataFrame({"x": range(20), "y": [0, 1] * 10}).to_parquet(ws / "in.parquet")
    forged = {
        "task": "classification",
        "target": "y",
        "primary_metric": "roc_auc",
        "test": {"roc_auc": 1.0},
        "n_train": 15,
        "n_test": 5,
        "model_path": "/proc/self/environ",
    }
    patch = (
        "import core.modeling_harness as h\n"
        f"h.train_and_evaluate = lambda *a, **k: {forged!r}\n"
        "def build_model(X):\n    return None\n"
    )
    asked = str(ws / "models" / "model-0123456789ab.pkl")
    job = SandboxJob(
        code=patch,
        mode="model",
        entrypoint="build_model",
        input_path=ws / "in.parquet",
        workspace=ws,
        params={"target": "y", "model_path": asked},
    )
    res = box.run(job)
    assert res.ok, res.error
    assert "model_path" not in res.value  # not the path the parent asked for: dropped
    bad = box.run(job.model_copy(update={"code": patch.replace("'classification'", "'pwned'")}))
    assert not bad.ok and "malformed metrics" in bad.error


def test_oversize_figures_are_dropped_with_a_note(shared_box):
    box, base = shared_box
    code = (
        "import plotly.graph_objects as go\n"
        "big = go.Figure(go.Scatter(x=list(range(300_000)), y=list(range(300_000))))\n"
        "small = go.Figure(go.Bar(x=[1], y=[1]))\n"
        "result = 1\n"
    )
    res = box.run(SandboxJob(code=code, mode="script", workspace=_ws(base, "figs")))
    assert res.ok, res.error
    assert len(res.figures) == 1 and res.figures[0]["data"][0]["type"] == "bar"
    assert "dropped" in res.stderr


def test_shared_mode_fails_closed_without_landlock(tmp_path, monkeypatch):
    monkeypatch.setenv(policy.DISABLE_ENV, "landlock")
    marker = tmp_path / "ws" / "ran.txt"
    with LocalSandbox(tmp_path / "ws", limits=LIMITS, require=policy.SHARED_REQUIRED) as box:
        res = box.run(SandboxJob(code=f"open({str(marker)!r}, 'w').write('x')\nresult = 1", mode="script"))
    assert not res.ok and res.error_kind == "refused"
    assert "Landlock" in res.error and "shared deployment" in res.error
    assert not marker.exists(), "the code ran although a required layer was missing"
    assert res.isolation["landlock"] == 0  # and the report says which layer it was
    report = policy.isolation_report(shared=True)
    assert report["can_run"] is False and report["missing"] == ["landlock"]


def test_local_mode_runs_degraded_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv(policy.DISABLE_ENV, "netns")
    with LocalSandbox(tmp_path / "ws", limits=LIMITS, require=()) as box:
        res = box.run(SandboxJob(code="result = 1", mode="script"))
    assert res.ok and res.isolation["netns"] is False and res.isolation["landlock"] >= 1
    report = policy.isolation_report(shared=False)
    assert report["can_run"] and "degraded" in report["summary"] and "netns" in report["summary"]


def test_every_layer_is_really_active_here():
    """Shared mode is the mode under test: this machine must provide every layer (no skip)."""
    report = policy.isolation_report(shared=True)
    assert report["can_run"], report["summary"]
    assert report["layers"]["landlock"] >= 1 and report["layers"]["netns"] is True


def test_shared_mode_detection(monkeypatch):
    monkeypatch.delenv(policy.SHARED_ENV, raising=False)
    monkeypatch.setenv("HOSTNAME", "streamlit")
    assert policy.shared_mode() and "HOSTNAME=streamlit" in policy.shared_markers()
    monkeypatch.setenv(policy.SHARED_ENV, "0")
    assert not policy.shared_mode()  # an explicit setting wins over detection
    monkeypatch.setenv(policy.SHARED_ENV, "1")
    monkeypatch.setenv("HOSTNAME", "laptop")
    assert policy.shared_mode() and policy.required_layers() == policy.SHARED_REQUIRED
    monkeypatch.setenv(policy.SHARED_ENV, "0")
    assert policy.required_layers() == ()


def test_rlimits_are_reported_truthfully():
    guard = str(Path(policy.__file__).with_name("guard.py"))
    code = (
        "import importlib.util, resource, sys\n"
        f"spec = importlib.util.spec_from_file_location('guard', {guard!r})\n"
        "g = importlib.util.module_from_spec(spec); spec.loader.exec_module(g)\n"
        "if sys.argv[1] == 'capped':\n"
        "    resource.setrlimit(resource.RLIMIT_NPROC, (5, 5))  # below what apply_rlimits sets\n"
        "print(g.apply_rlimits(512, 10, 16))\n"
    )
    out = {
        arg: subprocess.run([sys.executable, "-c", code, arg], capture_output=True, text=True).stdout.strip()
        for arg in ("plain", "capped")
    }
    assert out == {"plain": "True", "capped": "False"}


def test_a_sleeping_step_cannot_hog_the_only_slot(tmp_path):
    """The hog is stopped at its timeout and the other visitor's step then runs."""
    hog_code = snippet_code("sleep_hog")
    short = SandboxLimits(timeout_s=3, memory_mb=1024, cpu_s=30)
    with LocalSandbox(tmp_path / "sb", pool_size=1, limits=short, require=policy.SHARED_REQUIRED) as box:
        assert box.warm_up()
        ws_a, ws_b = _ws(tmp_path, "a"), _ws(tmp_path, "b")
        pd.DataFrame({"a": [1]}).to_parquet(ws_a / "in.parquet")
        out: dict[str, object] = {}

        def hog() -> None:
            out["hog"] = box.run(
                SandboxJob(
                    code=hog_code,
                    entrypoint="clean",
                    input_path=ws_a / "in.parquet",
                    output_path=ws_a / "out.parquet",
                    workspace=ws_a,
                )
            )

        t = threading.Thread(target=hog)
        t.start()
        time.sleep(0.5)
        t0 = time.monotonic()
        other = box.run(SandboxJob(code="result = 42", mode="script", workspace=ws_b))
        waited = time.monotonic() - t0
        t.join(30)
    assert out["hog"].error_kind == "timeout"  # type: ignore[union-attr]
    assert other.ok and other.value == 42
    assert waited < short.timeout_s + 5


def test_no_job_waits_forever_for_a_slot_nor_holds_one_past_the_cap(tmp_path):
    with LocalSandbox(
        tmp_path / "sb", pool_size=1, limits=LIMITS, max_timeout_s=3, queue_timeout_s=0.5, require=()
    ) as box:
        assert box.warm_up()
        slow = SandboxJob(
            code="import time\ntime.sleep(1000)",
            mode="script",
            limits=LIMITS.model_copy(update={"timeout_s": 10_000}),
        )
        result: dict[str, object] = {}
        t = threading.Thread(target=lambda: result.setdefault("slow", box.run(slow)))
        t0 = time.monotonic()
        t.start()
        time.sleep(0.3)
        busy = box.run(SandboxJob(code="result = 1", mode="script"))
        t.join(30)
        took = time.monotonic() - t0
    assert not busy.ok and busy.error.startswith("Busy")
    assert result["slow"].error_kind == "timeout" and took < 3 + 8  # type: ignore[union-attr]
