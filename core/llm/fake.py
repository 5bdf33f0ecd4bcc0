"""A scripted backend for logic tests: replies are queued, prompts are recorded."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence

from core.llm.base import BackendError, BackendInfo, GenerationParams, check_options


class FakeBackend:
    """Replies come from a queue (`enqueue`) or, when it is empty, from `default`.

    `default` may be a string or a function of the prompt, so a test can script a model
    that answers by what it was asked ("if 'explain' in prompt ...").
    """

    can_stream = True
    concurrent = True

    def __init__(
        self,
        replies: Iterable[str] = (),
        default: str | Callable[[str], str] | None = None,
        chat: bool = False,
    ) -> None:
        self.queue: deque[str] = deque(replies)
        self.default = default
        self.history: list[tuple[str, GenerationParams]] = []
        self.info = BackendInfo(name="scripted fake", kind="fake", quantization="none", chat=chat)

    def enqueue(self, replies: Iterable[str]) -> None:
        self.queue.extend(replies)

    def _next(self, prompt: str, params: GenerationParams) -> str:
        self.history.append((prompt, params))
        if self.queue:
            text = self.queue.popleft()
        elif callable(self.default):
            text = self.default(prompt)
        elif self.default is not None:
            text = self.default
        else:
            raise BackendError("FakeBackend: no scripted reply left")
        # Honour stop sequences like a real backend, so tests exercise the same cut.
        for s in params.stop:
            if s and s in text:
                text = text[: text.index(s)]
        return text

    def complete(self, prompt: str, params: GenerationParams) -> str:
        return self._next(prompt, params)

    def stream(self, prompt: str, params: GenerationParams) -> Iterator[str]:
        text = self._next(prompt, params)
        for i in range(0, len(text), 8):
            yield text[i : i + 8]

    def choose(self, prompt: str, options: Sequence[str]) -> str:
        """The scripted reply when it is one of the options, else the first option."""
        opts = check_options(options)
        reply = self._next(prompt, GenerationParams(max_tokens=16)).strip()
        return reply if reply in opts else opts[0]

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def close(self) -> None:
        pass

    @property
    def prompts(self) -> list[str]:
        return [p for p, _ in self.history]
