"""The typed model result and its one rendering (page, report, notebook and scorecard read it).

A model step records the harness's JSON dict (`core.modeling_harness.train_and_evaluate`) plus
the detector's checks (`core.modeling.train_step`). `ModelResult.from_metrics` reads that dict
once; `table()` lays out the model beside its baselines with one set of labels, and
`left_out_lines()` / `leak_label` say what was kept out of the features and whether the model
used a suspected leak. Nothing here imports streamlit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

METRIC_LABELS = {
    "roc_auc": "ROC-AUC",
    "balanced_accuracy": "balanced accuracy",
    "f1_macro": "F1 (macro)",
    "r2": "R²",
    "rmse": "RMSE",
    "mae": "MAE",
}
BASELINE_TITLES = {
    "dummy": "dummy baseline (prior / mean)",
    "hgb_default": "HistGradientBoosting (defaults)",
}
LOWER_IS_BETTER = frozenset({"rmse", "mae"})


def metric_label(name: str) -> str:
    return METRIC_LABELS.get(name, name)


def fmt(v: Any) -> str:
    """One number format for every rendering."""
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


@dataclass(frozen=True)
class Row:
    """One line of the metrics table: the trained model or a baseline on the same split and folds."""

    model: str  # "this model" | "baseline: dummy" | "baseline: hgb_default"
    estimator: str
    test: dict[str, float | None]
    cv: dict[str, float | None]
    error: str | None = None


@dataclass(frozen=True)
class ModelResult:
    task: str
    primary_metric: str
    estimator: str
    n_train: int | None
    n_test: int | None
    metric_names: tuple[str, ...]
    rows: tuple[Row, ...]
    checks: tuple[dict[str, Any], ...] = ()
    dropped_columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_metrics(cls, m: dict[str, Any] | None) -> ModelResult:
        m = m or {}
        test = m.get("test") or {}
        names = tuple(test)
        rows = [
            Row("this model", str(m.get("estimator", "model")), test, (m.get("cv") or {}).get("mean") or {})
        ]
        for name, b in (m.get("baselines") or {}).items():
            rows.append(
                Row(
                    f"baseline: {name}",
                    BASELINE_TITLES.get(name, name),
                    b.get("test") or {},
                    (b.get("cv") or {}).get("mean") or {},
                    b.get("error"),
                )
            )
        return cls(
            task=str(m.get("task", "")),
            primary_metric=str(m.get("primary_metric", names[0] if names else "")),
            estimator=str(m.get("estimator", "model")),
            n_train=m.get("n_train"),
            n_test=m.get("n_test"),
            metric_names=names,
            rows=tuple(rows),
            checks=tuple(c for c in m.get("checks", []) if isinstance(c, dict)),
            dropped_columns=tuple(str(c) for c in m.get("dropped_columns", [])),
            notes=tuple(str(n) for n in m.get("notes", [])),
            raw=m,
        )

    # ------------------------------------------------------------------ facts
    def score(self, model: str = "this model", split: str = "test") -> float | None:
        for r in self.rows:
            if r.model == model:
                return (r.test if split == "test" else r.cv).get(self.primary_metric)
        return None

    @property
    def suspected_leaks(self) -> list[dict[str, Any]]:
        """Leak / post-outcome findings whose columns this model still used (put back by the user)."""
        return [c for c in self.checks if c.get("kind") in ("leak", "post_outcome") and not c.get("dropped")]

    @property
    def leak_label(self) -> str | None:
        """The warning shown wherever this model's metric appears; None when no suspected leak was used."""
        leaks = self.suspected_leaks
        if not leaks:
            return None
        cols = ", ".join(str(c.get("column")) for c in leaks)
        return (
            f"SUSPECTED LEAK: trained with {cols} (put back by the user); "
            "its score is likely too good to be true"
        )

    def left_out_lines(self, escape: Callable[..., str] | None = None) -> list[str]:
        """One Markdown sentence per column group left out of the features, with the detector's
        evidence. `escape` (e.g. `core.safe_text.escape_md`) makes names and evidence render literally."""

        def name(x: str) -> str:
            return escape(x, code=True) if escape else f"`{x}`"

        def text(x: str) -> str:
            return escape(x) if escape else x

        kinds = {
            "identifier": "identifier",
            "leak": "suspected leak",
            "post_outcome": "known only after the outcome",
        }
        out: list[str] = []
        covered: set[str] = set()
        for c in self.checks:
            if not c.get("dropped"):
                continue
            cols = [str(x) for x in c.get("columns") or [c.get("column")]]
            covered.update(cols)
            kind = kinds.get(str(c.get("kind")), str(c.get("kind")))
            why = str(c.get("evidence") or c.get("reason", ""))
            out.append(f"{', '.join(name(x) for x in cols)} — {kind}: {text(why)}")
        rest = [c for c in self.dropped_columns if c not in covered]
        if rest:
            out.append(", ".join(name(x) for x in rest) + " — left out by the caller")
        return out

    # ------------------------------------------------------------------ the one rendering
    def header(self) -> list[str]:
        return (
            ["model", "estimator"]
            + [f"test {metric_label(n)}" for n in self.metric_names]
            + [f"CV {metric_label(n)}" for n in self.metric_names]
        )

    def table(self) -> list[list[Any]]:
        """Rows of raw values under `header()`; the model row carries the leak label when it applies."""
        out = []
        label = self.leak_label
        for r in self.rows:
            name = r.model + (" ⚠ suspected leak" if label and r.model == "this model" else "")
            vals: list[Any] = [name, r.estimator if not r.error else f"{r.estimator} (failed: {r.error})"]
            vals += [r.test.get(n) for n in self.metric_names] + [r.cv.get(n) for n in self.metric_names]
            out.append(vals)
        return out

    def markdown(self) -> str:
        """The table as Markdown (report and notebook), preceded by the leak label when it applies."""
        head = self.header()
        lines = []
        if self.leak_label:
            lines += [f"**⚠ {self.leak_label}.**", ""]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in self.table():
            lines.append("| " + " | ".join(fmt(v) for v in row) + " |")
        return "\n".join(lines)

    def frame(self) -> Any:
        """The table as a DataFrame (the page)."""
        import pandas as pd

        return pd.DataFrame(self.table(), columns=self.header())


def better(a: float | None, b: float | None, metric: str) -> bool:
    """True when score `a` beats `b` on `metric` (None never wins)."""
    if a is None:
        return False
    if b is None:
        return True
    return a < b if metric in LOWER_IS_BETTER else a > b
