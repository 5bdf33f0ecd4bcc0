"""Servers the slow tests and the benchmarks start (the app under `streamlit run`, llama.cpp's
server): one way to start a child process on a free loopback port, wait until it answers over HTTP
and stop it; and the browser that drives the app. Here, not in tests/, because benchmarks use it
too and must not import the tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Debian's Chromium (scripts/ensure_browser.sh installs it): Playwright's own browsers are never
# downloaded. The flags keep its background traffic (updates, sync) off loopback-only runs.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def streamlit_command(port: int) -> list[str]:
    """`streamlit run` of the app, headless, on loopback `port` (run it from the repository root)."""
    return [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


def _status(url: str) -> int | None:
    """The HTTP status `url` answers with (an error status too), None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback only
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except OSError:
        return None


def stop(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """Terminate, then kill what does not exit within `timeout` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def serving(
    cmd: list[str],
    ready_url: str,
    log_path: Path,
    *,
    timeout: float = 90.0,
    ready: Callable[[int], bool] = lambda status: True,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
) -> Iterator[subprocess.Popen]:
    """Run `cmd` until `ready_url` answers with a status `ready` accepts; stop it afterwards.

    Output goes to `log_path`, not a pipe: a server that logs a lot would block on a full pipe.
    Raises RuntimeError (with the log's tail) when it exits early or is not up within `timeout`."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            status = _status(ready_url)
            if status is not None and ready(status):
                break
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[2]} exited early:\n{log_path.read_text(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[2]} did not start in {timeout:g} s")
            time.sleep(0.3)
        yield proc
    finally:
        stop(proc)


def serving_app(
    port: int, log_path: Path, env: Mapping[str, str], timeout: float = 90.0
) -> AbstractContextManager[subprocess.Popen]:
    """The app under `streamlit run` on loopback `port`, up once its health check answers 200."""
    health = f"http://127.0.0.1:{port}/_stcore/health"
    return serving(
        streamlit_command(port), health, log_path, env=env, timeout=timeout, ready=lambda s: s == 200
    )


def launch_chromium(playwright: Any) -> Any:
    """Headless Debian Chromium through a started `sync_playwright()`; the caller closes it."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
