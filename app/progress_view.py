"""The wait, made visible: Gemma's output streamed into the page, and the stages of a proposal
(context → Gemma writing → checking in the sandbox → repair n) drawn in an `st.status`.

Both only wrap what the engine is given (the backend and the sandbox), so the engine needs no
knowledge of the page.
"""

from __future__ import annotations

import time
from typing import Any


class StreamingBackend:
    """Wraps the model so every generation streams into the page while core code waits for it.

    The proposal engine calls `complete`; here that is served from `stream`, and each piece is
    handed to `on_token` (a Streamlit placeholder), so the user sees Gemma write on a slow CPU.
    """

    def __init__(self, inner: Any, on_token: Any) -> None:
        self.inner = inner
        self.on_token = on_token
        self.info = inner.info
        self.can_stream = getattr(inner, "can_stream", False)
        self.concurrent = getattr(inner, "concurrent", True)

    def complete(self, prompt: str, params: Any) -> str:
        if not self.can_stream:
            self.on_token(None)  # a new generation starts
            text = self.inner.complete(prompt, params)
            self.on_token(text)
            return text
        return "".join(self.stream(prompt, params))

    def stream(self, prompt: str, params: Any) -> Any:
        self.on_token(None)  # a new generation starts
        for piece in self.inner.stream(prompt, params):
            self.on_token(piece)
            yield piece

    def choose(self, prompt: str, options: Any) -> str:
        """A constrained choice (one of `options`) is a generation too: shown as it is made."""
        self.on_token(None)
        choice = self.inner.choose(prompt, options)
        self.on_token(f"# Gemma chose: {choice}")
        return choice

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def close(self) -> None:  # the shared model outlives this page run
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def streaming_backend(backend: Any | None, area: Any, progress: ProposalProgress | None = None) -> Any | None:
    if backend is None:
        return None
    chunks: list[str] = []

    def on_token(piece: str | None) -> None:
        if piece is None:
            chunks.clear()
            if progress is not None:
                progress.generation()
            return
        chunks.append(piece)
        area.code("".join(chunks)[-1500:], language="python")

    return StreamingBackend(backend, on_token)


class ProposalProgress:
    """The shape of the wait: context → Gemma writing (streamed) → checking in the sandbox → repair n.

    The engine is not asked to report: the page sees the model's generations (through
    `StreamingBackend`) and the sandbox's jobs (through `observe`), and a generation that follows a
    sandbox check is a repair. Each event redraws the status label and the list of stages.
    """

    def __init__(self, status: Any, area: Any) -> None:
        self.status = status
        self.area = area
        self.generations = 0
        self.checks = 0
        self.repairs = 0
        self._checked_since_generation = False
        self._t0 = time.perf_counter()
        self._draw("Building the context from the profile…")

    def generation(self) -> None:
        if self._checked_since_generation and self.generations:
            self.repairs += 1
        self._checked_since_generation = False
        self.generations += 1
        label = "Gemma is writing (streamed below)…"
        if self.repairs:
            label = f"Repair {self.repairs}: Gemma rewrites the code after a failed check…"
        self._draw(label)

    def check(self) -> None:
        self.checks += 1
        self._checked_since_generation = True
        self._draw(f"Checking in the sandbox (check {self.checks})…")

    def lines(self) -> list[str]:
        """The stages so far, one line each (✓ done, ⏳ current)."""
        wrote = self.generations > 0
        out = ["✓ Context from the profile" if wrote or self.checks else "⏳ Context from the profile"]
        if wrote:
            out.append(
                f"{'✓' if self.checks else '⏳'} Gemma writing ({self.generations} generation(s), streamed)"
            )
        if self.checks:
            out.append(
                f"{'⏳' if self._checked_since_generation else '✓'} Checking in the sandbox ({self.checks})"
            )
        if self.repairs:
            out.append(f"⏳ Repair {self.repairs}")
        return out

    def _draw(self, label: str) -> None:
        elapsed = time.perf_counter() - self._t0
        self.status.update(label=f"{label} ({elapsed:.0f} s)", expanded=True)  # None would fold it
        self.area.markdown("  \n".join(self.lines()))

    def observe(self, sandbox: Any) -> Any:
        """The sandbox, reporting each job it runs to this progress."""
        return _ObservedSandbox(sandbox, self)


class _ObservedSandbox:
    def __init__(self, inner: Any, progress: ProposalProgress) -> None:
        self._inner = inner
        self._progress = progress

    def run(self, *args: Any, **kwargs: Any) -> Any:
        self._progress.check()
        return self._inner.run(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
