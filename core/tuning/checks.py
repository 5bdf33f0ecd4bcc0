"""Outcome checks for training targets (and for the model's code in the tuning eval).

This module's SOURCE is embedded in the script that the sandbox runs (one job per table runs
every candidate), so it imports only numpy and pandas and nothing from the project. Each check
states what the request asked for as a fact about the result and recomputes the expected
values from the input with its own (plain numpy) arithmetic, so a target that runs but does
something else is rejected.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _num(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64").to_numpy()
    return pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()


def _close(got: np.ndarray, want: np.ndarray) -> bool:
    mask = np.isfinite(want)
    if mask.sum() == 0:
        return False
    return bool(np.allclose(got[mask], want[mask], rtol=1e-6, atol=1e-8, equal_nan=False))


def _changed(before: pd.DataFrame, after: pd.DataFrame) -> list[str]:
    """New columns first, then columns whose values differ from the input."""
    new = [c for c in after.columns if c not in before.columns]
    mod = []
    for c in after.columns:
        if c in before.columns and len(after) == len(before):
            try:
                if not after[c].reset_index(drop=True).equals(before[c].reset_index(drop=True)):
                    mod.append(c)
            except (TypeError, ValueError):
                mod.append(c)
    return new + mod


def _expected(spec: dict[str, Any], before: pd.DataFrame) -> list[np.ndarray]:
    """The value arrays a column-making request accepts (several where conventions differ)."""
    kind, cols = spec["expect"], spec.get("cols", [])
    x = _num(before[cols[0]]) if cols and kind not in ("datepart", "textlen") else None
    y = _num(before[cols[1]]) if len(cols) > 1 and kind != "groupmean" else None
    with np.errstate(all="ignore"):
        if kind == "ratio":
            return [np.where(y != 0, x / y, np.nan)]
        if kind == "diff":
            return [x - y]
        if kind == "sum":
            return [x + y]
        if kind == "product":
            return [x * y]
        if kind == "log":
            return [np.where(x > 0, np.log1p(x), np.nan), np.where(x > 0, np.log(x), np.nan)]
        if kind == "square":
            return [x * x]
        if kind == "zscore":
            m = np.nanmean(x)
            return [(x - m) / np.nanstd(x, ddof=1), (x - m) / np.nanstd(x, ddof=0)]
        if kind == "minmax":
            lo, hi = np.nanmin(x), np.nanmax(x)
            return [(x - lo) / (hi - lo)]
        if kind == "round":
            return [np.round(x, int(spec["digits"]))]
        if kind == "flag":
            t, op = float(spec["value"]), spec["op"]
            hit = x > t if op == ">" else x < t if op == "<" else x >= t if op == ">=" else x <= t
            return [np.where(np.isnan(x), np.nan, hit.astype("float64")), hit.astype("float64")]
        if kind == "datepart":
            when = pd.to_datetime(before[cols[0]], errors="coerce", format="mixed")
            part = spec["part"]
            vals = getattr(when.dt, part) if part != "dayofweek" else when.dt.dayofweek
            return [vals.astype("float64").to_numpy()]
        if kind == "textlen":
            s = before[cols[0]]
            return [
                np.array([len(str(v)) if v is not None and v == v else np.nan for v in s], dtype="float64")
            ]
        if kind == "groupmean":
            keys = before[cols[1]].astype(str).to_numpy()
            sums: dict[str, list[float]] = {}
            for k, v in zip(keys, x, strict=True):
                if np.isfinite(v):
                    sums.setdefault(k, []).append(float(v))
            return [np.array([np.mean(sums[k]) if k in sums else np.nan for k in keys])]
    raise ValueError(f"unknown expectation {kind!r}")


def _bins_ok(spec: dict[str, Any], before: pd.DataFrame, col: pd.Series) -> bool:
    s = col.cat.codes.where(col.notna()) if isinstance(col.dtype, pd.CategoricalDtype) else col
    codes = pd.to_numeric(s, errors="coerce")
    k = int(spec["k"])
    if not 2 <= codes.nunique() <= k:
        return False
    x = pd.Series(_num(before[spec["cols"][0]]))
    both = pd.concat([x, codes.reset_index(drop=True)], axis=1).dropna()
    return len(both) > 2 and float(both.rank().corr().iloc[0, 1]) > 0.8


def check_transform(spec: dict[str, Any], before: pd.DataFrame, after: object) -> tuple[bool, str]:
    """(passed, reason) for a clean/feature function's output `after`."""
    if not isinstance(after, pd.DataFrame):
        return False, f"returned {type(after).__name__}, not a DataFrame"
    kind = spec["kind"]
    same_rows = len(after) == len(before)
    if kind == "stage":
        # A stage proposal must do something: a table identical to its input is no step.
        did = after.shape != before.shape or not after.reset_index(drop=True).equals(
            before.reset_index(drop=True)
        )
        return (len(after) > 0 and after.shape[1] > 0 and did), "stage output is a changed, non-empty table"
    if kind in ("values", "bins", "onehot"):
        if not same_rows:
            return False, "rows changed"
        changed = _changed(before, after)
        if kind == "onehot":
            col = spec["cols"][0]
            dummies = [
                c for c in after.columns
                if c not in before.columns and set(pd.unique(after[c].dropna())) <= {0, 1}
            ]  # fmt: skip
            want = min(2, int(before[col].nunique()))
            return len(dummies) >= want, f"{len(dummies)} new 0/1 columns"
        if kind == "bins":
            ok = any(_bins_ok(spec, before, after[c]) for c in changed)
            return ok, "a binned column" if ok else "no binned column found"
        options = _expected(spec, before)
        for c in changed:
            got = _num(after[c])
            if any(_close(got, w) for w in options):
                return True, f"column {c} has the requested values"
        return False, "no new or changed column holds the requested values"
    if kind == "fill":
        col = spec["col"]
        if col not in after.columns or not same_rows:
            return False, f"{col} missing or rows changed"
        if after[col].isna().any():
            return False, f"{col} still has missing values"
        holes = before[col].isna().to_numpy()
        if spec.get("fill") is None:
            return True, "no missing left"
        got = after[col].to_numpy()[holes]
        want = spec["fill"]
        if isinstance(want, str):
            return bool(all(str(g) == want for g in got)), "filled with the requested value"
        return _close(_num(pd.Series(got)), np.full(len(got), float(want))), "filled with the requested value"
    if kind == "rows":
        mask = _row_mask(spec, before)
        if len(after) != int(mask.sum()):
            return False, f"{len(after)} rows, expected {int(mask.sum())}"
        return True, "row count as requested"
    if kind == "rename":
        ok = spec["new"] in after.columns and spec["old"] not in after.columns and same_rows
        return ok, "renamed" if ok else "not renamed"
    if kind == "drop_cols":
        gone = all(c not in after.columns for c in spec["cols"])
        kept = all(c in after.columns for c in before.columns if c not in spec["cols"])
        return gone and kept and same_rows, "columns dropped" if gone else "columns still there"
    if kind in ("to_numeric", "to_datetime"):
        col = spec["col"]
        if col not in after.columns or not same_rows:
            return False, "column or rows lost"
        s = after[col]
        typed = (
            pd.api.types.is_numeric_dtype(s)
            if kind == "to_numeric"
            else pd.api.types.is_datetime64_any_dtype(s)
        )
        kept = s.notna().sum() >= 0.9 * before[col].notna().sum()
        return bool(typed and kept), f"dtype {s.dtype}"
    if kind == "text":
        col = spec["col"]
        if col not in after.columns or not same_rows:
            return False, "column or rows lost"
        how = spec["how"]
        src = before[col]
        want = [_text(v, how) for v in src]
        got = list(after[col])
        ok = all((w is None and (g is None or g != g)) or g == w for g, w in zip(got, want, strict=True))
        return ok, "text cleaned as requested" if ok else "text differs from the request"
    if kind == "clip":
        col = spec["col"]
        if col not in after.columns or not same_rows:
            return False, "column or rows lost"
        want = np.clip(_num(before[col]), float(spec["lo"]), float(spec["hi"]))
        return _close(_num(after[col]), want), "values capped"
    if kind == "replace":
        col = spec["col"]
        if col not in after.columns or not same_rows:
            return False, "column or rows lost"
        s = after[col].astype(str)
        ok = (
            not (s == spec["old"]).any()
            and (s == spec["new"]).sum() >= (before[col].astype(str) == spec["old"]).sum()
        )
        return bool(ok), "values replaced"
    if kind == "sort":
        col = spec["col"]
        if col not in after.columns or not same_rows:
            return False, "column or rows lost"
        x = pd.Series(_num(after[col])).dropna()
        ok = x.is_monotonic_increasing if spec["ascending"] else x.is_monotonic_decreasing
        return bool(ok), "sorted"
    raise ValueError(f"unknown check kind {kind!r}")


