"""Intent in the engine: a request's code is offered as doing what was asked only when a check
(or, where none can be derived, the model's second look) shows it; a failed intent check is a
failed attempt; stage proposals that change nothing are "nothing to do"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.engine.answer import AskError, ask
from core.engine.session import propose
from core.llm.fake import FakeBackend
from core.models import Project, Provenance
from tests.frames import people

TITLE_CASE = (
    '    df["city"] = df["city"].str.title()\n    df["company"] = df["company"].str.title()\n    return df\n'
)


@pytest.fixture
def data() -> pd.DataFrame:
    return people(120, 1, ["paris", "lyon", "nice"], companies=["acme", "globex", "initech"])


@pytest.fixture
def project() -> Project:
    return Project(id="i", name="i", target="y")


def test_code_that_does_something_else_is_a_failed_attempt_then_the_recipe(project, sandbox, data):
    # Asked to drop a column, the model title-cases text: it runs, changes things, and is wrong.
    fb = FakeBackend([TITLE_CASE, TITLE_CASE.replace("title", "upper")])
    p = propose("clean", project, fb, sandbox, data=data, request="drop the company column", n_repair=1)
    gemma = [a for a in p.attempts if a.source == "gemma"]
    assert gemma and not any(a.ok for a in gemma) and "does not do what was asked" in gemma[0].failure
    assert "'company' is still a column" in gemma[0].failure
    assert "'company' is still a column" in fb.prompts[1]  # the intent failure is fed to the repair
    # The matched recipe passes the intent check, so it is offered, as a recipe.
    assert p.verified and p.provenance == "rule" and p.intent == "verified"
    assert p.recipes == ["clean.drop_columns"] and "'company'" in p.code
    assert any("dropped" in c for c in p.intent_checks)


def test_a_request_nothing_can_do_fails_with_a_reason_and_a_suggestion(project, sandbox, data):
    fb = FakeBackend(default=TITLE_CASE)
    p = propose(
        "clean", project, fb, sandbox, data=data, request="drop rows where the city sounds French", n_repair=0
    )
    assert not p.verified and p.intent == "failed"
    assert p.provenance_detail.startswith("could not do this: ")
    assert p.intent_reason and "Try naming the column" in p.intent_reason
    assert p.origin is not None and p.origin.route == "failed"
    # A row filter has a recipe: when Gemma's code fails, the recipe does it, and says so.
    ok = propose("clean", project, FakeBackend(default=TITLE_CASE), sandbox, data=data,
                 request="drop rows where age is over 50", n_repair=0)  # fmt: skip
    assert ok.verified and ok.provenance == "rule" and ok.origin.route == "matched"
    assert "df['age'] > 50" in ok.code


def test_unchecked_intent_asks_the_model_for_a_second_look(project, sandbox, data):
    code = '    df["city"] = df["city"].str.title()\n    return df\n'
    yes = propose(
        "clean", project, FakeBackend([code, "yes"]), sandbox, data=data, request="make it prettier"
    )
    assert yes.verified and yes.intent == "verified" and "the model's second look" in yes.intent_checks
    assert yes.provenance_detail == "Gemma; verified against your request by the model's second look"
    no = propose("clean", project, FakeBackend([code, "no"]), sandbox, data=data, request="make it prettier")
    assert no.verified and no.intent == "unchecked"
    assert no.provenance_detail == "Gemma; not verified against your request"
    assert "second look said no" in (no.intent_reason or "")


def test_a_derived_check_needs_no_second_look(project, sandbox, data):
    fb = FakeBackend(['    df = df.drop(columns=["company"])\n    return df\n'])
    p = propose("clean", project, fb, sandbox, data=data, request="drop the company column")
    assert p.provenance == "gemma" and p.intent == "verified" and p.provenance_detail == "Gemma"
    assert len(fb.prompts) == 1  # no second look was asked


def test_stage_proposals_have_no_intent_and_a_no_op_is_nothing_to_do(project, sandbox):
    tidy = pd.DataFrame({"a": np.random.default_rng(0).normal(size=50).round(3), "y": [0, 1] * 25})
    p = propose("clean", project, FakeBackend(default="    return df\n"), sandbox, data=tidy)
    assert p.intent == "n/a" and p.nothing_to_do and p.rationale.startswith("nothing to do")


def test_a_selection_that_keeps_no_recipe_is_nothing_to_do(project, sandbox, data):
    p = propose("clean", project, FakeBackend(default=" no"), sandbox, data=data, technique="select")
    assert p.verified and p.nothing_to_do
    assert p.provenance_detail.startswith("rule (recipes selected by Gemma: 0 of")
    assert p.rationale.startswith("nothing to do: Gemma kept none of the recipes (")


def test_an_answer_shown_not_to_answer_the_question_is_repaired(sandbox, data):
    wrong = "    return int(len(df))\n"
    right = '    return df.groupby("city")["age"].mean()\n'
    fb = FakeBackend([wrong, right])
    answer = ask(data, "what is the mean age per city?", fb, sandbox, n_repair=1)
    assert answer.code.count("groupby") == 1 and answer.intent in ("verified", "unchecked")
    # Without a repair, the question recipe answers: labelled as such, Gemma's failure recorded.
    rule = ask(data, "what is the mean age per city?", FakeBackend(default=wrong), sandbox, n_repair=0)
    assert rule.source == "rule" and "groupby" in rule.code
    assert any("does not do what was asked" in (a.failure or "") for a in rule.attempts)
    with pytest.raises(AskError, match="does not do what was asked"):
        ask(data, "which city do people like best?", FakeBackend(default=wrong), sandbox, n_repair=0)


@pytest.mark.parametrize(
    ("origin", "line"),
    [
        (Provenance(source="gemma", route="gemma"), "Gemma"),
        (Provenance(source="gemma-repaired", route="gemma", repairs=2), "Gemma, repaired after 2 tries"),
        (Provenance(source="rule", route="recipes", gemma_asked=False), "rule (no Gemma proposal requested)"),
        (Provenance(source="rule", route="selected", kept=1, offered=2),
         "rule (recipes selected by Gemma: 1 of 2)"),
        (Provenance(source="rule", route="selected", recipe="Linear model"),
         "rule (recipe 'Linear model' selected by Gemma)"),
        (Provenance(source="rule", route="alternative", first_choice="A", reason="boom", recipe="B"),
         "rule (recipe 'A' failed: boom; using 'B')"),
        (Provenance(source="rule", route="matched", recipe="Drop columns", reason="x", intent="unchecked"),
         "rule (Gemma's proposal failed: x; request matched to recipe 'Drop columns'); "
         "not verified against your request"),
        (Provenance(source="gemma", route="failed", reason="no luck", request=True),
         "could not do this: no luck"),
        (Provenance(source="rule", route="failed", reason="r", rule_failure="f"),
         "no verified proposal: Gemma failed (r) and the recipes failed (f)"),
        (Provenance(source="user", route="fix-failed", reason="nope"), "could not fix this: nope"),
    ],
)  # fmt: skip
def test_provenance_is_rendered_in_one_place(origin, line):
    assert origin.line() == line
