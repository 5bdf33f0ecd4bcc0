"""Development evaluation of the proposal engine: `python -m core eval`.

For every dataset of the development suite (`core.devsuite`), runs the clean, feature and model
stages the way the autopilot does (each stage sees the data the previous accepted proposal
produced) and, per technique, records where the verified code came from. Prints per stage and
technique: share verified, share from Gemma without repair, share after repair, share fallen back
to a rule, median latency; writes every record as JSON.

Techniques: "select" (Gemma chooses among recipes; code rendered from them: provenance "rule"),
"scaffold" (Gemma writes the code step by step in a fixed function; "gemma" when it verifies)
and "request" (a free-form request written from the data, answered through the same pipeline).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from core import stages as stage_registry
from core.models import Project, Proposal
from core.sandbox.base import SandboxJob

STAGES = tuple(s.name for s in stage_registry.code_stages())


def _load(ds: Any, data_dir: Path) -> pd.DataFrame:
    from core.devsuite import materialize
    from core.io import load_table

    return load_table(materialize(ds, data_dir)).df


def _apply(code: str, entry: str, df: pd.DataFrame, sandbox: Any) -> pd.DataFrame:
    """Run accepted transform code on the full table in the sandbox; the next stage's input."""
    from core.sandbox.worker import write_parquet

    folder = Path(sandbox.workspace) / "eval"
    folder.mkdir(parents=True, exist_ok=True)
    src, dst = folder / "in.parquet", folder / "out.parquet"
    write_parquet(df, src)
    res = sandbox.run(
        SandboxJob(code=code, mode="transform", entrypoint=entry, input_path=src, output_path=dst)
    )
    if not res.ok:
        raise RuntimeError(f"accepted code failed on the full table: {res.error}")
    return pd.read_parquet(dst)


def request_for(df: pd.DataFrame, target: str) -> str | None:
    """A plain free-form request from the data: the log of the first non-negative numeric column."""
    for c in df.columns:
        if c != target and pd.api.types.is_numeric_dtype(df[c]) and df[c].nunique() > 10:
            if (df[c].dropna() >= 0).all():
                return f"add a column with the log of {c}"
    return None


def _record(ds: str, stage: str, technique: str, p: Proposal) -> dict[str, Any]:
    repairs = sum(1 for a in p.attempts if a.source == "gemma") - 1 if p.provenance == "gemma-repaired" else 0
    return {
        "dataset": ds,
        "stage": stage,
        "technique": technique,
        "verified": p.verified,
        "provenance": p.provenance,
        "detail": p.provenance_detail,
        "repairs": repairs,
        "seconds": round(p.seconds, 2),
        "recipes": p.recipes,
        "attempts": [
            {"source": a.source, "ok": a.ok, "failure": a.failure, "seconds": round(a.seconds, 2)}
            for a in p.attempts
        ],  # fmt: skip
        "request": p.request,
    }


