"""Exports of a project: a runnable notebook and a Markdown/HTML/zip report (pure functions of the state)."""

from __future__ import annotations

from core.export.notebook import to_ipynb_bytes, to_notebook
from core.export.report import narrative, to_html, to_markdown, to_zip

__all__ = ["narrative", "to_html", "to_ipynb_bytes", "to_markdown", "to_notebook", "to_zip"]
