"""The stages without code: load the file, read its profile, write the report."""

from __future__ import annotations

from core.stages.spec import StageSpec, register

LOAD = register(StageSpec(name="load", title="Load", order=1, page="pages/load.py"))
PROFILE = register(StageSpec(name="profile", title="Profile", order=2, page="pages/profile.py"))
REPORT = register(StageSpec(name="report", title="Report", order=6, page="pages/report.py"))
