"""The one page function the clean, feature and model stages share.

A page shows the current proposal in an editor with its provenance, verdict and rationale, runs
it on a preview in the sandbox, and accepts it as a step; it lists the stage's steps (edit,
remove, replay) and shows what a run changed. All decisions are made in `core/`; this file
renders them. A proposal is shown as ready only when it verified AND (for a free-form request)
its intent checks passed: a failure never gets a green mark.
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from app import common as ui
from app import progress_view, proposal_view
from app.run_view import prepare_next_run, show_result
from core.safe_text import escape_md

STAGE_HELP = {
    "clean": "Fix types, spelling, duplicates and missing values. The code must define "
    "`def clean(df: pd.DataFrame) -> pd.DataFrame`.",
    "feature": "Add or transform columns the model can learn from. The code must define "
    "`def add_features(df: pd.DataFrame) -> pd.DataFrame`.",
    "model": "An unfitted scikit-learn pipeline. The code must define `def build_model(X)`; "
    "the trusted harness splits train/test before any fitting and scores two baselines beside it.",
}


def _plain_editor() -> bool:
    """AppTest cannot drive custom components, so tests (and users who want it) get a text area."""
    if os.environ.get("GEMMA_WIZARD_PLAIN_EDITOR") == "1":
        return True
    try:
        import streamlit_ace  # noqa: F401
    except ImportError:
        return True
    return bool(st.session_state.get("plain_editor", False))


def code_editor(code: str, key: str) -> str:
    """A real code editor (Ace: highlighting, line numbers) or a plain text area."""
    if _plain_editor():
        return st.text_area("Code", value=code, height=320, key=f"{key}_plain")
    from streamlit_ace import st_ace

    edited = st_ace(
        value=code,
        language="python",
        theme="github",
        show_gutter=True,
        auto_update=True,
        min_lines=14,
        max_lines=40,
        font_size=13,
        key=f"{key}_ace",
    )
    return code if edited is None else str(edited)


# --------------------------------------------------------------------------- proposing
def _waiting(status: Any, stage: str, kept: str, project: Any) -> dict[str, Any]:
    """Inside `status`: a Cancel button. Returns what every engine call (propose, fix) takes from
    the page: the project, a backend and a sandbox that report their progress there, its data."""
    # A click re-runs the page, which stops this run at its next output: nothing is kept.
    st.button("Cancel", key=f"cancel_{stage}", help=f"Stop waiting; {kept} is kept.")
    progress = progress_view.ProposalProgress(status, st.empty())
    return {
        "project": project,
        "backend": progress_view.streaming_backend(ui.get_backend(), st.empty(), progress),
        "sandbox": progress.observe(ui.get_sandbox(project)),
        "data": ui.get_store().current_data_path(project),
    }


def _show_proposal(stage: str, proposal: Any, forget: tuple[str, ...]) -> None:
    """Make `proposal` the stage's current one: drop the state in `forget`, refresh the editor."""
    st.session_state[f"proposal_{stage}"] = proposal
    for k in forget:
        st.session_state.pop(k, None)
    st.session_state[f"edit_{stage}_v"] = st.session_state.get(f"edit_{stage}_v", 0) + 1


def _propose(stage: str, project: Any, request: str | None) -> None:
    from core.engine.session import propose  # scikit-learn: loaded on the first proposal

    slot = st.empty()
    with slot.status("Preparing the context from the profile…", expanded=True) as status:
        engine = _waiting(status, stage, "the current proposal", project)
        try:
            proposal = propose(
                stage, request=request or None, exclude=list(project.excluded_columns), **engine
            )
        except Exception as e:  # noqa: BLE001 - a failed proposal is shown; nothing is lost
            status.update(label="The proposal failed", state="error")
            st.error(f"Could not make a proposal: {type(e).__name__}: {escape_md(e)}")
            return
    # The verdict below says how it went; a finished status would show a green tick for a failure.
    slot.empty()
    _show_proposal(stage, proposal, (f"run_{stage}", f"blank_{stage}", f"confirm_{stage}"))


