"""Trusted model harness: split, fit, baselines, cross-validation, test metrics, chart data.

SELF-CONTAINED ON PURPOSE: this file imports only pandas, numpy, scikit-learn (and its
dependency threadpoolctl), the standard library and the equally self-contained
`core.modeling_prep`, nothing else of `core`. It runs inside the sandbox
worker ("model" mode) and its source is inlined verbatim into the exported notebook, so the
app and the notebook compute the same numbers.

What it guarantees:
- rows with a missing target are dropped; the train/test split happens before any fitting
  (stratified for classification when every class has two rows; a fixed seed);
- the user's `build_model(X_train)` pipeline and two baselines are scored on the same split:
  a dummy model (prior / mean) and HistGradientBoosting with default hyper-parameters behind a
  minimal preprocessing (non-numeric columns are ordinal-encoded, unknown and rare values map to
  missing / an infrequent bucket, and are declared categorical to the booster);
- cross-validated metrics are computed on the training split only;
- the returned dict is JSON-safe (plain floats, NaN as None).

Before any of that, `core.modeling_prep.prepare_features` makes a frame from the wild safe for
sklearn (unique string names, dates as numbers, ...; each change is recorded in `notes`); the
notebook inlines that module one cell before this one.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.inspection import permutation_importance
from sklearn.metrics import (
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

# The notebook inlines modeling_prep one cell earlier and drops this import (core.export.notebook).
from core.modeling_prep import detect_task, prepare_features, prepare_target

HARNESS_VERSION = "1"
CLASSIFICATION_METRICS = ("roc_auc", "balanced_accuracy", "f1_macro")
REGRESSION_METRICS = ("r2", "rmse", "mae")
# Bounds that keep a run predictable on big or wide data (documented in the result's notes).
CV_MAX_ROWS = 20_000
IMPORTANCE_MAX_ROWS = 2_000
IMPORTANCE_MAX_CELLS = 400_000  # rows x columns x repeats evaluated by permutation importance
IMPORTANCE_MAX_COLUMNS = 150  # wider tables get no permutation importance (noted)
MAX_CM_CLASSES = 20
MAX_CURVE_POINTS = 200
MAX_RESIDUAL_POINTS = 1_000
ROUND = 6


# --------------------------------------------------------------------------- baselines
def hgb_default(task: str, X: pd.DataFrame, seed: int = 42) -> Pipeline:
    """HistGradientBoosting with default hyper-parameters behind minimal preprocessing.

    Numbers pass through (the booster handles missing values itself). Every other column of
    `X` is ordinal-encoded -- unknown and missing values become missing, at most 254 categories
    with rarer ones grouped as one infrequent category, which keeps codes under the booster's
    255 bins -- and declared categorical to the booster by name. Only `random_state` is set,
    so early stopping on large data is reproducible.
    """
    cat_cols = [str(c) for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    num_cols = [str(c) for c in X.columns if str(c) not in set(cat_cols)]
    pre = ColumnTransformer(
        [
            ("num", "passthrough", num_cols),
            (
                "cat",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=np.nan,
                    encoded_missing_value=np.nan,
                    max_categories=254,
                ),
                cat_cols,
            ),
        ],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    est_cls = HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor
    est = est_cls(random_state=seed, categorical_features=cat_cols or "from_dtype")
    return Pipeline([("pre", pre), ("model", est)])


def dummy_model(task: str) -> Any:
    return DummyClassifier(strategy="prior") if task == "classification" else DummyRegressor()


# --------------------------------------------------------------------------- metrics
def _scores(model: Any, X: pd.DataFrame) -> tuple[np.ndarray | None, list[str]]:
    """Class scores (probabilities when available) with their class labels."""
    classes = [str(c) for c in getattr(model, "classes_", [])]
    for method in ("predict_proba", "decision_function"):
        fn = getattr(model, method, None)
        if fn is None:
            continue
        try:
            s = np.asarray(fn(X), dtype="float64")
        except (AttributeError, NotImplementedError, ValueError):
            continue
        if s.ndim == 1:
            s = np.column_stack([-s, s])
        if s.shape[1] == len(classes) and np.all(np.isfinite(s)):
            return s, classes
    return None, classes


def roc_auc_ovr(y_true: np.ndarray, scores: np.ndarray | None, classes: list[str]) -> float | None:
    """Binary ROC-AUC, or one-vs-rest macro ROC-AUC over the classes present in y_true.

    Written out instead of `roc_auc_score(multi_class="ovr")` because that refuses a test split
    that lacks a class seen in training, which happens with many or rare classes.
    """
    if scores is None:
        return None
    y_true = np.asarray(y_true).astype(str)
    present = [c for c in np.unique(y_true)]
    if len(present) < 2:
        return None
    if len(classes) == 2:
        return float(roc_auc_score(y_true == classes[1], scores[:, 1]))
    aucs = []
    for c in present:
        pos = y_true == c
        col = scores[:, classes.index(c)] if c in classes else np.zeros(len(y_true))
        aucs.append(roc_auc_score(pos, col))
    return float(np.mean(aucs))


def evaluate(model: Any, X: pd.DataFrame, y: pd.Series, task: str) -> dict[str, float | None]:
    """Test metrics of a fitted model."""
    pred = model.predict(X)
    if task == "classification":
        y_true = np.asarray(y).astype(str)
        pred = np.asarray(pred).astype(str)
        scores, classes = _scores(model, X)
        return {
            "roc_auc": roc_auc_ovr(y_true, scores, classes),
            "balanced_accuracy": float(balanced_accuracy_score(y_true, pred)),
            "f1_macro": float(f1_score(y_true, pred, average="macro", zero_division=0)),
        }
    y_true = np.asarray(y, dtype="float64")
    pred = np.asarray(pred, dtype="float64")
    return {
        "r2": float(r2_score(y_true, pred)) if len(y_true) > 1 else None,
        "rmse": float(math.sqrt(mean_squared_error(y_true, pred))),
        "mae": float(mean_absolute_error(y_true, pred)),
    }


def _folds(y: pd.Series, task: str, cv: int, seed: int) -> Any:
    """A splitter with as many folds as the data allows (at most `cv`), or None."""
    if cv < 2:
        return None
    if task == "classification":
        smallest = int(y.value_counts().min())
        k = min(cv, smallest)
        if k >= 2:
            return StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        k = min(cv, len(y) // 2)
        return KFold(n_splits=k, shuffle=True, random_state=seed) if k >= 2 else None
    k = min(cv, len(y) // 2)
    return KFold(n_splits=k, shuffle=True, random_state=seed) if k >= 2 else None


def cross_validate(model: Any, X: pd.DataFrame, y: pd.Series, task: str, cv: int, seed: int) -> dict | None:
    """Mean and standard deviation of each metric over folds of the training split."""
    splitter = _folds(y, task, cv, seed)
    if splitter is None:
        return None
    per_fold: list[dict[str, float | None]] = []
    errors: list[str] = []
    for train_idx, val_idx in splitter.split(X, y if task == "classification" else None):
        m = clone(model)
        try:
            m.fit(X.iloc[train_idx], y.iloc[train_idx])
            per_fold.append(evaluate(m, X.iloc[val_idx], y.iloc[val_idx], task))
        except Exception as e:  # noqa: BLE001 - a failed fold is reported, not fatal
            errors.append(f"{type(e).__name__}: {str(e)[:200]}")
    names = CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS
    mean: dict[str, float | None] = {}
    std: dict[str, float | None] = {}
    for name in names:
        vals = [f[name] for f in per_fold if f.get(name) is not None]
        mean[name] = float(np.mean(vals)) if vals else None
        std[name] = float(np.std(vals)) if vals else None
    out: dict[str, Any] = {"n_splits": int(splitter.get_n_splits()), "mean": mean, "std": std}
    if errors:
        out["errors"] = errors[:3]
    return out


# --------------------------------------------------------------------------- charts
def _sample_idx(n: int, k: int, seed: int) -> np.ndarray:
    if n <= k:
        return np.arange(n)
    return np.sort(np.random.RandomState(seed).choice(n, size=k, replace=False))


def chart_data(
    model: Any, X: pd.DataFrame, y: pd.Series, task: str, seed: int, importance: bool = True
) -> dict[str, Any]:
    """Data for the confusion matrix, ROC curve, residual plot and permutation importance."""
    charts: dict[str, Any] = {}
    pred = model.predict(X)
    if task == "classification":
        y_true = np.asarray(y).astype(str)
        pred = np.asarray(pred).astype(str)
        counts = pd.Series(y_true).value_counts()
        labels = sorted(counts.index[:MAX_CM_CLASSES].tolist())
        if len(counts) > MAX_CM_CLASSES:
            keep = set(labels)
            y_true = np.where(np.isin(y_true, list(keep)), y_true, "(other)")
            pred = np.where(np.isin(pred, list(keep)), pred, "(other)")
            labels.append("(other)")
        cm = confusion_matrix(y_true, pred, labels=labels)
        charts["confusion_matrix"] = {"labels": labels, "matrix": cm.tolist()}
        scores, classes = _scores(model, X)
        if scores is not None and len(classes) == 2 and len(set(np.asarray(y).astype(str))) == 2:
            fpr, tpr, _ = roc_curve(np.asarray(y).astype(str) == classes[1], scores[:, 1])
            idx = np.unique(np.linspace(0, len(fpr) - 1, min(len(fpr), MAX_CURVE_POINTS)).astype(int))
            charts["roc_curve"] = {"fpr": fpr[idx].tolist(), "tpr": tpr[idx].tolist(), "positive": classes[1]}
    else:
        y_true = np.asarray(y, dtype="float64")
        pred = np.asarray(pred, dtype="float64")
        idx = _sample_idx(len(y_true), MAX_RESIDUAL_POINTS, seed)
        charts["residuals"] = {
            "predicted": pred[idx].tolist(),
            "residual": (y_true[idx] - pred[idx]).tolist(),
        }
    charts["importance"] = _importance(model, X, y, task, seed) if importance else None
    if importance and charts["importance"] is None and X.shape[1] > IMPORTANCE_MAX_COLUMNS:
        charts["importance_note"] = (
            f"permutation importance skipped: more than {IMPORTANCE_MAX_COLUMNS} columns"
        )
    return charts


def _importance(model: Any, X: pd.DataFrame, y: pd.Series, task: str, seed: int) -> dict[str, Any] | None:
    """Permutation importance of the raw input columns on a bounded sample of the test split."""
    n_cols = max(1, X.shape[1])
    # Each column costs `repeats` predictions: fewer repeats on wide tables, none beyond a bound.
    if n_cols > IMPORTANCE_MAX_COLUMNS:
        return None
    repeats = 3 if n_cols <= 30 else 1
    rows = min(len(X), IMPORTANCE_MAX_ROWS, max(50, IMPORTANCE_MAX_CELLS // (n_cols * repeats)))
    idx = _sample_idx(len(X), rows, seed)
    Xs, ys = X.iloc[idx], y.iloc[idx]
    if task == "classification" and ys.nunique() < 2:
        return None
    try:
        r = permutation_importance(model, Xs, ys, n_repeats=repeats, random_state=seed)
    except Exception:  # noqa: BLE001 - importance is a chart, never a reason to fail a run
        return None
    order = np.argsort(-r.importances_mean)[:20]
    return {
        "features": [str(X.columns[i]) for i in order],
        "mean": [float(r.importances_mean[i]) for i in order],
        "std": [float(r.importances_std[i]) for i in order],
        "rows": int(len(idx)),
        "repeats": int(repeats),
        "scoring": "accuracy" if task == "classification" else "r2",
    }


def split_data(
    df: pd.DataFrame,
    target: str,
    task: str | None,
    seed: int,
    test_size: float,
    drop_columns: list[str] | tuple[str, ...],
    notes: list[str],
) -> tuple[Any, ...]:
    """The prepared features and target, the train/test split and the bounded CV subsample of the
    training split; one function so the budgeted search scores candidates on the same rows and folds.

    Returns (task, X, y, X_train, X_test, y_train, y_test, X_cv, y_cv, dropped); appends to `notes`.
    """
    if target not in df.columns:
        raise ValueError(f"target column {target!r} is not in the data")
    y_raw = df[target]
    if isinstance(y_raw, pd.DataFrame):  # duplicated column name: the first one is the target
        y_raw = y_raw.iloc[:, 0]
    task = task or detect_task(y_raw)
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', not {task!r}")
    y, tnotes = prepare_target(y_raw, task)
    notes += tnotes
    keep = y.notna().to_numpy()
    if int((~keep).sum()):
        notes.append(f"{int((~keep).sum())} rows without a target value dropped")
    dropped = [c for c in drop_columns if c in df.columns and c != target]
    X = df.loc[:, [c != target and c not in set(dropped) for c in df.columns]]
    X, fnotes = prepare_features(X.loc[keep])
    notes += fnotes
    y = y.loc[keep]
    X = X.reset_index(drop=True)
    y = y.reset_index(drop=True)
    if len(y) < 4:
        raise ValueError(f"only {len(y)} rows have a target value; at least 4 are needed to train and test")
    if X.shape[1] == 0:
        raise ValueError("no feature columns are left to learn from")
    if task == "classification":
        counts = y.value_counts()
        if len(counts) < 2:
            raise ValueError(f"the target {target!r} has a single value; there is nothing to predict")
        n_test = math.ceil(test_size * len(y))
        stratify = (
            y if counts.min() >= 2 and n_test >= len(counts) and len(y) - n_test >= len(counts) else None
        )
        if stratify is None:
            notes.append("split not stratified (a class has fewer than 2 rows or too many classes)")
    else:
        if y.nunique() < 2:
            raise ValueError(f"the target {target!r} has a single value; there is nothing to predict")
        stratify = None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=stratify
    )
    if task == "classification" and y_train.nunique() < 2:
        raise ValueError("the training split holds a single class; more rows per class are needed")

    # CV on a bounded, fixed subsample of the training split keeps big data tractable.
    cv_idx = _sample_idx(len(X_train), CV_MAX_ROWS, seed)
    if len(cv_idx) < len(X_train):
        notes.append(f"cross-validation on {len(cv_idx)} of {len(X_train)} training rows")
    X_cv, y_cv = X_train.iloc[cv_idx], y_train.iloc[cv_idx]

    return task, X, y, X_train, X_test, y_train, y_test, X_cv, y_cv, dropped


# --------------------------------------------------------------------------- main entry
def json_safe(value: Any) -> Any:
    """Plain Python values only; floats rounded and NaN/inf as None."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return round(f, ROUND) if math.isfinite(f) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


