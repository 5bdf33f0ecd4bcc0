"""A question about the table: Gemma writes `def answer(df)`, it runs on the whole table in the
sandbox, and the value must be shown to answer the question asked (`check_answer`)."""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from core.engine.ask_plan import QuestionPlan, plan_question, read
from core.engine.ask_words import NUMBER, find_spans, tokens
from core.engine.check import Checker, Verdict
from core.engine.context import as_frame, workbench
from core.engine.generate import REQUEST_TOKENS, Generator, examples
from core.engine.grammar import grounding
from core.engine.intent import IntentVerdict
from core.engine.intent_base import decode_value, plain_value
from core.engine.repair import RepairPrompt, Trail, attempt_gemma
from core.llm.base import Backend
from core.models import Attempt, Project
from core.recipes.base import CONTRACTS
from core.sandbox.base import Sandbox
from core.stages.spec import Contract

ASK = Contract(*CONTRACTS["ask"])
# The checks that recompute the answer itself (a reference value, a question recipe's answer, the
# rows a named value has); every other check (`core.engine.intent_answer`) reads only its form.
_VALUE_CHECK = re.compile(r"match|agrees with| rows have ")


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
    # "gemma" | "gemma-repaired" | "rule" (a question recipe, after Gemma's answer failed)
    source: str = "gemma"
    reading: str | None = None  # the question recipe's reading, when one was made


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
        gen.grounding = grounding(bench.sample, new_columns=False)
        check = Checker(
            sandbox, bench.sample_path, bench.sample, "ask", ASK, "answer", bench.target, question
        )
        cp = gen.code_prompt(
            "ask", ASK, "ask/question.j2", bench.context.text, question, copies=False,
            columns=list(bench.sample.columns), examples=examples("ask/examples.txt"), question=question,
        )  # fmt: skip
        repair = RepairPrompt("ask", "ask", ASK, False, bench.context.text, f"Question: {question}",
                              "ask/examples.txt")  # fmt: skip
        plan = plan_question(question, frame)

        def grounded(code: str) -> Verdict:
            v = check(code)
            if not v.ok:
                return v
            wrong = literal_failure(code, frame) or coverage_failure(question, code, frame)
            return replace(v, ok=False, failure=f"it does not do what was asked: {wrong}") if wrong else v

        # With a question recipe to fall back on, one repair is enough: later ones rarely succeed.
        code, rounds = attempt_gemma(
            trail, gen, lambda: gen.code(cp, ASK.entry, REQUEST_TOKENS), grounded,
            min(n_repair, 1) if plan is not None else n_repair, repair,
        )  # fmt: skip
        source = "gemma" if not rounds else "gemma-repaired"
        if plan is not None:
            code, source = _with_recipe(trail, check, code, source, plan)
    if code is None:
        raise AskError(f"could not answer this: {trail.last_failure}", trail.attempts)
    v = trail.verdicts[code]
    intent = v.intent or IntentVerdict("unchecked", (), None)
    if plan is None and intent.state == "verified":
        intent = _partly(question, frame, intent)
    if intent.state == "verified" and not _value_verified(intent):
        # "a single number", "3 items", "a yes/no answer": the answer's form, not its value.
        form = "; ".join(c.lstrip("✓ ") for c in intent.checks)
        reason = f"not verified against your question: its form was checked ({form}), not its value"
        intent = IntentVerdict("unchecked", intent.checks, reason)
    return Answer(
        code, v.stdout, v.value, intent.state, list(intent.checks), intent.reason, cp.text, trail.attempts,
        source, plan.reading if plan is not None else None,
    )  # fmt: skip


def _with_recipe(
    trail: Trail, check: Checker, code: str | None, source: str, plan: QuestionPlan
) -> tuple[str | None, str]:
    """Gemma's answer checked against the question recipe's; the recipe's where Gemma's fails.

    Agreement verifies Gemma's answer. Where they differ, an answer whose value the question's
    own checks recomputed stands; one whose form alone was checked ("a single number") gives way
    to a recipe that read every word of the question (its reading is stated), not to one that
    left a word unread ("chosen" in "which mode was chosen most often")."""
    ref = trail.rule(plan.code, check)
    if not ref.ok:
        return code, source
    # A reading that left a word of the question unused ("chosen") answers, but verifies nothing.
    unread = (
        f"not verified against your question: read as {plan.reading}; not used: {', '.join(plan.unread)}"
        if plan.unread
        else None
    )
    if unread is not None:
        ref = replace(ref, intent=IntentVerdict("unchecked", (), unread))
        trail.verdicts[plan.code] = ref
    if code is not None:
        mine = trail.verdicts[code]
        if _agree(mine.value, ref.value):
            intent = mine.intent or IntentVerdict("unchecked", (), None)
            checks = (*intent.checks, f"✓ agrees with the question read as {plan.reading}")
            agreed = (
                IntentVerdict("verified", checks, None)
                if unread is None
                else IntentVerdict("unchecked", checks, unread)
            )
            trail.verdicts[code] = replace(mine, intent=agreed)
            return code, source
        if _value_verified(mine.intent) or (unread is not None and _verified(mine.intent)):
            return code, source  # recomputed, or the recipe itself left a word of the question unread
        trail.fail(
            f"Gemma's answer {_short(mine.value)} differs from {plan.reading}: {_short(ref.value)}", code
        )
    if ref.intent is not None and ref.intent.state == "failed":
        return None, source
    return plan.code, "rule"