def _run(stage: str, project: Any, code: str) -> None:
    """Run the code on the current data in the sandbox; nothing is saved to the project."""
    store = ui.get_store()
    with st.status("Training in the sandbox…" if stage == "model" else "Running in the sandbox…") as status:
        result = store.run_step(project, stage, code, ui.ENTRYPOINTS[stage], ui.get_sandbox())
        status.update(
            label="Ran without error" if result.ok else "The run failed",
            state="complete" if result.ok else "error",
        )
    # Only the small run record is kept (its output stays a Parquet file in the project's
    # workspace), so that Accept can reuse it instead of running the code again.
    st.session_state[f"run_{stage}"] = {"result": result, "code": code}


def _accept(stage: str, project: Any, code: str, proposal: Any, request: str | None) -> None:
    from core.models import Step
    from core.project import StepError

    store = ui.get_store()
    edited = proposal is None or code.strip() != proposal.code.strip()
    provenance = "user" if edited else proposal.provenance
    detail = proposal.provenance_detail if proposal is not None and not edited else "edited by you"
    if edited and proposal is not None:
        detail = f"edited by you (from: {proposal.provenance_detail})"
    step = Step(
        id=store.new_step_id(),
        stage=stage,
        request=request,
        proposal=proposal,
        code=code,
        entrypoint=ui.ENTRYPOINTS[stage],
        provenance=provenance,
        provenance_detail=detail,
        rationale=proposal.rationale if proposal else "",
    )
    run = st.session_state.get(f"run_{stage}")
    previous = run["result"] if run and run["code"] == code else None
    with st.status("Accepting: running on the data and saving a snapshot…") as status:
        try:
            store.accept_step(project, step, sandbox=ui.get_sandbox(), result=previous)
        except StepError as e:
            status.update(label="Not accepted: the code failed", state="error")
            st.error(f"Not accepted: {escape_md(e)}")
            return
        status.update(label="Accepted", state="complete")
    for k in (f"proposal_{stage}", f"run_{stage}", f"confirm_{stage}"):
        st.session_state.pop(k, None)
    st.session_state["flash"] = f"Step accepted ({proposal_view.step_provenance(step)})."
    st.rerun()


# --------------------------------------------------------------------------- views
def steps_list(stage: str, project: Any) -> None:
    """This stage's steps with provenance; edit, remove, replay."""
    store = ui.get_store()
    steps = [(i, s) for i, s in enumerate(project.steps) if s.stage == stage]
    if not steps:
        st.caption("No step accepted in this stage yet.")
        return
    for i, step in steps:
        active = i < project.cursor
        state = "stale ⚠️" if step.stale else ("active" if active else "undone (redo to restore)")
        ok = "" if step.result is None else (" · ran ✓" if step.result.ok else " · failed ✗")
        with st.expander(f"Step {i + 1}: {escape_md(step.purpose)} · {state}{ok}", expanded=False):
            line = proposal_view.step_provenance(step)
            st.markdown(f"**Provenance:** {escape_md(line)}")
            if step.result is not None and not step.result.ok:
                st.error(f"Failed when last run: {escape_md(step.result.error)}")
            if len(step.reasons) > 1 or (step.reasons and step.reasons[0].rstrip(". ") != step.purpose):
                st.markdown("\n".join(f"- {escape_md(r)}" for r in step.reasons))
            st.code(step.code, language="python", line_numbers=True)
            new_code = st.text_area("Edit this step", value=step.code, key=f"edit_step_{step.id}", height=200)
            c1, c2 = st.columns(2)
            if c1.button("Save edit (later steps become stale)", key=f"save_step_{step.id}"):
                from core.project import StepError

                try:
                    store.edit_step(project, step.id, new_code, ui.get_sandbox())
                    st.rerun()
                except StepError as e:
                    st.error(f"The edited code fails; nothing changed: {escape_md(e)}")
            if c2.button("Remove this step", key=f"remove_step_{step.id}"):
                store.remove_step(project, step.id)
                st.rerun()
    if any(s.stale for s in project.active_steps):
        st.warning("Some steps are stale because an earlier step changed.")
        if st.button("Replay the stale steps", key=f"replay_{stage}"):
            with st.status("Replaying steps in order…"):
                out = store.replay(project, ui.get_sandbox())
            failed = [o for o in out if not o.ok]
            for o in failed:
                n = next((i + 1 for i, s in enumerate(project.steps) if s.id == o.step_id), "?")
                st.error(f"Step {n} now fails: {escape_md(o.error)}")
            if not failed:
                st.success(f"Replayed {len(out)} stale step(s) without error.")


