"""`make bench`: run every benchmark, keep each one's output, write docs/benchmarks.md.

Each benchmark runs as its own process (so one's imports and memory do not colour the next);
its stdout is kept in benchmarks/results/<name>.txt and pasted into docs/benchmarks.md: the
Markdown tables as they are, other lines as text, the `name key=value …` last line as code.
A benchmark that fails is reported as failed in the document (with the end of its error
output) and the others still run; the exit code is then 1.

Usage: python benchmarks/run_all.py [--only a,b] [--skip a,b] [--assemble] [--timeout S]
  --assemble: do not run anything; rebuild docs/benchmarks.md from the kept outputs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, ROOT, machine, md_table  # noqa: E402

# (name, arguments, what it compares): the order of the document.
BENCHMARKS: list[tuple[str, list[str], str]] = [
    ("profile_speed", [], "our profile vs ydata-profiling minimal=True, same 1,000,000 x 20 table"),
    (
        "sandbox_overhead",
        ["--repeats", "30"],
        "a clean step: our sandbox vs fresh subprocess vs Jupyter kernel vs bare exec",
    ),
    ("llm_speed", [], "the app's model path vs raw llama.cpp, same prompts and settings"),
    ("proposal_latency", [], "seconds from Propose to a verified proposal; autopilot per table"),
    ("memory", [], "the running app's memory with a walked session vs the Community Cloud limit"),
    ("model_quality", [], "our trained models vs baselines on the development tables"),
]
DOC = ROOT / "docs" / "benchmarks.md"
LAST = re.compile(r"^[a-z_]+( [A-Za-z0-9_]+=\S*)+$")


def run_one(name: str, args: list[str], timeout: float) -> dict[str, Any]:
    script = ROOT / "benchmarks" / f"{name}.py"
    if not script.exists():
        return {
            "name": name,
            "rc": None,
            "seconds": 0.0,
            "stdout": "",
            "stderr": f"{script.name} does not exist",
        }
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    try:
        p = subprocess.run(
            [sys.executable, str(script), *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc = 124
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = (
            e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        ) + f"\ntimed out after {timeout:g} s"
    return {"name": name, "rc": rc, "seconds": time.perf_counter() - t0, "stdout": out, "stderr": err}


def save(r: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {k: r.get(k) for k in ("name", "rc", "seconds", "args")} | {
        "finished": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
    }
    (RESULTS / f"{r['name']}.txt").write_text(r["stdout"], encoding="utf-8")
    (RESULTS / f"{r['name']}.stderr.txt").write_text(r["stderr"][-20_000:], encoding="utf-8")
    (RESULTS / f"{r['name']}.meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def load(name: str) -> dict[str, Any] | None:
    meta = RESULTS / f"{name}.meta.json"
    if not meta.exists():
        return None
    r = json.loads(meta.read_text(encoding="utf-8"))
    r["stdout"] = (RESULTS / f"{name}.txt").read_text(encoding="utf-8")
    err = RESULTS / f"{name}.stderr.txt"
    r["stderr"] = err.read_text(encoding="utf-8") if err.exists() else ""
    return r


def last_line_of(stdout: str) -> str | None:
    lines = [ln for ln in stdout.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines and LAST.match(lines[-1].strip()) else None


def section(r: dict[str, Any], about: str) -> str:
    """One benchmark's output as Markdown: tables kept, prose lines as paragraphs, last line as code."""
    cmd = " ".join([f"python benchmarks/{r['name']}.py", *map(shlex.quote, r.get("args") or [])])
    head = f"## {r['name']}\n\n{about}. `{cmd}`"
    if r.get("finished"):
        head += f" · {r['finished']} · {r['seconds']:.0f} s"
    if r.get("machine"):
        head += f" · load average {r['machine'].get('loadavg_1m')} at the end"
    if r["rc"] != 0:
        why = "not run" if r["rc"] is None else f"**failed** (exit code {r['rc']})"
        tail = "\n".join(r["stderr"].strip().splitlines()[-15:])
        return f"{head}\n\n{why}:\n\n```text\n{tail}\n```\n"
    last = last_line_of(r["stdout"])
    lines = r["stdout"].rstrip().splitlines()
    if last and lines and lines[-1].strip() == last:
        lines = lines[:-1]
    # Consecutive table rows stay one table; every other line is its own paragraph.
    blocks: list[tuple[str, list[str]]] = []
    for ln in lines:
        if not ln.strip():
            continue
        kind = "table" if ln.lstrip().startswith("|") else "text"
        if kind == "table" and blocks and blocks[-1][0] == "table":
            blocks[-1][1].append(ln.strip())
        else:
            blocks.append((kind, [ln.strip()]))
    text = "\n\n".join("\n".join(b) for _, b in blocks)
    code = f"\n\n```text\n{last}\n```" if last else "\n\n(no `name key=value` last line)"
    return f"{head}\n\n{text}{code}\n"


def document(results: list[tuple[dict[str, Any], str]], started: dict[str, Any]) -> str:
    m = machine()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = md_table(
        ["benchmark", "result", "last line"],
        [
            [
                r["name"],
                "ok" if r["rc"] == 0 else ("not run" if r["rc"] is None else "failed"),
                f"`{last_line_of(r['stdout']) or '-'}`",
            ]
            for r, _ in results
        ],
    )
    head = (
        "# Benchmarks\n\n"
        f"Written by `make bench` (benchmarks/run_all.py) on {now}. Machine: {m['cpu']}, {m['cores']} cores, "
        f"Python {m['python']}; load average (1 min) {started.get('loadavg_1m')} at the start and "
        f"{m['loadavg_1m']} at the end.\n\n"
        "Each benchmark compares like with like in one run and ends with a `name key=value …` line that says "
        "how many rows, tokens or steps each side processed. On a shared machine (other jobs running) the "
        "absolute timings are noisy; ratios measured in one run, with the sides taking turns, are "
        "steadier.\n\n"
        f"{summary}\n"
    )
    return head + "\n" + "\n".join(section(r, about) for r, about in results)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="")
    ap.add_argument("--skip", default="")
    ap.add_argument("--assemble", action="store_true", help="rebuild the document from kept outputs")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per benchmark")
    ap.add_argument("--out", default=str(DOC))
    ap.add_argument(
        "--args",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help='extra arguments for one benchmark, e.g. --args "proposal_latency=--datasets tips,cars"',
    )
    args = ap.parse_args()
    only = {s for s in args.only.split(",") if s}
    skip = {s for s in args.skip.split(",") if s}
    extra: dict[str, list[str]] = {}
    for item in args.args:
        name, _, rest = item.partition("=")
        extra[name.strip()] = shlex.split(rest)
    started = machine()
    results: list[tuple[dict[str, Any], str]] = []
    failed = False
    for name, bargs, about in BENCHMARKS:
        chosen = (not only or name in only) and name not in skip
        r = None
        if chosen and not args.assemble:
            print(f"== {name}", flush=True)
            r = run_one(name, bargs + extra.get(name, []), args.timeout)
            r["args"] = bargs + extra.get(name, [])
            if r["rc"] is not None:
                save(r)
                r = load(name) or r  # with the finish time and machine load the page shows
            print(last_line_of(r["stdout"]) or f"{name}: exit code {r['rc']}", flush=True)
            failed = failed or r["rc"] != 0
        else:
            r = load(name)  # not run now: the kept output of the last run, if any
        if r is None:
            r = {"name": name, "rc": None, "seconds": 0.0, "stdout": "", "stderr": "never run"}
        results.append((r, about))
    out = Path(args.out)
    out.write_text(document(results, started), encoding="utf-8")
    print(f"wrote {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
