"""LLM speed: raw llama-cpp-python vs our GGUF backend vs our transformers backend, one process, one run.

    .venv/bin/python benchmarks/llm_speed.py [--rounds 3] [--max-tokens 64] [--threads N]

Every engine gets the same prompts, greedy decoding and the same thread count, and is measured by
the same function: time to the first streamed piece (TTFT, which is prompt processing plus one
decode step), then decode tokens/s over the rest. Output tokens are counted with one tokenizer
(the GGUF's) for all three, so the rates compare. Every prompt runs through the engines back to
back in alternating order, so drift in a shared machine's load does not favour one of them. The last line is
`llm_speed ratio_gguf_vs_raw=<x> gguf_tok_s=<y> transformers_tok_s=<z>` (target: ratio >= 0.95).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.llm.base import GenerationParams  # noqa: E402
from core.llm.gguf import default_threads, quiet_llama_logs  # noqa: E402
from core.llm.registry import ModelSettings, build_backend, default_gguf_path  # noqa: E402

PROMPTS = [
    "import pandas as pd\n\n\ndef clean(df: pd.DataFrame) -> pd.DataFrame:\n"
    '    """Drop duplicate rows and fill',
    "The three most common causes of missing values in survey data are",
    "def add_features(df):\n    # ratio of price to area, log of income, month of the order date\n",
]

StreamFn = Callable[[str, GenerationParams], Iterator[str]]


@dataclass
class Engine:
    name: str
    stream: StreamFn
    ttft: list[float] = field(default_factory=list)
    prompt_rate: list[float] = field(default_factory=list)
    decode_tokens: int = 0
    decode_seconds: float = 0.0

    def decode_rate(self) -> float:
        return self.decode_tokens / self.decode_seconds if self.decode_seconds else 0.0


def measure(engine: Engine, prompt: str, params: GenerationParams, count: Callable[[str], int]) -> None:
    started = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    for piece in engine.stream(prompt, params):
        if first is None:
            first = time.perf_counter() - started
        pieces.append(piece)
    total = time.perf_counter() - started
    if first is None:
        return
    n_out = count("".join(pieces))
    engine.ttft.append(first)
    engine.prompt_rate.append(count(prompt) / first)
    if n_out > 1:
        engine.decode_tokens += n_out - 1
        engine.decode_seconds += total - first


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=default_threads())
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--skip-transformers", action="store_true")
    args = ap.parse_args()

    import llama_cpp

    path = default_gguf_path()
    params = GenerationParams(max_tokens=args.max_tokens, temperature=0.0, seed=0)
    quiet_llama_logs()

    # (a) raw llama-cpp-python, the same settings our backend uses.
    t0 = time.perf_counter()
    raw = llama_cpp.Llama(
        model_path=str(path), n_ctx=args.n_ctx, n_threads=args.threads, n_threads_batch=args.threads,
        n_batch=512, verbose=False,
    )  # fmt: skip
    print(f"loaded raw llama.cpp in {time.perf_counter() - t0:.1f} s", flush=True)

    def raw_stream(prompt: str, p: GenerationParams) -> Iterator[str]:
        for chunk in raw.create_completion(
            prompt,
            max_tokens=p.max_tokens,
            temperature=p.temperature,
            stop=list(p.stop),
            seed=p.seed,
            stream=True,
        ):
            text = chunk["choices"][0]["text"]  # type: ignore[index]
            if text:
                yield text

    def count(text: str) -> int:
        return len(raw.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    # (b) our GGUF backend, exactly as the app builds it (registry, guard, speed stats).
    t0 = time.perf_counter()
    ours = build_backend(
        ModelSettings(kind="gguf", model=str(path), n_ctx=args.n_ctx, n_threads=args.threads)
    )
    print(f"loaded our GGUF backend in {time.perf_counter() - t0:.1f} s", flush=True)
    engines = [Engine("raw llama-cpp-python", raw_stream), Engine("our GGUF backend", ours.stream)]

    # (c) our transformers backend on the same file (de-quantized; converted once, then cached).
    if not args.skip_transformers:
        import torch

        torch.set_num_threads(args.threads)
        t0 = time.perf_counter()
        tf = build_backend(
            ModelSettings(kind="transformers", model=str(path), n_ctx=args.n_ctx, n_threads=args.threads)
        )
        print(f"loaded our transformers backend ({tf.info.quantization}) in {time.perf_counter() - t0:.1f} s",
              flush=True)  # fmt: skip
        engines.append(Engine("our transformers backend", tf.stream))

    # Warm-up: first calls pay one-off costs (allocations, kernel selection).
    for e in engines:
        measure(Engine(e.name, e.stream), "Hello", GenerationParams(max_tokens=4), count)

    # Each prompt goes through every engine back to back, in alternating order, so a change in
    # the machine's load hits the engines alike.
    step = 0
    for r in range(args.rounds):
        for prompt in PROMPTS:
            order = engines if step % 2 == 0 else list(reversed(engines))
            for e in order:
                measure(e, prompt, params, count)
            step += 1
        print(f"round {r + 1}/{args.rounds} done", flush=True)

    print()
    print(f"model {path.name}, threads {args.threads}, n_ctx {args.n_ctx}, {len(PROMPTS)} prompts x "
          f"{args.rounds} rounds, up to {args.max_tokens} new tokens, greedy")  # fmt: skip
    print(f"| {'engine':<26} | decode tok/s | prompt tok/s | TTFT median s |")
    print(f"| {'-' * 26} | -----------: | -----------: | ------------: |")
    for e in engines:
        print(f"| {e.name:<26} | {e.decode_rate():12.1f} | {statistics.median(e.prompt_rate):12.1f} | "
              f"{statistics.median(e.ttft):13.3f} |")  # fmt: skip
    raw_rate, ours_rate = engines[0].decode_rate(), engines[1].decode_rate()
    tf_rate = engines[2].decode_rate() if len(engines) > 2 else float("nan")
    ratio = ours_rate / raw_rate if raw_rate else float("nan")
    print(
        f"llm_speed ratio_gguf_vs_raw={ratio:.3f} gguf_tok_s={ours_rate:.1f} transformers_tok_s={tf_rate:.1f}"
    )


if __name__ == "__main__":
    main()
