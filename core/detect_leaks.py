"""Leak and post-outcome tests of the one detector (`core.detect`, which owns the thresholds,
the `Finding` record and the public `scan`). Kept apart only for size.

Cheap on purpose: quantile bins and out-of-fold group means stand in for fitted one-column
models, so a 50-column table is scanned in well under a second.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from core.detect import AFTER_OUTCOME_TOKENS, THRESHOLDS, Finding, Thresholds, name_tokens
from core.modeling_prep import detect_task, number_text


# --------------------------------------------------------------------------- leak helpers
def _codes(x: pd.Series, th: Thresholds) -> tuple[np.ndarray, int, bool]:
    """Integer codes of a column (quantile bins for numbers, one per value otherwise; missing is a code)."""
    if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
        v = x.to_numpy(dtype="float64", na_value=np.nan)
        fin = np.isfinite(v)
        if int(fin.sum()) and len(np.unique(v[fin][:50_000])) > th.bins:
            edges = np.unique(np.quantile(v[fin], np.linspace(0, 1, th.bins + 1)[1:-1]))
            c = np.searchsorted(edges, np.where(fin, v, 0.0), side="right")
            c = np.where(fin, c, len(edges) + 1)
            return c.astype("int64"), len(edges) + 2, True
        codes, uniq = pd.factorize(pd.Series(np.where(fin, v, np.nan)))
    else:
        try:
            codes, uniq = pd.factorize(x)
        except TypeError:
            codes, uniq = pd.factorize(x.astype(str).where(x.notna()))
    codes = np.where(codes < 0, len(uniq), codes)  # missing as its own group
    return codes.astype("int64"), len(uniq) + 1, False


def _folds(n: int, th: Thresholds) -> np.ndarray:
    return np.random.RandomState(th.seed).permutation(n) % th.cv_folds


def _oof_means(codes: np.ndarray, k: int, y: np.ndarray, folds: np.ndarray, n_folds: int) -> np.ndarray:
    """Out-of-fold group means of y (unseen groups get the training mean): a one-feature model."""
    pred = np.empty(len(y), dtype="float64")
    for f in range(n_folds):
        tr, va = folds != f, folds == f
        cnt = np.bincount(codes[tr], minlength=k).astype("float64")
        sums = np.bincount(codes[tr], weights=y[tr], minlength=k)
        base = float(y[tr].mean()) if tr.any() else 0.0
        means = np.where(cnt > 0, sums / np.maximum(cnt, 1), base)
        pred[va] = means[codes[va]]
    return pred


def _skill(codes: np.ndarray, k: int, y: Any, folds: np.ndarray, n_folds: int) -> float:
    """One-column cross-validated skill (1 = perfect, 0 = no better than chance)."""
    if y["task"] == "regression":
        yv = y["values"]
        pred = _oof_means(codes, k, yv, folds, n_folds)
        sst = float(((yv - yv.mean()) ** 2).sum())
        return 1.0 - float(((yv - pred) ** 2).sum()) / sst if sst > 0 else 0.0
    yc, n_classes = y["codes"], y["n_classes"]
    if n_classes == 2:
        pred = _oof_means(codes, k, yc.astype("float64"), folds, n_folds)
        return 2.0 * _auc(yc, pred) - 1.0
    pred = np.empty(len(yc), dtype="int64")
    for f in range(n_folds):
        tr, va = folds != f, folds == f
        table = np.bincount(codes[tr] * n_classes + yc[tr], minlength=k * n_classes).reshape(k, n_classes)
        best = table.argmax(axis=1)
        best[table.sum(axis=1) == 0] = int(np.bincount(yc[tr], minlength=n_classes).argmax())
        pred[va] = best[codes[va]]
    recalls = [float((pred[yc == c] == c).mean()) for c in range(n_classes) if (yc == c).any()]
    chance = 1.0 / n_classes
    return (float(np.mean(recalls)) - chance) / (1.0 - chance)


def _auc(y01: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC by the rank-sum formula (ties get average ranks): a fraction of sklearn's cost."""
    pos = y01 == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return 0.5
    ranks = pd.Series(score).rank().to_numpy()
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _target(y_raw: pd.Series, task: str) -> dict[str, Any] | None:
    if task == "regression":
        parsed = number_text(y_raw, min_share=0.0)
        v = (parsed if parsed is not None else pd.to_numeric(y_raw, errors="coerce")).to_numpy(
            dtype="float64", na_value=np.nan
        )
        return {"task": task, "values": v}
    # Classes compared case- and space-insensitively: 'Yes ' and 'yes' are one class.
    codes, uniq = pd.factorize(y_raw.astype(str).str.strip().str.lower().where(y_raw.notna()))
    return {"task": task, "codes": codes.astype("int64"), "n_classes": len(uniq), "labels": list(uniq)}


