"""Hostile battery: every snippet in tests/hostile/ must be contained, with a clear one-line error.

Containment is checked from the outside after every snippet (not from the result the snippet
could forge): the marker file and the raw upload outside the workspace are unchanged, the fake
~/.ssh key is untouched, no file appeared where a snippet tried to write, the localhost listener
received nothing, this test process is alive, and the sandbox still runs a normal step. Right
before each snippet another project's job returns a secret; nothing the snippet returns may
contain it (frames, tracebacks, gc, /proc/self/mem).

Mode under test: shared (every kernel layer required, as on a shared deployment) unless
GEMMA_WIZARD_TEST_SANDBOX_MODE=local. In shared mode a machine without the kernel layers FAILS
this battery (nothing is skipped). In local mode a snippet marked `# requires: landlock` is
checked for a truthful report instead where Landlock is off.

Limits: each snippet runs twice, under tight limits and under the app's own `SandboxLimits()`
(2 GB memory, 120 s CPU, 1 GB files). For snippets that expect a timeout the app profile
shortens only the wall clock (the parent enforces it the same way whatever its value).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest

from core.safe_text import escape_md
from core.sandbox import LocalSandbox, SandboxJob, SandboxLimits, policy
from tests.hostile_code import SNIPPETS, snippet_code

SECRET = "sekrit-value-that-must-not-leak"
LIMITS = SandboxLimits(timeout_s=2.0, memory_mb=512, cpu_s=10, max_output_chars=2000, max_file_mb=64)
PROFILES = {"tight": LIMITS, "app": SandboxLimits()}  # "app": exactly what the app's sandbox uses
MODE = os.environ.get("GEMMA_WIZARD_TEST_SANDBOX_MODE", "shared")
REQUIRE = policy.SHARED_REQUIRED if MODE == "shared" else ()


def _header(text: str, key: str) -> str:
    for line in text.splitlines():
        if line.startswith(f"# {key}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"snippet lacks a '# {key}:' header")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Listener:
    """A TCP server on 127.0.0.1 that records every connection and byte it receives."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.connections = 0
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.settimeout(0.5)
            try:
                self.received.append(conn.recv(65536))
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.thread.join(2)
        self.sock.close()


@pytest.fixture(scope="module", params=list(PROFILES))
def env(tmp_path_factory, request):
    limits = PROFILES[request.param]
    base = tmp_path_factory.mktemp(f"hostile-{request.param}")
    outside = base / "outside"
    outside.mkdir()
    marker = outside / "marker.txt"
    marker.write_text("do not touch")
    raw = base / "project" / "raw" / "upload.csv"
    raw.parent.mkdir(parents=True)
    raw.write_text("a,b\n1,x\n2,y\n")
    home = base / "fakehome"
    (home / ".ssh").mkdir(parents=True)
    key = home / ".ssh" / "id_rsa"
    key.write_text("-----BEGIN FAKE KEY-----\n")
    old_home = os.environ.get("HOME")
    os.environ["HOME"] = str(home)  # the parent's HOME points at the fake one
    os.environ["GDW_HOSTILE_API_KEY"] = SECRET
    workspace = base / "project" / "workspace"
    (base / "project" / "previews").mkdir(parents=True)
    (base / "project" / "previews" / "kept.parquet").write_bytes(b"preview copy")
    other = base / "other" / "snapshots" / "base.parquet"  # another project's data
    other.parent.mkdir(parents=True)
    pd.DataFrame({"secret": ["other project's row"]}).to_parquet(other)
    sandbox = LocalSandbox(workspace, pool_size=1, limits=limits, require=REQUIRE)
    warm = sandbox.run(SandboxJob(code="result = 1", mode="script"))
    assert warm.ok, warm.error  # shared mode: fails here (not skips) where a kernel layer is missing
    listener = Listener()
    inp = workspace / "input.parquet"
    pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"]}).to_parquet(inp)
    state = {
        "sandbox": sandbox,
        "listener": listener,
        "marker": marker,
        "raw": raw,
        "raw_sha": _sha(raw),
        "key": key,
        "home": home,
        "input": inp,
        "workspace": workspace,
        "outside": outside,
        "pwned": base / "outside" / "pwned.txt",
        "tmp_pwned": Path("/tmp") / f"gdw-pwned-{os.getpid()}",
        "limits": limits,
        "other": other,
        "previews_sha": _sha(base / "project" / "previews" / "kept.parquet"),
        "previews": base / "project" / "previews",
        "prev_ws": base / "projA" / "workspace",
    }
    yield state
    sandbox.close()
    listener.close()
    os.environ.pop("GDW_HOSTILE_API_KEY", None)
    if old_home is not None:
        os.environ["HOME"] = old_home


