"""The model stage: Gemma chooses one of the best-practice pipelines; the harness trains it."""

from __future__ import annotations

from core.models import StepResult
from core.recipes import model as model_recipes
from core.recipes.base import CONTRACTS
from core.stages.spec import Contract, StagePrompts, StageSpec, register


def _summary(result: StepResult) -> str:
    from core.model_result import ModelResult, fmt, metric_label  # the one model-result rendering

    res = ModelResult.from_metrics(result.metrics)
    if not (result.metrics or {}).get("primary_metric"):
        return "trained"
    label = " ⚠ suspected leak" if res.leak_label else ""
    return f"test {metric_label(res.primary_metric)} {fmt(res.score())}{label}"


SPEC = register(
    StageSpec(
        name="model",
        title="Model",
        order=5,
        kind="model",
        contract=Contract(*CONTRACTS["model"]),
        recipes=lambda profile, target, task: list(model_recipes.recipes(profile, target, task)),
        render=model_recipes.render,
        # A 270M model does not write scikit-learn pipelines: it only picks one by number.
        prompts=StagePrompts(choose="model/choose.j2"),
        technique="select",
        summarise=_summary,
        page="pages/model.py",
    )
)
