"""The servers and the browser the slow tests start. The helpers live in scripts/serving.py, which
the benchmarks share (they must not import from tests/); tests import them from here as before."""

from scripts.serving import (
    CHROMIUM,
    free_port,
    launch_chromium,
    serving,
    serving_app,
    stop,
    streamlit_command,
)

__all__ = ["CHROMIUM", "free_port", "launch_chromium", "serving", "serving_app", "stop", "streamlit_command"]
