"""A time-budgeted model search that ends in ordinary, readable `build_model` code.

The candidates are fixed pipeline templates: HistGradientBoosting (the harness's default, tuned,
small and deep trees), a regularised linear model with one-hot and target encoding, a random
forest, LightGBM once the app's code checks allow its import, plus variants the data calls for:
a log-transformed target for a skewed non-negative regression target
(`TransformedTargetRegressor`), balanced class weights for a rare class, target encoding for
high-cardinality categories. Every encoder sits inside the pipeline, so each fold refits it and
nothing leaks across folds (dates arrive as days since 1970 from the harness's `prepare_features`).

Each candidate is scored on the harness's own training split and folds (`split_data`, `_folds`),
cheapest-and-strongest first until the budget is spent; blends of the best few (soft voting /
mean) are scored from the kept out-of-fold predictions. The winner's code then becomes a normal
model step (trained in the sandbox beside Gemma's pipeline, the dummy and the default HGB), so
the notebook holds its exact code. The candidates are this module's own templates, never
model-written code, so the search runs them in-process under a thread cap.

FLAML was the first choice; its AutoML needs xgboost, whose PyPI wheel pulls 350 MB of CUDA
libraries, so it serves as the peer in benchmarks/model_quality.py instead of a dependency.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import r2_score

from core import modeling_harness as harness
from core.model_result import LOWER_IS_BETTER, better

DEFAULT_BUDGET_S = 30.0
DEFAULT_THREADS = 2
# Data-driven variants: when a target counts as skewed, a class as rare, a category as wide.
SKEW_FOR_LOG = 1.0
RARE_CLASS_SHARE = 0.2
WIDE_CATEGORY = 50
BLEND_SIZE = 3  # blends of the best 2..3 candidates are scored too
SEARCH_FOLDS = 3  # of the harness's folds, the first few score each candidate

_HEAD = """\
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
"""

# Trees: categories as ordinal codes (declared categorical to HGB), wide ones target-encoded.
_PRE_TREE = """\
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
{wide_line}    narrow = [c for c in categorical if c not in wide]
    parts = [("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                    encoded_missing_value=np.nan, max_categories=254), narrow)]
    if wide:  # cross-fitted target encoding: fitted inside each training fold only
        parts.append(("wide", TargetEncoder(cv=KFold(5, shuffle=True, random_state=42)), wide))
    pre = ColumnTransformer(parts, remainder="passthrough", verbose_feature_names_out=False)
    pre = pre.set_output(transform="pandas")
"""
_WIDE_TE = "    wide = [c for c in categorical if X[c].nunique() > {wide}]  # high-cardinality\n"
_WIDE_NONE = "    wide = []\n"

_PRE_LINEAR = """\
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    categorical = [c for c in X.columns if c not in numeric]
    wide = [c for c in categorical if X[c].nunique() > 20]
    few = [c for c in categorical if c not in wide]
    pre = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True)),
                          ("scale", StandardScaler())]), numeric),
        ("onehot", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                             ("encode", OneHotEncoder(handle_unknown="ignore", min_frequency=5))]), few),
        ("target", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                             ("encode", TargetEncoder(cv=KFold(5, shuffle=True, random_state=42))),
                             ("scale", StandardScaler())]), wide),
    ])
"""


@dataclass(frozen=True)
class Candidate:
    id: str
    title: str
    code: str


@dataclass
class SearchResult:
    best: Candidate | None
    primary_metric: str
    tried: list[dict[str, Any]] = field(default_factory=list)  # id, title, cv score, seconds
    tried_best: float | None = None  # the winner's cross-validated score
    scored: dict[str, Candidate] = field(default_factory=dict)  # every candidate that got a score
    seconds: float = 0.0
    budget_s: float = DEFAULT_BUDGET_S

    def summary(self) -> str:
        """One line for the step's provenance: what won, out of what, in how long."""
        if self.best is None:
            return "budgeted search: no candidate trained"
        scores = ", ".join(f"{t['id']} {harness_fmt(t['cv'])}" for t in self.tried)
        return (
            f"budgeted search ({self.budget_s:.0f} s budget, {self.seconds:.0f} s used): "
            f"best cross-validated {self.primary_metric} among {len(self.tried)} candidates "
            f"[{scores}] was {self.best.id}"
        )


def harness_fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.4f}"


