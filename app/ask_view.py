"""Ask about the data: a question answered by code that runs in the sandbox on the whole table.

Gemma writes `def answer(df)`; the value is checked against the question; where Gemma's answer
fails, a question recipe may answer instead, and the page says so. Nothing here runs model code
in the server process: `core.engine.answer.ask` sends every program to the sandbox.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app import common as ui
from core.engine.answer import AskError, ask
from core.engine.intent_base import decode_value
from core.safe_text import escape_md

WHO = {"gemma": "Gemma", "gemma-repaired": "Gemma (repaired after a failed try)"}


def render(project: Any, df: pd.DataFrame) -> None:
    st.subheader("Ask about your data")
    st.caption(
        "Gemma writes pandas code for your question; it runs in the sandbox on the whole table and "
        "the answer is checked against what you asked."
    )
    question = st.text_input(
        "Question", key="ask_question", placeholder="e.g. What is the average price per city?"
    )
    if st.button("Ask", key="ask_go") and question.strip():
        backend = ui.get_backend()
        if backend is None:
            st.error("No model is loaded: see the sidebar.")
            return
        with st.spinner("Gemma is writing the code and the sandbox is running it…"):
            try:
                a = ask(df, question.strip(), backend, ui.get_sandbox(project))
            except AskError as e:
                st.session_state["ask_last"] = {"question": question, "error": str(e)}
            else:
                st.session_state["ask_last"] = {
                    "question": question, "value": decode_value(a.value), "code": a.code, "source": a.source,
                    "reading": a.reading, "intent": a.intent, "checks": list(a.intent_checks),
                    "reason": a.intent_reason,
                }  # fmt: skip
    last = st.session_state.get("ask_last")
    if last:
        _show(last)


def _show(last: dict[str, Any]) -> None:
    st.markdown(f"**Q:** {escape_md(last['question'])}")
    if "error" in last:
        st.warning(
            f"Could not answer this: {escape_md(last['error'])}. Try naming the column and what to compute "
            "(e.g. 'the median age per city')."
        )
        return
    value = last["value"]
    if isinstance(value, (pd.DataFrame, pd.Series)):
        st.dataframe(value)
    else:
        st.markdown(f"**Answer:** `{escape_md(str(value))[:2000]}`")
    if last["source"] == "rule":
        st.info(
            "Written by a question recipe, not by Gemma (Gemma's answer failed its checks); "
            f"the question was read as {escape_md(last['reading'] or '?')}."
        )
    else:
        st.caption(f"Written by {WHO.get(last['source'], last['source'])}.")
    if last["intent"] == "verified":
        st.success("Checked against your question: " + "; ".join(c.lstrip("✓ ") for c in last["checks"]))
    else:
        st.warning(f"Not verified against your question: {escape_md(last['reason'] or 'no check applies')}")
    with st.expander("Code"):
        st.code(last["code"], language="python")
