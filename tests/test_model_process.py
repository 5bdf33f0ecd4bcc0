"""The model runs in a supervised process: a crash, a kill or a hang costs one request, not the app.

Logic tests run small backends in the child (the registry's fake, or `model_process_helpers`);
the real_model tests kill the embedded Gemma 3 270M's process mid-answer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.llm.base import BackendError, GenerationParams
from core.llm.process import FAULT_ENV, ProcessBackend, describe_exit
from core.llm.registry import GuardedBackend, ModelSettings, build_backend, guarded

ROOT = Path(__file__).resolve().parent.parent
P = GenerationParams(max_tokens=32)
FAKE_REPLY = "```python\n```"  # what the registry's unscripted fake answers


def stopped(sig: str) -> str:
    return rf"the model process stopped: killed by signal {sig}\b.*; restarted — try again"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("GEMMA_WIZARD_CACHE", str(tmp_path / "cache"))  # the child's log goes here
    monkeypatch.delenv(FAULT_ENV, raising=False)
    return tmp_path / "cache"


def fake_in_a_process(monkeypatch, fault: str | None = None, **settings) -> GuardedBackend:
    """The registry's fake, built the way the app builds gguf/transformers: in a model process."""
    if fault:
        monkeypatch.setenv(FAULT_ENV, fault)
    return build_backend(ModelSettings(kind="fake", isolate=True, **settings))


def slow_in_a_process(**kwargs) -> GuardedBackend:
    return guarded(
        ProcessBackend(
            ModelSettings().model_dump_json(), target="tests.model_process_helpers:slow_backend", **kwargs
        )
    )


# --------------------------------------------------------------------------- crashes


@pytest.mark.parametrize("sig", ["SIGSEGV", "SIGKILL"])
def test_a_crash_mid_answer_is_a_message_and_the_next_request_works(cache, monkeypatch, sig):
    backend = fake_in_a_process(monkeypatch, fault=f"{sig}@1")
    first_pid = backend.inner.pid
    got: list[str] = []
    with pytest.raises(BackendError, match=stopped(sig)):
        for piece in backend.stream("p", P):
            got.append(piece)
    assert got == ["```pytho"]  # it died mid-answer, after the first piece
    assert backend.lock is not None and not backend.lock.locked()
    assert backend.complete("p", P) == FAKE_REPLY
    assert backend.inner.pid != first_pid and backend.inner.restarts == 1
    assert backend.info.extra["model process"] == f"pid {backend.inner.pid}, restarted 1x"
    backend.close()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV])
def test_killed_from_outside_mid_answer(cache, sig):
    backend = slow_in_a_process()
    pid = backend.inner.pid
    stream = backend.stream("p", P)
    assert next(stream) == "w0 "
    os.kill(pid, sig)  # as the OOM killer (SIGKILL) or a native bug (SIGSEGV) would
    with pytest.raises(BackendError, match=stopped(sig.name)):
        list(stream)
    assert backend.complete("p", GenerationParams(max_tokens=3)) == "w0 w1 w2 "
    assert backend.inner.pid != pid
    backend.close()


def test_a_hang_is_killed_after_the_timeout_and_the_next_request_works(cache, monkeypatch):
    backend = fake_in_a_process(monkeypatch, fault="hang@1", hang_timeout_s=1.0)
    hung_pid = backend.inner.pid
    t0 = time.monotonic()
    with pytest.raises(
        BackendError, match=r"stopped: no reply for 1 s \(hung\), so it was killed; restarted"
    ):
        backend.complete("p", P)
    assert time.monotonic() - t0 < 10
    with pytest.raises(ProcessLookupError):
        os.kill(hung_pid, 0)  # the hung process is gone, not left behind
    assert backend.complete("p", P) == FAKE_REPLY


