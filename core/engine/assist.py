"""Help with code the user already has: explain it (Gemma's sentence, kept only when grounded, plus
facts read from the code) and fix it (Gemma repairs it given the error, checked like a proposal)."""

from __future__ import annotations

import ast
import re
import time
from typing import Any

from core import prompts
from core.engine.check import Checker
from core.engine.context import as_frame, workbench
from core.engine.generate import REPAIR_TOKENS, Generator, examples
from core.engine.repair import RepairPrompt, Trail, attempt_gemma, repair_prompt
from core.llm.base import Backend, BackendError
from core.models import Project, Proposal, Provenance
from core.sandbox.base import Sandbox
from core.stages import get


def explain(code: str, project: Project | None, backend: Backend | None) -> str:
    """A short explanation: Gemma's one sentence (few-shot) + facts read from the code itself."""
    facts = code_facts(code)
    sentence = ""
    if backend is not None:
        gen = Generator(backend)
        body = "\n".join(line for line in code.splitlines() if line.startswith("    "))[:1500]
        text = prompts.render("explain/explain.j2", examples=examples("explain/examples.txt"), code=body)
        try:
            reply = gen.generate(gen.few_shot(text.rstrip()), 60, stop=("\n", "Code:", "<end_of_turn>"))
            sentence = "It " + reply.strip() if reply.strip() else ""
        except BackendError:
            sentence = ""
        sentence = _grounded(sentence, code, project)
    return (sentence + "\n" if sentence else "") + facts


def _grounded(sentence: str, code: str, project: Project | None) -> str:
    """Keep Gemma's sentence only when it is about this code: it must name a column the code uses,
    and every quoted name in it must exist in the code or the data."""
    if not sentence:
        return ""
    columns = set(re.findall(r"[\"']([^\"']+)[\"']", code))
    known = set(columns)
    if project is not None and project.profile is not None:
        known |= {c.name for c in project.profile.columns}
    quoted = re.findall(r"[\"'`]([^\"'`]+)[\"'`]", sentence)
    if any(q not in known for q in quoted):
        return ""
    words = set(re.findall(r"[\w]+", sentence.casefold()))
    mentions = [
        c for c in columns if c.casefold() in words or c.casefold().replace("_", " ") in sentence.casefold()
    ]
    return sentence if mentions else ""


def code_facts(code: str) -> str:
    """What the code reads, creates, drops and calls: read from the AST, so always true."""
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return f"The code does not parse (line {e.lineno}: {e.msg})."
    created, read, calls = [], [], []
    dropped: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            (created if isinstance(node.ctx, ast.Store) else read).append(node.slice.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            calls.append(node.func.attr)
            if node.func.attr == "drop":
                for kw in node.keywords:
                    if kw.arg == "columns" and isinstance(kw.value, (ast.List, ast.Tuple)):
                        dropped += [e.value for e in kw.value.elts if isinstance(e, ast.Constant)]

    def uniq(xs: list[str]) -> list[str]:
        return list(dict.fromkeys(xs))

    parts = []
    if uniq(read):
        parts.append("Reads columns: " + ", ".join(uniq(read)[:12]) + ".")
    if uniq(created):
        parts.append("Writes columns: " + ", ".join(uniq(created)[:12]) + ".")
    if dropped:
        parts.append("Drops columns: " + ", ".join(uniq(dropped)[:12]) + ".")
    if calls:
        parts.append("Uses: " + ", ".join(uniq(calls)[:12]) + ".")
    return " ".join(parts) or "The code does not touch any named column."


def fix(
    code: str,
    error: str,
    project: Project,
    backend: Backend | None,
    sandbox: Sandbox,
    stage: str = "clean",
    data: Any = None,
    n_repair: int = 2,
    sample_rows: int = 2000,
) -> Proposal:
    """Gemma repairs `code` given `error`, verified like any proposal. Never swaps in other code:
    when no repair verifies, the result is `verified=False` with the reason."""
    t_start = time.perf_counter()
    spec = get(stage)
    contract = spec.contract
    assert contract is not None  # noqa: S101 - fix is offered on code stages only
    frame = as_frame(data)
    trail = Trail()
    with workbench(frame, sandbox, task_name=stage, backend=backend, sample_rows=sample_rows,
                   target=project.target, steps=project.active_steps, excluded=project.excluded_columns,
                   project=project, needs_task=spec.kind == "model") as bench:  # fmt: skip
        check = Checker(sandbox, bench.sample_path, bench.sample, stage, contract, spec.kind, bench.target,
                        None, bench.task)  # fmt: skip
        gen = Generator(backend) if backend is not None else None
        fixed, rounds, prompt = None, 0, None
        if gen is not None:
            task_line = f"fix the {contract.entry} function"
            repair = RepairPrompt(stage, stage, contract, spec.transforms, bench.context.text, task_line,
                                  spec.prompts.examples)  # fmt: skip
            first_prompt = repair_prompt(gen, repair, code, error)
            prompt = first_prompt.text
            fixed, rounds = attempt_gemma(
                trail, gen, lambda: gen.code(first_prompt, contract.entry, REPAIR_TOKENS), check,
                max(0, n_repair - 1), repair,
            )  # fmt: skip
    if fixed is not None:
        # A fix is a repair from its first round: the user's failing code was try one.
        origin = Provenance(source="gemma-repaired", route="gemma", repairs=rounds + 1)
        return _proposal(stage, fixed, origin, f"Gemma's fix for: {error}", True, prompt, trail, t_start)
    origin = Provenance(source="user", route="fix-failed", reason=trail.last_failure or "no model available")
    return _proposal(stage, code, origin, error, False, prompt, trail, t_start)


def _proposal(
    stage: str, code: str, origin: Provenance, why: str, ok: bool, prompt: str | None, trail: Trail, t0: float
) -> Proposal:
    return Proposal(
        stage=stage, code=code, entrypoint=get(stage).contract.entry,  # type: ignore[union-attr]
        provenance=origin.source, provenance_detail=origin.line(), origin=origin, rationale=why,
        verified=ok, prompt=prompt, attempts=trail.attempts, refused=trail.refused,
        seconds=time.perf_counter() - t0,
    )  # fmt: skip
