"""Markdown / HTML / zip report of a project: pure functions of the recorded state.

Every number printed comes from the project (profile, step results, model metrics); the
narrative sentences Gemma writes (`narrative`) are checked against the recorded facts with
`core.factcheck` and a sentence with an unsupported number is dropped. `to_markdown` itself
never calls a model: it uses the narrative stored (and possibly edited) in
`project.report_narrative`.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from typing import Any, Literal

from core import stages
from core.export.notebook import provenance_label
from core.factcheck import tidy_sentences
from core.model_result import METRIC_LABELS
from core.models import Project, Step, StepResult

SECTIONS = {
    "dataset": "Dataset",
    "steps": "Steps",
    "model": "Model results",
    "limitations": "Known limitations",
}
MAX_COLUMNS_LISTED = 40
METRIC_LABEL = METRIC_LABELS  # one set of metric labels (core.model_result)
ChartMode = Literal["none", "links", "markers"]


def fmt(v: Any) -> str:
    """Numbers as the report prints them: integers whole, floats to 4 significant digits."""
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def model_steps(project: Project) -> list[Step]:
    return [
        s
        for s in project.active_steps
        if s.stage == "model" and s.result and s.result.ok and s.result.metrics
    ]


# --------------------------------------------------------------------------- facts
def section_facts(project: Project) -> dict[str, list[str]]:
    """Plain sentences of recorded facts per section: the narrative's only source."""
    facts: dict[str, list[str]] = {k: [] for k in SECTIONS}
    ds, prof = project.dataset, project.profile
    if ds is not None:
        facts["dataset"].append(f"The file {ds.filename} has {ds.n_rows} rows and {ds.n_cols} columns.")
    elif prof is not None:
        facts["dataset"].append(f"The table has {prof.n_rows} rows and {prof.n_cols} columns.")
    if project.target:
        facts["dataset"].append(f"The target column is {project.target} ({project.task or 'task not set'}).")
    if prof is not None:
        if prof.n_duplicate_rows:
            facts["dataset"].append(f"{prof.n_duplicate_rows} rows are exact duplicates.")
        worst = sorted((c for c in prof.columns if c.n_missing), key=lambda c: -c.n_missing)[:3]
        for c in worst:
            facts["dataset"].append(f"Column {c.name} has {c.n_missing} missing values.")
    for step in project.active_steps:
        if stages.transforms(step.stage):
            facts["steps"].append(_step_fact(step))
    for i, step in enumerate(model_steps(project), 1):
        facts["model"].extend(_model_facts(step, i))
    facts["limitations"] = [line for line in limitations(project)]
    return facts


def _step_fact(step: Step) -> str:
    r = step.result
    title = stages.heading(step.stage)
    head = f"The {title.lower()} step ({step.purpose}, {provenance_label(step)})"
    if r is None:
        return head + " has no recorded result."
    parts = [f"{what} from {a} to {b}" for what, a, b in _changes(r)]
    return head + (": " + ", ".join(parts) + "." if parts else ".")


def _changes(r: StepResult) -> list[tuple[str, int, int]]:
    """(what, before, after) for the counts a step recorded: the one source of both renderings."""
    pairs = (
        ("rows", r.rows_before, r.rows_after),
        ("columns", r.cols_before, r.cols_after),
        ("missing cells", r.missing_before, r.missing_after),
    )
    return [(what, a, b) for what, a, b in pairs if a is not None and b is not None]


def _model_facts(step: Step, i: int) -> list[str]:
    m = step.result.metrics if step.result else None
    if not m:
        return []
    pm = m.get("primary_metric", "")
    label = METRIC_LABEL.get(pm, pm)
    ours = (m.get("test") or {}).get(pm)
    out = [
        f"Model {i} ({m.get('estimator', 'model')}) reached a test {label} of {fmt(ours)} "
        f"on {m.get('n_test')} held-out rows after training on {m.get('n_train')} rows."
    ]
    for name, b in (m.get("baselines") or {}).items():
        val = (b.get("test") or {}).get(pm)
        if val is not None:
            who = "the dummy baseline" if name == "dummy" else "HistGradientBoosting with default settings"
            out.append(f"On the same split {who} reached a test {label} of {fmt(val)}.")
    from core.model_result import ModelResult

    res = ModelResult.from_metrics(m)
    if res.leak_label:
        out.insert(0, f"Model {i} is not trustworthy: {res.leak_label}.")
    if res.dropped_columns:
        out.append(
            f"Left out of model {i} as identifiers or suspected leaks: {', '.join(res.dropped_columns)}."
        )
    return out


