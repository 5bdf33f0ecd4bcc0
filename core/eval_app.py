"""The app-path eval, base vs tuned: `python -m core eval app [--side base|tuned] ...`.

Everything goes through what the app calls: tables are loaded by `core.io` from the
development-suite files (`core.devsuite`, the adapter's table-disjoint eval split), requests go
through `core.engine.session.propose(stage, project, backend, sandbox, request=...)`, questions
through `core.engine.answer.ask`, stage proposals through `propose(stage, ...)` with the stage's
default technique, and accepted code is run on the whole table in the sandbox. The backend is
the app's (`core.llm.registry.build_backend`, Q4_K_M GGUF by llama.cpp); the side decides the
adapter: base = `GEMMA_WIZARD_ADAPTER=off`, tuned = the committed adapter applied by llama.cpp.

Measured per side: request success (the outcome checked by reference pandas code from
`core.eval_cases`, independent of the engine's intent check), requests shown as verified that
are wrong, question accuracy, share of accepted stage steps authored by Gemma, p50/p95 latency.
Each side is written into one JSON (`--out`, merged with the other side already there) and the
Markdown table (`--md`) is rendered from both.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from core.eval_cases import QUESTIONS, REQUESTS, answer_correct
from core.models import Project

GEMMA = ("gemma", "gemma-repaired")


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))], 2)


class Tables:
    """Each development-suite table loaded once, as the app loads an upload."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._frames: dict[str, pd.DataFrame] = {}

    def frame(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            from core.devsuite import dev_dataset, materialize
            from core.io import load_table

            self._frames[name] = load_table(materialize(dev_dataset(name), self.data_dir)).df
        return self._frames[name].copy()

    def project(self, name: str, df: pd.DataFrame) -> Project:
        from core.devsuite import dev_dataset
        from core.profile import profile_dataframe

        ds = dev_dataset(name)
        return Project(
            id=name,
            name=name,
            target=ds.target,
            task=ds.task,
            profile=profile_dataframe(df, target=ds.target),
        )


def run_request(case: Any, backend: Any, sandbox: Any, tables: Tables, log: Any) -> dict[str, Any]:
    """One request through `propose`; offered code is applied to the whole table and checked by
    the case's reference outcome (not by the engine's own intent check)."""
    from core.engine.session import propose
    from core.evaluation import _apply

    df = tables.frame(case.table)
    t0 = time.perf_counter()
    base = {"table": case.table, "stage": case.stage, "request": case.request}
    try:
        p = propose(
            case.stage, tables.project(case.table, df), backend, sandbox, request=case.request, data=df
        )
    except Exception as e:  # noqa: BLE001 - an engine crash is a failed case, recorded
        log(f"request  {case.table:15s} ERR {type(e).__name__}: {e}")
        return {
            **base,
            "error": f"{type(e).__name__}: {e}",
            "success": False,
            "seconds": round(time.perf_counter() - t0, 2),
        }
    applied = p.verified and p.intent != "failed"
    reason = "not offered (no verified code that does it)"
    if applied:
        try:
            reason = case.outcome(df, _apply(p.code, p.entrypoint, df, sandbox)) or ""
        except Exception as e:  # noqa: BLE001 - code that fails on the whole table is a wrong outcome
            reason = f"failed on the whole table: {e}"
    ok = applied and reason == ""
    log(
        f"request  {case.table:15s} {'OK ' if ok else 'no '} {p.provenance:14s} intent={p.intent:9s} "
        f"{p.seconds:5.1f}s  {case.request[:50]!r}  {'' if ok else reason[:60]}"
    )
    return {
        **base,
        "provenance": p.provenance,
        "detail": p.provenance_detail,
        "verified": p.verified,
        "intent": p.intent,
        "intent_checks": p.intent_checks,
        "intent_reason": p.intent_reason,
        "success": ok,
        "outcome": reason or "as asked",
        "seconds": round(p.seconds, 2),
        "attempts": len(p.attempts),
        "code": p.code,
    }


def run_question(case: Any, backend: Any, sandbox: Any, tables: Tables, log: Any) -> dict[str, Any]:
    """One question through `ask`; the value is compared with the case's reference answer."""
    from core.engine.answer import AskError, ask
    from core.engine.intent_base import decode_value
    from core.headless import jsonable

    df = tables.frame(case.table)
    t0 = time.perf_counter()
    rec: dict[str, Any] = {"table": case.table, "question": case.question}
    try:
        a = ask(df, case.question, backend, sandbox)
        rec.update(
            answered=True,
            value=jsonable(decode_value(a.value)),
            intent=a.intent,
            intent_reason=a.intent_reason,
            correct=answer_correct(case, a.value, df),
            code=a.code,
            attempts=len(a.attempts),
            written_by=a.source,
            reading=a.reading,
        )
    except AskError as e:
        rec.update(answered=False, correct=False, intent="failed", error=str(e), attempts=len(e.attempts))
        # What Gemma wrote, for reading the failures (the last attempt of each source).
        rec["tried"] = [a.code for a in e.attempts if a.code][-2:]
    except Exception as e:  # noqa: BLE001 - an engine crash is a wrong answer, recorded
        rec.update(answered=False, correct=False, intent="failed", error=f"{type(e).__name__}: {e}")
    rec["expected"] = jsonable(case.reference(df))
    rec["seconds"] = round(time.perf_counter() - t0, 2)
    log(
        f"question {case.table:15s} {'OK ' if rec['correct'] else 'no '} intent={rec['intent']:9s} "
        f"{rec['seconds']:5.1f}s {case.question[:50]!r} -> {str(rec.get('value', rec.get('error')))[:40]}"
    )
    return rec


def schedule(only: set[str], parts: set[str]) -> list[tuple[str, Any]]:
    """Requests and questions in rounds over the tables (each table's first request and question,
    then the second ...), so that a run stopped early has covered many tables, not a few fully."""
    per: dict[str, list[list[tuple[str, Any]]]] = {}
    for kind, cases in (("request", REQUESTS), ("question", QUESTIONS)):
        if kind + "s" not in parts:
            continue
        for c in cases:
            if not only or c.table in only:
                per.setdefault(c.table, [[], []])[kind == "question"].append((kind, c))
    rounds = max((max(len(r), len(q)) for r, q in per.values()), default=0)
    out = []
    for i in range(rounds):
        for r, q in per.values():
            out += ([r[i]] if i < len(r) else []) + ([q[i]] if i < len(q) else [])
    return out


def run_stages(
    backend: Any, sandbox: Any, tables: Tables, names: list[str], log: Any
) -> list[dict[str, Any]]:
    """clean -> feature -> model per table, as the autopilot: each accepted step feeds the next."""
    from core.engine.session import propose
    from core.evaluation import _apply

    out = []
    for name in names:
        df = tables.frame(name)
        project = tables.project(name, df)
        for stage in ("clean", "feature", "model"):
            try:
                p = propose(stage, project, backend, sandbox, data=df)
            except Exception as e:  # noqa: BLE001
                out.append(
                    {"table": name, "stage": stage, "error": f"{type(e).__name__}: {e}", "accepted": False}
                )
                continue
            accepted = p.verified and not p.nothing_to_do
            out.append(
                {
                    "table": name,
                    "stage": stage,
                    "provenance": p.provenance,
                    "plan_steps": p.origin.steps if p.origin is not None else None,
                    "plan_steps_by_gemma": p.origin.steps_by_gemma if p.origin is not None else None,
                    "detail": p.provenance_detail,
                    "verified": p.verified,
                    "accepted": accepted,
                    "seconds": round(p.seconds, 2),
                }
            )
            log(
                f"stage {name:14s} {stage:8s} accepted={accepted!s:5s} {p.provenance:14s} {p.seconds:4.1f}s"
                f" {p.provenance_detail[:70]}"
            )
            if accepted and stage != "model":
                try:
                    df = _apply(p.code, p.entrypoint, df, sandbox)
                except RuntimeError as e:
                    out[-1]["accepted"] = False
                    out[-1]["error"] = str(e)
    return out


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def summarise(
    requests: list[dict[str, Any]], questions: list[dict[str, Any]], stages: list[dict[str, Any]]
) -> dict[str, Any]:
    n_r, n_q = len(requests), len(questions)
    ok = [r for r in requests if r["success"]]
    accepted = [s for s in stages if s.get("accepted")]
    lat = [r["seconds"] for r in requests if "seconds" in r]
    q_lat = [q["seconds"] for q in questions]
    return {
        "requests": n_r,
        "request_success": round(len(ok) / n_r, 3) if n_r else None,
        "request_success_by_gemma": round(sum(r.get("provenance") in GEMMA for r in ok) / n_r, 3)
        if n_r
        else None,
        "request_intent_verified": round(sum(r.get("intent") == "verified" for r in requests) / n_r, 3)
        if n_r
        else None,
        "shown_verified_but_wrong": sum(r.get("intent") == "verified" and not r["success"] for r in requests),
        "questions": n_q,
        "question_accuracy": round(sum(q["correct"] for q in questions) / n_q, 3) if n_q else None,
        "question_accuracy_by_gemma": round(
            sum(q["correct"] and q.get("written_by") in GEMMA for q in questions) / n_q, 3
        )
        if n_q
        else None,
        "answers_checked_but_wrong": sum(
            q.get("intent") == "verified" and not q["correct"] for q in questions
        ),
        "stage_steps_accepted": len(accepted),
        "stage_steps_by_gemma": round(sum(s["provenance"] in GEMMA for s in accepted) / len(accepted), 3)
        if accepted
        else None,
        "plan_steps_by_gemma": _share(
            sum(s.get("plan_steps_by_gemma") or 0 for s in accepted),
            sum(s.get("plan_steps") or 0 for s in accepted if s.get("plan_steps")),
        ),
        "request_p50_s": _pct(lat, 0.5),
        "request_p95_s": _pct(lat, 0.95),
        "question_p50_s": _pct(q_lat, 0.5),
        "question_p95_s": _pct(q_lat, 0.95),
    }


ROWS = [
    ("request_success", "Free-form requests done as asked (outcome checked by reference code)", "pct"),
    ("request_success_by_gemma", "… of which Gemma's own code", "pct"),
    ("request_intent_verified", "Requests whose intent the engine verified", "pct"),
    ("shown_verified_but_wrong", "Requests shown as verified that are wrong (target 0)", "int"),
    ("question_accuracy", "Questions answered correctly (Gemma, or a recipe after it failed)", "pct"),
    ("question_accuracy_by_gemma", "… of which Gemma's own code", "pct"),
    ("answers_checked_but_wrong", "Answers that passed the answer check but are wrong", "int"),
    ("stage_steps_by_gemma", "Accepted stage steps authored by Gemma (clean/feature/model)", "pct"),
    ("plan_steps_by_gemma", "… plan steps inside accepted clean/feature steps written by Gemma", "pct"),
    ("request_p50_s", "Request latency p50 (s)", "num"),
    ("request_p95_s", "Request latency p95 (s)", "num"),
    ("question_p50_s", "Question latency p50 (s)", "num"),
    ("question_p95_s", "Question latency p95 (s)", "num"),
]


def markdown(result: dict[str, Any]) -> str:
    sides = [s for s in ("base", "tuned") if s in result.get("sides", {})]

    def cell(v: Any, kind: str) -> str:
        if v is None:
            return "n/a"
        return f"{v:.0%}" if kind == "pct" else (f"{v}" if kind == "int" else f"{v:.1f}")

    head = "| metric | " + " | ".join(f"{s} ({result['sides'][s]['model']})" for s in sides) + " |"
    lines = [head, "|---|" + "---|" * len(sides)]
    for key, label, kind in ROWS:
        lines.append(
            f"| {label} | "
            + " | ".join(cell(result["sides"][s]["summary"].get(key), kind) for s in sides)
            + " |"
        )
    notes = []
    for s in sides:
        side = result["sides"][s]
        n_r, n_q = side["summary"]["requests"], side["summary"]["questions"]
        notes.append(
            f"- {s}: {n_r} requests, {n_q} questions on {len(side['tables'])} development-suite tables; "
            f"run {side['when']} ({side['seconds']} s)"
            + (" — partial: the run was still going or was stopped here" if side.get("partial") else "")
        )
    intro = (
        "# App-path eval: base vs wizard-tuned Gemma\n\nThe development-suite tables (table-disjoint from "
        "the adapter's training tables); requests and questions from `core/eval_cases.py`, outcomes "
        "checked by reference pandas code at eval time. Reproduce: `python -m core eval app --side base` "
        "and `python -m core eval app --side tuned`.\n\n"
    )
    return intro + "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m core eval app", description=__doc__.splitlines()[0])
    ap.add_argument("--side", choices=("base", "tuned"), help="adapter off (base) or on (tuned)")
    ap.add_argument("--render-only", action="store_true", help="only rewrite --md from the JSON in --out")
    ap.add_argument("--backend", default="gguf", help="gguf (the app's embedded Gemma) | fake (tests)")
    ap.add_argument("--tables", default="", help="comma-separated development-suite tables (default: all)")
    ap.add_argument("--parts", default="requests,questions,stages")
    ap.add_argument(
        "--stage-tables", default="", help="comma-separated tables for the stage walk (default: every table)"
    )
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default="docs/eval/eval_tuned.json")
    ap.add_argument("--md", default="docs/eval/RESULTS.md")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    if args.render_only:
        Path(args.md).write_text(
            markdown(json.loads(Path(args.out).read_text(encoding="utf-8"))), encoding="utf-8"
        )
        return 0
    if args.side is None:
        ap.error("--side is required (base or tuned)")

    from core.llm.paths import ADAPTER_ENV
    from core.sandbox.local import LocalSandbox

    only = {t for t in args.tables.split(",") if t}
    parts = set(args.parts.split(","))
    if args.side == "base":
        os.environ[ADAPTER_ENV] = "off"
    else:
        os.environ.pop(ADAPTER_ENV, None)
    backend = _backend(args.backend, args.threads, args.side == "tuned")
    info = getattr(backend, "info", None)
    if args.side == "tuned" and args.backend != "fake" and not getattr(info, "tuned", False):
        print(
            f"error: the tuned side needs the adapter; the backend reports: {getattr(info, 'extra', {})}",
            file=sys.stderr,
        )
        return 2
    model = f"{getattr(info, 'name', 'none')}{' + adapter' if getattr(info, 'tuned', False) else ''}"
    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.gettempdir()) / "gdw-devsuite"
    tables = Tables(data_dir)
    log = lambda s: print(s, flush=True)  # noqa: E731
    t0 = time.perf_counter()
    req: list[dict[str, Any]] = []
    qs: list[dict[str, Any]] = []
    st: list[dict[str, Any]] = []
    every = sorted({c.table for c in (*REQUESTS, *QUESTIONS)})
    wanted = [t for t in args.stage_tables.split(",") if t] or every
    names = [t for t in wanted if not only or t in only] if "stages" in parts else []

    def save(partial: bool) -> dict[str, Any]:
        side = {
            "model": model,
            "adapter": (getattr(info, "extra", {}) or {}).get("adapter"),
            "partial": partial,
            "tables": sorted({r["table"] for r in req + qs} | {s["table"] for s in st}),
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "seconds": round(time.perf_counter() - t0, 1),
            "summary": summarise(req, qs, st),
            "requests": req,
            "questions": qs,
            "stages": st,
        }
        out = Path(args.out)
        result = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
        result.setdefault("sides", {})[args.side] = side
        result["cases"] = {"requests": len(REQUESTS), "questions": len(QUESTIONS)}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
        Path(args.md).write_text(markdown(result), encoding="utf-8")
        return result

    # Case by case in rounds over the tables, saved after each: a stopped run keeps what it measured.
    with tempfile.TemporaryDirectory(prefix="gdw-eval-") as ws:
        sandbox = LocalSandbox(Path(ws))
        try:
            for name in names:  # a few tables' stage proposals first: the share authored by Gemma
                st += run_stages(backend, sandbox, tables, [name], log)
                save(partial=True)
            for kind, case in schedule(only, parts):
                if kind == "request":
                    req.append(run_request(case, backend, sandbox, tables, log))
                else:
                    qs.append(run_question(case, backend, sandbox, tables, log))
                save(partial=True)
        finally:
            sandbox.close()
            backend.close()
    result = save(partial=False)
    print("\n" + markdown(result))
    s = result["sides"][args.side]["summary"]
    print(
        f"eval_app side={args.side} request_success={s['request_success']} "
        f"question_accuracy={s['question_accuracy']} "
        f"gemma_steps={s['stage_steps_by_gemma']} p50_s={s['request_p50_s']}"
    )
    return 0


def _backend(kind: str, threads: int | None, adapter: bool) -> Any:
    if kind == "fake":
        from core.llm.fake import FakeBackend
        from core.llm.registry import guarded

        return guarded(FakeBackend(default=""))
    from core.llm.registry import ModelSettings, build_backend

    return build_backend(ModelSettings(kind=kind, n_threads=threads, adapter=adapter))
