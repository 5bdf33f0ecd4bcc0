"""Candidate questions: `def answer(df)` targets with independently computed expected values.

Aggregates, group-bys, counts, filters, correlations, top-k, dates, percentages, rounding and the
answer format the question asks for, over the table's real columns. The expected value is
computed here with plain Python/numpy, never by running the target's pandas code.
"""

# Phrasing tables read best with one phrasing per line, so long lines are allowed here.
# ruff: noqa: E501
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from core.tuning.intents import Candidate, Cols, _one, _pick, _say, _threshold, _values, q

ROUND_SAY = {
    2: [" Round to 2 decimals.", " (2 decimal places)", " Give it rounded to two decimals."],
    1: [" Round to 1 decimal.", " One decimal place, please.", " (1 decimal)"],
    0: [" Round to a whole number.", " As a whole number."],
}


# ------------------------------------------------------------------------------- questions
def _answer(
    intent: str, req: str, body: str, expected: Any, cols: list[str], digits: int | None = None
) -> Candidate:
    spec: dict[str, Any] = {"kind": "answer", "expected": expected}
    if digits is not None:
        spec["digits"] = digits
    return Candidate("ask", intent, req, body, spec, cols)


def _rounding(rng: np.random.Generator) -> tuple[int | None, str]:
    if rng.random() < 0.55:
        k = int(rng.choice([2, 2, 1, 0]))
        return k, _one(rng, ROUND_SAY[k])
    return None, ""


def _r(expr: str, k: int | None) -> str:
    return f"round(float({expr}), {k})" if k is not None else f"float({expr})"


def _exp(v: float, k: int | None) -> float:
    return round(v, k) if k is not None else v


STATS: dict[str, tuple[list[str], str, Callable[[np.ndarray], float]]] = {
    "mean": (
        ["What is the average {c}?", "mean {c}?", "What's the mean of {c}?", "average value of {c}"],
        "mean()",
        np.mean,
    ),
    "median": (
        ["What is the median {c}?", "median of {c}?", "What's the middle value of {c}?"],
        "median()",
        np.median,
    ),
    "sum": (["What is the total {c}?", "sum of {c}?", "What do the {c} values add up to?"], "sum()", np.sum),
    "max": (
        ["What is the highest {c}?", "maximum {c}?", "What's the largest value of {c}?"],
        "max()",
        np.max,
    ),
    "min": (["What is the lowest {c}?", "minimum {c}?", "What's the smallest {c}?"], "min()", np.min),
    "std": (
        ["What is the standard deviation of {c}?", "std of {c}?"],
        "std()",
        lambda x: float(np.std(x, ddof=1)),
    ),
}