def _text(v: object, how: str) -> object:
    if v is None or (isinstance(v, float) and v != v):
        return None
    s = str(v)
    if how in ("strip", "strip_lower", "strip_title"):
        s = s.strip()
    if how in ("lower", "strip_lower"):
        s = s.lower()
    if how == "upper":
        s = s.upper()
    if how in ("title", "strip_title"):
        s = s.title()
    return s


def _row_mask(spec: dict[str, Any], df: pd.DataFrame) -> np.ndarray:
    how = spec["how"]
    if how == "dedup":
        return (~df.duplicated()).to_numpy()
    if how == "dropna":
        cols = spec.get("cols") or list(df.columns)
        return df[cols].notna().all(axis=1).to_numpy()
    col, op, v = spec["col"], spec["op"], spec["value"]
    if op in ("==", "!="):
        hit = (df[col].astype(str) == str(v)).to_numpy() & df[col].notna().to_numpy()
        return hit if op == "==" else ~hit
    x = _num(df[col])
    with np.errstate(invalid="ignore"):
        return {">": x > v, "<": x < v, ">=": x >= v, "<=": x <= v}[op]


def plain(value: object) -> object:
    """A JSON-like plain value: Series -> dict, arrays -> list, numpy scalars -> Python."""
    if isinstance(value, pd.DataFrame):
        if value.shape[1] == 1:
            value = value.iloc[:, 0]
        else:
            return {str(k): plain(v) for k, v in value.to_dict(orient="list").items()}
    if isinstance(value, pd.Series):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (pd.Index, np.ndarray, list, tuple)):
        return [plain(v) for v in list(value)]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return str(value.date()) if value == value.normalize() else str(value)
    return value


