"""Model-stage extras: target / task choice, leakage and ID warnings, metrics, charts, comparison."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

import ui_common as ui

METRIC_LABELS = {
    "roc_auc": "ROC-AUC",
    "balanced_accuracy": "balanced accuracy",
    "f1_macro": "F1 (macro)",
    "r2": "R²",
    "rmse": "RMSE",
    "mae": "MAE",
}


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
    warnings = modeling.leakage_and_id_checks(project.profile, df, target)
    if warnings:
        st.warning(
            "These columns will be dropped before training:\n\n"
            + "\n".join(f"- `{w.column}`: {w.reason}" for w in warnings if w.drop)
        )
    return True


def _metric_table(m: dict[str, Any]) -> pd.DataFrame:
    rows = []
    main = {"model": f"proposed ({m.get('estimator', '')})"}
    for k, v in (m.get("test") or {}).items():
        main[f"test {METRIC_LABELS.get(k, k)}"] = v
    for k, v in ((m.get("cv") or {}).get("mean") or {}).items():
        main[f"CV {METRIC_LABELS.get(k, k)}"] = v
    rows.append(main)
    for name, b in (m.get("baselines") or {}).items():
        row = {"model": f"baseline: {name}"}
        if "error" in b:
            row["error"] = b["error"]
        for k, v in (b.get("test") or {}).items():
            row[f"test {METRIC_LABELS.get(k, k)}"] = v
        for k, v in ((b.get("cv") or {}).get("mean") or {}).items():
            row[f"CV {METRIC_LABELS.get(k, k)}"] = v
        rows.append(row)
    return pd.DataFrame(rows)


def show_metrics(m: dict[str, Any], key: str) -> None:
    """The trained model beside the dummy and HGB-default baselines, then the charts."""
    if not m:
        st.info("No metrics recorded.")
        return
    primary = m.get("primary_metric", "")
    score = (m.get("test") or {}).get(primary)
    hgb = ((m.get("baselines") or {}).get("hgb_default") or {}).get("test", {}).get(primary)
    dummy = ((m.get("baselines") or {}).get("dummy") or {}).get("test", {}).get(primary)
    c = st.columns(3)
    c[0].metric(
        f"Proposed · test {METRIC_LABELS.get(primary, primary)}", "—" if score is None else f"{score:.3f}"
    )
    c[1].metric("HGB default", "—" if hgb is None else f"{hgb:.3f}")
    c[2].metric("Dummy", "—" if dummy is None else f"{dummy:.3f}")
    st.dataframe(_metric_table(m), hide_index=True)
    st.caption(
        f"{m.get('task', '')} · train {m.get('n_train', '?')} rows, test {m.get('n_test', '?')} rows · "
        f"dropped: {', '.join(m.get('dropped_columns') or []) or 'none'}"
    )
    for note in m.get("notes") or []:
        st.caption(f"Note: {note}")
    from core.model_charts import model_figures

    figs = model_figures(m)
    if figs:
        tabs = st.tabs([n.replace("_", " ") for n in figs])
        for tab, (name, fig) in zip(tabs, figs.items(), strict=True):
            with tab:
                st.plotly_chart(fig, key=f"{key}_{name}")
    path = m.get("model_path")
    if path and Path(path).exists():
        st.download_button(
            "⬇ Download the trained pipeline (pickle)",
            Path(path).read_bytes(),
            file_name="model.pkl",
            mime="application/octet-stream",
            key=f"{key}_pkl",
        )


def accepted_models(project: Any) -> None:
    """Every trained model step side by side, then the latest one's details."""
    steps = [s for s in project.active_steps if s.stage == "model" and s.result and s.result.ok]
    if not steps:
        return
    from core import modeling

    st.subheader("Trained models")
    st.dataframe(modeling.compare_table(project.active_steps), hide_index=True)
    with st.expander("Latest model: metrics and charts", expanded=True):
        show_metrics(steps[-1].result.metrics or {}, key="accepted")
