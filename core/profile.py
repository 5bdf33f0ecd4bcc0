"""The fast profile: the one source of facts about a table (no LLM).

Everything is vectorised per column type. Above `SAMPLE_ROWS` rows the expensive parts
(text value counts and semantic guesses, correlations, spelling variants, leakage
checks) run on a seeded random sample, and the profile says so in `notes`; counts
that are cheap on the full table (rows, missing cells, duplicates, numeric statistics)
always use all rows.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import detect
from core.detect import THRESHOLDS
from core.models import ColumnProfile, DatasetProfile

# Rows above which the expensive parts use a random sample.
SAMPLE_ROWS = 100_000
SEED = 42
# Values inspected to guess a text column's meaning (date, money, number...).
_GUESS_VALUES = 2_000
# Correlations are computed on at most this many numeric columns (highest variance first).
_MAX_CORR_COLS = 2_000
# Rows x columns² budget for one correlation matrix (a BLAS product): wide tables use fewer rows.
_CORR_FLOPS = 4e9
HIGH_CORR = 0.9
_TARGET_STRONG = re.compile(
    r"^(target|label|labels|class|y|outcome|response)$|(^|_)(target|label)($|_)", re.I
)
_TARGET_WEAK = re.compile(
    r"(^|[_\s])(churn|churned|price|default|survived|fraud|diagnosis|species|result|status|grade|quality|"
    r"salary|income|sales|revenue|cost|charges|amount|score|rating|approved|converted|clicked|attrition|"
    r"tip|mpg|demand|yield|survival|won|win|passed|is_\w+|has_\w+)($|[_\s])",
    re.I,
)
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


def _f(x: Any) -> float | None:
    """A plain float or None (NaN/inf are not facts)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _short(v: Any, n: int = 60) -> str:
    s = str(v)
    return s if len(s) <= n else s[: n - 1] + "…"


# =========================================================================== public API
def profile_dataframe(
    df: pd.DataFrame,
    target: str | None = None,
    *,
    sample_rows: int = SAMPLE_ROWS,
    n_rows_total: int | None = None,
) -> DatasetProfile:
    """Profile `df`. `n_rows_total`: rows in the full file when `df` is itself a sample."""
    n = len(df)
    notes: list[str] = []
    # Columns must be addressable by position: names may be duplicated or non-strings.
    names = [str(c) for c in df.columns]
    sample = df if n <= sample_rows else df.sample(sample_rows, random_state=SEED)
    if n > sample_rows:
        notes.append(
            "Value counts, unique counts, quantiles and skew, type "
            "guesses, correlations and leakage checks were "
            f"computed on a random sample of {sample_rows:,} of {n:,} rows (seed {SEED})."
        )

    missing = df.isna().sum().to_numpy()
    numeric_idx = [i for i in range(df.shape[1]) if _is_numeric(df.iloc[:, i])]
    num_stats = _numeric_stats(df, sample, numeric_idx)

    columns: list[ColumnProfile] = []
    # Wide tables: numeric columns are profiled as numpy blocks (pandas' per-column
    # overhead, ~3 ms, would dominate with 2,000 columns).
    fast = (
        _numeric_block_profiles(df, sample, numeric_idx, num_stats, missing, names)
        if len(numeric_idx) > 100
        else {}
    )
    for i, name in enumerate(names):
        if i in fast:
            columns.append(fast[i])
            continue
        col = df.iloc[:, i]
        scol = sample.iloc[:, i]
        cp, _parsed = _profile_column(
            name, col, scol, int(missing[i]), n, num_stats.get(i), sampled=n > sample_rows
        )
        columns.append(cp)

    n_dup = _duplicate_rows(df, columns)
    mem = float(df.memory_usage(deep=n <= sample_rows).sum()) / 1e6
    if n > sample_rows:
        # deep=True walks every Python string; estimate text memory from the sample.
        obj = [i for i in range(df.shape[1]) if pd.api.types.is_object_dtype(df.dtypes.iloc[i])]
        if obj:
            head = sample.iloc[:10_000, obj]  # the sample is random: 10k rows estimate bytes/row well
            per_row = float(head.memory_usage(deep=True, index=False).sum()) / max(1, len(head))
            shallow = float(df.iloc[:, obj].memory_usage(deep=False, index=False).sum())
            mem += (per_row * n - shallow) / 1e6

    high = _high_correlations(sample, columns, notes)
    profile = DatasetProfile(
        n_rows=n,
        n_cols=df.shape[1],
        n_duplicate_rows=n_dup,
        memory_mb=round(mem, 3),
        columns=columns,
        high_correlations=high,
        sampled_from=n_rows_total if n_rows_total is not None and n_rows_total > n else None,
        notes=notes,
    )
    if n_rows_total is not None and n_rows_total > n:
        notes.append(f"Profiled on a sample of {n:,} rows of {n_rows_total:,} in the file.")
    profile.target_candidates = target_candidates(profile)
    if target is not None and target in names:
        # Leaks are strong signals: 50k rows are plenty and keep wide tables fast.
        leak_sample = sample if len(sample) <= 50_000 else sample.sample(50_000, random_state=SEED)
        profile.leakage = find_leakage(leak_sample, profile, target)
    return profile


