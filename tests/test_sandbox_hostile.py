"""Hostile battery: every snippet in tests/hostile/ must be contained, with a clear one-line error.

Containment is checked from the outside after every snippet (not from the result the snippet
could forge): the marker file and the raw upload outside the workspace are unchanged, the fake
~/.ssh key is untouched, no file appeared where a snippet tried to write, the localhost listener
received nothing, this test process is alive, and the sandbox still runs a normal step.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from core.sandbox import LocalSandbox, SandboxJob, SandboxLimits

HOSTILE = Path(__file__).parent / "hostile"
SNIPPETS = sorted(HOSTILE.glob("*.py"))
SECRET = "sekrit-value-that-must-not-leak"
LIMITS = SandboxLimits(timeout_s=2.0, memory_mb=512, cpu_s=10, max_output_chars=2000, max_file_mb=64)


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


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
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
    sandbox = LocalSandbox(workspace, pool_size=1, limits=LIMITS)
    assert sandbox.run(SandboxJob(code="result = 1", mode="script")).ok  # warm, and learn the layers
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
    }
    yield state
    sandbox.close()
    listener.close()
    os.environ.pop("GDW_HOSTILE_API_KEY", None)
    if old_home is not None:
        os.environ["HOME"] = old_home


def _run(env, code: str, mode: str = "transform", entry: str | None = "clean"):
    job = SandboxJob(
        code=code,
        mode=mode,
        entrypoint=entry if mode == "transform" else None,
        input_path=env["input"],
        output_path=env["workspace"] / "out.parquet",
        limits=LIMITS,
    )
    return env["sandbox"].run(job)


def _params(env) -> dict:
    return {
        "marker": str(env["marker"]),
        "raw": str(env["raw"]),
        "pwned": str(env["pwned"]),
        "home": str(env["home"]),
        "port": env["listener"].port,
        "test_pid": os.getpid(),
        "outside_dir": str(env["outside"]),
    }


def _assert_contained(env) -> None:
    assert env["marker"].read_text() == "do not touch"
    assert _sha(env["raw"]) == env["raw_sha"], "the raw upload changed"
    assert env["key"].read_text() == "-----BEGIN FAKE KEY-----\n"
    assert not env["pwned"].exists(), "a file was written outside the workspace"
    assert not env["tmp_pwned"].exists()
    assert env["listener"].connections == 0 and env["listener"].received == [], "data left the sandbox"


def test_battery_is_big_enough():
    assert len(SNIPPETS) >= 25


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[p.stem for p in SNIPPETS])
def test_hostile_snippet_is_contained(env, snippet: Path):
    text = snippet.read_text()
    expect = {k.strip() for k in _header(text, "expect").split(",")}
    mode = _header(text, "mode")
    if "# requires: landlock" in text and not env["sandbox"].isolation.get("landlock"):
        pytest.skip("needs the kernel layer (Landlock) this machine lacks; the audit hook cannot see it")
    params = _params(env)
    if snippet.stem == "write_tmp_outside":
        params["pwned"] = str(env["tmp_pwned"])
    code = text.replace("PARAMS: dict = {}", f"PARAMS: dict = {params!r}", 1)
    t0 = time.monotonic()
    res = _run(env, code, mode=mode)
    elapsed = time.monotonic() - t0
    kind = "ok" if res.ok else res.error_kind
    assert kind in expect, f"{snippet.stem}: got {kind}: {res.error}\n{res.traceback}"
    if not res.ok:
        assert res.error and "\n" not in res.error and len(res.error) <= 400
    assert elapsed < LIMITS.timeout_s + 10, "the sandbox did not stop the step in time"
    _assert_contained(env)
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
    assert len(res.stdout) < LIMITS.max_output_chars + 200
    assert "more characters not shown" in res.stdout


def test_threads_die_with_the_step(env):
    late = env["workspace"] / "thread_was_here.txt"
    late.unlink(missing_ok=True)
    res = _run(env, (HOSTILE / "thread_outlives_timeout.py").read_text())
    assert res.error_kind == "timeout"
    time.sleep(3.0)  # the thread would have written by now
    assert not late.exists()


def test_kernel_layers_are_reported(env):
    res = _run(env, "def clean(df):\n    return df")
    assert res.ok
    assert res.isolation.get("audit_hook") is True and res.isolation.get("rlimits") is True


def test_sandbox_still_works_after_the_battery(env):
    res = _run(env, "import numpy as np\ndef clean(df):\n    df['n'] = np.arange(len(df))\n    return df")
    assert res.ok, res.error
    out = pd.read_parquet(res.output_path)
    assert list(out["n"]) == [0, 1, 2]
