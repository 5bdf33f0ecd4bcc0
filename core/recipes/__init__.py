"""Deterministic best-practice steps per stage, derived from the profile.

`recipes_for(stage, profile, target)` lists the recipes that apply; `render_stage(stage, recipes)`
turns a selection into code that satisfies the stage contract. The model stage lives in
`core.recipes.model` (owned by the modeling work) and is reached through the same two calls.
"""

from __future__ import annotations

from core.models import DatasetProfile
from core.recipes.base import CONTRACTS, Recipe, entrypoint_for, render_transform
from core.recipes.clean import recipes_for_clean
from core.recipes.feature import recipes_for_feature

__all__ = ["CONTRACTS", "Recipe", "entrypoint_for", "recipes_for", "render_stage"]


def recipes_for(
    stage: str, profile: DatasetProfile | None, target: str | None, task: str | None = None
) -> list[Recipe]:
    """The recipes that apply to `stage` for this profile, in the order they should run."""
    if stage == "model":
        from core.recipes import model

        return list(model.recipes(profile, target, task))
    if profile is None:
        return []
    if stage == "clean":
        return recipes_for_clean(profile, target)
    if stage == "feature":
        return recipes_for_feature(profile, target)
    raise ValueError(f"no recipes for stage {stage!r}")


def render_stage(stage: str, recipes: list[Recipe]) -> str:
    """Complete code for the stage contract from the chosen recipes (order kept)."""
    if stage == "model":
        from core.recipes import model

        return model.render(recipes)
    if stage in ("clean", "feature"):
        return render_transform(stage, recipes)
    raise ValueError(f"cannot render stage {stage!r}")
