"""Shared UI helpers for the Streamlit pages: model, store, sandbox, project, sidebar.

Everything here is glue between Streamlit and `core/`: the pages stay thin and call these.
Session state keeps only small things (the open project's id, the model settings, pending
proposals and UI selections); the project itself lives in `core.project.ProjectStore` on disk,
so a refresh or a server restart brings the user back (the project id is also in the URL).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core import stages as stage_registry
from core.llm import registry
from core.safe_text import escape_md

# The wizard's stages come from the one registry (core.stages); only their look is declared here.
STAGES: tuple[str, ...] = tuple(spec.name for spec in stage_registry.ordered())
CODE_STAGES: tuple[str, ...] = tuple(spec.name for spec in stage_registry.code_stages())
ENTRYPOINTS = {spec.name: spec.contract.entry for spec in stage_registry.code_stages() if spec.contract}
STAGE_TITLES = {spec.name: f"{i} · {spec.title}" for i, spec in enumerate(stage_registry.ordered(), 1)}
STAGE_PAGE_ICONS = {
    "load": "📂",
    "profile": "🔎",
    "clean": "🧹",
    "feature": "🧪",
    "model": "🤖",
    "report": "📄",
}
STAGE_ICONS = {"done": "✅", "current": "👉", "stale": "⚠️", "todo": "⬜"}
PAGE_FILES = {spec.name: spec.page or f"pages/{spec.name}.py" for spec in stage_registry.ordered()} | {
    "settings": "pages/settings.py",
    "projects": "pages/projects.py",
}
# Session-state keys that belong to the open project (pending proposals, previews, edits):
# cleared when another project is opened. Every per-project key starts with one of these.
PROJECT_STATE_PREFIXES: tuple[str, ...] = (
    "proposal_",
    "run_",
    "edit_",
    "explain_",
    "datadoc_",
    "ydata_",
    "fix_",
    "report_",
    "narr_",
    "blank_",
    "confirm_",
)
QUERY_KEY = "project"


# --------------------------------------------------------------------------- model
def default_settings() -> dict[str, Any]:
    """Settings from the environment (GEMMA_WIZARD_* variables), as a plain dict."""
    try:
        return registry.settings_from_env().model_dump(mode="json")
    except Exception as e:  # noqa: BLE001 - bad variables: say so, use the embedded model
        st.session_state["model_error"] = str(e)
        return embedded_settings()


def embedded_settings() -> dict[str, Any]:
    """The default the app falls back to: the embedded Gemma 3 270M GGUF."""
    return registry.ModelSettings().model_dump(mode="json")


@st.cache_resource(show_spinner=False, max_entries=3)
def _load_backend(settings_json: str) -> Any:
    """One loaded model per distinct settings, shared by every browser session.

    The registry's guard serialises non-concurrent backends (llama.cpp contexts) so two
    sessions never generate at once on the same model.
    """
    settings = registry.ModelSettings.model_validate_json(settings_json)
    return registry.guarded(registry.build_backend(settings))


def _settings_json(settings: dict[str, Any]) -> str:
    return registry.ModelSettings.model_validate(settings).model_dump_json()


def get_backend() -> Any | None:
    """The model for this session, loading it once (with progress) on first use.

    A failure (wrong path, missing package, out of memory) is shown as a clear error and the
    session falls back to the embedded Gemma; the app never crashes on it.
    """
    settings = st.session_state.get("model_settings") or default_settings()
    # Last resort: where llama-cpp-python could not be built (e.g. a Cloud image without a
    # compiler), the same embedded GGUF loads de-quantized through transformers.
    via_transformers = {**embedded_settings(), "kind": "transformers"}
    tried: list[str] = []
    for candidate in (settings, embedded_settings(), via_transformers):
        try:
            key = _settings_json(candidate)
        except Exception as e:  # noqa: BLE001 - invalid settings are reported like a failed load
            st.session_state["model_error"] = f"invalid model settings: {e}"
            continue
        if key in tried:
            continue
        tried.append(key)
        try:
            with st.spinner("Loading the model (the first start assembles the embedded Gemma)…"):
                backend = _load_backend(key)
        except Exception as e:  # noqa: BLE001 - any load failure must leave the app usable
            st.session_state["model_error"] = f"{type(e).__name__}: {e}"
            continue
        if candidate is not settings:
            how = "through transformers" if candidate is via_transformers else "(GGUF)"
            st.session_state["model_fallback"] = f"Using the embedded Gemma {how} instead."
        st.session_state["model_settings"] = candidate
        return backend
    return None


def apply_settings(new: dict[str, Any]) -> tuple[bool, str]:
    """Load a model with new settings; on failure keep the previous one and say why."""
    try:
        key = _settings_json(new)
        with st.status("Loading the model…", expanded=True) as status:
            st.write(f"Backend: `{new.get('kind', '?')}`")
            _load_backend(key)
            status.update(label="Model loaded", state="complete")
    except Exception as e:  # noqa: BLE001 - shown to the user, previous model kept
        return False, f"{type(e).__name__}: {e}"
    st.session_state["model_settings"] = new
    st.session_state.pop("model_error", None)
    st.session_state.pop("model_fallback", None)
    return True, "Model loaded."


def speed_summary(backend: Any) -> str:
    """Measured speed from the guarded backend's statistics (real calls only)."""
    stats = getattr(backend, "stats", None)
    if stats is None:
        return "not measured"
    summary = getattr(stats, "summary", None)
    return summary() if callable(summary) else str(stats)


