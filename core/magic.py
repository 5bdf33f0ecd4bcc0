"""Notebook magic: the wizard's proposal engine inside Jupyter, Kaggle or plain IPython.

    %load_ext core.magic
    %wizard df clean                                  # a verified clean() step for `df`
    %wizard df feature --target price                 # feature step, the target column protected
    %wizard df "merge rare categories of city"        # a free-form request (clean stage)
    %wizard df feature "log of income"                # a free-form request for another stage
    %wizard df ask "which city has the most orders?"  # answer a question with code (runs it)
    %%wizard df clean                                 # cell form: the cell body is the request
    merge rare categories of city

The proposed code (verified in the sandbox on a sample of the frame, exactly as in the app) goes
into the next cell for the user to run or edit; where the front end cannot do that it is
printed. The model comes from the GEMMA_WIZARD_* settings (`core.llm.settings_from_env`);
`--fake` uses the scripted fake, `--rules` asks no model (recipes only), and tests or users may
inject one with `set_backend`. Nothing here imports streamlit.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class

STAGES = ("clean", "feature", "model", "ask")
# How the proposed function is applied in the next cell, per stage ({df}: the user's variable).
APPLY = {
    "clean": "{df} = clean({df})",
    "feature": "{df} = add_features({df})",
    "model": "model = build_model({df}.drop(columns=[{target!r}]))",
    "model_no_target": "model = build_model({df})",
    "ask": "answer({df})",
}
USAGE = (
    'usage: %wizard <dataframe> [clean|feature|model|ask] ["request"] [--target COL] [--fake] [--rules] '
    "[--print]"
)


class WizardUsageError(ValueError):
    """A mistake in the magic's line; the message says how to call it."""


def parse_line(line: str, cell: str | None = None) -> dict[str, Any]:
    """`df feature "log of income" --target y` -> {var, stage, request, target, fake, rules, print}."""
    try:
        words = shlex.split(line)
    except ValueError as e:  # an unclosed quote
        raise WizardUsageError(f"{e}\n{USAGE}") from e
    opts: dict[str, Any] = {"target": None, "fake": False, "rules": False, "print": False}
    rest: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("--fake", "--rules", "--print"):
            opts[w[2:]] = True
        elif w == "--target":
            if i + 1 >= len(words):
                raise WizardUsageError(f"--target needs a column name\n{USAGE}")
            opts["target"] = words[i + 1]
            i += 1
        elif w.startswith("--target="):
            opts["target"] = w.split("=", 1)[1]
        elif w.startswith("--"):
            raise WizardUsageError(f"unknown option {w}\n{USAGE}")
        else:
            rest.append(w)
        i += 1
    if not rest:
        raise WizardUsageError(f"name the DataFrame first\n{USAGE}")
    var, rest = rest[0], rest[1:]
    stage = "clean"
    if rest and rest[0].lower() in STAGES:
        stage, rest = rest[0].lower(), rest[1:]
    request = " ".join(rest).strip()
    if cell and cell.strip():
        request = (request + "\n" + cell.strip()).strip()
    if stage == "ask" and not request:
        raise WizardUsageError(f"ask needs a question\n{USAGE}")
    return {"var": var, "stage": stage, "request": request or None, **opts}


def next_cell(var: str, stage: str, code: str, target: str | None, header: str) -> str:
    """The text of the next cell: a provenance comment, the verified function, the line applying it."""
    key = "model" if stage == "model" and target else ("model_no_target" if stage == "model" else stage)
    apply = APPLY[key].format(df=var, target=target)
    return f"{header}\n{code.rstrip()}\n\n{apply}\n"


def proposal_state(proposal: Any) -> tuple[str, bool]:
    """The honest state of a proposal in words, and whether it is ready to apply.

    A stage proposal is ready when verified; a free-form request also needs its intent verified
    (the code was shown to do what was asked). "unchecked" is said as such, never as verified.
    """
    if not proposal.verified:
        return "NOT verified: could not do this", False
    intent = getattr(proposal, "intent", "n/a")
    if intent in ("n/a", None) or not proposal.request:
        return "verified on a sample", True
    reason = f" ({proposal.intent_reason})" if proposal.intent_reason else ""
    if intent == "verified":
        return "verified on a sample; checked against your request", True
    if intent == "failed":
        return f"runs, but does NOT do what was asked{reason}", False
    return f"runs on a sample; NOT verified against your request{reason}", False


