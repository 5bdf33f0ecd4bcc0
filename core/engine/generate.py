"""Talking to the Backend: prompts in the model's format, completions turned into code.

A base model gets few-shot prompts (templates under prompts/, through the registry's chat or
plain format); a wizard-tuned model (`backend.info.tuned`) gets `core.tuning.format.tuned_prompt`,
the format its adapter was trained on. Every reply that should be code goes through
`core.extract`, and every prompt sent is recorded on the `Generator` for the preview.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from core import prompts
from core.engine.grammar import Grounding
from core.engine.retrieve import examples_for
from core.extract import complete_scaffold, extract_code, strip_end_tokens
from core.llm.base import Backend, GenerationParams
from core.llm.registry import format_prompt
from core.stages.spec import Contract
from core.tuning.format import STOPS as TUNED_STOPS
from core.tuning.format import tuned_prompt

STOPS = ("\n###", "\ndef ", "\n```", "<end_of_turn>", "<eos>", "\nif __name__")
# Stepwise generation stops at the next plan comment or the return: short outputs cannot loop.
STEP_STOPS = ("\n    #", "\n    return", "\n###", "\ndef ", "\n```", "<end_of_turn>", "<eos>", "\nimport ")
# Free-form requests and repairs are short: a few lines; long outputs only loop (and cost time).
REQUEST_TOKENS = 160
REPAIR_TOKENS = 240
STEP_TOKENS = 90
IMPORTS = "import numpy as np\nimport pandas as pd\n\n\n"


@dataclass(frozen=True)
class CodePrompt:
    text: str  # the whole prompt sent
    prefix: str  # imports + function header: the code the reply continues


def scaffold_prefix(contract: Contract, copies: bool, first_comment: str | None = None) -> str:
    """Imports + the contract's function header (+ `df = df.copy()` for transforms)."""
    prefix = IMPORTS + contract.signature + "\n"
    if copies:
        prefix += f"    {contract.arg} = {contract.arg}.copy()\n"
    if first_comment:
        prefix += f"    # {first_comment}\n"
    return prefix


def examples(name: str | None) -> str:
    """A few-shot example file from prompts/ (empty when the stage has none)."""
    if not name:
        return ""
    try:
        return prompts.example(name).rstrip("\n") + "\n"
    except FileNotFoundError:
        return ""


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


@dataclass
class Generator:
    """One backend, the prompts sent to it, and an optional live view of the text it writes."""

    backend: Backend
    on_text: Callable[[str], None] | None = None  # streaming callback (the page's live output)
    sent: list[str] = field(default_factory=list)
    # The table's real names (`core.engine.grammar.grounding`), set once the table is known: a
    # reply that subscripts a name the table lacks is written again under their grammar.
    grounding: Grounding | None = None

    @property
    def tuned(self) -> bool:
        return bool(self.backend.info.tuned)

    # ------------------------------------------------------------------ prompts
    def few_shot(self, text: str) -> str:
        return format_prompt(self.backend, "", text)

    def code_prompt(
        self,
        task: str,
        contract: Contract,
        template: str,
        context: str,
        request: str | None,
        copies: bool,
        columns: Sequence[str] = (),
        **variables: object,
    ) -> CodePrompt:
        """The prompt for code that continues the contract's header: tuned format or few-shot.

        A tuned prompt carries the verified bank's examples nearest to the request, with the
        table's real `columns` substituted (none for a stage proposal: it has no request)."""
        if self.tuned:
            shots = examples_for(task, request, columns)
            tp = tuned_prompt(task, context, request, examples=shots)  # type: ignore[arg-type]
            return CodePrompt(tp.text, tp.prefix)
        prefix = scaffold_prefix(contract, copies)
        if request is not None:
            variables.setdefault("request", request)
        text = prompts.render(template, context=context, prefix=prefix.rstrip("\n"), **variables)
        return CodePrompt(self.few_shot(text), prefix)

    # ------------------------------------------------------------------ generation
    def generate(
        self, prompt: str, max_tokens: int, stop: Sequence[str] | None = None, grammar: str = ""
    ) -> str:
        stops = tuple(stop) if stop is not None else (TUNED_STOPS if self.tuned else STOPS)
        params = GenerationParams(max_tokens=max_tokens, temperature=0.0, stop=stops, grammar=grammar)
        self.sent.append(prompt)
        if self.on_text is None or not self.backend.can_stream:
            return self.backend.complete(prompt, params)
        pieces = []
        for piece in self.backend.stream(prompt, params):
            pieces.append(piece)
            self.on_text(piece)
        return "".join(pieces)

    def code(self, prompt: CodePrompt, entry: str, max_tokens: int = REQUEST_TOKENS) -> str:
        """One continuation of the prompt's header, extracted as a whole function."""
        reply = self.generate(prompt.text, max_tokens)
        code = complete_scaffold(prompt.prefix, reply, entry) or extract_code(reply, entry)
        if self.grounding is not None and self.grounding.unknown(code):
            reply = self.generate(prompt.text, max_tokens, grammar=self.grounding.grammar)
            code = complete_scaffold(prompt.prefix, reply, entry) or extract_code(reply, entry)
        return code

    def stepwise(self, head: str, prefix: str, plan: list[str], arg: str) -> str:
        """Gemma writes one plan step at a time: the prompt ends with the step's comment and the
        generation stops at the next comment or `return`. A step whose code does not parse is
        left out (its comment stays, so the gap is visible)."""
        code = prefix
        for step in plan:
            code += f"    # {step}\n"
            reply = self.generate(head + code, STEP_TOKENS, stop=STEP_STOPS)
            lines = []
            for line in strip_end_tokens(reply).split("\n"):
                if (line.strip() and not line.startswith("    ")) or line.strip().startswith("return"):
                    break  # left the function, or a return that would make later steps dead code
                if line.strip():
                    lines.append(line.rstrip())
            piece = "\n".join(lines) + ("\n" if lines else "")
            if piece and _parses(code + piece + f"    return {arg}\n"):
                code += piece
        return code + f"    return {arg}\n"

    def choose(self, prompt: str, options: Sequence[str]) -> str:
        """Exactly one of `options` (constrained decoding where the backend has it)."""
        self.sent.append(prompt)
        return self.backend.choose(prompt, list(options))

    def preview(self) -> str | None:
        """Every prompt sent, for the proposal's preview."""
        return "\n\n----- next prompt -----\n\n".join(self.sent) or None
