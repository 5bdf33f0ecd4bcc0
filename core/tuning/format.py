"""The tuned prompt format: the one place that says what a wizard-tuned Gemma is shown.

The engine renders every prompt for a tuned backend with `tuned_prompt`, and the training-pair
generator renders the prompts it trains on with the same call, so the adapter only ever sees the
format it was trained on. The template is `prompts/tuned/code.j2`; it carries no few-shot
examples of its own (retrieved examples, when the engine adds them, go in `examples`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core import prompts
from core.recipes.base import CONTRACTS

Task = Literal["clean", "feature", "model", "ask"]


# The function each task must define comes from the stage's code contract; transform stages
# start from a copy so the model never edits the caller's frame in place.
def _header(task: str) -> str:
    _entry, arg, signature = CONTRACTS[task]
    return signature + "\n" + (f"    {arg} = {arg}.copy()\n" if task in ("clean", "feature") else "")


HEADERS: dict[str, str] = {task: _header(task) for task in CONTRACTS}
IMPORTS = "import numpy as np\nimport pandas as pd\n\n\n"
# Token budget of the table description in a tuned prompt (`build_context(..., budget_tokens=...)`):
# training sequences must hold context + request + code, and short prompts keep decoding fast.
# 160 (~200 Gemma tokens): on 2 shared CPU cores the prompt is most of a training step's cost,
# and the columns a request names are always shown whatever the budget.
CONTEXT_TOKENS = 160
# What a stage proposal (no user request) asks for, in the words the model is trained on.
STAGE_REQUESTS: dict[str, str] = {
    "clean": "propose the cleaning step for this table",
    "feature": "propose the feature step for this table",
    "model": "propose a model pipeline for this table",
}
# Generation stops here: the model ends a function by starting the next section or a new def.
STOPS: tuple[str, ...] = ("\n###", "\ndef ", "\n```", "<end_of_turn>", "<eos>", "\nif __name__")


@dataclass(frozen=True)
class TunedPrompt:
    text: str  # the whole prompt; it ends with `prefix`
    prefix: str  # imports + function header: the code the model continues


def tuned_prompt(task: Task, context: str, request: str | None = None, examples: str = "") -> TunedPrompt:
    """Render the prompt a tuned model sees for `task` on a table described by `context`.

    `context` is `core.context.build_context(...).text`; `request` is the user's free-form request
    or question (None for a stage proposal).
    """
    if task not in HEADERS:
        raise ValueError(f"unknown task {task!r}; expected one of {sorted(HEADERS)}")
    prefix = IMPORTS + HEADERS[task]
    text = prompts.render(
        "tuned/code.j2",
        task=task,
        context=context.strip(),
        request=(request or STAGE_REQUESTS.get(task, "")).strip(),
        examples=examples.strip(),
        prefix=prefix.rstrip("\n"),
    )
    # The text ends exactly with the prefix (its one trailing newline), whatever the template's
    # trailing whitespace: the model's first token is the first token of the function body.
    return TunedPrompt(text=text.rstrip("\n") + "\n", prefix=prefix)
