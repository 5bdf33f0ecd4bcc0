"""Sandbox zygote: a warm process that forks one throwaway, contained process per job.

Started by `LocalSandbox` as `python -I -s -B core/sandbox/zygote.py --root <root> --sock <fd>`
(a fresh interpreter, never a fork of the Streamlit server). It imports pandas, numpy, pyarrow,
scikit-learn and plotly once and then serves jobs over a Unix socket:

    parent -> b"J" with two descriptors (SCM_RIGHTS): the job pipe (read end), the result pipe
              (write end)
    zygote -> {"event": "started", "pid": <job pid>}
    zygote -> {"event": "done", "status": {"exit_code": 0} | {"signal": 9}}

The zygote never reads a job nor its result: the forked child reads the job from the job pipe
and writes its result straight to the parent through the result pipe. So the zygote's memory,
which every later fork inherits (frames, heap, freed buffers), holds nothing of any job: a step
that walks frames, tracebacks, the gc or even its own /proc/self/mem finds only the warm imports.

A job pipe may start with a `{"prepare": …}` line (`LocalSandbox.prepare`): the child then sets up
its containment and reads that input before the job itself arrives (while the user is still
editing), rehearses ordinary pandas work on it until the job comes (`core.sandbox.rehearse`), and
refuses a job for any other input, workspace or limits.

The result pipe carries two JSON lines: first the layers record (written by trusted code after
the containment is set up and before any job code runs, so job code cannot forge it), then the
result. The parent trusts only the first; the second is validated (core/sandbox/results.py).
"""

from __future__ import annotations

import io
import json
import math
import os
import select
import signal
import socket
import sys
import time
from typing import Any

MAX_JOB_BYTES = 64 * 1024 * 1024  # a job message is code plus a few parameters


def _warm_imports() -> None:
    import numpy  # noqa: F401
    import pandas
    import plotly.express  # noqa: F401
    import plotly.graph_objects
    import plotly.io  # noqa: F401
    import plotly.io._renderers  # noqa: F401 - `plotly.io.show` is lazy; resolve it before forking
    import pyarrow.parquet  # noqa: F401
    import sklearn.compose  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import sklearn.impute  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.pipeline  # noqa: F401
    import sklearn.preprocessing  # noqa: F401

    import core.sandbox.rehearse  # noqa: F401 - what a prepared job process does while it waits
    import core.sandbox.worker  # noqa: F401 - the harness every job runs through

    try:
        import core.modeling_harness  # noqa: F401
    except Exception:  # noqa: BLE001, S110 - imported lazily by model jobs if it appears later
        pass
    # Exercise the lazy paths once (Parquet engine lookup, plotly JSON) so forks start warm; the
    # data is made up here, never a job's.
    buf = io.BytesIO()
    frame = pandas.DataFrame(
        {"a": [1.0, None], "b": ["x", None], "c": pandas.to_datetime(["2024-01-01", None])}
    )
    frame.to_parquet(buf)
    buf.seek(0)
    pandas.read_parquet(buf)
    plotly.graph_objects.Figure(data=[plotly.graph_objects.Bar(x=[1], y=[1])]).to_json()


