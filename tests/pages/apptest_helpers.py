"""Helpers shared by the AppTest page tests (imported by name: tests/pages is on sys.path)."""

from __future__ import annotations

import re

from core.models import Proposal
from core.project import ProjectStore


def shown(text: str) -> str:
    """Markdown as the user reads it: the escapes (core.safe_text) removed."""
    return re.sub(r"\\(.)", r"\1", str(text))


def texts(at) -> str:
    """Everything the run rendered as text (main area and sidebar), for assertions."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "success",
        "warning",
        "error",
        "code",
    ):
        for el in getattr(at, kind):
            parts.append(str(getattr(el, "value", "") or getattr(el, "body", "")))
    for el in at.metric:
        parts.append(f"{el.label} {el.value}")
    return shown("\n".join(parts))


def button(at, label_start: str):
    """The first button whose label starts with `label_start` (labels carry data names)."""
    for b in at.button:
        if str(b.label).startswith(label_start):
            return b
    raise AssertionError(f"no button starting with {label_start!r}: {[b.label for b in at.button]}")


def load_sample(at):
    at.run()
    assert not at.exception, at.exception
    button(at, "Load sample: ").click().run()
    assert not at.exception, at.exception
    return at


def open_stage(new_app, page: str):
    """A fresh app with the sample loaded and profiled, switched to `page` (e.g. "pages/clean.py")."""
    at = load_sample(new_app())
    at.switch_page("pages/profile.py").run()  # computes the profile the proposal is built on
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def open_project(at, projects):
    """The project the app has open, read back from the store."""
    pid = at.query_params["project"]
    return ProjectStore(projects).open(pid[0] if isinstance(pid, list) else pid)


def proposal(**kw) -> Proposal:
    """A verified clean-stage proposal by Gemma; `kw` overrides any field."""
    base = {
        "stage": "clean",
        "code": "import pandas as pd\n\n\ndef clean(df: pd.DataFrame) -> pd.DataFrame:\n"
        "    return df.dropna(how='all')\n",
        "entrypoint": "clean",
        "provenance": "gemma",
        "provenance_detail": "Gemma",
        "rationale": "",
        "verified": True,
    }
    return Proposal(**(base | kw))
