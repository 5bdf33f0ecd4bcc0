"""Features stage: propose, run, accept; all logic in core/, shared page function in stage_view."""

from __future__ import annotations

from app import stage_view

stage_view.stage_page("feature", "🧪 Features")
