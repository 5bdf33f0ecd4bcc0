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

`prepare(input, workspace)` forks the next job's process ahead of its job (the stage page calls
it while the user reads and edits): contained exactly as a job is, it reads that input and waits.
While it waits it rehearses ordinary pandas work on that input (`core.sandbox.rehearse`), so the
job's code does not pay a fresh fork's page faults and first-use set-up. It is still fresh and
single-use, and runs only a job for that input file (same path and inode), workspace and limits;
any other job kills it first and gets a fresh process. A run then waits for the code only, not
the fork and the input read (~40-80 ms of a 50k-row step), and that code runs ~25 ms faster for
the rehearsal (benchmarks/sandbox_overhead.py, prepared with and without it).

A transform's output comes back on the result pipe as Arrow IPC bytes (no file of the job's is
read): checked in the server's memory (`results.read_frame`), then written as Parquet by the
server, never by the job. The server goes on as soon as the whole result record is in (its
length is announced), not when the process has ended: the harness then waits to be killed. Where
the server reads nothing the job could still touch (a transform with `output="table"`, a script)
it freezes the process (SIGSTOP) and returns; the process is killed and reaped a moment later or
as soon as the slot is needed (`_settle`), so its teardown (~10 ms of CPU) does not compete with
the caller's work on the result. Otherwise (a file in the workspace: a transform's `output_path`,
a model file) it kills the process and waits for its end first.

Thread-safe: several Streamlit sessions share one `LocalSandbox`; each job takes a free slot from
the pool, waiting at most `queue_timeout_s`, and holds it at most `max_timeout_s`.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from core.sandbox import policy, results
from core.sandbox.base import SandboxJob, SandboxLimits, SandboxResult
from core.sandbox.pool import (
    MAX_TIMEOUT_S,
    Prepared,
    _killpg,
    _Pipe,
    _signal_name,
    _write_job,
    _Zygote,
)

# Inputs larger than this on disk are read by the job itself: a prepared process holds its input
# in memory while it waits, and the server's memory is limited (Community Cloud: 2.7 GB).
PREPARE_MAX_BYTES = 64 * 1024 * 1024


