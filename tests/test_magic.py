"""`%wizard` magic, driven through IPython's own InteractiveShell (fake backend; one real-model test)."""

from __future__ import annotations

import pandas as pd
import pytest

from core import magic
from core.llm.fake import FakeBackend
from core.magic import WizardUsageError, parse_line

pytest.importorskip("IPython")


def messy() -> pd.DataFrame:
    """Money as text, city spellings differing by case/spaces, gaps; no duplicate rows."""
    n = 40
    return pd.DataFrame(
        {
            "city": [["NY", "ny ", "Boston", "boston", None][i % 5] for i in range(n)],
            "price": [f"${1000 + 37 * i:,}" if i % 7 else None for i in range(n)],
            "rooms": [float(i % 4 + 1) if i % 9 else None for i in range(n)],
            "order id": list(range(n)),
        }
    )


@pytest.fixture(scope="module")
def ip():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "core.magic")
    yield shell
    shell.run_line_magic("unload_ext", "core.magic")


@pytest.fixture(autouse=True)
def fresh(ip):
    ip.rl_next_input = None
    ip.user_ns["df"] = messy()
    state = magic.magics()
    if state is not None:
        state.backend = None
        state.last_proposal = None


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "line,cell,expected",
    [
        ("df", None, ("df", "clean", None, None)),
        ("df clean", None, ("df", "clean", None, None)),
        ("sales feature --target price", None, ("sales", "feature", None, "price")),
        ('df "merge rare categories of city"', None, ("df", "clean", "merge rare categories of city", None)),
        ("df feature 'log of income' --target=y", None, ("df", "feature", "log of income", "y")),
        ("df clean", "fill missing price\n", ("df", "clean", "fill missing price", None)),
        ('df ask "how many rows?"', None, ("df", "ask", "how many rows?", None)),
        ('df --target "sale price" model', None, ("df", "model", None, "sale price")),
    ],
)
def test_parse_line(line, cell, expected):
    a = parse_line(line, cell)
    assert (a["var"], a["stage"], a["request"], a["target"]) == expected


@pytest.mark.parametrize("line", ["", "--fake", "df --bogus", 'df "unclosed', "df ask", "df --target"])
def test_parse_line_errors_say_how_to_call_it(line):
    with pytest.raises(WizardUsageError, match="usage"):
        parse_line(line)


# --------------------------------------------------------------------------- the magic in a shell


def test_clean_proposal_lands_in_the_next_cell_and_runs(ip, capsys):
    ip.run_line_magic("wizard", "df clean --fake")
    out = capsys.readouterr().out
    assert "next cell" in out
    cell = ip.rl_next_input
    assert cell.startswith("# Gemma Data Wizard: clean;")
    assert "verified on a sample" in cell
    assert "def clean(df" in cell
    assert cell.rstrip().endswith("df = clean(df)")
    proposal = magic.magics().last_proposal
    assert proposal.verified and proposal.stage == "clean"
    assert ip.user_ns["_wizard_proposal"] is proposal

    # The user runs the proposed cell: the frame really is cleaned.
    result = ip.run_cell(cell)
    assert result.success, result.error_in_exec
    cleaned = ip.user_ns["df"]
    assert pd.api.types.is_numeric_dtype(cleaned["price"])
    assert cleaned["price"].max() == 1000 + 37 * 39


def test_injected_backend_gets_the_prompt(ip):
    fake = FakeBackend(default="")  # empty answers: the engine falls back to its recipes
    magic.set_backend(fake)
    ip.run_line_magic("wizard", "df clean")
    assert fake.prompts, "the injected backend was not asked"
    assert "price" in fake.prompts[0]  # the prompt describes this frame's columns
    assert "def clean(df" in ip.rl_next_input


def test_free_form_request_and_cell_form(ip):
    ip.run_line_magic("wizard", 'df "fill missing rooms" --fake')
    p = magic.magics().last_proposal
    assert p.request == "fill missing rooms"
    assert "rooms" in ip.rl_next_input

    ip.rl_next_input = None
    ip.run_cell_magic("wizard", "df clean --fake", "fill missing rooms\n")
    assert magic.magics().last_proposal.request == "fill missing rooms"
    assert ip.rl_next_input is not None


def test_arguments_reach_the_engine(ip, monkeypatch):
    """Stage, request, target and the user's frame itself go to `propose`."""
    from core.engine import session as engine
    from core.models import Proposal

    seen = {}

    def fake_propose(stage, project, backend, sandbox, request=None, data=None, **kw):
        seen.update(stage=stage, target=project.target, request=request, data=data, backend=backend)
        return Proposal(
            stage=stage, code="def add_features(df):\n    return df\n", entrypoint="add_features",
            provenance="rule", provenance_detail="rule (test)", rationale="", verified=True,
        )  # fmt: skip

    monkeypatch.setattr(engine, "propose", fake_propose)
    ip.run_line_magic("wizard", 'df feature "ratio of price to rooms" --target rooms --rules')
    assert seen["stage"] == "feature"
    assert seen["target"] == "rooms"
    assert seen["request"] == "ratio of price to rooms"
    assert seen["data"] is ip.user_ns["df"]
    assert seen["backend"] is None  # --rules: no model asked
    assert ip.rl_next_input.rstrip().endswith("df = add_features(df)")


