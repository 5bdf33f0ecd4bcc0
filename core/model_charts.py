"""Plotly figures for a model result (the chart data `core.modeling_harness` returns).

SELF-CONTAINED ON PURPOSE (imports plotly only): the exported notebook inlines this source so
the app, the report and the notebook draw the same pictures from the same numbers.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

_LAYOUT = {"template": "plotly_white", "height": 420, "margin": {"l": 60, "r": 20, "t": 50, "b": 50}}


def _lay_out(fig: go.Figure, title: str, x: str, y: str | None = None) -> go.Figure:
    """The one layout every model chart shares: its title, axis titles and the house template."""
    axes = {"xaxis_title": x} if y is None else {"xaxis_title": x, "yaxis_title": y}
    fig.update_layout(title=title, **axes, **_LAYOUT)
    return fig


def confusion_matrix_figure(data: dict[str, Any], title: str = "Confusion matrix (test split)") -> go.Figure:
    labels = [str(v) for v in data["labels"]]
    fig = go.Figure(
        go.Heatmap(
            z=data["matrix"],
            x=labels,
            y=labels,
            colorscale="Blues",
            text=data["matrix"],
            texttemplate="%{text}",
            hovertemplate="true %{y}<br>predicted %{x}<br>%{z} rows<extra></extra>",
        )
    )
    _lay_out(fig, title, "predicted", "true")
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig


def roc_figure(data: dict[str, Any], auc: float | None = None) -> go.Figure:
    name = f"ROC (AUC {auc:.3f})" if auc is not None else "ROC"
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=data["fpr"], y=data["tpr"], mode="lines", name=name))
    fig.add_trace(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"dash": "dash", "color": "grey"})
    )
    title = f"ROC curve (positive class: {data.get('positive', '')})"
    return _lay_out(fig, title, "false positive rate", "true positive rate")


def residuals_figure(data: dict[str, Any]) -> go.Figure:
    fig = go.Figure(
        go.Scattergl(
            x=data["predicted"], y=data["residual"], mode="markers", marker={"size": 5, "opacity": 0.6}
        )
    )
    fig.add_hline(y=0, line_dash="dash", line_color="grey")
    return _lay_out(fig, "Residuals vs predicted (test split)", "predicted", "true - predicted")


def importance_figure(data: dict[str, Any]) -> go.Figure:
    # Reversed so the most important feature is drawn on top of a horizontal bar chart.
    fig = go.Figure(
        go.Bar(
            x=list(reversed(data["mean"])),
            y=list(reversed(data["features"])),
            error_x={"type": "data", "array": list(reversed(data["std"]))},
            orientation="h",
        )
    )
    title = f"Permutation importance ({data.get('scoring', '')} drop, {data.get('rows', '')} test rows)"
    _lay_out(fig, title, "mean score drop when the column is shuffled")
    fig.update_yaxes(type="category")
    return fig


def model_figures(result: dict[str, Any]) -> dict[str, go.Figure]:
    """Every chart the result has data for, keyed by a stable file-friendly name."""
    charts = result.get("charts") or {}
    figs: dict[str, go.Figure] = {}
    if charts.get("confusion_matrix"):
        figs["confusion_matrix"] = confusion_matrix_figure(charts["confusion_matrix"])
    if charts.get("roc_curve"):
        figs["roc_curve"] = roc_figure(charts["roc_curve"], (result.get("test") or {}).get("roc_auc"))
    if charts.get("residuals"):
        figs["residuals"] = residuals_figure(charts["residuals"])
    if charts.get("importance"):
        figs["importance"] = importance_figure(charts["importance"])
    return figs