def _as_number(x: pd.Series) -> pd.Series | None:
    """The column as floats when it is numeric or numbers stored as text, else None."""
    if pd.api.types.is_bool_dtype(x):
        return x.astype("float64")
    if pd.api.types.is_numeric_dtype(x):
        return pd.to_numeric(x, errors="coerce").astype("float64")
    if pd.api.types.is_object_dtype(x) or pd.api.types.is_string_dtype(x):
        head = x.dropna().head(50)
        if len(head) and number_text(head) is not None:
            return number_text(x)
    return None


def _subset(y: dict[str, Any], mask: np.ndarray) -> dict[str, Any]:
    out = dict(y)
    if "values" in y:
        out["values"] = y["values"][mask]
    else:
        codes, uniq = pd.factorize(y["codes"][mask])
        out["codes"], out["n_classes"] = codes.astype("int64"), len(uniq)
    return out


def _y_present(y: dict[str, Any]) -> np.ndarray:
    return np.isfinite(y["values"]) if "values" in y else y["codes"] >= 0


# --------------------------------------------------------------------------- leaks
def find_leaks(
    df: pd.DataFrame,
    target: str,
    task: str | None = None,
    skip: tuple[str, ...] = (),
    th: Thresholds = THRESHOLDS,
) -> list[Finding]:
    """Leak and post-outcome findings for `target` (columns in `skip`, e.g. identifiers, are not
    tested): one-column cross-validated skill, category-to-target mappings, copies and sums,
    missing-exactly-when patterns and after-the-fact amounts."""
    if target not in df.columns:
        return []
    names = [str(c) for c in df.columns]
    y_raw = df.iloc[:, names.index(str(target))]
    if task is None:
        task = detect_task(y_raw)
    y_all = _target(y_raw, task)
    if y_all is None:
        return []
    present = _y_present(y_all)
    if int(present.sum()) < th.min_rows:
        return []
    y = _subset(y_all, present)
    if y["task"] == "classification" and y["n_classes"] < 2:
        return []
    if y["task"] == "regression" and float(np.nanstd(y["values"])) == 0:
        return []
    sub = df.loc[present]
    folds = _folds(len(sub), th)
    out: list[Finding] = []
    numbers: dict[str, np.ndarray] = {}
    cand = [i for i, n in enumerate(names) if n != str(target) and n not in skip]
    if len(cand) > th.max_scan_columns:
        cand = _most_related(sub, cand, y, th)
    for i in cand:
        name = names[i]
        x = sub.iloc[:, i]
        if x.isna().all():
            continue
        f = _missing_pattern(x, name, y, th)
        if f is not None:
            out.append(f)
            continue
        num = _as_number(x)
        if y["task"] == "regression" and num is not None:
            xv = num.to_numpy(dtype="float64", na_value=np.nan)
            ok = np.isfinite(xv)
            if int(ok.sum()) >= th.min_rows:
                same = float(np.isclose(xv[ok], y["values"][ok], rtol=1e-6, atol=1e-9).mean())
                if same >= th.copy_share:
                    out.append(
                        Finding("leak", (name,), "copy", f"equal to the target in {same:.0%} of rows", same)
                    )
                    continue
                numbers[name] = xv
        f = _single_feature(num if num is not None else x, name, y, folds, th)
        if f is not None:
            out.append(f)
    if y["task"] == "regression" and len(numbers) >= 2:
        # Copies make every "copy + 0" look like a sum: leave them out. A column that alone
        # looked like a leak but is one part of an exact sum is reported as the sum.
        copies = {c for f in out if f.rule == "copy" for c in f.columns}
        sums = _sums(numbers, y["values"], copies, th)
        in_sums = {c for f in sums for c in f.columns}
        out = [f for f in out if not (f.rule == "single_feature" and f.columns[0] in in_sums)] + sums
    return out


