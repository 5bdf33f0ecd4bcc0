"""Jupyter notebook export: a pure, deterministic function of the project state.

The notebook starts from the raw file (by a path relative to the notebook), runs each active
step's exact accepted code, and for model steps inlines the trusted data preparation and harness
(`core/modeling_prep.py`, `core/modeling_harness.py`) and chart code (`core/model_charts.py`)
verbatim, so running it top to bottom in a fresh kernel reproduces the metrics recorded in the
app. No timestamps, versions or random cell ids are baked in: the same project always gives the
same bytes.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode

from core import stages
from core.models import Project, Step

PROVENANCE_LABEL = {
    "gemma": "written by Gemma and verified",
    "gemma-repaired": "written by Gemma, repaired after failed checks, then verified",
    "rule": "deterministic recipe (rule-based)",
    "user": "edited by you",
}
_CORE = Path(__file__).resolve().parent.parent
# The self-contained core modules a model step inlines, one cell each, in dependency order: a
# module may import an earlier one, whose source is then already defined in the notebook.
INLINED_MODULES = ("modeling_prep", "modeling_harness", "model_charts")


def module_source(name: str) -> str:
    """The source of a self-contained core module as the notebook inlines it: verbatim, except
    its imports of other inlined modules (a notebook has no `core` package; their cells run first)."""
    lines = (_CORE / f"{name}.py").read_text(encoding="utf-8").splitlines()
    inlined = {f"core.{m}" for m in INLINED_MODULES}
    drop: set[int] = set()  # 0-based line numbers
    for node in ast.parse("\n".join(lines)).body:
        if isinstance(node, ast.ImportFrom) and node.module in inlined:
            first = node.lineno - 1
            if first > 0 and lines[first - 1].lstrip().startswith("#"):
                first -= 1  # the comment that says why the import is there goes with it
            drop.update(range(first, node.end_lineno or node.lineno))
    lines = [line for i, line in enumerate(lines) if i not in drop]
    return "\n".join(lines).rstrip("\n") + "\n"


def provenance_label(step: Step) -> str:
    label = PROVENANCE_LABEL.get(step.provenance, step.provenance)
    detail = (step.provenance_detail or "").strip()
    # "rule (recipes selected by Gemma)" -> "recipes selected by Gemma": the label says "rule".
    if detail.startswith(f"{step.provenance} (") and detail.endswith(")"):
        detail = detail[len(step.provenance) + 2 : -1]
    return f"{label} ({detail})" if detail and detail.lower() not in label.lower() else label


def load_cell_code(project: Project, data_rel_path: str) -> str:
    """Pandas code loading the raw file exactly as the app did (core.io owns the options)."""
    if project.dataset is None:
        return f"import pandas as pd\n\ndf = pd.read_csv({data_rel_path!r})\n"
    try:
        from core.io import load_code
    except ImportError:  # the loader module is optional for this exporter
        return f"import pandas as pd\n\ndf = pd.read_csv({data_rel_path!r})\n"
    return load_code(project.dataset, data_rel_path)


def model_params(step: Step, project: Project) -> dict[str, Any]:
    """The keyword arguments the app gave the harness for this step (recorded with its result)."""
    metrics = (step.result.metrics or {}) if step.result else {}
    params = dict(metrics.get("params") or {})
    if not params:
        from core.modeling import harness_params

        params = harness_params(project, list(metrics.get("dropped_columns", [])))
    return params


def recorded_metrics_md(metrics: dict[str, Any]) -> str:
    """The metrics the app recorded (one rendering: core.model_result), to compare with the cell
    below; it carries the suspected-leak label and what was left out of the features."""
    from core.model_result import ModelResult

    res = ModelResult.from_metrics(metrics)
    left = res.left_out_lines()
    tail = ["", "Left out of the features (the app's detector):", ""] + [f"- {x}" for x in left]
    if not left:
        tail = []
    return "\n".join([res.markdown(), *tail])


class _Builder:
    """Collects cells and gives them stable ids (nbformat would otherwise draw random ones)."""

    def __init__(self) -> None:
        self.cells: list[NotebookNode] = []

    def md(self, text: str) -> None:
        self._add(nbformat.v4.new_markdown_cell(text.strip("\n")))

    def code(self, text: str) -> None:
        self._add(nbformat.v4.new_code_cell(text.strip("\n")))

    def _add(self, cell: NotebookNode) -> None:
        cell["id"] = f"cell-{len(self.cells):03d}"
        self.cells.append(cell)


def _intro(project: Project) -> str:
    lines = [f"# {project.name}", ""]
    ds, prof = project.dataset, project.profile
    if ds is not None:
        lines.append(
            f"Data: `{ds.filename}`, {ds.n_rows} rows x {ds.n_cols} columns (sha256 `{ds.sha256[:12]}`)."
        )
        if ds.sampled:
            lines.append(
                f"\nThe app worked on a sample of {ds.sample_rows} rows; this notebook re-runs every step on "
                "the full file, so its numbers can differ slightly from those recorded."
            )
    elif prof is not None:
        lines.append(f"Data: {prof.n_rows} rows x {prof.n_cols} columns.")
    if project.target:
        lines.append(f"\nTarget: `{project.target}` ({project.task or 'task not set'}).")
    if project.data_doc.strip():
        lines += ["", "## About the data", "", project.data_doc.strip()]
    lines += [
        "",
        "Generated by Gemma Data Wizard. Each step below is the exact code accepted in the app, "
        "with where it came from. Run all cells top to bottom; the raw file must sit at the path "
        "used in the first cell.",
    ]
    return "\n".join(lines)


def to_notebook(project: Project, data_rel_path: str) -> NotebookNode:
    """The project's workflow as a runnable notebook (pure: same project, same notebook)."""
    b = _Builder()
    b.md(_intro(project))
    b.md("## Load the raw data")
    b.code(load_cell_code(project, data_rel_path) + "\nprint(df.shape)")
    harness_inlined = False
    n_model = 0
    for step in project.active_steps:
        title = stages.heading(step.stage)
        head = [f"## {title}: {step.purpose}", "", f"*Provenance:* {provenance_label(step)}."]
        reasons = step.reasons
        if len(reasons) > 1:
            head += [""] + [f"- {r}" for r in reasons]
        elif reasons and reasons[0].rstrip(". ") != step.purpose:
            head += ["", reasons[0]]
        if step.stale:
            head += ["", "*This step is stale: an earlier step changed after it ran in the app.*"]
        if stages.transforms(step.stage):
            b.md("\n".join(head))
            b.code(f"{step.code.rstrip()}\n\n\ndf = {step.entrypoint}(df)\nprint(df.shape)")
        elif step.stage == "model":
            n_model += 1
            if not harness_inlined:
                b.md(
                    "## Training harness\n\nThe same code the app ran in its sandbox: it splits train/test "
                    "before any fitting, trains the model and two baselines (a dummy model and "
                    "HistGradientBoosting with defaults), and computes cross-validated and test metrics."
                )
                for name in INLINED_MODULES:
                    b.code(module_source(name))
                harness_inlined = True
            b.md("\n".join(head))
            b.code(step.code.rstrip())
            params = model_params(step, project)
            args = ", ".join(f"{k}={v!r}" for k, v in params.items())
            var = f"result_{n_model}"
            b.code(
                f"{var} = train_and_evaluate(df, build_model, {args})\n"
                f"metrics_table = pd.DataFrame(\n"
                f"    {{\"this model\": {var}['test'],\n"
                f"     **{{f'baseline: {{k}}': v.get('test', {{}})\n"
                f"        for k, v in {var}['baselines'].items()}}}}\n"
                f").T\n"
                f"metrics_table"
            )
            metrics = (step.result.metrics or {}) if step.result else {}
            if metrics.get("test"):
                b.md("Metrics recorded in the app (test split and CV):\n\n" + recorded_metrics_md(metrics))
            b.code(f"for fig in model_figures({var}).values():\n    fig.show()")
        else:
            b.md("\n".join(head))
            b.code(step.code.rstrip())
    nb = nbformat.v4.new_notebook(cells=b.cells)
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    return nb


def to_ipynb_bytes(project: Project, data_rel_path: str) -> bytes:
    """The notebook as .ipynb bytes (UTF-8 JSON, stable key order)."""
    nb = to_notebook(project, data_rel_path)
    nbformat.validate(nb)
    return (json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