def _status(raw: int) -> dict[str, Any]:
    if os.WIFSIGNALED(raw):
        return {"signal": os.WTERMSIG(raw)}
    return {"exit_code": os.WEXITSTATUS(raw) if os.WIFEXITED(raw) else -1}


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_all(fd: int, cap: int, stop_at_newline: bool = False) -> bytes:
    """The pipe's bytes up to EOF (or, with `stop_at_newline`, up to the first newline read;
    what followed it in that read is returned too)."""
    parts, size = [], 0
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            return b"".join(parts)
        size += len(b)
        if size > cap:
            raise ValueError("the job message is too large")
        parts.append(b)
        if stop_at_newline and b"\n" in b:
            return b"".join(parts)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def _die_with_parent() -> None:
    """SIGKILL this job if the zygote dies (the zygote is single-threaded, so its main thread's
    death is the process's); Linux only, best effort."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001, S110 - not available on this platform
        pass
    if os.getppid() == 1:  # the zygote was already gone before the death signal was armed
        os._exit(1)


def _contain(
    ws: str, lim: dict[str, Any], inp: str | None, disable: set[str], baseline_vm: int, read_roots: list[str]
) -> dict[str, Any]:
    """The kernel layers and limits, set before any job data is read; returns the layers record."""
    from core.sandbox import guard

    layers: dict[str, Any] = {"netns": False, "landlock": 0, "rlimits": False, "audit_hook": False}
    tmp = os.path.join(ws, "tmp")
    os.makedirs(tmp, exist_ok=True)
    os.chdir(ws)
    os.environ.update(HOME=ws, TMPDIR=tmp)
    import tempfile

    tempfile.tempdir = None
    rl = guard.apply_rlimits(
        int(lim.get("memory_mb", 2048)),
        int(math.ceil(lim.get("cpu_s", 120))),
        int(lim.get("max_file_mb", 1024)),
        baseline_vm,
    )
    layers["rlimits"] = rl and "rlimits" not in disable
    # The input may live outside the workspace (an immutable snapshot): readable, not writable.
    roots = [*read_roots, os.path.realpath(inp)] if inp else list(read_roots)
    layers["netns"] = "netns" not in disable and guard.enter_network_namespace()
    layers["landlock"] = 0 if "landlock" in disable else guard.apply_landlock(ws, roots)
    layers["roots"] = roots
    return layers


def _prepared_input(
    job_fd: int, head: bytes, rest: bytes, baseline_vm: int, read_roots: list[str]
) -> tuple[Any, Any]:
    """A prepared job process (LocalSandbox.prepare): contained as the job will be, it reads the
    input it was prepared for while the user is still editing, then waits for the job. Returns
    (job message, (layers, frame)); it runs only a job for exactly that input, workspace and limits."""
    prep = json.loads(head)["prepare"]
    ws = os.path.realpath(prep["workspace"])
    layers = _contain(
        ws,
        prep.get("limits") or {},
        prep["input_path"],
        set(prep.get("disable") or ()),
        baseline_vm,
        read_roots,
    )
    import pandas as pd

    from core.sandbox.rehearse import rehearse

    try:  # trusted code, under the layers above
        frame = pd.read_parquet(prep["input_path"])
    except Exception:  # noqa: BLE001 - the job reads it again and reports the error as usual
        frame = None
    if not rest and prep.get("rehearse", True):  # while the user reads the page: warm up on it
        job_pipe = select.poll()
        job_pipe.register(job_fd, select.POLLIN)
        rehearse(frame, lambda: bool(job_pipe.poll(0)))
    msg = json.loads(rest + _read_all(job_fd, MAX_JOB_BYTES))
    job = msg["job"]
    same = (
        os.path.realpath(msg["workspace"]) == ws
        and os.path.realpath(job.get("input_path") or "/") == os.path.realpath(prep["input_path"])
        and (job.get("limits") or {}) == (prep.get("limits") or {})
        and sorted(msg.get("disable") or ()) == sorted(prep.get("disable") or ())
    )
    layers["prepared_for_this_job"] = same  # the parent checks this too; the child fails closed
    return msg, (layers, frame)


def _child(
    job_fd: int, res_fd: int, closing: tuple[int, ...], baseline_vm: int, read_roots: list[str]
) -> None:
    """Runs in the forked job process; never returns."""
    from core.sandbox import guard
    from core.sandbox.policy import missing_layers, refusal_message
    from core.sandbox.worker import USER_FILENAME, _one_line, execute_job

    try:
        os.setpgid(0, 0)
        _die_with_parent()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        for fd in closing:  # the zygote's socket: job code must not talk to the parent
            try:
                os.close(fd)
            except OSError:
                pass
        head = _read_all(job_fd, MAX_JOB_BYTES, stop_at_newline=True)
        frame = None
        if head.startswith(b'{"prepare"') and b"\n" in head:
            line, _, rest = head.partition(b"\n")  # rest: the start of the job, if it came already
            msg, (layers, frame) = _prepared_input(job_fd, line, rest, baseline_vm, read_roots)
        else:
            msg = json.loads(head + _read_all(job_fd, MAX_JOB_BYTES))
            job = msg["job"]
            layers = _contain(
                os.path.realpath(msg["workspace"]),
                job.get("limits") or {},
                job.get("input_path"),
                set(msg.get("disable") or ()),
                baseline_vm,
                read_roots,
            )
        os.close(job_fd)
        job, disable = msg["job"], set(msg.get("disable") or ())
        ws, roots = os.path.realpath(msg["workspace"]), layers.pop("roots")
        same = layers.pop("prepared_for_this_job", True)
        guard.neuter_process_spawning()
        refusals: list[str] = []
        if "audit_hook" not in disable:
            refusals = guard.install_audit_hook(ws, roots, (USER_FILENAME,))
            layers["audit_hook"] = True
        # Written before any job code runs: the parent takes the layers from this line only.
        _write_all(res_fd, json.dumps({"layers": layers}).encode() + b"\n")
        missing = missing_layers(layers, tuple(msg.get("require") or ()))
        if not same:  # never the code of a job this process was not prepared for
            payload: dict[str, Any] = {
                "ok": False,
                "error_kind": "refused",
                "error": "Refused: this job process was prepared for another input",
            }
        elif missing:  # fail closed: the code is never run
            payload = {
                "ok": False,
                "error_kind": "refused",
                "error": refusal_message(missing),
            }
        else:
            payload = execute_job(job, refusals=refusals, frame=frame)
        wait_for_kill = True  # a result the parent takes: it ends this process when it suits
        frame = payload.pop("frame", None)  # a transform's output: Arrow IPC bytes (a Buffer)
        if frame is not None:
            payload["frame_bytes"] = frame.size
        data = json.dumps(payload, default=str).encode() + b"\n"
    except BaseException as e:  # noqa: BLE001
        frame, wait_for_kill = None, False
        data = json.dumps(
            {"ok": False, "error_kind": "crash", "error": f"sandbox setup failed: {_one_line(e)}"}
        ).encode()
    try:
        _write_all(res_fd, data)
        if frame is not None:
            _write_all(res_fd, memoryview(frame))
        # Closed, then wait: the parent sees the end of the result at once and goes on with
        # it; it kills this process when that suits it (tearing it down takes ~10 ms of CPU for
        # a step's frames), at the latest after this wait (a parent that is gone: PDEATHSIG).
        os.close(res_fd)
        if wait_for_kill:
            time.sleep(30)
    finally:
        os._exit(0)


def _wait_job(pid: int, sock: socket.socket) -> int:
    """Wait for the job; if the parent goes away meanwhile (socket EOF), kill it and exit."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    while True:
        # The parent never writes during a job, so anything on the socket (normally EOF: the
        # server died or closed us) means stop the job and exit: no job outlives its server,
        # even one that sleeps instead of burning CPU.
        watch = [sock] + ([pidfd] if pidfd is not None else [])
        ready, _, _ = select.select(watch, [], [], None if pidfd is not None else 0.05)
        if sock in ready:
            _kill_group(pid)
            os.waitpid(pid, 0)
            os._exit(0)
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            if pidfd is not None:
                os.close(pidfd)
            return raw