def _run(env, code: str, mode: str = "transform", entry: str | None = "clean", limits=None):
    job = SandboxJob(
        code=code,
        mode=mode,
        entrypoint=entry if mode == "transform" else None,
        input_path=env["input"],
        output_path=env["workspace"] / "out.parquet",
        limits=limits or env["limits"],
    )
    return env["sandbox"].run(job)


def _previous_job(env) -> str:
    """Another project's job, through the same warm pool, whose input, code, output and result
    all hold a fresh secret."""
    secret = f"PREVJOB-{uuid.uuid4().hex}"
    ws = env["prev_ws"]
    ws.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"s": [secret] * 3}).to_parquet(ws / "in.parquet")
    code = f"def answer(df):\n    print({secret!r})\n    return {{'v': {secret!r}, 'rows': df['s'].tolist()}}"
    res = env["sandbox"].run(
        SandboxJob(code=code, mode="script", entrypoint="answer", input_path=ws / "in.parquet", workspace=ws)
    )
    assert res.ok and secret in json.dumps(res.value), res.error
    return secret


def _params(env) -> dict:
    return {
        "marker": str(env["marker"]),
        "raw": str(env["raw"]),
        "pwned": str(env["pwned"]),
        "home": str(env["home"]),
        "port": env["listener"].port,
        "test_pid": os.getpid(),
        "outside_dir": str(env["outside"]),
        "other_project": str(env["other"]),
    }


def _assert_contained(env) -> None:
    assert env["marker"].read_text() == "do not touch"
    assert _sha(env["raw"]) == env["raw_sha"], "the raw upload changed"
    assert env["key"].read_text() == "-----BEGIN FAKE KEY-----\n"
    assert not env["pwned"].exists(), "a file was written outside the workspace"
    assert not env["tmp_pwned"].exists()
    assert env["listener"].connections == 0 and env["listener"].received == [], "data left the sandbox"
    assert _sha(env["previews"] / "kept.parquet") == env["previews_sha"], "a preview copy changed"


def _assert_inert_markdown(names) -> None:
    from markdown_it import MarkdownIt

    line = "**New columns:** " + ", ".join(escape_md(c, code=True) for c in names)
    line += " · " + " ".join(escape_md(c) for c in names)
    html = MarkdownIt("commonmark").render(line)
    assert "<img" not in html and "<a " not in html, html


def test_battery_is_big_enough():
    assert len(SNIPPETS) >= 50


