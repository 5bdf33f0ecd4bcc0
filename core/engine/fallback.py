"""The recipes as fallback: a free-form request mapped onto one recipe, and the words that say
why a stage's recipes were chosen (the proposal's rationale, one line per recipe)."""

from __future__ import annotations

import re

from core.context import named_in
from core.models import DatasetProfile
from core.recipes import clean as clean_recipes
from core.recipes import feature as feature_recipes
from core.recipes.base import Recipe
from core.recipes.steps import column_recipe
from core.stages.spec import recipes_for

_COMPARE = (
    r"(>=|<=|==|!=|>|<|=|greater than or equal to|less than or equal to|at least|at most|no more than|"
    r"no less than|greater than|more than|larger than|higher than|above|over|exceeds|less than|"
    r"fewer than|smaller than|lower than|below|under|equal to|equals|is)"
)
_OPS = {
    ">=": ">=", "at least": ">=", "no less than": ">=", "greater than or equal to": ">=",
    "<=": "<=", "at most": "<=", "no more than": "<=", "less than or equal to": "<=",
    ">": ">", "greater than": ">", "more than": ">", "larger than": ">", "higher than": ">", "above": ">",
    "over": ">", "exceeds": ">", "<": "<", "less than": "<", "fewer than": "<", "smaller than": "<",
    "lower than": "<", "below": "<", "under": "<", "==": "==", "=": "==", "equal to": "==",
    "equals": "==", "is": "==", "!=": "!=",
}  # fmt: skip
# Keyword -> kind of recipe, first match wins (read with the column names taken out).
_KEYWORDS: list[tuple[str, str]] = [
    (r"\brare\b|\bother\b", "rare"),
    (r"\b(month|year|weekday|day of week|dayofweek|date parts?)\b", "date_parts"),
    (r"\blog\b|log1p|logarithm", "log1p"),
    (r"frequen|count encod", "frequency"),
    (r"duplicat", "duplicates"),
    # "remove rows where size is greater than 4", "keep rows with price below 10": a row filter.
    (rf"\b(drop|remove|delete|exclude|keep|filter|only)\b.*\brows?\b.*{_COMPARE}\s*-?\d", "filter"),
    # "drop rows where X is missing" removes rows; it must not be read as "fill X".
    (r"\b(drop|remove|delete|exclude)\b.*\b(missing|empty|nan|null|blank)\b|dropna", "drop_missing"),
    (r"missing|impute|fill|nan\b|null", "impute"),
    (r"outlier|winsor|\bcap\b|clip", "outliers"),
    (r"spelling|standardi[sz]e|consistent|case|whitespace", "standardise"),
    (r"\b(to|as) (a )?(number|numeric|float)|currency|money", "numbers"),
    (r"\b(to|as) (a )?dates?\b|parse dates?|datetime", "dates"),
    (r"\b(drop|remove|delete)\b.*\bcolumns?\b|\bcolumns?\b.*\b(drop|remove|delete)\b", "drop"),
]
# With no column named, a kind maps onto the profile's own recipe of that kind.
_RECIPE_OF_KIND = {
    "rare": "feature.rare_to_other",
    "date_parts": "feature.date_parts",
    "log1p": "feature.log1p",
    "frequency": "feature.frequency_encode",
    "impute": "clean.impute",
    "outliers": "clean.cap_outliers",
    "standardise": "clean.standardise_categories",
    "numbers": "clean.parse_numbers",
    "dates": "clean.parse_dates",
}