def generation_params(max_tokens: int = 200, stop: tuple[str, ...] = ()) -> Any:
    from core.llm.base import GenerationParams

    return GenerationParams(max_tokens=max_tokens, temperature=0.0, stop=stop)


def stream_reply(backend: Any, prompt: str, max_tokens: int = 120) -> Iterator[str]:
    """Chunks of the model's reply for `st.write_stream` (chat template when the model wants it)."""
    text = registry.format_prompt(backend, "You are a concise data-science assistant.", prompt)
    params = generation_params(max_tokens)
    if getattr(backend, "can_stream", False):
        yield from backend.stream(text, params)
    else:
        yield backend.complete(text, params)


# --------------------------------------------------------------------------- projects
def projects_root() -> Path:
    return Path(os.environ.get("GEMMA_WIZARD_PROJECTS", "projects")).resolve()


@st.cache_resource(show_spinner=False)
def _store(root: str) -> Any:
    from core.project import ProjectStore

    Path(root).mkdir(parents=True, exist_ok=True)
    return ProjectStore(Path(root))


def get_store() -> Any:
    from app import visitor  # issue 16: on a shared deployment each visitor sees only their projects

    return visitor.scoped(_store(str(projects_root())))


_SANDBOXES: list[Any] = []


@st.cache_resource(show_spinner=False)
def _sandbox(workspace: str) -> Any:
    from core.sandbox.local import LocalSandbox

    sb = LocalSandbox(Path(workspace), pool_size=1)
    _SANDBOXES.append(sb)
    return sb


def close_sandboxes() -> None:
    """Stop every sandbox worker this process started (tests and benchmarks call it)."""
    while _SANDBOXES:
        try:
            _SANDBOXES.pop().close()
        except Exception:  # noqa: BLE001, S110 - closing is best effort at shutdown
            pass
    _sandbox.clear()


def get_sandbox(project: Any | None = None) -> Any:
    """The one warm sandbox for the projects folder (worker processes cost memory: keep one).

    With a project, jobs are scoped to that project's workspace, so code proposed for one
    project never sees another project's files.
    """
    store = get_store()
    # The shared sandbox's own workspace lies beside the projects, never over them: jobs sent
    # without a project scope can then reach no project's files.
    sandbox = _sandbox(str(Path(store.root) / ".sandbox"))
    if project is not None:
        return store.scoped_sandbox(project, sandbox)
    return sandbox


