"""Settings → backend, in one place.

`build_backend(ModelSettings())` gives the embedded Gemma 3 270M on llama.cpp. Other kinds are
rows in `BACKENDS` (a registration table, never an if-chain); a new backend registers with
`@register("kind")`. Every built backend comes back wrapped in `GuardedBackend`, which
serialises non-concurrent backends and measures speed for the sidebar.

The real model kinds (gguf, transformers) are built inside a supervised model process
(`core.llm.process`): a crash in native code there is an error message and a restart, not a dead
server. `ModelSettings.isolate` (GEMMA_WIZARD_ISOLATE) overrides that per kind.

`format_prompt` is the one place that knows chat templates vs plain completion prompts, so
prompt code upstream writes a system text and a user text and never asks which model it has.
"""

from __future__ import annotations

import json
import os
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError, field_validator

from core.llm.base import (
    Backend,
    BackendError,
    BackendInfo,
    GenerationParams,
    best_option,
    check_options,
    choose_by_reply,
)
from core.llm.paths import EMBEDDED_MODEL_FILE as EMBEDDED_MODEL_FILE  # re-exported
from core.llm.paths import (
    adapter_path,
    default_gguf_path,
    is_embedded_model,
    peft_adapter_dir,
)
from core.llm.paths import cache_dir as cache_dir  # re-exported

BackendKind = Literal["gguf", "transformers", "openai", "fake"]
Quantization = Literal["auto", "4bit", "none"]
# Kinds that run native model code: built inside a supervised model process by default.
ISOLATED_KINDS: frozenset[str] = frozenset({"gguf", "transformers"})


# --------------------------------------------------------------------------- settings
class ModelSettings(BaseModel):
    """Which model to load and how. Empty `model` means the embedded Gemma 3 270M GGUF."""

    kind: BackendKind = "gguf"
    model: str | None = None  # GGUF path, HF folder or hub id, or the server's model name
    base_url: str | None = None  # openai: "http://127.0.0.1:8080" (with or without /v1)
    api_key: str | None = None
    n_ctx: int = 4096  # the model supports 32k; 4k keeps CPU prompt processing and memory small
    n_threads: int | None = None  # None: the cores this process may use
    quantization: Quantization = "auto"  # transformers: "auto" = 4-bit NF4 when CUDA is present
    chat: bool | None = None  # None: detect (template present and an -it/instruct model)
    timeout_s: float = 300.0  # openai: one request
    adapter: bool = True  # apply the wizard-tuned LoRA adapter to the embedded model when it exists
    isolate: bool | None = None  # run in a supervised model process; None: yes for gguf/transformers
    hang_timeout_s: float = 300.0  # model process: silence (no token) this long counts as a hang

    @field_validator("n_ctx")
    @classmethod
    def _ctx_positive(cls, v: int) -> int:
        if v < 256:
            raise ValueError("n_ctx must be at least 256 tokens")
        return v

    def describe(self) -> str:
        """One line for logs and error messages (never the api key)."""
        where = self.base_url or self.model or "embedded Gemma 3 270M"
        return f"{self.kind}: {where}"


# Environment variables → settings fields. Values are strings; pydantic converts them.
ENV_VARS: dict[str, str] = {
    "GEMMA_WIZARD_BACKEND": "kind",
    "GEMMA_WIZARD_MODEL": "model",
    "GEMMA_WIZARD_URL": "base_url",
    "GEMMA_WIZARD_API_KEY": "api_key",
    "GEMMA_WIZARD_N_CTX": "n_ctx",
    "GEMMA_WIZARD_THREADS": "n_threads",
    "GEMMA_WIZARD_QUANTIZATION": "quantization",
    "GEMMA_WIZARD_CHAT": "chat",
    "GEMMA_WIZARD_TIMEOUT": "timeout_s",
    "GEMMA_WIZARD_ADAPTER": "adapter",
    "GEMMA_WIZARD_ISOLATE": "isolate",
    "GEMMA_WIZARD_HANG_TIMEOUT": "hang_timeout_s",
}
CONFIG_ENV = "GEMMA_WIZARD_CONFIG"  # path of a TOML or JSON settings file


