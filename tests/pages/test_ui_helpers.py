"""The UI's pure helpers: the wizard's progress states, a proposal's verdict and provenance line."""

from __future__ import annotations

from datetime import timedelta

from apptest_helpers import proposal

from app import common as ui
from app import progress_view, proposal_view
from core.models import DatasetProfile, DatasetRef, Project, Step, StepResult, utcnow


def _step(stage: str, stale: bool = False, ok: bool = True) -> Step:
    return Step(
        id=stage,
        stage=stage,
        code="",
        entrypoint="x",
        provenance="rule",
        provenance_detail="rule",
        stale=stale,
        result=StepResult(ok=ok),
    )


def test_stage_states_follow_the_project():
    assert ui.stage_states(None, "load") == {
        "load": "current",
        "profile": "todo",
        "clean": "todo",
        "feature": "todo",
        "model": "todo",
        "report": "todo",
    }
    p = Project(id="p", name="p")
    p.dataset = DatasetRef(filename="f.csv", raw_path="raw/f.csv", sha256="0", size_bytes=1)
    p.profile = DatasetProfile(n_rows=1, n_cols=1, n_duplicate_rows=0, memory_mb=0.0, columns=[])
    p.steps = [_step("clean"), _step("feature", stale=True), _step("model")]
    p.cursor = 3
    s = ui.stage_states(p, "feature")
    assert s["load"] == s["profile"] == s["clean"] == s["model"] == "done"
    assert s["feature"] == "stale"  # a stale stage stays stale even when it is the current page
    # A trained model does not make the report done: only opening (or drafting) it does.
    assert s["report"] == "todo"
    p.report_viewed_at = utcnow()
    assert ui.stage_states(p, "model")["report"] == "done"
    # A step changed after the report was opened: the report is stale.
    p.steps[2].updated_at = p.report_viewed_at + timedelta(seconds=5)
    assert ui.stage_states(p, "model")["report"] == "stale"
    p.cursor = 1  # feature and model undone
    s = ui.stage_states(p, "model")
    assert (s["clean"], s["feature"], s["model"], s["report"]) == ("done", "todo", "current", "done")


def test_a_failed_or_unchecked_request_is_never_shown_as_ready():
    ready = proposal_view.proposal_verdict(proposal())
    assert (ready.kind, ready.icon) == ("ready", "🟢")
    # The walk-through's case: Gemma's unverified attempt at a request it could not do.
    failed = proposal_view.proposal_verdict(
        proposal(verified=False, provenance_detail="could not do this: no usable proposal", request="x")
    )
    assert failed.kind == "failed" and failed.icon == "🔴" and "could not do this" in failed.headline
    ran_but_wrong = proposal_view.proposal_verdict(
        proposal(request="drop city", intent="failed", intent_reason="city is still there")
    )
    assert (ran_but_wrong.kind, ran_but_wrong.icon) == ("failed", "🔴")
    assert "city is still there" in ran_but_wrong.headline
    unchecked = proposal_view.proposal_verdict(proposal(request="make it nicer", intent="unchecked"))
    assert (unchecked.kind, unchecked.icon) == ("unchecked", "🟠")
    assert "ready" not in unchecked.headline.lower()
    nothing = proposal_view.proposal_verdict(proposal(nothing_to_do=True))
    assert nothing.kind == "nothing" and nothing.icon != "🟢"
    for v in (failed, ran_but_wrong, unchecked, nothing):
        line = proposal_view.provenance_text("gemma", "Gemma", v.icon)
        assert "🟢" not in line and line.startswith(v.icon)


def test_provenance_names_its_source_once():
    assert proposal_view.provenance_text("gemma", "Gemma") == "🟢 Gemma"
    assert proposal_view.provenance_text("rule", "rule") == "🔵 rule"
    assert proposal_view.provenance_text("rule", "rule (no Gemma proposal requested)") == (
        "🔵 rule (no Gemma proposal requested)"
    )
    assert proposal_view.provenance_text("gemma-repaired", "Gemma, repaired after 2 tries") == (
        "🟡 Gemma, repaired after 2 tries"
    )
    edited = proposal_view.provenance_text("user", "edited by you (from: Gemma)")
    assert edited == "✏️ edited by you (from: Gemma)"
    assert proposal_view.provenance_text("user", "typed by hand") == "✏️ edited by you — typed by hand"


def test_every_per_project_key_is_cleared_on_project_switch():
    # The empty-code flag was once written as `blankcode_` and cleared as `blank_`: one prefix list now.
    for key in (
        "proposal_clean",
        "run_clean",
        "blank_clean",
        "confirm_clean",
        "narr_dataset",
        "edit_clean_v",
    ):
        assert key.startswith(ui.PROJECT_STATE_PREFIXES), key


class _Recorder:
    """Stands in for an st.status and an st.empty: records what the page would show."""

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.text = ""

    def update(self, label: str = "", **_: object) -> None:
        self.labels.append(label)

    def markdown(self, text: str) -> None:
        self.text = text


class _Sandbox:
    def __init__(self) -> None:
        self.jobs = 0
        self.workspace = "ws"

    def run(self, job: object) -> str:
        self.jobs += 1
        return "ran"


def test_waiting_has_a_shape_context_writing_checking_repair():
    status, area = _Recorder(), _Recorder()
    progress = progress_view.ProposalProgress(status, area)
    assert status.labels[-1].startswith("Building the context")
    sandbox = progress.observe(_Sandbox())
    progress.generation()  # Gemma starts writing
    assert status.labels[-1].startswith("Gemma is writing")
    assert sandbox.run("job") == "ran" and sandbox.workspace == "ws"  # the sandbox still works
    assert status.labels[-1].startswith("Checking in the sandbox")
    progress.generation()  # a generation after a failed check is a repair
    assert status.labels[-1].startswith("Repair 1:")
    sandbox.run("job")
    progress.generation()
    assert status.labels[-1].startswith("Repair 2:")
    assert area.text.splitlines()[0].startswith("✓ Context")
    assert "⏳ Repair 2" in area.text


def test_streamed_generations_and_choices_are_progress_events():
    from core.llm.base import GenerationParams
    from core.llm.fake import FakeBackend

    status, area, live = _Recorder(), _Recorder(), []

    class _Live:
        def code(self, text: str, language: str = "") -> None:
            live.append(text)

    progress = progress_view.ProposalProgress(status, area)
    backend = progress_view.streaming_backend(FakeBackend(default="yes"), _Live(), progress)
    assert backend.complete("p", GenerationParams(max_tokens=5)) == "yes"
    assert progress.generations == 1 and live[-1] == "yes"
    assert backend.choose("pick", ["no", "yes"]) == "yes"
    assert progress.generations == 2 and "yes" in live[-1]
