"""One proposal: a `ProposalSession` holds the stage, project, data, backend, sandbox and options,
and runs the engine's parts in order:

    context -> generate (select | scaffold | tuned) -> extract -> check -> repair -> fallback

Nothing reaches the user unverified: every piece of code, Gemma's or a recipe's, passes the same
`Checker` before it is marked `verified=True`; a free-form request's code must also be shown to do
what was asked (intent), and a stage proposal that would change nothing is `nothing_to_do`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from core import prompts
from core.engine.check import Checker, Verdict, coverage_failure
from core.engine.context import ProposeError, Workbench, as_frame, workbench
from core.engine.fallback import match_request, plan_line, rationale
from core.engine.generate import CodePrompt, Generator, examples, scaffold_prefix
from core.engine.grammar import grounding
from core.engine.intent import IntentVerdict
from core.engine.plan_requests import body_of, write_steps
from core.engine.repair import RepairPrompt, Trail, attempt_gemma
from core.engine.second_look import SECOND_LOOK, second_look
from core.engine.select import Selection, select_recipes
from core.llm.base import Backend, BackendError
from core.models import Attempt, Project, Proposal, Provenance, Source
from core.recipes.base import Recipe
from core.sandbox.base import Sandbox
from core.stages import StageSpec, find

# Told to the user with a request Gemma and the recipes could not do.
SUGGESTION = (
    "Try naming the column and what should happen to it (e.g. 'fill missing age with the median'), "
    "or use one of the stage's recipes."
)


@dataclass(frozen=True)
class ProposeOptions:
    request: str | None = None  # a free-form request instead of the stage's own proposal
    n_repair: int = 2
    sample_rows: int = 2000
    exclude: tuple[str, ...] = ()
    technique: str | None = None  # "select" | "scaffold" | "tuned"; None: the stage's default
    on_text: Callable[[str], None] | None = None  # live model output (streaming)


@dataclass
class ProposalSession:
    spec: StageSpec
    project: Project
    backend: Backend | None
    sandbox: Sandbox
    options: ProposeOptions = field(default_factory=ProposeOptions)
    trail: Trail = field(default_factory=Trail)
    started: float = field(default_factory=time.perf_counter)
    # Set when the session runs: the generator (None: recipes only), the sample and its checks.
    gen: Generator | None = field(init=False, default=None)
    bench: Workbench = field(init=False)
    check: Checker = field(init=False)
    recipes: list[Recipe] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if self.backend is not None:
            self.gen = Generator(self.backend, self.options.on_text)

    # ------------------------------------------------------------------ entry
    def run(self, data: Any) -> Proposal:
        frame = as_frame(data)
        project = self.project
        # The project's own profile is current while no step has changed the loaded data.
        current = project.profile if project.profile is not None and not project.active_steps else None
        with workbench(
            frame, self.sandbox, task_name=self.spec.name, backend=self.backend,
            sample_rows=self.options.sample_rows, target=project.target, request=self.options.request,
            steps=project.active_steps, excluded=set(self.options.exclude) | set(project.excluded_columns),
            profile=current, project=project, needs_task=self.spec.kind == "model",
        ) as bench:  # fmt: skip
            self.bench = bench
            if self.gen is not None and self.spec.contract is not None:
                self.gen.grounding = grounding(bench.sample, new_columns=self.spec.transforms)
            self.check = Checker(
                self.sandbox, bench.sample_path, bench.sample, self.spec.name, self.spec.contract,  # type: ignore[arg-type]
                self.spec.kind, bench.target, self.options.request, bench.task,
            )  # fmt: skip
            self.recipes = (
                self.spec.recipes(bench.profile, bench.target, bench.task) if self.spec.recipes else []
            )
            return self._request() if self.options.request else self._stage()

    # ------------------------------------------------------------------ the result
    def _finish(
        self, code: str, origin: Provenance, why: str, ok: bool, used: list[Recipe], prompt: str | None,
        intent: IntentVerdict | None = None, nothing_to_do: bool = False,
    ) -> Proposal:  # fmt: skip
        if intent is not None:
            second = intent.state == "verified" and SECOND_LOOK in intent.checks
            origin = origin.model_copy(update={"intent": intent.state, "second_look": second})
        return Proposal(
            stage=self.spec.name,
            code=code,
            entrypoint=self.spec.contract.entry,  # type: ignore[union-attr]
            provenance=origin.source,
            provenance_detail=origin.line(),
            origin=origin,
            rationale=why,
            verified=ok,
            request=self.options.request,
            prompt=prompt,
            attempts=self.trail.attempts,
            refused=self.trail.refused,
            recipes=[r.id for r in used],
            seconds=time.perf_counter() - self.started,
            intent=intent.state if intent is not None else "n/a",
            intent_checks=list(intent.checks) if intent is not None else [],
            intent_reason=intent.reason if intent is not None else None,
            nothing_to_do=nothing_to_do,
        )

    def _repair_spec(self, task_line: str) -> RepairPrompt:
        return RepairPrompt(
            self.spec.name, self.spec.name, self.spec.contract, self.spec.transforms,  # type: ignore[arg-type]
            self.bench.context.text, task_line, self.spec.prompts.examples,
        )  # fmt: skip

    # ------------------------------------------------------------------ stage proposals
    def _stage(self) -> Proposal:
        spec, recipes = self.spec, self.recipes
        rule_code = spec.render(recipes)  # type: ignore[misc]
        why = rationale(recipes)
        has_work = any(r.code.strip() for r in recipes)
        if spec.transforms and not has_work:
            # Nothing in the profile for this stage to fix: asking Gemma would only invite noise,
            # and an unchanged table is no step at all.
            v = self.trail.rule(rule_code, self.check)
            origin = Provenance(source="rule", route="nothing", gemma_asked=self.gen is not None)
            return self._finish(rule_code, origin, why, v.ok, recipes, None, nothing_to_do=True)
        if self.gen is None:
            v = self.trail.rule(rule_code, self.check)
            origin = Provenance(source="rule", route="recipes", gemma_asked=False,
                                rule_failure=None if v.ok else v.failure)  # fmt: skip
            return self._finish(rule_code, origin, why, v.ok, recipes, None, nothing_to_do=_noop(spec, v))
        technique = self.options.technique or (
            "tuned" if self.gen.tuned and spec.transforms else spec.technique
        )
        # The model stage is always a choice among recipes: a 270M model does not write sklearn pipelines.
        if technique == "select" or not spec.transforms:
            return self._select(self.gen, rule_code)
        return self._write(self.gen, rule_code, technique)

    def _select(self, gen: Generator, rule_code: str) -> Proposal:
        spec, recipes = self.spec, self.recipes
        t0 = time.perf_counter()
        try:
            sel = select_recipes(gen, spec, self.bench.context.text, recipes, self.bench.task)
        except BackendError as e:
            self.trail.last_failure = f"model error: {e}"
            sel = Selection(recipes, False)
        seconds = time.perf_counter() - t0
        prompt = gen.preview()
        code = spec.render(sel.chosen)  # type: ignore[misc]
        v = self.trail.rule(code, self.check)
        self.trail.attempts[-1].seconds += seconds
        origin = _selection_origin(spec, recipes, sel, self.trail.last_failure)
        if v.ok:
            why = rationale(sel.chosen)
            if spec.transforms and not any(r.code.strip() for r in sel.chosen):
                offered = ", ".join(r.title for r in recipes if r.code.strip())
                why = f"nothing to do: Gemma kept none of the recipes ({offered})"
            return self._finish(code, origin, why, True, sel.chosen, prompt, nothing_to_do=_noop(spec, v))
        self.trail.last_failure = v.failure
        if spec.kind == "model":
            # Each model recipe is a complete alternative: try the others before giving up.
            for alt in sel.chosen[1:]:
                code = spec.render([alt])  # type: ignore[misc]
                if self.trail.rule(code, self.check).ok:
                    origin = Provenance(source="rule", route="alternative", first_choice=sel.chosen[0].title,
                                        reason=v.failure, recipe=alt.title)  # fmt: skip
                    return self._finish(code, origin, rationale([alt]), True, [alt], prompt)
        return self._fallback(rule_code, None, 0.0, prompt)

    def _write(self, gen: Generator, rule_code: str, technique: str) -> Proposal:
        """Gemma writes the stage's code (the recipes' plan as scaffold, or the tuned format)."""
        spec, recipes, bench = self.spec, self.recipes, self.bench
        contract = spec.contract
        assert contract is not None  # noqa: S101 - only stages with a contract reach the engine
        plan = [plan_line(r) for r in recipes if r.code.strip()] or ["Nothing to fix: return the table as is"]
        # The recipes' output on the sample is the bar Gemma's code must reach (quality gate).
        t0 = time.perf_counter()
        rule_verdict = self.check(rule_code)
        rule_seconds = time.perf_counter() - t0
        reference = rule_verdict.frame if rule_verdict.ok else None

        def gated(code: str) -> Verdict:
            v = self.check(code, allow_noop=False)
            if v.ok and reference is not None and v.frame is not None:
                gap = coverage_failure(reference, v.frame, bench.target)
                if gap:
                    return Verdict(False, gap, stdout=v.stdout)
            return v

        if technique == "tuned":
            return self._write_steps(gen, rule_code, gated, rule_verdict, rule_seconds)
        first: Callable[[], str]
        if technique == "tuned-whole":  # the whole function in one reply (kept for comparison)
            cp = gen.code_prompt(spec.name, contract, "", bench.context.text, None, copies=True)
            prompt = cp.text
            first = lambda: gen.code(cp, contract.entry, spec.max_tokens)  # noqa: E731
        else:
            prefix = scaffold_prefix(contract, copies=True)
            head = prompts.render(spec.prompts.scaffold or f"{spec.name}/scaffold.j2",
                                  examples=examples(spec.prompts.examples), context=bench.context.text,
                                  plan=plan, prefix="")  # fmt: skip
            head = gen.few_shot(head.rstrip("\n") + "\n")
            prompt = head + prefix + f"    # {plan[0]}\n"
            first = lambda: gen.stepwise(head, prefix, plan, contract.arg)  # noqa: E731
        code, rounds = attempt_gemma(self.trail, gen, first, gated, self.options.n_repair,
                                     self._repair_spec("; ".join(plan)))  # fmt: skip
        if code is not None:
            origin = Provenance(source=_gemma_source(rounds), route="gemma", repairs=rounds)
            return self._finish(code, origin, f"Gemma's code for the plan: {rationale(recipes)}", True,
                                recipes, prompt)  # fmt: skip
        return self._fallback(rule_code, rule_verdict, rule_seconds, prompt)

    def _write_steps(
        self, gen: Generator, rule_code: str, gated: Callable[[str], Verdict], rule_verdict: Verdict,
        rule_seconds: float,
    ) -> Proposal:  # fmt: skip
        """A tuned Gemma writes the plan step by step, each step as the requests it is made of
        (`core.engine.plan_requests`); each piece is checked against its own request."""
        spec, contract = self.spec, self.spec.contract
        assert contract is not None  # noqa: S101 - only stages with a contract reach the engine
        first_prompt: list[str] = []

        def piece(request: str) -> str | None:
            cp = self._request_prompt(gen, request)
            first_prompt[:] = first_prompt or [cp.text]
            check = replace(self.check, request=request)

            def holds(code: str) -> Verdict:
                v = check(code, allow_noop=False)
                if v.ok and v.intent is not None and v.intent.state == "failed":
                    return replace(v, ok=False, failure=f"it does not do what was asked: {v.intent.reason}")
                return v

            repair = self._repair_spec(f"Request: {request}")
            first = lambda: gen.code(cp, contract.entry)  # noqa: E731
            code, _ = attempt_gemma(self.trail, gen, first, holds, min(self.options.n_repair, 1), repair)
            if code is None:
                self.trail.last_failure = f"{request}: {self.trail.last_failure}"
                return None
            return body_of(code, contract.entry, contract.arg)

        plan = write_steps(self.recipes, self.bench.target, piece, self.bench.profile)
        prompt = first_prompt[0] if first_prompt else None
        if plan.by_gemma:
            code = spec.render(plan.recipes)  # type: ignore[misc]
            t0 = time.perf_counter()
            v = self.trail.record("gemma", code, gated(code), time.perf_counter() - t0)
            if v.ok:
                source: Source = "gemma" if 2 * plan.by_gemma >= plan.steps else "rule"
                origin = Provenance(
                    source=source, route="steps", steps_by_gemma=plan.by_gemma, steps=plan.steps
                )
                why = f"Gemma wrote {plan.by_gemma} of {plan.steps} plan steps: {rationale(self.recipes)}"
                return self._finish(code, origin, why, True, self.recipes, prompt)
            self.trail.last_failure = f"the plan written by Gemma failed: {v.failure}"
        elif not first_prompt:
            self.trail.last_failure = "no step of this plan is one Gemma writes (the recipes' own)"
        return self._fallback(rule_code, rule_verdict, rule_seconds, prompt)

    def _fallback(
        self, rule_code: str, verdict: Verdict | None, seconds: float, prompt: str | None
    ) -> Proposal:
        """The recipes, after Gemma's code (or choice) failed."""
        if verdict is not None:
            # Already checked (as the quality bar): record it now, as the fallback it is.
            self.trail.attempts.append(Attempt(source="rule", code=rule_code, ok=verdict.ok,
                                               failure=verdict.failure, seconds=seconds))  # fmt: skip
            v = verdict
        else:
            v = self.trail.rule(rule_code, self.check)
        reason = self.trail.last_failure or "no usable proposal"
        if v.ok:
            origin = Provenance(source="rule", route="fallback", reason=reason)
        else:
            origin = Provenance(source="rule", route="failed", reason=reason, rule_failure=v.failure)
        return self._finish(rule_code, origin, rationale(self.recipes), v.ok, self.recipes, prompt,
                            nothing_to_do=_noop(self.spec, v))  # fmt: skip

    # ------------------------------------------------------------------ free-form requests
    def _request(self) -> Proposal:
        spec, bench, request = self.spec, self.bench, self.options.request or ""
        gen = self.gen
        prompt = None
        if gen is not None:
            cp = self._request_prompt(gen, request)
            prompt = cp.text
            code, rounds = attempt_gemma(
                self.trail, gen, lambda: gen.code(cp, spec.contract.entry),  # type: ignore[union-attr]
                lambda c: self.check(c, allow_noop=False), self.options.n_repair,
                self._repair_spec(f"Request: {request}"),
            )  # fmt: skip
            if code is not None:
                intent = self._intent(gen, code)
                origin = Provenance(source=_gemma_source(rounds), route="gemma", repairs=rounds, request=True)
                why = f"Gemma's code for the request: {request}"
                return self._finish(code, origin, why, True, [], prompt, intent=intent)
        reason = self.trail.last_failure or (
            "no Gemma proposal requested" if gen is None else "no usable proposal"
        )
        matched = match_request(request, spec.name, bench.profile, bench.target)
        if matched and spec.render is not None:
            code = spec.render(matched)
            v = self.trail.rule(code, self.check)
            if v.ok:
                # A recipe is offered only when its outcome passes the intent check too.
                origin = Provenance(source="rule", route="matched", reason=reason, recipe=matched[0].title,
                                    gemma_asked=gen is not None, noop=v.noop, request=True)  # fmt: skip
                return self._finish(code, origin, rationale(matched), True, matched, prompt,
                                    intent=self._intent(gen, code))  # fmt: skip
            reason = f"{reason}; recipe '{matched[0].title}' failed too: {v.failure}"
        last = next((a.code for a in reversed(self.trail.attempts) if a.code), "")
        origin = Provenance(source="gemma", route="failed", reason=reason, request=True)
        failed = IntentVerdict("failed", (), f"{reason}. {SUGGESTION}")
        return self._finish(
            last, origin, f"Unverified attempt at: {request}", False, [], prompt, intent=failed
        )

    def _request_prompt(self, gen: Generator, request: str) -> CodePrompt:
        spec = self.spec
        return gen.code_prompt(
            spec.name, spec.contract, spec.prompts.request or f"{spec.name}/request.j2",  # type: ignore[arg-type]
            self.bench.context.text, request, copies=spec.transforms, columns=list(self.bench.sample.columns),
            examples=examples(spec.prompts.request_examples),
        )  # fmt: skip

    def _intent(self, gen: Generator | None, code: str) -> IntentVerdict:
        """The intent of the verified code: checked, or the model's second look where no check exists."""
        v = self.trail.verdicts.get(code)
        intent = v.intent if v is not None and v.intent is not None else IntentVerdict("unchecked", (), None)
        if intent.state == "unchecked" and gen is not None:
            return second_look(gen, self.options.request or "", code, self.bench.sample,
                               v.frame if v is not None else None, intent)  # fmt: skip
        return intent


