"""The clean stage: fix what the profile found (types, missing values, duplicates, spellings)."""

from __future__ import annotations

from core.models import ColumnProfile, DatasetProfile
from core.recipes.base import Recipe
from core.recipes.clean import recipes_for_clean
from core.stages.spec import register, transform_stage


def _recipes(profile: DatasetProfile | None, target: str | None, _task: str | None) -> list[Recipe]:
    return recipes_for_clean(profile, target) if profile is not None else []


def _issues(col: ColumnProfile) -> int:
    """Columns with these issues are shown first when a wide table must be summarised."""
    score = 0
    if col.semantic in ("money_text", "numeric_text", "empty", "constant", "id"):
        score += 3
    if col.semantic in ("date", "boolean") and col.dtype in ("object", "str", "string"):
        score += 2
    if col.missing_share > 0:
        score += 2
    if col.notes:
        score += 1
    if (col.n_outliers or 0) > 0:
        score += 1
    return score


SPEC = register(
    transform_stage(
        "clean", "Clean", 3, _recipes, _issues, technique="select", max_tokens=380, heading="Cleaning"
    )
)
