"""The one LLM abstraction every backend implements.

A backend is small on purpose: it turns a prompt into text (whole or streamed).
Prompt shaping (chat template or plain completion) is decided by `chat`, a
capability the registry knows, so callers only ever call `complete`/`stream`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
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
    # A GBNF grammar the reply must follow (`core.engine.grammar`); a backend without
    # constrained decoding ignores it and the engine's checks catch what it would have kept out.
    grammar: str = ""


@dataclass
class BackendInfo:
    """What the sidebar shows about the loaded model."""

    name: str
    kind: str  # "gguf" | "transformers" | "openai" | "fake"
    quantization: str = "unknown"  # e.g. "Q4_K_M", "nf4 (bitsandbytes)", "fp32"
    device: str = "cpu"
    context_size: int = 2048
    chat: bool = False  # instruction-tuned: prompts go through a chat template
    # A wizard-tuned adapter is applied: the engine sends `core.tuning.format.tuned_prompt`s
    # (the format the adapter was trained on) instead of few-shot prompts.
    tuned: bool = False
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

    # Exactly one of `options` (a yes/no, a column, a recipe id): decoded under a grammar where
    # the backend has one, else the option that best matches a short free reply.
    def choose(self, prompt: str, options: Sequence[str]) -> str: ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------- shared helpers
def check_options(options: Sequence[str]) -> list[str]:
    """The options as a list; an empty list is the caller's mistake, said clearly."""
    opts = [str(o) for o in options]
    if not opts:
        raise BackendError("choose() needs at least one option")
    return opts


def best_option(reply: str, options: Sequence[str]) -> str:
    """The option a free-text reply means: exact, then the one it starts with, then the first named
    in it, then the closest spelling. Always returns one of `options`."""
    opts = check_options(options)
    text = reply.strip().strip("`'\".").strip()
    low = text.lower()
    for o in opts:
        if text == o:
            return o
    for o in opts:
        if low == o.lower():
            return o
    starts = [o for o in opts if o and low.startswith(o.lower())]
    if starts:
        return max(starts, key=len)  # "yes_but" over "yes" when both are options
    found = [(low.find(o.lower()), -len(o), o) for o in opts if o and o.lower() in low]
    if found:
        return min(found)[2]
    scores = [difflib.SequenceMatcher(None, low, o.lower()).ratio() for o in opts]
    return opts[scores.index(max(scores))]


# Name parts that mark an instruction-tuned checkpoint: "gemma-2-2b-it", "gemma-3-270m-it-Q4_K_M.gguf",
# "Qwen2.5-0.5B-Instruct", "Llama-2-7b-chat-hf". Whole parts only, so "italian" or "chatter" do not count.
_CHAT_NAME = re.compile(r"(?:^|[-_./ ])(?:it|instruct|chat|sft)(?:[-_./ ]|$)|instruct", re.IGNORECASE)


def looks_instruction_tuned(name: str) -> bool:
    """True when a model name says it was instruction-tuned (so it wants a chat template)."""
    return bool(_CHAT_NAME.search(name))


class StopBuffer:
    """Cuts a token stream at the first stop sequence without ever emitting part of it.

    Text that could be the start of a stop sequence is held back until the next piece
    shows whether it is one; backends without native stop support stream through this.
    """

    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = tuple(s for s in stops if s)
        self._hold = max((len(s) for s in self.stops), default=1) - 1
        self._pending = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        """Add a piece; return the text that is now safe to emit ("" once stopped)."""
        if self.stopped:
            return ""
        self._pending += piece
        cut = min((i for i in (self._pending.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            out, self._pending, self.stopped = self._pending[:cut], "", True
            return out
        if self._hold <= 0:
            out, self._pending = self._pending, ""
            return out
        safe = len(self._pending) - self._hold
        if safe <= 0:
            return ""
        out, self._pending = self._pending[:safe], self._pending[safe:]
        return out

    def flush(self) -> str:
        """The held-back tail at the end of generation (it was not a stop sequence)."""
        out, self._pending = ("" if self.stopped else self._pending), ""
        return out


def choose_by_reply(backend: Backend, prompt: str, options: Sequence[str]) -> str:
    """`choose` for backends without grammars: a short greedy reply, mapped to the closest option."""
    opts = check_options(options)
    if len(opts) == 1:
        return opts[0]
    budget = max(backend.count_tokens(o) for o in opts) + 8
    reply = backend.complete(prompt, GenerationParams(max_tokens=budget, temperature=0.0))
    return best_option(reply, opts)
