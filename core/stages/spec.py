"""What a stage IS, declared once: `StageSpec`, and the registry every part of the house iterates.

A stage module builds one `StageSpec` and calls `register`; the engine, the project state, the
exports, the autopilot and the pages read stages only through `get` / `ordered`. Adding a stage is
adding one module (plus its page): nothing else lists the stages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

from core.models import ColumnProfile, DatasetProfile, StepResult
from core.recipes.base import CONTRACTS, Recipe, render_transform

# "view": no code (load, profile, report); "transform": `def f(df) -> df`, its result is the next
# snapshot; "model": `def build_model(X)`, trained by the harness, its result is metrics.
Kind = Literal["view", "transform", "model"]
RecipeBuilder = Callable[[DatasetProfile | None, str | None, str | None], list[Recipe]]


@dataclass(frozen=True)
class Contract:
    """The function a stage's code must define: the scaffold Gemma continues and the check reads."""

    entry: str  # "clean"
    arg: str  # "df"
    signature: str  # "def clean(df: pd.DataFrame) -> pd.DataFrame:"


@dataclass(frozen=True)
class StagePrompts:
    """Template and example files under prompts/ (None: the stage has no such prompt)."""

    scaffold: str | None = None  # plan -> code, continued step by step
    request: str | None = None  # a free-form request -> code
    select: str | None = None  # yes/no per recipe
    choose: str | None = None  # pick one recipe by number (model)
    examples: str | None = None  # few-shot examples for scaffold and repair
    request_examples: str | None = None


def _no_issues(_col: ColumnProfile) -> int:
    return 0


def _shape_summary(result: StepResult) -> str:
    return (
        f"{result.rows_before} → {result.rows_after} rows, {result.cols_before} → {result.cols_after} columns"
    )


@dataclass(frozen=True)
class StageSpec:
    name: str
    title: str  # "Clean", shown in the navigation
    order: int  # position in the wizard
    kind: Kind = "view"
    contract: Contract | None = None
    recipes: RecipeBuilder | None = None  # best-practice steps for a profile (the fallback)
    render: Callable[[list[Recipe]], str] | None = None  # chosen recipes -> code for the contract
    prompts: StagePrompts = field(default_factory=StagePrompts)
    # Default technique for stage proposals (measured with `python -m core eval`):
    # "select" (Gemma chooses among recipes), "scaffold" (Gemma writes the plan's code), "tuned".
    technique: str = "select"
    max_tokens: int = 320
    # How much a column's issues matter to this stage: columns with issues are shown first in the
    # prompt context when a wide table must be summarised.
    issue_score: Callable[[ColumnProfile], int] = _no_issues
    summarise: Callable[[StepResult], str] = _shape_summary  # one line for logs and reports
    page: str | None = None  # the Streamlit page file, e.g. "pages/clean.py"
    heading: str = ""  # the section heading in the notebook and report ("Cleaning"); "" = title

    def __post_init__(self) -> None:
        if not self.heading:
            object.__setattr__(self, "heading", self.title)

    @property
    def proposes(self) -> bool:
        """The engine makes proposals for it (it has a code contract)."""
        return self.contract is not None

    @property
    def transforms(self) -> bool:
        """Its accepted code turns the table into the next snapshot."""
        return self.kind == "transform"


_REGISTRY: dict[str, StageSpec] = {}


class UnknownStage(KeyError):
    """A stage name no module registered; the message names the known ones."""


def register(spec: StageSpec) -> StageSpec:
    """Add (or replace, by name) a stage; returns it so a module can write `SPEC = register(...)`."""
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a stage (tests that register a toy stage clean up with this)."""
    _REGISTRY.pop(name, None)


def get(name: str) -> StageSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(s.name for s in ordered())
        raise UnknownStage(f"unknown stage {name!r}; the stages are: {known}") from None


def find(name: str) -> StageSpec | None:
    """The stage, or None for a name that is not a stage (e.g. the "ask" task)."""
    return _REGISTRY.get(name)


def heading(name: str) -> str:
    """The section heading of a stage's steps in the exports (any name: "ask" becomes "Ask")."""
    spec = _REGISTRY.get(name)
    return spec.heading if spec is not None else name.title()


def transforms(name: str) -> bool:
    """Steps of this stage turn the table into the next one (their code is `df = f(df)`)."""
    spec = _REGISTRY.get(name)
    return spec is not None and spec.transforms


def ordered() -> list[StageSpec]:
    """Every stage in wizard order: what the navigation, the sidebar and the exports iterate."""
    return sorted(_REGISTRY.values(), key=lambda s: (s.order, s.name))


def code_stages() -> list[StageSpec]:
    """The stages the engine proposes code for, in order (clean, feature, model, …)."""
    return [s for s in ordered() if s.proposes]


def recipes_for(
    stage: str, profile: DatasetProfile | None, target: str | None, task: str | None = None
) -> list[Recipe]:
    """The recipes that apply to `stage` for this profile, in the order they should run."""
    spec = get(stage)
    if spec.recipes is None:
        raise ValueError(f"no recipes for stage {stage!r}")
    return spec.recipes(profile, target, task)


def render_stage(stage: str, recipes: list[Recipe]) -> str:
    """Complete code for the stage contract from the chosen recipes (order kept)."""
    spec = get(stage)
    if spec.render is None:
        raise ValueError(f"cannot render stage {stage!r}")
    return spec.render(recipes)


def transform_stage(
    name: str,
    title: str,
    order: int,
    recipes: RecipeBuilder,
    issue_score: Callable[[ColumnProfile], int],
    **more: object,
) -> StageSpec:
    """A transform stage with the usual parts: the contract from `CONTRACTS[name]`, the recipes'
    transform renderer, and the templates and examples under `prompts/<name>/`."""
    contract = Contract(*CONTRACTS[name])
    return StageSpec(
        name=name,
        title=title,
        order=order,
        kind="transform",
        contract=contract,
        recipes=recipes,
        render=partial(render_transform, name, signature=contract.signature),
        prompts=StagePrompts(
            scaffold=f"{name}/scaffold.j2",
            request=f"{name}/request.j2",
            select=f"{name}/select.j2",
            examples=f"{name}/examples.txt",
            request_examples=f"{name}/request_examples.txt",
        ),
        issue_score=issue_score,
        page=f"pages/{name}.py",
        **more,  # type: ignore[arg-type]
    )
