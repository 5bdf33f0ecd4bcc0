"""What a user waits for: seconds from "Propose" to a verified proposal, and a whole autopilot run.

On the development tables (core/devsuite.py: real published data), with the model loaded (the
app's own settings: the embedded Gemma with the wizard adapter when it exists) and warmed up (one
untimed proposal first), for each table the stages run in order as the app runs them (each stage
proposes on the data the previous accepted proposal produced) and every technique is timed from the
call to the engine's `propose` to its returned proposal:
- "app default": what the Propose button does (no technique named). With the tuned adapter that is
  the plan written step by step (route "steps") for clean/feature and the recommended recipe for
  the model stage; with the base model, the stage's declared technique;
- feature: "request" (a free-form request written from the data: log of a numeric column);
- the peer on every stage: "recipes only" (no model: the engine's own overhead, profile,
  sandbox verification);
- with --techniques select,scaffold: those older routes too (slow on 2 cores; for comparison).
Then the autopilot (core.autopilot.run_autopilot: load, profile, data description, clean,
feature, model training beside baselines, report, exports) runs on each table once; its total
wall time is the figure.

Prints the table, writes every record as JSON to benchmarks/results/proposal_latency.json.
Usage: python benchmarks/proposal_latency.py [--datasets a,b] [--repeats N] [--backend gguf|fake]
       [--techniques select,scaffold] [--skip-autopilot]
Last line: `proposal_latency backend=… adapter=… tables=… proposals=… p50_s=… p95_s=… …`
(p50/p95 over the app-default and request proposals: what the buttons do; target p50 <= 5 s on
2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, last_line, machine, machine_line, md_table, pct  # noqa: E402

STAGES = ("clean", "feature", "model")
DEFAULT = "app default"
RECIPES_ONLY = "recipes only (no model)"
# Older routes, timed only when asked for (--techniques): the model stage only ever selects.
EXTRA = {"clean": ("select", "scaffold"), "feature": ("select", "scaffold"), "model": ("select",)}


def engine_propose() -> Callable[..., Any]:
    """The engine's public `propose`."""
    from core.engine.session import propose

    return propose


def build(backend_kind: str | None) -> Any:
    from core.llm.registry import build_backend, settings_from_env

    s = settings_from_env()
    if backend_kind:
        s = s.model_copy(update={"kind": backend_kind})
    return build_backend(s)


def log_request(df: Any, target: str) -> str | None:
    """The free-form request of the "request" technique: the log of the first non-negative,
    non-constant numeric column (the same rule as `python -m core eval`)."""
    import pandas as pd

    for c in df.columns:
        if c != target and pd.api.types.is_numeric_dtype(df[c]) and df[c].nunique() > 10:
            if (df[c].dropna() >= 0).all():
                return f"add a column with the log of {c}"
    return None


def _apply(sandbox: Any, code: str, entrypoint: str, stage: str, df: Any, folder: Path) -> Any:
    """Accepted transform code on the whole table (in the sandbox): the next stage's input."""
    import pandas as pd

    from core.sandbox import SandboxJob

    src, dst = folder / "in.parquet", folder / "out.parquet"
    df.to_parquet(src)
    res = sandbox.run(
        SandboxJob(code=code, mode="transform", entrypoint=entrypoint, input_path=src, output_path=dst)
    )
    if not res.ok:
        raise RuntimeError(f"accepted {stage} code failed on the whole table: {res.error}")
    return pd.read_parquet(dst)


