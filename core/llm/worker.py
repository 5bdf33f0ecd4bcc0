"""The model process: `python -m core.llm.worker FD`, started and supervised by `core.llm.process`.

It builds one backend from the settings it is sent, answers requests one at a time and streams
tokens back. While it streams it reads between tokens, so a cancel stops the answer and light
requests (token counts, chat rendering) are served without waiting for the answer to finish.
Core dumps are off: a crash here is reported by the app, not written to disk.
"""

from __future__ import annotations

import ctypes
import dataclasses
import faulthandler
import importlib
import os
import resource
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from core.llm.base import Backend, BackendError

LIGHT_OPS = ("count", "render_chat")


class Fault:
    """An injected failure for diagnostics: "SIGSEGV@2" crashes at the 2nd streamed piece, "@0"
    while the model loads."""

    def __init__(self, spec: str | None) -> None:
        self.kind, self.at = "", 0
        if spec:
            kind, _, at = spec.partition("@")
            self.kind, self.at = kind.strip().upper(), int(at or 1)
        self.armed = bool(self.kind)

    def maybe_fire(self, pieces: int) -> None:
        if not self.armed or pieces != self.at:
            return
        if self.kind == "HANG":
            while True:  # a hang as the app sees one: alive, silent
                time.sleep(3600)
        if self.kind == "SIGSEGV":
            ctypes.string_at(0)  # a real invalid read in native code, as a llama.cpp bug would do
        os.kill(os.getpid(), signal.Signals[self.kind])


def harden() -> None:
    """No core files; Ctrl-C is for the app (it closes us); a crash leaves a Python traceback."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    faulthandler.enable()


def load_target(target: str) -> Callable[[str], Backend]:
    module, _, name = target.partition(":")
    fn: Callable[[str], Backend] = getattr(importlib.import_module(module), name)
    return fn


def _error_text(e: BaseException) -> str:
    return str(e) if isinstance(e, BackendError) else f"{type(e).__name__}: {e}"


class Worker:
    def __init__(self, conn: Connection, backend: Backend, fault: Fault) -> None:
        self.conn = conn
        self.backend = backend
        self.fault = fault
        self.pending: deque[tuple[Any, ...]] = deque()

    def serve(self) -> None:
        while True:
            try:
                msg = self.pending.popleft() if self.pending else self.conn.recv()
            except EOFError:  # the app is gone
                return
            op, rid = msg[0], msg[1]
            if op == "close":
                return
            if op == "cancel":  # for an answer that already ended
                continue
            try:
                if op == "stream":
                    self._stream(rid, msg[2], msg[3])
                else:
                    self.conn.send(("result", rid, self._answer(op, msg[2:])))
            except (BrokenPipeError, ConnectionResetError):
                return
            except Exception as e:  # noqa: BLE001 - any failure is this request's, the process lives on
                self.conn.send(("error", rid, _error_text(e)))

    def _answer(self, op: str, args: tuple[Any, ...]) -> Any:
        b = self.backend
        if op == "complete":
            return b.complete(args[0], args[1])
        if op == "choose":
            return b.choose(args[0], args[1])
        if op == "count":
            return b.count_tokens(args[0])
        if op == "render_chat":
            render = getattr(b, "render_chat", None)
            return render(args[0]) if callable(render) else None
        raise BackendError(f"unknown request {op!r}")

    def _stream(self, rid: int, prompt: str, params: Any) -> None:
        b = self.backend
        pieces = b.stream(prompt, params) if b.can_stream else iter([b.complete(prompt, params)])
        n = 0
        try:
            for piece in pieces:
                self.conn.send(("piece", rid, piece))
                n += 1
                self.fault.maybe_fire(n)
                if self._cancelled(rid):
                    break
        finally:
            close = getattr(pieces, "close", None)
            if callable(close):
                close()
        self.conn.send(("done", rid))

    def _cancelled(self, rid: int) -> bool:
        """Read what arrived meanwhile: a cancel for this answer, light requests, or later work."""
        while self.conn.poll(0):
            msg = self.conn.recv()
            if msg[0] == "cancel":
                if msg[1] == rid:
                    return True
            elif msg[0] in LIGHT_OPS:
                try:
                    self.conn.send(("result", msg[1], self._answer(msg[0], msg[2:])))
                except Exception as e:  # noqa: BLE001 - that request fails, this answer goes on
                    self.conn.send(("error", msg[1], _error_text(e)))
            else:
                self.pending.append(msg)
        return False


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    harden()
    conn = Connection(int(args[0]))
    try:
        _op, _rid, target, settings_json, fault = conn.recv()
    except EOFError:
        return 0
    injected = Fault(fault)
    injected.maybe_fire(0)  # "SIGSEGV@0": crash while loading, as a bad build would
    try:
        backend = load_target(target)(settings_json)
    except Exception as e:  # noqa: BLE001 - reported to the app, which shows it like any load error
        conn.send(("error", 0, _error_text(e)))
        return 1
    conn.send(("ready", 0, dataclasses.asdict(backend.info), bool(backend.can_stream)))
    try:
        Worker(conn, backend, injected).serve()
    finally:
        backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
