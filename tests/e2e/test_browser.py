"""End to end in a real browser: `streamlit run` on loopback, driven by headless Debian Chromium.

Walks all six stages on a bundled sample with the scripted fake model (proposals then come from
the verified recipes, exactly as when Gemma fails; E2E_REAL_MODEL=1 uses the embedded Gemma),
downloads the notebook and the Markdown report and checks them. On the way it asserts what the
first real walk-through tripped on (issue 17): the before/after numbers after de-duplication, the
red badge of a request that failed, a narrative that ends with a full stop and says each sentence
once, the sidebar's report state, and a deep link (`/profile?project=…`). With SAVE_SCREENSHOTS=1
it writes a screenshot per stage to docs/screenshots/ (or SCREENSHOTS_DIR); E2E_ARTIFACTS names
a folder for the failure screenshot. Playwright's own browsers are never
downloaded: Debian's chromium is used (scripts/ensure_browser.sh installs it in `make test`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.serving import CHROMIUM, free_port, launch_chromium, serving_app

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or ROOT / "docs" / "screenshots")
REAL_MODEL = os.environ.get("E2E_REAL_MODEL") == "1"
# One step may run the sandbox and train three models on a CPU shared with other tests; with the
# real Gemma a proposal may take minutes there (generation, checks, repairs).
SLOW_MS = 600_000 if REAL_MODEL else 180_000

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(2700 if REAL_MODEL else 900)]

if not CHROMIUM.exists():
    pytest.skip("Debian chromium is not installed (run scripts/ensure_browser.sh)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory):
    projects = tmp_path_factory.mktemp("projects")
    env = {**os.environ, "GEMMA_WIZARD_PROJECTS": str(projects), "PYTHONUNBUFFERED": "1"}
    # E2E_REAL_MODEL=1 runs the same walk on the embedded Gemma (slower; used for the docs' screenshots).
    if not REAL_MODEL:
        env["GEMMA_WIZARD_BACKEND"] = "fake"
    port = free_port()
    log_path = tmp_path_factory.mktemp("log") / "streamlit.log"
    with serving_app(port, log_path, env):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def page(app_url: str):
    with sync_api.sync_playwright() as pw:
        browser = launch_chromium(pw)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        pg = context.new_page()
        pg.set_default_timeout(SLOW_MS)
        # A page may still be computing (a profile, a proposal) on a busy CPU: assertions wait as long.
        sync_api.expect.set_options(timeout=SLOW_MS)
        pg.goto(app_url)
        yield pg
        context.close()
        browser.close()


def _idle(page) -> None:
    """Wait until the script run finished (the running indicator is gone)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.match(/Running|Stop/)",
        timeout=SLOW_MS,
    )