def match_request(request: str, stage: str, profile: DatasetProfile, target: str | None) -> list[Recipe]:
    """Map a free-form request onto one recipe with the columns it names (keyword matching)."""
    names = [c.name for c in profile.columns]
    cols = [c for c in named_in(request, names) if c != target]
    # Keywords are read with the column names taken out: "log of year" is a log, not a date part.
    words = request
    for c in sorted(cols, key=len, reverse=True):
        words = re.sub(re.escape(str(c)), " ", words, flags=re.I)
    kinds = [kind for pattern, kind in _KEYWORDS if re.search(pattern, words, re.I)]
    if not kinds:
        return []
    kind = kinds[0]
    if kind == "duplicates":
        return [clean_recipes.drop_duplicates_recipe()]
    if kind == "filter":
        return row_filter(request, cols, profile)
    if not cols:
        pool = recipes_for("clean", profile, target) + recipes_for("feature", profile, target)
        return [r for r in pool if r.id == _RECIPE_OF_KIND.get(kind)][:1]
    if kind == "date_parts":
        m = re.search(r"\b(month|year|weekday|day of week|dayofweek)\b", request, re.I)
        if m and "part" not in request.lower():
            part = {"weekday": "dayofweek", "day of week": "dayofweek"}.get(
                m.group(1).lower(), m.group(1).lower()
            )
            return [single_date_part(cols, part)]
        return [column_recipe("feature.date_parts", cols)]
    share = re.search(r"(\d+(?:\.\d+)?)\s*%", request)
    builders = {
        "rare": lambda: feature_recipes.rare_recipe(cols, float(share.group(1)) / 100 if share else 0.01),
        "log1p": lambda: column_recipe("feature.log1p", cols),
        "frequency": lambda: feature_recipes.frequency_recipe(cols),
        "impute": lambda: impute_for(cols, profile),
        "drop_missing": lambda: clean_recipes.drop_missing_rows_recipe(cols),
        "outliers": lambda: column_recipe("clean.cap_outliers", cols),
        "standardise": lambda: column_recipe("clean.standardise_categories", cols),
        "numbers": lambda: column_recipe("clean.parse_numbers", cols),
        "dates": lambda: column_recipe("clean.parse_dates", cols),
        "drop": lambda: clean_recipes.drop_columns_recipe(
            "clean.drop_columns", "Drop columns", "requested by you.", cols
        ),
    }
    return [builders[kind]()]


def row_filter(request: str, cols: list[str], profile: DatasetProfile) -> list[Recipe]:
    """ "drop rows where size is greater than 4" -> the rows kept or dropped by one numeric test."""
    numeric = [c for c in cols if profile.column(c).semantic == "numeric"]
    if len(numeric) != 1:
        return []
    col = numeric[0]
    m = re.search(rf"{re.escape(col)}\W*(?:is\s+|are\s+)?{_COMPARE}\s*(-?\d+(?:\.\d+)?)", request, re.I)
    if not m:
        return []
    op, value = _OPS[m.group(1).lower()], m.group(2)
    keep = re.search(r"\b(keep|only|filter)\b", request, re.I) is not None
    test = f"(df[{col!r}] {op} {value})"
    what = "kept" if keep else "dropped"
    return [
        Recipe(
            "clean.filter_rows", "clean", "Filter rows",
            f"requested by you: rows where {col} {op} {value} are {what}.",
            {"column": col, "op": op, "value": value, "keep": keep},
            f"df = df[{test if keep else '~' + test}]", [col],
        )
    ]  # fmt: skip


def single_date_part(cols: list[str], part: str) -> Recipe:
    lines = [
        f"for col in {cols!r}:",
        '    when = pd.to_datetime(df[col], format="mixed", errors="coerce", utc=True)',
        f'    df[f"{{col}}_{part}"] = when.dt.{part}.astype("float64")',
    ]
    return Recipe(
        "feature.date_part",
        "feature",
        f"Add the {part} of a date",
        f"the {part} as its own column.",
        {"columns": cols, "part": part},
        "\n".join(lines),
        cols,
    )


def impute_for(cols: list[str], profile: DatasetProfile) -> Recipe:
    numeric, categorical = [], []
    for c in cols:
        col = profile.column(c)
        numeric_like = col.semantic in ("numeric", "money_text", "numeric_text", "boolean")
        (numeric if numeric_like else categorical).append(c)
    return clean_recipes.impute_recipe(numeric, categorical, [])


def plan_line(r: Recipe) -> str:
    """One step of the plan Gemma writes code for: "Fill missing values: age, city"."""
    cols = r.applies_to or r.params.get("columns") or []
    shown = ", ".join(map(str, cols[:6])) + (f" (+{len(cols) - 6} more)" if len(cols) > 6 else "")
    return f"{r.title}: {shown}" if shown else r.title


def rationale(recipes: list[Recipe]) -> str:
    active = [r for r in recipes if r.code.strip()] or recipes
    if not active:
        return "nothing to do: the profile shows no issue this stage fixes"
    # One line per recipe ("title: why"): pages show them as bullets, exports as a list, and
    # Step.purpose names the titles.
    return "\n".join(f"{r.title[:1].upper()}{r.title[1:]}: {r.rationale.rstrip('.')}." for r in active[:6])
