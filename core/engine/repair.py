"""Attempts and repair: Gemma's first code, then up to N repairs with the failure fed back.

Every try, Gemma's or a recipe's, is recorded as an `Attempt` on the `Trail`, so a proposal can
say honestly what was tried and why it failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core import prompts
from core.engine.check import Verdict
from core.engine.generate import REPAIR_TOKENS, CodePrompt, Generator, examples, scaffold_prefix
from core.llm.base import BackendError
from core.models import Attempt
from core.stages.spec import Contract

Check = Callable[[str], Verdict]


@dataclass
class Trail:
    """What one proposal accumulates: attempts, refusals, the last failure, the last verdict."""

    attempts: list[Attempt] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    last_failure: str | None = None
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # code -> its verdict

    def record(self, source: str, code: str, verdict: Verdict, seconds: float) -> Verdict:
        self.attempts.append(
            Attempt(source=source, code=code, ok=verdict.ok, failure=verdict.failure, seconds=seconds)  # type: ignore[arg-type]
        )
        self.refused += [r for r in verdict.refused if r not in self.refused]
        self.verdicts[code] = verdict
        return verdict

    def fail(self, failure: str, code: str = "", seconds: float = 0.0) -> None:
        self.attempts.append(Attempt(source="gemma", code=code, ok=False, failure=failure, seconds=seconds))
        self.last_failure = failure

    def rule(self, code: str, check: Check) -> Verdict:
        """A recipe's code, checked like any other."""
        t0 = time.perf_counter()
        return self.record("rule", code, check(code), time.perf_counter() - t0)


@dataclass(frozen=True)
class RepairPrompt:
    """What a repair prompt is built from (few-shot `fix/repair.j2`, or the tuned format)."""

    stage: str  # prompts are taken from this stage's examples
    task: str  # "clean" | "feature" | "model" | "ask": the tuned format's task
    contract: Contract
    copies: bool  # transforms start from `df = df.copy()`
    context: str
    task_line: str  # what the code was for ("Request: …", the plan, "fix the clean function")
    examples_file: str | None


def repair_prompt(gen: Generator, spec: RepairPrompt, code: str, failure: str) -> CodePrompt:
    if gen.tuned:
        # The adapter knows one format: the request carries the failed code's error. Its template
        # writes "### Request: " itself (the few-shot task line carries its own "Request: ").
        ask = f"{spec.task_line.removeprefix('Request: ')}\n(the previous code failed: {failure})"
        return gen.code_prompt(spec.task, spec.contract, "", spec.context, ask, spec.copies)
    prefix = scaffold_prefix(spec.contract, spec.copies)
    text = prompts.render(
        "fix/repair.j2",
        examples=examples(spec.examples_file),
        context=spec.context,
        task=spec.task_line,
        code=code.strip(),
        error=failure,
        prefix=prefix.rstrip("\n"),
    )
    return CodePrompt(gen.few_shot(text), prefix)


def attempt_gemma(
    trail: Trail,
    gen: Generator,
    first: Callable[[], str],
    check: Check,
    n_repair: int,
    spec: RepairPrompt,
) -> tuple[str | None, int]:
    """First code from `first()` + up to n_repair repairs (the failure fed back).

    Returns (verified code or None, repairs used). A repair that gives back the same code ends
    the loop early: at temperature 0 asking again would give the same answer.
    """
    code = ""
    failure = ""
    for round_ in range(n_repair + 1):
        t0 = time.perf_counter()
        try:
            if round_ == 0:
                new = first()
            else:
                new = gen.code(repair_prompt(gen, spec, code, failure), spec.contract.entry, REPAIR_TOKENS)
        except BackendError as e:
            trail.fail(f"model error: {e}", seconds=time.perf_counter() - t0)
            return None, round_
        if round_ and new.strip() == code.strip():
            trail.attempts.append(Attempt(source="gemma", code=new, ok=False,
                                          failure="the repair repeated the failing code",
                                          seconds=time.perf_counter() - t0))  # fmt: skip
            return None, round_
        code = new
        verdict = trail.record("gemma", code, check(code), time.perf_counter() - t0)
        if verdict.ok:
            return code, round_
        failure = verdict.failure or "failed"
        trail.last_failure = failure
    return None, n_repair
