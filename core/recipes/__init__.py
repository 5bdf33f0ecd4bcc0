"""Deterministic best-practice steps, one module per family, derived from the profile.

`base` holds the `Recipe` record, the code contracts and the transform renderer; `clean`,
`feature` and `model` build the recipes of their stage. Which family a stage uses is declared by
its `StageSpec` (`core.stages`): `core.stages.recipes_for(stage, profile, target)` lists them and
`core.stages.render_stage(stage, recipes)` turns a selection into code.
"""
