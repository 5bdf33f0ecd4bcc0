"""Clean-stage recipes derived from the profile: types, spelling, duplicates, missing values, outliers.

Which recipes apply is decided here; the per-column steps themselves (text and code) are data in
`steps.toml`, built by `core.recipes.steps.column_recipe`. Every recipe's code is guarded at run
time (a conversion only replaces a column when most values survive it), because the profile may
come from a sample and the code is later re-run on the full data. Column names are always written
with `repr`, so any name in the wild (spaces, quotes, unicode) renders to valid code. The target is
never dropped or imputed.
"""

from __future__ import annotations

import re
from dataclasses import replace

from core.models import ColumnProfile, DatasetProfile
from core.recipes.base import Recipe
from core.recipes.steps import column_recipe, column_steps

# Strings that mean "no value" in files from the wild (compared stripped and case-folded).
MISSING_MARKERS = ("", "na", "n/a", "nan", "none", "null", "missing", "?", "-", "--", "#n/a", "nil")
BOOL_TRUE = ("yes", "y", "true", "t", "1", "1.0")
BOOL_FALSE = ("no", "n", "false", "f", "0", "0.0")
# A missing-value indicator is added when at least this share of a column is missing.
INDICATOR_SHARE = 0.05
# Skew above which a numeric column's outliers are capped.
SKEW_LIMIT = 1.0


def cap_fences(c: ColumnProfile, k: float | None = None) -> tuple[float, float] | None:
    """The fences the cap recipe clips `c` at (Tukey's far-out k x IQR; k: the step's own), from
    the profile's quartiles; None when the profile has none."""
    q = c.quantiles
    if "q25" not in q or "q75" not in q:
        return None
    if k is None:
        k = float(column_steps()["clean.cap_outliers"].params.get("k", 3.0))
    iqr = q["q75"] - q["q25"]
    return q["q25"] - k * iqr, q["q75"] + k * iqr


def _beyond_cap(c: ColumnProfile) -> bool:
    """A value lies beyond the cap recipe's fences: the IQR rule's outliers (1.5 x IQR) alone would
    propose a step that changes nothing. Unknown quartiles or range: kept (the recipe then decides
    on the data)."""
    fences, lo, hi = cap_fences(c), c.min, c.max
    if fences is None or not isinstance(lo, int | float) or not isinstance(hi, int | float):
        return True
    return lo < fences[0] or hi > fences[1]


def is_text_dtype(dtype: str) -> bool:
    d = dtype.lower()
    return d in ("object", "str", "string", "category") or d.startswith("string")


def _names(cols: list[ColumnProfile]) -> list[str]:
    return [c.name for c in cols]


def _norm(value: str) -> str:
    return re.sub(r"\s+", " ", str(value).strip()).casefold()


def has_missing_markers(col: ColumnProfile) -> bool:
    if not is_text_dtype(col.dtype):
        return False
    values = [v for v, _ in col.top_values] + list(col.sample_values)
    return any(str(v).strip().casefold() in MISSING_MARKERS for v in values)


def has_spelling_variants(col: ColumnProfile) -> bool:
    """Evidence in the profile that a category is spelled several ways."""
    if not is_text_dtype(col.dtype) or col.semantic not in ("category", "text", "boolean"):
        return False
    values = [str(v) for v, _ in col.top_values]
    keys = [_norm(v) for v in values if _norm(v) not in MISSING_MARKERS]
    if len(set(keys)) < len(keys):
        return True
    if any(v != v.strip() or "  " in v for v in values):
        return True
    return any(re.search(r"spelling|variant|whitespace|case", n, re.I) for n in col.notes)


def drop_duplicates_recipe(n_duplicates: int | None = None) -> Recipe:
    why = f"{n_duplicates} rows repeat another row exactly" if n_duplicates else "repeated rows"
    return Recipe(
        "clean.drop_duplicates",
        "clean",
        "Drop exact duplicate rows",
        f"{why} and would be counted twice.",
        {},
        "df = df.drop_duplicates().reset_index(drop=True)",
    )


def drop_columns_recipe(rid: str, title: str, why: str, columns: list[str]) -> Recipe:
    return Recipe(
        rid,
        "clean",
        title,
        why,
        {"columns": columns},
        f'df = df.drop(columns={columns!r}, errors="ignore")',
        columns,
    )


def drop_missing_rows_recipe(columns: list[str]) -> Recipe:
    # The same recipe as dropping columns, but the code removes the rows without a value instead.
    rows = drop_columns_recipe(
        "clean.drop_missing_rows",
        "Drop rows with a missing value",
        "requested by you: rows without a value in these columns are removed.",
        columns,
    )
    return replace(rows, code=f"df = df.dropna(subset={columns!r})")


def missing_markers_recipe(columns: list[str]) -> Recipe:
    return column_recipe("clean.missing_markers", columns, markers=list(MISSING_MARKERS))


def parse_booleans_recipe(columns: list[str]) -> Recipe:
    truth = {**dict.fromkeys(BOOL_TRUE, 1.0), **dict.fromkeys(BOOL_FALSE, 0.0)}
    return column_recipe("clean.parse_booleans", columns, fill={"truth": truth})