# =========================================================================== columns
def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _numeric_stats(df: pd.DataFrame, sample: pd.DataFrame, idx: list[int]) -> dict[int, dict[str, Any]]:
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
            "min": _f(vs.min()),
            "max": _f(vs.max()),
            "mean": _f(mean),
            "std": _f(math.sqrt(var)) if var is not None and var >= 0 else None,
            "quantiles": {"q25": float(q25), "q50": float(q50), "q75": float(q75)},
            "skew": _f(skew) if skew is not None else None,
            "n_outliers": outliers,
            "integer": bool(np.all(np.mod(sv[:10_000], 1) == 0)),
        }
    return out


def _numeric_block_profiles(
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


def _text_numbers(values: pd.Series) -> pd.Series:
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


def _profile_column(
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
        cp.mean = _f(col.mean())
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
    elif (ident := detect.identifier(s, name, n_unique=len(vc))) is not None and ident.rule == "key" and (
        detect.id_name(name)
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
        parsed = _text_numbers(s)
        notes.append("numbers stored as text with currency signs; parse before use")
    elif guess.str.match(_NUMERIC_TEXT).mean() >= 0.8:
        cp.semantic = "numeric_text"
        parsed = _text_numbers(s)
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
        cp.min, cp.max, cp.mean = _f(parsed.min()), _f(parsed.max()), _f(parsed.mean())
        cp.std = _f(parsed.std())
        q = parsed.quantile([0.25, 0.5, 0.75])
        cp.quantiles = {k: v for k, v in zip(("q25", "q50", "q75"), map(_f, q), strict=True) if v is not None}
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


def _duplicate_rows(df: pd.DataFrame, columns: list[ColumnProfile] | None = None) -> int:
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


# =========================================================================== correlations
def _numeric_matrix(
    df: pd.DataFrame, columns: list[ColumnProfile], include_text_numbers: bool = False
) -> pd.DataFrame:
    cols: dict[str, pd.Series] = {}
    for i, cp in enumerate(columns):
        s = df.iloc[:, i]
        if cp.semantic in ("numeric", "boolean") and _is_numeric(s):
            cols[cp.name] = s.astype("float64")
        elif cp.semantic == "boolean" and pd.api.types.is_bool_dtype(s):
            cols[cp.name] = s.astype("float64")
        elif include_text_numbers and cp.semantic in ("money_text", "numeric_text"):
            cols[cp.name] = _text_numbers(s)
    return pd.DataFrame(cols, index=df.index)


def _corr(m: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlation with mean-imputed gaps (one BLAS call instead of pairwise loops)."""
    x = m.to_numpy(dtype="float64")
    with np.errstate(all="ignore"):
        mean = np.nanmean(x, axis=0)
        x = np.where(np.isnan(x), mean, x) - mean
        norm = np.sqrt((x**2).sum(axis=0))
        c = (x.T @ x) / np.outer(norm, norm)
    return pd.DataFrame(c, index=m.columns, columns=m.columns)


def _high_correlations(
    sample: pd.DataFrame, columns: list[ColumnProfile], notes: list[str]
) -> list[tuple[str, str, float]]:
    m = _numeric_matrix(sample, columns)
    m = m.loc[:, ~m.columns.duplicated()]
    if m.shape[1] < 2:
        return []
    var = m.var()
    m = m.loc[:, var > 0]
    if m.shape[1] > _MAX_CORR_COLS:
        keep = m.var().sort_values(ascending=False).index[:_MAX_CORR_COLS]
        notes.append(
            f"Correlations computed on the {_MAX_CORR_COLS} numeric columns with the largest variance."
        )
        m = m[keep]
    rows = int(min(len(m), max(1_000, _CORR_FLOPS / m.shape[1] ** 2)))
    if rows < len(m):
        m = m.iloc[:rows]  # the sample is already random: its head is a random subset
        notes.append(f"Correlations between the {m.shape[1]:,} numeric columns use {rows:,} random rows.")
    c = _corr(m).to_numpy()
    iu = np.triu_indices_from(c, k=1)
    vals = c[iu]
    hit = np.where(np.abs(vals) >= HIGH_CORR)[0]
    pairs = [(str(m.columns[iu[0][h]]), str(m.columns[iu[1][h]]), round(float(vals[h]), 4)) for h in hit]
    pairs.sort(key=lambda t: -abs(t[2]))
    return pairs[:100]


def correlation_matrix(df: pd.DataFrame, profile: DatasetProfile, top_k: int = 30) -> pd.DataFrame:
    """Correlations of the `top_k` numeric columns with the largest variance (for the heatmap)."""
    sample = df if len(df) <= SAMPLE_ROWS else df.sample(SAMPLE_ROWS, random_state=SEED)
    m = _numeric_matrix(sample, profile.columns)
    m = m.loc[:, ~m.columns.duplicated()]
    var = m.var()
    m = m.loc[:, var > 0]
    if m.shape[1] > top_k:
        # Scale-free ranking: coefficient of variation would explode near zero means; use std of ranks.
        keep = m.rank(pct=True).std().sort_values(ascending=False).index[:top_k]
        keep = [c for c in m.columns if c in set(keep)]
        m = m[keep]
    return _corr(m).round(3) if m.shape[1] else pd.DataFrame()


# =========================================================================== target & leakage
def target_candidates(profile: DatasetProfile, k: int = 5) -> list[str]:
    """Columns ranked by how likely they are the prediction target (heuristics, best first)."""
    scored: list[tuple[float, int, str]] = []
    last = len(profile.columns) - 1
    for i, c in enumerate(profile.columns):
        if c.semantic in ("id", "empty", "constant", "text", "date"):
            continue
        score = 0.0
        if _TARGET_STRONG.search(c.name):
            score += 3
        elif _TARGET_WEAK.search(c.name):
            score += 2
        if detect.id_name(c.name):
            score -= 1.5  # codes (iso_num, zip_code) sit last in many exports but are not targets
        if i == last:
            score += 1
        if c.semantic == "boolean":
            score += 1.5
        elif c.semantic == "category" and 2 <= c.n_unique <= 10:
            score += 1
        elif c.semantic in ("numeric", "money_text") and c.n_unique > 10:
            score += 0.25
        if c.missing_share > 0.3:
            score -= 1
        if score > 0.5:
            scored.append((-score, i, c.name))
    scored.sort()
    return [name for _, _, name in scored[:k]]


def find_leakage(sample: pd.DataFrame, profile: DatasetProfile, target: str) -> list[dict[str, Any]]:
    """Columns that give the target away, as found by the one detector (`core.detect`).

    Each item keeps the keys older records use ("column", "target", "reason") plus the finding's
    kind, rule, columns, score and recommended action. Columns the profile calls identifiers or
    free text are not tested (they are left out of models as identifiers).
    """
    skip = tuple(c.name for c in profile.columns if c.semantic in ("id", "text", "empty", "constant"))
    findings = detect.find_leaks(detect.sample_rows(sample), target, skip=skip)
    return [dict(f.to_dict(), target=target) for f in findings]


# =========================================================================== facts
def profile_to_facts(profile: DatasetProfile) -> set[float | str]:
    """Every number (and name) the profile states, for core.factcheck.

    Shares are included both as fractions and as percentages, so '12%' and '0.12' both check.
    """
    facts: set[float | str] = set()

    def add(v: Any) -> None:
        if isinstance(v, bool) or v is None:
            return
        if isinstance(v, (int, float, np.integer, np.floating)):
            f = _f(v)
            if f is not None:
                facts.add(f)
        elif isinstance(v, str):
            facts.add(v)
            f = _f(v.replace(",", ""))
            if f is not None:
                facts.add(f)

    n = profile.n_rows
    for v in (n, profile.n_cols, profile.n_duplicate_rows, profile.memory_mb, profile.sampled_from):
        add(v)
    if n:
        add(profile.n_duplicate_rows / n)
        add(100 * profile.n_duplicate_rows / n)
    n_missing_cols = sum(1 for c in profile.columns if c.n_missing)
    add(n_missing_cols)
    add(sum(c.n_missing for c in profile.columns))
    if profile.n_cols and n:
        total_missing = sum(c.n_missing for c in profile.columns) / (profile.n_cols * n)
        add(total_missing)
        add(100 * total_missing)
    by_sem: dict[str, int] = {}
    for c in profile.columns:
        by_sem[c.semantic] = by_sem.get(c.semantic, 0) + 1
        add(c.name)
        for v in (
            c.n_missing,
            c.missing_share,
            100 * c.missing_share,
            c.n_unique,
            c.min,
            c.max,
            c.mean,
            c.std,
            c.skew,
            c.n_outliers,
        ):
            add(v)
        if c.n_outliers and n:
            add(100 * c.n_outliers / max(1, n - c.n_missing))
        for q in c.quantiles.values():
            add(q)
        for val, cnt in c.top_values:
            add(val)
            add(cnt)
            if n:
                add(cnt / n)
                add(100 * cnt / n)
        for s in c.sample_values:
            add(s)
        for note in c.notes:
            for num in re.findall(r"-?\d+(?:\.\d+)?", note.replace(",", "")):
                add(float(num))
    for v in by_sem.values():
        add(v)
    for a, b, r in profile.high_correlations:
        add(a)
        add(b)
        add(r)
        add(abs(r))
    add(len(profile.high_correlations))
    for leak in profile.leakage:
        add(str(leak.get("column")))
        for num in re.findall(r"-?\d+(?:\.\d+)?", str(leak.get("reason", ""))):
            add(float(num))
    return facts


# =========================================================================== ydata-profiling
YDATA_MINIMAL_ABOVE = 20_000  # rows (after sampling) above which the report uses minimal mode


def dataset_hash(df: pd.DataFrame) -> str:
    """A content hash of a frame (values, names, dtypes), for caches."""
    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in df.dtypes.items()]).encode())
    try:
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    except TypeError:
        h.update(pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def ydata_report(
    df: pd.DataFrame,
    cache_dir: str | Path,
    title: str = "Data profile",
    sample_rows: int = 50_000,
    *,
    minimal_above: int = YDATA_MINIMAL_ABOVE,
) -> Path:
    """The full ydata-profiling HTML report, cached per dataset content.

    Above `sample_rows` rows the report is built on a seeded random sample (its title says
    so); above `minimal_above` rows or 100 columns it uses minimal mode (no interactions,
    no correlations), which keeps it to tens of seconds.
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    key = dataset_hash(df)
    path = cache / f"ydata_{key}_{sample_rows}.html"
    if path.exists() and path.stat().st_size > 0:
        return path
    from ydata_profiling import ProfileReport  # heavy import, only on demand

    data = df
    if len(df) > sample_rows:
        data = df.sample(sample_rows, random_state=SEED)
        title = f"{title} (random sample of {sample_rows:,} of {len(df):,} rows)"
    data = data.copy()
    data.columns = tidy_unique([str(c) for c in data.columns])
    minimal = len(data) > minimal_above or data.shape[1] > 100
    report = ProfileReport(data, title=title, minimal=minimal, progress_bar=False)
    tmp = path.with_suffix(".tmp.html")
    report.to_file(tmp, silent=True)
    tmp.replace(path)  # write-then-rename: a half-written report is never served from the cache
    return path


def tidy_unique(names: Iterable[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0)
        seen[n] = k + 1
        out.append(n if k == 0 else f"{n}_{k + 1}")
    return out