def _verified(intent: IntentVerdict | None) -> bool:
    return intent is not None and intent.state == "verified"


def _value_verified(intent: IntentVerdict | None) -> bool:
    """Verified by a check that recomputed the value, not only by its form."""
    return intent is not None and _verified(intent) and any(_VALUE_CHECK.search(c) for c in intent.checks)


def literal_failure(code: str, frame: pd.DataFrame) -> str | None:
    """A comparison of a column with text it never holds (`df["smoker"] == " Yes "`): the condition
    matches no row, so the answer is about nothing — whatever format checks it passes."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)):
            continue
        sides = [node.left, node.comparators[0]]
        col = next((_subscript_name(x) for x in sides if _subscript_name(x) in frame.columns), None)
        texts = [x.value for x in sides if isinstance(x, ast.Constant) and isinstance(x.value, str)]
        text = texts[0] if texts else None
        if col is None or text is None:
            continue
        if pd.api.types.is_numeric_dtype(frame[col]):
            return f"{col!r} holds numbers: it never equals the text {text[:40]!r}"
        held = frame[col].dropna().astype(str)
        if not (held == text).any():
            shown = ", ".join(repr(v) for v in held.value_counts().index[:5])
            return f"{col!r} never holds {text!r} (its values include {shown})"
    return None


def coverage_failure(question: str, code: str, frame: pd.DataFrame) -> str | None:
    """A column, value or number the question states that the code never uses ("the total quantity
    in the South region" answered by `df["quantity"].sum()`): the answer drops part of the question,
    whatever form checks it passes. Read by the question recipes' reader (`ask_plan.read`), so only
    what it finds with confidence is asked for; a mention anywhere in the code counts."""
    try:
        r = read(question, frame.rename(columns=str, copy=False))
    except (KeyError, ValueError, TypeError, IndexError):
        return None
    text = code.casefold()
    # A column named by one word of its name only ("the bills" -> total_bill) may be the rows' noun.
    weak = {s.name for s in find_spans(question, [str(c) for c in frame.columns]) if s.partial}
    missing = [f"the column {c!r}" for c in r.columns if c not in weak and not _uses_column(code, c)]
    # numbers the question states ("more than 120"), not the 1 a 0/1 column is read with
    stated = {float(w) for w in tokens(question) if NUMBER.match(w)}
    for c, _op, v in r.conds:
        for x in v if isinstance(v, tuple) else (v,):  # "from GBR or FRA": both
            # a short code ("F" for "women") only as a quoted literal: any code holds the letter f
            if not isinstance(x, str):
                continue
            used = any(q in code for q in (f"'{x}'", f'"{x}"')) if len(x) <= 2 else x.casefold() in text
            if not used:
                missing.append(f"{x!r} (a value of {c!r})")
        numbers = [x for x in (v if isinstance(v, tuple) else (v,)) if not isinstance(x, (bool, str))]
        unused = [x for x in numbers if x in stated and not _uses_number(code, x)]
        missing += [f"{x:g} (a condition on {c!r})" for x in unused]
    if not missing:
        return None
    names = list(dict.fromkeys(missing))
    return f"the question names {', '.join(names)}; the code never uses {'them' if len(names) > 1 else 'it'}"


def _uses_column(code: str, col: str) -> bool:
    quoted = (f'"{col}"', f"'{col}'")
    return any(q in code for q in quoted) or re.search(rf"\.{re.escape(col)}\b", code) is not None


def _uses_number(code: str, v: float) -> bool:
    forms = {f"{v:g}", repr(float(v))} | ({str(int(v))} if float(v).is_integer() else set())
    return any(re.search(rf"(?<![\w.]){re.escape(f)}(?![\d])", code) for f in forms)


def _subscript_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return str(node.slice.value)
    return None


def _partly(question: str, frame: pd.DataFrame, intent: IntentVerdict) -> IntentVerdict:
    """Checks derived from part of a question do not verify the answer to all of it: "which travel
    mode was chosen most often" checked as "a value of mode" says nothing about "chosen"."""
    unexplained = read(question, frame.rename(columns=str, copy=False)).leftover
    if len(unexplained) <= 1:
        return intent
    words = ", ".join(unexplained[:4])
    reason = f"not verified against your question: the checks cover only part of it (not: {words})"
    return IntentVerdict("unchecked", intent.checks, reason)


def _plain(v: object) -> object:
    v = plain_value(decode_value(v))
    if isinstance(v, (pd.Series, pd.Index)):
        return v.tolist() if isinstance(v, pd.Index) else v.to_dict()
    return v


def _agree(a: object, b: object) -> bool:
    a, b = _plain(a), _plain(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b) and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return {str(k) for k in a} == {str(k) for k in b} and all(
            _agree(a[k], next(w for j, w in b.items() if str(j) == str(k))) for k in a
        )
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_agree(x, y) for x, y in zip(a, b, strict=True))
    return str(a) == str(b)


def _short(v: object) -> str:
    return repr(_plain(v))[:60]
