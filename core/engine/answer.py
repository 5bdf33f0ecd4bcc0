"""A question about the table: Gemma writes `def answer(df)`, it runs on the whole table in the
sandbox, and the value must be shown to answer the question asked (`check_answer`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core.engine.check import Checker
from core.engine.context import as_frame, workbench
from core.engine.generate import REQUEST_TOKENS, Generator, examples
from core.engine.intent import IntentVerdict
from core.engine.repair import RepairPrompt, Trail, attempt_gemma
from core.llm.base import Backend
from core.models import Attempt, Project
from core.recipes.base import CONTRACTS
from core.sandbox.base import Sandbox
from core.stages.spec import Contract

ASK = Contract(*CONTRACTS["ask"])


class AskError(RuntimeError):
    """A question could not be answered with verified code; carries the attempts."""

    def __init__(self, message: str, attempts: list[Attempt]) -> None:
        super().__init__(message)
        self.attempts = attempts


@dataclass
class Answer:
    code: str
    stdout: str
    value: Any
    intent: str = "unchecked"  # "verified" | "unchecked" (a failed intent is an AskError)
    intent_checks: list[str] = field(default_factory=list)
    intent_reason: str | None = None
    prompt: str | None = None
    attempts: list[Attempt] = field(default_factory=list)


def ask(
    project_or_df: Project | pd.DataFrame,
    question: str,
    backend: Backend,
    sandbox: Sandbox,
    data: Any = None,
    n_repair: int = 2,
    sample_rows: int | None = None,
) -> Answer:
    """Answer `question` with verified code `def answer(df)`, run on the table (script mode).

    Raises AskError when no code verifies or every answer is shown not to answer the question."""
    if isinstance(project_or_df, pd.DataFrame):
        frame, project = project_or_df, None
    else:
        project, frame = project_or_df, as_frame(data)
    trail = Trail()
    gen = Generator(backend)
    target = project.target if project else None
    excluded = project.excluded_columns if project else ()
    rows = sample_rows or max(len(frame), 1)
    with workbench(
        frame, sandbox, task_name="ask", backend=backend, sample_rows=rows, target=target, request=question,
        excluded=excluded,
    ) as bench:  # fmt: skip
        check = Checker(
            sandbox, bench.sample_path, bench.sample, "ask", ASK, "answer", bench.target, question
        )
        cp = gen.code_prompt(
            "ask", ASK, "ask/question.j2", bench.context.text, question, copies=False,
            columns=list(bench.sample.columns), examples=examples("ask/examples.txt"), question=question,
        )  # fmt: skip
        repair = RepairPrompt("ask", "ask", ASK, False, bench.context.text, f"Question: {question}",
                              "ask/examples.txt")  # fmt: skip
        code, _ = attempt_gemma(
            trail, gen, lambda: gen.code(cp, ASK.entry, REQUEST_TOKENS), check, n_repair, repair
        )
    if code is None:
        raise AskError(f"could not answer this: {trail.last_failure}", trail.attempts)
    v = trail.verdicts[code]
    intent = v.intent or IntentVerdict("unchecked", (), None)
    return Answer(
        code, v.stdout, v.value, intent.state, list(intent.checks), intent.reason, cp.text, trail.attempts
    )