def same_answer(got: object, want: object, digits: int | None = None) -> bool:
    """Does the answer equal the expected value (numbers within rounding, names exactly)."""
    got = plain(got)
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(map(str, got)) != set(map(str, want)):
            return False
        return all(same_answer(got[k], want[k], digits) for k in want)
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return False
        return all(same_answer(g, w, digits) for g, w in zip(got, want, strict=True))
    if isinstance(want, bool) or isinstance(got, bool):
        return got == want
    if isinstance(want, (int, float)):
        try:
            g = float(got)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        tol = 0.5 * 10 ** (-digits) + 1e-9 if digits is not None else 1e-6 * max(1.0, abs(float(want)))
        return abs(g - float(want)) <= tol
    return str(got).strip() == str(want).strip()


def run_candidates(df: pd.DataFrame, cands: list[tuple[Any, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Run every (factory, spec) on a fresh copy of `df`; one outcome dict per candidate."""
    out: list[dict[str, Any]] = []
    for make, spec in cands:
        rec: dict[str, Any] = {"ran": False, "passed": False, "reason": "", "error": None}
        try:
            fn = make()
            value = fn(df.copy())
            rec["ran"] = True
            if spec["kind"] == "answer":
                got = plain(value)
                rec["value"] = repr(got)[:200]
                rec["passed"] = same_answer(got, spec["expected"], spec.get("digits"))
                rec["reason"] = "answer matches" if rec["passed"] else "answer differs"
            else:
                rec["passed"], rec["reason"] = check_transform(spec, df, value)
        except Exception as e:  # noqa: BLE001 - a failing candidate is an outcome, not a crash
            rec["error"] = f"{type(e).__name__}: {e}"[:300]
        out.append(rec)
    return out
