"""The proposal as the stage page shows it: its verdict, its provenance (named once), its
checks, and what to offer when there is nothing worth doing.

Only a proposal that verified and (for a free-form request) passed its intent checks is shown as
ready; a failed or unchecked one never gets a green mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

from core.safe_text import escape_md

PROVENANCE_ICON = {"gemma": "🟢", "gemma-repaired": "🟡", "rule": "🔵", "user": "✏️"}
PROVENANCE_LABEL = {
    "gemma": "Gemma",
    "gemma-repaired": "Gemma (repaired)",
    "rule": "rule",
    "user": "edited by you",
}
# What a user may ask for when the stage has nothing to propose: the recipe families, phrased as
# requests (clicking one fills the request box; Gemma or the matching recipe then writes it).
SUGGESTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "clean": (
        ("drop rows where {col} is missing", "any"),
        ("fill missing values of {col} with the median", "number"),
        ("merge rare categories of {col} into Other", "category"),
        ("drop the column {col}", "any"),
    ),
    "feature": (
        ("add month, year and weekday of {col}", "date"),
        ("log-transform {col}", "number"),
        ("encode {col} by its frequency", "category"),
        ("merge rare categories of {col} into Other", "category"),
    ),
    "model": (("use a random forest", "none"), ("use logistic regression", "none")),
}


def column_kinds(df: Any) -> dict[str, list[str]]:
    """The frame's columns by the kind a suggestion needs (number, date, category, any)."""
    import pandas as pd

    if df is None:
        return {}
    kinds: dict[str, list[str]] = {"any": [], "number": [], "date": [], "category": []}
    for name in df.columns:
        s = df[name]
        if isinstance(s, pd.DataFrame):  # a repeated column name
            continue
        kinds["any"].append(str(name))
        if pd.api.types.is_datetime64_any_dtype(s):
            kinds["date"].append(str(name))
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            kinds["number"].append(str(name))
        else:
            kinds["category"].append(str(name))
    return kinds


VerdictKind = Literal["ready", "unchecked", "failed", "nothing"]


@dataclass(frozen=True)
class Verdict:
    """How a proposal is shown: only "ready" may look like success."""

    kind: VerdictKind
    headline: str
    icon: str  # the badge's colour: 🟢/🟡/🔵 ready, 🟠 unchecked, 🔴 failed, ⚪ nothing to do


def proposal_verdict(proposal: Any) -> Verdict:
    """Ready / unchecked / failed / nothing to do, from the engine's typed outcome."""
    intent = getattr(proposal, "intent", "n/a")
    if getattr(proposal, "nothing_to_do", False):
        return Verdict("nothing", "Nothing worth doing in this stage on this data.", "⚪")
    if not proposal.verified or intent == "failed":
        reason = getattr(proposal, "intent_reason", None) if intent == "failed" else None
        return Verdict("failed", f"Not done: {reason or proposal.provenance_detail}", "🔴")
    if intent == "unchecked":
        return Verdict(
            "unchecked",
            "It runs, but nothing checked that it does what you asked: read the code before accepting.",
            "🟠",
        )
    extra = " and does what you asked" if intent == "verified" else ""
    return Verdict(
        "ready",
        f"Proposal ready: it ran in the sandbox{extra}.",
        PROVENANCE_ICON.get(proposal.provenance, "🔵"),
    )


def provenance_text(source: str, detail: str, icon: str | None = None) -> str:
    """The badge and the detail in one phrase, the source named once ("🟢 Gemma", not "Gemma — Gemma")."""
    label = PROVENANCE_LABEL.get(source, source)
    mark = icon or PROVENANCE_ICON.get(source, "")
    detail = (detail or "").strip()
    first = label.split()[0].lower()
    if not detail or detail.lower() == label.lower():
        return f"{mark} {label}".strip()
    if detail.lower().startswith(first):
        return f"{mark} {detail}".strip()
    return f"{mark} {label} — {detail}".strip()


def proposal_header(stage: str, proposal: Any, verdict: Verdict, kinds: dict[str, list[str]]) -> None:
    """Verdict banner, provenance (once), why, checks, attempts, prompt."""
    show = {"ready": st.success, "unchecked": st.warning, "failed": st.error, "nothing": st.info}[
        verdict.kind
    ]
    show(escape_md(verdict.headline))
    icon = verdict.icon if verdict.kind != "ready" else None
    # The banner above already says why it failed: the provenance line then only names the source.
    said = verdict.kind == "failed"
    line = provenance_text(proposal.provenance, "" if said else proposal.provenance_detail, icon)
    st.markdown(f"**Provenance:** {escape_md(line)}")
    if verdict.kind == "nothing":
        _nothing_to_do(stage, kinds)
        return
    if proposal.rationale:
        reasons = [r.strip() for r in proposal.rationale.splitlines() if r.strip()]
        st.markdown("**Why:**\n" + "\n".join(f"- {escape_md(r)}" for r in reasons))
    checks = list(getattr(proposal, "intent_checks", []) or [])
    if checks:
        with st.expander(f"Checks against your request ({len(checks)})", expanded=verdict.kind != "ready"):
            st.markdown("\n".join(f"- {escape_md(c)}" for c in checks))
    for r in proposal.refused:
        st.warning(f"Refused by the safety check: {escape_md(r)}")
    if proposal.attempts:
        with st.expander(f"Attempts ({len(proposal.attempts)})"):
            for a in proposal.attempts:
                mark = "✓" if a.ok else "✗"
                why = escape_md(a.failure or "")
                st.markdown(f"{mark} **{escape_md(a.source)}** ({a.seconds:.1f} s) {why}")
    if proposal.prompt:
        with st.expander("Prompt preview: exactly what went to the model"):
            st.code(proposal.prompt, language="text")


def _suggest(stage: str, text: str) -> None:
    st.session_state[f"request_{stage}"] = text


def _nothing_to_do(stage: str, kinds: dict[str, list[str]]) -> None:
    """Instead of a no-op step: the free-form request and the recipe families as requests."""
    st.markdown(
        "No step is offered, because one that changes nothing is not worth a place in your notebook. "
        "Ask for something specific in the box above, or start from one of these:"
    )
    for i, (template, kind) in enumerate(SUGGESTIONS.get(stage, ())):
        cols = kinds.get(kind, [])
        if kind != "none" and not cols:
            continue  # no column of that kind: the suggestion could not apply
        text = template.format(col=cols[0] if cols else "")
        st.button(text, key=f"suggest_{stage}_{i}", on_click=_suggest, args=(stage, text))


def step_provenance(step: Any) -> str:
    """A step's provenance line; a step accepted from an unchecked proposal keeps its orange mark."""
    icon = None
    proposal = getattr(step, "proposal", None)
    if proposal is not None and step.provenance == proposal.provenance:
        verdict = proposal_verdict(proposal)
        icon = verdict.icon if verdict.kind != "ready" else None
    return provenance_text(step.provenance, step.provenance_detail, icon)