def limitations(project: Project) -> list[str]:
    """Known limitations: sampling, dropped columns, leakage warnings, harness notes, stale steps."""
    out: list[str] = []
    ds = project.dataset
    if ds is not None and ds.sampled:
        out.append(
            f"The app worked on a sample of {ds.sample_rows} rows of {ds.n_rows}; "
            "exported code re-runs on all rows."
        )
    if ds is not None:
        out += [f"Loading: {w}" for w in ds.warnings]
    for step in model_steps(project):
        m = step.result.metrics or {}  # type: ignore[union-attr]
        reasons = {c["column"]: c.get("reason", "") for c in m.get("checks", []) if isinstance(c, dict)}
        for col in m.get("dropped_columns", []):
            why = reasons.get(col)
            out.append(f"Column {col} was left out of the model" + (f": {why}." if why else "."))
        for col, why in reasons.items():
            if col not in m.get("dropped_columns", []):
                out.append(f"Warning on column {col}: {why}.")
        out += [f"Model note: {n}." for n in m.get("notes", [])]
    if project.profile is not None:
        for item in project.profile.leakage:
            col = item.get("column")
            if col and not any(f"Column {col} " in line for line in out):
                out.append(f"Possible leakage in column {col}: {item.get('reason', '')}.")
    stale = [s for s in project.active_steps if s.stale]
    if stale:
        out.append(
            "Some steps are stale (an earlier step changed after they ran); replay them before trusting them."
        )
    if project.excluded_columns:
        out.append("Columns never shown to the language model: " + ", ".join(project.excluded_columns) + ".")
    return out


# --------------------------------------------------------------------------- narrative
def _check_sentences(text: str, facts: list[str]) -> str:
    """Keep only the sentences whose numbers all appear in the facts and whose column names are
    among them (core.factcheck)."""
    from core.factcheck import check_numbers, drop_unknown_names

    return drop_unknown_names(check_numbers(text, facts).text_kept, facts).text_kept


def narrative(
    project: Project,
    backend: Any,
    sections: list[str] | None = None,
    on_section: Callable[[str, int, int], None] | None = None,
) -> dict[str, str]:
    """Short connecting text per section written by the model from recorded facts only.

    Every sentence is fact-checked; the text keeps complete sentences only, each said once in
    the whole narrative (a small model loops and stops mid-sentence). A section whose text does
    not survive falls back to the facts themselves (deterministic). `on_section(title, i, n)` is
    called before each section is written (the page shows it). The caller stores the result in
    `project.report_narrative`, where the user may edit it.
    """
    from core.llm.base import GenerationParams
    from core.prompts import render

    out: dict[str, str] = {}
    seen: set[str] = set()  # sentences already used in an earlier section
    all_facts = section_facts(project)
    keys = [k for k in (sections or list(SECTIONS)) if all_facts.get(k)]
    for i, key in enumerate(keys, 1):
        facts = all_facts[key]
        if on_section is not None:
            on_section(SECTIONS[key], i, len(keys))
        # The limitations are listed right below the narrative: no need to repeat them.
        fallback = "" if key == "limitations" else " ".join(facts[:4])
        text = ""
        if backend is not None:
            prompt = render(
                "report/narrative.j2",
                section_title=SECTIONS[key],
                facts=facts[:12],
                n_sentences="two or three",
            )
            try:
                reply = backend.complete(
                    prompt, GenerationParams(max_tokens=160, temperature=0.0, stop=("\n\n",))
                )
            except Exception:  # noqa: BLE001 - the report never fails because the model did
                reply = ""
            text = _check_sentences(_clean_reply(reply), facts)
        mark = set(seen)
        text = tidy_sentences(text, mark)
        if len(text) < 20:
            mark = set(seen)
            text = tidy_sentences(fallback, mark)
        seen |= mark
        if text:
            out[key] = text
    return out


