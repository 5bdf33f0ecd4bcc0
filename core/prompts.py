"""Render prompt templates from `prompts/` with strict undefined variables.

Templates are data, not Python constants: a prompt change is a readable diff, and the
rendered prompts are snapshot-tested. A missing variable is an error, never an empty hole.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


class PromptError(KeyError):
    pass


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PROMPTS_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # noqa: S701 - prompts are plain text for a model, never HTML
    )


def render(name: str, **variables: Any) -> str:
    """Render `prompts/<name>` (e.g. "clean/propose.j2"); fail loudly on a missing variable."""
    try:
        return _env().get_template(name).render(**variables)
    except jinja2.UndefinedError as e:
        raise PromptError(f"prompt {name!r}: {e.message}") from e
    except jinja2.TemplateNotFound as e:
        raise PromptError(f"prompt template not found: {name}") from e


def example(name: str) -> str:
    """A few-shot example file from `prompts/` verbatim (no templating)."""
    return (PROMPTS_DIR / name).read_text(encoding="utf-8")
