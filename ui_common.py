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

import numpy as np
import pandas as pd
import streamlit as st

from core.llm import registry

STAGES: tuple[str, ...] = ("load", "profile", "clean", "feature", "model", "report")
CODE_STAGES: tuple[str, ...] = ("clean", "feature", "model")
ENTRYPOINTS = {"clean": "clean", "feature": "add_features", "model": "build_model"}
STAGE_TITLES = {
    "load": "1 · Load",
    "profile": "2 · Profile",
    "clean": "3 · Clean",
    "feature": "4 · Features",
    "model": "5 · Model",
    "report": "6 · Report",
}
STAGE_ICONS = {"done": "✅", "current": "👉", "stale": "⚠️", "todo": "⬜"}
PAGE_FILES = {s: f"pages/{s}.py" for s in STAGES} | {
    "settings": "pages/settings.py",
    "projects": "pages/projects.py",
}
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


class StreamingBackend:
    """Wraps the model so every generation streams into the page while core code waits for it.

    The proposal engine calls `complete`; here that is served from `stream`, and each piece is
    handed to `on_token` (a Streamlit placeholder), so the user sees Gemma write on a slow CPU.
    """

    def __init__(self, inner: Any, on_token: Any) -> None:
        self.inner = inner
        self.on_token = on_token
        self.info = inner.info
        self.can_stream = getattr(inner, "can_stream", False)
        self.concurrent = getattr(inner, "concurrent", True)

    def complete(self, prompt: str, params: Any) -> str:
        if not self.can_stream:
            text = self.inner.complete(prompt, params)
            self.on_token(text)
            return text
        return "".join(self.stream(prompt, params))

    def stream(self, prompt: str, params: Any) -> Any:
        self.on_token(None)  # a new generation starts
        for piece in self.inner.stream(prompt, params):
            self.on_token(piece)
            yield piece

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def close(self) -> None:  # the shared model outlives this page run
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def streaming_backend(backend: Any | None, area: Any) -> Any | None:
    if backend is None:
        return None
    chunks: list[str] = []

    def on_token(piece: str | None) -> None:
        if piece is None:
            chunks.clear()
            return
        chunks.append(piece)
        area.code("".join(chunks)[-1500:], language="python")

    return StreamingBackend(backend, on_token)


# --------------------------------------------------------------------------- projects
def projects_root() -> Path:
    return Path(os.environ.get("GEMMA_WIZARD_PROJECTS", "projects")).resolve()


@st.cache_resource(show_spinner=False)
def _store(root: str) -> Any:
    from core.project import ProjectStore

    Path(root).mkdir(parents=True, exist_ok=True)
    return ProjectStore(Path(root))


def get_store() -> Any:
    return _store(str(projects_root()))


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
    """The open project: session state first, then the URL (survives refresh and restarts)."""
    store = get_store()
    pid = st.session_state.get("project_id") or st.query_params.get(QUERY_KEY)
    if not pid:
        return None
    try:
        project = store.open(pid)
    except Exception:  # noqa: BLE001 - a deleted or broken project: start fresh, say so
        st.session_state.pop("project_id", None)
        if QUERY_KEY in st.query_params:
            del st.query_params[QUERY_KEY]
        st.warning(f"Project `{pid}` could not be opened (deleted?). Start or open another one.")
        return None
    st.session_state["project_id"] = project.id
    if st.query_params.get(QUERY_KEY) != project.id:
        st.query_params[QUERY_KEY] = project.id
    return project


def set_project(project: Any | None) -> None:
    # Pending proposals and run previews belong to the previous project.
    for k in list(st.session_state.keys()):
        if str(k).startswith(
            (
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
            )
        ):
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


def current_frame(project: Any) -> pd.DataFrame | None:
    if project.dataset is None:
        return None
    return get_store().current_frame(project)