def _clean_reply(reply: str) -> str:
    """The reply's first paragraph as plain sentences (a small model often answers in bullets)."""
    text = re.sub(r"<[^>]{1,40}>", " ", reply or "")  # chat/end tokens such as <end_of_turn>
    text = text.strip().split("\n\n")[0]
    lines = [re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", line).strip() for line in text.splitlines()]
    # Complete sentences only, each once (a reply cut by the token limit ends mid-sentence),
    # without a quote mark the model never closed.
    return tidy_sentences(" ".join(line for line in lines if line))


# --------------------------------------------------------------------------- markdown
def to_markdown(
    project: Project, charts: ChartMode = "none", chart_files: dict[str, str] | None = None
) -> str:
    """The whole report as Markdown. `chart_files` maps chart keys ("model1_roc_curve") to paths."""
    lines: list[str] = [f"# {project.name}: workflow report", ""]
    narr = project.report_narrative

    def lead(key: str) -> None:
        if narr.get(key, "").strip():
            lines.extend([narr[key].strip(), ""])

    # Dataset
    lines += ["## Dataset", ""]
    lead("dataset")
    ds, prof = project.dataset, project.profile
    if ds is not None:
        lines.append(f"- File: `{ds.filename}` ({ds.n_rows} rows, {ds.n_cols} columns)")
    if prof is not None:
        lines.append(f"- Profiled rows: {prof.n_rows}; duplicate rows: {prof.n_duplicate_rows}")
    if project.target:
        lines.append(f"- Target: `{project.target}` ({project.task or 'task not set'})")
    lines.append("")
    if project.data_doc.strip():
        lines += ["### About the data", "", project.data_doc.strip(), ""]
    if prof is not None and prof.columns:
        lines += ["### Columns", "", "| column | type | kind | missing | distinct |", "|---|---|---|---|---|"]
        for c in prof.columns[:MAX_COLUMNS_LISTED]:
            lines.append(f"| {_md_cell(c.name)} | {c.dtype} | {c.semantic} | {c.n_missing} | {c.n_unique} |")
        if len(prof.columns) > MAX_COLUMNS_LISTED:
            lines.append(f"\n({len(prof.columns) - MAX_COLUMNS_LISTED} more columns not listed.)")
        lines.append("")

    # Steps
    lines += ["## Steps", ""]
    lead("steps")
    transform_steps = [s for s in project.active_steps if stages.transforms(s.stage)]
    if not transform_steps:
        lines += ["No cleaning or feature steps were accepted.", ""]
    for step in transform_steps:
        lines += _step_md(step)

    # Model
    lines += ["## Model results", ""]
    models = model_steps(project)
    lines += _left_out_md(models)  # before any score is read
    lead("model")
    if not models:
        lines += ["No model was trained.", ""]
    for i, step in enumerate(models, 1):
        lines += _model_md(step, i, charts, chart_files or {})

    # Limitations
    lines += ["## Known limitations", ""]
    lead("limitations")
    lim = limitations(project)
    lines += [f"- {x}" for x in lim] if lim else ["None recorded."]
    lines.append("")
    return "\n".join(lines)


def _step_md(step: Step) -> list[str]:
    title = stages.heading(step.stage)
    out = [f"### {title}: {step.purpose}", "", f"*Provenance:* {provenance_label(step)}.", ""]
    reasons = step.reasons
    if len(reasons) > 1:
        out += [f"- {r}" for r in reasons] + [""]
    elif reasons and reasons[0].rstrip(". ") != step.purpose:
        out += [reasons[0], ""]
    out += ["```python", step.code.rstrip(), "```", ""]
    r = step.result
    if r is not None:
        changes = [f"{what} {a} → {b}" for what, a, b in _changes(r)]
        if changes:
            out.append("What changed: " + "; ".join(changes) + ".")
        for label, cols in (
            ("Added", r.added_columns),
            ("Removed", r.removed_columns),
            ("Changed", r.changed_columns),
        ):
            if cols:
                out.append(f"{label} columns: " + ", ".join(f"`{c}`" for c in cols) + ".")
        if not r.ok:
            out.append(f"This step failed when last run: {r.error}.")
        out.append("")
    if step.stale:
        out += ["*Stale: an earlier step changed after this one ran.*", ""]
    return out


def _left_out_md(models: list[Step]) -> list[str]:
    """What the detector kept out of the features and why, and any model that used a suspected
    leak: at the top of the model section, before any score is read."""
    from core.model_result import ModelResult

    out: list[str] = []
    results = [ModelResult.from_metrics(s.result.metrics if s.result else None) for s in models]
    lefts = [r.left_out_lines() for r in results]
    same = len(models) > 1 and all(left == lefts[0] for left in lefts)
    for i, (res, left) in enumerate(zip(results, lefts, strict=True), 1):
        who = "every model" if same else (f"model {i}" if len(models) > 1 else "the model")
        if left and not (same and i > 1):
            out += [f"**Left out of {who}** (the detector's evidence; safe by default):", ""]
            out += [f"- {x}" for x in left] + [""]
        if res.leak_label:
            out += [f"**⚠ Model {i}: {res.leak_label}.**", ""]
    return out


def _model_md(step: Step, i: int, charts: ChartMode, chart_files: dict[str, str]) -> list[str]:
    m = step.result.metrics or {}  # type: ignore[union-attr]
    out = [
        f"### Model {i}: {m.get('estimator', 'model')}",
        "",
        f"*Provenance:* {provenance_label(step)}.",
        "",
        f"Trained on {m.get('n_train')} rows, tested on {m.get('n_test')} held-out rows; "
        f"primary metric: {METRIC_LABEL.get(m.get('primary_metric', ''), m.get('primary_metric'))}.",
        "",
    ]
    from core.model_result import ModelResult

    out += [ModelResult.from_metrics(m).markdown(), ""]
    out += ["```python", step.code.rstrip(), "```", ""]
    if charts == "links":
        for key, path in chart_files.items():
            if key.startswith(f"model{i}_"):
                out += [f"![{key.split('_', 1)[1].replace('_', ' ')}]({path})", ""]
    elif charts == "markers":
        out += [f"<!-- charts:model{i} -->", ""]
    return out


# --------------------------------------------------------------------------- figures, zip, html
def report_figures(project: Project) -> dict[str, Any]:
    """Plotly figures of every trained model, keyed "model<i>_<chart>"."""
    from core.model_charts import model_figures

    figs: dict[str, Any] = {}
    for i, step in enumerate(model_steps(project), 1):
        for name, fig in model_figures(step.result.metrics or {}).items():  # type: ignore[union-attr]
            figs[f"model{i}_{name}"] = fig
    return figs


def _png_images(figs: dict[str, Any]) -> dict[str, bytes] | None:
    """PNG bytes per figure via kaleido (needs Chromium); None when static export is unavailable."""
    if not figs:
        return {}
    try:
        import tempfile
        from pathlib import Path

        import plotly.io as pio

        with tempfile.TemporaryDirectory() as tmp:
            paths = [Path(tmp) / f"{k}.png" for k in figs]
            # One call for all figures: kaleido starts the browser once.
            pio.write_images(list(figs.values()), paths, format="png", width=900, height=500)
            return {k: p.read_bytes() for k, p in zip(figs, paths, strict=True)}
    except Exception:  # noqa: BLE001 - no Chromium / kaleido problem: fall back to HTML charts
        return None


def to_zip(project: Project, png: bool = True) -> bytes:
    """report.md + report.html + charts (PNG when kaleido works, else standalone HTML files).

    Entries carry a fixed timestamp so the same project gives the same archive layout.
    """
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    figs = report_figures(project)
    images = _png_images(figs) if png else None
    files: dict[str, bytes] = {}
    chart_files: dict[str, str] = {}
    if images is not None:
        for key, data in images.items():
            files[f"charts/{key}.png"] = data
            chart_files[key] = f"charts/{key}.png"
        note = ""
    else:
        for key, fig in figs.items():
            html = pio.to_html(fig, include_plotlyjs="directory", full_html=True, div_id=key)
            files[f"charts/{key}.html"] = html.encode("utf-8")
            chart_files[key] = f"charts/{key}.html"
        if figs:
            files["charts/plotly.min.js"] = get_plotlyjs().encode("utf-8")
        note = (
            "\n> Charts are interactive HTML files in `charts/` (static PNG export needs kaleido with "
            "Chromium, which was not available).\n"
        )
    md = to_markdown(project, charts="links", chart_files=chart_files) + note
    files["report.md"] = md.encode("utf-8")
    files["report.html"] = to_html(project).encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name])
    return buf.getvalue()


def to_html(project: Project) -> str:
    """A standalone HTML page: the Markdown rendered, interactive charts inline (works offline)."""
    import html as html_lib

    import plotly.io as pio
    from markdown_it import MarkdownIt

    md = to_markdown(project, charts="markers")
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(md)
    figs = report_figures(project)
    first = True
    for i in range(1, len(model_steps(project)) + 1):
        divs = []
        for key, fig in figs.items():
            if key.startswith(f"model{i}_"):
                # A fixed div id (plotly draws a random one) keeps the page deterministic.
                divs.append(pio.to_html(fig, include_plotlyjs=first, full_html=False, div_id=key))
                first = False
        # html=False escapes the marker comment; replace its escaped form.
        marker = html_lib.escape(f"<!-- charts:model{i} -->")
        body = body.replace(f"<p>{marker}</p>", "\n".join(divs)).replace(marker, "\n".join(divs))
    title = html_lib.escape(f"{project.name}: workflow report")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;line-height:1.5}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}"
        "pre{background:#f6f8fa;padding:1em;overflow-x:auto}"
    )
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{style}</style></head>\n<body>\n{body}\n</body></html>\n"
    )