# How long a finished job's frozen process waits before it is killed and reaped (`_settle`),
# unless a slot is needed sooner: long enough for the caller's work on the result.
SETTLE_DELAY_S = 0.25


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
        rehearse: bool = True,
    ) -> None:
        """`require`: layers a job must have before its code runs (default: the deployment's
        policy, every kernel layer on a shared deployment, none locally). `max_timeout_s` caps
        any job's wall clock, so no step holds a slot longer; a job that waits longer than
        `queue_timeout_s` for a free slot gets a clear "busy" error instead of hanging.
        `rehearse`: a prepared process warms up on its input while it waits (see `prepare`)."""
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
        self.rehearse = rehearse
        self.prepared_used = 0  # jobs that ran in a prepared process (`prepare`)
        self._idle: queue.Queue[_Zygote] = queue.Queue()
        self._all: set[_Zygote] = set()
        self._lock = threading.Lock()
        self._settling: set[threading.Event] = set()  # one per slot in `_settle`
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

    def _capped(self, limits: SandboxLimits) -> SandboxLimits:
        if limits.timeout_s > self.max_timeout_s:
            return limits.model_copy(update={"timeout_s": self.max_timeout_s})
        return limits

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
        limits = self._capped(job.limits if "limits" in job.model_fields_set else self.limits)
        job = job.model_copy(update={"limits": limits, "workspace": ws})
        try:
            z = self._take_idle(self._key(job.input_path, ws, limits))
            if z is None:
                self._hurry()
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
            if z.settling and not z.broken:
                self._settle(z)
            else:
                if z.settling:  # frozen, then the run failed: it goes with its broken zygote
                    _killpg(z.settling_pid)
                z.settling, z.settling_pid = False, 0
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
        prep, z.prepared = z.prepared, None
        # A prepared process (one job, contained, its input read) serves only the job it was
        # prepared for, and only while it is alive (no "done" from the zygote yet).
        if prep is not None and (prep.key != self._key(job.input_path, ws, limits) or not z.events.empty()):
            self._discard(z, prep)
            prep = None
        if prep is None and not z.broken:
            prep = self._start(z, limits)
        if prep is None:
            return SandboxResult(
                ok=False, error_kind="crash", error="Crash: the sandbox worker stopped answering"
            )
        if prep.key:
            self.prepared_used += 1
        threading.Thread(target=_write_job, args=(prep.job_w, json.dumps(msg).encode()), daemon=True).start()
        pid, result = prep.pid, prep.result
        t_sent = time.perf_counter()
        # The whole result record (or the pipe's end: a crash closes it) comes before the
        # process is torn down: the harness then waits to be killed (zygote._child).
        result.complete.wait(limits.timeout_s)
        layers = payload = frame = None
        if result.complete.is_set():
            layers, payload, frame = results.split_record(result.data())
        # Go on without waiting for the process to be reaped when nothing it could still touch
        # is read: a complete result in the server's memory, and no file of the job's (a
        # model's file or a transform written to the workspace wait for its end).
        complete = isinstance(payload, dict) and not result.overflow
        early = complete and (job.mode == "script" or (job.mode == "transform" and job.output == "table"))
        timed_out = False
        done: dict[str, Any] | None = None
        if early:
            # Frozen now (nothing it does runs on), killed a moment later (`_settle`): tearing a
            # step's process down takes ~10 ms of CPU, which then does not compete with the
            # caller's own work on the result (the store's diff and preview write).
            _killpg(pid, signal.SIGSTOP)
            z.settling, z.settling_pid = True, pid
        else:
            wait_s = max(0.0, limits.timeout_s - (time.perf_counter() - t_sent))
            if complete or result.overflow:  # the result is in (or refused): the harness waits
                _killpg(pid)  # to be killed, so its end comes now
                wait_s = 15.0
            try:
                done = z.next_event(wait_s)
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
            if layers is None and not result.thread.is_alive():
                layers, payload, frame = results.split_record(result.data())
        isolation = layers or {}
        if timed_out:
            return SandboxResult(
                ok=False,
                error_kind="timeout",
                error=f"TimeoutError: the step ran over {limits.timeout_s:g} s and was stopped",
                isolation=isolation,
            )
        if not early and (done is None or done.get("event") != "done"):
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
                error=f"Refused: the step sent back over {result.cap // 2**20} MB of results",
                isolation=isolation,
            )
        missing = policy.missing_layers(isolation, self.require)
        if missing:  # the child refuses too; this holds even if it had not
            return SandboxResult(
                ok=False, error_kind="refused", error=policy.refusal_message(missing), isolation=isolation
            )
        if isinstance(payload, dict):
            res = results.validate(payload, job, ws, isolation, frame)
            try:  # output="file": the job process is gone ("done" came): nothing of it touches the file
                results.write_output(res, job, ws)
            except (results.OutputRefused, OSError) as e:
                return SandboxResult(
                    ok=False, error_kind="refused", error=f"Refused: {e}", isolation=isolation
                )
            return res
        res = self._from_status((done or {}).get("status") or {}, limits)
        res.isolation = isolation
        return res

    def _settle(self, z: _Zygote) -> None:
        """After a run that did not wait for its job process to end: kill that frozen process
        after `SETTLE_DELAY_S` (at once when another run or `prepare` needs a slot, see
        `_hurry`), wait for the zygote's "done", then give the slot back."""
        hurry = threading.Event()
        with self._lock:
            self._settling.add(hurry)

        def work() -> None:
            hurry.wait(SETTLE_DELAY_S)
            _killpg(z.settling_pid)
            z.expect("done", 15)  # marks it broken when the zygote does not answer
            with self._lock:
                self._settling.discard(hurry)
            z.settling, z.settling_pid = False, 0
            if self._closed:
                self._retire(z)
            else:
                self._idle.put(self._replace(z) if z.broken else z)

        threading.Thread(target=work, name="sandbox-settle", daemon=True).start()

    def settle(self, timeout: float = 15.0) -> bool:
        """Kill and reap every finished job's frozen process now and wait until its slot is
        back (benchmarks and tests: a process is then not torn down during the next thing
        timed). True when none is left."""
        self._hurry()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._settling:
                    return True
            time.sleep(0.001)
        return False

    def _hurry(self) -> bool:
        """Have every settling slot come back now; True if there was one."""
        with self._lock:
            events = list(self._settling)
        for e in events:
            e.set()
        return bool(events)

    # ------------------------------------------------------------------ prepared job processes
    def _key(self, input_path: Path | None, ws: Path, limits: SandboxLimits) -> tuple[Any, ...] | None:
        """What a prepared process must match: the input file (path and identity: a replaced
        file is another input), the workspace, the limits and the layers policy."""
        if input_path is None:
            return None
        try:
            st = os.stat(input_path)
        except OSError:
            return None
        return (
            os.path.realpath(input_path),
            st.st_dev,
            st.st_ino,
            st.st_size,
            st.st_mtime_ns,
            str(ws),
            limits.model_dump_json(),
            self.require,
            self.disable,
        )

    def prepare(
        self, input_path: Path, workspace: Path | None = None, limits: SandboxLimits | None = None
    ) -> bool:
        """Fork the next job's process now, for a job on `input_path` in `workspace`: it sets up
        the same containment a job gets, reads the input and waits for its code, so a run that
        follows waits for the code only (the app calls this while a page is shown). Never
        blocks on a busy slot; True when a process for exactly this input is ready. It runs one
        job, for that input, workspace and limits; any other job kills it first."""
        if self._closed:
            return False
        ws = Path(os.path.realpath(workspace)) if workspace else self.workspace
        limits = self._capped(limits or self.limits)
        key = self._key(input_path, ws, limits)
        if key is None or key[3] > PREPARE_MAX_BYTES:
            return False
        with self._idle.mutex:
            if any(self._ready(z, key) for z in self._idle.queue):
                return True
        z = self._take_idle(key, for_prepare=True)
        if z is None and self._hurry():
            try:  # a slot whose last job is being reaped (`_settle`): back within milliseconds
                z = self._idle.get(timeout=1.0)
            except queue.Empty:
                z = None
        if z is None:  # every slot is running a job: that next job reads its input itself
            return False
        try:
            if z.prepared is not None:
                prep, z.prepared = z.prepared, None
                self._discard(z, prep)
            if z.info is None and not z.events.empty():
                z.wait_ready(1.0)  # its "ready" line has arrived: take it
            if z.broken or z.proc.poll() is not None or z.info is None:
                return False  # not started yet (or gone): the job starts its own process
            (ws / "tmp").mkdir(parents=True, exist_ok=True)
            line = {
                "prepare": {
                    "input_path": str(input_path),
                    "workspace": str(ws),
                    "limits": limits.model_dump(mode="json"),
                    "disable": list(self.disable),
                    "rehearse": self.rehearse,
                }
            }
            z.prepared = self._start(z, limits, json.dumps(line).encode() + b"\n", key)
            return z.prepared is not None
        finally:
            self._idle.put(self._replace(z) if z.broken and not self._closed else z)

    @staticmethod
    def _ready(z: _Zygote, key: tuple[Any, ...] | None) -> bool:
        """`z` holds a process prepared for `key` that still waits (no "done" from its zygote)."""
        return key is not None and z.prepared is not None and z.prepared.key == key and z.events.empty()

    def _take_idle(self, key: tuple[Any, ...] | None, for_prepare: bool = False) -> _Zygote | None:
        """An idle slot, taken out of the pool without waiting. For a job: the slot prepared for
        its key, else None. To prepare: preferably a slot that holds no prepared process."""
        with self._idle.mutex:  # queue.Queue's own lock: a get() by another thread waits for it
            idle = self._idle.queue
            z = next((z for z in idle if self._ready(z, key)), None)
            if for_prepare and idle:
                z = next((z for z in idle if z.prepared is None), idle[0])
            if z is not None:
                idle.remove(z)
            return z

    def _start(
        self, z: _Zygote, limits: SandboxLimits, first: bytes = b"", key: tuple[Any, ...] = ()
    ) -> Prepared | None:
        """Have the zygote fork a job process; `first`: the prepare line it reads before its job.
        None (and the zygote marked broken) when the zygote does not answer."""
        job_r, job_w = os.pipe()
        # The result and, for a transform, its output's bytes (as big as the step may write).
        result = _Pipe(results.MAX_RESULT_BYTES + results.output_cap_bytes(limits))
        try:
            z.send_job(job_r, result.write_fd)
        except OSError:
            os.close(job_w)
            os.close(result.read_fd)
            z.broken = True
            return None
        finally:
            os.close(job_r)  # the zygote and the child have their own copies now
            os.close(result.write_fd)
        result.thread.start()
        prep = Prepared(key, 0, job_w, result)
        if first:
            _write_job(os.dup(job_w), first)  # a few hundred bytes: the pipe takes them at once
        ev = z.expect("started", 30)
        if ev is None:
            prep.close()
            return None
        prep.pid = int(ev["pid"])
        return prep

    def _discard(self, z: _Zygote, prep: Prepared) -> None:
        """Kill a prepared process that will not get its job, and wait until the zygote is free."""
        _killpg(prep.pid)
        prep.close()
        z.expect("done", 15)  # marks the zygote broken when it does not come
        prep.result.thread.join(5)

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
        self._hurry()
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
