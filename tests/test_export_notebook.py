"""Notebook export: deterministic format (snapshot) and a real re-run that reproduces the metrics."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from core.export.notebook import INLINED_MODULES, module_source, to_ipynb_bytes, to_notebook
from core.models import DatasetRef, LoadOptions, Project, Step, StepResult
from core.recipes.model import build_model_code

SNAPSHOTS = Path(__file__).parent / "snapshots" / "export"
CLEAN = (
    "import pandas as pd\n\n\ndef clean(df: pd.DataFrame) -> pd.DataFrame:\n"
    "    df = df.copy()\n    df['city name'] = df['city name'].fillna('unknown')\n    return df\n"
)
FEATURE = (
    "import pandas as pd\n\n\ndef add_features(df: pd.DataFrame) -> pd.DataFrame:\n"
    "    df = df.copy()\n    df['age_sq'] = df['Age (years)'] ** 2\n    return df\n"
)


def fixed_project() -> Project:
    """A project with recorded (not computed) results, so the snapshot never depends on sklearn."""
    metrics = {
        "task": "classification", "primary_metric": "roc_auc", "estimator": "LogisticRegression",
        "test": {"roc_auc": 0.81234, "balanced_accuracy": 0.7, "f1_macro": 0.69},
        "cv": {"n_splits": 5, "mean": {"roc_auc": 0.8}, "std": {"roc_auc": 0.02}},
        "baselines": {"dummy": {"test": {"roc_auc": 0.5}}, "hgb_default": {"test": {"roc_auc": 0.79}}},
        "n_train": 75, "n_test": 25, "feature_columns": ["age"], "dropped_columns": ["id"],
        "params": {"target": "y", "task": "classification", "seed": 42, "test_size": 0.25, "cv": 5,
                   "drop_columns": ["id"]},
    }
    steps = [
        Step(id="a", stage="clean", code=CLEAN, entrypoint="clean", provenance="gemma-repaired",
             provenance_detail="repaired after 1 try", rationale="Fill missing cities."),
        Step(id="b", stage="feature", code=FEATURE, entrypoint="add_features", provenance="user",
             provenance_detail="", request="square the age"),
        Step(id="c", stage="model", code=build_model_code("linear", "classification"),
             entrypoint="build_model", provenance="rule", provenance_detail="recipe model.linear",
             rationale="A linear reference model.",
             result=StepResult(ok=True, metrics=metrics)),
        Step(id="d", stage="clean", code=CLEAN, entrypoint="clean", provenance="rule", provenance_detail=""),
    ]
    return Project(
        id="fixed", name="Churn study",
        dataset=DatasetRef(
            filename="churn data.csv", raw_path="raw/churn data.csv", sha256="ab" * 32, size_bytes=10,
            options=LoadOptions(format="csv", delimiter=";"), n_rows=100, n_cols=4,
        ),
        target="y", task="classification", steps=steps, cursor=3,  # the last step was undone
        data_doc="One row per customer.",
    )


def _normalised(nb: nbformat.NotebookNode) -> str:
    """The notebook JSON with the inlined module sources replaced by their names."""
    nb = json.loads(json.dumps(nb))
    sources = {module_source(name): f"<core/{name}.py>" for name in INLINED_MODULES}
    for cell in nb["cells"]:
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for full, name in sources.items():
            if src == full.strip("\n"):
                cell["source"] = name
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_notebook_format_snapshot():
    got = _normalised(to_notebook(fixed_project(), "churn data.csv"))
    snap = SNAPSHOTS / "notebook.ipynb.json"
    if os.environ.get("UPDATE_SNAPSHOTS") or not snap.exists():
        snap.parent.mkdir(parents=True, exist_ok=True)
        snap.write_text(got, encoding="utf-8")
    assert got == snap.read_text(encoding="utf-8")


def test_notebook_is_deterministic_valid_and_only_active_steps():
    p = fixed_project()
    a, b = to_ipynb_bytes(p, "churn data.csv"), to_ipynb_bytes(p, "churn data.csv")
    assert a == b
    nb = nbformat.reads(a.decode(), as_version=4)
    nbformat.validate(nb)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "'churn data.csv'" in code[0] and ("sep=';'" in code[0] or "delimiter=';'" in code[0])
    assert sum("df = clean(df)" in c for c in code) == 1  # the undone step is not exported
    assert any("df = add_features(df)" in c for c in code)
    assert module_source("modeling_harness").strip() in code
    calls = [c for c in code if "train_and_evaluate(df, build_model, target='y'" in c]
    assert len(calls) == 1 and "drop_columns=['id']" in calls[0]
    for label in ("repaired", "edited by you", "rule"):
        assert label in md
    assert "0.8123" in md  # recorded metrics are shown for comparison


PROBE = (
    "import json as _json\n"
    "print('METRICS=' + _json.dumps({name: value for name, value in globals().items()"
    " if name.startswith('result_')}))"
)


def execute_notebook(nb_bytes: bytes, folder: Path) -> dict:
    """Run the notebook in a fresh kernel; return the harness results it computed (by variable)."""
    from nbclient import NotebookClient

    nb = nbformat.reads(nb_bytes.decode(), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))  # read the results back as JSON
    resources = {"metadata": {"path": str(folder)}}
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources=resources)
    client.execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    return json.loads(text.split("METRICS=", 1)[1])


def assert_metrics_reproduced(results: dict, project: Project) -> None:
    """Every metric the notebook computed equals the one recorded in the project."""
    models = [s for s in project.active_steps if s.stage == "model"]
    assert len(results) == len(models) > 0
    for i, step in enumerate(models, 1):
        recorded, got = step.result.metrics, results[f"result_{i}"]
        assert got["test"] == pytest.approx(recorded["test"], abs=1e-6)
        for name, b in recorded["baselines"].items():
            assert got["baselines"][name]["test"] == pytest.approx(b["test"], abs=1e-6), name
        assert got["cv"]["mean"] == pytest.approx(recorded["cv"]["mean"], abs=1e-6)
