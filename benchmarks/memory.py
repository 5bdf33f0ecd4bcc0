"""Resident memory of the running app with the embedded Gemma and one session that walked every stage.

Measured from OUTSIDE the app with psutil over the server's whole process tree (the Streamlit
server, the sandbox workers, a model process if the backend runs one), against the Streamlit
Community Cloud limit (~2.7 GB per app). Two figures per moment: the sum of RSS (an upper bound:
pages shared between forked workers count once per process) and the sum of PSS (shared pages
split between the processes sharing them: what the machine really spends).

Drivers (the line says which one ran):
- browser: `streamlit run` on a free loopback port, driven by headless Debian Chromium through
  Playwright exactly as a user clicks (tests/e2e/test_browser.py does the same walk): load a
  sample, profile, clean / feature / model (propose with the real model, run, accept), report;
- apptest: when Chromium or Playwright is missing, the same app and walk through Streamlit's
  AppTest in a child process (the app's scripts run in that process, so it stands for the server).
The peer row: the embedded model alone (loaded through core.llm.registry, one reply), in a fresh
process, measured the same way.

Usage: python benchmarks/memory.py [--driver auto|browser|apptest]
Last line: `memory driver=… stages_walked=… steps_accepted=… peak_rss_mb=… end_pss_mb=… limit_mb=2700 …`
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import last_line, machine_line, md_table  # noqa: E402
from scripts.serving import CHROMIUM, free_port, launch_chromium, serving_app  # noqa: E402

LIMIT_MB = 2700  # Streamlit Community Cloud: about 2.7 GB of memory per app
SLOW_MS = 600_000  # one click may propose with the real model on a busy 2-core machine
AFTER_WALK = "after the walk (all stages, session open)"
BARE = "model loaded, one reply given"
STAGES = [
    ("3 · Clean", "Run on preview"),
    ("4 · Features", "Run on preview"),
    ("5 · Model", "Train on the data"),
]


# --------------------------------------------------------------------------- measuring from outside
def tree_memory(root: psutil.Process, pss: bool = False) -> tuple[int, int, int]:
    """(RSS sum, PSS sum or 0, process count) over `root` and all its descendants."""
    rss = pss_sum = count = 0
    for p in [root, *root.children(recursive=True)]:
        try:
            if pss:
                full = p.memory_full_info()
                rss += full.rss
                pss_sum += getattr(full, "pss", 0)
            else:
                rss += p.memory_info().rss
            count += 1
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return rss, pss_sum, count


class Sampler(threading.Thread):
    """Samples the tree's RSS every 200 ms; keeps the peak (PSS is read on demand: it is slower)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak_rss = 0
        self.peak_procs = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                rss, _, n = tree_memory(self.proc)
            except psutil.NoSuchProcess:
                return
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_procs = max(self.peak_procs, n)
            time.sleep(0.2)

    def snapshot(self) -> dict[str, float]:
        rss, pss, n = tree_memory(self.proc, pss=True)
        return {"rss_mb": rss / 1e6, "pss_mb": pss / 1e6, "processes": n}

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


# --------------------------------------------------------------------------- the browser driver
def browser_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.exists()


def walk_browser(url: str, sampler: Sampler, moments: dict[str, dict[str, float]]) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    timings: dict[str, float] = {}
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(SLOW_MS)

            def idle() -> None:
                page.wait_for_timeout(300)
                page.wait_for_function(
                    "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
                    " || !document.querySelector('[data-testid=\"stStatusWidget\"]')"
                    ".innerText.match(/Running|Stop/)",
                    timeout=SLOW_MS,
                )

            def go(label: str) -> None:
                link = page.locator("[data-testid='stSidebar']").get_by_role(
                    "link", name=re.compile(re.escape(label))
                )
                path = (link.first.get_attribute("href") or "").rstrip("/").rsplit("/", 1)[-1].split("?")[0]
                link.first.click()
                page.wait_for_url(re.compile(rf"/{re.escape(path)}(\?|$)"), timeout=SLOW_MS)
                idle()

            def click(name: Any, exact: bool = False) -> None:
                page.get_by_role("button", name=name, exact=exact).first.click()
                idle()

            def timed(name: str, fn: Any) -> None:
                t0 = time.perf_counter()
                fn()
                timings[name] = round(time.perf_counter() - t0, 1)

            timed("open app", lambda: (page.goto(url), idle()))
            moments["app open, nothing loaded"] = sampler.snapshot()
            timed(
                "load sample",
                lambda: (
                    click(re.compile(r"^Load sample: ")),
                    page.get_by_text(re.compile(r"^Loaded: ")).first.wait_for(),
                ),
            )
            timed("profile", lambda: (go("2 · Profile"), page.get_by_text("Duplicate rows").first.wait_for()))
            for label, run_label in STAGES:
                stage = label.split(" ")[-1].lower()
                timed(f"{stage} page", lambda lab=label: go(lab))
                timed(
                    f"{stage} propose",
                    lambda: (
                        click(re.compile(r"^(Propose|Ask for another proposal)$")),
                        page.get_by_text("Provenance:").first.wait_for(),
                    ),
                )
                timed(
                    f"{stage} run",
                    lambda rl=run_label: (
                        click(rl, exact=True),
                        page.get_by_text("Result of the run").first.wait_for(),
                    ),
                )
                timed(f"{stage} accept", lambda: click("Accept", exact=True))
                if stage == "clean":
                    moments["model loaded, after the first proposal"] = sampler.snapshot()
            timed("report", lambda: (go("6 · Report"), page.get_by_text("Downloads").first.wait_for()))
        finally:
            browser.close()
    return timings


