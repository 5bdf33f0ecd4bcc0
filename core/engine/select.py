"""Gemma's constrained part: keep or drop each recipe (yes/no), or pick one pipeline by number.

Both are choices among fixed options (`Backend.choose`: a llama.cpp grammar on GGUF), so the
answer is always one of them; the prompts are the stage's `select` / `choose` templates.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import prompts
from core.engine.generate import Generator
from core.recipes.base import Recipe
from core.stages.spec import StageSpec


@dataclass(frozen=True)
class Selection:
    chosen: list[Recipe]  # in order; for the model stage the chosen one first, the rest after
    usable: bool  # Gemma answered (False: no recipe to ask about, or the backend failed)
    asked: bool = True  # False: the order stands as given, nobody was asked to choose


def select_recipes(
    gen: Generator, spec: StageSpec, context: str, recipes: list[Recipe], task: str | None
) -> Selection:
    """The recipes Gemma keeps (clean/feature) or the pipeline it picks (model)."""
    if spec.prompts.choose:
        return _pick_one(gen, spec.prompts.choose, context, recipes, task)
    return _keep_each(gen, spec.prompts.select or f"{spec.name}/select.j2", context, recipes)


def _pick_one(
    gen: Generator, template: str, context: str, recipes: list[Recipe], task: str | None
) -> Selection:
    if not recipes:
        return Selection(recipes, False)
    if gen.tuned:
        # The adapter learned to write pandas, never to compare pipelines (its picks changed from one
        # training run to the next): the recipes' own order, best first, stands.
        return Selection(recipes, True, asked=False)
    options = [r.title for r in recipes]
    text = prompts.render(template, task=task or "prediction", context=context, options=options)
    number = gen.choose(gen.few_shot(text.rstrip()), [str(i) for i in range(1, len(recipes) + 1)])
    chosen = recipes[int(number) - 1]
    return Selection([chosen] + [r for r in recipes if r is not chosen], True)


def _keep_each(gen: Generator, template: str, context: str, recipes: list[Recipe]) -> Selection:
    kept = []
    for r in recipes:
        if not r.code.strip():
            kept.append(r)  # notes (e.g. one-hot in the model pipeline) cost nothing
            continue
        columns = ", ".join(map(str, r.applies_to[:8]))
        text = prompts.render(
            template, context=context, title=r.title, columns=columns, rationale=r.rationale
        )
        # "yes" first: the recipes are best practice, so a backend that cannot read the answer keeps them.
        if gen.choose(gen.few_shot(text.rstrip()), ["yes", "no"]) == "yes":
            kept.append(r)
    return Selection(kept, True)
