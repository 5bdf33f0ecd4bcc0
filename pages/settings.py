"""Model settings: pick the backend and model; apply loads it (the previous one is kept on error)."""

from __future__ import annotations

import streamlit as st

from app import common as ui

ui.sidebar("settings")
st.title("⚙️ Model settings")

current = dict(st.session_state.get("model_settings") or ui.default_settings())
st.caption(
    "The default is the embedded Gemma 3 270M (4-bit GGUF) on the CPU. A bigger Gemma can be used from a "
    "local GGUF file, a Hugging Face folder (transformers, 4-bit NF4 on CUDA) or an OpenAI-compatible server "
    "(llama.cpp server, Ollama, vLLM)."
)
kinds = ["gguf", "transformers", "openai", "fake"]
with st.form("model_settings_form"):
    kind = st.selectbox(
        "Backend",
        kinds,
        index=kinds.index(current.get("kind")) if current.get("kind") in kinds else 0,
        key="set_kind",
    )
    values: dict[str, object] = {"kind": kind}
    for name, label in (
        (
            "model",
            "Model: GGUF path, Hugging Face folder or hub id, or the server's model name "
            "(empty: the embedded Gemma 3 270M)",
        ),
        ("base_url", "Server URL (OpenAI-compatible, e.g. http://127.0.0.1:8080/v1)"),
        ("api_key", "API key (if the server needs one)"),
    ):
        values[name] = st.text_input(label, value=str(current.get(name) or ""), key=f"set_{name}") or None
    cols = st.columns(2)
    values["n_ctx"] = int(
        cols[0].number_input("Context size (tokens)", 256, 131072, int(current.get("n_ctx") or 4096))
    )
    n_threads = int(current.get("n_threads") or 0)
    threads = int(cols[1].number_input("CPU threads (0: automatic)", 0, 256, n_threads))
    values["n_threads"] = threads or None
    quants = ["auto", "4bit", "none"]
    q = current.get("quantization") if current.get("quantization") in quants else "auto"
    values["quantization"] = st.selectbox(
        "Quantization (transformers: auto = 4-bit NF4 on CUDA)", quants, index=quants.index(q)
    )
    values["adapter"] = st.checkbox(
        "Use the wizard-tuned adapter (embedded Gemma, when adapters/ has one)",
        value=bool(current.get("adapter", True)),
        key="set_adapter",
    )
    submitted = st.form_submit_button("Apply", type="primary")
if submitted:
    new = {**current, **values}
    ok, message = ui.apply_settings(new)
    if ok:
        st.success(message)
        st.rerun()
    else:
        st.error(f"{message}\n\nThe previous model stays loaded.")

with st.expander("Current settings"):
    st.json({k: ("***" if k == "api_key" and v else v) for k, v in current.items()})