def train_and_evaluate(
    df: pd.DataFrame,
    build_model: Any,
    target: str,
    task: str | None = None,
    seed: int = 42,
    test_size: float = 0.25,
    cv: int = 5,
    drop_columns: list[str] | tuple[str, ...] = (),
    model_path: str | None = None,
    baselines: bool = True,
    importance: bool = True,
    n_threads: int | None = None,
) -> dict[str, Any]:
    """Split, fit `build_model(X_train)`, score it and both baselines; return a JSON-safe dict.

    `n_threads` caps OpenMP/BLAS threads (threadpoolctl, a scikit-learn dependency). The app
    passes 1: the sandbox refuses the semaphores joblib's thread pools need, and the exported
    notebook repeats the same call, so both run the same way.
    """
    from threadpoolctl import threadpool_limits

    # limits=None leaves the thread pools as they are.
    with threadpool_limits(limits=int(n_threads) if n_threads else None):
        notes: list[str] = []
        task, X, y, X_train, X_test, y_train, y_test, X_cv, y_cv, dropped = split_data(
            df, target, task, seed, test_size, drop_columns, notes
        )

        t0 = time.perf_counter()
        model = build_model(X_train.copy())
        model.fit(X_train, y_train)
        result: dict[str, Any] = {
            "harness_version": HARNESS_VERSION,
            "task": task,
            "target": str(target),
            "primary_metric": "roc_auc" if task == "classification" else "r2",
            "test": evaluate(model, X_test, y_test, task),
            "cv": cross_validate(model, X_cv, y_cv, task, cv, seed),
            "seconds": time.perf_counter() - t0,
            "estimator": type(model).__name__
            if not isinstance(model, Pipeline)
            else type(model.steps[-1][1]).__name__,
            "n_train": len(X_train),
            "n_test": len(X_test),
            "feature_columns": [str(c) for c in X.columns],
            "dropped_columns": [str(c) for c in dropped],
            "seed": seed,
            "test_size": test_size,
        }
        if task == "classification":
            result["classes"] = sorted(str(c) for c in y.unique())[:100]
            result["n_classes"] = int(y.nunique())
        result["baselines"] = {}
        if baselines:
            for name, base in (
                ("dummy", dummy_model(task)),
                ("hgb_default", hgb_default(task, X_train, seed)),
            ):
                t1 = time.perf_counter()
                try:
                    fitted = clone(base).fit(X_train, y_train)
                    result["baselines"][name] = {
                        "test": evaluate(fitted, X_test, y_test, task),
                        "cv": cross_validate(base, X_cv, y_cv, task, cv, seed),
                        "seconds": time.perf_counter() - t1,
                    }
                except Exception as e:  # noqa: BLE001 - a baseline failure is shown, not fatal
                    result["baselines"][name] = {"error": f"{type(e).__name__}: {str(e)[:300]}"}
        result["charts"] = chart_data(model, X_test, y_test, task, seed, importance=importance)
        result["notes"] = notes
        if model_path:
            import pickle

            try:
                with open(model_path, "wb") as fh:
                    pickle.dump(model, fh)
                result["model_path"] = str(model_path)
            except (OSError, pickle.PicklingError) as e:  # a model that cannot be saved still has metrics
                notes.append(f"the fitted model was not saved ({type(e).__name__})")
        safe = json_safe(result)
        json.dumps(safe)  # fail here, not in a caller, if anything slipped through
        return safe