def question_candidates(df: pd.DataFrame, c: Cols, rng: np.random.Generator) -> list[Candidate]:
    out: list[Candidate] = []
    for a in _pick(rng, c.num, min(3, len(c.num))):
        stat = _one(rng, list(STATS))
        says, call, fn = STATS[stat]
        x = _values(df[a])
        x = x[np.isfinite(x)]
        k, tail = _rounding(rng)
        req = _one(rng, says).format(c=_say(a, rng)) + tail
        out.append(
            _answer(stat, req, f"    return {_r(f'df[{q(a)}].{call}', k)}\n", _exp(float(fn(x)), k), [a], k)
        )
    out.append(_answer("count_rows", _one(rng, ["How many rows are in the table?", "how many records are there?", "Number of rows?"]),
                       "    return len(df)\n", int(df.shape[0]), []))  # fmt: skip
    for a in _pick(rng, c.num, 1):
        t = _threshold(df[a], rng)
        x = _values(df[a])
        op, word = (">", "above") if rng.random() < 0.6 else ("<", "below")
        n = int(np.sum(x > t) if op == ">" else np.sum(x < t))
        req = _one(
            rng,
            [
                f"How many rows have {a} {word} {t}?",
                f"count the rows where {a} {op} {t}",
                f"how many {a} values are {word} {t}?",
            ],
        )
        out.append(_answer("count_cond", req, f"    return int((df[{q(a)}] {op} {t}).sum())\n", n, [a]))
        share = (
            float(np.mean(x[np.isfinite(x)] > t) * 100)
            if op == ">"
            else float(np.mean(x[np.isfinite(x)] < t) * 100)
        )
        if rng.random() < 0.5:
            req = f"What percentage of {a} values are {word} {t}? Round to 1 decimal."
            body = f"    col = df[{q(a)}].dropna()\n    return round(float((col {op} {t}).mean() * 100), 1)\n"
            out.append(_answer("percent", req, body, round(share, 1), [a], 1))
    for cat in _pick(rng, c.cat, min(2, len(c.cat))):
        vals = [v for v in df[cat] if isinstance(v, str)]
        counts = Counter(vals)
        top = counts.most_common()
        v = top[int(rng.integers(min(3, len(top))))][0]
        sc = _say(cat, rng)
        kind = _one(rng, ["count_value", "nunique", "mode", "percent_value", "group_count", "topk"])
        if kind == "count_value":
            req = _one(
                rng,
                [
                    f"How many rows have {sc} equal to '{v}'?",
                    f"how many {v} are there in {sc}?",
                    f"count of {cat} = {v}?",
                ],
            )
            out.append(
                _answer(kind, req, f"    return int((df[{q(cat)}] == {q(v)}).sum())\n", counts[v], [cat])
            )
        elif kind == "nunique":
            req = _one(
                rng,
                [
                    f"How many distinct values does {sc} have?",
                    f"how many different {sc} are there?",
                    f"number of unique {cat}?",
                ],
            )
            out.append(_answer(kind, req, f"    return int(df[{q(cat)}].nunique())\n", len(counts), [cat]))
        elif kind == "mode" and (len(top) < 2 or top[0][1] > top[1][1]):
            req = _one(
                rng,
                [
                    f"What is the most common {sc}?",
                    f"which {sc} appears most often?",
                    f"most frequent value of {cat}?",
                ],
            )
            out.append(
                _answer(kind, req, f"    return df[{q(cat)}].value_counts().idxmax()\n", top[0][0], [cat])
            )
        elif kind == "percent_value":
            share = round(100 * counts[v] / len(df), 1)
            req = _one(
                rng,
                [
                    f"What percentage of rows have {sc} '{v}'? Round to 1 decimal.",
                    f"share of {v} in {cat}, in percent with 1 decimal?",
                ],
            )
            out.append(
                _answer(
                    kind,
                    req,
                    f"    return round(float((df[{q(cat)}] == {q(v)}).mean() * 100), 1)\n",
                    share,
                    [cat],
                    1,
                )
            )
        elif kind == "group_count" and len(top) <= 12:
            req = _one(
                rng,
                [
                    f"How many rows are there per {sc}?",
                    f"count of rows for each {cat}",
                    f"number of records by {sc}?",
                ],
            )
            out.append(
                _answer(kind, req, f"    return df[{q(cat)}].value_counts().to_dict()\n", dict(counts), [cat])
            )
        elif kind == "topk" and len(top) > 3 and top[2][1] > top[3][1]:
            req = _one(
                rng,
                [
                    f"What are the 3 most common {sc} values?",
                    f"top 3 {cat} by count?",
                    f"list the three most frequent {sc}",
                ],
            )
            out.append(
                _answer(
                    kind,
                    req,
                    f"    return df[{q(cat)}].value_counts().head(3).index.tolist()\n",
                    [t[0] for t in top[:3]],
                    [cat],
                )
            )
    if c.cat and c.num:
        cat, a = _pick(rng, c.cat, 1)[0], _pick(rng, c.num, 1)[0]
        groups: dict[str, list[float]] = {}
        for g, v in zip(df[cat], _values(df[a]), strict=True):
            if isinstance(g, str) and np.isfinite(v):
                groups.setdefault(g, []).append(float(v))
        means = {g: float(np.mean(v)) for g, v in groups.items()}
        kind = _one(rng, ["group_mean", "group_argmax", "filter_mean"])
        if kind == "group_mean" and 2 <= len(means) <= 10:
            req = _one(rng, [f"What is the average {a} for each {cat}? Round to 2 decimals.", f"mean {a} by {cat}, 2 decimals",
                             f"average {a} per {cat} (rounded to 2 decimals)"])  # fmt: skip
            body = f"    return df.groupby({q(cat)})[{q(a)}].mean().round(2).to_dict()\n"
            out.append(_answer(kind, req, body, {g: round(m, 2) for g, m in means.items()}, [a, cat], 2))
        elif kind == "group_argmax" and len(means) >= 2:
            best = sorted(means.items(), key=lambda kv: -kv[1])
            if best[0][1] > best[1][1]:
                req = _one(
                    rng,
                    [f"Which {cat} has the highest average {a}?", f"which {cat} has the largest mean {a}?"],
                )
                body = f"    return df.groupby({q(cat)})[{q(a)}].mean().idxmax()\n"
                out.append(_answer(kind, req, body, best[0][0], [a, cat]))
        elif kind == "filter_mean" and means:
            g = list(means)[int(rng.integers(len(means)))]
            req = _one(
                rng,
                [
                    f"What is the average {a} where {cat} is '{g}'? Round to 2 decimals.",
                    f"mean {a} for {cat} = {g}, 2 decimals?",
                ],
            )
            body = f"    rows = df[df[{q(cat)}] == {q(g)}]\n    return round(float(rows[{q(a)}].mean()), 2)\n"
            out.append(_answer(kind, req, body, round(means[g], 2), [a, cat], 2))
    pair = _pick(rng, c.num, 2)
    if pair and rng.random() < 0.6:
        a, b = pair
        x, y = _values(df[a]), _values(df[b])
        m = np.isfinite(x) & np.isfinite(y)
        r = float(np.corrcoef(x[m], y[m])[0, 1])
        if np.isfinite(r):
            req = _one(rng, [f"What is the correlation between {a} and {b}? Round to 2 decimals.", f"correlation of {a} with {b} (2 decimals)?",
                             f"how strongly are {a} and {b} correlated? Give the Pearson r to 2 decimals."])  # fmt: skip
            out.append(
                _answer(
                    "corr",
                    req,
                    f"    return round(float(df[{q(a)}].corr(df[{q(b)}])), 2)\n",
                    round(r, 2),
                    [a, b],
                    2,
                )
            )
        if rng.random() < 0.4:
            req = f"Is the average {a} higher than the average {b}?"
            ans = bool(np.nanmean(x) > np.nanmean(y))
            out.append(
                _answer(
                    "compare", req, f"    return bool(df[{q(a)}].mean() > df[{q(b)}].mean())\n", ans, [a, b]
                )
            )
    for a in _pick(rng, c.num, 1):
        x = _values(df[a])
        x = x[np.isfinite(x)]
        k = int(rng.choice([3, 5]))
        largest = rng.random() < 0.6
        vals = sorted(x.tolist(), reverse=largest)[:k]
        req = _one(rng, [f"What are the {k} {'largest' if largest else 'smallest'} values of {a}?", f"list the top {k} {a} values"]
                   if largest else [f"What are the {k} smallest values of {a}?"])  # fmt: skip
        fn = "nlargest" if largest else "nsmallest"
        out.append(_answer("topk_values", req, f"    return df[{q(a)}].{fn}({k}).tolist()\n", vals, [a]))
        labels = [x for x in c.label if df[x].notna().all()]
        if labels:
            lab = _pick(rng, labels, 1)[0]
            col = _values(df[a])
            order = np.argsort(-np.nan_to_num(col, nan=-np.inf))
            if len(order) > 1 and col[order[0]] > col[order[1]]:
                req = _one(
                    rng,
                    [
                        f"Which {lab} has the highest {a}?",
                        f"what is the {lab} of the row with the largest {a}?",
                    ],
                )
                body = f"    return df.loc[df[{q(a)}].idxmax(), {q(lab)}]\n"
                out.append(_answer("argmax", req, body, str(df[lab].iloc[int(order[0])]), [a, lab]))
    for col in _pick(rng, c.missing, 1):
        req = _one(
            rng,
            [
                f"How many missing values are in {col}?",
                f"how many rows have no {col}?",
                f"count the empty cells of {col}",
            ],
        )
        out.append(
            _answer(
                "missing",
                req,
                f"    return int(df[{q(col)}].isna().sum())\n",
                int(df[col].isna().sum()),
                [col],
            )
        )
    for d in _pick(rng, c.date, 1):
        when = pd.to_datetime(df[d], errors="coerce", format="mixed")
        years = Counter(int(y) for y in when.dt.year.dropna())
        if years:
            y = sorted(years)[int(rng.integers(len(years)))]
            req = _one(rng, [f"How many rows are from {y}?", f"how many records have a {d} in {y}?"])
            body = f'    when = pd.to_datetime(df[{q(d)}], errors="coerce", format="mixed")\n    return int((when.dt.year == {y}).sum())\n'
            out.append(_answer("date_year", req, body, years[y], [d]))
            first = when.min()
            req = _one(rng, [f"What is the earliest {d}?", f"when is the first {d}? Answer as YYYY-MM-DD."])
            body = (f"    when = pd.to_datetime(df[{q(d)}], errors=\"coerce\", format=\"mixed\")\n"
                    "    return str(when.min().date())\n")  # fmt: skip
            out.append(_answer("date_min", req, body, str(first.date()), [d]))
    return out