def _become_subreaper() -> bool:
    """Orphaned descendants of a job (one that left its process group with setsid) are then
    re-parented to this zygote instead of init, so `_reap_leftovers` can find and kill them."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except Exception:  # noqa: BLE001 - not Linux: the process group kill is all there is
        return False


def _children() -> list[int]:
    me = str(os.getpid())
    try:  # the kernel's own list (the zygote is single-threaded: its one task is itself)
        with open(f"/proc/{me}/task/{me}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except (OSError, ValueError):
        pass
    out = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        if stat[stat.rfind(")") + 2 :].split()[1] == me:  # field 4: the parent's pid
            out.append(int(name))
    return out


def _reap_leftovers() -> None:
    """Kill whatever a finished job left behind. Each kill re-parents that process's own
    children to us, so repeat until none is left: nothing of one job outlives it into the next."""
    for _ in range(100):
        kids = _children()
        if not kids:
            break
        for pid in kids:
            _kill_group(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in kids:
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass


def serve(root: str, sock_fd: int) -> None:
    """The zygote loop (see module docstring)."""
    if root not in sys.path:
        sys.path.insert(0, root)
    sock = socket.socket(fileno=sock_fd)
    # fd 0/1/2 go to /dev/null so stray prints cannot reach anything.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    _warm_imports()
    from core.sandbox import guard

    read_roots = guard.default_read_roots()
    guard.landlock_abi()  # loads and caches libc for the children
    baseline_vm = guard._vm_size_bytes()

    def send(obj: dict[str, Any]) -> None:
        sock.sendall((json.dumps(obj) + "\n").encode())

    reaper = _become_subreaper()
    send({"event": "ready", "pid": os.getpid(), "landlock_abi": guard.landlock_abi(), "subreaper": reaper})
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(sock, 1, 2)
        except OSError:
            break
        if data != b"J" or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            break  # b"X" (exit), EOF, or anything unexpected
        job_fd, res_fd = fds
        pid = os.fork()
        if pid == 0:
            _child(job_fd, res_fd, (sock.fileno(),), baseline_vm, read_roots)
        os.close(job_fd)
        os.close(res_fd)
        send({"event": "started", "pid": pid})
        raw = _wait_job(pid, sock)
        _kill_group(pid)
        _reap_leftovers()
        send({"event": "done", "status": _status(raw)})


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--sock", type=int, required=True)
    args = ap.parse_args()
    serve(args.root, args.sock)
