"""The run view's column lists: a line per non-empty list, every column name inert Markdown."""

from __future__ import annotations

from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

import app.run_view  # noqa: F401 - a broken import fails this test, not only the page script


def _page() -> None:
    from app.run_view import _column_lists

    _column_lists(["![x](http://127.0.0.1:9/leak)", "plain"], [], ["[click](http://127.0.0.1:9/)"])


def test_column_lists_show_each_non_empty_list_with_inert_names():
    at = AppTest.from_function(_page).run()
    assert not at.exception, at.exception
    lines = [m.value for m in at.markdown]
    assert [line.split(":**")[0] for line in lines] == ["**New columns", "**Changed columns"]
    html = MarkdownIt("commonmark").render("\n\n".join(lines))
    assert "<img" not in html and "<a " not in html, html
    assert "plain" in lines[0]