def accepted_steps(projects: Path) -> list[dict[str, Any]]:
    """The walk counts only if every stage really accepted a step (read from the saved project)."""
    from core.project import ProjectStore

    found = ProjectStore(projects).list()
    if not found:
        return []
    return [
        {"stage": s.stage, "provenance": s.provenance, "ok": bool(s.result and s.result.ok)}
        for s in found[0].active_steps
    ]


def measure_browser(env: dict[str, str], work: Path) -> dict[str, Any]:
    projects = work / "projects"
    env = {**env, "GEMMA_WIZARD_PROJECTS": str(projects), "PYTHONUNBUFFERED": "1"}
    port = free_port()
    with serving_app(port, work / "streamlit.log", env, timeout=180) as proc:
        sampler = Sampler(proc.pid)
        sampler.start()
        moments: dict[str, dict[str, float]] = {"server started": sampler.snapshot()}
        try:
            timings = walk_browser(f"http://127.0.0.1:{port}", sampler, moments)
            time.sleep(2)  # let the last rerun settle
            moments[AFTER_WALK] = sampler.snapshot()
        finally:
            sampler.stop()
    return {
        "driver": "browser",
        "moments": moments,
        "peak_rss_mb": sampler.peak_rss / 1e6,
        "peak_processes": sampler.peak_procs,
        "timings_s": timings,
        "steps": accepted_steps(projects),
    }


# --------------------------------------------------------------------------- the AppTest driver (child)
def measure_child(mode: str, env: dict[str, str], work: Path) -> dict[str, Any]:
    """Run this file as `--child mode report.json`; sample its tree from here."""
    report = work / f"{mode}.json"
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", mode, str(report), str(work / "projects")], cwd=ROOT, env=env
    )
    sampler = Sampler(proc.pid)
    sampler.start()
    moments: dict[str, dict[str, float]] = {}
    while proc.poll() is None:
        if (work / f"{mode}.walked").exists() and not moments:
            moments[BARE if mode == "bare" else AFTER_WALK] = sampler.snapshot()
            (work / f"{mode}.measured").touch()
        time.sleep(0.2)
    sampler.stop()
    if proc.returncode != 0:
        raise SystemExit(f"{mode} run failed with exit code {proc.returncode}")
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return {
        "driver": mode,
        "moments": moments,
        "peak_rss_mb": sampler.peak_rss / 1e6,
        "peak_processes": sampler.peak_procs,
        **data,
    }


def _wait_measured(report: Path, mode: str) -> None:
    """Tell the parent the walk is done and wait until it measured (the session stays open)."""
    walked = report.parent / f"{mode}.walked"
    walked.touch()
    deadline = time.time() + 60
    while not (report.parent / f"{mode}.measured").exists() and time.time() < deadline:
        time.sleep(0.1)


def child_bare(report: Path, _projects: Path) -> None:
    from core.llm.base import GenerationParams
    from core.llm.registry import build_backend, settings_from_env

    backend = build_backend(settings_from_env())
    text = backend.complete("The median of 1, 2 and 9 is", GenerationParams(max_tokens=16))
    _wait_measured(report, "bare")
    report.write_text(json.dumps({"model": backend.info.name, "reply_chars": len(text)}))


