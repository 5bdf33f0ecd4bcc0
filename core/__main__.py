"""Command line: `python -m core run | ask | eval`.

    python -m core run DATA --target COLUMN --out DIR [--backend gguf|transformers|openai|fake]
                       [--model PATH_OR_ID] [--url URL] [--projects DIR]
    python -m core ask DATA "QUESTION" [--backend ...]
    python -m core suite --out DIR [--only a,b] [--backend ...]   (autopilot on the dev suite)
    python -m core eval [...]          (delegates to core.evaluation.main)

Exit codes: 0 success, 2 bad input (missing file, unknown target, one-valued target),
1 a run that failed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

BACKENDS = ("gguf", "transformers", "openai", "fake")


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


def _cmd_run(args: argparse.Namespace) -> int:
    from core.autopilot import run_autopilot

    _data_file(args.data)
    backend = build_backend_from_args(args)
    try:
        result = run_autopilot(args.data, args.target, args.out, backend, projects_root=args.projects)
    finally:
        backend.close()
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
    from core.io import load_table
    from core.propose import AskError, ask
    from core.sandbox import LocalSandbox

    table = load_table(_data_file(args.data))
    backend = build_backend_from_args(args)
    with tempfile.TemporaryDirectory(prefix="ask-") as ws:
        sandbox = LocalSandbox(Path(ws))
        try:
            code, stdout, value = ask(table.df, args.question, backend, sandbox)
        except AskError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        finally:
            sandbox.close()
            backend.close()
    print("# code\n" + code.rstrip() + "\n\n# output")
    if stdout.strip():
        print(stdout.rstrip())
    if value is not None:
        print(value)
    return 0


def _cmd_suite(args: argparse.Namespace) -> int:
    from core.autopilot import run_suite

    backend = build_backend_from_args(args)
    try:
        rows = run_suite(args.out, backend, names=args.only.split(",") if args.only else None)
    finally:
        backend.close()
    from core.autopilot import suite_table

    print(suite_table(rows))
    return 0 if all(r.get("beats_dummy") for r in rows) else 1


def _cmd_eval(argv: list[str]) -> int:
    from core import evaluation

    return int(evaluation.main(argv) or 0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "eval":
        return _cmd_eval(argv[1:])
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
    _add_backend_args(ask)
    suite = sub.add_parser("suite", help="the autopilot on every development-suite dataset (results table)")
    suite.add_argument("--out", required=True)
    suite.add_argument("--only", help="comma-separated dataset names")
    _add_backend_args(suite)
    sub.add_parser("eval", help="proposal evaluation (core.evaluation)")
    args = parser.parse_args(argv)
    from core.autopilot import AutopilotError
    from core.io import LoadError
    from core.llm.base import BackendError

    commands = {"run": _cmd_run, "ask": _cmd_ask, "suite": _cmd_suite}
    try:
        return commands[args.command](args) if args.command in commands else _cmd_eval([])
    except (BadInput, BackendError, AutopilotError, LoadError) as e:
        # Bad input, a model that will not load, an unreadable file: one clear line, exit 2.
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
