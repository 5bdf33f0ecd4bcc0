"""Base vs tuned Gemma through llama.cpp (the app's path), on tables the tuning never saw.

    python -m core.tuning.evaluate [--requests 40 --questions 30 --stages 10] [--models base,tuned]

Items come from `adapters/data/eval.jsonl` (development-suite tables only; the training tables
are disjoint). Each model gets the prompt the app renders for a tuned backend (`tuned_prompt`),
runs under the Q4_K_M GGUF with or without the GGUF LoRA, and its code (prefix + completion)
is run in the sandbox against the same outcome check the training targets had to pass.
Writes docs/eval/tuning_eval.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from core.tuning.format import STOPS

MAX_TOKENS = {"ask": 96, "clean": 160, "feature": 160}
STAGE_TOKENS = 400


def pick(rows: list[dict[str, Any]], n_req: int, n_q: int, n_stage: int, seed: int) -> list[dict[str, Any]]:
    """A seeded sample spread over the tables: requests, questions and stage proposals."""
    rnd = random.Random(seed)
    out = []
    for kind, n in (("request", n_req), ("question", n_q), ("stage", n_stage)):
        pool = [r for r in rows if _kind(r) == kind]
        rnd.shuffle(pool)
        by_table: dict[str, list[dict[str, Any]]] = {}
        for r in pool:
            by_table.setdefault(r["table"], []).append(r)
        taken: list[dict[str, Any]] = []
        while len(taken) < n and any(by_table.values()):
            for t in sorted(by_table):
                if by_table[t] and len(taken) < n:
                    taken.append(by_table[t].pop())
        out += taken
    return out


def _kind(r: dict[str, Any]) -> str:
    if r["request"] is None:
        return "stage"
    return "question" if r["task"] == "ask" else "request"


def with_examples(item: dict[str, Any]) -> str:
    """The item's prompt with the engine's retrieved bank examples in the `examples` slot."""
    import re

    from core.engine.retrieve import examples_for
    from core.tuning.format import tuned_prompt

    columns = re.findall(r"^- (.+?) \(", item["context"], flags=re.M)
    shots = examples_for(item["task"], item["request"], columns)
    return tuned_prompt(item["task"], item["context"], item["request"], examples=shots).text


def generate(
    items: list[dict[str, Any]], lora: str | None, threads: int, examples: bool = False
) -> list[tuple[str, float]]:
    """(completion, seconds) per item, greedy, with the tuned stop sequences."""
    from llama_cpp import Llama

    from core.llm.paths import default_gguf_path

    kw: dict[str, Any] = {"lora_path": lora} if lora else {}
    llm = Llama(
        model_path=str(default_gguf_path()), n_ctx=1536, n_threads=threads, seed=0, verbose=False, **kw
    )
    out = []
    for it in items:
        n = STAGE_TOKENS if it["request"] is None else MAX_TOKENS[it["task"]]
        t0 = time.perf_counter()
        prompt = with_examples(it) if examples and it["request"] else it["prompt"]
        res = llm.create_completion(prompt, max_tokens=n, temperature=0.0, stop=list(STOPS))
        out.append((res["choices"][0]["text"], time.perf_counter() - t0))
        print(f"  {len(out)}/{len(items)} {out[-1][1]:.1f} s", file=sys.stderr, flush=True)
    return out


def verify(items: list[dict[str, Any]], codes: list[str], seed: int) -> list[dict[str, Any]]:
    """Run each item's code on its table variant in the sandbox and apply the item's check."""
    from core.tuning.pairs import Verifier, compiles, table_variants
    from core.tuning.tables import tables

    by_name = {t.name: t for t in tables("eval")}
    results: list[dict[str, Any]] = [{}] * len(items)
    with tempfile.TemporaryDirectory(prefix="tuning-eval-") as ws:
        verifier = Verifier(Path(ws))
        try:
            for name in sorted({it["table"] for it in items}):
                for variant, df in table_variants(by_name[name], seed):
                    idx = [
                        i for i, it in enumerate(items) if it["table"] == name and it["variant"] == variant
                    ]
                    if not idx:
                        continue
                    path, _ = verifier.put(df, f"{name}-{variant}")
                    runnable = [i for i in idx if compiles(codes[i])]
                    for i in idx:
                        if i not in runnable:
                            results[i] = {"ran": False, "passed": False, "error": "SyntaxError"}
                    got = verifier.run(
                        path, [(items[i]["task"], codes[i], items[i]["spec"]) for i in runnable]
                    )
                    for i, r in zip(runnable, got, strict=True):
                        results[i] = r
        finally:
            verifier.close()
    return results


def summarise(
    items: list[dict[str, Any]], results: list[dict[str, Any]], secs: list[float]
) -> dict[str, Any]:
    def share(kind: str, key: str) -> float | None:
        rs = [r for it, r in zip(items, results, strict=True) if _kind(it) == kind]
        return round(sum(bool(r.get(key)) for r in rs) / len(rs), 3) if rs else None

    return {
        "request_success": share("request", "passed"),
        "request_runs": share("request", "ran"),
        "question_accuracy": share("question", "passed"),
        "question_runs": share("question", "ran"),
        "stage_verified": share("stage", "passed"),
        "p50_s": round(statistics.median(secs), 2),
        "p95_s": round(sorted(secs)[max(0, int(0.95 * len(secs)) - 1)], 2),
        "n": {k: sum(_kind(it) == k for it in items) for k in ("request", "question", "stage")},
    }


def main(argv: list[str] | None = None) -> int:
    from core.tuning.export import ADAPTER_FILE
    from core.tuning.pairs import SEED, TARGET_END, full_code

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="adapters/data/eval.jsonl")
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--questions", type=int, default=30)
    ap.add_argument("--stages", type=int, default=10)
    ap.add_argument("--models", default="base,tuned")
    ap.add_argument("--adapter", default=str(ADAPTER_FILE))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="docs/eval/tuning_eval.json")
    args = ap.parse_args(argv)
    rows = [json.loads(line) for line in open(args.data, encoding="utf-8")]
    items = pick(rows, args.requests, args.questions, args.stages, SEED)
    out_path = Path(args.out)
    report: dict[str, Any] = {}
    report.update(
        {
            "what": "tuned_prompt on eval-split tables (development suite), Q4_K_M GGUF via llama.cpp, "
            "greedy",
            "eval_tables": sorted({it["table"] for it in items}),
            "adapter": args.adapter,
        }
    )
    for model in args.models.split(","):
        # "base" / "tuned": the tuned prompt alone; "+examples": with the engine's retrieved
        # bank examples in the prompt (what core/engine/generate.py sends a tuned backend).
        lora = args.adapter if model.startswith("tuned") else None
        gens = generate(items, lora, args.threads, examples=model.endswith("+examples"))
        codes = []
        for it, (text, _) in zip(items, gens, strict=True):
            body = text.split("\n" + TARGET_END)[0]
            codes.append(full_code(it["task"], body.rstrip() + "\n"))
        results = verify(items, codes, SEED)
        report[model] = summarise(items, results, [s for _, s in gens])
        report[f"{model}_items"] = [
            {"table": it["table"], "intent": it["intent"], "request": it["request"],
             "passed": r.get("passed", False),
             "error": r.get("error"), "seconds": round(s, 2), "completion": text[:400]}
            for it, r, (text, s) in zip(items, results, gens, strict=True)
        ]  # fmt: skip
        print(model, json.dumps(report[model]), flush=True)
        # Re-read before writing: base and tuned may be measured by two runs at once.
        current = json.loads(out_path.read_text()) if out_path.exists() else {}
        current.update(report)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(current, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
