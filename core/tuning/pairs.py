"""Instruction -> code training pairs, made from real tables and verified in the sandbox.

    python -m core.tuning.pairs [--out adapters/data] [--seed 14] [--bank prompts/bank/examples.jsonl]

For every table of a split (`core.tuning.tables`), in its published form and in a seeded
"messy" variant, the generator lists candidates (`core.tuning.intents` for requests and
questions, the rule recipes' rendered code for stage proposals), renders each prompt exactly as
the app does (`tuned_prompt(task, build_context(profile, stage, target, request,
budget_tokens=CONTEXT_TOKENS).text, request)`), and runs ALL candidates of a table variant in one
sandbox job (`core.tuning.checks.run_candidates`). Only candidates that run and whose outcome
check passes become pairs. Everything is seeded: the same code and packages give the same file.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import sys
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.context import build_context, profile_frame
from core.recipes.base import CONTRACTS
from core.stages import recipes_for, render_stage
from core.tuning import checks
from core.tuning.format import CONTEXT_TOKENS, tuned_prompt
from core.tuning.intents import Candidate, Cols, clean_candidates, feature_candidates
from core.tuning.questions import question_candidates
from core.tuning.tables import Table, load_table, messy, tables

SEED = 14
# What the model writes after the function: "\n###" is one of format.STOPS, so generation ends
# there (the training sequence also ends with the tokenizer's EOS).
TARGET_END = "###"
ROUNDS = {"train": 3, "eval": 1}  # draws of the request generators per table variant
STAGE_OF = {"clean": "clean", "feature": "feature", "ask": "ask"}


@dataclass
class Pair:
    split: str
    table: str
    variant: str
    task: str
    intent: str
    request: str | None
    prompt: str
    target: str  # continues the prompt: function body + return + TARGET_END
    context: str
    columns: list[str]
    spec: dict[str, Any]

    def record(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _rng(seed: int, *names: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32("/".join(names).encode())])


def stage_candidates(df: pd.DataFrame, target: str | None) -> list[Candidate]:
    """The recipes' rendered code for the clean and feature stages, as stage-proposal targets."""
    out = []
    profile = profile_frame(df, target)
    for stage in ("clean", "feature"):
        recipes = recipes_for(stage, profile, target)
        if not recipes:
            continue
        code = render_stage(stage, recipes)
        prefix = tuned_prompt(stage, "", None).prefix  # type: ignore[arg-type]
        if code.startswith(prefix):
            cols = sorted({c for r in recipes for c in r.applies_to})
            out.append(Candidate(stage, "stage", None, code[len(prefix) :], {"kind": "stage"}, cols))
    return out


def candidates_for(
    df: pd.DataFrame, target: str | None, rng: np.random.Generator, rounds: int
) -> list[Candidate]:
    profile = profile_frame(df, target)
    cols = Cols(df, profile)
    out = stage_candidates(df, target)
    for _ in range(rounds):
        out += (
            feature_candidates(df, cols, rng)
            + clean_candidates(df, cols, rng)
            + question_candidates(df, cols, rng)
        )
    seen: set[tuple[str, str | None, str]] = set()
    unique = []
    for c in out:
        key = (c.task, c.request, c.body)
        if key not in seen:
            seen.add(key)
            unique.append(c)
    return unique


def render(c: Candidate, df_profile: Any, target: str | None) -> tuple[str, str, str]:
    """(prompt, target text, context) for a candidate, through the app's one prompt path."""
    ctx = build_context(df_profile, STAGE_OF[c.task], target, c.request, budget_tokens=CONTEXT_TOKENS).text
    tp = tuned_prompt(c.task, ctx, c.request)  # type: ignore[arg-type]
    return tp.text, c.body + TARGET_END, ctx


def full_code(task: str, body: str) -> str:
    """The complete function source a candidate (or the model's completion) amounts to."""
    return tuned_prompt(task, "", None).prefix + body  # type: ignore[arg-type]


def batch_script(items: list[tuple[str, str, dict[str, Any]]]) -> str:
    """One sandbox script that runs every (task, code, spec) on `df` and sets `result`."""
    parts = [inspect.getsource(checks), "\n_CANDS = []\n"]
    for i, (task, code, spec) in enumerate(items):
        entry = CONTRACTS[task][0]
        inner = "\n".join("    " + ln if ln.strip() else "" for ln in code.splitlines())
        parts.append(
            f"\ndef _make_{i}():\n{inner}\n    return {entry}\n\n_CANDS.append((_make_{i}, {spec!r}))\n"
        )
    parts.append("\nresult = run_candidates(df, _CANDS)\n")
    return "".join(parts)


def compiles(code: str) -> bool:
    try:
        compile(code, "<candidate>", "exec")
    except SyntaxError:
        return False
    return True


