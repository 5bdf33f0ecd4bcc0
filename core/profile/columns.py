"""One column at a time: numeric statistics in blocks, semantic guesses for text (dates, money,
numbers written as text, booleans), spelling variants, and duplicate rows.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from core import detect
from core.detect import THRESHOLDS
from core.models import ColumnProfile

# Rows above which the expensive parts use a random sample.
SAMPLE_ROWS = 100_000
SEED = 42
# Values inspected to guess a text column's meaning (date, money, number...).
_GUESS_VALUES = 2_000

_BOOL_SETS = [
    {"true", "false"},
    {"yes", "no"},
    {"y", "n"},
    {"t", "f"},
    {"0", "1"},
    {"1.0", "0.0"},
    {"on", "off"},
    {"si", "no"},
    {"oui", "non"},
    {"ja", "nein"},
]
_CURRENCY = r"[$€£¥₹₽₩]|\b(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|INR)\b"
_MONEY = re.compile(
    rf"^\(?\s*[-+]?\s*(?:{_CURRENCY})?\s*[-+]?\s*\d[\d.,' \u00a0]*\s*(?:{_CURRENCY})?\s*\)?$", re.I
)
_HAS_CURRENCY = re.compile(_CURRENCY, re.I)
# Numbers with thousands separators, a percent sign or a short unit ("12.8 °C", "3 kg").
_UNIT = r"(%|°\s?[CFK]?|[a-zA-Zµ/²³]{1,4}\.?)"
_NUMERIC_TEXT = re.compile(
    rf"^[-+]?\s*(\d{{1,3}}([,.' \u00a0]\d{{3}})+|\d+)([.,]\d+)?\s*{_UNIT}?$|^[-+]?[.,]\d+\s*{_UNIT}?$"
)
_DATE_LIKE = re.compile(
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$"
    r"|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?)?$"
    r"|^\d{1,2}[ -]?(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?[ ,-]*\d{2,4}$"
    r"|^(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}$"
    r"|^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(T?\d{4,6})?$",
    re.I,
)


def finite_float(x: Any) -> float | None:
    """A plain float or None (NaN/inf are not facts)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _short(v: Any, n: int = 60) -> str:
    s = str(v)
    return s if len(s) <= n else s[: n - 1] + "…"


# =========================================================================== columns
def is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def numeric_stats(df: pd.DataFrame, sample: pd.DataFrame, idx: list[int]) -> dict[int, dict[str, Any]]:
    """min/max/mean/std/quantiles/skew/IQR outliers per numeric column.

    Counts, min, max, mean and std use all rows (single vectorised reductions). Quantiles
    and skew come from `sample` (the whole frame when it is small): a partition of every
    row costs more than all the rest, and quartiles of 100k random rows are accurate to
    well under 1%. The IQR outlier count then uses those fences on all rows.
    """
    out: dict[int, dict[str, Any]] = {}
    for i in idx:
        v = df.iloc[:, i].to_numpy(dtype="float64", na_value=np.nan)
        fin = np.isfinite(v)
        c = int(fin.sum())
        if c == 0:
            out[i] = {"count": 0}
            continue
        vs = v if c == len(v) else v[fin]
        sv = vs if sample is df else sample.iloc[:, i].to_numpy(dtype="float64", na_value=np.nan)
        sv = sv[np.isfinite(sv)] if sv is not vs else sv
        if len(sv) == 0:
            sv = vs
        with np.errstate(all="ignore"):
            mean = float(vs.mean())
            var = float(vs.var(ddof=1)) if c > 1 else None
            q25, q50, q75 = np.quantile(sv, [0.25, 0.5, 0.75])
            iqr = q75 - q25
            outliers = int(np.count_nonzero((vs < q25 - 1.5 * iqr) | (vs > q75 + 1.5 * iqr)))
            d = sv - sv.mean()
            k = len(sv)
            m2 = float(np.dot(d, d)) / k
            m3 = float(np.dot(d * d, d)) / k
            # Adjusted Fisher-Pearson skewness, as pandas' Series.skew reports it.
            skew = m3 / m2**1.5 * math.sqrt(k * (k - 1)) / (k - 2) if k > 2 and m2 > 0 else None
        out[i] = {
            "count": c,
            "min": finite_float(vs.min()),
            "max": finite_float(vs.max()),
            "mean": finite_float(mean),
            "std": finite_float(math.sqrt(var)) if var is not None and var >= 0 else None,
            "quantiles": {"q25": float(q25), "q50": float(q50), "q75": float(q75)},
            "skew": finite_float(skew) if skew is not None else None,
            "n_outliers": outliers,
            "integer": bool(np.all(np.mod(sv[:10_000], 1) == 0)),
        }
    return out