def test_every_snippet_is_whole_python_with_its_prelude_inlined():
    for snippet in SNIPPETS:
        code = snippet_code(snippet.stem)
        assert "_prelude" not in code, snippet.stem  # the sandbox could not import it
        compile(code, snippet.name, "exec")


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[p.stem for p in SNIPPETS])
def test_hostile_snippet_is_contained(env, snippet: Path):
    text = snippet.read_text()
    expect = {k.strip() for k in _header(text, "expect").split(",")}
    mode = _header(text, "mode")
    params = _params(env)
    if snippet.stem == "write_tmp_outside":
        params["pwned"] = str(env["tmp_pwned"])
    code = snippet_code(snippet.stem, params)
    limits = env["limits"]
    if "timeout" in expect and limits.timeout_s > LIMITS.timeout_s:
        limits = limits.model_copy(update={"timeout_s": 5.0})
    if "# timeout:" in text:  # whole-memory scans need more wall clock on a loaded machine
        wall = max(limits.timeout_s, float(_header(text, "timeout")))
        limits = limits.model_copy(update={"timeout_s": wall})
    secret = _previous_job(env)
    t0 = time.monotonic()
    res = _run(env, code, mode=mode, limits=limits)
    elapsed = time.monotonic() - t0
    assert secret not in json.dumps(res.model_dump(mode="json")), f"{snippet.stem} saw another job's data"
    if "# requires: landlock" in text and not res.isolation.get("landlock"):
        # Only reachable in local mode (shared mode refuses every job without Landlock): the
        # degraded run must at least say so.
        assert MODE == "local", "a required layer is missing in shared mode"
        assert res.isolation.get("landlock") in (0, None, False)
        return
    kind = "ok" if res.ok else res.error_kind
    assert kind in expect, f"{snippet.stem}: got {kind}: {res.error}\n{res.traceback}"
    if not res.ok:
        assert res.error and "\n" not in res.error and len(res.error) <= 400
    assert elapsed < limits.timeout_s + 10, "the sandbox did not stop the step in time"
    _assert_contained(env)
    if res.ok and res.output_path is not None:  # Markdown built from the output's columns is inert
        _assert_inert_markdown(pd.read_parquet(res.output_path).columns)
    # A hostile step never blocks the next one.
    ok = _run(env, "def clean(df):\n    return df.assign(c=1)")
    assert ok.ok and ok.shape == (3, 3), ok.error


def test_secrets_do_not_reach_the_worker(env):
    assert os.environ["GDW_HOSTILE_API_KEY"] == SECRET
    res = _run(env, "import os\nresult = dict(os.environ)", mode="script")
    assert res.ok, res.error
    assert SECRET not in str(res.value)
    assert not any(s in k for k in res.value for s in ("KEY", "TOKEN", "SECRET", "PASSWORD"))
    assert res.value["HOME"] == str(env["workspace"].resolve())


def test_monkeypatched_pandas_does_not_leak_into_the_next_step(env):
    poison = "import pandas as pd\npd.DataFrame.head = lambda self, n=5: 'poisoned'\nresult = 1"
    assert _run(env, poison, mode="script").ok
    res = _run(env, "result = str(type(df.head(1)).__name__)", mode="script")
    assert res.ok and res.value == "DataFrame", res.value


def test_huge_output_is_truncated(env):
    res = _run(env, "def clean(df):\n    print('y' * 5_000_000)\n    return df")
    assert res.ok
    assert len(res.stdout) < env["limits"].max_output_chars + 200
    assert "more characters not shown" in res.stdout


def test_threads_die_with_the_step(env):
    late = env["workspace"] / "thread_was_here.txt"
    late.unlink(missing_ok=True)
    short = env["limits"].model_copy(update={"timeout_s": 2.0})
    res = _run(env, snippet_code("thread_outlives_timeout"), limits=short)
    assert res.error_kind == "timeout"
    time.sleep(3.0)  # the thread would have written by now
    assert not late.exists()


def test_kernel_layers_are_reported(env):
    res = _run(env, "def clean(df):\n    return df")
    assert res.ok
    assert res.isolation.get("audit_hook") is True and res.isolation.get("rlimits") is True
    if MODE == "shared":  # required here: a machine without them fails, it does not skip
        assert res.isolation.get("netns") is True and res.isolation.get("landlock", 0) >= 1


def test_an_escaped_grandchild_does_not_outlive_its_step(env):
    beat = env["workspace"] / "heartbeat.txt"
    beat.unlink(missing_ok=True)
    res = _run(env, snippet_code("fork_escape"))
    assert res.ok, res.error
    assert beat.exists(), "the escape did not even start: the test would prove nothing"
    time.sleep(0.5)
    last = beat.read_text()
    time.sleep(1.0)
    assert beat.read_text() == last, "a process the step started is still running"


def test_sandbox_still_works_after_the_battery(env):
    res = _run(env, "import numpy as np\ndef clean(df):\n    df['n'] = np.arange(len(df))\n    return df")
    assert res.ok, res.error
    out = pd.read_parquet(res.output_path)
    assert list(out["n"]) == [0, 1, 2]
