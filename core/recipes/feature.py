"""Feature-stage recipes derived from the profile of the cleaned data.

Date parts, log transforms of skewed non-negative amounts, frequency encoding of high-cardinality
categories and merging rare categories into "Other" (their text and code are data in
`steps.toml`). One-hot encoding of low-cardinality categories and scaling are left to the model
pipeline (fitted on the training split only), and ratio features are not guessed: which ratios
mean something is domain knowledge.
"""

from __future__ import annotations

from core.models import ColumnProfile, DatasetProfile
from core.recipes.base import Recipe
from core.recipes.clean import SKEW_LIMIT, is_text_dtype
from core.recipes.steps import column_recipe

# Categorical columns with more distinct values than this are frequency-encoded.
HIGH_CARDINALITY = 50
# Columns with at most this many values are one-hot encoded by the model pipeline.
LOW_CARDINALITY = 15
# A category rarer than this share of rows is merged into "Other".
RARE_SHARE = 0.01


def _names(cols: list[ColumnProfile]) -> list[str]:
    return [c.name for c in cols]


def _is_date(c: ColumnProfile) -> bool:
    return c.dtype.lower().startswith("datetime") or c.semantic == "date"


def _is_category(c: ColumnProfile) -> bool:
    return is_text_dtype(c.dtype) and c.semantic in ("category", "text", "boolean")


def frequency_recipe(columns: list[str]) -> Recipe:
    return column_recipe("feature.frequency_encode", columns, fill={"high_cardinality": HIGH_CARDINALITY})


def rare_recipe(columns: list[str], min_share: float = RARE_SHARE) -> Recipe:
    return column_recipe("feature.rare_to_other", columns, min_share=min_share)


def recipes_for_feature(profile: DatasetProfile, target: str | None) -> list[Recipe]:
    cols = [c for c in profile.columns if c.name != target]
    out: list[Recipe] = []
    dates = [c for c in cols if _is_date(c)]
    if dates:
        out.append(column_recipe("feature.date_parts", _names(dates)))
    skewed = [
        c for c in cols
        if c.semantic in ("numeric", "money_text", "numeric_text") and not is_text_dtype(c.dtype)
        and c.skew is not None and c.skew > SKEW_LIMIT and c.n_unique > 10
        and isinstance(c.min, (int, float)) and c.min >= 0
    ]  # fmt: skip
    if skewed:
        out.append(column_recipe("feature.log1p", _names(skewed)))
    cats = [c for c in cols if _is_category(c)]
    high = [c for c in cats if c.n_unique > HIGH_CARDINALITY]
    if high:
        out.append(frequency_recipe(_names(high)))
    mid = [
        c for c in cats
        if c not in high and (
            LOW_CARDINALITY < c.n_unique <= HIGH_CARDINALITY
            or (c.n_unique > 2 and _has_rare(c, profile.n_rows))
        )
    ]  # fmt: skip
    if mid:
        out.append(rare_recipe(_names(mid)))
    low = [c for c in cats if c.n_unique <= LOW_CARDINALITY and c not in mid]
    if low:
        out.append(
            Recipe(
                "feature.onehot_note",
                "feature",
                "One-hot encoding in the model pipeline",
                f"{', '.join(_names(low)[:8])}{' ...' if len(low) > 8 else ''} have few values; they are "
                "one-hot encoded inside the model pipeline, fitted on the training split only.",
                {"columns": _names(low)},
                "",
                _names(low),
            )
        )
    return out


def _has_rare(c: ColumnProfile, n_rows: int) -> bool:
    if not n_rows or not c.top_values:
        return False
    return any(count / n_rows < RARE_SHARE for _, count in c.top_values)