def _code(imports: str, body: str, model: str, doc: str) -> str:
    # Sorted import block so the code reads like hand-written, ruff-clean code.
    block = set((_HEAD + imports).strip().splitlines())
    lines = sorted(block, key=lambda x: (not x.startswith("import "), x))
    return (
        "\n".join(lines)
        + "\n\n\ndef build_model(X: pd.DataFrame):\n"
        + f'    """{doc}"""\n'
        + body
        + f"    model = {model}\n"
        + '    return Pipeline([("pre", pre), ("model", model)])\n'
    )


def _tree(task: str, params: str, doc: str, use_te: bool, log_target: bool, lgbm: bool) -> str:
    kind = "Classifier" if task == "classification" else "Regressor"
    cls = f"LGBM{kind}" if lgbm else f"HistGradientBoosting{kind}"
    imports = "from sklearn.model_selection import KFold\n"
    imports += "from sklearn.preprocessing import OrdinalEncoder, TargetEncoder\n"
    imports += f"from lightgbm import {cls}\n" if lgbm else f"from sklearn.ensemble import {cls}\n"
    args = [p for p in params.split(", ") if p] + ["random_state=42"]
    if not lgbm:
        args.append('categorical_features=narrow or "from_dtype"')
    model = f"{cls}(\n        " + ",\n        ".join(args) + ",\n    )"
    if log_target:
        imports += "from sklearn.compose import TransformedTargetRegressor\n"
        model = f"TransformedTargetRegressor(\n        {model.replace(chr(10), chr(10) + '    ')},\n" + (
            "        func=np.log1p,\n        inverse_func=np.expm1,\n    )"
        )
    wide_line = _WIDE_TE.format(wide=WIDE_CATEGORY) if use_te else _WIDE_NONE
    return _code(imports, _PRE_TREE.format(wide_line=wide_line), model, doc)


def _linear(task: str) -> str:
    imports = (
        "from sklearn.impute import SimpleImputer\n"
        "from sklearn.model_selection import KFold\n"
        "from sklearn.preprocessing import OneHotEncoder, StandardScaler, TargetEncoder\n"
    )
    if task == "classification":
        imports += "from sklearn.linear_model import LogisticRegression\n"
        model = "LogisticRegression(C=1.0, max_iter=2000)"
    else:
        imports += "from sklearn.linear_model import RidgeCV\n"
        model = "RidgeCV(alphas=np.logspace(-3, 3, 13))"
    return _code(
        imports,
        _PRE_LINEAR,
        model,
        "Regularised linear model: scaled numbers, one-hot and target-encoded categories.",
    )


def candidates(task: str, X: pd.DataFrame, y: pd.Series) -> list[Candidate]:
    """The candidates for this table, most promising first (the budget may stop the list early)."""
    cats = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    wide = any(X[c].nunique() > WIDE_CATEGORY for c in cats)
    log_target = False
    rare = False
    if task == "regression":
        yv = pd.to_numeric(y, errors="coerce").dropna()
        log_target = bool(len(yv) > 2 and yv.min() >= 0 and yv.skew() > SKEW_FOR_LOG)
    else:
        rare = bool(y.value_counts(normalize=True).min() < RARE_CLASS_SHARE)
    has_lgbm = importlib.util.find_spec("lightgbm") is not None
    tuned = (
        "learning_rate=0.05, max_iter=400, max_leaf_nodes=31, min_samples_leaf=20, l2_regularization=1.0, "
        "early_stopping=len(X) >= 2000, n_iter_no_change=30"
    )
    small = "learning_rate=0.1, max_iter=200, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=0.1"
    deep = (
        "learning_rate=0.03, max_iter=800, max_leaf_nodes=63, min_samples_leaf=10, l2_regularization=3.0, "
        "early_stopping=True, n_iter_no_change=40"
    )
    lgb = (
        "n_estimators=400, learning_rate=0.05, num_leaves=31, min_child_samples=20, subsample=0.8, "
        "subsample_freq=1, colsample_bytree=0.8, reg_lambda=1.0, n_jobs=1, verbose=-1"
    )
    from core.recipes.model import build_model_code

    # (id, title, code, when): cheap and usually strong first, so a short budget still tries them.
    specs = [
        (
            "hgb_default",
            "HistGradientBoosting (defaults)",
            lambda: _tree(task, "", "HistGradientBoosting with default settings.", False, False, False),
            True,
        ),
        ("linear", "Linear model with one-hot and target encoding", lambda: _linear(task), True),
        ("random_forest", "Random forest", lambda: build_model_code("random_forest", task), True),
        (
            "hgb_small_leaves",
            "HistGradientBoosting (small trees)",
            lambda: _tree(
                task,
                small,
                "HistGradientBoosting with small, well-populated leaves.",
                wide,
                log_target,
                False,
            ),
            True,
        ),
        (
            "hgb_tuned",
            "HistGradientBoosting (slower learning, regularised)",
            lambda: _tree(task, tuned, "Tuned HistGradientBoosting.", wide, False, False),
            True,
        ),
        (
            "hgb_log_target",
            "HistGradientBoosting on log(1 + target)",
            lambda: _tree(
                task,
                tuned,
                "Tuned HistGradientBoosting on a log-transformed (skewed) target.",
                wide,
                True,
                False,
            ),
            log_target,
        ),
        (
            "hgb_balanced",
            "HistGradientBoosting with balanced class weights",
            lambda: _tree(
                task,
                tuned + ', class_weight="balanced"',
                "Tuned HistGradientBoosting weighting the rare class up.",
                wide,
                False,
                False,
            ),
            rare,
        ),
        (
            "lightgbm",
            "LightGBM",
            lambda: _tree(task, lgb, "LightGBM with bagging and column sampling.", wide, log_target, True),
            has_lgbm,
        ),
        (
            "hgb_deep",
            "HistGradientBoosting (deeper trees, slow learning)",
            lambda: _tree(
                task,
                deep,
                "HistGradientBoosting with deeper trees and early stopping.",
                wide,
                log_target,
                False,
            ),
            True,
        ),
    ]
    out = [Candidate(i, title, code()) for i, title, code, when in specs if when]
    return [c for c in out if _allowed(c.code)]