def _shot(page, name: str, anchor: str | None = None) -> None:
    """Screenshot for the docs (SAVE_SCREENSHOTS=1), scrolled so `anchor` is at the top."""
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        _idle(page)
        if anchor:
            page.get_by_text(anchor).first.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(500)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def _go(page, label: str) -> None:
    link = page.locator("[data-testid='stSidebar']").get_by_role("link", name=re.compile(re.escape(label)))
    path = urlparse(link.first.get_attribute("href") or "").path.rstrip("/").rsplit("/", 1)[-1]
    # Under load the old page stays on screen for a while, and the stage pages share button names
    # ("Propose"): wait until the browser is on the new page before clicking anything on it. A click
    # that lands while the app is re-running can be lost: click again then.
    for attempt in range(3):
        link.first.click()
        try:
            page.wait_for_url(re.compile(rf"/{re.escape(path)}(\?|$)"), timeout=SLOW_MS // 3)
            break
        except sync_api.TimeoutError:
            if attempt == 2:
                raise
            _idle(page)
    _idle(page)


def _click(page, name: str, exact: bool = False) -> None:
    page.get_by_role("button", name=name, exact=exact).first.click()
    _idle(page)


def _stage(page, label: str, run_label: str) -> None:
    """Propose, run on the preview, accept: the same three clicks on clean, feature and model."""
    _go(page, label)
    _click(page, re.compile(r"^(Propose|Ask for another proposal)$"))
    page.get_by_text("Provenance:").first.wait_for()
    _click(page, run_label, exact=True)
    try:
        page.get_by_text("Result of the run").first.wait_for(timeout=SLOW_MS // 3)
    except sync_api.TimeoutError:
        # The code editor component reruns the page as it settles; a click that lands in that
        # rerun is dropped (seen in 2 of 8 walks, the page showing the proposal and no run). A
        # user clicks again: so does the test, once.
        _click(page, run_label, exact=True)
        page.get_by_text("Result of the run").first.wait_for()
    assert page.get_by_text("The run failed").count() == 0


def test_whole_wizard_in_a_browser(page, tmp_path: Path):
    try:
        _walk(page, tmp_path)
    except Exception:
        # E2E_ARTIFACTS keeps the picture where pytest's temporary folders are not pruned.
        shot = Path(os.environ.get("E2E_ARTIFACTS") or tmp_path) / "failure.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"failure screenshot: {shot}")
        raise


def _metric(page, label: str) -> str:
    """The value shown by the first `st.metric` with this label."""
    box = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


def _sidebar_state(page, title: str) -> str:
    link = page.locator("[data-testid='stSidebar']").get_by_role("link", name=re.compile(re.escape(title)))
    m = re.search(r"\((done|current|stale|todo)\)", link.first.inner_text())
    assert m, link.first.inner_text()
    return m.group(1)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", text.strip()) if s.strip()]


def _walk(page, tmp_path: Path) -> None:
    expect = sync_api.expect
    # 1. Load a bundled sample (the root URL forwards to /load; the first run loads the model).
    page.get_by_text("Load data").first.wait_for(timeout=SLOW_MS)
    assert urlparse(page.url).path.rstrip("/").endswith("/load"), page.url
    page.get_by_role("button", name=re.compile(r"^Load sample: ")).first.click()
    _idle(page)
    expect(page.get_by_text(re.compile(r"^Loaded: ")).first).to_be_visible()
    expect(page.get_by_text("Preview").first).to_be_visible()
    n_cols = int(_metric(page, "Columns").replace(",", ""))
    project_id = re.search(r"[?&]project=([^&]+)", page.url).group(1)
    assert _sidebar_state(page, "Report") == "todo"
    _shot(page, "1_load")

    # 2. Profile: facts table and a target.
    _go(page, "2 · Profile")
    expect(page.get_by_text("Duplicate rows").first).to_be_visible()
    duplicates = int(_metric(page, "Duplicate rows").replace(",", ""))
    assert duplicates > 0  # the sample has repeated rows: the clean step's before/after must say so
    # The sample's target is preselected and its task detected.
    line = page.get_by_text(re.compile(r"^Target column: ")).first.inner_text()
    m = re.match(r"Target column: (.+) · task: (classification|regression)", line)
    assert m, line
    target = m.group(1).strip()
    _shot(page, "2_profile")
    _shot(page, "2_profile_charts", "Missing values")

    # 3. Clean: propose, run (before/after), accept.
    _stage(page, "3 · Clean", "Run on preview")
    # Duplicates dropped and the index reset: rows are matched by content, not by position, so the
    # panel counts the removed duplicates and does not call every column changed.
    matched = page.get_by_text(re.compile(r"^Rows matched ")).first.inner_text()
    assert f"({duplicates:,} duplicates)" in matched, matched
    assert int(_metric(page, "Changed columns")) < n_cols
    _shot(page, "3_clean_proposal", "Provenance:")
    _shot(page, "3_clean_result", "Result of the run")
    _click(page, "Accept", exact=True)
    expect(page.get_by_text("Step accepted").first).to_be_visible()

    # 4. Features: the stage's proposal, accepted; then a request nothing can do (red, not acceptable).
    _stage(page, "4 · Features", "Run on preview")
    _shot(page, "4_feature", "Result of the run")
    _click(page, "Accept", exact=True)
    expect(page.get_by_text("Step accepted").first).to_be_visible()
    request = page.get_by_label("Ask for something specific (optional)")
    request.fill("translate every value into Klingon poetry")
    page.keyboard.press("Enter")
    _idle(page)
    _click(page, "Propose from my request", exact=True)
    page.get_by_text(re.compile(r"^(Not done:|It runs, but nothing checked)")).first.wait_for(timeout=SLOW_MS)
    markdown = page.locator("[data-testid='stMarkdownContainer']").filter(visible=True)
    provenance = markdown.filter(has_text=re.compile(r"^Provenance:")).last.inner_text()
    assert "🟢" not in provenance and page.get_by_text("Proposal ready").count() == 0, provenance
    if not REAL_MODEL:
        # The scripted model writes nothing and no recipe matches: a failure, red, not acceptable.
        # (The real Gemma may write code that runs; it can then at best be unchecked, orange.)
        assert "🔴" in provenance, provenance
        expect(page.get_by_role("button", name="Accept", exact=True)).to_be_disabled()
    _shot(page, "4_feature_failed_request", "Proposal")

    # 5. Model: train beside the baselines, accept.
    _stage(page, "5 · Model", "Train on the data")
    # Data-grid cells are drawn on a canvas; their accessible copies are attached, not visible.
    expect(page.get_by_text("baseline: hgb_default").first).to_be_attached()
    _shot(page, "5_model_run", "Result of the run")
    _click(page, "Accept", exact=True)
    expect(page.get_by_text("Trained models").first).to_be_visible()
    _shot(page, "5_model", "Trained models")
    # A model is trained, but the report was never opened: it is not done.
    assert _sidebar_state(page, "Report") == "todo"

    # 6. Report: draft the narrative, download the notebook and the Markdown report, check them.
    _go(page, "6 · Report")
    expect(page.get_by_text("Downloads").first).to_be_visible()
    _click(page, "Draft the narrative with Gemma", exact=True)
    expect(page.get_by_text("Narrative drafted").first).to_be_attached()
    boxes = page.locator("[data-testid='stTextArea'] textarea")
    narrative = [t for t in (boxes.nth(i).input_value() for i in range(boxes.count())) if t.strip()]
    assert narrative, "the edit boxes are empty after the draft"
    sentences = [s for text in narrative for s in _sentences(text)]
    assert len(sentences) == len(set(sentences)), sentences
    assert all(text.rstrip().endswith((".", "!", "?")) for text in narrative), narrative
    _shot(page, "6_report", "Downloads")
    with page.expect_download() as dl:
        page.get_by_role("button", name=re.compile(r"Notebook \(\.ipynb\)")).last.click()
    nb_path = tmp_path / "wizard.ipynb"
    dl.value.save_as(nb_path)
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert nb["nbformat"] == 4 and len(code_cells) >= 3
    sources = "\n".join("".join(c["source"]) for c in code_cells)
    assert "def clean(" in sources and "def add_features(" in sources and "def build_model(" in sources

    with page.expect_download() as dl:
        page.get_by_role("button", name=re.compile(r"Report \(\.md\)")).first.click()
    md_path = tmp_path / "report.md"
    dl.value.save_as(md_path)
    md = md_path.read_text(encoding="utf-8")
    # The report names the target chosen on the profile page and the model's metrics.
    assert target in md
    assert "baseline" in md.lower() or "dummy" in md.lower()
    assert narrative[0].strip() in md  # the drafted narrative is in the export at once

    # The sidebar: the report is done once opened.
    _go(page, "1 · Load")
    assert _sidebar_state(page, "Report") == "done"

    # 7. A deep link to a page of a project opens it there (a new session, as from a bookmark).
    base = page.url.split("/load")[0]
    page.goto(f"{base}/profile?project={project_id}")
    _idle(page)
    expect(page.get_by_text("Duplicate rows").first).to_be_visible()
    assert page.get_by_text("Page not found").count() == 0
    page.goto(f"{base}/load?project={project_id}")
    _idle(page)
    expect(page.get_by_text(re.compile(r"^Loaded: ")).first).to_be_visible()
    assert page.get_by_text("Page not found").count() == 0
    assert _sidebar_state(page, "Report") == "done"
