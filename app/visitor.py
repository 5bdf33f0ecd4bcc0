"""Who is visiting, and what the sandbox really provides: the UI side of issue 16.

- `visitor_owner()`: on a shared deployment, the owner every project call is scoped to: the
  logged-in user where `st.login` (OIDC) is configured, else an anonymous visitor key kept in the
  browser's URL (`?visitor=`). In single-user mode it is None and every project stays visible.
- `scoped(store)`: the store as this visitor sees it (`core.project_files.OwnedStore`).
- `sidebar_line()` / `step_line(isolation)`: which containment layers are active.

No project logic here: ownership lives in core/project.py, layer detection in
core/sandbox/policy.py; this module only reads Streamlit's session, URL and login.
"""

from __future__ import annotations

import secrets
from typing import Any

import streamlit as st

from core.safe_text import escape_md
from core.sandbox import policy

VISITOR_KEY = "visitor"


def auth_configured() -> bool:
    """True when the deployment configured `st.login` ([auth] in secrets.toml)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def logged_in_user() -> str | None:
    try:
        if getattr(st.user, "is_logged_in", False):
            who = st.user.get("sub") or st.user.get("email")
            return f"user:{who}" if who else None
    except Exception:  # noqa: BLE001 - an older Streamlit or no auth configured
        return None
    return None


def visitor_owner() -> str | None:
    """This visitor's owner key on a shared deployment; None in single-user mode."""
    if not policy.shared_mode():
        return None
    user = logged_in_user()
    if user:
        return user
    # Session first (survives page switches), then the URL (survives a refresh or a bookmark).
    key = st.session_state.get("visitor_key") or st.query_params.get(VISITOR_KEY)
    if not key or len(str(key)) < 16:
        key = secrets.token_urlsafe(18)
    st.session_state["visitor_key"] = str(key)
    if st.query_params.get(VISITOR_KEY) != key:
        st.query_params[VISITOR_KEY] = str(key)
    return f"anon:{key}"


def scoped(store: Any) -> Any:
    """The project store as this visitor sees it (itself in single-user mode)."""
    return store.for_owner(visitor_owner())


@st.cache_resource(show_spinner=False)
def _report(shared: bool, disabled: tuple[str, ...]) -> dict[str, Any]:
    return policy.isolation_report(shared=shared)


def report() -> dict[str, Any]:
    """The isolation report, probed once per mode (the probe starts a short process)."""
    return _report(policy.shared_mode(), policy.disabled_layers())


def sidebar_line() -> None:
    """One line in the sidebar: the mode and the layers a step gets here."""
    rep = report()
    if not rep["can_run"]:
        st.error(escape_md(rep["summary"]))
    elif rep["missing"] or any(not v for k, v in rep["layers"].items() if k in policy.LAYER_NAMES):
        st.caption("⚠️ " + escape_md(rep["summary"]))
    else:
        st.caption(f"🔒 Sandbox ({rep['mode']} mode): " + ", ".join(k for k, v in rep["layers"].items() if v))
    if rep["mode"] == "shared" and not logged_in_user():
        st.caption("Your projects are tied to this link (`?visitor=`): keep it private, bookmark it.")


def step_line(isolation: dict[str, Any] | None) -> str:
    """For a step's details: the layers that step's job actually ran under."""
    return escape_md(policy.describe(isolation or {}))