def current_project() -> Any | None:
    """The open project: the URL's `?project=` first (a deep link or a refresh), then the session."""
    store = get_store()
    in_url, in_session = st.query_params.get(QUERY_KEY), st.session_state.get("project_id")
    pid = in_url or in_session
    if not pid:
        return None
    if in_session and in_url and in_url != in_session:
        set_project(None)  # a link to another project: the pending proposals were for this one
    try:
        project = store.open(pid)
    except Exception:  # noqa: BLE001 - a deleted or broken project: start fresh, say so
        st.session_state.pop("project_id", None)
        if QUERY_KEY in st.query_params:
            del st.query_params[QUERY_KEY]
        shown = escape_md(pid, code=True)
        st.warning(f"Project {shown} could not be opened (deleted?). Start or open another one.")
        return None
    st.session_state["project_id"] = project.id
    if st.query_params.get(QUERY_KEY) != project.id:
        st.query_params[QUERY_KEY] = project.id
    return project


def set_project(project: Any | None) -> None:
    # Pending proposals and run previews belong to the previous project.
    for k in list(st.session_state.keys()):
        if str(k).startswith(PROJECT_STATE_PREFIXES):
            del st.session_state[k]
    if project is None:
        st.session_state.pop("project_id", None)
        if QUERY_KEY in st.query_params:
            del st.query_params[QUERY_KEY]
        return
    st.session_state["project_id"] = project.id
    st.query_params[QUERY_KEY] = project.id


def save(project: Any) -> None:
    get_store().save(project)


def require_project(need_data: bool = True) -> Any | None:
    """The open project, or a friendly pointer to the load page."""
    project = current_project()
    if project is None or (need_data and project.dataset is None):
        st.info("No data loaded yet. Start on the **Load** page (one click loads a bundled sample).")
        st.page_link(PAGE_FILES["load"], label="Go to Load", icon="📂")
        return None
    return project


def page_project(stage: str, title: str) -> Any:
    """A page's sidebar and title, then the open project; the page stops here without one."""
    sidebar(stage)
    st.title(title)
    project = require_project()
    if project is None:
        st.stop()
    return project


def current_frame(project: Any) -> pd.DataFrame | None:
    if project.dataset is None:
        return None
    return get_store().current_frame(project)


# --------------------------------------------------------------------------- progress
def stage_states(project: Any | None, current: str | None) -> dict[str, str]:
    """done / current / stale / todo for each stage.

    The report is done only once it was opened or drafted, and stale when a step changed after.
    """
    states = {s: "todo" for s in STAGES}
    if project is not None:
        if project.dataset is not None:
            states["load"] = "done"
        if project.profile is not None:
            states["profile"] = "done"
        for step in project.active_steps:
            if step.stage in states:
                states[step.stage] = "stale" if step.stale or states[step.stage] == "stale" else "done"
        seen = getattr(project, "report_viewed_at", None)
        if "report" in states and seen is not None:
            changed = max((s.updated_at for s in project.active_steps), default=None)
            states["report"] = "stale" if changed is not None and changed > seen else "done"
    if current in states and states[current] != "stale":
        states[current] = "current"
    return states


# --------------------------------------------------------------------------- exports
def notebook_bytes(project: Any) -> bytes | None:
    if project is None or project.dataset is None:
        return None
    from core.export import notebook  # nbformat: loaded once a project has data

    return notebook.to_ipynb_bytes(project, data_rel_path=project.dataset.filename)


def file_stem(project: Any) -> str:
    keep = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(project.name))
    return keep.strip("_") or "project"


