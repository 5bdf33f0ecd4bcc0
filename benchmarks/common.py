"""Helpers every benchmark shares: Markdown tables, the `name key=value …` last line, machine facts.

Benchmarks print Markdown tables (so `benchmarks/run_all.py` can paste them into
docs/benchmarks.md unchanged) and end with one machine-readable line.
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; floats get 3 significant decimals unless already formatted as text."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            if math.isnan(v):
                return "n/a"
            return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(str(h) for h in headers) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def last_line(name: str, **figures: Any) -> str:
    """`name key=value …`: floats rounded so the line stays readable, no spaces inside values."""
    parts = [name]
    for k, v in figures.items():
        if isinstance(v, float):
            v = "nan" if math.isnan(v) else f"{v:.4g}" if abs(v) < 1e4 else f"{v:.0f}"
        parts.append(f"{k}={str(v).replace(' ', '_')}")
    return " ".join(parts)


def pct(xs: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) of xs, linear interpolation (numpy's default); nan for no data."""
    import numpy as np

    return float(np.percentile(np.asarray(xs, dtype=float), q * 100)) if len(xs) else float("nan")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """CPU, cores and load: the numbers mean little without them (the machine may be shared)."""
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "loadavg_1m": round(load[0], 2),
        "python": platform.python_version(),
    }


def machine_line() -> str:
    m = machine()
    return f"machine: {m['cpu']}, {m['cores']} cores, load average (1 min) {m['loadavg_1m']}"