def _accept_buttons(
    stage: str,
    project: Any,
    code: str,
    proposal: Any,
    verdict: proposal_view.Verdict | None,
    request: str | None,
) -> None:
    unchanged = proposal is not None and code.strip() == proposal.code.strip()
    failed = unchanged and verdict is not None and verdict.kind == "failed"
    b = st.columns(5)
    if b[0].button("Train on the data" if stage == "model" else "Run on preview", key=f"run_{stage}_btn"):
        _run(stage, project, code)
    accept_help = "The proposal failed: edit the code, or ask again." if failed else None
    if b[1].button("Accept", type="primary", key=f"accept_{stage}", disabled=failed, help=accept_help):
        if unchanged and verdict is not None and verdict.kind == "unchecked":
            st.session_state[f"confirm_{stage}"] = True
        else:
            _accept(stage, project, code, proposal, request)
    if b[2].button("Explain", key=f"explain_{stage}_btn"):
        _explain(stage, project, code)
    run = st.session_state.get(f"run_{stage}")
    run_failed = run is not None and not run["result"].ok
    if b[3].button("Fix it", key=f"fix_{stage}_btn", disabled=not run_failed):
        _fix(stage, project, code, run["result"].error if run else "")
    # Undo here undoes this stage's last step only; the sidebar's undo is the global one.
    last = project.active_steps[-1] if project.active_steps else None
    if b[4].button(
        "Undo last step",
        key=f"undo_{stage}",
        disabled=last is None or last.stage != stage,
        help="Undo the last step of this stage (only when it is the latest step of the project).",
    ):
        ui.get_store().undo(project)
        st.rerun()
    if st.session_state.get(f"confirm_{stage}"):
        st.warning("Nothing checked that this code does what you asked. Accept it anyway?")
        c1, c2 = st.columns(2)
        if c1.button("Yes, accept it", key=f"confirm_yes_{stage}"):
            _accept(stage, project, code, proposal, request)
        if c2.button("No, keep editing", key=f"confirm_no_{stage}"):
            st.session_state.pop(f"confirm_{stage}", None)
            st.rerun()