def _most_related(sub: pd.DataFrame, cand: list[int], y: dict[str, Any], th: Thresholds) -> list[int]:
    """On very wide tables, the columns with the strongest rank correlation with the target."""
    yv = y["values"] if "values" in y else y["codes"].astype("float64")
    yr = pd.Series(yv).rank().to_numpy()
    scores = []
    for i in cand:
        x = sub.iloc[:, i]
        xn = _as_number(x) if not isinstance(x.dtype, pd.CategoricalDtype) else None
        v = (xn if xn is not None else pd.Series(pd.factorize(x)[0]).astype("float64")).to_numpy(
            dtype="float64", na_value=np.nan
        )
        xr = pd.Series(v).rank().to_numpy()
        ok = np.isfinite(xr)
        r = np.corrcoef(xr[ok], yr[ok])[0, 1] if ok.sum() > 2 and np.std(xr[ok]) > 0 else 0.0
        scores.append((-abs(float(np.nan_to_num(r))) - float(x.isna().any()), i))  # missingness may leak too
    return [i for _, i in sorted(scores)[: th.max_scan_columns]]


def _missing_pattern(x: pd.Series, name: str, y: dict[str, Any], th: Thresholds) -> Finding | None:
    """Missing exactly when the target has one value: the column is filled in after the outcome."""
    miss = x.isna().to_numpy()
    share = float(miss.mean())
    if not th.missing_min_share <= share <= 1 - th.missing_min_share:
        return None
    if "codes" in y:
        values = range(y["n_classes"])
        is_v = [(y["codes"] == c) for c in values]
        labels = [str(y["labels"][c]) if c < len(y.get("labels", [])) else str(c) for c in values]
    else:
        vc = pd.Series(y["values"]).value_counts()
        if vc.empty or vc.iloc[0] / len(y["values"]) < 0.05:
            return None
        is_v, labels = [y["values"] == vc.index[0]], [f"{vc.index[0]:g}"]
    for v_mask, label in zip(is_v, labels, strict=True):
        agree = float((miss == v_mask).mean())
        if agree >= th.missing_agreement:
            return Finding(
                "post_outcome",
                (name,),
                "missing_pattern",
                f"missing in {share:.0%} of rows, and missing exactly when the target is {label!r} "
                f"({agree:.1%} of rows agree): filled in after the outcome",
                agree,
            )
    return None