def summarise(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (stage, technique): shares and median latency."""
    rows = []
    keys = sorted({(r["stage"], r["technique"]) for r in records}, key=lambda k: (STAGES + ("",)).index(k[0])
                  if k[0] in STAGES else 9)  # fmt: skip
    for stage, technique in keys:
        rs = [r for r in records if r["stage"] == stage and r["technique"] == technique]
        n = len(rs)
        rows.append({
            "stage": stage,
            "technique": technique,
            "n": n,
            "verified": sum(r["verified"] for r in rs) / n,
            "gemma": sum(r["verified"] and r["provenance"] == "gemma" for r in rs) / n,
            "gemma_repaired": sum(r["verified"] and r["provenance"] == "gemma-repaired" for r in rs) / n,
            "rule": sum(r["verified"] and r["provenance"] == "rule" for r in rs) / n,
            "median_s": statistics.median(r["seconds"] for r in rs),
        })  # fmt: skip
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = "| stage | technique | n | verified | Gemma (no repair) | Gemma (repaired) | rule | median s |"
    lines = [head, "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(
            f"| {r['stage']} | {r['technique']} | {r['n']} | {r['verified']:.0%} | {r['gemma']:.0%} | "
            f"{r['gemma_repaired']:.0%} | {r['rule']:.0%} | {r['median_s']:.1f} |"
        )
    return "\n".join(lines)


def evaluate(
    datasets: list[Any], backend: Any, sandbox: Any, techniques: tuple[str, ...], data_dir: Path,
    n_repair: int = 2, sample_rows: int = 2000, log: Any = print, stages: tuple[str, ...] = STAGES,
    on_dataset: Any = None,
) -> list[dict[str, Any]]:  # fmt: skip
    from core.context import profile_frame
    from core.engine.session import propose
    from core.recipes.base import entrypoint_for

    records: list[dict[str, Any]] = []
    for ds in datasets:
        df = _load(ds, data_dir)
        project = Project(id=ds.name, name=ds.name, target=ds.target, task=ds.task,
                          profile=profile_frame(df, ds.target))  # fmt: skip
        for stage in STAGES:
            if stage not in stages:
                if stage_registry.transforms(stage):
                    # Later stages still need this stage's accepted data: recipes, no model.
                    p = propose(stage, project, None, sandbox, sample_rows=sample_rows, data=df)
                    if p.verified:
                        df = _apply(p.code, entrypoint_for(stage), df, sandbox)
                continue
            accepted: Proposal | None = None
            for technique in techniques:
                if technique == "request":
                    if stage != "feature":
                        continue
                    req = request_for(df, ds.target)
                    if req is None:
                        continue
                    p = propose(stage, project, backend, sandbox, request=req, n_repair=n_repair,
                                sample_rows=sample_rows, data=df)  # fmt: skip
                elif technique == "scaffold" and not stage_registry.transforms(stage):
                    continue  # the model stage is measured with selection only (see README)
                else:
                    p = propose(stage, project, backend, sandbox, n_repair=n_repair, sample_rows=sample_rows,
                                data=df, technique=technique)  # fmt: skip
                rec = _record(ds.name, stage, technique, p)
                records.append(rec)
                log(f"{ds.name:16s} {stage:8s} {technique:9s} verified={p.verified!s:5s} "
                    f"{p.provenance:15s} {p.seconds:6.1f}s  {p.provenance_detail[:90]}")  # fmt: skip
                if technique != "request" and p.verified and accepted is None:
                    accepted = p  # the first verified technique's code feeds the next stage
            if stage_registry.transforms(stage) and accepted is not None:
                df = _apply(accepted.code, entrypoint_for(stage), df, sandbox)
        if on_dataset is not None:
            on_dataset(records)  # partial results survive an interrupted run
    return records


def _write_partial(out: str, records: list[dict[str, Any]]) -> None:
    data = {"partial": True, "summary": summarise(records), "records": records}
    Path(out).write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    if argv and argv[0] == "app":
        # The app-path eval, base vs tuned (requests, questions, stage steps): core.eval_app.
        from core import eval_app

        return eval_app.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m core eval", description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="", help="comma-separated names (default: the whole suite)")
    parser.add_argument("--techniques", default="select,scaffold,request")
    parser.add_argument("--backend", default="gguf", help="gguf (embedded Gemma) | fake (recipes only)")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--n-repair", type=int, default=2)
    parser.add_argument("--sample-rows", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", default="eval_results.json")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)

    from core.devsuite import DEV_SUITE, dev_dataset
    from core.sandbox.local import LocalSandbox

    datasets = [dev_dataset(n) for n in args.datasets.split(",") if n] or list(DEV_SUITE)
    techniques = tuple(t for t in args.techniques.split(",") if t)
    if args.backend == "fake":
        backend = None
    else:
        from core.llm.registry import ModelSettings, build_backend

        backend = build_backend(ModelSettings(kind=args.backend, n_threads=args.threads))
    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.gettempdir()) / "gdw-devsuite"
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as ws:
        sandbox = LocalSandbox(Path(ws))
        try:
            records = evaluate(
                datasets, backend, sandbox, techniques, data_dir, args.n_repair, args.sample_rows,
                log=lambda s: print(s, flush=True), stages=tuple(args.stages.split(",")),
                on_dataset=lambda recs: _write_partial(args.out, recs),
            )  # fmt: skip
        finally:
            sandbox.close()
    rows = summarise(records)
    info = getattr(backend, "info", None)
    result = {
        "model": getattr(info, "name", "none (recipes only)"),
        "datasets": [d.name for d in datasets],
        "techniques": list(techniques),
        "n_repair": args.n_repair,
        "seconds": round(time.perf_counter() - t0, 1),
        "summary": rows,
        "records": records,
    }
    Path(args.out).write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print()
    print(table(rows))
    print(f"\n{len(records)} proposals in {result['seconds']} s; details in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