# --------------------------------------------------------------------------- the page
def stage_page(stage: str, title: str) -> None:
    from app import model_view

    ui.sidebar(stage)
    st.title(title)
    st.caption(STAGE_HELP.get(stage, ""))
    if msg := st.session_state.pop("flash", None):
        st.success(escape_md(msg))
    if msg := st.session_state.pop("flash_error", None):
        st.error(escape_md(msg))
    if st.session_state.get(f"cancel_{stage}"):
        st.info("Cancelled: no new proposal.")
    project = ui.require_project()
    if project is None:
        return
    store = ui.get_store()
    before = ui.current_frame(project)
    columns = [str(c) for c in before.columns] if before is not None else []
    if stage != "model":  # model runs ask for their own limits: a prepared process would not fit
        prepare_next_run(store, project)

    if stage == "model" and not model_view.target_and_checks(project, before):
        return

    st.subheader("Steps in this stage")
    steps_list(stage, project)
    project = store.open(project.id)
    if stage == "model":
        model_view.accepted_models(project)

    st.subheader("Proposal")
    with st.expander("Privacy: columns whose sample values are never sent to the model"):
        excl = st.multiselect(
            "Exclude columns",
            columns,
            default=[c for c in project.excluded_columns if c in columns],
            key=f"excl_{stage}",
        )
        if sorted(excl) != sorted(project.excluded_columns):
            project.excluded_columns = list(excl)
            store.save(project)
    request = st.text_input(
        "Ask for something specific (optional)",
        key=f"request_{stage}",
        placeholder="e.g. merge rare categories of city into Other",
    )
    c = st.columns(3)
    pkey = f"proposal_{stage}"
    has = pkey in st.session_state
    if c[0].button(
        "Propose" if not has else "Ask for another proposal", type="primary", key=f"propose_{stage}"
    ):
        _propose(stage, project, request)
    if request and c[1].button("Propose from my request", key=f"propose_req_{stage}"):
        _propose(stage, project, request)
    if c[2].button("Start from empty code", key=f"blank_btn_{stage}"):
        st.session_state.pop(pkey, None)
        st.session_state[f"blank_{stage}"] = True

    proposal = st.session_state.get(pkey)
    if proposal is None and not st.session_state.get(f"blank_{stage}"):
        st.info("Click **Propose**: Gemma writes code from the profile; it is checked in the sandbox first.")
        return
    verdict = None
    if proposal is not None:
        verdict = proposal_view.proposal_verdict(proposal)
        proposal_view.proposal_header(stage, proposal, verdict, proposal_view.column_kinds(before))
        if verdict.kind == "nothing":
            return
        code0 = proposal.code
    else:
        code0 = _empty_code(stage, project.task)
    st.toggle(
        "Plain text editor", key="plain_editor", help="Use a simple text box instead of the code editor."
    )
    version = st.session_state.get(f"edit_{stage}_v", 0)
    code = code_editor(code0, key=f"editor_{stage}_{version}")
    with st.expander("Code with line numbers"):
        st.code(code, language="python", line_numbers=True)
    _accept_buttons(
        stage, project, code, proposal, verdict, (proposal.request if proposal else None) or request or None
    )

    if exp := st.session_state.get(f"explain_{stage}"):
        st.info(exp)
    run = st.session_state.get(f"run_{stage}")
    if run is not None:
        st.subheader("Result of the run")
        show_result(stage, project, run, before)


def _empty_code(stage: str, task: str | None) -> str:
    if stage == "model":
        est = "HistGradientBoostingRegressor" if task == "regression" else "HistGradientBoostingClassifier"
        return (
            "from sklearn.compose import make_column_selector, make_column_transformer\n"
            f"from sklearn.ensemble import {est}\n"
            "from sklearn.pipeline import make_pipeline\n"
            "from sklearn.preprocessing import OrdinalEncoder\n\n\n"
            "def build_model(X):\n"
            "    encode = make_column_transformer(\n"
            "        (OrdinalEncoder(handle_unknown='use_encoded_value', unknown_value=-1),\n"
            "         make_column_selector(dtype_exclude='number')),\n"
            "        remainder='passthrough',\n"
            "    )\n"
            f"    return make_pipeline(encode, {est}())\n"
        )
    fn = ui.ENTRYPOINTS[stage]
    return f"import pandas as pd\n\n\ndef {fn}(df: pd.DataFrame) -> pd.DataFrame:\n    return df.copy()\n"


def _explain(stage: str, project: Any, code: str) -> None:
    from core.engine.assist import explain

    with st.spinner("Gemma is reading the code…"):
        try:
            text = explain(code, project, ui.get_backend())
        except Exception as e:  # noqa: BLE001
            st.error(f"Could not explain: {escape_md(e)}")
            return
    st.session_state[f"explain_{stage}"] = text


def _fix(stage: str, project: Any, code: str, error: str | None) -> None:
    from core.engine.assist import fix

    with st.status("Gemma is fixing the code…", expanded=True) as status:
        engine = _waiting(status, stage, "your code", project)
        try:
            proposal = fix(code, error or "", stage=stage, **engine)
        except Exception as e:  # noqa: BLE001
            status.update(label="Could not fix it", state="error")
            st.error(f"Could not fix: {escape_md(e)}")
            return
        ok = proposal.verified
        status.update(label="Fix verified" if ok else "No verified fix", state="complete" if ok else "error")
    if not proposal.verified:
        st.session_state["flash_error"] = f"Gemma could not fix it: {proposal.provenance_detail}"
    _show_proposal(stage, proposal, (f"run_{stage}",))
    st.rerun()
