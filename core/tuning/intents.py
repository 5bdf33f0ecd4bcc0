"""Candidate training targets: many phrasings of each request/question over a table's real columns.

Each generator looks at the table (and its profile) and returns `Candidate`s: the request as a
user would type it, the code body that continues `TunedPrompt.prefix`, and the outcome spec that
`core.tuning.checks` verifies in the sandbox. Expected answers are computed here with plain
Python/numpy arithmetic, independently of the pandas code in the target.
"""

# Phrasing tables read best with one phrasing per line, so long lines are allowed here.
# ruff: noqa: E501
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.models import DatasetProfile


@dataclass
class Candidate:
    task: str  # "clean" | "feature" | "ask"
    intent: str
    request: str | None  # None: a stage proposal
    body: str  # code that continues TunedPrompt.prefix, ending with the return line
    spec: dict[str, Any]
    columns: list[str] = field(default_factory=list)


def q(name: str) -> str:
    """A column name as a Python string literal (any name renders to valid code)."""
    return json.dumps(name, ensure_ascii=False)


def _nice(v: float) -> float | int:
    f = float(f"{v:.3g}")
    return int(f) if f.is_integer() and abs(f) < 1e15 else f


def _say(name: str, rng: np.random.Generator) -> str:
    """How a user names a column: mostly exactly, sometimes in words."""
    if "_" in name and rng.random() < 0.15:
        return name.replace("_", " ")
    return name


class Cols:
    """The table's columns by the role a request can give them."""

    def __init__(self, df: pd.DataFrame, profile: DatasetProfile) -> None:
        sem = {c.name: c.semantic for c in profile.columns}
        self.df = df
        self.num = [
            c for c in df.columns
            if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
            and df[c].nunique() >= 5
        ]  # fmt: skip
        obj = [c for c in df.columns if df[c].dtype == object]
        allstr = [c for c in obj if df[c].dropna().map(lambda v: isinstance(v, str)).all()]
        self.cat = [
            c
            for c in allstr
            if 2 <= df[c].nunique() <= 30 and sem.get(c) not in ("date", "numeric_text", "money_text")
        ]
        self.text = [c for c in allstr if sem.get(c) in ("text", "id", "category") and c not in self.cat]
        self.date = [c for c in allstr if sem.get(c) == "date"]
        self.numtext = [c for c in obj if sem.get(c) in ("numeric_text", "money_text")]
        self.missing = [c for c in df.columns if df[c].isna().any()]
        self.label = self.cat + self.text


def _row_filter(req: str, col: str, op: str, value: Any, literal: str) -> Candidate:
    """A clean-stage row filter `df[df[col] <op> <literal>]` (`literal`: the value as code)."""
    body = f"    df = df[df[{q(col)}] {op} {literal}]\n    return df\n"
    spec = {"kind": "rows", "how": "cmp", "col": col, "op": op, "value": value}
    return Candidate("clean", "filter", req, body, spec, [col])


def _pick(rng: np.random.Generator, items: list[str], k: int = 1) -> list[str]:
    if len(items) < k:
        return []
    idx = rng.choice(len(items), size=k, replace=False)
    return [items[int(i)] for i in idx]