def numeric_block_profiles(
    df: pd.DataFrame,
    sample: pd.DataFrame,
    idx: list[int],
    stats: dict[int, dict[str, Any]],
    missing: np.ndarray,
    names: list[str],
) -> dict[int, ColumnProfile]:
    """Column profiles for many numeric columns at once: distinct counts from a sorted block."""
    out: dict[int, ColumnProfile] = {}
    n = len(df)
    sampled = sample is not df
    for start in range(0, len(idx), 100):
        part = [i for i in idx[start : start + 100] if stats.get(i, {}).get("count")]
        if not part:
            continue
        block = np.sort(
            sample.iloc[:, part].to_numpy(dtype="float64", na_value=np.nan), axis=0
        )  # NaN sort last
        finite = ~np.isnan(block)
        changes = (np.diff(block, axis=0) != 0) & finite[1:]
        n_unique_arr = changes.sum(axis=0) + finite[:1].astype(int)[0]
        n_unique_arr = np.where(finite.any(axis=0), np.maximum(n_unique_arr, 1), 0)
        head = sample.iloc[:5, part].to_numpy(dtype="float64", na_value=np.nan)
        for k, i in enumerate(part):
            st = stats[i]
            nu = int(n_unique_arr[k])
            cp = ColumnProfile(
                name=names[i],
                dtype=str(df.dtypes.iloc[i]),
                semantic="numeric",
                n_missing=int(missing[i]),
                missing_share=float(missing[i]) / n if n else 0.0,
                n_unique=nu,
                sample_values=[f"{v:g}" for v in head[:, k] if np.isfinite(v)],
                min=st["min"],
                max=st["max"],
                mean=st["mean"],
                std=st["std"],
                quantiles=st["quantiles"],
                skew=st["skew"],
                n_outliers=st["n_outliers"],
            )
            if nu <= 20:
                vals, cnts = np.unique(block[:, k][finite[:, k]], return_counts=True)
                order = np.argsort(-cnts)[:5]
                cp.top_values = [(f"{vals[j]:g}", int(cnts[j])) for j in order]
            if cp.min == cp.max:
                cp.semantic = "constant"
            elif nu == 2 and cp.min == 0 and cp.max == 1:
                cp.semantic = "boolean"
            elif nu / max(1, len(block)) >= THRESHOLDS.id_named_unique_share and detect.identifier(
                sample.iloc[:, i], names[i], n_unique=nu
            ):
                cp.semantic = "id"
            if cp.semantic != "numeric" or nu <= THRESHOLDS.outlier_min_unique:
                cp.n_outliers = None  # IQR fences mean nothing for flags and small counts
            if sampled:
                cp.notes.append(f"unique count measured on a {len(sample):,}-row sample")
            out[i] = cp
    return out


