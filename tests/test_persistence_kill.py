"""A real process accepting steps is killed with SIGKILL mid-work; nothing accepted may be lost.

The "server" is a separate Python process using ProjectStore exactly as the app does (accepting
feature steps in a loop, moving undo/redo). It prints a line only after `accept_step` returned,
so every printed step is one the user saw accepted. After `kill -9` at a random moment the
project must open, list every printed step in order with a readable snapshot, and keep working.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from core.project import ProjectStore
from core.sandbox import NotASandbox

ROOT = Path(__file__).resolve().parent.parent

SERVER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    import pandas as pd
    from core.models import LoadOptions
    from core.project import ProjectStore
    from core.sandbox import LocalSandbox, NotASandbox

    root, kind = Path(sys.argv[2]), sys.argv[3]
    store = ProjectStore(root)
    sb = LocalSandbox(root / ".sandbox") if kind == "local" else NotASandbox(root / ".sandbox")
    if kind == "local":
        sb.warm_up()
        print("WORKERS", " ".join(str(z.proc.pid) for z in sb._all), flush=True)
    project = store.create("kill test")
    raw = root / "upload.csv"
    df = pd.DataFrame({"a": range(3000), "b": ["x", "y", None] * 1000})
    df.to_csv(raw, index=False)
    store.import_raw(project, raw, LoadOptions(), filename="upload.csv", loaded_df=df)
    print("PROJECT", project.id, flush=True)
    i = 0
    while True:
        code = f"def add_features(df):\\n    df['c{i}'] = df['a'] * {i}\\n    return df"
        step = store.accept_step(project, "feature", code, "add_features", "rule", sandbox=sb)
        print("ACCEPTED", i, step.id, flush=True)
        i += 1
        if i % 3 == 0:
            store.undo(project)
            store.redo(project)
    """
)


def _run_and_kill(
    tmp_path: Path, kind: str, kill_after: int, delay: float
) -> tuple[str, list[tuple[int, str]], list[int]]:
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(ROOT), str(tmp_path / "projects"), kind],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=False,
    )
    accepted: list[tuple[int, str]] = []
    pid, workers = None, []
    deadline = time.monotonic() + 120
    try:
        assert proc.stdout is not None
        while len(accepted) < kill_after:
            assert time.monotonic() < deadline, "the server did not accept steps in time"
            line = proc.stdout.readline()
            assert line, "the server died on its own"
            parts = line.split()
            if parts[0] == "PROJECT":
                pid = parts[1]
            elif parts[0] == "WORKERS":
                workers = [int(p) for p in parts[1:]]
            elif parts[0] == "ACCEPTED":
                accepted.append((int(parts[1]), parts[2]))
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)  # kill -9, mid-step
        proc.wait(10)
        # Lines printed before the kill but not yet read are accepted steps too.
        for line in proc.stdout.read().splitlines():
            parts = line.split()
            if parts and parts[0] == "ACCEPTED":
                accepted.append((int(parts[1]), parts[2]))
    finally:
        if proc.poll() is None:
            proc.kill()
    assert pid is not None
    return pid, accepted, workers


def _check(tmp_path: Path, pid: str, accepted: list[tuple[int, str]]) -> None:
    store = ProjectStore(tmp_path / "projects")
    project = store.open(pid)  # project.json parses
    assert pid in [p.id for p in store.list()]
    ids = [s.id for s in project.steps]
    assert ids[: len(accepted)] == [sid for _, sid in accepted], "an accepted step was lost or reordered"
    assert len(ids) <= len(accepted) + 1  # at most the step whose print the kill cut off
    assert project.cursor >= len(accepted) - 1  # an undo may have been saved, its redo not
    for i, sid in accepted:
        step = project.steps[ids.index(sid)]
        snap = pd.read_parquet(store.snapshot_path(project, step.snapshot_id))
        assert snap[f"c{i}"].iloc[5] == 5 * i and len(snap) == 3000
    assert store.raw_path(project).read_bytes().startswith(b"a,b\n0,x\n")
    # The project keeps working after the crash.
    project.cursor = len(project.steps)
    nxt = store.accept_step(
        project,
        "feature",
        "def add_features(df):\n    return df.assign(z=1)",
        "add_features",
        "user",
        sandbox=NotASandbox(tmp_path / "ws2"),
    )
    assert store.open(pid).steps[-1].id == nxt.id


@pytest.mark.parametrize("delay", [0.0, 0.003, 0.011, 0.029])
def test_kill_9_in_process_store_loses_no_accepted_step(tmp_path, delay):
    pid, accepted, _ = _run_and_kill(tmp_path, "inprocess", random.randint(4, 12), delay)
    _check(tmp_path, pid, accepted)


def test_kill_9_with_sandbox_workers(tmp_path):
    pid, accepted, workers = _run_and_kill(tmp_path, "local", 5, random.uniform(0, 0.05))
    _check(tmp_path, pid, accepted)
    # The server's warm workers notice their server is gone and exit (no orphans left running).
    deadline = time.monotonic() + 15
    while workers and time.monotonic() < deadline:
        workers = [
            w
            for w in workers
            if Path(f"/proc/{w}").exists() and "zombie" not in Path(f"/proc/{w}/status").read_text()
        ]
        time.sleep(0.2)
    assert workers == [], f"orphaned sandbox workers: {workers}"


def test_a_sleeping_job_does_not_outlive_its_server(tmp_path):
    """kill -9 of the server while a step sleeps (no CPU, so no CPU limit would fire)."""
    script = tmp_path / "server.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            from pathlib import Path
            sys.path.insert(0, sys.argv[1])
            from core.sandbox import LocalSandbox, SandboxJob
            sb = LocalSandbox(Path(sys.argv[2]))
            sb.warm_up()
            print("WORKERS", " ".join(str(z.proc.pid) for z in sb._all), flush=True)
            code = "import os, time\\nopen('pid', 'w').write(str(os.getpid()))\\ntime.sleep(600)"
            sb.run(SandboxJob(code=code, mode="script"))
            """
        )
    )
    ws = tmp_path / "ws"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(ROOT), str(ws)], stdout=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
        workers = [int(p) for p in line.split()[1:]]
        deadline = time.monotonic() + 30
        while not (ws / "pid").exists():
            assert time.monotonic() < deadline, "the job did not start"
            time.sleep(0.1)
        time.sleep(0.2)
        job_pid = int((ws / "pid").read_text())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def alive(pid: int) -> bool:
        status = Path(f"/proc/{pid}/status")
        try:
            return "zombie" not in status.read_text()
        except OSError:
            return False

    deadline = time.monotonic() + 15
    while any(alive(p) for p in [*workers, job_pid]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in [*workers, job_pid]), "a worker or its job outlived the server"