def _largest_share_per_group(codes: np.ndarray, ty: np.ndarray, k: int, nt: int) -> int:
    """Sum over groups of the count of each group's most frequent target value (exact).

    A dense k x nt table when small; otherwise only the (group, target) pairs that occur are
    counted: a continuous target has ~one value per row, and the dense table (pd.crosstab
    before) cost seconds per column on 50,000 rows for the same number."""
    if nt * k <= 1_000_000:
        return int(np.bincount(codes * nt + ty, minlength=k * nt).reshape(k, nt).max(axis=1).sum())
    pairs, counts = np.unique(codes.astype("int64") * nt + ty, return_counts=True)
    best = np.zeros(k, dtype="int64")
    np.maximum.at(best, pairs // nt, counts)
    return int(best.sum())


def _single_feature(
    x: pd.Series, name: str, y: dict[str, Any], folds: np.ndarray, th: Thresholds
) -> Finding | None:
    codes, k, binned = _codes(x, th)
    n = len(codes)
    if k < 2 or n < th.min_rows:
        return None
    # Deterministic mapping: every value of a grouped column maps to a single target value.
    if not binned and 2 <= k - 1 <= th.mapping_max_group_share * n:
        ty = y["codes"] if "codes" in y else pd.factorize(np.round(y["values"], 9))[0]
        nt = int(ty.max()) + 1
        if nt > 1:
            purity = _largest_share_per_group(codes, ty, k, nt) / n
            if purity >= th.mapping_purity:
                return Finding(
                    "leak",
                    (name,),
                    "mapping",
                    f"each of its {k - 1} values maps to one target value in {purity:.1%} of rows "
                    "(a recoding of the target or decided from it)",
                    purity,
                )
    skill = _skill(codes, k, y, folds, th.cv_folds)
    r = None
    if y["task"] == "regression" and pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
        xv = x.to_numpy(dtype="float64", na_value=np.nan)
        ok = np.isfinite(xv) & np.isfinite(y["values"])
        if ok.sum() >= th.min_rows and np.std(xv[ok]) > 0:
            r = float(np.corrcoef(xv[ok], y["values"][ok])[0, 1])
    best = max(skill, (r or 0.0) ** 2)
    if best >= th.single_feature_skill:
        what = {
            "regression": "R²",
            "classification": "Gini" if y.get("n_classes") == 2 else "balanced accuracy above chance",
        }
        ev = (
            f"this column alone predicts the target with a {th.cv_folds}-fold cross-validated "
            f"{what[y['task']]} of {skill:.3f}"
        )
        if r is not None:
            ev = f"correlation {r:.3f} with the target; " + ev
        return Finding("leak", (name,), "single_feature", ev, best)
    if skill >= th.after_outcome_skill and any(t in AFTER_OUTCOME_TOKENS for t in name_tokens(name)):
        return Finding(
            "post_outcome",
            (name,),
            "after_outcome_amount",
            f"an amount named like a payment/balance that tracks the target (one-column cross-validated "
            f"skill {skill:.2f}): usually known only after the outcome",
            skill,
        )
    return None


def _sums(cols: dict[str, np.ndarray], t: np.ndarray, flagged: set[str], th: Thresholds) -> list[Finding]:
    """Two or three columns whose sum or difference (or two whose product or ratio) equals the
    target: total = net + tax, amount = quantity × unit price."""
    cand = {k: v for k, v in cols.items() if k not in flagged and np.isfinite(v).mean() > 0.9}
    if len(cand) < 2:
        return []

    def corr(v: np.ndarray) -> float:
        ok = np.isfinite(v) & np.isfinite(t)
        if ok.sum() < 3 or np.std(v[ok]) == 0:
            return 0.0
        return abs(float(np.nan_to_num(np.corrcoef(v[ok], t[ok])[0, 1])))

    ranked = sorted(cand, key=lambda k: -corr(cand[k]))[: th.sum_candidates]
    scale = max(float(np.nanmax(np.abs(t))), 1.0)

    def share_equal(v: np.ndarray, tv: np.ndarray, rel: bool) -> float:
        """Share of rows where v equals the target: exactly for sums, to a relative tolerance for
        products and ratios (a price times a quantity rounded to cents)."""
        ok = np.isfinite(v) & np.isfinite(tv)
        if ok.sum() < min(th.min_rows, len(tv)):
            return 0.0
        tol = th.product_rel_tol * np.maximum(np.abs(tv[ok]), 1e-9) if rel else 1e-6 * scale
        return float(np.mean(np.abs(v[ok] - tv[ok]) <= tol))

    head = slice(0, 200)  # a first look at 200 rows rejects almost every pair at 1% of the cost

    out: list[Finding] = []
    done: set[frozenset[str]] = set()
    # In a sum t = a + b the larger part correlates with t, the other need not: pair each of the
    # most correlated columns with every other column.
    for a in ranked:
        for b in cand:
            if b == a or frozenset((a, b)) in done:
                continue
            done.add(frozenset((a, b)))
            x, z = cand[a], cand[b]
            forms = (
                ("sum", f"{a} + {b}", np.add, x, z, False),
                ("sum", f"{a} - {b}", np.subtract, x, z, False),
                ("sum", f"{b} - {a}", np.subtract, z, x, False),
                ("product", f"{a} × {b}", np.multiply, x, z, True),
                ("product", f"{a} / {b}", np.divide, x, z, True),
                ("product", f"{b} / {a}", np.divide, z, x, True),
            )
            for rule, expr, op, p, q, rel in forms:
                with np.errstate(all="ignore"):
                    quick = op(p[head], q[head])
                    if share_equal(quick, t[head], rel) < th.copy_share - 0.1:
                        continue
                    share = share_equal(op(p, q), t, rel)
                if share >= th.copy_share:
                    ev = f"{expr} equals the target in {share:.0%} of rows" + (" (to 0.1%)" if rel else "")
                    out.append(Finding("leak", (a, b), rule, ev, share, extra={"expr": expr}))
                    break
    if not out:
        for a, b, c in combinations(ranked, 3):
            quick = cand[a][head] + cand[b][head] + cand[c][head]
            if share_equal(quick, t[head], False) < th.copy_share - 0.1:
                continue
            share = share_equal(cand[a] + cand[b] + cand[c], t, False)
            if share >= th.copy_share:
                expr = f"{a} + {b} + {c}"
                out.append(
                    Finding(
                        "leak",
                        (a, b, c),
                        "sum",
                        f"{expr} equals the target in {share:.0%} of rows",
                        share,
                        extra={"expr": expr},
                    )
                )
    return out[:5]