# --------------------------------------------------------------------------- progress
def stage_states(project: Any | None, current: str | None) -> dict[str, str]:
    """done / current / stale / todo for each of the six stages."""
    states = {s: "todo" for s in STAGES}
    if project is not None:
        if project.dataset is not None:
            states["load"] = "done"
        if project.profile is not None:
            states["profile"] = "done"
        for step in project.active_steps:
            if step.stage in states:
                states[step.stage] = "stale" if step.stale or states[step.stage] == "stale" else "done"
        if any(s.stage == "model" and s.result and s.result.ok for s in project.active_steps):
            states["report"] = "done" if states["report"] == "todo" else states["report"]
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
            st.caption(f"Project: **{project.name}**")
        else:
            st.caption("No project open")

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
            if c1.button("↶ Undo", key="sb_undo", disabled=not can_undo, width="stretch"):
                store.undo(project)
                st.rerun()
            if c2.button("↷ Redo", key="sb_redo", disabled=not can_redo, width="stretch"):
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
                    st.write_stream(stream_reply(backend, q))
                    st.caption(f"{time.perf_counter() - t0:.1f} s")
                except Exception as e:  # noqa: BLE001 - a failed generation is shown, not fatal
                    st.error(f"The model failed to answer: {e}")


# --------------------------------------------------------------------------- data views
def frame_diff(before: pd.DataFrame, after: pd.DataFrame, max_rows: int = 20) -> dict[str, Any]:
    """What changed between two frames: shape, dtypes, missing cells, columns, changed rows."""
    b_cols = [str(c) for c in before.columns]
    a_cols = [str(c) for c in after.columns]
    added = [c for c in a_cols if c not in b_cols]
    removed = [c for c in b_cols if c not in a_cols]
    common = [c for c in a_cols if c in b_cols]
    changed: list[str] = []
    changed_rows = pd.DataFrame()
    b = before.copy()
    a = after.copy()
    b.columns = b_cols
    a.columns = a_cols
    b = b.loc[:, ~b.columns.duplicated()]
    a = a.loc[:, ~a.columns.duplicated()]
    # Rows are compared by index label only where both frames share it (filters drop rows).
    idx = a.index.intersection(b.index) if a.index.is_unique and b.index.is_unique else pd.Index([])
    mask = pd.Series(False, index=idx)
    for c in common:
        if c not in a.columns or c not in b.columns:
            continue
        if str(a[c].dtype) != str(b[c].dtype):
            changed.append(c)
        if len(idx):
            diff = _cell_changes(b.loc[idx, c], a.loc[idx, c])
            if bool(diff.any()):
                if c not in changed:
                    changed.append(c)
                mask |= diff.to_numpy()
    if len(idx) and bool(mask.any()):
        rows = idx[mask.to_numpy()][:max_rows]
        show = [c for c in changed if c in b.columns][:8]
        parts = {}
        for c in show:
            parts[(c, "before")] = b.loc[rows, c]
            parts[(c, "after")] = a.loc[rows, c]
        changed_rows = pd.DataFrame(parts)
        changed_rows.columns = [f"{c} ({w})" for c, w in changed_rows.columns]
    dtypes = pd.DataFrame(
        {
            "before": pd.Series({c: str(b[c].dtype) for c in b.columns}),
            "after": pd.Series({c: str(a[c].dtype) for c in a.columns}),
        }
    )
    return {
        "shape_before": before.shape,
        "shape_after": after.shape,
        "missing_before": int(before.isna().sum().sum()),
        "missing_after": int(after.isna().sum().sum()),
        "added": added,
        "removed": removed,
        "changed": changed,
        "changed_rows": changed_rows,
        "dtypes": dtypes,
    }


def _cell_changes(x: pd.Series, y: pd.Series) -> pd.Series:
    """True where a value changed; numbers compare as numbers (1 == 1.0), others as text."""
    both_missing = x.isna().to_numpy() & y.isna().to_numpy()
    num = pd.api.types.is_numeric_dtype
    if num(x) and num(y) and not pd.api.types.is_bool_dtype(x) and not pd.api.types.is_bool_dtype(y):
        xs, ys = x.astype("float64").to_numpy(), y.astype("float64").to_numpy()
        same = np.isclose(xs, ys, rtol=1e-9, atol=0.0, equal_nan=False)
    else:
        same = (x.astype("string") == y.astype("string")).fillna(False).to_numpy(dtype=bool)
    return pd.Series(~(same | both_missing), index=x.index)


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