def _one(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _values(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()


def _threshold(s: pd.Series, rng: np.random.Generator) -> float | int:
    x = _values(s)
    x = x[np.isfinite(x)]
    return _nice(float(np.quantile(x, rng.uniform(0.25, 0.75))))


# ------------------------------------------------------------------------------- feature requests
def feature_candidates(df: pd.DataFrame, c: Cols, rng: np.random.Generator) -> list[Candidate]:
    out: list[Candidate] = []
    for _ in range(3):
        pair = _pick(rng, c.num, 2)
        if not pair:
            break
        a, b = pair
        sa, sb = _say(a, rng), _say(b, rng)
        op = _one(rng, ["ratio", "diff", "sum", "product"])
        name = {
            "ratio": f"{a}_per_{b}",
            "diff": f"{a}_minus_{b}",
            "sum": f"{a}_plus_{b}",
            "product": f"{a}_x_{b}",
        }[op]
        say = {
            "ratio": [f"add the ratio of {sa} to {sb}", f"create {name} as {sa} divided by {sb}",
                      f"divide {sa} by {sb} into a new column", f"new column: {sa} per {sb}"],
            "diff": [f"add the difference between {sa} and {sb}", f"create {name} = {sa} minus {sb}",
                     f"subtract {sb} from {sa} as a new column", f"add a column with {sa} - {sb}"],
            "sum": [f"add a column with the sum of {sa} and {sb}", f"create {name} as {sa} plus {sb}",
                    f"add the total of {sa} and {sb}"],
            "product": [f"multiply {sa} by {sb} into a new column", f"add the product of {sa} and {sb}",
                        f"create {name} = {sa} times {sb}"],
        }[op]  # fmt: skip
        expr = {
            "ratio": f"df[{q(a)}] / df[{q(b)}].replace(0, np.nan)",
            "diff": f"df[{q(a)}] - df[{q(b)}]",
            "sum": f"df[{q(a)}] + df[{q(b)}]",
            "product": f"df[{q(a)}] * df[{q(b)}]",
        }[op]
        body = f"    df[{q(name)}] = {expr}\n    return df\n"
        out.append(
            Candidate(
                "feature", op, _one(rng, say), body, {"kind": "values", "expect": op, "cols": [a, b]}, [a, b]
            )
        )
    for a in _pick(rng, c.num, min(3, len(c.num))):
        sa = _say(a, rng)
        x = _values(df[a])
        op = _one(rng, ["log", "zscore", "minmax", "square", "bins", "flag", "round"])
        if op == "log" and np.nanmin(x) >= 0:
            req = _one(
                rng,
                [
                    f"log-transform {sa}",
                    f"add the log of {sa}",
                    f"add log1p of {sa}",
                    f"create a log-scaled {sa} column",
                ],
            )
            body = f"    df[{q('log_' + a)}] = np.log1p(df[{q(a)}])\n    return df\n"
            spec: dict[str, Any] = {"kind": "values", "expect": "log", "cols": [a]}
        elif op == "zscore":
            req = _one(
                rng,
                [f"standardize {sa}", f"add a z-score of {sa}", f"scale {sa} to zero mean and unit variance"],
            )
            body = f"    col = df[{q(a)}]\n    df[{q(a + '_z')}] = (col - col.mean()) / col.std()\n    return df\n"
            spec = {"kind": "values", "expect": "zscore", "cols": [a]}
        elif op == "minmax":
            req = _one(
                rng,
                [
                    f"scale {sa} to the 0-1 range",
                    f"min-max normalise {sa}",
                    f"add {sa} rescaled between 0 and 1",
                ],
            )
            body = (f"    col = df[{q(a)}]\n    df[{q(a + '_scaled')}] = (col - col.min()) / (col.max() - col.min())\n"
                    "    return df\n")  # fmt: skip
            spec = {"kind": "values", "expect": "minmax", "cols": [a]}
        elif op == "square":
            req = _one(rng, [f"add {sa} squared", f"add the square of {sa}"])
            body = f"    df[{q(a + '_squared')}] = df[{q(a)}] ** 2\n    return df\n"
            spec = {"kind": "values", "expect": "square", "cols": [a]}
        elif op == "bins":
            k = int(rng.choice([3, 4, 5]))
            if rng.random() < 0.5:
                req = _one(
                    rng,
                    [
                        f"bin {sa} into {k} equal-width bins",
                        f"split {sa} into {k} bins",
                        f"discretize {sa} into {k} ranges",
                    ],
                )
                body = (
                    f"    df[{q(a + '_bin')}] = pd.cut(df[{q(a)}], bins={k}, labels=False)\n    return df\n"
                )
            else:
                req = _one(
                    rng, [f"split {sa} into {k} quantile groups", f"add {k} equal-size buckets of {sa}"]
                )
                body = f'    df[{q(a + "_group")}] = pd.qcut(df[{q(a)}], q={k}, labels=False, duplicates="drop")\n    return df\n'
            spec = {"kind": "bins", "k": k, "cols": [a]}
        elif op == "flag":
            t = _threshold(df[a], rng)
            name = f"{a}_above_{t}".replace(".", "_").replace("-", "minus")
            req = _one(rng, [f"add a flag for rows where {sa} is above {t}", f"mark rows with {sa} over {t} as 1, else 0",
                             f"add a 0/1 column: {sa} > {t}"])  # fmt: skip
            body = f"    df[{q(name)}] = (df[{q(a)}] > {t}).astype(int)\n    return df\n"
            spec = {"kind": "values", "expect": "flag", "op": ">", "value": t, "cols": [a]}
        else:
            k = int(rng.choice([0, 1, 2]))
            req = _one(rng, [f"round {sa} to {k} decimals", f"round the {sa} column to {k} decimal places"])
            body = f"    df[{q(a)}] = df[{q(a)}].round({k})\n    return df\n"
            spec = {"kind": "values", "expect": "round", "digits": k, "cols": [a]}
            if np.allclose(np.round(x[np.isfinite(x)], k), x[np.isfinite(x)]):
                continue  # already round: the step would change nothing to check
        if op == "log" and np.nanmin(x) < 0:
            continue
        out.append(Candidate("feature", op, req, body, spec, [a]))
    for d in _pick(rng, c.date, min(2, len(c.date))):
        sd = _say(d, rng)
        part = _one(rng, ["year", "month", "day", "dayofweek", "quarter"])
        word = {"dayofweek": "day of week", "day": "day of the month"}.get(part, part)
        req = _one(
            rng,
            [f"extract the {word} from {sd}", f"add the {word} of {sd}", f"new column with {sd}'s {word}"],
        )
        body = (f"    when = pd.to_datetime(df[{q(d)}], errors=\"coerce\", format=\"mixed\")\n"
                f"    df[{q(d + '_' + part)}] = when.dt.{part}\n    return df\n")  # fmt: skip
        out.append(
            Candidate(
                "feature",
                "datepart",
                req,
                body,
                {"kind": "values", "expect": "datepart", "part": part, "cols": [d]},
                [d],
            )
        )
    for cat in _pick(rng, [x for x in c.cat if df[x].nunique() <= 12], 1):
        sc = _say(cat, rng)
        req = _one(
            rng,
            [f"one-hot encode {sc}", f"create dummy variables for {sc}", f"turn {sc} into indicator columns"],
        )
        body = f"    df = pd.get_dummies(df, columns=[{q(cat)}], prefix={q(cat)}, dtype=int)\n    return df\n"
        out.append(Candidate("feature", "onehot", req, body, {"kind": "onehot", "cols": [cat]}, [cat]))
    if c.cat and c.num:
        cat, a = _pick(rng, c.cat, 1)[0], _pick(rng, c.num, 1)[0]
        req = _one(rng, [f"add the average {_say(a, rng)} per {_say(cat, rng)} as a new column",
                         f"add a column with the mean {a} of each {cat} group"])  # fmt: skip
        body = f'    df[{q(a + "_mean_by_" + cat)}] = df.groupby({q(cat)})[{q(a)}].transform("mean")\n    return df\n'
        out.append(
            Candidate(
                "feature",
                "groupmean",
                req,
                body,
                {"kind": "values", "expect": "groupmean", "cols": [a, cat]},
                [a, cat],
            )
        )
    for t in _pick(rng, c.text + c.cat, 1):
        req = _one(
            rng, [f"add the length of {_say(t, rng)}", f"add a column with the number of characters in {t}"]
        )
        body = f"    df[{q(t + '_length')}] = df[{q(t)}].str.len()\n    return df\n"
        out.append(
            Candidate(
                "feature", "textlen", req, body, {"kind": "values", "expect": "textlen", "cols": [t]}, [t]
            )
        )
    return out


# ------------------------------------------------------------------------------- clean requests
def clean_candidates(df: pd.DataFrame, c: Cols, rng: np.random.Generator) -> list[Candidate]:
    out: list[Candidate] = []
    for col in _pick(rng, c.missing, min(2, len(c.missing))):
        s = _say(col, rng)
        if col in c.num:
            how = _one(rng, ["median", "mean", "zero", "drop"])
            x = _values(df[col])
            if how == "drop":
                req = _one(
                    rng,
                    [
                        f"drop rows where {s} is missing",
                        f"remove rows with no {s}",
                        f"delete rows with missing {s}",
                    ],
                )
                body = f"    df = df.dropna(subset=[{q(col)}])\n    return df\n"
                out.append(
                    Candidate(
                        "clean", "dropna", req, body, {"kind": "rows", "how": "dropna", "cols": [col]}, [col]
                    )
                )
                continue
            fill = {"median": float(np.nanmedian(x)), "mean": float(np.nanmean(x)), "zero": 0.0}[how]
            word = {"median": "the median", "mean": "the mean", "zero": "0"}[how]
            req = _one(
                rng,
                [f"fill missing {s} with {word}", f"impute {s} with {word}", f"replace NaN in {s} by {word}"],
            )
            val = {"median": f"df[{q(col)}].median()", "mean": f"df[{q(col)}].mean()", "zero": "0"}[how]
            body = f"    df[{q(col)}] = df[{q(col)}].fillna({val})\n    return df\n"
            out.append(
                Candidate("clean", "fill", req, body, {"kind": "fill", "col": col, "fill": fill}, [col])
            )
        elif col in c.cat or col in c.text:
            if rng.random() < 0.5:
                req = _one(
                    rng,
                    [f"fill missing {s} with 'Unknown'", f"replace empty {s} values with Unknown"],  # noqa: S608 - not SQL
                )
                body = f'    df[{q(col)}] = df[{q(col)}].fillna("Unknown")\n    return df\n'
                out.append(
                    Candidate(
                        "clean", "fill", req, body, {"kind": "fill", "col": col, "fill": "Unknown"}, [col]
                    )
                )
            else:
                counts = Counter(v for v in df[col] if isinstance(v, str))
                top = counts.most_common(2)
                if len(top) == 2 and top[0][1] == top[1][1]:
                    continue
                req = _one(rng, [f"fill missing {s} with the most common value", f"impute {s} with its mode"])
                body = f"    df[{q(col)}] = df[{q(col)}].fillna(df[{q(col)}].mode()[0])\n    return df\n"
                out.append(
                    Candidate(
                        "clean", "fill", req, body, {"kind": "fill", "col": col, "fill": top[0][0]}, [col]
                    )
                )
    if c.missing and rng.random() < 0.4:
        req = _one(
            rng,
            [
                "drop rows with any missing values",
                "remove every row that has a missing value",
                "drop incomplete rows",
            ],
        )
        out.append(
            Candidate(
                "clean",
                "dropna",
                req,
                "    df = df.dropna()\n    return df\n",
                {"kind": "rows", "how": "dropna"},
                [],
            )
        )
    if df.duplicated().any():
        req = _one(rng, ["remove duplicate rows", "drop exact duplicates", "deduplicate the table"])
        out.append(
            Candidate(
                "clean",
                "dedup",
                req,
                "    df = df.drop_duplicates()\n    return df\n",
                {"kind": "rows", "how": "dedup"},
                [],
            )
        )
    for a in _pick(rng, c.num, 1):
        t = _threshold(df[a], rng)
        s = _say(a, rng)
        op, req = _one(rng, [(">", f"keep only rows where {s} is greater than {t}"), ("<", f"keep rows with {s} below {t}"),
                             (">=", f"remove rows where {s} is below {t}"), ("<=", f"drop rows with {s} above {t}")])  # fmt: skip
        out.append(_row_filter(req, a, op, t, str(t)))
    for cat in _pick(rng, c.cat, 1):
        v = str(df[cat].dropna().astype(str).value_counts().index[0])
        keep = rng.random() < 0.5
        req = _one(rng, [f"keep only rows where {cat} is '{v}'", f"filter to {cat} == {v}"] if keep else
                   [f"drop rows where {cat} is '{v}'", f"remove the {v} rows of {cat}"])  # fmt: skip
        out.append(_row_filter(req, cat, "==" if keep else "!=", v, q(v)))
    for a in _pick(rng, list(df.columns), 1):
        new = _one(
            rng,
            [
                a.lower().replace(" ", "_") + "_value",
                "new_" + a.lower(),
                a.upper() if a != a.upper() else a.lower(),
            ],
        )
        if new in df.columns:
            continue
        req = _one(
            rng, [f"rename {a} to {new}", f"rename the column {a} as {new}", f"call the {a} column {new}"]
        )
        body = f"    df = df.rename(columns={{{q(a)}: {q(new)}}})\n    return df\n"
        out.append(Candidate("clean", "rename", req, body, {"kind": "rename", "old": a, "new": new}, [a]))
    drop = _pick(rng, list(df.columns), int(rng.choice([1, 1, 2])) if df.shape[1] > 3 else 0)
    if drop:
        req = _one(rng, [f"drop the {' and '.join(drop)} column" + ("s" if len(drop) > 1 else ""), f"remove {', '.join(drop)}",
                         f"delete column{'s' if len(drop) > 1 else ''} {' and '.join(drop)}"])  # fmt: skip
        body = f"    df = df.drop(columns=[{', '.join(q(x) for x in drop)}])\n    return df\n"
        out.append(Candidate("clean", "drop_cols", req, body, {"kind": "drop_cols", "cols": drop}, drop))
    for col in c.numtext[:1]:
        req = _one(
            rng,
            [
                f"convert {col} to numbers",
                f"make {col} numeric",
                f"fix the type of {col}: it should be a number",
            ],
        )
        body = (f"    text = df[{q(col)}].astype(str).str.replace(\",\", \"\").str.replace(\"$\", \"\")\n"
                f"    df[{q(col)}] = pd.to_numeric(text, errors=\"coerce\")\n    return df\n")  # fmt: skip
        out.append(Candidate("clean", "to_numeric", req, body, {"kind": "to_numeric", "col": col}, [col]))
    for d in c.date[:1]:
        req = _one(rng, [f"parse {d} as dates", f"convert {d} to datetime", f"make {d} a real date column"])
        body = (
            f'    df[{q(d)}] = pd.to_datetime(df[{q(d)}], errors="coerce", format="mixed")\n    return df\n'
        )
        out.append(Candidate("clean", "to_datetime", req, body, {"kind": "to_datetime", "col": d}, [d]))
    for cat in _pick(rng, c.cat, 1):
        how, req, code = [
            ("strip_lower", f"strip whitespace and lowercase {cat}", ".str.strip().str.lower()"),
            ("lower", f"make {cat} lower case", ".str.lower()"),
            ("upper", f"convert {cat} to upper case", ".str.upper()"),
            ("strip", f"trim the spaces around {cat} values", ".str.strip()"),
            ("strip_title", f"clean up {cat}: trim spaces and use title case", ".str.strip().str.title()"),
        ][int(rng.integers(5))]
        body = f"    df[{q(cat)}] = df[{q(cat)}]{code}\n    return df\n"
        out.append(Candidate("clean", "text", req, body, {"kind": "text", "col": cat, "how": how}, [cat]))
        vals = df[cat].dropna().astype(str).value_counts()
        if len(vals) >= 2 and rng.random() < 0.5:
            v = str(vals.index[-1])
            w = str(vals.index[0])
            req = _one(rng, [f"replace '{v}' with '{w}' in {cat}", f"in {cat}, change {v} to {w}"])
            body = f"    df[{q(cat)}] = df[{q(cat)}].replace({q(v)}, {q(w)})\n    return df\n"
            out.append(
                Candidate(
                    "clean", "replace", req, body, {"kind": "replace", "col": cat, "old": v, "new": w}, [cat]
                )
            )
    for a in _pick(rng, c.num, 1):
        x = _values(df[a])
        x = x[np.isfinite(x)]
        if rng.random() < 0.6:
            lo, hi = float(np.quantile(x, 0.01)), float(np.quantile(x, 0.99))
            req = _one(rng, [f"cap {a} at the 1st and 99th percentiles", f"clip outliers in {a} to the 1%-99% range",
                             f"winsorize {a} at 1% and 99%"])  # fmt: skip
            body = f"    lo, hi = df[{q(a)}].quantile([0.01, 0.99])\n    df[{q(a)}] = df[{q(a)}].clip(lo, hi)\n    return df\n"
        else:
            lo, hi = _nice(float(np.quantile(x, 0.05))), _nice(float(np.quantile(x, 0.95)))
            if not lo < hi:
                continue
            req = _one(rng, [f"clip {a} to between {lo} and {hi}", f"limit {a} to the range {lo} to {hi}"])
            body = f"    df[{q(a)}] = df[{q(a)}].clip({lo}, {hi})\n    return df\n"
        out.append(Candidate("clean", "clip", req, body, {"kind": "clip", "col": a, "lo": lo, "hi": hi}, [a]))
    for a in _pick(rng, c.num, 1 if rng.random() < 0.4 else 0):
        asc = rng.random() < 0.5
        req = f"sort the rows by {a} " + ("ascending" if asc else "descending")
        body = f"    df = df.sort_values({q(a)}, ascending={asc})\n    return df\n"
        out.append(Candidate("clean", "sort", req, body, {"kind": "sort", "col": a, "ascending": asc}, [a]))
    return out