def settings_from_file(path: str | os.PathLike[str]) -> ModelSettings:
    """Settings from a TOML or JSON file; TOML may keep them under a `[model]` table."""
    p = Path(path).expanduser()
    try:
        raw = p.read_text(encoding="utf-8")
    except OSError as e:
        raise BackendError(f"Cannot read model settings file {p}: {e}") from e
    try:
        data: dict[str, Any] = json.loads(raw) if p.suffix.lower() == ".json" else tomllib.loads(raw)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as e:
        raise BackendError(
            f"Model settings file {p} is not valid {p.suffix.lstrip('.') or 'TOML'}: {e}"
        ) from e
    if isinstance(data.get("model"), dict):  # [model] table
        data = data["model"]
    try:
        return ModelSettings.model_validate(data)
    except ValidationError as e:
        raise BackendError(f"Model settings file {p}: {e}") from e


def settings_from_env(environ: dict[str, str] | None = None) -> ModelSettings:
    """Settings from GEMMA_WIZARD_* variables, on top of the file named by GEMMA_WIZARD_CONFIG."""
    env = os.environ if environ is None else environ
    base = settings_from_file(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else ModelSettings()
    overrides: dict[str, Any] = {}
    for var, field in ENV_VARS.items():
        value = env.get(var, "").strip()
        if value:
            overrides[field] = value.lower() if field in ("kind", "quantization") else value
    if not overrides:
        return base
    try:
        return ModelSettings.model_validate({**base.model_dump(), **overrides})
    except ValidationError as e:
        names = ", ".join(v for v, f in ENV_VARS.items() if f in overrides)
        raise BackendError(f"Invalid model settings in environment ({names}): {e}") from e


# --------------------------------------------------------------------------- registration table
Factory = Callable[[ModelSettings], Backend]
BACKENDS: dict[str, Factory] = {}


def register(kind: str) -> Callable[[Factory], Factory]:
    """Decorator: make `build_backend` build `kind` with this factory."""

    def deco(factory: Factory) -> Factory:
        BACKENDS[kind] = factory
        return factory

    return deco


@register("gguf")
def _build_gguf(s: ModelSettings) -> Backend:
    from core.llm.gguf import GGUFBackend, check_gguf_file

    path = check_gguf_file(Path(s.model).expanduser() if s.model else default_gguf_path())
    # The wizard adapter was trained on the embedded Gemma 3 270M; other models never get it.
    lora = adapter_path() if s.adapter and is_embedded_model(s.model) else None
    try:
        import llama_cpp  # noqa: F401 - only asking whether it is installed
    except ImportError:
        # Where llama-cpp-python cannot be built (some hosted platforms), the same file still
        # runs through transformers, de-quantized: slower, but the app stays usable.
        from core.llm.transformers_backend import TransformersBackend

        try:
            backend = TransformersBackend(
                path,
                quantization="none",
                chat=s.chat,
                n_threads=s.n_threads,
                n_ctx=s.n_ctx,
                adapter=peft_adapter_dir() if s.adapter and is_embedded_model(s.model) else None,
            )
        except BackendError as e:  # it says which of torch / transformers is missing
            raise BackendError(
                f"llama-cpp-python is not installed (pip install llama-cpp-python) and the transformers "
                f"fallback failed too: {e}"
            ) from e
        backend.info.extra["fallback"] = (
            "llama-cpp-python is not installed: the GGUF runs de-quantized on transformers"
        )
        return backend
    return GGUFBackend(path, n_ctx=s.n_ctx, n_threads=s.n_threads, chat=s.chat, lora_path=lora)


@register("transformers")
def _build_transformers(s: ModelSettings) -> Backend:
    # torch and transformers are imported when the backend is built; it says if they are missing.
    from core.llm.transformers_backend import TransformersBackend

    source: str | Path = s.model if s.model else default_gguf_path()
    return TransformersBackend(
        source,
        quantization=s.quantization,
        chat=s.chat,
        n_threads=s.n_threads,
        n_ctx=s.n_ctx,
        adapter=peft_adapter_dir() if s.adapter and is_embedded_model(s.model) else None,
    )


@register("openai")
def _build_openai(s: ModelSettings) -> Backend:
    from core.llm.openai_compat import OpenAICompatBackend

    if not s.base_url:
        raise BackendError("The OpenAI-compatible backend needs a server URL (GEMMA_WIZARD_URL)")
    return OpenAICompatBackend(
        s.base_url, model=s.model, api_key=s.api_key, chat=s.chat, n_ctx=s.n_ctx, timeout_s=s.timeout_s
    )


@register("fake")
def _build_fake(s: ModelSettings) -> Backend:
    from core.llm.fake import FakeBackend

    # An unscripted fake answers with an empty code block, so the app runs without a model.
    return FakeBackend(default="```python\n```", chat=bool(s.chat))


def runs_in_model_process(s: ModelSettings) -> bool:
    return s.isolate if s.isolate is not None else s.kind in ISOLATED_KINDS


def build_backend(settings: ModelSettings | None = None) -> GuardedBackend:
    """Build the backend the settings describe, guarded and measured. Errors are `BackendError`.

    Kinds that run native code are built in a supervised model process (see `core.llm.process`).
    """
    s = settings or ModelSettings()
    if s.kind not in BACKENDS:
        raise BackendError(f"Unknown backend kind {s.kind!r}; choose one of {', '.join(sorted(BACKENDS))}")
    if not runs_in_model_process(s):
        return guarded(build_local(s))
    if s.kind == "gguf" and s.model:
        # Cheap checks here, so a wrong path is reported without starting a process.
        from core.llm.gguf import check_gguf_file

        check_gguf_file(s.model)
    from core.llm.process import ProcessBackend

    return guarded(ProcessBackend(s.model_dump_json(), hang_timeout_s=s.hang_timeout_s))


def build_local(s: ModelSettings) -> Backend:
    """The backend, in this process (the model process calls this; tests of the factories too)."""
    factory = BACKENDS.get(s.kind)
    if factory is None:
        raise BackendError(f"Unknown backend kind {s.kind!r}; choose one of {', '.join(sorted(BACKENDS))}")
    try:
        return factory(s)
    except BackendError:
        raise
    except MemoryError as e:
        raise BackendError(f"Out of memory loading {s.describe()}; try a smaller model or context") from e
    except ImportError as e:
        if (e.name or "").split(".")[0] == "core":  # our own code is broken: that is a bug, not a setting
            raise
        raise BackendError(f"A package {s.kind!r} needs is missing: {e}") from e


def build_local_json(settings_json: str) -> Backend:
    """What `core.llm.worker` calls: settings arrive as JSON over the process boundary."""
    return build_local(ModelSettings.model_validate_json(settings_json))


# --------------------------------------------------------------------------- guard + speed
@dataclass
class SpeedStats:
    """Measured on real calls, shown in the sidebar. Rates are None until measured."""

    calls: int = 0
    last_prompt_tokens: int = 0
    last_completion_tokens: int = 0
    last_ttft_s: float | None = None  # time to first token (prompt processing + first decode step)
    last_prompt_tok_s: float | None = None
    last_decode_tok_s: float | None = None
    avg_decode_tok_s: float | None = None
    _decode_tokens: int = 0
    _decode_seconds: float = 0.0

    def record(self, prompt_tokens: int, completion_tokens: int, ttft: float | None, total: float) -> None:
        self.calls += 1
        self.last_prompt_tokens = prompt_tokens
        self.last_completion_tokens = completion_tokens
        self.last_ttft_s = ttft
        self.last_prompt_tok_s = prompt_tokens / ttft if ttft and prompt_tokens else None
        # Decode rate counts tokens after the first, over the time after the first arrived.
        decode_time = total - (ttft or 0.0)
        if completion_tokens > 1 and decode_time > 0:
            self.last_decode_tok_s = (completion_tokens - 1) / decode_time
            self._decode_tokens += completion_tokens - 1
            self._decode_seconds += decode_time
            self.avg_decode_tok_s = self._decode_tokens / self._decode_seconds
        else:
            self.last_decode_tok_s = None

    def summary(self) -> str:
        if not self.calls:
            return "not measured yet"
        parts = []
        if self.avg_decode_tok_s:
            parts.append(f"{self.avg_decode_tok_s:.1f} tok/s decode")
        if self.last_ttft_s is not None:
            parts.append(f"first token {self.last_ttft_s:.2f} s")
        parts.append(f"{self.last_prompt_tokens} prompt tokens")
        return ", ".join(parts)


class GuardedBackend:
    """A backend safe to share between sessions/threads, with speed statistics.

    Non-concurrent backends (llama.cpp, a torch model) get a lock held for the whole
    generation, streaming included; concurrent ones (HTTP, fake) pass straight through.
    """

    can_stream = True
    concurrent = True  # callers may share it: the lock inside makes that safe

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.info: BackendInfo = inner.info
        self.lock: threading.Lock | None = None if inner.concurrent else threading.Lock()
        self.stats = SpeedStats()
        self._stats_lock = threading.Lock()

    def _acquire(self) -> None:
        if self.lock is not None:
            self.lock.acquire()

    def _release(self) -> None:
        if self.lock is not None:
            self.lock.release()

    def _record(self, prompt: str, text: str, ttft: float | None, started: float) -> None:
        total = time.perf_counter() - started
        try:
            prompt_tokens, completion_tokens = self.inner.count_tokens(prompt), self.inner.count_tokens(text)
        except Exception:  # noqa: BLE001 - statistics must never break a generation
            return
        with self._stats_lock:
            self.stats.record(prompt_tokens, completion_tokens, ttft, total)

    def stream(self, prompt: str, params: GenerationParams) -> Iterator[str]:
        self._acquire()
        try:
            started = time.perf_counter()
            ttft: float | None = None
            pieces: list[str] = []
            source = (
                self.inner.stream(prompt, params)
                if self.inner.can_stream
                else iter([self.inner.complete(prompt, params)])
            )
            for piece in source:
                if ttft is None:
                    ttft = time.perf_counter() - started
                pieces.append(piece)
                yield piece
            self._record(prompt, "".join(pieces), ttft, started)
        finally:
            self._release()

    def complete(self, prompt: str, params: GenerationParams) -> str:
        # Streamed underneath so the time to first token is measured on every call.
        if self.inner.can_stream:
            return "".join(self.stream(prompt, params))
        self._acquire()
        try:
            started = time.perf_counter()
            text = self.inner.complete(prompt, params)
            self._record(prompt, text, None, started)
            return text
        finally:
            self._release()

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def choose(self, prompt: str, options: Sequence[str]) -> str:
        """Exactly one of `options` (grammar-constrained where the backend can, else best match)."""
        opts = check_options(options)
        self._acquire()
        try:
            choose = getattr(self.inner, "choose", None)
            answer = choose(prompt, opts) if callable(choose) else choose_by_reply(self.inner, prompt, opts)
        finally:
            self._release()
        return answer if answer in opts else best_option(answer, opts)

    def render_chat(self, messages: list[dict[str, str]]) -> str | None:
        render = getattr(self.inner, "render_chat", None)
        return render(messages) if callable(render) else None

    def close(self) -> None:
        self._acquire()
        try:
            self.inner.close()
        finally:
            self._release()


def guarded(backend: Backend) -> GuardedBackend:
    """Wrap once: guarding a guarded backend returns it unchanged."""
    return backend if isinstance(backend, GuardedBackend) else GuardedBackend(backend)


# --------------------------------------------------------------------------- prompts
Example = tuple[str, str]  # (user request, model answer)

# Gemma's turn format, used for chat models whose backend cannot render its own template
# (e.g. an info object alone). The backend's own template wins when it has one.
_GEMMA_TURN = "<start_of_turn>{role}\n{text}<end_of_turn>\n"


def _messages(system: str, user: str, examples: Sequence[Example]) -> list[dict[str, str]]:
    msgs: list[dict[str, str]] = []
    if system.strip():
        msgs.append({"role": "system", "content": system.strip()})
    for ex_user, ex_answer in examples:
        msgs += [{"role": "user", "content": ex_user}, {"role": "assistant", "content": ex_answer}]
    msgs.append({"role": "user", "content": user})
    return msgs


def _gemma_chat(messages: list[dict[str, str]]) -> str:
    # Gemma has no system role: its template folds the system text into the first user turn.
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    out: list[str] = []
    for m in (m for m in messages if m["role"] != "system"):
        text = m["content"]
        if system and m["role"] == "user" and not out:
            text = f"{system}\n\n{text}"
        out.append(_GEMMA_TURN.format(role="model" if m["role"] == "assistant" else "user", text=text))
    return "".join(out) + "<start_of_turn>model\n"


def format_prompt(
    backend: Backend | BackendInfo, system: str, user: str, examples: Sequence[Example] = ()
) -> str:
    """The prompt text for this model: chat-templated for instruction-tuned models, plain for base.

    A base model continues text, so the plain form is the system text, then each example's
    request directly followed by its answer, then the request; the request should end where
    the answer starts (e.g. an opened code block). Chat models get the same content as turns.
    """
    info = backend if isinstance(backend, BackendInfo) else backend.info
    if info.chat:
        messages = _messages(system, user, examples)
        render = None if isinstance(backend, BackendInfo) else getattr(backend, "render_chat", None)
        rendered = render(messages) if callable(render) else None
        return rendered if rendered is not None else _gemma_chat(messages)
    parts = [system.strip()] if system.strip() else []
    parts += [f"{ex_user.rstrip()}\n{ex_answer.strip()}" for ex_user, ex_answer in examples]
    parts.append(user)
    return "\n\n".join(parts)
