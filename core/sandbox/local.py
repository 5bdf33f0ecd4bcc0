"""LocalSandbox: a pool of warm worker processes that run each job in a throwaway fork.

Design (measured, see benchmarks/sandbox_overhead.py): each pool slot is a "zygote" interpreter
started with subprocess (never a fork of the Streamlit server), with pandas, numpy, pyarrow,
scikit-learn and plotly imported once. Every job runs in a fresh child forked from that zygote,
so no state survives from one step to the next (monkey-patched pandas, threads, globals), while a
job still starts in milliseconds instead of the seconds a cold interpreter needs. A zygote that
dies or stops answering is killed and replaced; a job that hangs, crashes or runs out of memory
is killed (with its whole process group) and reported as a typed `SandboxResult`.

Thread-safe: several Streamlit sessions share one `LocalSandbox`; each job takes a free slot
from the pool (or waits for one).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from core.sandbox.base import SandboxJob, SandboxLimits, SandboxResult

WORKER_PY = Path(__file__).resolve().with_name("worker.py")
PROJECT_ROOT = WORKER_PY.parent.parent.parent
# Variables passed to workers; everything else (API keys, tokens, cloud credentials) is dropped.
SAFE_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
_SECRETISH = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH")


def sandbox_env(workspace: Path) -> dict[str, str]:
    """A minimal environment: safe locale/path variables, HOME and TMPDIR inside the workspace."""
    env = {k: v for k, v in os.environ.items() if k in SAFE_ENV and not any(s in k for s in _SECRETISH)}
    env.setdefault("PATH", "/usr/bin:/bin")
    threads = str(max(1, min(4, os.cpu_count() or 1)))
    env.update(
        HOME=str(workspace),
        TMPDIR=str(workspace / "tmp"),
        OPENBLAS_NUM_THREADS="1",  # BLAS threads started before fork() are not safe to reuse
        MKL_NUM_THREADS="1",
        # One OpenMP thread: scikit-learn's HistGradientBoosting otherwise opens a thread pool
        # whose semaphores need /dev/shm, which the jail refuses.
        OMP_NUM_THREADS="1",
        NUMEXPR_MAX_THREADS=threads,
        MPLBACKEND="Agg",
        MALLOC_ARENA_MAX="2",
    )
    return env


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


class _Zygote:
    """One warm worker process and the thread that reads its JSON lines."""

    def __init__(self, workspace: Path, python: str) -> None:
        (workspace / "tmp").mkdir(parents=True, exist_ok=True)
        self.log_path = workspace / "tmp" / "sandbox-worker.log"
        self._log = open(self.log_path, "ab")  # closed in kill()
        self.proc = subprocess.Popen(
            [python, "-I", "-s", "-B", str(WORKER_PY), "--root", str(PROJECT_ROOT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,  # import errors and the like, for the "did not start" message
            cwd=str(workspace),
            env=sandbox_env(workspace),
            start_new_session=True,  # its own process group: killed as a whole
            close_fds=True,
        )
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.info: dict[str, Any] | None = None
        self.broken = False
        self._reader = threading.Thread(target=self._read, name="sandbox-zygote-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                self.events.put(json.loads(raw))
            except ValueError:
                continue
        self.events.put(None)  # EOF: the zygote is gone

    def next_event(self, timeout: float) -> dict[str, Any] | None:
        """The next event; None if the zygote exited. Raises queue.Empty on timeout."""
        ev = self.events.get(timeout=timeout)
        if ev is None:
            self.broken = True
        return ev

    def wait_ready(self, timeout: float) -> bool:
        if self.info is not None:
            return True
        try:
            ev = self.next_event(timeout)
        except queue.Empty:
            self.broken = True
            return False
        if ev is None or ev.get("event") != "ready":
            self.broken = True
            return False
        self.info = ev
        return True

    def send(self, obj: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        self.proc.stdin.flush()

    def kill(self) -> None:
        self.broken = True
        _killpg(self.proc.pid)
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for f in (self.proc.stdin, self.proc.stdout, self._log):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass


def _inside(path: Path | None, root: Path) -> bool:
    if path is None:
        return True
    p = Path(os.path.realpath(path))
    return p == root or root in p.parents


class LocalSandbox:
    """Warm, contained worker pool implementing the `Sandbox` protocol."""

    def __init__(
        self,
        workspace: Path,
        pool_size: int = 1,
        limits: SandboxLimits | None = None,
        python: str | None = None,
        start_timeout_s: float = 180.0,
    ) -> None:
        self.workspace = Path(os.path.realpath(workspace))
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.limits = limits or SandboxLimits()
        self.python = python or sys.executable
        self.start_timeout_s = start_timeout_s
        self.pool_size = max(1, pool_size)
        self._idle: queue.Queue[_Zygote] = queue.Queue()
        self._all: set[_Zygote] = set()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(self.pool_size):
            self._idle.put(self._spawn())
        # Workers must not outlive the server, even when nobody calls close() (finalize also
        # runs at interpreter exit); after a kill -9 they exit on their own (stdin EOF).
        self._finalizer = weakref.finalize(self, LocalSandbox._kill_all, self._all)

    # ------------------------------------------------------------------ pool
    def _spawn(self) -> _Zygote:
        z = _Zygote(self.workspace, self.python)
        with self._lock:
            self._all.add(z)
        return z

    def _retire(self, z: _Zygote) -> None:
        z.kill()
        with self._lock:
            self._all.discard(z)

    @staticmethod
    def _kill_all(zygotes: set[_Zygote]) -> None:
        for z in list(zygotes):
            z.kill()
        zygotes.clear()

    def warm_up(self, timeout: float | None = None) -> bool:
        """Block until every idle worker is ready (e.g. before timing). False if one failed."""
        zs = []
        ok = True
        while True:
            try:
                zs.append(self._idle.get_nowait())
            except queue.Empty:
                break
        for z in zs:
            ok = z.wait_ready(timeout or self.start_timeout_s) and ok
            self._idle.put(z if not z.broken else self._replace(z))
        return ok

    def _replace(self, z: _Zygote) -> _Zygote:
        self._retire(z)
        return self._spawn()

    @property
    def isolation(self) -> dict[str, Any]:
        """Containment layers seen on the last job (empty before the first job)."""
        return dict(self._last_isolation) if hasattr(self, "_last_isolation") else {}

    # ------------------------------------------------------------------ jobs
    def run(self, job: SandboxJob) -> SandboxResult:
        """Run one job; always returns a SandboxResult, never raises for anything the code does."""
        t0 = time.perf_counter()
        if self._closed:
            return SandboxResult(ok=False, error="the sandbox is closed", error_kind="crash")
        ws = Path(os.path.realpath(job.workspace)) if job.workspace else self.workspace
        # The input may be anywhere (jobs are built by trusted code; the step gets read-only
        # access to exactly that file); outputs must land in the workspace.
        if not _inside(job.output_path, ws):
            return SandboxResult(
                ok=False,
                error_kind="refused",
                error=f"Refused: {job.output_path} is outside the workspace {ws}",
            )
        if job.input_path is not None and not Path(job.input_path).is_file():
            return SandboxResult(
                ok=False, error_kind="contract", error=f"input data {job.input_path} is missing"
            )
        limits = job.limits if "limits" in job.model_fields_set else self.limits
        job = job.model_copy(update={"limits": limits, "workspace": ws})
        z = self._idle.get()
        if z.broken or z.proc.poll() is not None:  # died while idle: the job has not started, so
            z = self._replace(z)  # replacing it is invisible to the caller
        try:
            res = self._run_on(z, job, ws, limits)
        except Exception as e:  # noqa: BLE001 - a broken pipe etc. is the worker's fault, not the caller's
            z.broken = True
            res = SandboxResult(
                ok=False,
                error_kind="crash",
                error=f"Crash: the sandbox worker failed ({type(e).__name__}: {e})",
            )
        finally:
            self._idle.put(self._replace(z) if z.broken or self._closed else z)
        res.duration_s = time.perf_counter() - t0
        return res

    def _run_on(self, z: _Zygote, job: SandboxJob, ws: Path, limits: SandboxLimits) -> SandboxResult:
        if not z.wait_ready(self.start_timeout_s):
            return SandboxResult(
                ok=False,
                error_kind="crash",
                error=f"Crash: the sandbox worker did not start (see {z.log_path})",
            )
        (ws / "tmp").mkdir(parents=True, exist_ok=True)
        z.send({"job": job.model_dump(mode="json"), "workspace": str(ws)})
        try:
            ev = z.next_event(30)
        except queue.Empty:
            ev = None
        if ev is None or ev.get("event") != "started":
            z.broken = True
            return SandboxResult(
                ok=False, error_kind="crash", error="Crash: the sandbox worker stopped answering"
            )
        pid = int(ev["pid"])
        timed_out = False
        try:
            done = z.next_event(limits.timeout_s)
        except queue.Empty:
            timed_out = True
            _killpg(pid)
            try:
                done = z.next_event(15)
            except queue.Empty:
                done = None
        _killpg(pid)  # anything the job left behind in its group goes too
        if done is None:
            z.broken = True
        if timed_out:
            return SandboxResult(
                ok=False,
                error_kind="timeout",
                error=f"TimeoutError: the step ran over {limits.timeout_s:g} s and was stopped",
            )
        if done is None or done.get("event") != "done":
            return SandboxResult(
                ok=False, error_kind="crash", error="Crash: the sandbox worker died during the step"
            )
        return self._to_result(done, limits, ws)

    def _to_result(self, done: dict[str, Any], limits: SandboxLimits, ws: Path) -> SandboxResult:
        payload, status = done.get("payload"), done.get("status") or {}
        if not isinstance(payload, dict):
            sig = status.get("signal")
            if sig == signal.SIGXCPU:
                return SandboxResult(
                    ok=False,
                    error_kind="timeout",
                    error=f"TimeoutError: the step used more than {limits.cpu_s} s of CPU time",
                )
            if sig == signal.SIGKILL:  # not ours (a timeout is handled above): the OOM killer or itself
                return SandboxResult(
                    ok=False,
                    error_kind="crash",
                    error="Crash: the step's process was killed (SIGKILL), e.g. by the system "
                    "when the machine ran out of memory",
                )
            if sig is not None:
                return SandboxResult(
                    ok=False,
                    error_kind="crash",
                    error=f"Crash: the step's process died ({_signal_name(sig)}), e.g. a "
                    "segfault in native code or a recursion too deep",
                )
            return SandboxResult(
                ok=False,
                error_kind="crash",
                error=f"Crash: the step's process exited (code {status.get('exit_code')}) without a result",
            )
        fields = {k: v for k, v in payload.items() if k in SandboxResult.model_fields}
        try:
            res = SandboxResult.model_validate(fields)
        except Exception:  # noqa: BLE001 - a forged or mangled payload is treated as a crash
            return SandboxResult(
                ok=False, error_kind="crash", error="Crash: the step returned an unreadable result"
            )
        if res.output_path is not None and not _inside(res.output_path, ws):
            return SandboxResult(
                ok=False, error_kind="refused", error="Refused: output outside the workspace"
            )
        self._last_isolation = res.isolation
        return res

    def close(self) -> None:
        self._closed = True
        with self._lock:
            zs = list(self._all)
        for z in zs:
            try:
                z.send({"op": "exit"})
            except OSError:
                pass
            self._retire(z)

    def __enter__(self) -> LocalSandbox:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