def child_apptest(report: Path, projects: Path) -> None:
    from streamlit.testing.v1 import AppTest

    os.environ.setdefault("GEMMA_WIZARD_PLAIN_EDITOR", "1")  # AppTest cannot drive the Ace editor
    os.environ["GEMMA_WIZARD_PROJECTS"] = str(projects)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=900)
    timings: dict[str, float] = {}

    def click(label: str) -> None:
        for b in at.button:
            if str(b.label).startswith(label):
                b.click().run()
                if at.exception:
                    raise RuntimeError(f"{label}: {at.exception}")
                return
        raise RuntimeError(f"no button {label!r}; have {[b.label for b in at.button]}")

    def timed(name: str, fn: Any) -> None:
        t0 = time.perf_counter()
        fn()
        timings[name] = round(time.perf_counter() - t0, 1)

    timed("open app", at.run)
    timed("load sample", lambda: click("Load sample: "))
    timed("profile", lambda: at.switch_page("pages/profile.py").run())
    for label, run_label in STAGES:
        stage = label.split(" ")[-1].lower()
        page = {"features": "feature"}.get(stage, stage)
        timed(f"{stage} page", lambda p=page: at.switch_page(f"pages/{p}.py").run())
        timed(f"{stage} propose", lambda: click("Propose"))
        timed(f"{stage} run", lambda rl=run_label: click(rl))
        timed(f"{stage} accept", lambda: click("Accept"))
    timed("report", lambda: at.switch_page("pages/report.py").run())
    _wait_measured(report, "apptest")
    report.write_text(json.dumps({"timings_s": timings, "steps": accepted_steps(projects)}))
    from app import common as ui_common

    ui_common.close_sandboxes()


# --------------------------------------------------------------------------- run and render
def render(bare: dict[str, Any], app: dict[str, Any]) -> str:
    rows = []
    for who, r in (("embedded model alone (peer)", bare), (f"app server ({app['driver']} walk)", app)):
        for moment, m in r.get("moments", {}).items():
            rows.append(
                [who, moment, m["processes"], m["rss_mb"], m["pss_mb"], f"{m['pss_mb'] / LIMIT_MB:.0%}"]
            )
        rows.append(
            [
                who,
                "peak during the run (RSS, sampled every 200 ms)",
                r["peak_processes"],
                r["peak_rss_mb"],
                "-",
                f"{r['peak_rss_mb'] / LIMIT_MB:.0%}",
            ]
        )
    table = md_table(["process tree", "moment", "processes", "RSS sum MB", "PSS sum MB", "of 2.7 GB"], rows)
    walk = ", ".join(f"{k} {v:g} s" for k, v in app.get("timings_s", {}).items())
    steps = ", ".join(
        f"{s['stage']} ({s['provenance']}, {'ok' if s['ok'] else 'FAILED'})" for s in app["steps"]
    )
    return f"{table}\n\nwalk: {walk}\n\naccepted steps: {steps or 'none'}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", choices=["auto", "browser", "apptest"], default="auto")
    args = ap.parse_args()
    driver = args.driver
    if driver == "auto":
        driver = "browser" if browser_available() else "apptest"
    print(machine_line())
    if args.driver == "auto" and driver == "apptest":
        print(
            "Chromium or Playwright is missing: the walk runs through AppTest (scripts/ensure_browser.sh "
            "installs Chromium)"
        )
    env = {k: v for k, v in os.environ.items() if k != "GEMMA_WIZARD_BACKEND"}  # the embedded model
    env["PYTHONPATH"] = str(ROOT)
    work = Path(tempfile.mkdtemp(prefix="memory_bench_"))
    try:
        bare = measure_child("bare", env, work)
        app = measure_browser(env, work) if driver == "browser" else measure_child("apptest", env, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(render(bare, app))
    ok_stages = sorted({s["stage"] for s in app["steps"] if s["ok"]})
    if ok_stages != ["clean", "feature", "model"]:
        raise SystemExit("the walk did not accept a clean, a feature and a model step: no valid figure")
    end = app["moments"][AFTER_WALK]
    print()
    print(
        last_line(
            "memory",
            driver=driver,
            stages_walked=6,
            steps_accepted=len(app["steps"]),
            processes=end["processes"],
            peak_rss_mb=round(app["peak_rss_mb"]),
            end_rss_mb=round(end["rss_mb"]),
            end_pss_mb=round(end["pss_mb"]),
            bare_model_pss_mb=round(bare["moments"][BARE]["pss_mb"]),
            limit_mb=LIMIT_MB,
            headroom_mb=round(LIMIT_MB - max(app["peak_rss_mb"], end["pss_mb"])),
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        {"bare": child_bare, "apptest": child_apptest}[sys.argv[2]](Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        main()
