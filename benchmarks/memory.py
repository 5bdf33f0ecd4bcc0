"""Peak memory of the app with the embedded Gemma through a full wizard run (Community Cloud: ~2.7 GB).

Two measurements in one run, each in a fresh child process so neither inherits the other's heap:
  bare   — the embedded Gemma 3 270M GGUF loaded through core.llm.registry and asked one question;
  wizard — the real Streamlit app (streamlit_app.py driven by AppTest, the same code path as a
           browser session) on a bundled sample: load, profile, clean, feature, model (propose with
           the real model, run, accept, train beside the baselines), report page with its exports.
The parent samples the resident memory of each child's whole process tree (sandbox workers
included) every 100 ms with psutil; the peak is reported. Last line:
`memory peak_rss_mb=<x> bare_model_mb=<y> target_mb=1500`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 1500


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def measure(mode: str, env: dict[str, str]) -> tuple[float, dict]:
    """Run this file in `--child mode`; return (peak tree RSS in MB, the child's JSON report)."""
    with tempfile.NamedTemporaryFile("r", suffix=".json", delete=False) as out:
        report_path = out.name
    proc = subprocess.Popen([sys.executable, __file__, "--child", mode, report_path], cwd=ROOT, env=env)
    ps = psutil.Process(proc.pid)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            try:
                peak = max(peak, _tree_rss(ps))
            except psutil.NoSuchProcess:
                return
            time.sleep(0.1)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    rc = proc.wait()
    stop.set()
    t.join()
    text = Path(report_path).read_text(encoding="utf-8") if os.path.getsize(report_path) else "{}"
    os.unlink(report_path)
    if rc != 0:
        raise SystemExit(f"{mode} run failed with exit code {rc}")
    return peak / 1e6, json.loads(text)


# --------------------------------------------------------------------------- children
def child_bare(report: Path) -> None:
    import resource

    from core.llm.base import GenerationParams
    from core.llm.registry import ModelSettings, build_backend

    t0 = time.perf_counter()
    backend = build_backend(ModelSettings())
    load_s = time.perf_counter() - t0
    text = backend.complete("The median of 1, 2 and 9 is", GenerationParams(max_tokens=16))
    report.write_text(
        json.dumps(
            {
                "model": backend.info.name,
                "load_s": round(load_s, 2),
                "reply_chars": len(text),
                "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def child_wizard(report: Path) -> None:
    import resource

    from streamlit.testing.v1 import AppTest

    timings: dict[str, float] = {}
    os.environ.setdefault("GEMMA_WIZARD_PLAIN_EDITOR", "1")  # AppTest cannot drive the Ace editor
    projects = Path(tempfile.mkdtemp(prefix="memory_bench_"))
    os.environ["GEMMA_WIZARD_PROJECTS"] = str(projects)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=900)

    def click(label: str) -> None:
        for b in at.button:
            if str(b.label).startswith(label):
                b.click().run()
                if at.exception:
                    raise RuntimeError(f"{label}: {at.exception}")
                return
        raise RuntimeError(f"no button {label!r}; have {[b.label for b in at.button]}")

    def timed(name: str, fn) -> None:  # noqa: ANN001
        t0 = time.perf_counter()
        fn()
        timings[name] = round(time.perf_counter() - t0, 2)

    timed("start (model load)", at.run)
    timed("load sample", lambda: click("Load sample: "))
    timed("profile", lambda: at.switch_page("pages/profile.py").run())
    for stage, run_label in (
        ("clean", "Run on preview"),
        ("feature", "Run on preview"),
        ("model", "Train on"),
    ):
        timed(f"{stage} page", lambda s=stage: at.switch_page(f"pages/{s}.py").run())
        timed(f"{stage} propose", lambda: click("Propose"))
        timed(f"{stage} run", lambda label=run_label: click(label))
        timed(f"{stage} accept", lambda: click("Accept"))
    timed("report", lambda: at.switch_page("pages/report.py").run())
    import ui_common
    from core.project import ProjectStore

    ui_common.close_sandboxes()
    # The figure only counts if the wizard really went through: every stage accepted a step.
    project = ProjectStore(projects).list()[0]
    steps = [
        {
            "stage": s.stage,
            "provenance": s.provenance,
            "ok": bool(s.result and s.result.ok),
            "primary": (s.result.metrics or {})
            .get("test", {})
            .get((s.result.metrics or {}).get("primary_metric"))
            if s.result
            else None,
        }
        for s in project.active_steps
    ]
    report.write_text(
        json.dumps(
            {
                "timings_s": timings,
                "exception": [str(e) for e in at.exception],
                "steps": steps,
                "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def main() -> None:
    env = {k: v for k, v in os.environ.items() if k != "GEMMA_WIZARD_BACKEND"}  # the embedded model
    env["PYTHONPATH"] = str(ROOT)
    bare_mb, bare = measure("bare", env)
    print(f"bare model load: peak {bare_mb:.0f} MB  {bare}")
    wiz_mb, wiz = measure("wizard", env)
    print(f"full wizard run: peak {wiz_mb:.0f} MB (app process + sandbox workers)")
    for k, v in wiz.get("timings_s", {}).items():
        print(f"  {k:<22} {v:>7.2f} s")
    if wiz.get("exception"):
        print(f"  exceptions: {wiz['exception']}")
    for step in wiz.get("steps", []):
        print(f"  step: {step}")
    if sorted({s["stage"] for s in wiz.get("steps", []) if s["ok"]}) != ["clean", "feature", "model"]:
        raise SystemExit("the wizard run did not accept a clean, a feature and a model step: no valid figure")
    print(f"  app process alone (ru_maxrss): {wiz.get('ru_maxrss_mb', 0):.0f} MB")
    verdict = "OK" if wiz_mb <= TARGET_MB else "OVER"
    print(
        f"target <= {TARGET_MB} MB: {verdict}; wizard overhead over the bare model: {wiz_mb - bare_mb:.0f} MB"
    )
    print(f"memory peak_rss_mb={wiz_mb:.0f} bare_model_mb={bare_mb:.0f} target_mb={TARGET_MB}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        {"bare": child_bare, "wizard": child_wizard}[sys.argv[2]](Path(sys.argv[3]))
    else:
        main()
