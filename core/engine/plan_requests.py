"""A stage's plan as requests: how a wizard-tuned Gemma writes a whole stage, one step at a time.

The adapter learned short requests well ("fill missing age with the median", "parse date as
dates") and whole-stage functions badly (a long function seen a few dozen times in training).
So for a tuned backend each recipe of the plan becomes the requests the adapter knows, Gemma
writes each one, each piece is checked against its own request in the sandbox, and the pieces
replace the recipes' code under the plan's comments. A step with no such request (or whose
piece fails its check) keeps the recipe's code; the proposal says how many steps are Gemma's.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace

from core.models import DatasetProfile
from core.recipes.base import Recipe
from core.recipes.clean import cap_fences

# More requests than this for one recipe (a wide table) costs more model time than it is worth.
MAX_REQUESTS_PER_STEP = 4
_PARTS = {"year": "year", "month": "month", "dayofweek": "day of week", "day": "day of the month"}


def _cols(r: Recipe) -> list[str]:
    return [str(c) for c in (r.applies_to or r.params.get("columns") or [])]


def _drop_cols(r: Recipe, _target: str | None, _profile: DatasetProfile | None) -> list[str] | None:
    cols = _cols(r)
    if not cols or len(cols) > 3:
        return None
    return [f"drop the {' and '.join(cols)} column{'s' if len(cols) > 1 else ''}"]


def _impute(r: Recipe, _target: str | None, _profile: DatasetProfile | None) -> list[str] | None:
    if r.params.get("indicators"):
        return None  # "was missing" indicator columns: no request the adapter knows
    num = [f"fill missing {c} with the median" for c in r.params.get("numeric", [])]
    cat = [f"fill missing {c} with the most common value" for c in r.params.get("categorical", [])]
    return num + cat or None


def _date_parts(r: Recipe, _target: str | None, _profile: DatasetProfile | None) -> list[str] | None:
    # The recipe also drops the raw date (models cannot use it): that stays one more request.
    parts = [p for p in r.params.get("parts", ["year", "month", "dayofweek"]) if p in _PARTS]
    cols = _cols(r)
    return [f"extract the {_PARTS[p]} from {c}" for c in cols for p in parts] + [
        f"drop the {c} column" for c in cols
    ]


def _cap(r: Recipe, _target: str | None, profile: DatasetProfile | None) -> list[str] | None:
    """The IQR fences as numbers from the profile: "clip x to between lo and hi" is a request the
    adapter knows; the recipe computes the same fences from the data when it runs."""
    if profile is None:
        return None
    k = float(r.params.get("k", 3.0))
    out = []
    for c in _cols(r):
        fences = cap_fences(profile.column(c), k)
        if fences is None:
            return None
        out.append(f"clip {c} to between {fences[0]:.6g} and {fences[1]:.6g}")
    return out


# recipe id -> the requests its step is (None: no request the adapter knows; the recipe's code stays)
REQUESTS: dict[str, Callable[[Recipe, str | None, DatasetProfile | None], list[str] | None]] = {
    "clean.drop_duplicates": lambda r, t, p: ["remove duplicate rows"],
    "clean.drop_empty": _drop_cols,
    "clean.drop_constant": _drop_cols,
    "clean.drop_ids": _drop_cols,
    "clean.drop_missing_target": lambda r, t, p: [f"drop rows where {t} is missing"] if t else None,
    "clean.drop_missing_rows": lambda r, t, p: [f"drop rows where {c} is missing" for c in _cols(r)],
    "clean.impute": _impute,
    "clean.parse_numbers": lambda r, t, p: [f"convert {c} to numbers" for c in _cols(r)],
    "clean.parse_dates": lambda r, t, p: [f"parse {c} as dates" for c in _cols(r)],
    "feature.log1p": lambda r, t, p: [f"add the log of {c}" for c in _cols(r)],
    "feature.date_parts": _date_parts,
    "clean.cap_outliers": _cap,
}


def requests_for(r: Recipe, target: str | None, profile: DatasetProfile | None = None) -> list[str] | None:
    """The requests that make up recipe `r`'s step, or None when Gemma does not write it."""
    make = REQUESTS.get(r.id)
    reqs = make(r, target, profile) if make is not None and r.code.strip() else None
    return reqs if reqs and len(reqs) <= MAX_REQUESTS_PER_STEP else None


def body_of(code: str, entry: str, arg: str = "df") -> str | None:
    """The statements of Gemma's one-request function between `df = df.copy()` and `return df`.

    None when the function does anything else with its result (an early return, a different
    return value): such a piece cannot be spliced into the stage function."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry), None)
    if fn is None or not fn.body:
        return None
    stmts = list(fn.body)
    last = stmts[-1]
    if not (isinstance(last, ast.Return) and isinstance(last.value, ast.Name) and last.value.id == arg):
        return None
    stmts = stmts[:-1]
    if stmts and ast.unparse(stmts[0]).replace(" ", "") == f"{arg}={arg}.copy()":
        stmts = stmts[1:]
    if not stmts or any(isinstance(n, ast.Return) for s in stmts for n in ast.walk(s)):
        return None
    lines = code.splitlines()
    text = "\n".join(lines[stmts[0].lineno - 1 : stmts[-1].end_lineno])
    return textwrap.dedent(text).strip("\n")


@dataclass(frozen=True)
class StepPlan:
    recipes: list[Recipe]  # the plan, with Gemma's code in the steps it wrote
    by_gemma: int  # steps whose code is Gemma's
    steps: int  # steps with code


def write_steps(
    recipes: list[Recipe],
    target: str | None,
    piece: Callable[[str], str | None],
    profile: DatasetProfile | None = None,
) -> StepPlan:
    """The plan with each step Gemma can write replaced by its pieces; `piece(request)` returns
    the checked statements for one request, or None."""
    out: list[Recipe] = []
    by_gemma = steps = 0
    for r in recipes:
        if not r.code.strip():
            out.append(r)
            continue
        steps += 1
        reqs = requests_for(r, target, profile)
        pieces = []
        for req in reqs or []:
            p = piece(req)
            if p is None:
                break
            pieces.append(p)
        if reqs and len(pieces) == len(reqs):
            by_gemma += 1
            out.append(replace(r, code="\n".join(pieces)))
        else:
            out.append(r)
    return StepPlan(out, by_gemma, steps)
