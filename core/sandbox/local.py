"""LocalSandbox: a pool of warm zygote processes that run each job in a throwaway fork.

Design (measured, see benchmarks/sandbox_overhead.py): each pool slot is a "zygote" interpreter
started with subprocess (never a fork of the Streamlit server), with pandas, numpy, pyarrow,
scikit-learn and plotly imported once (core/sandbox/zygote.py). Every job runs in a fresh child
forked from that zygote, so nothing a step does (monkey-patched pandas, threads, globals, escaped
grandchildren) reaches the next one, while a job still starts in milliseconds.

The zygote never sees a job or its result: the server hands it two pipe ends per job (SCM_RIGHTS),
the child reads the job from one and writes its result to the other, straight to the server. So
no fork inherits anything of an earlier job, whichever project it came from (issue 16). The
result is untrusted and checked by `core.sandbox.results`; the layers the job ran under come from
a record the child writes before job code runs; on a shared deployment (`policy.py`) a job
without every kernel layer is refused before its code runs. A zygote that dies or stops
answering is replaced; a job that hangs, crashes or runs out of memory is killed (with its whole
process group) and reported as a typed `SandboxResult`.

Thread-safe: several Streamlit sessions share one `LocalSandbox`; each job takes a free slot from
the pool, waiting at most `queue_timeout_s`, and holds it at most `max_timeout_s`.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from core.sandbox import policy, results
from core.sandbox.base import SandboxJob, SandboxLimits, SandboxResult

WORKER_PY = Path(__file__).resolve().with_name("zygote.py")
PROJECT_ROOT = WORKER_PY.parent.parent.parent
# Variables passed to workers; everything else (API keys, tokens, cloud credentials) is dropped.
SAFE_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
MAX_TIMEOUT_S = 600.0  # no job holds a slot longer, whatever limits it asks for
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
    """One warm zygote process, its control socket and the thread that reads its JSON lines."""

    def __init__(self, workspace: Path, python: str) -> None:
        (workspace / "tmp").mkdir(parents=True, exist_ok=True)
        self.log_path = workspace / "tmp" / "sandbox-worker.log"
        self._log = open(self.log_path, "ab")  # closed in kill()
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.proc = subprocess.Popen(
                [
                    python,
                    "-I",
                    "-s",
                    "-B",
                    str(WORKER_PY),
                    "--root",
                    str(PROJECT_ROOT),
                    "--sock",
                    str(theirs.fileno()),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._log,  # import errors and the like, for the "did not start" message
                cwd=str(workspace),
                env=sandbox_env(workspace),
                start_new_session=True,  # its own process group: killed as a whole
                close_fds=True,
                pass_fds=(theirs.fileno(),),
            )
        finally:
            theirs.close()
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.info: dict[str, Any] | None = None
        self.broken = False
        self._reader = threading.Thread(target=self._read, name="sandbox-zygote-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            with self.sock.makefile("rb") as fh:
                for raw in fh:
                    try:
                        self.events.put(json.loads(raw))
                    except ValueError:
                        continue
        except OSError:
            pass
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

    def send_job(self, job_read: int, result_write: int) -> None:
        """Hand the zygote the two pipe ends for one job; it never sees what flows through them."""
        socket.send_fds(self.sock, [b"J"], [job_read, result_write])

    def kill(self) -> None:
        self.broken = True
        _killpg(self.proc.pid)
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for f in (self.sock, self._log):
            try:
                f.close()
            except OSError:
                pass


class _Pipe:
    """A pipe the parent reads in a thread, keeping at most `cap` bytes (the rest is drained)."""

    def __init__(self, cap: int) -> None:
        self.read_fd, self.write_fd = os.pipe()
        self.cap = cap
        self.parts: list[bytes] = []
        self.size = 0
        self.thread = threading.Thread(target=self._drain, name="sandbox-result-reader", daemon=True)

    def _drain(self) -> None:
        try:
            while True:
                b = os.read(self.read_fd, 1 << 20)
                if not b:
                    break
                self.size += len(b)
                if self.size <= self.cap:
                    self.parts.append(b)
        finally:
            os.close(self.read_fd)

    @property
    def overflow(self) -> bool:
        return self.size > self.cap

    def data(self) -> bytes:
        return b"".join(self.parts)


def _write_job(fd: int, data: bytes) -> None:
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        pass  # the job died before reading it: reported from its exit status
    finally:
        os.close(fd)


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
        require: tuple[str, ...] | None = None,
        max_timeout_s: float = MAX_TIMEOUT_S,
        queue_timeout_s: float | None = None,
    ) -> None:
        """`require`: layers a job must have before its code runs (default: the deployment's
        policy, every kernel layer on a shared deployment, none locally). `max_timeout_s` caps
        any job's wall clock, so no step holds a slot longer; a job that waits longer than
        `queue_timeout_s` for a free slot gets a clear "busy" error instead of hanging."""
        self.workspace = Path(os.path.realpath(workspace))
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.limits = limits or SandboxLimits()
        self.require = policy.required_layers() if require is None else tuple(require)
        self.disable = policy.disabled_layers()
        self.max_timeout_s = max_timeout_s
        self.queue_timeout_s = queue_timeout_s if queue_timeout_s is not None else max_timeout_s + 60
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
        if job.output_path is not None:
            # Whatever lies there now is not this job's output: a job that reports success
            # without writing must not pass an older file (or a planted link) off as its own.
            try:
                Path(job.output_path).unlink(missing_ok=True)
            except OSError as e:
                return SandboxResult(
                    ok=False, error_kind="refused", error=f"Refused: output path unusable ({e})"
                )
        limits = job.limits if "limits" in job.model_fields_set else self.limits
        if limits.timeout_s > self.max_timeout_s:
            limits = limits.model_copy(update={"timeout_s": self.max_timeout_s})
        job = job.model_copy(update={"limits": limits, "workspace": ws})
        try:
            z = self._idle.get(timeout=self.queue_timeout_s)
        except queue.Empty:
            return SandboxResult(
                ok=False,
                error_kind="timeout",
                error=f"Busy: every sandbox slot stayed taken for {self.queue_timeout_s:g} s; try again",
            )
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
        if res.isolation:
            self._last_isolation = res.isolation
        return res

    def _run_on(self, z: _Zygote, job: SandboxJob, ws: Path, limits: SandboxLimits) -> SandboxResult:
        if not z.wait_ready(self.start_timeout_s):
            return SandboxResult(
                ok=False,
                error_kind="crash",
                error=f"Crash: the sandbox worker did not start (see {z.log_path})",
            )
        (ws / "tmp").mkdir(parents=True, exist_ok=True)
        msg = {
            "job": job.model_dump(mode="json"),
            "workspace": str(ws),
            "require": list(self.require),
            "disable": list(self.disable),
        }
        job_r, job_w = os.pipe()
        result = _Pipe(results.MAX_RESULT_BYTES)
        try:
            z.send_job(job_r, result.write_fd)
        except OSError:
            os.close(job_w)
            os.close(result.read_fd)
            raise
        finally:
            os.close(job_r)  # the zygote and the child have their own copies now
            os.close(result.write_fd)
        result.thread.start()
        threading.Thread(target=_write_job, args=(job_w, json.dumps(msg).encode()), daemon=True).start()
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
        _killpg(pid)  # anything the job left behind in its group goes too (and its pipe ends)
        result.thread.join(10)
        if done is None:
            z.broken = True
        layers, payload = (
            results.split_record(result.data()) if not result.thread.is_alive() else (None, None)
        )
        isolation = layers or {}
        if timed_out:
            return SandboxResult(
                ok=False,
                error_kind="timeout",
                error=f"TimeoutError: the step ran over {limits.timeout_s:g} s and was stopped",
                isolation=isolation,
            )
        if done is None or done.get("event") != "done":
            return SandboxResult(
                ok=False,
                error_kind="crash",
                error="Crash: the sandbox worker died during the step",
                isolation=isolation,
            )
        if result.overflow:
            return SandboxResult(
                ok=False,
                error_kind="refused",
                error=f"Refused: the step sent back over {results.MAX_RESULT_BYTES // 2**20} MB of results",
                isolation=isolation,
            )
        missing = policy.missing_layers(isolation, self.require)
        if missing:  # the child refuses too; this holds even if it had not
            return SandboxResult(
                ok=False, error_kind="refused", error=policy.refusal_message(missing), isolation=isolation
            )
        if isinstance(payload, dict):
            return results.validate(payload, job, ws, isolation)
        res = self._from_status(done.get("status") or {}, limits)
        res.isolation = isolation
        return res

    def _from_status(self, status: dict[str, Any], limits: SandboxLimits) -> SandboxResult:
        """The result for a job that sent no readable payload, from how its process ended."""
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
        if status.get("exit_code") == 0:
            return SandboxResult(
                ok=False, error_kind="crash", error="Crash: the step returned an unreadable result"
            )
        return SandboxResult(
            ok=False,
            error_kind="crash",
            error=f"Crash: the step's process exited (code {status.get('exit_code')}) without a result",
        )

    def close(self) -> None:
        self._closed = True
        with self._lock:
            zs = list(self._all)
        for z in zs:
            try:
                z.sock.send(b"X")
            except OSError:
                pass
            self._retire(z)

    def __enter__(self) -> LocalSandbox:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
