"""GGUF models through llama-cpp-python: the CPU default backend.

One `Llama` object holds one context, so two generations at once would corrupt it: the
backend says `concurrent = False` and the registry's guard serialises callers.
"""

from __future__ import annotations

import ctypes
import functools
import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from core.llm.base import (
    BackendError,
    BackendInfo,
    GenerationParams,
    best_option,
    check_options,
    looks_instruction_tuned,
)

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"


def check_gguf_file(path: str | os.PathLike[str]) -> Path:
    """The path as a `Path` if it is a readable GGUF file; otherwise a `BackendError` that says why."""
    p = Path(path).expanduser()
    if not p.exists():
        raise BackendError(f"Model file not found: {p}")
    if p.is_dir():
        raise BackendError(
            f"{p} is a folder; the GGUF backend needs a .gguf file (a folder is for 'transformers')"
        )
    try:
        with p.open("rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise BackendError(f"Cannot read model file {p}: {e}") from e
    if magic != GGUF_MAGIC:
        raise BackendError(f"{p.name} is not a GGUF file (it does not start with the GGUF header)")
    return p


# llama.cpp evaluates a prompt in batches of this many tokens; a cached prefix is reused in whole
# batches only (`GGUFBackend._fresh`). With one thread prompt speed is about the same from 64 to
# 512; with two (`batch_threads`) small batches spend their time in thread synchronisation:
# measured here on 2 cores, 3,000 prompt tokens (the app's real prompts, adapter on): 64 tokens x
# 1 thread 145 tok/s, 64 x 2 155, 512 x 1 140, 512 x 2 230. The app's prompts (250-450 tokens)
# then go in one batch; a shared prefix is reused only past 512 tokens, which few prompts reach.
PREFIX_BLOCK = 512


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_threads() -> int:
    """Threads for decoding: half the usable cores (about the physical ones), at most 8.

    llama.cpp's threads spin while they wait for each other, so on a shared or hyper-threaded
    CPU more threads than physical cores makes decoding several times slower, not faster
    (measured here: 2 threads on 2 busy cores ran 5x slower than 1). GEMMA_WIZARD_THREADS overrides.
    """
    return max(1, min(_usable_cores() // 2, 8))


def batch_threads() -> int:
    """Threads for prompt evaluation: every usable core, at most 8.

    A prompt batch is one large matrix product per layer, so the threads rarely wait for each
    other (decoding is one token at a time: there they do). Measured here on 2 cores with the
    app's prompts: 2 threads evaluate 1.6x faster than 1 (and 1.25x with one core kept busy by
    another process), decoding speed unchanged because it keeps `default_threads`."""
    return max(1, min(_usable_cores(), 8))


def thread_counts(n_threads: int | None = None) -> tuple[int, int]:
    """(decoding, prompt evaluation) threads: threads the operator names (GEMMA_WIZARD_THREADS)
    are used for both; by default decoding gets half the cores and prompts all of them."""
    return n_threads or default_threads(), n_threads or batch_threads()


def _file_type_names() -> dict[int, str]:
    """llama.cpp's file-type enum (general.file_type) as names such as 'Q4_K_M'."""
    import llama_cpp

    names: dict[int, str] = {}
    for attr in dir(llama_cpp):
        if attr.startswith("LLAMA_FTYPE_") and attr != "LLAMA_FTYPE_GUESSED":
            value = getattr(llama_cpp, attr)
            if isinstance(value, int):
                names[value] = attr.removeprefix("LLAMA_FTYPE_").removeprefix("MOSTLY_").removeprefix("ALL_")
    return names


def describe_file_type(value: str | int | None) -> str:
    """Quantization name from GGUF metadata `general.file_type` ("15" -> "Q4_K_M")."""
    if value is None:
        return "unknown"
    try:
        code = int(value)
    except (TypeError, ValueError):
        return str(value)
    return _file_type_names().get(code, f"file type {code}")


_log_callback: Any = None  # kept referenced: ctypes would free a callback llama.cpp still calls


def quiet_llama_logs() -> None:
    """Route llama.cpp's C logging into Python logging (debug level) instead of stderr.

    `verbose=False` alone still lets some context-creation messages through to the terminal.
    """
    global _log_callback
    if _log_callback is not None:
        return
    import llama_cpp

    native = logging.getLogger("llama_cpp.native")

    @llama_cpp.llama_log_callback
    def _forward(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        if native.isEnabledFor(logging.DEBUG):
            native.debug(text.decode("utf-8", errors="replace").rstrip())

    _log_callback = _forward
    llama_cpp.llama_log_set(_forward, ctypes.c_void_p(0))


def gbnf_literal(text: str) -> str:
    # GBNF string literals take JSON's escapes for quotes, backslashes and control characters.
    return json.dumps(text, ensure_ascii=False)


def options_grammar(options: Sequence[str]) -> str:
    """A GBNF grammar whose only sentences are the options (an optional leading space first,
    because a base model usually answers " yes" rather than "yes")."""
    alternatives = " | ".join(gbnf_literal(o) for o in options)
    return f'root ::= " "? ({alternatives})\n'


@functools.lru_cache(maxsize=32)
def _compiled_grammar(options: tuple[str, ...]) -> Any:
    return _compiled_gbnf(options_grammar(options))


@functools.lru_cache(maxsize=32)
def _compiled_gbnf(text: str) -> Any:
    import llama_cpp

    return llama_cpp.LlamaGrammar.from_string(text, verbose=False)


class GreedyUnderGrammar:
    """Greedy decoding under a grammar that asks the grammar about the greedy token first.

    llama-cpp-python's sampler chain (grammar, then greedy) has the grammar judge all 262,144
    tokens of Gemma's vocabulary at every step: ~140 ms a token here, a grammar retry of 40
    tokens took 9 s instead of 4. The greedy answer under a grammar is the best token the
    grammar allows, so when the unconstrained best token is allowed it is the answer; only when
    the grammar refuses it is every token judged (as the chain does, same tie-break: the lowest
    id among the best). Same tokens, same grammar state; llama.cpp's own sampler
    (common_sampler's grammar-first check) does the same.
    """

    def __init__(self, llm: Any, grammar: Any) -> None:
        import llama_cpp

        self._c = llama_cpp
        vocab = llm._model.vocab
        self._n = int(llama_cpp.llama_vocab_n_tokens(vocab))
        self._g = llama_cpp.llama_sampler_init_grammar(
            vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        if not self._g:
            raise ValueError("llama.cpp refused the grammar")
        self.tokens = 0
        self.full_checks = 0  # steps where the grammar refused the greedy token

    def _judge(self, data: Any, size: int) -> None:
        c = self._c
        arr = c.llama_token_data_array(ctypes.cast(data, c.llama_token_data_p), size, -1, False)
        c.llama_sampler_apply(self._g, ctypes.byref(arr))

    def sample(self, ctx: Any, idx: int = -1) -> int:
        import numpy as np

        c = self._c
        logits = np.ctypeslib.as_array(c.llama_get_logits_ith(ctx.ctx, idx), shape=(self._n,))
        token = int(np.argmax(logits))
        one = (c.llama_token_data * 1)(c.llama_token_data(token, float(logits[token]), 0.0))
        self._judge(one, 1)
        if one[0].logit == float("-inf"):  # refused: judge every token, as the chain does
            self.full_checks += 1
            data = np.zeros(self._n, dtype=[("id", "<i4"), ("logit", "<f4"), ("p", "<f4")])
            data["id"] = np.arange(self._n, dtype=np.int32)
            data["logit"] = logits
            self._judge(data.ctypes.data, self._n)
            token = int(data["id"][int(np.argmax(data["logit"]))])
        c.llama_sampler_accept(self._g, token)
        self.tokens += 1
        return token

    def __del__(self) -> None:
        g, self._g = getattr(self, "_g", None), None
        if g:
            self._c.llama_sampler_free(g)


def grammar_first(llm: Any) -> Any:
    """Make `llm` decode greedily under a grammar with `GreedyUnderGrammar` (other sampling as is).

    llama-cpp-python builds a sampler per generation through `Llama._init_sampler` and only calls
    its `sample(ctx, idx)`; the last one built stays in `llm.last_grammar_sampler` (tests)."""
    original = getattr(llm, "_init_sampler", None)
    if not callable(original):  # another llama-cpp-python: its own sampling, unchanged
        return llm

    def init_sampler(**kw: Any) -> Any:
        plain_greedy = (
            kw.get("temp") == 0.0
            and not kw.get("logits_processor")
            and kw.get("repeat_penalty", 1.0) == 1.0
            and not kw.get("frequency_penalty")
            and not kw.get("presence_penalty")
        )
        if kw.get("grammar") is not None and plain_greedy:
            try:
                llm.last_grammar_sampler = GreedyUnderGrammar(llm, kw["grammar"])
                return llm.last_grammar_sampler
            except (AttributeError, TypeError, ValueError) as e:  # another llama-cpp-python: its chain
                log.warning("grammar-first sampling unavailable (%s); using llama.cpp's chain", e)
        return original(**kw)

    llm._init_sampler = init_sampler
    return llm


class GGUFBackend:
    """A GGUF file on llama.cpp (CPU unless `n_gpu_layers` says otherwise).

    `lora_path` applies a GGUF LoRA adapter at load time (the wizard-tuned adapter); the base file
    stays untouched. An adapter that does not fit the model is reported in `info.extra["adapter"]`
    and the model runs without it, rather than not at all.
    """

    can_stream = True
    concurrent = False

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_batch: int = PREFIX_BLOCK,
        n_gpu_layers: int = 0,
        chat: bool | None = None,
        lora_path: str | os.PathLike[str] | None = None,
    ) -> None:
        path = check_gguf_file(model_path)
        try:
            import llama_cpp
        except ImportError as e:
            raise BackendError(
                "The GGUF backend needs llama-cpp-python: pip install llama-cpp-python "
                "(or choose the 'transformers' backend)"
            ) from e
        quiet_llama_logs()
        threads, prompt_threads = thread_counts(n_threads)
        load: dict[str, Any] = {
            "model_path": str(path),
            "n_ctx": n_ctx,
            "n_threads": threads,
            "n_threads_batch": prompt_threads,
            "n_batch": min(n_batch, n_ctx),
            "n_gpu_layers": n_gpu_layers,
            "verbose": False,
        }
        adapter_note: str | None = None  # what the sidebar shows about the adapter
        applied = False
        try:
            if lora_path is not None:
                try:
                    self.llm = self._load_with_adapter(llama_cpp, load, lora_path)
                    adapter_note, applied = Path(lora_path).name, True
                except (BackendError, ValueError, RuntimeError, OSError) as e:
                    log.warning("adapter %s not applied: %s", lora_path, e)
                    adapter_note = f"not applied ({Path(lora_path).name}: {e})"
            if not applied:
                self.llm = llama_cpp.Llama(**load)
        except MemoryError as e:
            raise BackendError(
                f"Out of memory loading {path.name} with a {n_ctx}-token context; try a smaller context "
                "size or a smaller model"
            ) from e
        except (ValueError, RuntimeError, OSError) as e:
            raise BackendError(
                f"llama.cpp could not load {path.name}: {e}. The file may be truncated, or its model "
                "architecture is newer than this llama-cpp-python"
            ) from e
        grammar_first(self.llm)
        self.path = path
        self._prompt_tokens = 0  # length of the last prompt (what `_fresh` may reuse)
        self.reused_tokens = 0  # prompt tokens not evaluated again (benchmarks read it)
        md: dict[str, str] = dict(self.llm.metadata or {})
        arch = md.get("general.architecture", "")
        model_name = md.get("general.name") or path.stem
        self.chat_template: str | None = md.get("tokenizer.chat_template")
        if chat is None:
            # A GGUF may carry a chat template even for a base model; only -it/instruct names get one.
            chat = bool(self.chat_template) and (
                looks_instruction_tuned(path.name) or looks_instruction_tuned(model_name)
            )
        self.info = BackendInfo(
            name=model_name,
            kind="gguf",
            quantization=describe_file_type(md.get("general.file_type")),
            device="cpu" if n_gpu_layers == 0 else f"gpu ({n_gpu_layers} layers)",
            context_size=int(self.llm.n_ctx()),
            chat=chat,
            tuned=applied,
            extra={
                "file": path.name,
                "path": str(path),
                "architecture": arch,
                "trained context": md.get(f"{arch}.context_length", "?"),
                "threads": str(threads)
                if threads == prompt_threads
                else f"{threads} (prompt: {prompt_threads})",
            },
        )
        if adapter_note is not None:
            self.info.extra["adapter"] = adapter_note

    @staticmethod
    def _load_with_adapter(llama_cpp: Any, load: dict[str, Any], lora_path: str | os.PathLike[str]) -> Any:
        check_gguf_file(lora_path)
        llm = llama_cpp.Llama(**load, lora_path=str(lora_path))
        # llama-cpp-python 0.3.x tests the adapter handle with `is None`, but a failed load comes
        # back as a NULL pointer object, so a broken file would pass as applied: test it here.
        if not getattr(llm, "_lora_adapter", None):
            llm.close()
            raise BackendError("llama.cpp could not read it as a LoRA adapter for this model")
        return llm

    # ------------------------------------------------------------------ generation
    def _kwargs(self, params: GenerationParams) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "stop": list(params.stop),
            "seed": params.seed,
        }
        if params.grammar:
            try:
                kwargs["grammar"] = _compiled_gbnf(params.grammar)
            except ValueError as e:  # llama.cpp refused the grammar: answer unconstrained
                self.info.extra["grammar"] = f"refused: {e}"
        return kwargs

    def _fresh(self, prompt: str) -> None:
        """Keep what the last prompt left in the KV cache only in whole batches, so an answer
        depends on its prompt alone, not on what was asked before.

        llama-cpp-python keeps the last prompt's KV cache and evaluates only from where the new
        prompt differs; a cache cut at an arbitrary token gives batches of other sizes than a
        fresh evaluation, so the sums run in another order and the logits differ in the last
        bits, now and then enough to change a greedy answer (seen here in a run of 12). A fresh
        evaluation runs in batches of `n_batch` tokens from position 0; cutting the shared prefix
        down to a multiple of `n_batch`, and only inside the last prompt (whose batches were laid
        out the same way, unlike generated tokens, decoded one at a time), leaves the rest to be
        evaluated in exactly the batches a fresh run would use: the same numbers, and a prefix
        shared by consecutive prompts is not evaluated again (tested in tests/test_llm_gguf.py).
        """
        llm = self.llm
        tokens = llm.tokenize(prompt.encode("utf-8"), special=True)  # as create_completion does
        block = max(1, int(llm.n_batch))
        cached = list(llm.input_ids[: min(int(llm.n_tokens), self._prompt_tokens)])
        keep = 0
        for a, b in zip(cached, tokens[:-1], strict=False):  # the last token is always evaluated
            if a != b:
                break
            keep += 1
        keep -= keep % block
        if keep == 0:
            llm.reset()
        else:
            llm.n_tokens = keep  # create_completion finds this prefix and evaluates the rest
        self._prompt_tokens = len(tokens)
        self.reused_tokens += keep

    def complete(self, prompt: str, params: GenerationParams) -> str:
        self._fresh(prompt)
        try:
            out = self.llm.create_completion(prompt, **self._kwargs(params))
        except ValueError as e:  # llama-cpp-python reports a prompt longer than the context this way
            raise BackendError(f"The prompt does not fit the model's context: {e}") from e
        return str(out["choices"][0]["text"])  # type: ignore[index]

    def stream(self, prompt: str, params: GenerationParams) -> Iterator[str]:
        self._fresh(prompt)
        try:
            chunks = self.llm.create_completion(prompt, stream=True, **self._kwargs(params))
            for chunk in chunks:
                text = chunk["choices"][0]["text"]  # type: ignore[index]
                if text:
                    yield text
        except ValueError as e:
            raise BackendError(f"The prompt does not fit the model's context: {e}") from e

    def choose(self, prompt: str, options: Sequence[str]) -> str:
        """One of `options`, decoded greedily under a grammar that allows nothing else."""
        opts = check_options(options)
        if len(opts) == 1:
            return opts[0]
        # Every token is at least one byte, so the longest option's bytes bound the answer.
        budget = max(len(o.encode("utf-8")) for o in opts) + 4
        self._fresh(prompt)
        try:
            out = self.llm.create_completion(
                prompt, max_tokens=budget, temperature=0.0, grammar=_compiled_grammar(tuple(opts))
            )
        except ValueError as e:
            raise BackendError(f"The prompt does not fit the model's context: {e}") from e
        text = str(out["choices"][0]["text"]).strip()  # type: ignore[index]
        # Cut short (context full) is the only way out of the grammar; map what came back.
        return text if text in opts else best_option(text, opts)

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def render_chat(self, messages: list[dict[str, str]]) -> str | None:
        """The messages through the GGUF's own chat template, or None when it has none."""
        if not self.chat_template:
            return None
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        bos = self.llm.detokenize([self.llm.token_bos()], special=True).decode("utf-8", errors="replace")
        eos = self.llm.detokenize([self.llm.token_eos()], special=True).decode("utf-8", errors="replace")
        formatter = Jinja2ChatFormatter(self.chat_template, eos_token=eos, bos_token=bos)
        text = formatter(messages=messages).prompt  # type: ignore[arg-type]
        # llama.cpp adds BOS itself when it tokenizes the prompt; a second one hurts quality.
        return text.removeprefix(bos) if bos else text

    def close(self) -> None:
        close = getattr(self.llm, "close", None)
        if callable(close):
            close()
