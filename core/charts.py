"""Plotly figures for the profile page and the before/after views of a step.

Every function is independent and returns a `plotly.graph_objects.Figure`. Histograms
are binned here with numpy and drawn as bars, so a million-row column sends ~40 numbers
to the browser, not a million. Wide tables are handled by the caller passing a
`columns` subset (one page) to the per-column charts; `column_pages` makes the pages.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.models import DatasetProfile
from core.profile import correlation_matrix
from core.profile.columns import text_numbers

PAGE_SIZE = 50
_TOP_BARS = 20


def column_pages(names: Sequence[str], page_size: int = PAGE_SIZE) -> list[list[str]]:
    """Split column names into pages for wide tables (300+ columns stay readable)."""
    names = list(names)
    return [names[i : i + page_size] for i in range(0, len(names), page_size)] or [[]]


def _layout(fig: go.Figure, title: str, height: int | None = None) -> go.Figure:
    fig.update_layout(title=title, template="plotly_white", margin={"l": 40, "r": 20, "t": 50, "b": 40})
    if height:
        fig.update_layout(height=height)
    return fig


# =========================================================================== missingness
def missingness_chart(
    profile: DatasetProfile, columns: Sequence[str] | None = None, sort: bool = True
) -> go.Figure:
    """Share of missing values per column (horizontal bars, most missing on top)."""
    cols = [c for c in profile.columns if columns is None or c.name in set(columns)]
    if sort:
        cols = sorted(cols, key=lambda c: -c.missing_share)
    names = [c.name for c in cols]
    shares = [c.missing_share for c in cols]
    fig = go.Figure(
        go.Bar(
            x=shares,
            y=names,
            orientation="h",
            text=[f"{s:.1%}" for s in shares],
            textposition="auto",
            customdata=[c.n_missing for c in cols],
            hovertemplate="%{y}: %{x:.1%} missing (%{customdata:,} cells)<extra></extra>",
            marker_color="#d62728",
        )
    )
    fig.update_xaxes(range=[0, 1], tickformat=".0%", title="missing share")
    fig.update_yaxes(autorange="reversed", type="category")
    return _layout(fig, "Missing values per column", height=max(250, 22 * len(names) + 100))


def missingness_before_after(
    before: pd.DataFrame, after: pd.DataFrame, columns: Sequence[str] | None = None
) -> go.Figure:
    """Missing share per column before and after a step (columns present in either)."""
    names = list(dict.fromkeys([*map(str, before.columns), *map(str, after.columns)]))
    if columns is not None:
        names = [n for n in names if n in set(columns)]

    def shares(df: pd.DataFrame) -> list[float | None]:
        m = df.isna().mean() if len(df) else pd.Series(0.0, index=df.columns)
        m.index = m.index.map(str)
        m = m[~m.index.duplicated()]
        return [float(m[n]) if n in m.index else None for n in names]

    fig = go.Figure(
        [
            go.Bar(name="before", y=names, x=shares(before), orientation="h", marker_color="#9e9e9e"),
            go.Bar(name="after", y=names, x=shares(after), orientation="h", marker_color="#1f77b4"),
        ]
    )
    fig.update_layout(barmode="group")
    fig.update_xaxes(range=[0, 1], tickformat=".0%", title="missing share")
    fig.update_yaxes(autorange="reversed", type="category")
    return _layout(fig, "Missing values before and after", height=max(250, 34 * len(names) + 100))


# =========================================================================== distributions
def _numeric_values(s: pd.Series) -> pd.Series | None:
    if pd.api.types.is_bool_dtype(s):
        return None
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    if s.dtype == object:
        nn = s.dropna()
        if len(nn) == 0:
            return None
        parsed = text_numbers(nn.head(2000))
        if parsed.notna().mean() >= 0.8:
            return text_numbers(s)
    return None


def _hist(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return np.array([]), np.array([0.0, 1.0])
    return np.histogram(values, bins=bins)


def distribution_chart(df: pd.DataFrame, column: str, bins: int = 40) -> go.Figure:
    """Histogram for numbers (also numbers stored as text), bars of the top values otherwise."""
    s = df[column]
    if isinstance(s, pd.DataFrame):  # duplicated name: the first one
        s = s.iloc[:, 0]
    n_missing = int(s.isna().sum())
    sub = f" ({n_missing:,} missing)" if n_missing else ""
    if pd.api.types.is_datetime64_any_dtype(s):
        counts, edges = _hist(s.dropna().astype("int64").to_numpy(dtype="float64"), bins)
        mids = pd.to_datetime((edges[:-1] + edges[1:]) / 2)
        fig = go.Figure(go.Bar(x=mids, y=counts, marker_color="#1f77b4"))
        return _layout(fig, f"{column}: dates{sub}")
    num = _numeric_values(s)
    if num is not None and num.nunique() > 10:
        counts, edges = _hist(num.to_numpy(), bins)
        mids = (edges[:-1] + edges[1:]) / 2
        fig = go.Figure(
            go.Bar(
                x=mids,
                y=counts,
                width=np.diff(edges),
                customdata=np.stack([edges[:-1], edges[1:]], axis=1),
                hovertemplate="%{customdata[0]:.4g} to %{customdata[1]:.4g}: %{y:,}<extra></extra>",
                marker_color="#1f77b4",
            )
        )
        fig.update_xaxes(title=column)
        fig.update_yaxes(title="rows")
        return _layout(fig, f"{column}: distribution{sub}")
    vc = s.astype(str).where(s.notna()).value_counts(dropna=True)
    top = vc.head(_TOP_BARS)
    other = int(vc.iloc[_TOP_BARS:].sum())
    labels = [str(v) if len(str(v)) <= 40 else str(v)[:39] + "…" for v in top.index]
    values = list(top.to_numpy())
    if other:
        labels.append(f"other ({len(vc) - _TOP_BARS:,} values)")
        values.append(other)
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", marker_color="#2ca02c"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title="rows")
    return _layout(fig, f"{column}: most frequent values{sub}", height=max(250, 22 * len(labels) + 100))


def distribution_before_after(
    before: pd.Series, after: pd.Series, name: str | None = None, bins: int = 40
) -> go.Figure:
    """The distribution of one changed column before and after a step, on shared bins."""
    name = name or str(after.name or before.name or "column")
    b_num, a_num = _numeric_values(before), _numeric_values(after)
    if b_num is not None and a_num is not None:
        both = np.concatenate([b_num.to_numpy(), a_num.to_numpy()])
        both = both[np.isfinite(both)]
        edges = np.histogram_bin_edges(both, bins=bins) if len(both) else np.array([0.0, 1.0])
        bc, _ = np.histogram(b_num.to_numpy()[np.isfinite(b_num.to_numpy())], bins=edges)
        ac, _ = np.histogram(a_num.to_numpy()[np.isfinite(a_num.to_numpy())], bins=edges)
        mids = (edges[:-1] + edges[1:]) / 2
        fig = go.Figure(
            [
                go.Bar(name="before", x=mids, y=bc, marker_color="#9e9e9e", opacity=0.6),
                go.Bar(name="after", x=mids, y=ac, marker_color="#1f77b4", opacity=0.6),
            ]
        )
        fig.update_layout(barmode="overlay")
        return _layout(fig, f"{name}: before and after")
    bv = before.astype(str).where(before.notna()).value_counts()
    av = after.astype(str).where(after.notna()).value_counts()
    labels = list(dict.fromkeys([*av.index[:_TOP_BARS], *bv.index[:_TOP_BARS]]))[: 2 * _TOP_BARS]
    fig = go.Figure(
        [
            go.Bar(
                name=name,
                y=labels,
                x=[int(counts.get(v, 0)) for v in labels],
                orientation="h",
                marker_color=color,
            )
            for name, counts, color in (("before", bv, "#9e9e9e"), ("after", av, "#1f77b4"))
        ]
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(autorange="reversed", type="category")
    return _layout(fig, f"{name}: values before and after", height=max(250, 30 * len(labels) + 100))


# =========================================================================== correlation
def correlation_heatmap(df: pd.DataFrame, profile: DatasetProfile, top_k: int = 30) -> go.Figure:
    """Pearson correlations of numeric columns; wide tables show the `top_k` most variable ones."""
    c = correlation_matrix(df, profile, top_k=top_k)
    if c.empty:
        fig = go.Figure()
        fig.add_annotation(text="Fewer than two numeric columns: no correlations to show.", showarrow=False)
        return _layout(fig, "Correlations")
    n_num = sum(1 for col in profile.columns if col.semantic in ("numeric", "boolean"))
    title = "Correlations (Pearson)"
    if n_num > c.shape[1]:
        title += f": {c.shape[1]} of {n_num} numeric columns (most variable)"
    fig = go.Figure(
        go.Heatmap(
            z=c.to_numpy(),
            x=list(c.columns),
            y=list(c.index),
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            reversescale=True,
            text=c.to_numpy(),
            texttemplate="%{text:.2f}" if c.shape[1] <= 15 else None,
            hovertemplate="%{y} × %{x}: %{z:.3f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    side = max(350, 24 * c.shape[1] + 150)
    return _layout(fig, title, height=side)


# =========================================================================== names the pages use
def missingness_figure(profile: DatasetProfile, columns: Sequence[str] | None = None) -> go.Figure:
    return missingness_chart(profile, columns)


def distribution_figure(df: pd.DataFrame, column: str, bins: int = 40) -> go.Figure:
    return distribution_chart(df, column, bins)


def correlation_figure(df: pd.DataFrame, profile: DatasetProfile | None = None, top_k: int = 30) -> go.Figure:
    """Correlation heatmap; profiles `df` when no profile is given."""
    if profile is None:
        from core.profile import profile_dataframe

        profile = profile_dataframe(df)
    return correlation_heatmap(df, profile, top_k)
