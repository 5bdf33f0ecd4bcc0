"""Model-stage extras: target / task choice, the detector's findings (left out by default, put back
with one click), metrics rendered through `core.model_result.ModelResult`, the budgeted search and
the comparison with the recommended model."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app import common as ui
from core.safe_text import escape_md


def target_and_checks(project: Any, df: pd.DataFrame | None) -> bool:
    """Target and task pickers plus the warnings shown before training; False stops the page."""
    if df is None:
        return False
    from core import modeling  # scikit-learn: loaded on the model page only

    store = ui.get_store()
    columns = [str(c) for c in df.columns]
    suggested = [t for t in (project.profile.target_candidates if project.profile else []) if t in columns]
    default = project.target if project.target in columns else (suggested[0] if suggested else None)
    c1, c2 = st.columns(2)
    target = c1.selectbox(
        "Target" + (f" (suggested: {', '.join(suggested[:3])})" if suggested else ""),
        columns,
        index=columns.index(default) if default in columns else None,
        key="model_target",
        placeholder="pick the column to predict",
    )
    if target is None:
        st.info("Pick the column to predict.")
        return False
    y = df[target]
    if isinstance(y, pd.DataFrame):
        y = y.iloc[:, 0]
    detected = modeling.detect_task(y)
    tasks = ["classification", "regression"]
    current_task = project.task if project.target == target and project.task in tasks else detected
    task = c2.selectbox(
        f"Task (detected: {detected})", tasks, index=tasks.index(current_task), key="model_task"
    )
    if target != project.target or task != project.task:
        project.target = target
        project.task = task
        store.save(project)
    # Streamlit reruns the page on every click: scan once per data version, target and task.
    key = (project.id, tuple(s.id for s in project.active_steps), target, task)
    cache = st.session_state.setdefault("model_findings_cache", {})
    if key not in cache:
        cache.clear()
        cache[key] = modeling.leakage_and_id_checks(project.profile, df, target, task)
    _findings_panel(project, cache[key])
    return True


_KIND_TITLE = {
    "identifier": "identifier",
    "leak": "suspected leak",
    "post_outcome": "known only after the outcome",
}


def _findings_panel(project: Any, findings: list[Any]) -> None:
    """Each suspect with its evidence: left out by default; one click puts it back (or out again)."""
    if not findings:
        st.caption("The detector found no identifier, leak or post-outcome column.")
        return
    store = ui.get_store()
    put_back = set(project.model_put_back)
    used = [f for f in findings if all(c in put_back for c in f.columns)]
    st.markdown(
        f"**Left out of the features by default ({len(findings) - len(used)} of {len(findings)} findings)** "
        "— put a column back only if it is known before the outcome and describes the row."
    )
    for i, f in enumerate(findings):
        back = f in used
        c1, c2 = st.columns([6, 1])
        state = "⚠️ put back (used by the model)" if back else "⛔ left out"
        cols = ", ".join(escape_md(c, code=True) for c in f.columns)
        c1.markdown(f"{state} · {cols} — **{_KIND_TITLE.get(f.kind, f.kind)}**: {escape_md(f.evidence)}")
        if c2.button("Leave out" if back else "Put back", key=f"putback_{i}_{f.rule}"):
            if back:
                project.model_put_back = [c for c in project.model_put_back if c not in f.columns]
            else:
                project.model_put_back = project.model_put_back + [c for c in f.columns if c not in put_back]
            store.save(project)
            st.rerun()
    if any(f.kind != "identifier" for f in used):
        st.error("A suspected leak is in the features: a model trained now is labelled as such everywhere.")


def show_metrics(m: dict[str, Any], key: str) -> None:
    """The trained model beside the dummy and HGB-default baselines, then the charts."""
    if not m:
        st.info("No metrics recorded.")
        return
    from core.model_result import ModelResult

    res = ModelResult.from_metrics(m)
    if res.leak_label:
        st.error(escape_md(res.leak_label))
    # One table with one set of labels (core.model_result): no metric tiles repeating its numbers.
    st.dataframe(res.frame(), hide_index=True)
    st.caption(f"{res.task} · train {res.n_train or '?'} rows, test {res.n_test or '?'} rows")
    left = res.left_out_lines(escape=escape_md)
    if left:
        st.markdown("**Left out of the features:**\n" + "\n".join(f"- {x}" for x in left))
    for note in m.get("notes") or []:
        st.caption(f"Note: {escape_md(note)}")
    from core.model_charts import model_figures

    figs = model_figures(m)
    if figs:
        tabs = st.tabs([n.replace("_", " ") for n in figs])
        for tab, (name, fig) in zip(tabs, figs.items(), strict=True):
            with tab:
                st.plotly_chart(fig, key=f"{key}_{name}")
    # Security (issue 16): the store derives the file's path itself; the step's result only names it.
    project = ui.current_project()
    data = ui.get_store().model_file_bytes(project, m) if project is not None else None
    if data:
        st.caption(
            "model.pkl is a Python pickle written by the step's own code inside the sandbox. Loading a "
            "pickle (pickle.load, joblib.load) runs whatever code it contains: load it only where you "
            "would run this step's code yourself. The notebook export retrains it from the code instead."
        )
        st.download_button(
            "⬇ Download the trained pipeline (pickle: loading it runs code)",
            data,
            file_name="model.pkl",
            mime="application/octet-stream",
            key=f"{key}_pkl",
        )


def accepted_models(project: Any) -> None:
    """Every trained model step side by side, then the latest one's details."""
    search_panel(project)
    steps = [s for s in project.active_steps if s.stage == "model" and s.result and s.result.ok]
    if not steps:
        return
    from core import modeling

    st.subheader("Trained models")
    st.dataframe(modeling.compare_table(project.active_steps), hide_index=True)
    best = modeling.recommended_index(steps)
    if best is not None:
        st.caption(
            f"★ Recommended: #{best + 1}, the best cross-validated score among models without a suspected "
            "leak (chosen on the training folds, so its test score stays an honest estimate)."
        )
    with st.expander("Latest model: metrics and charts", expanded=True):
        show_metrics(steps[-1].result.metrics or {}, key="accepted")


def search_panel(project: Any) -> None:
    """Run the budgeted search; its winner becomes a model step trained beside the baselines."""
    from core import model_search

    if not project.target:
        return
    with st.expander("🔎 Search for a stronger model within a time budget"):
        st.caption(
            "Tries HistGradientBoosting (default and tuned), a linear model with proper encoding and "
            "data-driven variants (log target, class weights, target encoding) by cross-validation on "
            "the training split, then trains the best one here beside the baselines."
        )
        budget = st.number_input(
            "Budget (seconds)",
            min_value=5,
            max_value=600,
            value=int(model_search.DEFAULT_BUDGET_S),
            step=5,
            key="search_budget",
        )
        if st.button("Search and train the best model", key="search_run"):
            from core import modeling
            from core.project import StepError

            with st.status(f"Searching for up to {budget} s…"):
                try:
                    modeling.search_step(project, ui.get_store(), ui.get_sandbox(), budget_s=float(budget))
                except (ValueError, StepError) as e:
                    st.error(f"The search found no model: {escape_md(e)}")
                    return
            st.session_state["flash"] = "The search winner was trained and added as a model step."
            st.rerun()