# --------------------------------------------------------------------------- helpers
def _gemma_source(repairs: int) -> Source:
    return "gemma" if repairs == 0 else "gemma-repaired"


def _noop(spec: StageSpec, v: Verdict) -> bool:
    """A verified transform that changes nothing on the sample is no step to offer."""
    return spec.transforms and v.ok and v.noop


def _selection_origin(
    spec: StageSpec, recipes: list[Recipe], sel: Selection, failure: str | None
) -> Provenance:
    if not sel.usable:
        return Provenance(source="rule", route="unusable-choice", reason=failure)
    if not sel.asked and sel.chosen:
        return Provenance(source="rule", route="recipes", recipe=sel.chosen[0].title)
    if spec.kind == "model" and sel.chosen:
        return Provenance(source="rule", route="selected", recipe=sel.chosen[0].title)
    counted = [r for r in recipes if r.code.strip()]
    kept = [r for r in sel.chosen if r.code.strip()]
    return Provenance(source="rule", route="selected", kept=len(kept), offered=len(counted))


def propose(
    stage: str,
    project: Project,
    backend: Backend | None,
    sandbox: Sandbox,
    request: str | None = None,
    n_repair: int = 2,
    sample_rows: int = 2000,
    exclude: Iterable[str] = (),
    data: Any = None,
    technique: str | None = None,
    on_text: Callable[[str], None] | None = None,
) -> Proposal:
    """A verified proposal for `stage` (or for a free-form `request`) on the project's current data.

    `data` is the current table (a DataFrame or a path), i.e. the result of the active steps;
    `backend=None` asks for the recipes only. `technique` ("select" | "scaffold" | "tuned")
    overrides the stage's default for stage proposals.
    """
    spec = find(stage)
    if spec is None or not spec.proposes or spec.render is None:
        raise ProposeError(f"no proposals for stage {stage!r}")
    options = ProposeOptions(request or None, n_repair, sample_rows, tuple(exclude), technique, on_text)
    return ProposalSession(spec, project, backend, sandbox, options).run(data)
