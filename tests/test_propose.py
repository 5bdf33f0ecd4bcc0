"""The proposal engine with a scripted FakeBackend and the real LocalSandbox."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import core.engine.check as checks
from core import stages
from core.engine.answer import AskError, ask
from core.engine.assist import explain, fix
from core.engine.check import contract_failure, coverage_failure, request_failure
from core.engine.fallback import match_request
from core.engine.session import propose
from core.llm.fake import FakeBackend
from core.models import Project
from core.sandbox.base import SandboxLimits
from tests.frames import people

GOOD_STEP = '    df["age"] = df["age"].fillna(df["age"].median())\n'
GOOD_BODY = GOOD_STEP + "    return df\n"


@pytest.fixture
def data() -> pd.DataFrame:
    return people(200, 0, ["Paris", "Lyon", "Nice"])


@pytest.fixture
def project() -> Project:
    return Project(id="p", name="p", target="y")


def gemma_attempts(p):
    return [a for a in p.attempts if a.source == "gemma"]


def test_gemma_ok_on_first_try(project, sandbox, data):
    fb = FakeBackend([GOOD_STEP])
    p = propose("clean", project, fb, sandbox, data=data, technique="scaffold")
    assert p.verified and p.provenance == "gemma" and p.provenance_detail == "Gemma"
    assert GOOD_STEP in p.code and p.code.rstrip().endswith("return df")
    assert "### Table" in p.prompt and "- age (numeric, 18% missing" in p.prompt
    assert [a.ok for a in p.attempts] == [True]


def test_gemma_fails_then_is_repaired(project, sandbox, data):
    fb = FakeBackend(['    df = df.drop(columns=["y"])\n', GOOD_BODY])
    p = propose("clean", project, fb, sandbox, data=data, technique="scaffold")
    assert p.verified and p.provenance == "gemma-repaired"
    assert p.provenance_detail == "Gemma, repaired after 1 try"
    first, second = gemma_attempts(p)
    assert not first.ok and "target column 'y' was removed" in first.failure
    assert second.ok
    # The repair prompt fed the error back to the model.
    assert "target column 'y' was removed" in fb.prompts[-1] and "### Broken code" in fb.prompts[-1]


def test_a_text_method_called_on_the_series_is_repaired_with_the_accessor_named(project, sandbox, data):
    # `s.lower()` fails with an AttributeError that names the method but not where it lives; the
    # repair prompt says (.str.lower()), as it names the real columns after a KeyError.
    wrong, right = 'df["city"] = df["city"].lower()', 'df["city"] = df["city"].str.lower()'
    fb = FakeBackend([f"    {wrong}\n    return df\n", f"    {right}\n    return df\n"])
    fb.info.tuned = True
    p = propose("clean", project, fb, sandbox, data=data, request="lowercase the city column")
    first, second = gemma_attempts(p)
    assert not first.ok and "(text methods go through .str: .str.lower())" in first.failure
    assert "(text methods go through .str: .str.lower())" in fb.prompts[-1]  # the repair prompt
    # in the tuned format, the request once (the template writes "Request:"), the failure after it
    assert "### Request: lowercase the city column\n(the previous code failed: " in fb.prompts[-1]
    assert "Request: Request:" not in fb.prompts[-1]
    assert second.ok and p.verified and p.provenance == "gemma-repaired"
    missing = "AttributeError: 'Series' object has no attribute '{}'"
    assert checks._accessor_hint(missing.format("year")).endswith(".dt.year)")
    assert checks._accessor_hint(missing.format("frobnicate")) == ""
    on_frame = "AttributeError: 'DataFrame' object has no attribute 'lower'"
    assert checks._accessor_hint(on_frame) == ' (text methods work on one column: df["col"].str.lower())'


def test_gemma_fails_twice_then_falls_back_to_the_rule(project, sandbox, data):
    fb = FakeBackend(
        [
            "    df = df.head(3)\n",
            "    df = df.iloc[:5]\n    return df\n",
            "    df = df.iloc[:7]\n    return df\n",
        ]
    )
    p = propose("clean", project, fb, sandbox, data=data, technique="scaffold", n_repair=2)
    assert p.verified and p.provenance == "rule"
    assert p.provenance_detail.startswith("rule (Gemma's proposal failed: ")
    assert "rows were dropped" in p.provenance_detail
    assert [a.source for a in p.attempts] == ["gemma", "gemma", "gemma", "rule"]
    assert p.recipes and "clean.impute" in p.recipes


def test_lint_refusal_is_reported_to_the_user(project, sandbox, data):
    fb = FakeBackend(["    import os\n    os.system('rm -rf /')\n"], default="    return df\n")
    p = propose("clean", project, fb, sandbox, data=data, technique="scaffold", n_repair=1)
    assert any("import of `os` refused" in r for r in p.refused)
    assert "refused by the safety check" in gemma_attempts(p)[0].failure
    assert p.provenance == "rule" and p.verified


def test_contract_violation_dropping_the_target_is_rejected(project, sandbox, data):
    fb = FakeBackend(
        ['    df = df.drop(columns=["y"])\n'], default='    df = df.drop(columns=["y"])\n    return df\n'
    )
    p = propose("clean", project, fb, sandbox, data=data, technique="scaffold", n_repair=1)
    assert "removed" in p.provenance_detail and p.provenance == "rule"
    assert "y" in p.code  # the rule code keeps (and names) the target only to drop missing rows


def test_timeout_in_the_sandbox_is_a_failure_not_a_hang(project, sandbox, data, monkeypatch):
    monkeypatch.setattr(checks, "VERIFY_LIMITS", SandboxLimits(timeout_s=2.0, cpu_s=10))
    fb = FakeBackend(["    while True:\n        pass\n"], default="    while True:\n        pass\n")
    p = propose("clean", project, fb, sandbox, data=data, technique="scaffold", n_repair=0)
    assert "timeout" in gemma_attempts(p)[0].failure.lower()
    assert p.provenance == "rule" and p.verified


def test_quality_gate_rejects_gemma_code_that_fixes_less_than_the_plan(project, sandbox, data):
    # Valid, runs, keeps the target - but leaves the missing ages the plan fills.
    fb = FakeBackend(['    df["city"] = df["city"].str.upper()\n'], default="    return df\n")
    p = propose("clean", project, fb, sandbox, data=data, technique="scaffold", n_repair=1)
    assert "more missing cells remain" in gemma_attempts(p)[0].failure
    assert p.provenance == "rule"


def test_no_backend_gives_the_recipes(project, sandbox, data):
    p = propose("clean", project, None, sandbox, data=data)
    assert p.verified and p.provenance == "rule"
    assert p.provenance_detail == "rule (no Gemma proposal requested)"
    assert p.attempts[0].source == "rule"


def test_select_technique_is_rule_code_chosen_by_gemma(project, sandbox, data):
    data = pd.concat([data, data.iloc[:5]], ignore_index=True)  # adds a duplicates recipe
    fb = FakeBackend(
        default=lambda prompt: " no" if "duplicate" in prompt.split("Proposed step:")[1] else " yes"
    )
    p = propose("clean", project, fb, sandbox, data=data, technique="select")
    assert p.verified and p.provenance == "rule"
    assert p.provenance_detail == "rule (recipes selected by Gemma: 1 of 2)"
    assert p.recipes == ["clean.impute"]


def test_request_answered_by_gemma(project, sandbox, data):
    fb = FakeBackend(['    df["age_squared"] = df["age"] ** 2\n    return df\n'])
    p = propose("feature", project, fb, sandbox, data=data, request="add the square of age")
    assert p.verified and p.provenance == "gemma" and p.request == "add the square of age"
    assert "### Request: add the square of age" in p.prompt


def test_request_falls_back_to_a_matching_recipe(project, sandbox, data):
    fb = FakeBackend(default="    return df\n")  # changes nothing: rejected every time
    req = "merge rare categories of city into Other (under 40%)"
    p = propose("feature", project, fb, sandbox, data=data, request=req, n_repair=1)
    assert p.verified and p.provenance == "rule"
    assert "request matched to recipe 'Merge rare categories'" in p.provenance_detail
    assert p.recipes == ["feature.rare_to_other"]


def test_request_that_nothing_can_do_is_unverified_and_says_so(project, sandbox, data):
    fb = FakeBackend(default="    return df\n")
    p = propose("feature", project, fb, sandbox, data=data, request="make it prettier", n_repair=0)
    assert not p.verified
    assert p.provenance_detail.startswith("could not do this: ")


def test_model_stage_choose_by_number(project, sandbox, data):
    fb = FakeBackend(["3"])
    p = propose("model", project, fb, sandbox, data=data)
    assert p.recipes[0] == "model.linear"
    assert p.provenance == "rule" and "selected by Gemma" in p.provenance_detail
    assert "def build_model" in p.code


def test_explain_keeps_grounded_sentences_only(project):
    code = 'def clean(df):\n    df["age"] = df["age"].fillna(0)\n    return df\n'
    text = explain(code, project, FakeBackend(["fills the missing age values with 0."]))
    assert text.startswith("It fills the missing age values with 0.")
    assert "Writes columns: age." in text
    ungrounded = explain(code, project, FakeBackend(["returns the dataframe as a string."]))
    assert "returns the dataframe" not in ungrounded and "Uses: fillna." in ungrounded


def test_fix_repairs_user_code_or_says_it_could_not(project, sandbox, data):
    broken = 'def clean(df):\n    df["age"] = df["agee"] + 1\n    return df\n'
    p = fix(
        broken,
        "KeyError: 'agee'",
        project,
        FakeBackend(['    df["age"] = df["age"] + 1\n    return df\n']),
        sandbox,
        data=data,
    )
    assert p.verified and p.provenance == "gemma-repaired" and 'df["age"] + 1' in p.code
    p = fix(
        broken,
        "KeyError: 'agee'",
        project,
        FakeBackend(default='    df["x"] = df["nope"]\n    return df\n'),
        sandbox,
        data=data,
    )
    assert not p.verified and p.code == broken and p.provenance_detail.startswith("could not fix this")


def test_ask_returns_code_stdout_and_value(sandbox, data):
    fb = FakeBackend(['    result = int(df["city"].nunique())\n    print(result)\n    return result\n'])
    answer = ask(data, "how many cities?", fb, sandbox)
    assert "def answer" in answer.code and answer.stdout.strip() == "3" and answer.value == 3


def test_ask_raises_when_nothing_verifies(sandbox, data):
    with pytest.raises(AskError):
        ask(data, "?", FakeBackend(default="    return df['nope']\n"), sandbox, n_repair=1)


# ---------------------------------------------------------------- contract checks (pure)
def frame(n=10):
    return pd.DataFrame({"a": range(n), "b": [1.0] * n, "y": [0, 1] * (n // 2)})


def test_contract_row_and_column_limits():
    before = frame()
    assert "rows were dropped" in contract_failure(before, before.head(5), "y", None, True)
    assert contract_failure(before, before.head(5), "y", "drop rows where a > 4", True) is None
    assert "columns were removed" in contract_failure(before, before[["y"]], "y", None, True)
    assert "became all missing" in contract_failure(before, before.assign(b=np.nan), "y", None, True)
    assert contract_failure(before, before, "y", None, False) == "the code changed nothing"
    assert contract_failure(before, before, "y", None, True) is None


def test_dropping_duplicates_is_not_a_row_loss():
    # 24 of 30 rows repeat others: removing them keeps every distinct row, so it passes the limit...
    before = pd.concat([frame(6)] * 5, ignore_index=True)
    assert contract_failure(before, before.drop_duplicates(), "y", None, True) is None
    # ...but dropping distinct rows beyond the limit still fails, duplicates or not.
    shrunk = before.drop_duplicates().head(3)
    assert "rows were dropped" in contract_failure(before, shrunk, "y", None, True)


def test_a_conversion_request_must_change_the_kind():
    before = pd.DataFrame({"price": ["$1,200", "$35", None], "city": ["a", "b", "c"]})
    stripped = before.assign(price=before["price"].str.replace("$", "", regex=False))
    converted = before.assign(price=[1200.0, 35.0, None])
    ask = "convert price to a number"
    assert "still text" in request_failure(before, stripped, ask)
    assert request_failure(before, converted, ask) is None
    # No kind asked for, or no single column named: nothing to hold the code to.
    assert request_failure(before, stripped, "tidy price") is None
    assert request_failure(before, stripped, "convert everything to numbers") is None


def test_coverage_gate():
    ref = pd.DataFrame({"p": [1.0, 2.0], "c": ["a", "b"]})
    assert coverage_failure(ref, pd.DataFrame({"p": ["$1", "$2"], "c": ["a", "b"]}), None).startswith(
        "column 'p' is still text"
    )
    assert coverage_failure(ref, ref.assign(extra=1), None) is None


def test_a_500_column_table_fits_the_model_context(project, sandbox):
    rng = np.random.default_rng(0)
    n = 60
    wide = pd.DataFrame({f"x_{i}": rng.random(n) for i in range(499)})
    wide.loc[::7, "x_3"] = np.nan
    wide["y"] = rng.choice([0, 1], n)
    fb = FakeBackend(default="    return df\n")
    p = propose("clean", project, fb, sandbox, data=wide, technique="scaffold", n_repair=0)
    longest = max(fb.prompts, key=len)
    assert fb.count_tokens(longest) + stages.get("clean").max_tokens <= fb.info.context_size
    assert "more numeric columns named" in p.prompt  # summarised, not cut
    assert p.verified


def test_model_stage_choice_is_always_one_of_the_options(project, sandbox, data):
    # A constrained choice: an answer that is no option still picks one (the fake: the first).
    p = propose("model", project, FakeBackend(["banana"]), sandbox, data=data)
    assert p.recipes[0] == "model.random_forest"
    assert "selected by Gemma" in p.provenance_detail


def test_model_stage_without_an_answer_says_so(project, sandbox, data):
    p = propose("model", project, FakeBackend(), sandbox, data=data)  # no scripted reply: a model error
    assert p.provenance == "rule" and p.provenance_detail.startswith("rule (Gemma gave no usable choice")
    assert "model error" in p.provenance_detail and "Best option: option" in p.prompt


def test_a_missing_column_error_names_the_real_columns(project, sandbox, data):
    wrong = '    df["x"] = df["Age"] * 2\n    return df\n'
    right = '    df["x"] = df["age"] * 2\n    return df\n'
    # The reply names a column the table lacks: it is written again under the grounding grammar
    # (a backend without grammars, like this fake, may repeat it); then the error is fed back.
    fb = FakeBackend([wrong, wrong, right])
    p = propose("feature", project, fb, sandbox, data=data, request="double the age", n_repair=1)
    first = gemma_attempts(p)[0]
    assert fb.history[0][1].grammar == "" and "'age'" in fb.history[1][1].grammar
    assert "column 'Age' is not in the data; did you mean 'age'?" in first.failure
    assert "did you mean 'age'?" in fb.prompts[2]  # fed back to the repair
    assert p.provenance == "gemma-repaired" and p.verified


def test_nothing_to_do_is_never_credited_to_gemma(project, sandbox):
    clean_table = pd.DataFrame({"a": np.random.default_rng(0).normal(size=50).round(3), "y": [0, 1] * 25})
    fb = FakeBackend(default="    return df\n")
    for technique in ("scaffold", "select"):
        p = propose("clean", project, fb, sandbox, data=clean_table, technique=technique)
        assert p.provenance == "rule" and p.provenance_detail.startswith("rule (nothing to do")
    assert fb.history == []  # the model was not asked


def test_match_request_reads_keywords_without_the_column_names():
    from core.context import profile_frame

    df = pd.DataFrame({"year": np.arange(1950, 2000), "pop": np.arange(50) * 10.0, "y": [0, 1] * 25})
    prof = profile_frame(df, "y")
    (log,) = match_request("add a column with the log of year", "feature", prof, "y")
    assert (log.id, log.applies_to) == ("feature.log1p", ["year"])
    (drop,) = match_request("drop the pop column", "clean", prof, "y")
    assert drop.id == "clean.drop_columns" and drop.applies_to == ["pop"]
    assert match_request("make it prettier", "clean", prof, "y") == []


def test_drop_rows_where_missing_is_a_row_filter_not_a_fill(sandbox):
    from core.context import profile_frame

    df = pd.DataFrame({"age": [1.0, np.nan, 3.0, np.nan] * 10, "city": ["a", "b"] * 20, "y": [0, 1] * 20})
    prof = profile_frame(df, "y")
    (r,) = match_request("drop rows where age is missing", "clean", prof, "y")
    assert r.id == "clean.drop_missing_rows" and r.applies_to == ["age"]
    (fill,) = match_request("fill the missing age", "clean", prof, "y")
    assert fill.id == "clean.impute"
    # The recipe is the fallback when the model's code fails: it must pass the intent check.
    fb = FakeBackend(default="    return df\n")
    p = propose("clean", Project(id="p", name="p", target="y"), fb, sandbox, data=df,
                request="drop rows where age is missing", n_repair=0)  # fmt: skip
    assert p.verified and p.intent == "verified", p.provenance_detail
    assert "dropna" in p.code


def test_a_value_used_as_a_column_is_named_in_the_repair_message():
    """`df["Diesel"]` for rows whose fuel is Diesel: the message a repair prompt gets says which
    column holds the value and how to filter on it (only when one column holds it)."""
    from core.engine.check import sandbox_failure
    from core.sandbox.base import SandboxResult

    sample = pd.DataFrame(
        {"FuelType": ["Diesel", "Petrol"], "Grade": ["Diesel", "A"], "vendor": ["amdahl", "ibm"]}
    )
    code = 'def answer(df):\n    return df["amdahl"].sum()\n'
    msg = sandbox_failure(SandboxResult(ok=False, error="KeyError: 'amdahl'"), code, sample)
    assert "'amdahl' is a value of column 'vendor', not a column: df[df['vendor'] == 'amdahl']" in msg
    both = sandbox_failure(
        SandboxResult(ok=False, error="KeyError: 'Diesel'"), code.replace("amdahl", "Diesel"), sample
    )
    assert "is a value of column" not in both  # two columns hold it: no guess
