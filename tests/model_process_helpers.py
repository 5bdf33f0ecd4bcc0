"""Backends the model-process tests start in a child (`ProcessBackend(target=...)`)."""

from __future__ import annotations

import ctypes
import time
from collections.abc import Iterator, Sequence

from core.llm.base import BackendInfo, GenerationParams

WORDS = [f"w{i} " for i in range(40)]


class SlowBackend:
    """Streams 40 words, 100 ms apart (4 s): slow enough to be killed or abandoned mid-answer."""

    can_stream = True
    concurrent = False

    def __init__(self) -> None:
        self.info = BackendInfo(name="slow words", kind="fake")

    def stream(self, prompt: str, params: GenerationParams) -> Iterator[str]:
        for w in WORDS[: params.max_tokens]:
            time.sleep(0.1)
            yield w

    def complete(self, prompt: str, params: GenerationParams) -> str:
        return "".join(self.stream(prompt, params))

    def choose(self, prompt: str, options: Sequence[str]) -> str:
        return list(options)[-1]

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def close(self) -> None:
        pass


def slow_backend(settings_json: str) -> SlowBackend:
    return SlowBackend()


def crash_on_load(settings_json: str) -> SlowBackend:
    ctypes.string_at(0)  # a segfault while the model loads
    return SlowBackend()


class EnvBackend(SlowBackend):
    """Answers with the OpenMP waiting settings the model process was started with."""

    def complete(self, prompt: str, params: GenerationParams) -> str:
        import json
        import os

        return json.dumps({k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")})

    def stream(self, prompt: str, params: GenerationParams) -> Iterator[str]:
        yield self.complete(prompt, params)


def env_backend(settings_json: str) -> EnvBackend:
    return EnvBackend()