@magics_class
class WizardMagics(Magics):
    """Holds the loaded model and sandbox between calls (loading them is the slow part)."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.backend: Any = None  # built from settings on first use, or injected
        self.sandbox: Any = None
        self.last_proposal: Any = None
        self._workspace: tempfile.TemporaryDirectory[str] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ resources
    def _get_backend(self, fake: bool, rules: bool) -> Any:
        if rules:
            return None
        if fake:
            from core.llm.fake import FakeBackend
            from core.llm.registry import guarded

            # Unscripted fake: an empty answer, so the engine falls back to its recipes.
            return guarded(FakeBackend(default=""))
        if self.backend is None:
            from core.llm.registry import build_backend, settings_from_env

            self.backend = build_backend(settings_from_env())
        return self.backend

    def _get_sandbox(self) -> Any:
        if self.sandbox is None:
            from core.sandbox import LocalSandbox

            self._workspace = tempfile.TemporaryDirectory(prefix="gemma-wizard-magic-")
            self.sandbox = LocalSandbox(Path(self._workspace.name))
        return self.sandbox

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None
        if self._workspace is not None:
            self._workspace.cleanup()
            self._workspace = None

    # ------------------------------------------------------------------ the magic
    @line_cell_magic
    def wizard(self, line: str, cell: str | None = None) -> None:
        """Propose verified pandas/sklearn code for a DataFrame; it lands in the next cell."""
        try:
            args = parse_line(line, cell)
        except WizardUsageError as e:
            print(e, file=sys.stderr)
            return
        import pandas as pd

        df = self.shell.user_ns.get(args["var"]) if self.shell is not None else None
        if not isinstance(df, pd.DataFrame):
            kind = "not defined" if df is None else f"a {type(df).__name__}, not a DataFrame"
            print(f"{args['var']!r} is {kind}.\n{USAGE}", file=sys.stderr)
            return
        target = args["target"]
        if target is not None and target not in df.columns:
            print(f"target {target!r} is not a column of {args['var']}", file=sys.stderr)
            return
        with self._lock:
            from core.llm.base import BackendError

            try:
                backend = self._get_backend(args["fake"], args["rules"])
            except BackendError as e:
                print(f"Model not available ({e}); proposing from recipes only.", file=sys.stderr)
                backend = None
            text = self._run(args, df, backend)
        if text is None:
            return
        self._deliver(text, args["print"])

    def _run(self, args: dict[str, Any], df: Any, backend: Any) -> str | None:
        from core.engine import answer as asking
        from core.engine import session as engine
        from core.models import Project

        var, stage, request, target = args["var"], args["stage"], args["request"], args["target"]
        sandbox = self._get_sandbox()
        if stage == "ask":
            if backend is None:
                print("ask needs a model: drop --rules (or set GEMMA_WIZARD_BACKEND)", file=sys.stderr)
                return None
            try:
                answer = asking.ask(df, request, backend, sandbox)
            except asking.AskError as e:
                print(f"Could not answer: {e}", file=sys.stderr)
                return None
            from core.engine.intent_base import decode_value

            code, stdout, value = answer.code, answer.stdout, decode_value(answer.value)
            if stdout.strip():
                print(stdout.rstrip())
            if value is not None:
                print(f"answer: {value!r}"[:2000])
            # The code ran; whether its value answers the question is the answer check's call.
            check = (
                "answer checked" if answer.intent == "verified" else "answer NOT checked against the question"
            )
            print(f"{check}" + (f": {answer.intent_reason}" if answer.intent_reason else ""))
            for line in answer.intent_checks:
                print(f"  {line}")
            if answer.source == "rule":
                print(f"written by a question recipe (Gemma's answer failed), reading: {answer.reading}")
            return next_cell(
                var,
                stage,
                code,
                None,
                f"# Gemma Data Wizard: answer to {request!r} "
                f"({'question recipe' if answer.source == 'rule' else 'Gemma'}; runs; {check})",
            )
        project = Project(id="notebook", name=f"notebook {var}", target=target)
        try:
            proposal = engine.propose(stage, project, backend, sandbox, request=request, data=df)
        except engine.ProposeError as e:
            print(f"No proposal: {e}", file=sys.stderr)
            return None
        self.last_proposal = proposal
        if self.shell is not None:
            self.shell.user_ns["_wizard_proposal"] = proposal
        state, ready = proposal_state(proposal)
        print(f"{stage}: {proposal.provenance_detail} ({state}, {proposal.seconds:.1f} s)")
        if proposal.rationale:
            print(proposal.rationale)
        for line in proposal.intent_checks:
            print(f"  {line}")
        for refused in proposal.refused:
            print(f"refused: {refused}", file=sys.stderr)
        what = f"{stage} for {request!r}" if request else stage
        header = f"# Gemma Data Wizard: {what}; {proposal.provenance_detail}; {state}"
        text = next_cell(var, stage, proposal.code, target, header)
        if not ready:
            # Code that is not shown to do what was asked is offered for reading, not for running:
            # the line applying it is commented out so that running the cell changes nothing.
            lines = text.rstrip("\n").split("\n")
            lines[-1] = f"# {lines[-1]}  # not applied: {state}"
            text = "\n".join(lines) + "\n"
        return text

    def _deliver(self, text: str, force_print: bool) -> None:
        # Colab ignores set_next_input; plain scripts have no next cell.
        can_set = self.shell is not None and "google.colab" not in sys.modules and not force_print
        if can_set:
            try:
                self.shell.set_next_input(text, replace=False)
                print("The proposed code is in the next cell: review it, then run it.")
                return
            except Exception as e:  # noqa: BLE001 - a front end without the feature: print instead
                print(f"(could not fill the next cell: {e}; here is the code)", file=sys.stderr)
        print(text)


_magics: WizardMagics | None = None


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext core.magic`."""
    global _magics
    _magics = WizardMagics(ipython)
    ipython.register_magics(_magics)


def unload_ipython_extension(ipython: Any) -> None:
    global _magics
    if _magics is not None:
        _magics.close()
        _magics = None


def set_backend(backend: Any) -> None:
    """Use this backend for `%wizard` (e.g. one built with custom settings, or a scripted fake)."""
    if _magics is None:
        raise RuntimeError("run %load_ext core.magic first")
    from core.llm.registry import guarded

    _magics.backend = guarded(backend)


def magics() -> WizardMagics | None:
    """The loaded extension's state (backend, sandbox, last proposal), for tests and power users."""
    return _magics
