"""The model's second look: where no check can be derived from a request, Gemma is asked, under a
constrained yes/no, whether the code does what was asked. A "yes" is recorded as such (never as
a check that passed); a "no" or no answer leaves the intent unchecked."""

from __future__ import annotations

import pandas as pd

from core import prompts
from core.diff import diff_frames
from core.engine.generate import Generator
from core.engine.intent import IntentVerdict
from core.llm.base import BackendError

SECOND_LOOK = "the model's second look"


def changes(before: pd.DataFrame, after: pd.DataFrame | None) -> str:
    """What the code changed on the sample, in the words the second-look prompt shows."""
    if after is None:
        return "(no table came back)"
    d = diff_frames(before, after)
    lines = [f"rows: {d.rows_before} -> {d.rows_after}; columns: {d.cols_before} -> {d.cols_after}"]
    for label, names in (("added", d.columns_added), ("removed", d.columns_removed),
                         ("changed", d.columns_changed)):  # fmt: skip
        if names:
            lines.append(f"{label} columns: {', '.join(map(str, names[:8]))}")
    lines.append(f"missing cells: {d.missing_before} -> {d.missing_after}")
    return "\n".join(lines)


def second_look(
    gen: Generator,
    request: str,
    code: str,
    before: pd.DataFrame,
    after: pd.DataFrame | None,
    verdict: IntentVerdict,
) -> IntentVerdict:
    """`verdict` (unchecked) turned into "verified" when the model says yes; otherwise unchanged."""
    body = "\n".join(line for line in code.splitlines() if line.startswith("    "))[:1500]
    text = prompts.render("intent/second_look.j2", request=request, code=body, changes=changes(before, after))
    try:
        # "no" first: a backend that cannot read the answer falls back to the first option.
        answer = gen.choose(gen.few_shot(text.rstrip()), ["no", "yes"])
    except BackendError:
        return verdict
    if answer == "yes":
        return IntentVerdict("verified", (*verdict.checks, SECOND_LOOK), None)
    reason = verdict.reason or "no check could be derived from the request"
    return IntentVerdict("unchecked", verdict.checks, f"{reason}; the model's second look said no")
