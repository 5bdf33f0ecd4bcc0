"""The feature stage: new columns a model can use (date parts, logs, encodings, rare categories)."""

from __future__ import annotations

from core.models import ColumnProfile, DatasetProfile
from core.recipes.base import Recipe
from core.recipes.feature import recipes_for_feature
from core.stages.spec import register, transform_stage


def _recipes(profile: DatasetProfile | None, target: str | None, _task: str | None) -> list[Recipe]:
    return recipes_for_feature(profile, target) if profile is not None else []


def _issues(col: ColumnProfile) -> int:
    """Dates, categories and skewed numbers are what features are made from: shown first."""
    score = 0
    if col.semantic == "date" or col.dtype.startswith("datetime"):
        score += 3
    if col.semantic in ("category", "text"):
        score += 2
    if col.skew is not None and abs(col.skew) > 1:
        score += 2
    return score


SPEC = register(
    transform_stage("feature", "Features", 4, _recipes, _issues, technique="select", max_tokens=320)
)
