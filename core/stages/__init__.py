"""The stage registry: one `StageSpec` per stage (see `core.stages.spec`).

Importing the package registers the built-in stages; a new stage is one more module here that
calls `register`, imported below.
"""

from core.stages import clean, feature, model, views  # noqa: F401 - importing registers them
from core.stages.spec import (
    Contract,
    StagePrompts,
    StageSpec,
    UnknownStage,
    code_stages,
    find,
    get,
    heading,
    ordered,
    recipes_for,
    register,
    render_stage,
    transforms,
    unregister,
)

__all__ = [
    "Contract",
    "StagePrompts",
    "StageSpec",
    "UnknownStage",
    "code_stages",
    "find",
    "get",
    "heading",
    "ordered",
    "recipes_for",
    "register",
    "render_stage",
    "transforms",
    "unregister",
]