def drop_missing_target_recipe(target: str) -> Recipe:
    return Recipe(
        "clean.drop_missing_target",
        "clean",
        "Drop rows without a target",
        f"{target!r} is what the model learns; rows where it is missing cannot be used for training.",
        {"target": target},
        f"df = df.dropna(subset=[{target!r}]).reset_index(drop=True)",
        [target],
    )


def impute_recipe(numeric: list[str], categorical: list[str], indicators: list[str]) -> Recipe:
    lines = []
    if indicators:
        lines += [
            "# Keep 'was missing' as a signal before filling the gaps.",
            f"for col in {indicators!r}:",
            '    df[f"{col}_was_missing"] = df[col].isna().astype("int64")',
        ]
    if numeric:
        lines += [
            f"for col in {numeric!r}:",
            "    if pd.api.types.is_numeric_dtype(df[col]):",
            "        df[col] = df[col].fillna(df[col].median())",
        ]
    if categorical:
        lines += [
            f"for col in {categorical!r}:",
            "    mode = df[col].mode(dropna=True)",
            "    if not mode.empty:",
            "        df[col] = df[col].fillna(mode.iloc[0])",
        ]
    why = "median for numbers (robust to outliers), most frequent value for categories"
    why += f"; indicator columns where at least {INDICATOR_SHARE:.0%} is missing." if indicators else "."
    return Recipe(
        "clean.impute",
        "clean",
        "Fill missing values",
        why,
        {"numeric": numeric, "categorical": categorical, "indicators": indicators},
        "\n".join(lines),
        numeric + categorical,
    )


def recipes_for_clean(profile: DatasetProfile, target: str | None) -> list[Recipe]:
    cols = list(profile.columns)
    not_target = [c for c in cols if c.name != target]
    out: list[Recipe] = []
    if profile.n_duplicate_rows > 0:
        out.append(drop_duplicates_recipe(profile.n_duplicate_rows))
    empty = [c for c in not_target if c.semantic == "empty" or (profile.n_rows and c.missing_share >= 1.0)]
    if empty:
        out.append(
            drop_columns_recipe(
                "clean.drop_empty",
                "Drop empty columns",
                "these columns hold no values at all.",
                _names(empty),
            )
        )
    constant = [c for c in not_target if c.semantic == "constant" and c not in empty]
    if constant:
        out.append(
            drop_columns_recipe(
                "clean.drop_constant",
                "Drop constant columns",
                "a column with one value carries no information for a model.",
                _names(constant),
            )
        )
    ids = [c for c in not_target if c.semantic == "id"]
    if ids:
        out.append(
            drop_columns_recipe(
                "clean.drop_ids",
                "Drop ID columns",
                "identifiers are unique per row: a model would memorise them instead of learning.",
                _names(ids),
            )
        )
    dropped = {c.name for c in empty + constant + ids}
    live = [c for c in cols if c.name not in dropped]

    markers = [c for c in live if has_missing_markers(c) and c.semantic != "boolean"]
    if markers:
        out.append(missing_markers_recipe(_names(markers)))
    numeric_text = [
        c for c in live if c.semantic in ("money_text", "numeric_text") and is_text_dtype(c.dtype)
    ]
    if numeric_text:
        out.append(column_recipe("clean.parse_numbers", _names(numeric_text)))
    dates = [c for c in live if c.semantic == "date" and is_text_dtype(c.dtype)]
    if dates:
        out.append(column_recipe("clean.parse_dates", _names(dates)))
    # The target keeps its labels ("yes"/"no" read better in the report than 1/0).
    bools = [c for c in live if c.semantic == "boolean" and is_text_dtype(c.dtype) and c.name != target]
    if bools:
        out.append(parse_booleans_recipe(_names(bools)))
    spelled = [c for c in live if has_spelling_variants(c) and c not in bools]
    if spelled:
        out.append(column_recipe("clean.standardise_categories", _names(spelled)))
    if target and any(c.name == target and c.n_missing > 0 for c in cols):
        out.append(drop_missing_target_recipe(target))

    # Columns whose type this step converts count as numeric for imputation.
    became_numeric = {c.name for c in numeric_text + bools}
    miss = [c for c in live if c.name != target and c.n_missing > 0 and c.semantic not in ("date", "text")]
    num_miss = [c for c in miss if c.semantic == "numeric" or c.name in became_numeric]
    cat_miss = [c for c in miss if c not in num_miss and c.semantic == "category"]
    flagged = [c for c in num_miss + cat_miss if c.missing_share >= INDICATOR_SHARE]
    if num_miss or cat_miss:
        out.append(impute_recipe(_names(num_miss), _names(cat_miss), _names(flagged)))

    skewed = [
        c for c in live
        if c.name != target and c.semantic == "numeric" and c.skew is not None and abs(c.skew) > SKEW_LIMIT
        and (c.n_outliers or 0) > 0 and c.n_unique > 10 and _beyond_cap(c)
    ]  # fmt: skip
    if skewed:
        out.append(column_recipe("clean.cap_outliers", _names(skewed)))
    return out
