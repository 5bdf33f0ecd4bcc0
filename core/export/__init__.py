"""Exports of a project: a runnable notebook and a Markdown/HTML report (pure functions of the state)."""

from __future__ import annotations

from core.export.notebook import to_ipynb_bytes, to_notebook

__all__ = ["to_ipynb_bytes", "to_notebook"]
