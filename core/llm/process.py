"""The model in its own supervised process: a native crash, an out-of-memory kill or a hang costs
one request, never the server.

llama.cpp and torch run native code; a bad instruction, a segfault or the kernel's OOM killer ends
whatever process holds them. So the real backends run in one child process per loaded model
(`python -m core.llm.worker`), shared by every session of the server through the registry's guard.
The app talks to it over a socket pair with `multiprocessing.connection` (pickled tuples); one
reader thread routes each reply to the request waiting for it.

When the child dies, every waiting request gets `BackendError("the model process stopped: killed
by signal SIGSEGV …; restarted — try again")` and a fresh child starts at once; the next request
waits for it to finish loading. A request that hears nothing for `hang_timeout_s` (no token, no
answer) kills the child as hung, the same way. The child has core dumps switched off.

Messages, parent → child: ("load", 0, target, settings_json, fault), ("stream" | "complete",
id, prompt, params), ("choose", id, prompt, options), ("count", id, text), ("render_chat", id,
messages), ("cancel", id), ("close", 0). Child → parent: ("ready", 0, info, can_stream),
("piece", id, text), ("done", id), ("result", id, value), ("error", id, message).
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import weakref
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from core.llm.base import BackendError, BackendInfo, GenerationParams, check_options
from core.llm.paths import ROOT, cache_dir

log = logging.getLogger(__name__)

DEFAULT_TARGET = "core.llm.registry:build_local_json"  # what the child calls with the settings
# Diagnostics: "SIGSEGV@2" makes the *first* model process crash at the 2nd streamed piece
# ("SIGKILL@1", "hang@1" likewise; "@0": while loading); restarted processes run clean.
# Used by tests and `doctor`.
FAULT_ENV = "GEMMA_WIZARD_FAULT"
LOAD_TIMEOUT_S = 900.0  # the first start may assemble the model or convert it for transformers
_LOG_LIMIT = 1 << 20  # the child's stderr log is started afresh beyond this size

_HINTS = {
    "SIGKILL": " (out of memory, or killed from outside)",
    "SIGSEGV": " (a crash in the native model code)",
    "SIGBUS": " (a crash in the native model code)",
    "SIGILL": " (an instruction this CPU lacks: run `python -m core doctor`)",
    "SIGFPE": " (a crash in the native model code)",
    "SIGABRT": " (the native model code aborted)",
}


def describe_exit(returncode: int | None) -> str:
    """How a child process ended, in words ("killed by signal SIGSEGV (…)", "exited with code 1")."""
    if returncode is None:
        return "stopped answering"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"{-returncode}"
        return f"killed by signal {name}{_HINTS.get(name, '')}"
    return f"exited with code {returncode}"


def omp_wait_env(env: dict[str, str]) -> dict[str, str]:
    """How the model process's OpenMP threads wait for each other (prompt evaluation runs on
    every core). llama.cpp's threads spin while they wait; when the cores are shared (a sandbox
    job, another session, a Cloud neighbour) a spinning thread waits for a descheduled one at
    every barrier. Measured here (2 cores, 28- and 662-token prompts, time to first token):
    libgomp's default spin 0.094 s / 1.72 s idle but 2.3 s / 8.4 s with one core busy; passive
    waiting 0.144 s / 1.74 s idle, 0.166 s / 3.24 s busy; a short spin (GOMP_SPINCOUNT=1000,
    what libgomp itself uses when threads outnumber cores) 0.096 s / 1.70 s idle and
    0.177 s / 3.20 s busy: the idle speed of spinning and the robustness of sleeping.
    PASSIVE stays for other OpenMP runtimes (libgomp lets GOMP_SPINCOUNT override it).
    Either variable set by the operator wins: then nothing is changed."""
    if "OMP_WAIT_POLICY" in env or "GOMP_SPINCOUNT" in env:
        return {}
    return {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "1000"}


def log_path() -> Path:
    """Where model processes write stderr (llama.cpp messages, a Python traceback on a crash)."""
    path = cache_dir() / "logs" / "model-process.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


class _Child:
    """One worker process and the thread that reads its replies."""

    def __init__(self, target: str, settings_json: str, fault: str | None) -> None:
        ours, theirs = socket.socketpair()
        self.conn = Connection(ours.detach())
        env = dict(os.environ)
        env.pop(FAULT_ENV, None)  # the fault travels in the load message, to this child only
        env.update(omp_wait_env(env))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        logfile = log_path()
        mode = "wb" if logfile.exists() and logfile.stat().st_size > _LOG_LIMIT else "ab"
        try:
            with logfile.open(mode) as err:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "core.llm.worker", str(theirs.fileno())],
                    pass_fds=(theirs.fileno(),),
                    stdin=subprocess.DEVNULL,
                    stdout=err,
                    stderr=err,
                    cwd=str(ROOT),
                    env=env,
                )
        except OSError as e:
            self.conn.close()
            raise BackendError(f"Could not start the model process: {e}") from e
        finally:
            theirs.close()
        self.pid = self.proc.pid
        self._lock = threading.Lock()  # waiters + sending
        self._waiters: dict[int, queue.SimpleQueue[tuple[Any, ...]]] = {}
        self.exit_reason: str | None = None  # set once the process is gone
        self.killed_for: str | None = None  # why we killed it (a hang), reported instead of SIGKILL
        self.ready: bool | None = None  # None while loading; False when loading failed
        self.ready_queue = self.register(0)
        self.send(("load", 0, target, settings_json, fault))
        self._reader = threading.Thread(target=self._read, name=f"model-process-{self.pid}", daemon=True)
        self._reader.start()

    # ------------------------------------------------------------------ plumbing
    def register(self, rid: int) -> queue.SimpleQueue[tuple[Any, ...]]:
        q: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        with self._lock:
            if self.exit_reason is not None:
                q.put(("died", rid, self.exit_reason))
            self._waiters[rid] = q
        return q

    def unregister(self, rid: int) -> None:
        with self._lock:
            self._waiters.pop(rid, None)

    def send(self, msg: tuple[Any, ...]) -> None:
        """Send, or do nothing if the child is gone: the reader reports its death to every waiter."""
        with self._lock:
            if self.exit_reason is not None:
                return
            try:
                self.conn.send(msg)
            except OSError:
                pass

    def wait(self, q: queue.SimpleQueue[tuple[Any, ...]], timeout: float) -> tuple[Any, ...]:
        try:
            return q.get(timeout=timeout)
        except queue.Empty:
            return ("timeout", -1, timeout)

    def _read(self) -> None:
        try:
            while True:
                msg = self.conn.recv()
                with self._lock:
                    q = self._waiters.get(msg[1])
                if q is not None:
                    q.put(msg)
        except (EOFError, OSError):
            pass
        except Exception:  # noqa: BLE001 - a garbled reply: this child cannot be trusted any more
            log.exception("model process %s sent an unreadable reply", self.pid)
            self.kill("it sent an unreadable reply")
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # it closed the socket but lives on: finish it
            self.kill(self.killed_for or "it closed its connection")
            rc = self.proc.wait()
        with self._lock:
            self.exit_reason = self.killed_for or describe_exit(rc)
            waiters = list(self._waiters.items())
        self.conn.close()
        for rid, q in waiters:
            q.put(("died", rid, self.exit_reason))

    def kill(self, reason: str | None = None) -> None:
        if reason and self.killed_for is None:
            self.killed_for = reason
        try:
            self.proc.kill()
        except (ProcessLookupError, OSError):
            pass

    def close(self, timeout: float = 5.0) -> None:
        self.send(("close", 0))
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill("closed")
            self.proc.wait()


def _shutdown(holder: list[_Child]) -> None:
    # Runs when the backend is garbage-collected or at interpreter exit: no orphan model processes.
    for child in holder:
        child.kill("closed")


class ProcessBackend:
    """A backend that lives in a supervised child process; same protocol as the one inside it."""

    concurrent = False  # one child generates one answer at a time; the guard queues callers

    def __init__(
        self,
        settings_json: str,
        *,
        target: str = DEFAULT_TARGET,
        hang_timeout_s: float = 300.0,
        load_timeout_s: float = LOAD_TIMEOUT_S,
        fault: str | None = None,
    ) -> None:
        self._target = target
        self._settings_json = settings_json
        self.hang_timeout_s = hang_timeout_s
        self.load_timeout_s = load_timeout_s
        self.restarts = 0
        self._closed = False
        self._state = threading.Lock()  # the current child; restarts
        self._generation = threading.Lock()  # streams/choices go one at a time
        self._ids = itertools.count(1)
        self._child = _Child(target, settings_json, fault if fault is not None else os.environ.get(FAULT_ENV))
        self._holder = [self._child]
        self._finalizer = weakref.finalize(self, _shutdown, self._holder)
        self.can_stream = True
        self.info = BackendInfo(name="(loading)", kind="process")
        with self._state:
            self._await_ready(self._child, first=True)

    # ------------------------------------------------------------------ lifecycle
    @property
    def pid(self) -> int:
        """The current model process (changes after a restart)."""
        return self._child.pid

    def _await_ready(self, child: _Child, first: bool) -> None:
        msg = child.wait(child.ready_queue, self.load_timeout_s)
        child.unregister(0)
        tag = msg[0]
        if tag == "ready":
            child.ready = True
            info = BackendInfo(**msg[2])
            if first:
                self.info = info
            else:  # the guard and the sidebar hold this object: update it in place
                self.info.__dict__.update(info.__dict__)
            self.can_stream = bool(msg[3])
            note = f"pid {child.pid}" + (f", restarted {self.restarts}x" if self.restarts else "")
            self.info.extra["model process"] = note
            return
        child.ready = False
        if tag == "error":
            child.close()
            again = "" if first else "the model process could not load the model again: "
            raise BackendError(f"{again}{msg[2]}")
        if tag == "timeout":
            child.kill(f"it did not finish loading in {self.load_timeout_s:.0f} s")
            raise BackendError(f"the model process did not finish loading in {self.load_timeout_s:.0f} s")
        raise BackendError(f"the model process stopped while loading the model: {msg[2]}")

    def _respawn(self) -> _Child:
        """Start a fresh child (call with `_state` held); it loads while the caller reports."""
        old = self._child
        old.kill()
        self._child = _Child(self._target, self._settings_json, None)
        self._holder[:] = [self._child]
        self.restarts += 1
        log.info("model process %s replaced by %s", old.pid, self._child.pid)
        return self._child

    def _ready_child(self) -> _Child:
        with self._state:
            if self._closed:
                raise BackendError("The model was closed; load it again")
            child = self._child
            if child.ready is False or child.exit_reason is not None:
                child = self._respawn()  # e.g. the last restart failed to load: try once more
            if child.ready is None:
                self._await_ready(child, first=False)
            return child

    def _stopped(self, child: _Child, msg: tuple[Any, ...]) -> BackendError:
        """The child died or hung during a request: restart it and say so."""
        if msg[0] == "timeout":
            child.kill(f"no reply for {self.hang_timeout_s:.0f} s (hung), so it was killed")
            child.wait(child.register(-1), 10)  # let the reader record the exit
            reason = child.killed_for or "hung"
        else:
            reason = str(msg[2])
        with self._state:
            if self._child is child and not self._closed:
                self._respawn()
        log.info("model process %s stopped: %s", child.pid, reason)
        return BackendError(f"the model process stopped: {reason}; restarted — try again")

    def _call(self, op: str, *args: Any) -> Any:
        child = self._ready_child()
        rid = next(self._ids)
        q = child.register(rid)
        try:
            child.send((op, rid, *args))
            msg = child.wait(q, self.hang_timeout_s)
        finally:
            child.unregister(rid)
        if msg[0] == "result":
            return msg[2]
        if msg[0] == "error":
            raise BackendError(msg[2])
        raise self._stopped(child, msg)

    # ------------------------------------------------------------------ the Backend protocol
    def stream(self, prompt: str, params: GenerationParams) -> Iterator[str]:
        with self._generation:
            child = self._ready_child()
            rid = next(self._ids)
            q = child.register(rid)
            running = True
            try:
                child.send(("stream", rid, prompt, params))
                while True:
                    msg = child.wait(q, self.hang_timeout_s)
                    if msg[0] == "piece":
                        yield msg[2]
                        continue
                    running = False
                    if msg[0] == "done":
                        return
                    if msg[0] == "error":
                        raise BackendError(msg[2])
                    raise self._stopped(child, msg)
            finally:
                if running:  # the reader left mid-answer: stop the child and wait for its end mark
                    self._cancel(child, rid, q)
                child.unregister(rid)

    def _cancel(self, child: _Child, rid: int, q: queue.SimpleQueue[tuple[Any, ...]]) -> None:
        child.send(("cancel", rid))
        while True:
            msg = child.wait(q, self.hang_timeout_s)
            if msg[0] in ("done", "error"):
                return
            if msg[0] in ("died", "timeout"):
                self._stopped(child, msg)  # restarted; nobody is waiting for this answer any more
                return

    def complete(self, prompt: str, params: GenerationParams) -> str:
        # Streamed underneath so a hang is noticed per token, not after the whole answer.
        if self.can_stream:
            return "".join(self.stream(prompt, params))
        with self._generation:
            return str(self._call("complete", prompt, params))

    def choose(self, prompt: str, options: Sequence[str]) -> str:
        opts = check_options(options)
        with self._generation:
            answer = str(self._call("choose", prompt, opts))
        if answer not in opts:
            raise BackendError(f"the model process answered {answer!r}, not one of the options")
        return answer

    def count_tokens(self, text: str) -> int:
        return int(self._call("count", text))

    def render_chat(self, messages: list[dict[str, str]]) -> str | None:
        out = self._call("render_chat", messages)
        return None if out is None else str(out)

    def close(self) -> None:
        with self._state:
            self._closed = True
            child = self._child
        child.close()
        self._finalizer.detach()
