"""Per-column recipe steps as data: `steps.toml` declares them, `column_recipe` builds them.

A step that loops one body over some columns (parse dates, cap outliers, log of amounts ...) is a
table in `steps.toml` (title, rationale, loop body, setup lines, default params), not a Python
function: adding or rewording one is editing data, and every step is built by the one builder
here, so the rendered code has one shape.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from core.recipes.base import Recipe, per_column

STEPS_FILE = Path(__file__).with_name("steps.toml")


@dataclass(frozen=True)
class ColumnStep:
    """One table of steps.toml: text templates (`str.format`) and the default params."""

    id: str
    title: str
    rationale: str
    body: str  # the loop body, unindented, reading `col`
    setup: str = ""  # lines before the loop
    params: Mapping[str, Any] = field(default_factory=dict)


@cache
def column_steps() -> dict[str, ColumnStep]:
    """Every step of steps.toml by recipe id (read once)."""
    with STEPS_FILE.open("rb") as fh:
        tables = tomllib.load(fh)
    return {rid: ColumnStep(rid, **table) for rid, table in tables.items()}


def column_recipe(
    rid: str, columns: list[str], fill: Mapping[str, Any] | None = None, **params: Any
) -> Recipe:
    """The recipe of step `rid` for `columns`.

    `params` (over the step's defaults) fill the templates and are recorded in the recipe;
    `fill` only fills the templates (a lookup table the code needs, a threshold the text names).
    A value a template names and nobody gives raises KeyError: a recipe never renders with a hole.
    """
    step = column_steps()[rid]
    recorded = {**step.params, **params}
    values = {**recorded, **(fill or {})}
    body = "\n".join("    " + line if line.strip() else "" for line in step.body.strip("\n").splitlines())
    return per_column(
        rid,
        step.title.format(**values),
        step.rationale.format(**values),
        columns,
        body.format(**values),
        setup=step.setup.format(**values),
        **recorded,
    )
