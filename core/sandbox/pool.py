"""The pieces of `LocalSandbox`'s pool: one warm zygote process per slot, the pipes a job's result
comes back through, the environment workers get, and a job process prepared ahead of its job.

Split from local.py for size; see there (and zygote.py) for the design.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import signal
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def _killpg(pgid: int, sig: int = signal.SIGKILL) -> None:
    """Signal a job's process group; a job process forked a moment ago may not have made its
    group yet (its first act), so then the process itself (its pid is the group's id)."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        try:
            os.kill(pgid, sig)
        except OSError:
            pass
    except OSError:
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
        self.prepared: Prepared | None = None  # a job process forked ahead of its job
        self.settling = False  # its last job's result is taken; its "done" is still to come
        self.settling_pid = 0  # that job's process (group), frozen until `LocalSandbox._settle`
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

    def expect(self, event: str, timeout: float) -> dict[str, Any] | None:
        """The next event if it is `event`; else None and the zygote marked broken (it did not
        answer within `timeout` seconds, exited, or is out of step with us)."""
        try:
            ev = self.next_event(timeout)
        except queue.Empty:
            ev = None
        if ev is None or ev.get("event") != event:
            self.broken = True
            return None
        return ev

    def wait_ready(self, timeout: float) -> bool:
        if self.info is None:
            self.info = self.expect("ready", timeout)
        return self.info is not None

    def send_job(self, job_read: int, result_write: int) -> None:
        """Hand the zygote the two pipe ends for one job; it never sees what flows through them."""
        socket.send_fds(self.sock, [b"J"], [job_read, result_write])

    def kill(self) -> None:
        self.broken = True
        if self.prepared is not None:  # its own process group (it also dies with the zygote)
            _killpg(self.prepared.pid)
            self.prepared.close()
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
    """A pipe the parent reads in a thread, keeping at most `cap` bytes (the rest is drained).

    `complete` is set when the result record is all in (the layers line, the payload line and
    the output bytes the payload announces, see `results.split_record`) or at EOF: a process the
    job left behind may hold the pipe open, so the parent cannot wait for EOF alone."""

    def __init__(self, cap: int) -> None:
        self.read_fd, self.write_fd = os.pipe()
        try:  # 1 MB (the unprivileged maximum) instead of 64 kB: a transform's output comes
            # through here, in 16x fewer rounds of write, wake, read.
            fcntl.fcntl(self.write_fd, fcntl.F_SETPIPE_SZ, 1 << 20)
        except (AttributeError, OSError):
            pass
        self.cap = cap
        # One growing buffer, not a list of chunks joined at the end: a transform's output can
        # be hundreds of MB, and a join would hold it twice.
        self.buf = bytearray()
        self.size = 0
        self.complete = threading.Event()
        self._expected: int | None = None  # the record's length, once its payload line is in
        self._lines: list[int] = []  # where its first two lines end
        self._scan = 0  # where the search for them goes on
        self.thread = threading.Thread(target=self._drain, name="sandbox-result-reader", daemon=True)

    def _drain(self) -> None:
        try:
            while True:
                b = os.read(self.read_fd, 1 << 20)
                if not b:
                    break
                self.size += len(b)
                if self.size <= self.cap:
                    self.buf += b
                    self._note()
        finally:
            os.close(self.read_fd)
            self.complete.set()

    def _note(self) -> None:
        """Set `complete` once the record's announced length is in (scanning each byte once)."""
        if self.complete.is_set():
            return
        if self._expected is None:
            while len(self._lines) < 2:
                at = self.buf.find(b"\n", self._scan)
                if at < 0:
                    self._scan = len(self.buf)
                    return
                self._lines.append(at)
                self._scan = at + 1
            first, second = self._lines
            try:
                payload = json.loads(bytes(self.buf[first + 1 : second]))
                n = payload.get("frame_bytes", 0) if isinstance(payload, dict) else 0
            except ValueError:
                n = 0
            self._expected = second + 1 + (n if type(n) is int and n >= 0 else 0)
        if len(self.buf) >= self._expected:
            self.complete.set()

    @property
    def overflow(self) -> bool:
        return self.size > self.cap

    def data(self) -> bytearray:
        return self.buf


def _write_job(fd: int, data: bytes) -> None:
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        pass  # the job died before reading it: reported from its exit status
    finally:
        os.close(fd)


@dataclass
class Prepared:
    """A job process forked before its job (`LocalSandbox.prepare`): contained as the job will be
    and holding the input it was prepared for (read while the user edits). It runs exactly one
    job, for that input, workspace and limits (`key`), or it is killed."""

    key: tuple[Any, ...]
    pid: int
    job_w: int  # the job pipe's write end: the job is written here, then it is closed
    result: _Pipe

    def close(self) -> None:
        """Close the job pipe (a job process that never got its job then exits)."""
        try:
            os.close(self.job_w)
        except OSError:
            pass
