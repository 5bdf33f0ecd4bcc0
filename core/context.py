"""Profile + steps so far + request -> a compact prompt context within a token budget.

The model sees facts from the profile, never the table. Columns are ranked by relevance (the
target, columns named in the request, columns with issues that matter to the stage); the ones
that do not fit the budget are SUMMARISED by type ("+ 480 more numeric columns named x_1 ... x_480,
no missing"), never dropped silently. Excluded columns are named but their values never sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd

from core import stages
from core.models import ColumnProfile, DatasetProfile, Step
from core.profile import profile_dataframe

DEFAULT_BUDGET = 600  # tokens for the data description; the few-shot prompt adds its own
MAX_SAMPLE_CHARS = 24  # one sample value is cut at this length (long text would eat the budget)


def approx_tokens(text: str) -> int:
    return max(1, len(text) // 4)


@dataclass
class PromptContext:
    text: str
    shown: list[str] = field(default_factory=list)  # columns with their own line
    summarised: list[str] = field(default_factory=list)  # columns only counted in a summary line
    tokens: int = 0


def _short(value: object) -> str:
    s = str(value).replace("\n", " ")
    return s if len(s) <= MAX_SAMPLE_CHARS else s[: MAX_SAMPLE_CHARS - 1] + "…"


def column_line(col: ColumnProfile, excluded: bool = False, target: bool = False) -> str:
    """`- price (money_text, 3% missing, e.g. "$1,234.50", "$980")`."""
    bits = [col.semantic]
    if target:
        bits.insert(0, "TARGET")
    if col.missing_share > 0:
        share = col.missing_share * 100
        bits.append(f"{share:.0f}% missing" if share >= 1 else "<1% missing")
    if col.semantic in ("category", "text", "boolean", "id"):
        bits.append(f"{col.n_unique} values")
    if excluded:
        bits.append("values hidden")
    else:
        samples = [v for v, _ in col.top_values[:3]] or col.sample_values[:3]
        if samples and col.semantic != "numeric":
            bits.append("e.g. " + ", ".join(f'"{_short(v)}"' for v in samples[:3]))
        if col.semantic == "numeric" and col.min is not None and col.max is not None:
            bits.append(f"range {_num(col.min)}..{_num(col.max)}")
    notes = "; ".join(col.notes[:2])
    line = f"- {col.name} ({', '.join(bits)})"
    return line + (f" [{notes}]" if notes and not excluded else "")


def _num(v: float | str) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return _short(v)


def _issue_score(col: ColumnProfile, stage: str) -> int:
    """How much this column's issues matter to `stage` (its StageSpec says; 0 for other tasks)."""
    spec = stages.find(stage)
    return spec.issue_score(col) if spec is not None else 0


def named_in(request: str | None, columns: Iterable[str]) -> list[str]:
    """Columns whose name appears in the request (case-insensitive, whole word when possible)."""
    if not request:
        return []
    req = request.casefold()
    hits = []
    for name in columns:
        n = str(name).casefold()
        if not n:
            continue
        if re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", req):
            hits.append(name)
    return hits


def _summary_line(cols: list[ColumnProfile]) -> list[str]:
    """One line per semantic type for the columns that did not get their own line."""
    groups: dict[str, list[ColumnProfile]] = {}
    for c in cols:
        groups.setdefault(c.semantic, []).append(c)
    lines = []
    for semantic, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        names = [m.name for m in members]
        named = f"{names[0]}" if len(names) == 1 else f"{names[0]} … {names[-1]}"
        worst = max(m.missing_share for m in members)
        missing = "no missing" if worst == 0 else f"up to {worst * 100:.0f}% missing"
        plural = "column" if len(members) == 1 else "columns"
        lines.append(f"+ {len(members)} more {semantic} {plural} named {named}, {missing}")
    return lines


def steps_summary(steps: Iterable[Step]) -> str:
    lines = []
    for i, s in enumerate(steps, 1):
        what = s.purpose
        lines.append(f"{i}. {s.stage} ({s.provenance}): {_short_line(what)}")
    return "\n".join(lines)


def _short_line(text: str, n: int = 90) -> str:
    t = " ".join(str(text).split())
    return t if len(t) <= n else t[: n - 1] + "…"


def build_context(
    profile: DatasetProfile,
    stage: str,
    target: str | None = None,
    request: str | None = None,
    steps: Iterable[Step] = (),
    excluded: Iterable[str] = (),
    budget_tokens: int = DEFAULT_BUDGET,
    count_tokens: Callable[[str], int] | None = None,
) -> PromptContext:
    """The data description for a prompt, at most `budget_tokens` by `count_tokens`."""
    count = count_tokens or approx_tokens
    excluded_set = set(excluded)
    header = [f"Table: {profile.n_rows} rows, {profile.n_cols} columns."]
    if profile.n_duplicate_rows:
        header.append(f"{profile.n_duplicate_rows} exact duplicate rows.")
    if target:
        header.append(f"Target: {target}.")
    head = " ".join(header)
    done = steps_summary(steps)
    if done:
        head += "\nSteps already done:\n" + done

    names = [c.name for c in profile.columns]
    requested = set(named_in(request, names))
    order = sorted(
        range(len(profile.columns)),
        key=lambda i: (
            profile.columns[i].name != target,
            profile.columns[i].name not in requested,
            -_issue_score(profile.columns[i], stage),
            i,  # original order breaks ties: the table reads as the user knows it
        ),
    )
    shown: list[int] = []
    used = count(head) + 8
    # Room for the summary lines of whatever does not fit: one line per semantic type at most,
    # so the summary of ALL columns bounds it (names differ, hence the margin).
    reserve = count("\n".join(_summary_line(list(profile.columns)))) + 16
    for i in order:
        col = profile.columns[i]
        line = column_line(col, col.name in excluded_set, col.name == target)
        cost = count(line) + 1
        must = col.name == target or col.name in requested
        if not must and used + cost + reserve > budget_tokens:
            continue
        shown.append(i)
        used += cost
    shown_set = set(shown)
    # Shown columns are listed in table order, which reads naturally; the summary follows.
    lines = []
    for i in sorted(shown_set):
        col = profile.columns[i]
        lines.append(column_line(col, col.name in excluded_set, col.name == target))
    rest_cols = [c for i, c in enumerate(profile.columns) if i not in shown_set]
    lines += _summary_line(rest_cols)
    text = head + "\nColumns:\n" + "\n".join(lines)
    return PromptContext(
        text=text,
        shown=[profile.columns[i].name for i in sorted(shown_set)],
        summarised=[c.name for c in rest_cols],
        tokens=count(text),
    )


# --------------------------------------------------------------------------- profile of the current data
def profile_frame(df: pd.DataFrame, target: str | None = None) -> DatasetProfile:
    """The profile of `df` (the data after earlier steps), for the feature and model stages."""
    return profile_dataframe(df, target=target)
