"""Command line: `python -m core run | ask | eval`.

    python -m core run DATA --target COLUMN --out DIR [--backend gguf|transformers|openai|fake]
                       [--model PATH_OR_ID] [--url URL] [--projects DIR]
    python -m core ask DATA "QUESTION" [--json] [--backend ...]
    python -m core request DATA "REQUEST" [--stage clean|feature] [--out DIR] [--json] [--accept-unchecked]
    python -m core suite --out DIR [--only a,b] [--backend ...]   (autopilot on the dev suite)
    python -m core eval [...]          (delegates to core.evaluation.main)
    python -m core doctor [--no-generate]  (CPU, llama.cpp build, a test generation, sandbox layers)

Exit codes: 0 success, 2 bad input (missing file, unknown target, one-valued target, empty table),
1 a run that failed (for `request`: no code did what was asked), 3 `request` code that runs but
could not be checked against the request (not applied without --accept-unchecked).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

BACKENDS = ("gguf", "transformers", "openai", "fake")
T = TypeVar("T")


def _add_backend_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--backend", choices=BACKENDS, help="model backend (default: GEMMA_WIZARD_BACKEND or gguf)"
    )
    p.add_argument("--model", help="GGUF path, transformers folder / hub id, or the server's model name")
    p.add_argument("--url", help="base URL of an OpenAI-compatible server (--backend openai)")


def build_backend_from_args(args: argparse.Namespace) -> Any:
    """The backend the flags (over GEMMA_WIZARD_* variables) describe.

    `--backend fake` is the scripted fake from the registry: its replies never verify, so every
    stage exercises the recipe (rule) path -- useful for tests and for a run without a model.
    """
    from core.llm.registry import ModelSettings, build_backend, settings_from_env

    settings = settings_from_env()
    update: dict[str, Any] = {}
    if args.backend:
        update["kind"] = args.backend
    if args.model:
        update["model"] = args.model
    if getattr(args, "url", None):
        update["base_url"] = args.url
    if update:
        settings = ModelSettings.model_validate({**settings.model_dump(), **update})
    return build_backend(settings)


class BadInput(Exception):
    """Input the user must fix (exit code 2); raised by the commands, reported once by `main`."""


def _data_file(path: str) -> Path:
    if not Path(path).is_file():
        raise BadInput(f"data file not found: {path}")
    return Path(path)


def _with_backend(args: argparse.Namespace, run: Callable[[Any], T], data: bool = True) -> T:
    """`run(backend)` with the backend `args` names, closed afterwards (the data file checked first)."""
    if data:
        _data_file(args.data)
    backend = build_backend_from_args(args)
    try:
        return run(backend)
    finally:
        backend.close()


def _cmd_run(args: argparse.Namespace) -> int:
    from core.autopilot import run_autopilot

    result = _with_backend(
        args,
        lambda backend: run_autopilot(args.data, args.target, args.out, backend, projects_root=args.projects),
    )
    model = result.scorecard.get("model")
    if not model:
        print("error: no model could be trained; see scorecard.json", file=sys.stderr)
        return 1
    pm = model["primary_metric"]
    ours = model["test"].get(pm)
    hgb = (model["baselines"].get("hgb_default") or {}).get(pm)
    dummy = (model["baselines"].get("dummy") or {}).get(pm)
    print(f"{result.scorecard['task']}: test {pm} {ours} (HGB default {hgb}, dummy {dummy})")
    return 0


def _cmd_ask(args: argparse.Namespace) -> int:
    import json

    from core.headless import run_question

    out = _with_backend(args, lambda backend: run_question(args.data, args.question, backend))
    if args.json:
        print(json.dumps(out, indent=1, ensure_ascii=False))
        return 0 if out["status"] == "answered" else 1
    if out["status"] != "answered":
        print(f"error: {out['error']}", file=sys.stderr)
        return 1
    if out.get("gemma_failure"):
        print(
            f"note: Gemma's answer failed ({out['gemma_failure']}); a question recipe answered",
            file=sys.stderr,
        )
    # Who wrote the code is said first: a question recipe's answer is never passed off as Gemma's.
    by = {"gemma": "Gemma", "gemma-repaired": "Gemma (repaired)"}.get(out["written_by"], "a question recipe")
    reading = f", reading the question as {out['reading']}" if out["written_by"] == "rule" else ""
    print(f"# code (written by {by}{reading})\n" + out["code"].rstrip() + "\n\n# output")
    if out["stdout"].strip():
        print(out["stdout"].rstrip())
    if out["value"] is not None:
        print(out["value"])
    reason = f" ({out['intent_reason']})" if out["intent_reason"] else ""
    print(f"\n# answer check: {out['intent']}{reason}")
    for line in out["intent_checks"]:
        print(f"#   {line}")
    return 0


def _cmd_request(args: argparse.Namespace) -> int:
    """A free-form request, headless: code, provenance, intent state, what changed, the table."""
    import json

    from core.headless import describe_changes, run_request

    outcome = _with_backend(args, lambda backend: run_request(
        args.data, args.request, args.stage, backend, out=args.out, target=args.target,
        projects=args.projects, accept_unchecked=args.accept_unchecked))  # fmt: skip
    code = {"done": 0, "could-not-do": 1, "needs-confirmation": 3}[outcome.status]
    if args.json:
        print(json.dumps(outcome.to_json(args.request, args.stage, args.data), indent=1, ensure_ascii=False))
        return code
    p = outcome.proposal
    print(f"# {args.stage} code for {args.request!r}\n{p.code.rstrip() or '(none)'}\n")
    print(f"provenance: {p.provenance_detail}")
    print(f"verified on a sample: {'yes' if p.verified else 'no'}; intent: {p.intent}"
          + (f" ({p.intent_reason})" if p.intent_reason else ""))  # fmt: skip
    for line in p.intent_checks:
        print(f"  {line}")
    for line in describe_changes(outcome.changes):
        print(f"changes: {line}")
    if outcome.output:
        print(f"wrote {outcome.output}")
    elif outcome.applied:
        print("(no --out: the table was not written)")
    if outcome.withheld:
        print(f"not applied: {outcome.withheld}", file=sys.stderr)
    elif not outcome.applied:
        print("not applied: no code did what was asked", file=sys.stderr)
    return code


def _cmd_suite(args: argparse.Namespace) -> int:
    from core.autopilot import run_suite

    names = args.only.split(",") if args.only else None
    rows = _with_backend(args, lambda backend: run_suite(args.out, backend, names=names), data=False)
    from core.autopilot import suite_table

    print(suite_table(rows))
    return 0 if all(r.get("beats_dummy") for r in rows) else 1


def _cmd_eval(argv: list[str]) -> int:
    from core import evaluation

    return int(evaluation.main(argv) or 0)


def _cmd_doctor(argv: list[str]) -> int:
    from core import doctor

    return doctor.run(generate="--no-generate" not in argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "eval":
        return _cmd_eval(argv[1:])
    if argv and argv[0] == "doctor":  # exit 1 when something is broken
        return _cmd_doctor(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m core", description="Gemma Data Wizard without a browser")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="load -> profile -> clean -> feature -> model -> report")
    run.add_argument("data", help="CSV / Excel / Parquet / JSON file")
    run.add_argument("--target", required=True, help="the column to predict")
    run.add_argument("--out", required=True, help="folder for notebook.ipynb, report.md, scorecard.json")
    run.add_argument("--projects", help="keep the project here (default: a temporary folder)")
    _add_backend_args(run)
    ask = sub.add_parser("ask", help="answer a question about a table with verified code")
    ask.add_argument("data")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the answer, code and checks as JSON")
    _add_backend_args(ask)
    req = sub.add_parser("request", help="a free-form clean/feature request: code, checks, resulting table")
    req.add_argument("data")
    req.add_argument("request")
    req.add_argument("--stage", choices=("clean", "feature"), default="clean")
    req.add_argument("--out", help="folder for the resulting table (<name>.<stage>.csv)")
    req.add_argument("--target", help="the column to predict (protected from changes)")
    req.add_argument("--projects", help="keep the project here (default: a temporary folder)")
    req.add_argument(
        "--accept-unchecked",
        action="store_true",
        help="apply code whose intent could not be checked (the app asks for a confirmation)",
    )
    req.add_argument("--json", action="store_true", help="print the outcome as JSON")
    _add_backend_args(req)
    suite = sub.add_parser("suite", help="the autopilot on every development-suite dataset (results table)")
    suite.add_argument("--out", required=True)
    suite.add_argument("--only", help="comma-separated dataset names")
    _add_backend_args(suite)
    sub.add_parser("eval", help="proposal evaluation (core.evaluation)")
    sub.add_parser("doctor", help="check the CPU, the llama.cpp build, the model process and the sandbox")
    args = parser.parse_args(argv)
    from core.autopilot import AutopilotError
    from core.headless import HeadlessInputError
    from core.io import LoadError
    from core.llm.base import BackendError

    commands = {"run": _cmd_run, "ask": _cmd_ask, "request": _cmd_request, "suite": _cmd_suite}
    try:
        return commands[args.command](args) if args.command in commands else _cmd_eval([])
    except (BadInput, BackendError, AutopilotError, LoadError, HeadlessInputError) as e:
        # Bad input, a model that will not load, an unreadable file: one clear line, exit 2.
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