# --------------------------------------------------------------------------- sidebar
def sidebar(current: str | None) -> None:
    """The sidebar every page shows: model, speed, progress, project, undo/redo, test box."""
    backend = get_backend()
    project = current_project()
    with st.sidebar:
        st.markdown("### 🧙 Gemma Data Wizard")
        if project is not None:
            st.caption(f"Project: **{escape_md(project.name)}**")
        else:
            st.caption("No project open")
        from app import visitor  # issue 16: which sandbox layers are really active

        visitor.sidebar_line()

        if st.session_state.get("model_error"):
            st.error(f"Model could not be loaded: {st.session_state['model_error']}")
            if st.session_state.get("model_fallback"):
                st.caption(st.session_state["model_fallback"])
        if backend is not None:
            info = backend.info
            st.markdown(
                f"**Model:** {info.name}  \n"
                f"{info.kind} · {info.quantization} · {info.device} · ctx {info.context_size}"
            )
            for k, v in (info.extra or {}).items():
                # The registry records fallbacks here (e.g. "llama-cpp missing, using transformers").
                if "fallback" in k.lower() or "warning" in k.lower():
                    st.warning(f"{k}: {v}")
            st.caption(f"Speed: {speed_summary(backend)}")
        else:
            st.warning("No model loaded: proposals use the rule-based recipes.")

        st.markdown("**Progress**")
        states = stage_states(project, current)
        for s in STAGES:
            st.page_link(
                PAGE_FILES[s],
                label=f"{STAGE_ICONS[states[s]]} {STAGE_TITLES[s]} ({states[s]})",
            )

        if project is not None:
            store = get_store()
            c1, c2 = st.columns(2)
            can_undo = project.cursor > 0
            can_redo = project.cursor < len(project.steps)
            last = project.steps[project.cursor - 1] if can_undo else None
            undo_help = (
                f"Undo step {project.cursor} ({STAGE_TITLES.get(last.stage, last.stage)})" if last else None
            )
            nxt = project.steps[project.cursor] if can_redo else None
            redo_help = (
                f"Redo step {project.cursor + 1} ({STAGE_TITLES.get(nxt.stage, nxt.stage)})" if nxt else None
            )
            if c1.button("↶ Undo", key="sb_undo", disabled=not can_undo, help=undo_help, width="stretch"):
                store.undo(project)
                st.rerun()
            if c2.button("↷ Redo", key="sb_redo", disabled=not can_redo, help=redo_help, width="stretch"):
                store.redo(project)
                st.rerun()
            data = notebook_bytes(project)
            if data is not None:
                st.download_button(
                    "⬇ Notebook so far",
                    data=data,
                    file_name=f"{file_stem(project)}.ipynb",
                    mime="application/x-ipynb+json",
                    key="sb_notebook",
                    width="stretch",
                )

        c1, c2 = st.columns(2)
        c1.page_link(PAGE_FILES["projects"], label="Projects", icon="🗂️")
        c2.page_link(PAGE_FILES["settings"], label="Settings", icon="⚙️")

        with st.expander("Test the model"):
            q = st.text_input("Prompt", key="sb_test_prompt", placeholder="What is a median?")
            if st.button("Ask", key="sb_test_ask") and q and backend is not None:
                t0 = time.perf_counter()
                try:
                    st.write_stream(escape_md(c, limit=None) for c in stream_reply(backend, q))  # as text
                    st.caption(f"{time.perf_counter() - t0:.1f} s")
                except Exception as e:  # noqa: BLE001 - a failed generation is shown, not fatal
                    st.error(f"The model failed to answer: {e}")


# --------------------------------------------------------------------------- data views
def show_frame(df: pd.DataFrame, height: int | None = None, rows: int = 200) -> None:
    """A preview that survives any column names (duplicates, non-strings)."""
    view = df.head(rows).copy()
    names = [str(c) for c in view.columns]
    seen: dict[str, int] = {}
    unique = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        unique.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    view.columns = unique
    if height:
        st.dataframe(view, height=height)
    else:
        st.dataframe(view)