def _allowed(code: str) -> bool:
    """Only candidates the app's code checks accept (e.g. LightGBM only once its import is allowed)."""
    from core.lint import errors, lint

    return not errors(lint(code))


def build(code: str) -> Any:
    """`build_model` from one of this module's own templates (never from model-written code)."""
    ns: dict[str, Any] = {}
    exec(compile(code, "<model_search candidate>", "exec"), ns)  # noqa: S102 - our own fixed templates
    return ns["build_model"]


def search(
    df: pd.DataFrame,
    target: str,
    task: str | None = None,
    drop_columns: list[str] | tuple[str, ...] = (),
    budget_s: float = DEFAULT_BUDGET_S,
    n_threads: int = DEFAULT_THREADS,
    seed: int = 42,
    test_size: float = 0.25,
    cv: int = 5,
) -> SearchResult:
    """Score candidates on the harness's training split and folds until `budget_s` is spent.

    To try more candidates per second, each is scored on the first `SEARCH_FOLDS` of the harness's
    `cv` folds (the same rows, fewer of them). Their out-of-fold predictions are kept, so blends of
    the best few (soft voting / mean) are scored without fitting anything again.
    """
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    notes: list[str] = []
    task, _X, _y, X_train, _Xt, y_train, _yt, X_cv, y_cv, _d = harness.split_data(
        df, target, task, seed, test_size, drop_columns, notes
    )
    primary = "roc_auc" if task == "classification" else "r2"
    result = SearchResult(best=None, primary_metric=primary, budget_s=budget_s)
    splitter = harness._folds(y_cv, task, cv, seed)
    folds = list(splitter.split(X_cv, y_cv if task == "classification" else None))[:SEARCH_FOLDS]
    classes = sorted(str(c) for c in y_cv.unique())
    preds: dict[str, list[np.ndarray]] = {}  # candidate id -> out-of-fold predictions per fold
    by_id: dict[str, Candidate] = {}
    scores: dict[str, float] = {}

    def fold_score(i: int, p: np.ndarray) -> float | None:
        y_val = y_cv.iloc[folds[i][1]]
        if task == "classification":
            return harness.roc_auc_ovr(np.asarray(y_val).astype(str), p, classes)
        return float(r2_score(np.asarray(y_val, dtype="float64"), p)) if len(y_val) > 1 else None

    def mean_score(fold_preds: list[np.ndarray]) -> float | None:
        vals = [v for i, p in enumerate(fold_preds) if (v := fold_score(i, p)) is not None]
        return float(np.mean(vals)) if vals else None

    def record(cand: Candidate, value: float | None, cost: float) -> None:
        result.tried.append({"id": cand.id, "title": cand.title, "cv": value, "seconds": round(cost, 2)})
        if value is not None:
            scores[cand.id], by_id[cand.id] = value, cand
            result.scored[cand.id] = cand
            if result.best is None or better(value, result.tried_best, primary):
                result.best, result.tried_best = cand, value

    with threadpool_limits(limits=n_threads):
        max_cost = 0.0
        for cand in candidates(task, X_train, y_train):
            # Always score the first two (the default HGB and the linear model); then only what
            # fits, judged by the dearest candidate so far (later ones are not cheaper on the whole).
            if len(result.tried) >= 2 and time.perf_counter() - t0 + max_cost > budget_s:
                break
            t1 = time.perf_counter()
            try:
                fold_preds = [_fit_predict(cand, X_cv, y_cv, tr, va, task, classes) for tr, va in folds]
                value = mean_score(fold_preds)
                preds[cand.id] = fold_preds
            except Exception:  # noqa: BLE001 - a candidate that fails is skipped, not fatal
                value = None
            cost = time.perf_counter() - t1
            max_cost = max(max_cost, cost)
            record(cand, value, cost)
        # Blends of the best k (k = 2..BLEND_SIZE) often beat each member, above all where one
        # model's lead is noise; scored from the kept predictions, so a blend wins only on merit.
        ranked = sorted(scores, key=lambda k: scores[k], reverse=primary not in LOWER_IS_BETTER)
        for k in range(2, min(BLEND_SIZE, len(ranked)) + 1):
            members = ranked[:k]
            avg = [np.mean([preds[m][i] for m in members], axis=0) for i in range(len(folds))]
            record(blend(task, [by_id[m] for m in members]), mean_score(avg), 0.0)
    result.seconds = time.perf_counter() - t0
    return result


