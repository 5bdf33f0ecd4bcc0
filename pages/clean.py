"""Clean stage: propose, run, accept; all logic in core/, shared page function in stage_ui."""

from __future__ import annotations

import stage_ui

stage_ui.stage_page("clean", "🧹 Clean")