def text_numbers(values: pd.Series) -> pd.Series:
    """Parse money/number text ('$1,234.50', '(12)', '1.234,5 €', '12%') to floats; NaN where not."""
    s = values.astype(str).str.strip()
    neg = s.str.startswith("(") & s.str.endswith(")")
    s = s.str.replace(_CURRENCY, "", regex=True, flags=re.I).str.replace(rf"\s*{_UNIT}$", "", regex=True)
    s = s.str.replace(r"[()\s\u00a0'+]", "", regex=True)
    # Decide the decimal mark per value: the last of '.'/',' is the decimal one when
    # followed by 1-2 digits or when both occur; a lone separator with 3 digits after is thousands.
    both = s.str.contains(",") & s.str.contains(r"\.")
    last_comma = s.str.rfind(",") > s.str.rfind(".")
    comma_dec = (both & last_comma) | (~both & s.str.contains(r",\d{1,2}$"))
    s = s.where(~comma_dec, s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    s = s.where(comma_dec, s.str.replace(",", "", regex=False))
    lone_dot_thousands = ~both & s.str.fullmatch(r"-?\d{1,3}(\.\d{3}){2,}")
    s = s.where(~lone_dot_thousands, s.str.replace(".", "", regex=False))
    out = pd.to_numeric(s, errors="coerce")
    return out.where(~neg, -out)


def _norm_key(v: str) -> str:
    v = unicodedata.normalize("NFKD", v).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", v.lower()).strip()


def _spelling_variants(vc: pd.Series) -> list[str]:
    """Groups of values that differ only by case, spaces, accents or punctuation."""
    if len(vc) < 2:
        return []
    keys = pd.Series([_norm_key(str(v)) for v in vc.index], index=vc.index)
    groups = keys.groupby(keys).groups
    notes = []
    for key, members in groups.items():
        if key and len(members) > 1:
            ordered = sorted(members, key=lambda m: -int(vc[m]))
            shown = ", ".join(repr(str(m)) for m in ordered[:4])
            notes.append(
                (int(vc[list(members)].sum()), f"{len(members)} spellings of {ordered[0]!r}: {shown}")
            )
    notes.sort(key=lambda t: -t[0])
    out = [t for _, t in notes[:5]]
    if len(notes) > 5:
        out.append(f"{len(notes) - 5} more groups of spelling variants")
    return out


def profile_column(
    name: str,
    col: pd.Series,
    scol: pd.Series,
    n_missing: int,
    n: int,
    stats: dict[str, Any] | None,
    sampled: bool,
) -> tuple[ColumnProfile, pd.Series | None]:
    notes: list[str] = []
    parsed: pd.Series | None = None
    dtype = str(col.dtype)
    nonnull_n = n - n_missing
    base = {
        "name": name,
        "dtype": dtype,
        "n_missing": n_missing,
        "missing_share": (n_missing / n) if n else 0.0,
    }
    if nonnull_n == 0:
        return ColumnProfile(**base, semantic="empty", n_unique=0, notes=["all values are missing"]), None
    # Distinct counts hash every value: on a sampled table they are measured on the sample.
    exact_unique = not sampled
    s_nn = scol.dropna()  # one missing-value pass per column; everything below reuses it
    try:
        if stats is None:
            # Text/bool/date: the value counts give the distinct count for free.
            vc = s_nn.value_counts(dropna=False)
            vc = vc[vc > 0]  # categoricals list unused categories with a zero count
            n_unique = len(vc)
        else:
            # Top values of a continuous column are rarely informative: count them on fewer rows.
            vc = s_nn.head(50_000).value_counts(dropna=False)
            n_unique = int(col.nunique(dropna=True)) if exact_unique else int(s_nn.nunique(dropna=False))
    except TypeError:  # unhashable values (lists, dicts from JSON)
        col = col.astype(str).where(col.notna())
        scol = scol.astype(str).where(scol.notna())
        s_nn = scol.dropna()
        vc = s_nn.value_counts(dropna=False)
        n_unique = len(vc)
        notes.append("values are lists or objects (nested JSON); profiled as text")
    if not exact_unique:
        notes.append(f"unique count measured on a {len(scol):,}-row sample")
    top = [(_short(k), int(v)) for k, v in vc.head(5).items()]
    try:
        samples = [_short(v) for v in pd.unique(s_nn.head(500).to_numpy())[:5]]
    except TypeError:  # unhashable cells that value_counts tolerated
        samples = [_short(v) for v in pd.unique(s_nn.head(500).astype(str).to_numpy())[:5]]
    sample_nonnull = len(s_nn)
    unique_ratio = n_unique / max(1, (nonnull_n if exact_unique else sample_nonnull))
    cp = ColumnProfile(**base, semantic="category", n_unique=n_unique, top_values=top, sample_values=samples)

    if pd.api.types.is_bool_dtype(col):
        cp.semantic = "boolean" if n_unique > 1 else "constant"
        cp.mean = finite_float(col.mean())
        return cp, col.astype(float)

    if pd.api.types.is_datetime64_any_dtype(col):
        cp.semantic = "date" if n_unique > 1 else "constant"
        cp.min, cp.max = str(col.min()), str(col.max())
        return cp, None

    if pd.api.types.is_timedelta64_dtype(col):
        cp.semantic = "numeric" if n_unique > 1 else "constant"
        cp.min, cp.max = str(col.min()), str(col.max())
        return cp, None

    if stats is not None:  # numeric dtype
        cp.min, cp.max, cp.mean, cp.std = (
            stats.get("min"),
            stats.get("max"),
            stats.get("mean"),
            stats.get("std"),
        )
        cp.quantiles, cp.skew, cp.n_outliers = (
            stats.get("quantiles", {}),
            stats.get("skew"),
            stats.get("n_outliers"),
        )
        if cp.min == cp.max:
            cp.semantic = "constant"
        elif n_unique == 2 and cp.min == 0 and cp.max == 1:
            cp.semantic = "boolean"
        elif unique_ratio >= THRESHOLDS.id_named_unique_share and detect.identifier(
            scol, name, n_unique=n_unique if not exact_unique else int(s_nn.nunique())
        ):
            cp.semantic = "id"
        else:
            cp.semantic = "numeric"
        if cp.semantic != "numeric" or n_unique <= THRESHOLDS.outlier_min_unique:
            cp.n_outliers = None  # IQR fences mean nothing for 0/1 flags and small counts
        if cp.n_outliers and cp.semantic == "numeric":
            share = cp.n_outliers / max(1, nonnull_n)
            if share >= 0.01:
                notes.append(f"{cp.n_outliers} outliers by the IQR rule ({share:.1%})")
        if n_missing / max(1, n) >= 0.5:
            notes.append(f"{n_missing / n:.0%} missing")
        cp.notes = notes
        return cp, None

    # ---- text (object / string / category)
    s = s_nn
    # Work on distinct values weighted by their counts: far cheaper than per-row string ops.
    uniq = pd.Series(vc.index.astype(str), dtype=object)
    counts = vc.to_numpy()
    stripped = uniq.str.strip()
    guess = stripped.head(_GUESS_VALUES)
    guess = guess[guess != ""]
    lower = set(stripped.str.lower()) if len(uniq) <= 6 else set()
    lower.discard("")
    blank = int(counts[(stripped == "").to_numpy()].sum())
    if blank:
        notes.append(f"{blank} blank strings{' in the sample' if sampled else ''} (not counted as missing)")
    spaced = int(counts[((uniq != stripped) & (stripped != "")).to_numpy()].sum())
    if spaced:
        notes.append(f"{spaced} values with leading/trailing spaces{' in the sample' if sampled else ''}")
    if len(guess) == 0:
        cp.semantic = "empty"
    elif n_unique == 1:
        cp.semantic = "constant"
    elif len(lower) == 2 and any(lower <= b for b in _BOOL_SETS):
        cp.semantic = "boolean"
    elif (
        (ident := detect.identifier(s, name, n_unique=len(vc))) is not None
        and ident.rule == "key"
        and (detect.id_name(name))
    ):
        cp.semantic = "id"  # "00123" codes are identifiers even when they look like numbers
    elif guess.str.match(_DATE_LIKE).mean() >= 0.8:
        cp.semantic = "date"
        # utc=True: dates with different offsets (a DST change, several zones) parse as one
        # tz-aware series instead of an object column (deprecated, an error in pandas 3).
        dates = pd.to_datetime(guess, errors="coerce", format="mixed", utc=True)
        if dates.notna().any():
            cp.min, cp.max = str(dates.min().date()), str(dates.max().date())
        by_shape: dict[str, str] = {}
        for v in guess.head(500):
            by_shape.setdefault(_date_shape(v), v)
        if len(by_shape) > 1:
            examples = " | ".join(list(by_shape.values())[:4])
            notes.append(f"mixed date formats ({len(by_shape)}), e.g. {examples}")
    elif guess.str.match(_MONEY).mean() >= 0.8 and guess.str.contains(_HAS_CURRENCY).mean() >= 0.3:
        cp.semantic = "money_text"
        parsed = text_numbers(s)
        notes.append("numbers stored as text with currency signs; parse before use")
    elif guess.str.match(_NUMERIC_TEXT).mean() >= 0.8:
        cp.semantic = "numeric_text"
        parsed = text_numbers(s)
        bad = int(parsed.isna().sum())
        notes.append("numbers stored as text" + (f"; {bad} values do not parse" if bad else ""))
    else:
        lengths = guess.str.len()
        mean_len = float(lengths.mean())
        spaces = float(guess.str.count(" ").mean())
        if ident is not None:  # the one detector: keys and codes are "id", free text is "text"
            cp.semantic = "text" if ident.rule == "free_text" else "id"
        elif unique_ratio > 0.5 and (mean_len > 30 or spaces >= 3):
            cp.semantic = "text"
        elif n_unique > max(50, 0.2 * sample_nonnull) and mean_len > 20:
            cp.semantic = "text"
        else:
            cp.semantic = "category"
        if cp.semantic == "category":
            notes += _spelling_variants(vc.head(5000))
        mixed = guess.str.match(_NUMERIC_TEXT).mean()
        if 0.2 <= mixed < 0.8:
            notes.append(f"mixed types: {mixed:.0%} of distinct values look like numbers")
    if parsed is not None:
        cp.min, cp.max, cp.mean = (
            finite_float(parsed.min()),
            finite_float(parsed.max()),
            finite_float(parsed.mean()),
        )
        cp.std = finite_float(parsed.std())
        q = parsed.quantile([0.25, 0.5, 0.75])
        cp.quantiles = {
            k: v for k, v in zip(("q25", "q50", "q75"), map(finite_float, q), strict=True) if v is not None
        }
    elif cp.semantic in ("category", "text", "id", "boolean", "constant") and cp.min is None:
        try:
            cp.min, cp.max = _short(uniq.min()), _short(uniq.max())
        except TypeError:
            pass
    if n_missing / max(1, n) >= 0.5:
        notes.append(f"{n_missing / n:.0%} missing")
    cp.notes = notes
    return cp, parsed


def _date_shape(v: str) -> str:
    """'2021-03-01' -> 'dddd-dd-dd'; 'Mar 1, 2021' -> 'aaa d, dddd': to count date formats."""
    return re.sub(r"\d", "d", re.sub(r"[a-zA-Z]+", "a", v.strip()))


def _hash_rows(df: pd.DataFrame) -> pd.Series:
    try:
        return pd.util.hash_pandas_object(df, index=False)
    except TypeError:  # unhashable cells (lists from JSON)
        return pd.util.hash_pandas_object(df.astype(str), index=False)


def duplicate_rows(df: pd.DataFrame, columns: list[ColumnProfile] | None = None) -> int:
    """Exact count of rows that repeat an earlier row.

    Hashing every column of a large table is the slow part, so rows are first hashed on
    the two numeric/date columns with the most distinct values: rows unique there cannot
    be full duplicates, and only the (usually few) remaining candidates are hashed whole.
    """
    if df.shape[1] == 0 or len(df) < 2:
        return 0
    if len(df) > 50_000 and df.shape[1] > 2:
        cheap = [
            i
            for i in range(df.shape[1])
            if pd.api.types.is_numeric_dtype(df.dtypes.iloc[i])
            or pd.api.types.is_datetime64_any_dtype(df.dtypes.iloc[i])
        ]
        if columns is not None:
            cheap.sort(key=lambda i: -columns[i].n_unique)
        if cheap:
            cand = _hash_rows(df.iloc[:, cheap[:2]]).duplicated(keep=False).to_numpy()
            if not cand.any():
                return 0
            if cand.mean() < 0.5:
                df = df[cand]
    return int(_hash_rows(df).duplicated().sum())
