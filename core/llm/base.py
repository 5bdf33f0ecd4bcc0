"""The one LLM abstraction every backend implements.

A backend is small on purpose: it turns a prompt into text (whole or streamed).
Prompt shaping (chat template or plain completion) is decided by `chat`, a
capability the registry knows, so callers only ever call `complete`/`stream`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class BackendError(RuntimeError):
    """A backend could not be built or could not answer; the message is for the user."""


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int = 256
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    seed: int = 0


@dataclass
class BackendInfo:
    """What the sidebar shows about the loaded model."""

    name: str
    kind: str  # "gguf" | "transformers" | "openai" | "fake"
    quantization: str = "unknown"  # e.g. "Q4_K_M", "nf4 (bitsandbytes)", "fp32"
    device: str = "cpu"
    context_size: int = 2048
    chat: bool = False  # instruction-tuned: prompts go through a chat template
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    info: BackendInfo
    can_stream: bool
    # False when two generations at once would corrupt state (llama.cpp contexts,
    # a single torch model): callers then serialise through `lock` in the registry.
    concurrent: bool

    def complete(self, prompt: str, params: GenerationParams) -> str: ...

    def stream(self, prompt: str, params: GenerationParams) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...

    def close(self) -> None: ...