def test_print_option_prints_instead(ip, capsys):
    ip.run_line_magic("wizard", "df clean --fake --print")
    out = capsys.readouterr().out
    assert ip.rl_next_input is None
    assert "def clean(df" in out and "df = clean(df)" in out


@pytest.mark.parametrize(
    "line,message",
    [
        ("nothing_here clean", "'nothing_here' is not defined"),
        ("number clean", "a int, not a DataFrame"),
        ("df clean --target nope", "target 'nope' is not a column"),
        ("df --oops", "unknown option --oops"),
    ],
)
def test_mistakes_are_explained_and_nothing_is_proposed(ip, capsys, line, message):
    ip.user_ns["number"] = 3
    ip.run_line_magic("wizard", line)
    err = capsys.readouterr().err
    assert message in err
    assert ip.rl_next_input is None


def test_unavailable_model_falls_back_to_recipes(ip, capsys, monkeypatch):
    monkeypatch.setenv("GEMMA_WIZARD_BACKEND", "gguf")
    monkeypatch.setenv("GEMMA_WIZARD_MODEL", "/no/such/model.gguf")
    ip.run_line_magic("wizard", "df clean")
    assert "Model not available" in capsys.readouterr().err
    assert magic.magics().last_proposal.provenance == "rule"
    assert "def clean(df" in ip.rl_next_input


@pytest.mark.real_model
@pytest.mark.slow
def test_real_embedded_gemma_proposes_a_verified_step(ip, monkeypatch):
    for var in ("GEMMA_WIZARD_BACKEND", "GEMMA_WIZARD_MODEL", "GEMMA_WIZARD_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    ip.run_line_magic("wizard", 'df "convert price to a number"')
    p = magic.magics().last_proposal
    assert magic.magics().backend.info.kind == "gguf"
    assert p.verified
    assert p.attempts and p.attempts[0].source in ("gemma", "rule")
    assert "def clean(df" in ip.rl_next_input
    # What the code does is the engine's business (tested there); here: the cell it wrote runs.
    result = ip.run_cell(ip.rl_next_input)
    assert result.success, result.error_in_exec
    assert isinstance(ip.user_ns["df"], pd.DataFrame)
    assert "price" in ip.user_ns["df"].columns


# --------------------------------------------------------------------------- intent, honestly
def _scripted(body: str, second_look: str = "no") -> FakeBackend:
    def reply(prompt: str) -> str:
        return f" {second_look}" if "does the code do what the request asks" in prompt.lower() else body

    return FakeBackend(default=reply)


def test_request_checked_against_the_request_is_ready(ip, capsys):
    magic.set_backend(_scripted('    df = df.drop(columns=["order id"])\n    return df\n'))
    ip.run_line_magic("wizard", 'df "drop the order id column"')
    p = magic.magics().last_proposal
    assert p.verified and p.intent == "verified" and p.provenance == "gemma"
    out = capsys.readouterr().out
    assert "checked against your request" in out
    assert ip.rl_next_input.rstrip().endswith("df = clean(df)")


def test_request_not_done_is_never_shown_as_verified(ip, capsys):
    magic.set_backend(_scripted("    return df\n"))
    ip.run_line_magic("wizard", 'df feature "add the ratio of rooms to order id"')
    p = magic.magics().last_proposal
    assert not p.verified or p.intent != "verified"
    out = capsys.readouterr().out
    assert "verified on a sample;" not in out
    last = ip.rl_next_input.rstrip().splitlines()[-1]
    assert last.startswith("# df = add_features(df)")  # running the cell applies nothing


def test_unchecked_request_is_offered_but_not_applied(ip, capsys):
    magic.set_backend(_scripted('    df["score"] = df["rooms"] * 3\n    return df\n', second_look="no"))
    ip.run_line_magic("wizard", 'df feature "add a comfort score"')
    p = magic.magics().last_proposal
    assert p.verified and p.intent == "unchecked"
    assert "NOT verified against your request" in capsys.readouterr().out
    assert "NOT verified against your request" in ip.rl_next_input
    assert ip.rl_next_input.rstrip().splitlines()[-1].startswith("# df = add_features(df)")


def test_ask_shows_the_answer_check(ip, capsys):
    magic.set_backend(FakeBackend(default="    return int(df['rooms'].isna().sum())\n"))
    ip.run_line_magic("wizard", 'df ask "how many missing values does rooms have?"')
    out = capsys.readouterr().out
    assert "answer checked" in out and "rooms has" in out
    assert "answer checked" in ip.rl_next_input