class Verifier:
    """Runs batches of candidates in the sandbox on one table at a time."""

    def __init__(self, workspace: Path) -> None:
        from core.sandbox.base import SandboxLimits
        from core.sandbox.local import LocalSandbox

        self.workspace = workspace
        self.sandbox = LocalSandbox(workspace, limits=SandboxLimits(timeout_s=300, cpu_s=300, memory_mb=3072))

    def put(self, df: pd.DataFrame, name: str) -> tuple[Path, pd.DataFrame]:
        """Write the table as the sandbox input and return it as read back (the same dtypes)."""
        path = self.workspace / f"{name}.parquet"
        df.to_parquet(path, index=False)
        return path, pd.read_parquet(path)

    def run(self, path: Path, items: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
        from core.sandbox.base import SandboxJob

        res = self.sandbox.run(SandboxJob(code=batch_script(items), mode="script", input_path=path))
        if not res.ok or not isinstance(res.value, list) or len(res.value) != len(items):
            err = res.error or "no result list"
            return [{"ran": False, "passed": False, "reason": "", "error": f"batch failed: {err}"}] * len(
                items
            )
        return res.value

    def close(self) -> None:
        self.sandbox.close()


def table_variants(table: Table, seed: int) -> Iterator[tuple[str, pd.DataFrame]]:
    df = load_table(table, seed)
    yield "published", df
    yield "messy", messy(df, _rng(seed, table.name, "messy"), table.target)


def generate_table(
    table: Table, split: str, seed: int, verifier: Verifier | None
) -> tuple[list[Pair], list[dict[str, Any]], str]:
    """(verified pairs, one outcome row per candidate, candidate digest) for one table.

    Without a verifier nothing runs (no pairs): only the digest of the rendered candidates,
    which is what the manifest test recomputes quickly.
    """
    pairs: list[Pair] = []
    log: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for variant, raw in table_variants(table, seed):
        name = f"{table.name}-{variant}"
        if verifier is not None:
            path, df = verifier.put(raw, name)
        else:
            path, df = Path(), pd.read_parquet(_roundtrip(raw))
        cands = candidates_for(df, table.target, _rng(seed, table.name, variant), ROUNDS[split])
        profile = profile_frame(df, table.target)
        items = [(c.task, full_code(c.task, c.body), c.spec) for c in cands]
        ok_syntax = [compiles(code) for _, code, _ in items]
        to_run = [it for it, ok in zip(items, ok_syntax, strict=True) if ok]
        results = iter(verifier.run(path, to_run) if verifier is not None and to_run else [])
        for c, ok in zip(cands, ok_syntax, strict=True):
            out = next(results, None) if ok else {"ran": False, "passed": False, "error": "SyntaxError"}
            prompt, target, ctx = render(c, profile, table.target)
            rows.append({"prompt": prompt, "target": target, "spec": c.spec})
            log.append({"table": table.name, "variant": variant, "intent": c.intent, "request": c.request,
                        "outcome": out})  # fmt: skip
            if out and out.get("ran") and out.get("passed"):
                pairs.append(
                    Pair(
                        split,
                        table.name,
                        variant,
                        c.task,
                        c.intent,
                        c.request,
                        prompt,
                        target,
                        ctx,
                        c.columns,
                        c.spec,
                    )
                )
    return pairs, log, digest(rows)


def digest(records: Iterable[dict[str, Any]]) -> str:
    h = hashlib.sha256()
    for r in records:
        h.update(json.dumps(r, sort_keys=True, ensure_ascii=False, default=str).encode())
        h.update(b"\n")
    return h.hexdigest()


def candidate_digest(table: Table, split: str, seed: int) -> str:
    """Hash of one table's rendered candidates (no sandbox): what the manifest test recomputes."""
    return generate_table(table, split, seed, None)[2]


def _roundtrip(df: pd.DataFrame) -> Any:
    import io

    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    buf.seek(0)
    return buf


def bank_record(p: Pair) -> dict[str, Any]:
    """One retrieval-bank example: the request, the columns it uses, the context and the code."""
    return {"task": p.task, "request": p.request, "columns": p.columns, "context": p.context,
            "code": full_code(p.task, p.target[: -len(TARGET_END)])}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="adapters/data")
    ap.add_argument("--bank", default="prompts/bank/examples.jsonl")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--split", choices=["train", "eval", "both"], default="both")
    ap.add_argument("--tables", default="", help="comma-separated table names (default: all)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    only = {t for t in args.tables.split(",") if t}
    summary: dict[str, Any] = {"seed": args.seed, "splits": {}}
    with tempfile.TemporaryDirectory(prefix="tuning-pairs-") as ws:
        verifier = Verifier(Path(ws))
        try:
            for split in ["train", "eval"] if args.split == "both" else [args.split]:
                all_pairs: list[Pair] = []
                table_hashes: dict[str, str] = {}
                outcomes: list[dict[str, Any]] = []
                for table in tables(split):
                    if only and table.name not in only:
                        continue
                    t0 = time.perf_counter()
                    pairs, log, table_hashes[table.name] = generate_table(table, split, args.seed, verifier)
                    all_pairs += pairs
                    outcomes += log
                    took = time.perf_counter() - t0
                    print(f"{split} {table.name}: {len(pairs)}/{len(log)} verified ({took:.1f} s)",
                          file=sys.stderr, flush=True)  # fmt: skip
                records = [p.record() for p in all_pairs]
                with open(out / f"{split}.jsonl", "w", encoding="utf-8") as f:
                    for r in records:
                        f.write(json.dumps(r, ensure_ascii=False) + "\n")
                with open(out / f"{split}-outcomes.jsonl", "w", encoding="utf-8") as f:
                    for r in outcomes:
                        f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
                summary["splits"][split] = {
                    "pairs": len(records),
                    "candidates": len(outcomes),
                    "data_hash": digest(records),
                    "table_candidate_hashes": table_hashes,
                    "by_intent": _count(r["intent"] for r in records),
                    "by_task": _count(r["task"] for r in records),
                }
                if split == "train" and args.bank:
                    bank = Path(args.bank)
                    bank.parent.mkdir(parents=True, exist_ok=True)
                    with open(bank, "w", encoding="utf-8") as f:
                        for p in all_pairs:
                            if p.request:
                                f.write(json.dumps(bank_record(p), ensure_ascii=False) + "\n")
        finally:
            verifier.close()
    (out / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "table_candidate_hashes"}
                      for k, v in summary["splits"].items()}, indent=1))  # fmt: skip
    return 0


def _count(items: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return dict(sorted(out.items()))


if __name__ == "__main__":
    raise SystemExit(main())
