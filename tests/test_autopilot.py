"""Headless autopilot and CLI: the whole workflow on the bundled samples with the fake backend
(its replies never verify, so every stage takes the recipe path), bad input, and the exported
notebook re-run in a fresh kernel reproducing the recorded metrics."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from core.__main__ import main
from core.samples import list_samples
from tests.modeling_helpers import one_thread  # noqa: F401
from tests.test_export_notebook import assert_metrics_reproduced, execute_notebook

SAMPLES = {s.name: s for s in list_samples()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One CLI run per bundled sample (module-scoped: the runs are the expensive part)."""
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OMP_NUM_THREADS", "1")  # see tests/modeling_helpers.one_thread
        for name, s in SAMPLES.items():
            d = tmp_path_factory.mktemp(name)
            args = ["run", str(s.path), "--target", s.target, "--out", str(d / "out")]
            code = main([*args, "--backend", "fake", "--projects", str(d / "projects")])
            out[name] = (code, d)
    return out


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_cli_run_writes_files_and_beats_dummy(runs, name):
    code, d = runs[name]
    assert code == 0
    out = d / "out"
    card = json.loads((out / "scorecard.json").read_text())
    s = SAMPLES[name]
    assert card["dataset"] == s.path.name and card["target"] == s.target and card["task"] == s.task
    assert [x["stage"] for x in card["steps"]] == ["load", "clean", "feature", "model", "report"]
    for x in card["steps"]:
        assert x["ok"] is True and x["provenance"] == "rule" and x["seconds"] >= 0
    m = card["model"]
    pm = "roc_auc" if s.task == "classification" else "r2"
    assert m["primary_metric"] == pm
    assert m["test"][pm] > m["baselines"]["dummy"][pm] + 0.2
    assert m["baselines"]["hgb_default"][pm] > m["baselines"]["dummy"][pm]
    # Each sample has a column that leaks the target: it must be left out.
    assert m["dropped_columns"], m
    assert (out / s.path.name).read_bytes() == s.path.read_bytes()  # raw file beside the notebook
    report = (out / "report.md").read_text()
    assert "## Model results" in report and f"{m['test'][pm]:.4g}" in report


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_exported_notebook_reproduces_recorded_metrics(runs, name):
    from core.models import Project

    code, d = runs[name]
    out = d / "out"
    project_file = next((d / "projects").glob("*/project.json"))
    project = Project.model_validate_json(project_file.read_text())
    results = execute_notebook((out / "notebook.ipynb").read_bytes(), out)
    assert_metrics_reproduced(results, project)


def test_bad_input_exits_non_zero_with_a_clear_message(tmp_path, capsys):
    assert (
        main(
            [
                "run",
                str(tmp_path / "nope.csv"),
                "--target",
                "y",
                "--out",
                str(tmp_path / "o"),
                "--backend",
                "fake",
            ]
        )
        == 2
    )
    assert "not found" in capsys.readouterr().err
    data = tmp_path / "d.csv"
    pd.DataFrame({"a": range(20), "Price": range(20), "same": ["x"] * 20}).to_csv(data, index=False)
    args = ["--out", str(tmp_path / "o"), "--backend", "fake", "--projects", str(tmp_path / "p")]
    assert main(["run", str(data), "--target", "price", *args]) == 2
    err = capsys.readouterr().err
    assert "'price' is not in the data" in err and "Did you mean 'Price'" in err
    assert main(["run", str(data), "--target", "same", *args]) == 2
    assert "single value" in capsys.readouterr().err
    assert not (tmp_path / "o" / "scorecard.json").exists()


def test_ask_prints_code_and_output(tmp_path, capsys, monkeypatch):
    import core.__main__ as cli
    from core.llm.fake import FakeBackend

    data = tmp_path / "d.csv"
    pd.DataFrame({"city": ["a", "b", "a"], "n": [1, 2, 3]}).to_csv(data, index=False)
    reply = "    total = int(df['n'].sum())\n    print('total', total)\n    return total\n"
    monkeypatch.setattr(cli, "build_backend_from_args", lambda args: FakeBackend(default=reply))
    assert main(["ask", str(data), "What is the total of n?"]) == 0
    out = capsys.readouterr().out
    assert "def answer" in out and "total 6" in out


def test_eval_is_delegated(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["eval", "--help"])
    assert exc.value.code == 0 and "python -m core eval" in capsys.readouterr().out


def test_target_named_as_in_the_file_header_resolves_to_the_loaded_column(tmp_path):
    # The loader strips spaces around header names; the target given as written in the file still works.
    from core.autopilot import AutopilotError, check_target
    from core.io import load_table

    path = tmp_path / "spaced.csv"
    frame = pd.DataFrame({" Total Bill ": [10.5, 20.0, 7.25, 13.0] * 5, "size": [1, 2, 3, 4] * 5})
    frame.to_csv(path, index=False)
    df = load_table(path).df
    assert check_target(df, " Total Bill ") == "Total Bill"
    assert check_target(df, "Total Bill") == "Total Bill"
    with pytest.raises(AutopilotError, match="Did you mean 'Total Bill'"):
        check_target(df, "total bill")