def _fit_predict(
    cand: Candidate,
    X: pd.DataFrame,
    y: pd.Series,
    tr: np.ndarray,
    va: np.ndarray,
    task: str,
    classes: list[str],
) -> np.ndarray:
    """One fold: fit on `tr`, predict `va` (class probabilities in `classes` order, or values)."""
    model = build(cand.code)(X.iloc[tr].copy())
    model.fit(X.iloc[tr], y.iloc[tr])
    if task != "classification":
        return np.asarray(model.predict(X.iloc[va]), dtype="float64")
    proba = np.asarray(model.predict_proba(X.iloc[va]), dtype="float64")
    out = np.zeros((len(va), len(classes)))
    for j, c in enumerate(str(c) for c in model.classes_):
        out[:, classes.index(c)] = proba[:, j]
    return out


def blend(task: str, members: list[Candidate]) -> Candidate:
    """One `build_model` that averages the members' predictions (soft voting / mean)."""
    imports: set[str] = set()
    bodies: list[str] = []
    for m in members:
        head, _, body = m.code.partition("\n\n\ndef build_model(")
        imports.update(line for line in head.splitlines() if line.strip())
        bodies.append(f"def _{m.id}(" + body.rstrip() + "\n")
    cls = "VotingClassifier" if task == "classification" else "VotingRegressor"
    imports.add(f"from sklearn.ensemble import {cls}")
    lines = sorted(imports, key=lambda x: (not x.startswith("import "), x))
    names = ", ".join(m.id for m in members)
    parts = "".join(f'        ("{m.id}", _{m.id}(X)),\n' for m in members)
    vote = ', voting="soft"' if task == "classification" else ""
    code = (
        "\n".join(lines)
        + "\n\n\n"
        + "\n\n".join(bodies)
        + "\n\ndef build_model(X: pd.DataFrame):\n"
        + f'    """Average of the best candidates of the search ({names})."""\n'
        + f"    members = [\n{parts}    ]\n"
        + f"    return {cls}(members{vote})\n"
    )
    return Candidate(f"blend_{len(members)}", f"Blend of {names}", code)


def tried_table(result: SearchResult) -> pd.DataFrame:
    """The candidates tried, with their cross-validated primary metric and time (for the page)."""
    rows = [
        {
            "candidate": t["title"],
            f"CV {result.primary_metric}": t["cv"],
            "seconds": t["seconds"],
            "chosen": "★" if result.best is not None and t["id"] == result.best.id else "",
        }
        for t in result.tried
    ]
    return pd.DataFrame(rows)