def time_proposals(
    datasets: list[Any],
    backend: Any,
    sandbox: Any,
    repeats: int,
    data_dir: Path,
    log: Callable[[str], None],
    extra: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for ds in datasets:
        try:
            records += _time_table(ds, backend, sandbox, repeats, data_dir, log, extra)
        except Exception as e:  # noqa: BLE001 - one table's crash is reported; the others still run
            records.append({"dataset": ds.name, "error": f"{type(e).__name__}: {e}"[:300]})
            log(f"{ds.name}: FAILED {type(e).__name__}: {e}")
    return records


def _time_table(
    ds: Any,
    backend: Any,
    sandbox: Any,
    repeats: int,
    data_dir: Path,
    log: Callable[[str], None],
    extra: tuple[str, ...],
) -> list[dict[str, Any]]:
    from core.devsuite import materialize
    from core.io import load_table
    from core.models import Project
    from core.profile import profile_dataframe

    propose = engine_propose()
    records: list[dict[str, Any]] = []
    work = Path(sandbox.workspace) / "latency"
    work.mkdir(parents=True, exist_ok=True)
    df = load_table(materialize(ds, data_dir)).df
    project = Project(
        id=ds.name, name=ds.name, target=ds.target, task=ds.task, profile=profile_dataframe(df, ds.target)
    )
    for stage in STAGES:
        accepted = None
        runs: list[tuple[str, Any, str | None]] = [(RECIPES_ONLY, None, None), (DEFAULT, backend, None)]
        runs += [(t, backend, None) for t in EXTRA[stage] if t in extra]
        req = log_request(df, ds.target) if stage == "feature" else None
        if req:
            runs.append(("request", backend, req))
        for technique, be, request in runs:
            for _ in range(repeats):
                kw: dict[str, Any] = {"data": df}
                if request:
                    kw["request"] = request
                elif be is not None and technique != DEFAULT:
                    kw["technique"] = technique
                t0 = time.perf_counter()
                p = propose(stage, project, be, sandbox, **kw)
                seconds = time.perf_counter() - t0
                records.append(
                    {
                        "dataset": ds.name,
                        "rows": len(df),
                        "stage": stage,
                        "technique": technique,
                        "seconds": round(seconds, 3),
                        "verified": bool(p.verified),
                        "provenance": p.provenance,
                        "route": p.origin.route if p.origin else None,
                        "detail": p.provenance_detail,
                        "attempts": len(p.attempts),
                        "intent": getattr(p, "intent", "n/a"),
                    }
                )
                log(
                    f"{ds.name:16s} {stage:8s} {technique:24s} {seconds:6.2f}s verified={p.verified} "
                    f"{p.provenance_detail}"
                )
                # The next stage sees what the app's default proposal produced (as a user accepting it).
                if p.verified and technique in (DEFAULT, RECIPES_ONLY) and not p.nothing_to_do:
                    accepted = p if technique == DEFAULT or accepted is None else accepted
        if stage != "model" and accepted is not None:
            df = _apply(sandbox, accepted.code, accepted.entrypoint, stage, df, work)
    return records


def warm_up(ds: Any, backend: Any, sandbox: Any, data_dir: Path) -> None:
    """One untimed proposal: loads the model's weights into cache, imports, starts the worker."""
    from core.devsuite import materialize
    from core.io import load_table
    from core.models import Project
    from core.profile import profile_dataframe

    df = load_table(materialize(ds, data_dir)).df
    project = Project(
        id=ds.name, name=ds.name, target=ds.target, task=ds.task, profile=profile_dataframe(df, ds.target)
    )
    engine_propose()("clean", project, backend, sandbox, data=df)


def time_autopilot(
    datasets: list[Any], backend: Any, sandbox: Any, data_dir: Path, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    from core.autopilot import run_autopilot
    from core.devsuite import materialize

    out: list[dict[str, Any]] = []
    for ds in datasets:
        path = materialize(ds, data_dir)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            try:
                res = run_autopilot(
                    path,
                    ds.target,
                    Path(tmp) / "out",
                    backend,
                    projects_root=Path(tmp) / "p",
                    sandbox=sandbox,
                    log=lambda _m: None,
                )
            except Exception as e:  # noqa: BLE001 - reported as a failed run; the other tables still run
                out.append({"dataset": ds.name, "seconds": float("nan"), "ok": False, "error": str(e)[:300]})
                log(f"autopilot {ds.name:16s} FAILED {type(e).__name__}: {e}")
                continue
            seconds = time.perf_counter() - t0
        steps = res.scorecard.get("steps", [])
        ok = all(s.get("ok") for s in steps)
        out.append(
            {
                "dataset": ds.name,
                "seconds": round(seconds, 2),
                "ok": ok,
                "steps": [{k: s.get(k) for k in ("stage", "provenance", "ok", "seconds")} for s in steps],
            }
        )
        log(f"autopilot {ds.name:16s} {seconds:6.1f}s ok={ok}")
    return out


def summarise(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    order = [RECIPES_ONLY, DEFAULT, "request", "select", "scaffold"]
    keys = sorted(
        {(r["stage"], r["technique"]) for r in records},
        key=lambda k: (STAGES.index(k[0]), order.index(k[1]) if k[1] in order else 9),
    )
    for stage, technique in keys:
        xs = [r for r in records if r["stage"] == stage and r["technique"] == technique]
        secs = [r["seconds"] for r in xs]
        rows.append(
            {
                "stage": stage,
                "technique": technique,
                "n": len(xs),
                "rows": sum(r["rows"] for r in xs),
                "verified": sum(r["verified"] for r in xs) / len(xs),
                "by_gemma": sum(r["provenance"] == "gemma" for r in xs),
                "p50_s": pct(secs, 0.5),
                "p95_s": pct(secs, 0.95),
            }
        )
    return rows


def render(summary: list[dict[str, Any]], autopilot: list[dict[str, Any]]) -> str:
    t1 = md_table(
        ["stage", "technique", "proposals", "table rows seen", "verified", "by Gemma", "p50 s", "p95 s"],
        [
            [
                s["stage"],
                s["technique"],
                s["n"],
                f"{s['rows']:,}",
                f"{s['verified']:.0%}",
                s["by_gemma"],
                s["p50_s"],
                s["p95_s"],
            ]
            for s in summary
        ],
    )
    if not autopilot:
        return t1
    t2 = md_table(
        ["autopilot: table", "total s", "all steps ok"],
        [[a["dataset"], a["seconds"], "yes" if a["ok"] else "no"] for a in autopilot],
    )
    return f"{t1}\n\n{t2}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="", help="comma-separated dev-suite names (default: all)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument(
        "--backend", default=None, help="gguf (embedded Gemma) or fake; default: GEMMA_WIZARD_* env"
    )
    ap.add_argument("--skip-autopilot", action="store_true")
    ap.add_argument("--techniques", default="", help="older routes to time too: select,scaffold")
    ap.add_argument("--out", default=str(RESULTS / "proposal_latency.json"))
    args = ap.parse_args()

    from core.devsuite import DEV_SUITE, dev_dataset
    from core.sandbox import LocalSandbox

    datasets = [dev_dataset(n.strip()) for n in args.datasets.split(",") if n.strip()] or list(DEV_SUITE)
    print(machine_line())

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    backend = build(args.backend)
    load_s = time.perf_counter() - t0
    name = getattr(getattr(backend, "info", None), "name", "?")
    adapter = "wizard" if getattr(getattr(backend, "info", None), "tuned", False) else "none"
    data_dir = Path(tempfile.gettempdir()) / "gemma-wizard-devsuite"
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = LocalSandbox(Path(tmp) / "ws")
        try:
            sandbox.warm_up()
            warm_up(datasets[0], backend, sandbox, data_dir)
            extra = tuple(t.strip() for t in args.techniques.split(",") if t.strip())
            records = time_proposals(datasets, backend, sandbox, args.repeats, data_dir, log, extra)
            auto = [] if args.skip_autopilot else time_autopilot(datasets, backend, sandbox, data_dir, log)
        finally:
            sandbox.close()
    failed = [r for r in records if "error" in r]
    records = [r for r in records if "error" not in r]
    summary = summarise(records)
    print(
        f"backend: {name} (loaded in {load_s:.1f} s, then warmed up with one untimed table); "
        f"{len(datasets)} tables x {args.repeats} repeat(s); threads: {os.cpu_count()} cores"
    )
    print()
    print(render(summary, auto))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "backend": name,
                "summary": summary,
                "records": records,
                "failed": failed,
                "autopilot": auto,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"\nrecords: {out}")
    # What the buttons do: Propose (the app's default) and a free-form request.
    shown = [r for r in records if r["technique"] in (DEFAULT, "request")]
    model = [r["seconds"] for r in shown]
    peer = [r["seconds"] for r in records if r["technique"] == RECIPES_ONLY]
    autos = [a["seconds"] for a in auto if "error" not in a]  # completed runs
    for r in failed:
        print(f"table failed: {r['dataset']}: {r['error']}")
    print(
        last_line(
            "proposal_latency",
            backend=name,
            adapter=adapter,
            tables=len(datasets),
            proposals=len(model),
            p50_s=pct(model, 0.5),
            p95_s=pct(model, 0.95),
            recipes_only_proposals=len(peer),
            recipes_only_p50_s=pct(peer, 0.5),
            verified_share=sum(r["verified"] for r in shown) / max(1, len(shown)),
            by_gemma=sum(r["provenance"] == "gemma" for r in shown),
            tables_failed=len(failed),
            autopilot_runs=len(auto),
            autopilot_all_steps_ok=sum(a["ok"] for a in auto),
            autopilot_p50_s=pct(autos, 0.5),
            autopilot_max_s=max(autos) if autos else float("nan"),
        )
    )


if __name__ == "__main__":
    main()
