"""Model quality: our recommended model vs the default HistGradientBoosting vs a FLAML run, same split.

On package-shipped tables the detector was NOT tuned on (plotly, statsmodels, vega_datasets and
scikit-learn data), each table goes through the app's own path:
- the one detector (`core.detect`) leaves suspected identifiers / leaks out, for every contender;
- the harness's split (`core.modeling_harness.split_data`, seed 42, 25% test);
- ours: the budgeted search (`core.model_search.search`, default 30 s on 2 threads) chooses by
  cross-validation on the training split; the winner is trained and scored by the harness
  (`train_and_evaluate`, the same call the notebook repeats), which also scores the default HGB;
- FLAML: `AutoML.fit(X_train, y_train, time_budget=30, n_jobs=2)` on the same training rows,
  scored on the same test rows by the harness's `evaluate`.
Primary metric: ROC-AUC (classification), R² (regression).

Usage: nice -n 10 python benchmarks/model_quality.py [--budget 30] [--only tips,anes96] [--no-flaml]
Last line: `model_quality tables=… median_vs_hgb=… median_vs_flaml=… …`
(targets: median_vs_hgb >= 1.01, median_vs_flaml >= 0.99).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import last_line, md_table  # noqa: E402
from core import detect, model_search  # noqa: E402
from core import modeling_harness as harness  # noqa: E402


def _tables() -> dict[str, Callable[[], tuple[pd.DataFrame, str]]]:
    import plotly.express as px
    import statsmodels.api as sm
    from sklearn.datasets import load_digits
    from vega_datasets import local_data as vega_local

    return {
        "tips": lambda: (px.data.tips(), "tip"),
        "gapminder": lambda: (px.data.gapminder(), "lifeExp"),
        "stocks": lambda: (vega_local.stocks(), "price"),
        "anes96": lambda: (sm.datasets.anes96.load_pandas().data, "vote"),
        "modechoice": lambda: (sm.datasets.modechoice.load_pandas().data, "choice"),
        "macrodata": lambda: (sm.datasets.macrodata.load_pandas().data, "unemp"),
        "engel": lambda: (sm.datasets.engel.load_pandas().data, "foodexp"),
        "digits": lambda: (load_digits(as_frame=True).frame, "target"),
    }


def _flaml(
    X_train: pd.DataFrame, y_train: pd.Series, task: str, budget: float, threads: int, n_classes: int
) -> Any:
    from flaml import AutoML

    automl = AutoML()
    metric = "r2" if task == "regression" else ("roc_auc" if n_classes == 2 else "roc_auc_ovr")
    automl.fit(
        X_train,
        y_train,
        task=task,
        metric=metric,
        time_budget=budget,
        n_jobs=threads,
        seed=42,
        verbose=0,
        estimator_list=["lgbm", "rf", "extra_tree", "xgboost", "lrl1"]
        if task == "classification"
        else "auto",
    )
    return automl


def run_table(
    name: str, df: pd.DataFrame, target: str, budget: float, threads: int, flaml: bool
) -> dict[str, Any]:
    from threadpoolctl import threadpool_limits

    task = harness.detect_task(df[target])
    findings = detect.scan(df, target, task)
    drop = [c for c in detect.left_out(findings) if c != target]
    notes: list[str] = []
    task, _X, _y, X_train, X_test, y_train, y_test, _Xc, _yc, _d = harness.split_data(
        df, target, task, 42, 0.25, drop, notes
    )
    pm = "roc_auc" if task == "classification" else "r2"
    t0 = time.perf_counter()
    found = model_search.search(df, target, task, drop, budget_s=budget, n_threads=threads)
    assert found.best is not None, found.summary()
    m = harness.train_and_evaluate(
        df,
        model_search.build(found.best.code),
        target,
        task,
        drop_columns=drop,
        importance=False,
        n_threads=threads,
    )
    ours_s = time.perf_counter() - t0
    print(f"  {name}: {found.summary()}", flush=True)
    row: dict[str, Any] = {
        "table": name,
        "task": task,
        "rows": len(df),
        "left out": ", ".join(drop) or "-",
        "ours": m["test"][pm],
        "chosen": found.best.id,
        "hgb": m["baselines"]["hgb_default"]["test"][pm],
        "flaml": float("nan"),
        "ours_s": ours_s,
        "flaml_s": float("nan"),
    }
    if flaml:
        t1 = time.perf_counter()
        with threadpool_limits(limits=threads), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            automl = _flaml(X_train, y_train, task, budget, threads, int(y_train.nunique()))
            row["flaml"] = harness.evaluate(automl, X_test, y_test, task)[pm]
        row["flaml_s"] = time.perf_counter() - t1
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget", type=float, default=model_search.DEFAULT_BUDGET_S)
    ap.add_argument("--threads", type=int, default=model_search.DEFAULT_THREADS)
    ap.add_argument("--only", default="")
    ap.add_argument("--no-flaml", action="store_true")
    args = ap.parse_args(argv)
    tables = _tables()
    names = [n for n in tables if not args.only or n in args.only.split(",")]
    rows = []
    for name in names:
        df, target = tables[name]()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row = run_table(name, df, target, args.budget, args.threads, not args.no_flaml)
        rows.append(row)
        print(
            f"{name}: ours {row['ours']:.4f} ({row['chosen']}), hgb {row['hgb']:.4f}, "
            f"flaml {row['flaml']:.4f}",
            flush=True,
        )
    heads = [
        "table",
        "task",
        "rows",
        "left out",
        "ours",
        "chosen",
        "hgb",
        "flaml",
        "ours/hgb",
        "ours/flaml",
        "ours_s",
        "flaml_s",
    ]
    out = []
    for r in rows:
        r["ours/hgb"] = r["ours"] / r["hgb"] if r["hgb"] else float("nan")
        r["ours/flaml"] = r["ours"] / r["flaml"] if r["flaml"] == r["flaml"] and r["flaml"] else float("nan")
        out.append([r[h] if not isinstance(r[h], float) else round(r[h], 4) for h in heads])
    print()
    print(md_table(heads, out))
    vs_hgb = [r["ours/hgb"] for r in rows if r["ours/hgb"] == r["ours/hgb"]]
    vs_flaml = [r["ours/flaml"] for r in rows if r["ours/flaml"] == r["ours/flaml"]]
    print()
    print(
        last_line(
            "model_quality",
            tables=len(rows),
            median_vs_hgb=statistics.median(vs_hgb) if vs_hgb else float("nan"),
            median_vs_flaml=statistics.median(vs_flaml) if vs_flaml else float("nan"),
            min_vs_hgb=min(vs_hgb) if vs_hgb else float("nan"),
            min_vs_flaml=min(vs_flaml) if vs_flaml else float("nan"),
            budget_s=args.budget,
            threads=args.threads,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