def test_other_sessions_keep_working_while_one_request_crashes(cache, monkeypatch):
    backend = fake_in_a_process(monkeypatch, fault="SIGSEGV@1")
    results: list[str] = []
    errors: list[str] = []

    def session() -> None:
        try:
            results.append(backend.complete("p", P))
        except BackendError as e:
            errors.append(str(e))

    threads = [threading.Thread(target=session) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(errors) == 1 and "SIGSEGV" in errors[0]  # only the request that was running
    assert results == [FAKE_REPLY, FAKE_REPLY]


def test_a_crash_while_loading_is_reported(cache):
    with pytest.raises(BackendError, match="stopped while loading the model: killed by signal SIGSEGV"):
        ProcessBackend(ModelSettings().model_dump_json(), target="tests.model_process_helpers:crash_on_load")


def test_a_load_error_in_the_child_keeps_its_message(cache, tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 64)
    with pytest.raises(BackendError, match="could not load broken.gguf"):
        build_backend(ModelSettings(kind="gguf", model=str(broken)))


@pytest.mark.parametrize(
    ("operator", "child"),
    [
        ({}, {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "1000"}),
        ({"OMP_WAIT_POLICY": "ACTIVE"}, {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": None}),
        ({"GOMP_SPINCOUNT": "0"}, {"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": "0"}),
    ],
)
def test_the_model_process_spins_briefly_unless_the_operator_says_so(cache, monkeypatch, operator, child):
    import json

    for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        monkeypatch.delenv(k, raising=False)
    for k, v in operator.items():
        monkeypatch.setenv(k, v)
    backend = ProcessBackend(
        ModelSettings().model_dump_json(), target="tests.model_process_helpers:env_backend"
    )
    try:
        assert json.loads(backend.complete("env?", P)) == child
    finally:
        backend.close()


def test_the_model_process_writes_no_core_dump(cache):
    backend = slow_in_a_process()
    limits = Path(f"/proc/{backend.inner.pid}/limits").read_text()
    core = next(line for line in limits.splitlines() if line.startswith("Max core file size"))
    assert core.split()[4:6] == ["0", "0"], core
    backend.close()


# --------------------------------------------------------------------------- ordinary work


def test_an_abandoned_stream_is_cancelled_not_waited_for(cache):
    backend = slow_in_a_process()
    stream = backend.stream("p", GenerationParams(max_tokens=40))
    next(stream)
    t0 = time.monotonic()
    stream.close()  # the page went away after one word; the other 39 are not generated
    assert time.monotonic() - t0 < 2.0  # the whole answer would take 4 s
    assert backend.complete("p", GenerationParams(max_tokens=2)) == "w0 w1 "
    assert backend.inner.restarts == 0


def test_token_counts_are_answered_while_an_answer_streams(cache):
    backend = slow_in_a_process()
    stream = backend.stream("p", GenerationParams(max_tokens=40))
    next(stream)
    t0 = time.monotonic()
    assert backend.count_tokens("a b c") == 3  # served between two tokens of the running answer
    assert time.monotonic() - t0 < 2.0  # the whole answer would take 4 s
    assert "".join(stream).startswith("w1 ")


def test_choose_and_stats_work_through_the_process(cache, monkeypatch):
    backend = slow_in_a_process()
    assert backend.choose("which?", ["a", "b", "c"]) == "c"
    backend.complete("one two", GenerationParams(max_tokens=5))
    s = backend.stats
    assert s.calls == 1 and s.last_prompt_tokens == 2 and s.last_completion_tokens == 5
    assert s.last_ttft_s is not None and s.avg_decode_tok_s is not None
    fake = fake_in_a_process(monkeypatch)
    assert fake.choose("q", ["x", "y"]) == "x"  # the fake's reply is no option: the first one


def test_closed_backend_says_so_and_leaves_no_process(cache):
    backend = slow_in_a_process()
    pid = backend.inner.pid
    backend.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(BackendError, match="closed"):
        backend.complete("p", P)


def test_exit_descriptions():
    assert describe_exit(-signal.SIGSEGV).startswith("killed by signal SIGSEGV")
    assert "out of memory" in describe_exit(-signal.SIGKILL)
    assert describe_exit(3) == "exited with code 3"


# --------------------------------------------------------------------------- the CLI


def test_cli_reports_a_crashed_model_process_clearly(tmp_path):
    data = tmp_path / "t.csv"
    data.write_text("a,b\n1,2\n3,4\n")
    env = {
        **os.environ,
        "GEMMA_WIZARD_ISOLATE": "1",
        FAULT_ENV: "SIGSEGV@1",
        "GEMMA_WIZARD_CACHE": str(tmp_path / "cache"),
        "PYTHONPATH": str(ROOT),
    }

    def ask(question: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "core", "ask", str(data), question, "--backend", "fake"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip

    proc = ask("which rows look unusual to you?")  # no question recipe reads this: nothing answers
    assert proc.returncode != 0
    assert "the model process stopped: killed by signal SIGSEGV" in proc.stderr
    assert "restarted" in proc.stderr
    assert "Traceback" not in proc.stderr and "Fatal Python error" not in proc.stderr
    assert not list(tmp_path.glob("core*"))
    # A question a recipe reads is still answered, and the crash is said, not hidden.
    proc = ask("how many rows?")
    assert proc.returncode == 0 and "a question recipe" in proc.stdout
    assert "the model process stopped" in proc.stderr
    # The child's own crash report went to its log, for whoever investigates.
    assert "Segmentation fault" in (tmp_path / "cache" / "logs" / "model-process.log").read_text()


# --------------------------------------------------------------------------- the real model


@pytest.mark.real_model
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV])
def test_killing_the_real_gemma_mid_answer(sig):
    pytest.importorskip("llama_cpp")
    backend = build_backend(ModelSettings(n_ctx=1024, adapter=False))
    try:
        params = GenerationParams(max_tokens=24)
        prompt = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):"
        expected = backend.complete(prompt, params)
        stream = backend.stream(prompt, params)
        next(stream)
        os.kill(backend.inner.pid, sig)
        with pytest.raises(BackendError, match=stopped(sig.name)):
            list(stream)
        assert backend.complete(prompt, params) == expected  # retried: the same answer
    finally:
        backend.close()


def test_cli_autopilot_reports_a_model_that_crashes_while_loading(tmp_path):
    data = tmp_path / "t.csv"
    data.write_text("a,b\n" + "".join(f"{i},{i % 2}\n" for i in range(40)))
    env = {
        **os.environ,
        "GEMMA_WIZARD_ISOLATE": "1",
        FAULT_ENV: "SIGSEGV@0",
        "GEMMA_WIZARD_CACHE": str(tmp_path / "cache"),
        "PYTHONPATH": str(ROOT),
    }
    cmd = [sys.executable, "-m", "core", "run", str(data), "--target", "b", "--out", str(tmp_path / "out")]
    proc = subprocess.run(
        [*cmd, "--backend", "fake"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: the model process stopped while loading the model: killed by signal SIGSEGV "
        "(a crash in the native model code)"
    )
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- the app


def test_the_app_shows_a_crash_and_answers_the_retry(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from app import common as ui_common

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GEMMA_WIZARD_PROJECTS", str(tmp_path / "projects"))
    monkeypatch.setenv("GEMMA_WIZARD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GEMMA_WIZARD_BACKEND", "fake")
    monkeypatch.setenv("GEMMA_WIZARD_ISOLATE", "1")  # the fake in a model process, as gguf runs
    monkeypatch.setenv(FAULT_ENV, "SIGSEGV@1")
    ui_common._load_backend.clear()
    try:
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
        at.run()
        assert not at.exception, at.exception
        at.sidebar.text_input(key="sb_test_prompt").set_value("What is a median?").run()
        at.sidebar.button(key="sb_test_ask").click().run()
        assert not at.exception, at.exception  # the page lives on
        errors = [e.value for e in at.sidebar.error]
        assert any("the model process stopped: killed by signal SIGSEGV" in e for e in errors), errors
        assert any("restarted — try again" in e for e in errors)
        at.sidebar.button(key="sb_test_ask").click().run()  # the user retries
        assert not at.exception, at.exception
        assert not at.sidebar.error
        assert any(c.value.endswith(" s") for c in at.sidebar.caption)  # answered, and timed
    finally:
        ui_common._load_backend.clear()
        ui_common.close_sandboxes()
